"""Text embeddings and vector indexes: the ports of search in words (issue 21, part F).

``TextEncoder`` turns sentences into unit vectors (all-MiniLM-L6-v2, run
offline). ``VectorIndex`` keeps vectors under integer keys and returns the
nearest ones to a query by cosine similarity. Search indexes the distinct
descriptions of events (an event's words without its time, which filters
handle), so the index holds far fewer vectors than there are events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = ["TextEncoder", "VectorIndex"]


@runtime_checkable
class TextEncoder(Protocol):
    """Sentences to unit vectors."""

    @property
    def dim(self) -> int:
        """Length of every vector."""
        ...

    @property
    def model_ref(self) -> str:
        """``name@version`` of the model (vectors of different models never mix)."""
        ...

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Shape ``(len(texts), dim)``, each row of unit length (CPU-bound: call off the loop)."""
        ...


@runtime_checkable
class VectorIndex(Protocol):
    """Vectors under integer keys, searched by cosine similarity."""

    async def upsert(self, keys: Sequence[int], vectors: npt.NDArray[np.float32]) -> None:
        """Store ``vectors`` (shape ``(len(keys), dim)``, unit rows) under ``keys``."""
        ...

    async def search(self, vector: npt.NDArray[np.float32], k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest keys to ``vector`` (shape ``(dim,)``) with their similarity."""
        ...

    async def remove(self, keys: Sequence[int]) -> None:
        """Forget ``keys`` (unknown keys are ignored)."""
        ...

    async def count(self) -> int:
        """How many vectors are stored."""
        ...

    async def close(self) -> None:
        """Release files and connections."""
        ...
