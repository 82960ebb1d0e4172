"""Argus: self-hosted AI video analytics and alarm platform."""

__version__ = "0.1.0"

__all__ = ["__version__"]
