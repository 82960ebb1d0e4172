"""The torch-free checkpoint reader: hostile pickles are refused, benign ones load exactly.

Pickles are built by hand from opcodes (no torch needed) and fed both as a bare
``data.pkl`` and wrapped in a torch-style zip. Every hostile payload would create a
marker file if it ran; each test asserts the marker never appears.
"""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from argus.adapters.modelpacks.torch_pickle import (
    ModuleRecord,
    load_checkpoint,
    loads_pickle,
)
from argus.domain.errors import ModelBuildError, UnsafePickleError

# --- a tiny pickle assembler (protocol 2 opcodes, plus STACK_GLOBAL from protocol 4) ---

PROTO2 = b"\x80\x02"
PROTO4 = b"\x80\x04"
MARK, TUPLE, EMPTY_TUPLE, TUPLE1 = b"(", b"t", b")", b"\x85"
REDUCE, BUILD, NEWOBJ, STOP = b"R", b"b", b"\x81", b"."
EMPTY_DICT, SETITEMS, EMPTY_LIST, APPENDS = b"}", b"u", b"]", b"e"
BINPERSID, NEWFALSE, NONE, STACK_GLOBAL = b"Q", b"\x89", b"N", b"\x93"


def glob(module: str, name: str) -> bytes:
    return b"c" + f"{module}\n{name}\n".encode()


def s(text: str) -> bytes:
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def i(n: int) -> bytes:
    return b"J" + struct.pack("<i", n)


def tup(*items: bytes) -> bytes:
    return MARK + b"".join(items) + TUPLE


def call(func: bytes, *args: bytes) -> bytes:
    return func + tup(*args) + REDUCE


def dict_(**items: bytes) -> bytes:
    return EMPTY_DICT + MARK + b"".join(s(k) + v for k, v in items.items()) + SETITEMS


def ordered_dict(**items: bytes) -> bytes:
    pairs = b"".join(tup(s(k), v) for k, v in items.items())
    return call(glob("collections", "OrderedDict"), EMPTY_LIST + MARK + pairs + APPENDS)


def storage(kind: str, key: str, numel: int) -> bytes:
    return tup(s("storage"), glob("torch", kind), s(key), s("cpu"), i(numel)) + BINPERSID


def tensor(store: bytes, offset: int, size: tuple[int, ...], stride: tuple[int, ...]) -> bytes:
    return call(
        glob("torch._utils", "_rebuild_tensor_v2"),
        store,
        i(offset),
        tup(*map(i, size)),
        tup(*map(i, stride)),
        NEWFALSE,
        call(glob("collections", "OrderedDict")),
    )


def module(path: str, **state: bytes) -> bytes:
    mod, name = path.rsplit(".", 1)
    return glob(mod, name) + EMPTY_TUPLE + NEWOBJ + dict_(**state) + BUILD


def pickled(body: bytes, proto: bytes = PROTO2) -> bytes:
    return proto + body + STOP


def torch_zip(path: Path, data_pkl: bytes, storages: dict[str, bytes], big: bool = False) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", data_pkl)
        zf.writestr("archive/byteorder", "big" if big else "little")
        for key, raw in storages.items():
            zf.writestr(f"archive/data/{key}", raw)
    return path


# --- hostile payloads ---------------------------------------------------------------


class _Reduce:
    """Pickles as ``func(*args)`` through __reduce__, the classic gadget."""

    def __init__(self, func: Callable[..., Any], *args: Any) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[Any, ...]:
        return self.func, self.args


