"""The BERT encoder with mean pooling, in numpy (float32, as the reference runs it).

This is the plain, readable definition of what the ONNX graph of
:mod:`argus.adapters.text.bert_onnx` computes; the two are built independently
and checked against each other. Per layer (post-norm BERT)::

    a = LayerNorm(x + Dense(Attention(x, mask)))
    x = LayerNorm(a + Dense(GELU(Dense(a))))

GELU is the exact one (``0.5 x (1 + erf(x / sqrt 2))``); attention adds the
smallest float32 to the scores of padding keys (as Hugging Face's BERT does);
pooling averages the last hidden states over real tokens and the result is
divided by its L2 norm (clamped at 1e-12, as ``torch.nn.functional.normalize``).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.special import erf  # type: ignore[import-untyped]

from argus.adapters.text.minilm_files import BertConfig, Weights

__all__ = ["encode_numpy"]

F32 = npt.NDArray[np.float32]


def _layer_norm(x: F32, weight: F32, bias: F32, eps: float) -> F32:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    out: F32 = centred / np.sqrt(var + np.float32(eps)) * weight + bias
    return out


def _dense(x: F32, weights: Weights, prefix: str) -> F32:
    out: F32 = x @ weights[f"{prefix}.weight"].T + weights[f"{prefix}.bias"]
    return out


def _gelu(x: F32) -> F32:
    out: F32 = (0.5 * x * (1.0 + erf(x / np.float32(math.sqrt(2.0))))).astype(np.float32)
    return out


def _softmax(x: F32) -> F32:
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    out: F32 = shifted / shifted.sum(axis=-1, keepdims=True)
    return out


def _attention(x: F32, bias: F32, weights: Weights, prefix: str, config: BertConfig) -> F32:
    batch, seq, _ = x.shape

    def heads(name: str) -> F32:
        projected = _dense(x, weights, f"{prefix}.attention.self.{name}")
        split: F32 = projected.reshape(batch, seq, config.heads, config.head_dim)
        return split.transpose(0, 2, 1, 3)

    query, key, value = heads("query"), heads("key"), heads("value")
    scores = (query @ key.transpose(0, 1, 3, 2)) / np.float32(math.sqrt(config.head_dim))
    context = _softmax(scores + bias) @ value
    merged: F32 = context.transpose(0, 2, 1, 3).reshape(batch, seq, config.hidden)
    return merged


def _layer(x: F32, bias: F32, weights: Weights, n: int, config: BertConfig) -> F32:
    p = f"encoder.layer.{n}"
    eps = config.layer_norm_eps
    attended = _dense(
        _attention(x, bias, weights, p, config), weights, f"{p}.attention.output.dense"
    )
    a = _layer_norm(
        x + attended,
        weights[f"{p}.attention.output.LayerNorm.weight"],
        weights[f"{p}.attention.output.LayerNorm.bias"],
        eps,
    )
    inner = _gelu(_dense(a, weights, f"{p}.intermediate.dense"))
    return _layer_norm(
        a + _dense(inner, weights, f"{p}.output.dense"),
        weights[f"{p}.output.LayerNorm.weight"],
        weights[f"{p}.output.LayerNorm.bias"],
        eps,
    )


def encode_numpy(
    weights: Weights,
    config: BertConfig,
    input_ids: npt.NDArray[np.int64],
    attention_mask: npt.NDArray[np.int64],
) -> F32:
    """Unit sentence vectors of one padded batch.

    Args:
        weights: The encoder's tensors by their Hugging Face names.
        config: The encoder's shape.
        input_ids: Token ids, shape ``(batch, seq)``.
        attention_mask: 1 for real tokens, 0 for padding, shape ``(batch, seq)``.

    Returns:
        Shape ``(batch, hidden)``, float32, each row of unit length.
    """
    seq = input_ids.shape[1]
    x = (
        weights["embeddings.word_embeddings.weight"][input_ids]
        + weights["embeddings.position_embeddings.weight"][:seq]
        + weights["embeddings.token_type_embeddings.weight"][0]
    )
    x = _layer_norm(
        x,
        weights["embeddings.LayerNorm.weight"],
        weights["embeddings.LayerNorm.bias"],
        config.layer_norm_eps,
    )
    mask = attention_mask.astype(np.float32)
    bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :].astype(np.float32)
    for n in range(config.layers):
        x = _layer(x, bias, weights, n, config)
    summed = (x * mask[:, :, None]).sum(axis=1)
    pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), np.float32(1e-9))
    norm = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), np.float32(1e-12))
    out: F32 = (pooled / norm).astype(np.float32)
    return out
