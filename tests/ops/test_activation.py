"""relu, leaky_relu, sigmoid, tanh, softmax, log_softmax and the perceptron's step."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import numnet
from numnet import Tensor

from ._oracle import away_from_zero, check

FAMILY = "activation"
SHAPES = [(), (6,), (3, 4), (2, 3, 2)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_relu(rng, shape):
    x = away_from_zero(rng, shape)
    check(FAMILY, "relu", lambda t: t.relu(), torch.relu, x)
    check(FAMILY, "relu", numnet.relu, torch.relu, x)


@pytest.mark.parametrize("slope", [0.01, 0.2, 1.5])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_leaky_relu(rng, shape, slope):
    x = away_from_zero(rng, shape)
    check(FAMILY, "leaky_relu", lambda t: t.leaky_relu(slope), lambda t: F.leaky_relu(t, slope), x)
    check(
        FAMILY,
        "leaky_relu",
        lambda t: numnet.leaky_relu(t, negative_slope=slope),
        lambda t: F.leaky_relu(t, slope),
        x,
    )


def test_leaky_relu_default_slope(rng):
    x = away_from_zero(rng, (5,))
    check(FAMILY, "leaky_relu", numnet.leaky_relu, F.leaky_relu, x)


def test_relu_and_leaky_relu_at_zero_match_torch():
    """At exactly 0 the gradient is defined as PyTorch does: relu'(0) = 0, leaky'(0) = slope."""
    data = np.array([-1.0, 0.0, 1.0])
    for ours, theirs in (
        (numnet.relu, torch.relu),
        (lambda t: numnet.leaky_relu(t, 0.1), lambda t: F.leaky_relu(t, 0.1)),
    ):
        x, xt = Tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        ours(x).sum().backward()
        theirs(xt).sum().backward()
        np.testing.assert_array_equal(x.grad, xt.grad.numpy())
    x = Tensor(data, requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: np.dtype(d).name)
def test_relu_of_infinities_and_nan_matches_torch(dtype):
    # −inf gives 0 (not −inf·0 = NaN), NaN stays NaN, negatives give +0; the gradient is g·[x > 0]
    x = np.array([-np.inf, -3.0, -1e-30, 0.0, 2.5, np.inf, np.nan], dtype)
    xn, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_n, out_t = numnet.relu(xn), torch.relu(xt)
    np.testing.assert_array_equal(out_n.numpy(), out_t.detach().numpy())
    assert not np.signbit(out_n.numpy()[:3]).any()  # +0 for the negatives, as PyTorch
    g = np.arange(1.0, 8.0, dtype=dtype)
    out_n.backward(g)
    out_t.backward(torch.from_numpy(g))
    np.testing.assert_array_equal(xn.grad.numpy(), xt.grad.numpy())


@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: np.dtype(d).name)
def test_relu_of_a_large_array_gives_pytorchs_bits(dtype, layout):
    """Large arrays take the max against an array of zeros (backend.zeros_like_cached), not the 0-d zero:
    the same bits as PyTorch's ReLU, signed zeros, NaN and subnormals scattered over every SIMD lane and the
    tail included, and the same gradient."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((37, 41)).astype(dtype)  # 1517 elements, past the 0-d zero's size
    tiny = np.finfo(dtype).smallest_subnormal
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, tiny, -tiny], dtype)
    where = rng.random(x.shape) < 0.3
    x[where] = rng.choice(specials, size=where.sum())
    x = x.T if layout == "transposed" else x
    assert x.size >= 512 and np.signbit(x[x == 0]).any() and np.isnan(x).any()
    xn, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_n, out_t = numnet.relu(xn), torch.relu(xt)
    bits = np.dtype(f"u{np.dtype(dtype).itemsize}")
    np.testing.assert_array_equal(out_n.numpy().view(bits), out_t.detach().numpy().view(bits))
    g = rng.standard_normal(x.shape).astype(dtype)
    out_n.backward(g)
    out_t.backward(torch.from_numpy(g))
    np.testing.assert_array_equal(xn.grad.numpy(), xt.grad.numpy())


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float16], ids=lambda d: np.dtype(d).name)
def test_relu_of_a_large_array_of_other_dtypes_keeps_the_dtype(dtype):
    x = (np.arange(-700, 700) % 9 - 4).astype(dtype)
    out = numnet.relu(Tensor(x)).numpy()
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, np.where(x > 0, x, 0))


def test_relu_array_of_numpy_and_python_scalars_keeps_their_types():
    from numnet.ops.activation import relu_array

    for value, expected in [(np.True_, np.True_), (np.float32(-2), np.float32(0)), (np.int8(5), np.int8(5))]:
        out, mask = relu_array(value)
        assert out.dtype == expected.dtype and out == expected and mask == (expected != 0)
    assert relu_array(-3.5)[0] == 0 and relu_array(2)[0] == 2


def test_relu_backward_multiplies_by_one_not_by_x():
    """The tutorials' bug: dx = g·x instead of g·1. Here relu'(3) must be 1."""
    x = Tensor(np.array([3.0, -2.0]), requires_grad=True)
    x.relu().backward(np.array([1.0, 1.0]))
    np.testing.assert_array_equal(x.grad, [1.0, 0.0])


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_sigmoid(rng, shape):
    x = rng.standard_normal(shape) * 2
    check(FAMILY, "sigmoid", lambda t: t.sigmoid(), torch.sigmoid, x)
    check(FAMILY, "sigmoid", numnet.sigmoid, torch.sigmoid, x)


