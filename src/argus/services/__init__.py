"""Service layer: use cases that orchestrate ports, free of concrete adapters."""
