"""Argus."""