def test_sigmoid_extreme_inputs_are_exact_and_quiet():
    data = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = Tensor(data, requires_grad=True)
        y = x.sigmoid()
        y.sum().backward()
    np.testing.assert_allclose(y.data, torch.sigmoid(torch.from_numpy(data)).numpy(), rtol=1e-15)
    assert np.all(np.isfinite(x.grad))
    for dtype in (np.float32, np.float64):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            y = Tensor(data.astype(dtype)).sigmoid()
        assert y.dtype == dtype and y.data[0] == 0.0 and y.data[-1] == 1.0


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_tanh(rng, shape):
    x = rng.standard_normal(shape) * 2
    check(FAMILY, "tanh", lambda t: t.tanh(), torch.tanh, x)
    check(FAMILY, "tanh", numnet.tanh, torch.tanh, x)


@pytest.mark.parametrize(
    ("shape", "axis"), [((5,), 0), ((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1), ((2, 3, 4), -1)], ids=str
)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_and_log_softmax(rng, name, shape, axis):
    x = rng.standard_normal(shape) * 2
    theirs = getattr(torch, name)
    check(FAMILY, name, lambda t: getattr(t, name)(axis=axis), lambda t: theirs(t, dim=axis), x)
    check(FAMILY, name, lambda t: getattr(numnet, name)(t, axis), lambda t: theirs(t, dim=axis), x)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_is_stable_for_huge_logits(name):
    data = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = Tensor(data, requires_grad=True)
        y = getattr(x, name)()
        y.backward(np.ones_like(data))
    expected = getattr(torch, name)(torch.from_numpy(data), dim=-1).numpy()
    np.testing.assert_allclose(y.data, expected, rtol=1e-12)
    assert np.all(np.isfinite(x.grad))


def test_softmax_rows_sum_to_one_and_gradient_of_sum_is_zero(rng):
    x = Tensor(rng.standard_normal((4, 5)), requires_grad=True)
    y = x.softmax()
    np.testing.assert_allclose(y.data.sum(axis=-1), 1.0)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, 0.0, atol=1e-15)


def test_activations_of_0d_tensors():
    x = Tensor(np.float64(0.3), requires_grad=True)
    for fn, expected in (
        (numnet.sigmoid, 1 / (1 + np.exp(-0.3))),
        (numnet.tanh, np.tanh(0.3)),
        (numnet.relu, 0.3),
        (lambda t: numnet.softmax(t, 0), 1.0),
    ):
        y = fn(x)
        assert y.shape == () and y.item() == pytest.approx(expected)
        assert isinstance(y.data, np.ndarray)
    x.sigmoid().backward()
    assert isinstance(x.grad, Tensor) and x.grad.shape == ()


def test_float32_activations_stay_float32():
    x = Tensor(np.linspace(-2, 2, 6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    outs = [x.relu(), x.leaky_relu(0.1), x.sigmoid(), x.tanh(), x.softmax(), x.log_softmax(), numnet.step(x)]
    assert all(o.dtype == np.float32 for o in outs)
    sum(outs[1:], outs[0]).sum().backward()
    assert x.grad.dtype == np.float32


def test_step_forward_and_zero_gradient():
    x = Tensor(np.array([-1.0, 0.0, 0.5, 2.0]), requires_grad=True)
    y = numnet.step(x)
    np.testing.assert_array_equal(y.data, [0, 0, 1, 1])
    (y * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 0, 0, 0])
    assert numnet.step(Tensor(np.array([-2, 3]))).data.tolist() == [0, 1]


@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize("shape", [(128, 10), (16, 1), (15, 10), (40, 32), (40, 33)], ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: np.dtype(d).name)
def test_row_max_of_logits_is_numpys_and_leaves_the_log_softmax_bits_as_they_were(dtype, shape, layout):
    """max_keepdims takes the columns' maximum for few classes: the same numbers as x.max(axis=1), NaN
    rows and infinities included, and log-softmax / softmax bit for bit what the row-wise maximum gives."""
    from numnet.ops.activation import log_softmax_array, max_keepdims, softmax_array

    rng = np.random.default_rng(3)
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    if shape[0] > 4:
        x[1, 0], x[2, -1], x[3, :] = np.nan, np.inf, -np.inf
    x = np.asfortranarray(x) if layout == "F" else x
    np.testing.assert_array_equal(max_keepdims(x, 1), x.max(axis=1, keepdims=True))
    np.testing.assert_array_equal(max_keepdims(x, -1), x.max(axis=-1, keepdims=True))
    with np.errstate(invalid="ignore"):
        shifted = x - x.max(axis=1, keepdims=True)  # the row-wise formula
        expected_log = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        expected = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        got_log, got = log_softmax_array(x, axis=1), softmax_array(x, axis=1)
    np.testing.assert_array_equal(got_log, expected_log)
    np.testing.assert_array_equal(got, expected)
