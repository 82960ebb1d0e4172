"""dlib's DNN serialisation, read from bytes written here by a tiny encoder of the format."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from argus.adapters.modelpacks.dlib_dnn import parse_dlib_net
from argus.adapters.modelpacks.dlib_resnet import convert_dlib_resnet, face_resnet_ops
from argus.domain.errors import ModelBuildError


def enc_int(value: int) -> bytes:
    magnitude = abs(value)
    body = magnitude.to_bytes(max(1, (magnitude.bit_length() + 7) // 8), "little")
    return bytes([len(body) | (0x80 if value < 0 else 0)]) + body


def enc_str(text: str) -> bytes:
    return enc_int(len(text)) + text.encode()


def enc_real(value: float) -> bytes:
    mantissa, exponent = math.frexp(value)
    m = int(mantissa * 2**53)
    return enc_int(m) + enc_int(exponent - 53)


def enc_bool(flag: bool) -> bytes:
    return b"1" if flag else b"0"


def enc_tensor(values: np.ndarray) -> bytes:
    shape = (values.size, 1, 1, 1) if values.ndim == 1 else values.shape
    head = enc_int(2) + b"".join(enc_int(d) for d in shape)
    return head + values.astype("<f4").tobytes()


def enc_alias(*shape: int) -> bytes:
    return enc_int(1) + b"".join(enc_int(d) for d in shape)


EMPTY = enc_tensor(np.zeros((0, 0, 0, 0), np.float32))
BOOKKEEPING = enc_bool(True) + enc_bool(True) + enc_bool(False) + EMPTY * 3


def tiny_net(layer_name: str = "relu_") -> tuple[bytes, np.ndarray, np.ndarray]:
    """loss_metric<fc_no_bias<2, relu<tag1<con<2,1,1,1,1, input_rgb_image_sized<4>>>>>>."""
    rng = np.random.default_rng(3)
    filters, biases = rng.random((2, 3, 1, 1), np.float32), rng.random(2, np.float32)
    weights = rng.random((2 * 4 * 4, 2), np.float32)
    data = enc_int(1) + enc_str("loss_metric_2") + enc_real(0.04) + enc_real(0.6)
    data += enc_int(2) + enc_int(2) + enc_int(1) + enc_int(3)
    data += enc_str("input_rgb_image_sized") + enc_real(122.5) + enc_real(117.0) + enc_real(104.25)
    data += enc_int(4) + enc_int(4)
    con = enc_str("con_4") + enc_tensor(np.concatenate([filters.ravel(), biases]))
    con += b"".join(enc_int(v) for v in (2, 1, 1, 1, 1, 0, 0))
    con += enc_alias(2, 3, 1, 1) + enc_alias(1, 2, 1, 1) + enc_real(1.0) * 3 + enc_real(0.0)
    data += con + BOOKKEEPING + enc_int(1)
    data += enc_str(layer_name) + BOOKKEEPING
    fc = enc_str("fc_2") + enc_int(2) + enc_int(32) + enc_tensor(weights.ravel())
    fc += enc_alias(32, 2, 1, 1) + enc_alias(0, 0, 0, 0) + enc_int(1) + enc_real(1.0) * 4
    return data + fc + BOOKKEEPING, filters, weights


def test_parses_every_record() -> None:
    data, filters, weights = tiny_net()
    net = parse_dlib_net(data)
    assert net.loss == "loss_metric_2"
    assert net.loss_params == pytest.approx({"margin": 0.04, "distance_threshold": 0.6})
    assert net.wrappers == (2, 2, 1, 3)
    assert net.input.mean_rgb == (122.5, 117.0, 104.25)
    assert (net.input.rows, net.input.cols) == (4, 4)
    assert [layer.kind for layer in net.layers] == ["con", "relu", "fc"]
    con, _, fc = net.layers
    assert con.ints["num_filters"] == 2
    assert con.ints["stride_y"] == 1
    np.testing.assert_array_equal(con.arrays["filters"], filters)
    np.testing.assert_array_equal(fc.arrays["weights"], weights)
    assert "biases" not in fc.arrays


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        pytest.param(lambda d: d[:-7], "truncated|unread|bad", id="truncated"),
        pytest.param(lambda d: d + b"\x01\x00", "unread bytes", id="trailing"),
        pytest.param(lambda d: b"\x01\x02" + d[2:], "add_loss_layer version", id="loss-version"),
    ],
)
def test_malformed_files_fail_clearly(mutate: Callable[[bytes], bytes], message: str) -> None:
    data, _, _ = tiny_net()
    with pytest.raises(ModelBuildError, match=message):
        parse_dlib_net(mutate(data))


def test_unknown_layer_is_named() -> None:
    data, _, _ = tiny_net("sig_")
    with pytest.raises(ModelBuildError, match="unsupported dlib layer 'sig_'"):
        parse_dlib_net(data)


def test_converter_refuses_a_different_network() -> None:
    data, _, _ = tiny_net()
    with pytest.raises(ModelBuildError, match="do not match the face ResNet"):
        convert_dlib_resnet(parse_dlib_net(data))


def test_face_resnet_has_the_published_shape() -> None:
    ops = face_resnet_ops()
    computational = [op for op in ops if op.kind not in ("tag", "skip")]
    assert len(computational) == 108  # layers in dlib_face_recognition_resnet_model_v1
    assert len(ops) - len(computational) == 22  # 10 ares tags + 4 x (2 tags + 1 skip)
    assert sum(op.kind == "con" for op in ops) == 29
    assert ops[-1].kind == "fc"
    assert ops[-1].n == 128
