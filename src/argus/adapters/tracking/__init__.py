"""Tracking helpers that need third-party libraries (the tracker itself is in the domain)."""
