"""Read networks saved by dlib's DNN toolkit (``dlib::serialize(net, out)``), without dlib.

dlib writes a network by recursion from the loss layer down to the input:

* the loss layer writes its version (``int 1``), its details, then its subnetwork;
* every ``add_layer`` writes its version (``2``; ``3`` for the bottom one, whose
  subnetwork is the input layer) and then its subnetwork *before* its own details,
  so the file starts with one version number per wrapper, outermost first;
  ``add_tag_layer`` and ``add_skip_layer`` write only a version (``1``) and their
  subnetwork, so tags leave a ``1`` in that run of versions and nothing else;
* then come the input layer and, innermost first, each layer's details followed by
  its bookkeeping (three bools and two or three empty tensors).

Primitive encodings (``dlib/serialize.h``, ``dlib/dnn/tensor.h``):

* integers: one header byte (low nibble: number of little-endian magnitude bytes
  that follow, bit 7: negative), then the bytes;
* strings: an integer length, then the bytes; bools: the character ``'0'``/``'1'``;
* ``float``/``double``: an int64 mantissa and an int16 exponent (``m * 2**e``);
* ``tensor``: version ``2``, ``num_samples, k, nr, nc``, then raw little-endian
  float32 values; ``alias_tensor``: version ``1`` and the four dimensions.

Only the layer kinds the face-recognition ResNet uses are understood (``con_``,
``affine_``, ``relu_``, ``add_prev_``, ``max_pool_``, ``avg_pool_``, ``fc_`` and
``loss_metric_`` over ``input_rgb_image_sized``); any other raises
:class:`~argus.domain.errors.ModelBuildError` naming it. Tag ids are not stored in the
file: the caller matches the records against the architecture it expects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from argus.domain.errors import ModelBuildError

__all__ = ["DlibInput", "DlibLayer", "DlibNet", "parse_dlib_net", "read_dlib_net"]

F32 = npt.NDArray[np.float32]
_MAX_FILE_BYTES = 512 * 1024 * 1024
_SPECIAL_EXPONENTS = {32000: np.inf, 32001: -np.inf, 32002: np.nan}


@dataclass(frozen=True, slots=True)
class DlibInput:
    """The input layer.

    Attributes:
        kind: dlib's name for it (``input_rgb_image_sized``).
        mean_rgb: Per-channel means subtracted before dividing by 256.
        rows: Input height in pixels.
        cols: Input width in pixels.
    """

    kind: str
    mean_rgb: tuple[float, float, float]
    rows: int
    cols: int


@dataclass(frozen=True, slots=True)
class DlibLayer:
    """One computational layer as stored.

    Attributes:
        kind: Layer family: ``con``, ``affine``, ``relu``, ``add_prev``, ``max_pool``,
            ``avg_pool`` or ``fc``.
        tag: dlib's version string (``con_4``, ``fc_2``...).
        ints: Integer hyper-parameters (``num_filters``, ``nr``, ``stride_y``...).
        arrays: Parameters as float32 arrays in dlib's layout (see :func:`parse_dlib_net`).
    """

    kind: str
    tag: str
    ints: dict[str, int] = field(default_factory=dict)
    arrays: dict[str, F32] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DlibNet:
    """A whole network.

    Attributes:
        loss: The loss layer's version string (``loss_metric_2``).
        loss_params: Its scalar settings (``margin``, ``distance_threshold``).
        wrappers: The version of every wrapper, outermost first: ``2``/``3`` for an
            ``add_layer``, ``1`` for a tag or skip layer.
        input: The input layer.
        layers: The computational layers, input side first.
    """

    loss: str
    loss_params: dict[str, float]
    wrappers: tuple[int, ...]
    input: DlibInput
    layers: tuple[DlibLayer, ...]


class _Reader:
    """Bounds-checked reader of dlib's primitive encodings."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.pos = 0

    def _take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self._data):
            raise ModelBuildError(f"dlib file truncated at byte {self.pos} (wanted {n} more)")
        chunk = self._data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def integer(self) -> int:
        header = self._take(1)[0]
        size = header & 0x0F
        if size > 8 or header & 0x70:
            raise ModelBuildError(f"bad integer header {header:#04x} at byte {self.pos - 1}")
        value = int.from_bytes(self._take(size), "little")
        return -value if header & 0x80 else value

    def string(self, limit: int = 256) -> str:
        n = self.integer()
        if not 0 <= n <= limit:
            raise ModelBuildError(f"implausible string length {n} at byte {self.pos}")
        try:
            return self._take(n).decode("ascii")
        except UnicodeDecodeError as exc:
            raise ModelBuildError(f"non-ASCII layer name at byte {self.pos - n}") from exc

    def peek_string(self, prefix: str) -> bool:
        """Whether a string starting with ``prefix`` comes next (nothing is consumed)."""
        start = self.pos
        try:
            n = self.integer()
            return 0 < n <= 256 and self._take(n).startswith(prefix.encode())
        except ModelBuildError:
            return False
        finally:
            self.pos = start

    def real(self) -> float:
        mantissa, exponent = self.integer(), self.integer()
        if exponent in _SPECIAL_EXPONENTS:
            return float(_SPECIAL_EXPONENTS[exponent])
        return float(mantissa) * 2.0**exponent

    def boolean(self) -> bool:
        char = self._take(1)
        if char not in (b"0", b"1"):
            raise ModelBuildError(f"bad bool {char!r} at byte {self.pos - 1}")
        return char == b"1"

    def version(self, what: str, allowed: tuple[int, ...]) -> int:
        value = self.integer()
        if value not in allowed:
            raise ModelBuildError(f"unsupported {what} version {value} at byte {self.pos}")
        return value

    def tensor(self) -> F32:
        self.version("tensor", (2,))
        shape = tuple(self.integer() for _ in range(4))
        if any(d < 0 for d in shape):
            raise ModelBuildError(f"negative tensor shape {shape} at byte {self.pos}")
        count = int(np.prod(shape, dtype=np.int64))
        raw = self._take(4 * count)
        return np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(shape)

    def alias(self) -> tuple[int, int, int, int]:
        self.version("alias_tensor", (1,))
        n, k, r, c = (self.integer() for _ in range(4))
        return n, k, r, c

    @property
    def at_end(self) -> bool:
        return self.pos == len(self._data)