def _hostile(marker: Path) -> dict[str, tuple[bytes, str]]:
    """id -> (pickle bytes, text the error must contain). Each would touch ``marker``."""
    touch = f"touch {marker}"
    create = f"open({str(marker)!r}, 'w').close()"
    return {
        "reduce-os-system": (pickle.dumps(_Reduce(os.system, touch), protocol=2), "system"),
        "reduce-eval": (pickle.dumps(_Reduce(eval, create), protocol=2), "eval"),
        "reduce-exec": (pickle.dumps(_Reduce(exec, create), protocol=2), "exec"),
        "reduce-popen": (
            pickle.dumps(_Reduce(subprocess.Popen, ["touch", str(marker)]), protocol=4),
            "subprocess.Popen",
        ),
        "opcode-posix-system": (pickled(call(glob("posix", "system"), s(touch))), "posix.system"),
        "opcode-builtin-eval-py2-name": (
            pickled(call(glob("__builtin__", "eval"), s(create))),
            "__builtin__.eval",
        ),
        "getattr-gadget": (
            pickled(
                call(
                    call(
                        glob("builtins", "getattr"),
                        call(glob("builtins", "__import__"), s("os")),
                        s("system"),
                    ),
                    s(touch),
                )
            ),
            "builtins.getattr",
        ),
        "import-module": (
            pickled(call(glob("importlib", "import_module"), s("os"))),
            "importlib.import_module",
        ),
        "nested-pickle-loads": (
            pickled(call(glob("pickle", "loads"), b"C\x00")),
            "pickle.loads",
        ),
        "models-prefix-function": (
            pickled(call(glob("models.common", "eval"), s(create))),
            "models.common.eval",
        ),
        "models-prefix-dotted-name": (
            pickled(
                s("models.common") + s("os.system") + STACK_GLOBAL + tup(s(touch)) + REDUCE, PROTO4
            ),
            "models.common.os.system",
        ),
        "utils-prefix-lowercase": (
            pickled(call(glob("utils.general", "check_requirements"), s("x"))),
            "utils.general.check_requirements",
        ),
        "lookalike-prefix": (
            pickled(call(glob("modelsx.common", "Conv"), s(touch))),
            "modelsx.common.Conv",
        ),
        "torch-nn-functional": (
            pickled(call(glob("torch.nn.functional", "relu"), s(touch))),
            "torch.nn.functional.relu",
        ),
        "torch-load": (pickled(call(glob("torch", "load"), s(touch))), "torch.load"),
        "copyreg-reconstructor": (
            pickled(call(glob("copyreg", "_reconstructor"), glob("os", "system"))),
            "copyreg._reconstructor",
        ),
        "reduce-on-record-class": (
            pickled(call(glob("models.common", "Conv"), s(touch))),
            "call class models.common.Conv",
        ),
        "reduce-on-record-instance": (
            pickled(module("models.common.Conv") + tup(s(touch)) + REDUCE),
            "call an instance of models.common.Conv",
        ),
        "inst-on-record-class": (
            pickled(MARK + s(touch) + b"i" + b"models.common\nConv\n"),
            "call class models.common.Conv",
        ),
        "call-storage-type": (
            pickled(call(glob("torch", "FloatStorage"), i(10))),
            "storage type torch.FloatStorage",
        ),
        "rebuild-tensor-on-non-storage": (
            pickled(tensor(s(touch), 0, (1,), (1,))),
            "not a storage",
        ),
        "bad-persistent-id": (pickled(tup(s("storage"), s(touch)) + BINPERSID), "persistent id"),
    }


_HOSTILE_IDS = sorted(_hostile(Path("marker")))


@pytest.mark.parametrize("case", _HOSTILE_IDS)
@pytest.mark.parametrize("wrapping", ["raw-data-pkl", "torch-zip"])
def test_hostile_pickle_is_refused_and_never_runs(tmp_path: Path, case: str, wrapping: str) -> None:
    marker = tmp_path / "pwned"
    data, expected = _hostile(marker)[case]
    path = tmp_path / "ckpt.pt"
    if wrapping == "torch-zip":
        torch_zip(path, data, {})
    else:
        path.write_bytes(data)

    with pytest.raises(UnsafePickleError) as err:
        load_checkpoint(path)

    assert expected in str(err.value)
    assert not marker.exists()


