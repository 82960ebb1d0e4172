"""The domain: pure values and algorithms, no I/O (standard library and numpy only)."""