def _split(params: F32, *shapes: tuple[int, int, int, int]) -> list[F32]:
    """Cut a flat parameter tensor into consecutive pieces of the given shapes."""
    flat = params.reshape(-1)
    sizes = [int(np.prod(s)) for s in shapes]
    if sum(sizes) != flat.size:
        raise ModelBuildError(f"{flat.size} parameters do not fill shapes {shapes}")
    out, start = [], 0
    for shape, size in zip(shapes, sizes, strict=True):
        out.append(flat[start : start + size].reshape(shape))
        start += size
    return out


def _con(r: _Reader, tag: str) -> DlibLayer:
    params = r.tensor()
    names = ("num_filters", "nr", "nc", "stride_y", "stride_x", "padding_y", "padding_x")
    ints = {n: r.integer() for n in names}
    filters, biases = r.alias(), r.alias()
    for _ in range(4):  # learning-rate and weight-decay multipliers: training only
        r.real()
    use_bias = r.boolean() if tag == "con_5" else True
    shapes = (filters, biases) if use_bias else (filters,)
    pieces = _split(params, *shapes)
    arrays = {"filters": pieces[0]}
    if use_bias:
        arrays["biases"] = np.asarray(pieces[1].reshape(-1), np.float32)
    return DlibLayer("con", tag, ints, arrays)


def _affine(r: _Reader, tag: str) -> DlibLayer:
    params = r.tensor()
    gamma, beta = r.alias(), r.alias()
    mode = r.integer()
    g, b = _split(params, gamma, beta)
    return DlibLayer("affine", tag, {"mode": mode}, {"gamma": g, "beta": b})


def _pool(r: _Reader, tag: str) -> DlibLayer:
    names = ("nr", "nc", "stride_y", "stride_x", "padding_y", "padding_x")
    return DlibLayer(tag.rsplit("_", 1)[0], tag, {n: r.integer() for n in names})


