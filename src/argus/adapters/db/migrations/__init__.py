"""Alembic migrations of the Argus schema, shipped inside the package and run by ``migrate``."""
