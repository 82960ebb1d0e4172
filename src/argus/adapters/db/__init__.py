"""Persistence adapters: in-memory repositories and SQLAlchemy (SQLite, PostgreSQL) ones."""
