"""Text encoders: all-MiniLM-L6-v2 read from its package, run without torch."""

from argus.adapters.text.minilm import Backend, LazyMiniLm, MiniLmEncoder

__all__ = ["Backend", "LazyMiniLm", "MiniLmEncoder"]
