"""Command-line entry points (thin: parse, call a service, print)."""
