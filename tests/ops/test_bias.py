"""``add_bias_``: the block layout adds exactly what the plain broadcast add adds, on every path."""

from __future__ import annotations

import numpy as np
import pytest

from numnet import Tensor
from numnet.nn import functional as F
from numnet.ops import bias as bias_module
from numnet.ops.bias import add_bias_
from numnet.ops.conv import use_method


def _plain(out: np.ndarray, bias: np.ndarray, axis: int) -> np.ndarray:
    shape = [1] * out.ndim
    shape[axis] = bias.size
    return out + bias.reshape(shape)


def _special(rng: np.random.Generator, shape: tuple[int, ...], dtype) -> np.ndarray:
    """Random values with NaN, ±inf and ±0 sprinkled in, so that every kind of addition is compared."""
    a = rng.standard_normal(shape).astype(dtype)
    flat = a.reshape(-1)
    picks = rng.choice(flat.size, size=min(flat.size, 40), replace=False)
    flat[picks] = rng.choice(np.array([np.nan, np.inf, -np.inf, 0.0, -0.0], dtype=dtype), size=picks.size)
    return a


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("shape", "axis"),
    [
        ((100, 30, 24, 24), 1),  # SimpleConvNet's conv: blocks of 30·576 values, one per image
        ((7, 3, 100, 100), 1),  # a block over one buffer on its own: one block per row of the view
        ((1000, 256), -1),  # 32 rows per block of the view, 8 rows left over
        ((1001, 128), 1),  # axis 1 of a 2-d output is its last
        ((3, 70, 512), -1),  # a 3-d linear input: the bias repeats over both leading axes
        ((513, 200), -1),  # a prime-ish count of rows: leftovers
        ((40, 5000), -1),  # rows long enough already: the plain add
        ((20, 30), -1),  # small: the plain add
        ((0, 256), -1),  # empty
    ],
)
def test_add_bias_gives_the_bits_of_the_plain_broadcast_add(shape, axis, dtype):
    rng = np.random.default_rng(sum(shape))
    out = _special(rng, shape, dtype) if np.prod(shape) else np.zeros(shape, dtype)
    bias = _special(rng, (shape[axis],), dtype)
    got = out.copy()
    with np.errstate(invalid="ignore"):  # inf + (−inf) is NaN either way
        expected = _plain(out, bias, axis)
        assert add_bias_(got, bias, axis) is got
    np.testing.assert_array_equal(got, expected)
    assert np.array_equal(np.signbit(got), np.signbit(expected))
    into = np.full(shape, 7.0, dtype)  # source=: out = source + bias, the source left as it was
    kept = out.copy()
    with np.errstate(invalid="ignore"):
        assert add_bias_(into, bias, axis, source=out) is into
    np.testing.assert_array_equal(into, expected)
    assert np.array_equal(np.signbit(into), np.signbit(expected))
    np.testing.assert_array_equal(out, kept)


def test_add_bias_falls_back_to_the_plain_add_for_strided_outputs_and_mixed_dtypes():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((600, 512)).astype(np.float32)
    strided = base[:, ::2]  # not contiguous: the view the block layout needs does not exist
    bias = rng.standard_normal(256).astype(np.float32)
    expected = strided + bias
    add_bias_(strided, bias, -1)
    np.testing.assert_array_equal(strided, expected)
    mixed = rng.standard_normal((600, 256)).astype(np.float32)
    bias64 = rng.standard_normal(256)
    expected = mixed.copy()
    expected += bias64  # the plain in-place add: computed in float64, stored as float32
    add_bias_(mixed, bias64, -1)
    np.testing.assert_array_equal(mixed, expected)
    into = np.empty_like(base)[:, ::2]  # a strided out with a contiguous source: the plain add too
    add_bias_(into, bias, -1, source=base[:, 1::2].copy())
    np.testing.assert_array_equal(into, base[:, 1::2] + bias)


@pytest.mark.parametrize("buffer", [16, 1024, 65536])
def test_add_bias_follows_numpys_buffer_size(buffer):
    """The run it builds is measured in NumPy's current buffer size, whatever ``np.setbufsize`` set."""
    rng = np.random.default_rng(buffer)
    out = rng.standard_normal((300, 40, 9)).astype(np.float32)
    bias = rng.standard_normal(40).astype(np.float32)
    expected = _plain(out, bias, 1)
    old = np.setbufsize(buffer)
    try:
        add_bias_(out, bias, 1)
    finally:
        np.setbufsize(old)
    np.testing.assert_array_equal(out, expected)


def test_add_bias_takes_the_block_layout_where_it_is_faster():
    """The large, contiguous, short-row case goes through one view whose rows are at least one buffer."""
    seen: list[tuple[int, ...]] = []
    real_reshape = np.ndarray.reshape

    class Spy(np.ndarray):
        def reshape(self, *shape, **kwargs):  # type: ignore[override]
            result = real_reshape(np.asarray(self), *shape, **kwargs)
            seen.append(result.shape)
            return result.view(Spy)

    out = np.ones((1000, 256), np.float32).view(Spy)
    add_bias_(out, np.arange(256, dtype=np.float32), -1)
    per_row = -(-np.getbufsize() // 256)  # 32 blocks of 256 with NumPy's default 8192
    assert (1000 // per_row, per_row * 256) in seen
    expected = np.arange(256, dtype=np.float32) + 1
    np.testing.assert_array_equal(np.asarray(out), np.broadcast_to(expected, (1000, 256)))


@pytest.mark.parametrize("method", ["batched", "im2col"])
def test_conv2d_and_linear_with_large_outputs_give_the_plain_formulas_bits(method):
    """Outputs past MIN_SIZE, where the convolution calls add_bias_ (and Linear its plain add): x·Wᵀ + b
    and the convolution plus b, bit for bit against the product and the plain broadcast add (the oracle
    tests' shapes are below MIN_SIZE)."""
    rng = np.random.default_rng(7)
    x = Tensor(rng.standard_normal((300, 64)).astype(np.float32))
    w = Tensor(rng.standard_normal((256, 64)).astype(np.float32))
    b = Tensor(rng.standard_normal(256).astype(np.float32))
    y = F.linear(x, w, b).data
    assert y.size >= bias_module.MIN_SIZE
    np.testing.assert_array_equal(y, x.data @ w.data.T + b.data)
    xc = Tensor(rng.standard_normal((20, 3, 28, 28)).astype(np.float32))
    wc = Tensor(rng.standard_normal((8, 3, 5, 5)).astype(np.float32))
    bc = Tensor(rng.standard_normal(8).astype(np.float32))
    with use_method(method):
        plain = F.conv2d(xc, wc, None).data
        yc = F.conv2d(xc, wc, bc).data
    assert yc.size >= bias_module.MIN_SIZE
    np.testing.assert_array_equal(yc, plain + bc.data.reshape(1, 8, 1, 1))