def _fc(r: _Reader, tag: str) -> DlibLayer:
    num_outputs, num_inputs = r.integer(), r.integer()
    params = r.tensor()
    weights, biases = r.alias(), r.alias()
    bias_mode = r.integer()
    for _ in range(4):
        r.real()
    if tag == "fc_3":
        r.boolean()
    has_bias = bias_mode == 0 and biases[0] * biases[1] > 0
    pieces = _split(params, *((weights, biases) if has_bias else (weights,)))
    arrays = {"weights": pieces[0].reshape(num_inputs, num_outputs)}
    if has_bias:
        arrays["biases"] = np.asarray(pieces[1].reshape(-1), np.float32)
    ints = {"num_outputs": num_outputs, "num_inputs": num_inputs, "bias_mode": bias_mode}
    return DlibLayer("fc", tag, ints, arrays)


def _plain(kind: str) -> Callable[[_Reader, str], DlibLayer]:
    def read(_r: _Reader, tag: str) -> DlibLayer:
        return DlibLayer(kind, tag)

    return read


_LAYERS: dict[str, Callable[[_Reader, str], DlibLayer]] = {
    "con_4": _con,
    "con_5": _con,
    "affine_": _affine,
    "relu_": _plain("relu"),
    "add_prev_": _plain("add_prev"),
    "max_pool_2": _pool,
    "avg_pool_2": _pool,
    "fc_2": _fc,
    "fc_3": _fc,
}


def _input(r: _Reader) -> DlibInput:
    kind = r.string()
    if kind != "input_rgb_image_sized":
        raise ModelBuildError(f"unsupported dlib input layer {kind!r}")
    mean = (r.real(), r.real(), r.real())
    rows, cols = r.integer(), r.integer()
    return DlibInput(kind, mean, rows, cols)


def _loss(r: _Reader) -> tuple[str, dict[str, float]]:
    r.version("add_loss_layer", (1,))
    tag = r.string()
    if tag == "loss_metric_2":
        return tag, {"margin": r.real(), "distance_threshold": r.real()}
    if tag == "loss_metric_":
        return tag, {}
    raise ModelBuildError(f"unsupported dlib loss layer {tag!r}")


def _layer(r: _Reader) -> DlibLayer:
    tag = r.string()
    read = _LAYERS.get(tag)
    if read is None:
        raise ModelBuildError(f"unsupported dlib layer {tag!r} at byte {r.pos}")
    return read(r, tag)


def parse_dlib_net(data: bytes) -> DlibNet:
    """Parse the bytes of a dlib network file; see the module doc for the format.

    Parameter arrays keep dlib's layout: ``con`` ``filters`` ``(out, in, kh, kw)``
    and ``biases`` ``(out,)``; ``affine`` ``gamma``/``beta`` ``(1, C, 1, 1)`` (per
    channel); ``fc`` ``weights`` ``(inputs, outputs)``.

    Raises:
        ModelBuildError: The bytes are not a network this reader understands.
    """
    r = _Reader(data)
    loss, loss_params = _loss(r)
    wrappers: list[int] = []
    while not r.peek_string("input_"):
        wrappers.append(r.version("layer wrapper", (1, 2, 3)))
        if len(wrappers) > 100_000:
            raise ModelBuildError("no input layer found")
    if not wrappers or wrappers[-1] not in (2, 3):
        raise ModelBuildError("the input layer is not wrapped by an add_layer")
    net_input = _input(r)
    layers = []
    for index, version in enumerate(v for v in reversed(wrappers) if v != 1):
        layers.append(_layer(r))
        for _ in range(3):  # setup called, gradient stale, output disabled
            r.boolean()
        bottom = index == 0
        n_tensors = 3 if bottom or version == 2 else 2
        for _ in range(n_tensors):  # x_grad, cached_output, params_grad/grad_final
            if r.tensor().size:
                raise ModelBuildError("the network was saved with training state; clean() it")
        if bottom and version == 3:
            r.integer()  # sample expansion factor
    if not r.at_end:
        raise ModelBuildError(f"{len(data) - r.pos} unread bytes after the last layer")
    return DlibNet(loss, loss_params, tuple(wrappers), net_input, tuple(layers))


def read_dlib_net(path: Path) -> DlibNet:
    """Read and parse a dlib network file.

    Raises:
        ModelBuildError: Unreadable, too large, or not understood.
    """
    try:
        size = path.stat().st_size
        if size > _MAX_FILE_BYTES:
            raise ModelBuildError(f"{path} is {size} bytes: too large for a dlib network")
        data = path.read_bytes()
    except OSError as exc:
        raise ModelBuildError(f"cannot read {path}: {exc}") from exc
    return parse_dlib_net(data)