@pytest.mark.parametrize(
    "case",
    ["reduce-os-system", "reduce-eval", "reduce-exec", "opcode-posix-system", "getattr-gadget"],
)
def test_payloads_are_live_under_plain_pickle(tmp_path: Path, case: str) -> None:
    """Control: the same bytes DO run under the standard unpickler (in a child process)."""
    marker = tmp_path / "pwned"
    data, _ = _hostile(marker)[case]
    payload = tmp_path / "payload.pkl"
    payload.write_bytes(data)
    code = f"import pickle; pickle.loads(open({str(payload)!r}, 'rb').read())"
    subprocess.run([sys.executable, "-c", code], check=False, timeout=60, capture_output=True)
    assert marker.exists()


def test_loads_pickle_refuses_before_any_call(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    data, _ = _hostile(marker)["reduce-os-system"]
    with pytest.raises(UnsafePickleError, match=r"'posix\.system', which is not allowed"):
        loads_pickle(data)
    assert not marker.exists()


# --- benign checkpoints ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "dtype", "offset", "size", "stride", "big"),
    [
        pytest.param("HalfStorage", "<f2", 2, (2, 3), (1, 2), False, id="half-offset-strided"),
        pytest.param("FloatStorage", "<f4", 0, (3, 4), (4, 1), False, id="float-contiguous"),
        pytest.param("FloatStorage", ">f4", 1, (2, 2), (5, 3), True, id="float-big-endian"),
        pytest.param("LongStorage", "<i8", 11, (), (), False, id="long-scalar"),
        pytest.param("DoubleStorage", "<f8", 3, (0, 2), (2, 1), False, id="double-empty"),
        pytest.param("HalfStorage", "<f2", 0, (4,), (3,), False, id="half-every-third"),
    ],
)
def test_tensor_is_rebuilt_from_storage(
    tmp_path: Path,
    *,
    kind: str,
    dtype: str,
    offset: int,
    size: tuple[int, ...],
    stride: tuple[int, ...],
    big: bool,
) -> None:
    flat = np.arange(12).astype(dtype)
    body = dict_(w=tensor(storage(kind, "0", 12), offset, size, stride))
    path = torch_zip(tmp_path / "t.pt", pickled(body), {"0": flat.tobytes()}, big=big)

    got = load_checkpoint(path).raw["w"]

    expected = np.lib.stride_tricks.as_strided(
        flat[offset:], shape=size, strides=[st * flat.itemsize for st in stride]
    )
    assert got.dtype == np.dtype(dtype).newbyteorder("=")
    assert got.shape == size
    np.testing.assert_array_equal(got, expected)
    assert got.flags.owndata  # a copy, not a view into the archive buffer


def _tiny_model_pickle() -> bytes:
    weight = call(
        glob("torch._utils", "_rebuild_parameter"),
        tensor(storage("HalfStorage", "0", 8), 0, (2, 1, 2, 2), (4, 4, 2, 1)),
        NEWFALSE,
        call(glob("collections", "OrderedDict")),
    )
    conv = module(
        "torch.nn.modules.conv.Conv2d",
        _parameters=ordered_dict(weight=weight, bias=NONE),
        _buffers=ordered_dict(),
        _modules=ordered_dict(),
        stride=tup(i(1), i(1)),
    )
    bn = module(
        "torch.nn.modules.batchnorm.BatchNorm2d",
        _parameters=ordered_dict(),
        _buffers=ordered_dict(
            running_mean=tensor(storage("FloatStorage", "1", 2), 0, (2,), (1,)),
            num_batches_tracked=tensor(storage("LongStorage", "2", 1), 0, (), ()),
        ),
        _modules=ordered_dict(),
    )
    layer = module(
        "models.common.Conv",
        _parameters=ordered_dict(),
        _modules=ordered_dict(conv=conv, bn=bn),
        f=i(-1),
    )
    seq = module("torch.nn.modules.container.Sequential", _modules=ordered_dict(**{"0": layer}))
    model = module(
        "models.yolo.Model",
        _modules=ordered_dict(model=seq),
        yaml=dict_(nc=i(2)),
        names=EMPTY_LIST + MARK + s("cat") + s("dog") + APPENDS,
        stride=tensor(storage("FloatStorage", "3", 1), 0, (1,), (1,)),
        ids=call(glob("__builtin__", "set"), EMPTY_LIST + MARK + i(1) + APPENDS),
    )
    return pickled(dict_(model=model, epoch=i(-1)))


def test_model_records_tree(tmp_path: Path) -> None:
    storages = {
        "0": np.arange(8, dtype="<f2").tobytes(),
        "1": np.array([0.5, -1.5], dtype="<f4").tobytes(),
        "2": np.array([7], dtype="<i8").tobytes(),
        "3": np.array([8.0], dtype="<f4").tobytes(),
    }
    ckpt = load_checkpoint(torch_zip(tmp_path / "m.pt", _tiny_model_pickle(), storages))

    assert isinstance(ckpt.model, ModuleRecord)
    assert ckpt.model.class_path == "models.yolo.Model"
    assert ckpt.yaml == {"nc": 2}
    assert ckpt.names == ["cat", "dog"]
    assert ckpt.strides == [8.0]
    assert ckpt.raw["epoch"] == -1
    assert ckpt.model.get("ids") == {1}
    [layer] = ckpt.layers
    assert layer.class_name == "Conv"
    assert layer.get("f") == -1
    assert list(layer.children) == ["conv", "bn"]
    assert layer.children["conv"].get("stride") == (1, 1)
    sd = ckpt.state_dict()
    assert set(sd) == {"model.0.conv.weight", "model.0.bn.running_mean"}  # stride: attribute
    assert all(v.dtype == np.float32 for v in sd.values())
    np.testing.assert_array_equal(sd["model.0.conv.weight"].reshape(-1), np.arange(8))
    np.testing.assert_array_equal(sd["model.0.bn.running_mean"], [0.5, -1.5])
    tensors = dict(ckpt.model.named_tensors())
    assert tensors["model.0.bn.num_batches_tracked"].dtype == np.int64


@pytest.mark.parametrize(
    ("body", "storages", "message"),
    [
        pytest.param(
            tensor(storage("FloatStorage", "0", 4), 2, (3,), (1,)),
            {"0": bytes(16)},
            "reaches element 4",
            id="tensor-past-storage-end",
        ),
        pytest.param(
            tensor(storage("FloatStorage", "0", 8), 0, (2,), (1,)),
            {"0": bytes(16)},
            "do not fit",
            id="storage-shorter-than-numel",
        ),
        pytest.param(
            tensor(storage("FloatStorage", "9", 1), 0, (1,), (1,)),
            {},
            "missing",
            id="storage-missing",
        ),
        pytest.param(
            tensor(storage("FloatStorage", "0", 4), 0, (2,), (-1,)),
            {"0": bytes(16)},
            "negative",
            id="negative-stride",
        ),
        pytest.param(
            tensor(storage("FloatStorage", "0", 1), 0, (1 << 20, 1 << 20), (0, 0)),
            {"0": bytes(4)},
            "larger than allowed",
            id="huge-broadcast-tensor",
        ),
        pytest.param(b"\x00garbage", {}, "cannot unpickle", id="garbage"),
    ],
)
def test_malformed_checkpoint_is_a_build_error(
    tmp_path: Path, body: bytes, storages: dict[str, bytes], message: str
) -> None:
    path = torch_zip(tmp_path / "bad.pt", pickled(body), storages)
    with pytest.raises(ModelBuildError, match=message):
        load_checkpoint(path)


def test_missing_file_is_a_build_error(tmp_path: Path) -> None:
    with pytest.raises(ModelBuildError, match="cannot read"):
        load_checkpoint(tmp_path / "absent.pt")


def test_storage_without_archive_is_refused() -> None:
    with pytest.raises(ModelBuildError, match="no archive"):
        loads_pickle(pickled(tensor(storage("FloatStorage", "0", 1), 0, (1,), (1,))))
