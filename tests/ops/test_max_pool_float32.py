"""Max pooling's float32 2×2/2 backward (``_spread_2x2``, one comparison and ``_keep_first_hit_2x2``, no tap
loop) against PyTorch and against the tap loop itself.

The oracle tests of ``test_conv.py`` run in float64, which never takes this path. Here the reference for the
exact bits, signs of zeros included, is the tap loop on the same numbers in float64 (the products g·1 and g·0
are exact in both dtypes), and PyTorch's float32 backward for the values.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from numnet import Tensor
from numnet.nn import functional as F
from numnet.ops import pooling

from ._oracle import distinct

# (input shape, padding): each tiles its padded input with 2×2 windows, so the fast path applies
TILED = [((2, 3, 8, 8), 0), ((1, 2, 6, 6), 1), ((3, 1, 2, 2), 0), ((100, 30, 24, 24), 0), ((0, 2, 4, 4), 0)]


def _grads(x: np.ndarray, g: np.ndarray, padding: int) -> tuple[np.ndarray, np.ndarray]:
    """numnet's dx for x (float32) and for the same numbers in float64, which takes the tap loop."""
    out = []
    for dtype in (np.float32, np.float64):
        xn = Tensor(x.astype(dtype), requires_grad=True)
        F.max_pool2d(xn, 2, 2, padding).backward(g.astype(dtype))
        out.append(xn.grad.numpy())
    return out[0], out[1]


@pytest.mark.parametrize("shape", [(3, 2, 8, 8), (1, 1, 2, 2), (2, 1, 6, 4), (0, 3, 4, 4)], ids=str)
def test_keep_first_hit_2x2_keeps_the_first_true_of_each_window(shape):
    hit = np.random.default_rng(4).random(shape) < 0.5
    n, c, h, w = shape
    windows = hit.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(-1, 4)  # row-major
    if shape == (3, 2, 8, 8):  # every one of the 16 patterns of a window occurs
        assert len(np.unique(windows @ (1 << np.arange(4)))) == 16
    first = np.zeros_like(windows)
    any_hit = windows.any(axis=1)
    first[any_hit, windows[any_hit].argmax(axis=1)] = True  # argmax: the first True
    expected = first.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(shape)
    pooling._keep_first_hit_2x2(hit)
    np.testing.assert_array_equal(hit, expected)


def _count_spreads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, ...]]:
    calls: list[tuple[int, ...]] = []
    spread = pooling._spread_2x2

    def counting(a: np.ndarray) -> np.ndarray:
        calls.append(a.shape)
        return spread(a)

    monkeypatch.setattr(pooling, "_spread_2x2", counting)
    return calls


def test_spread_2x2_copies_each_bit_pattern_over_its_block():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    a.flat[:6] = [-0.0, 0.0, np.inf, -np.inf, np.nan, np.float32(1e-45)]  # a subnormal, a NaN, signed zeros
    spread = pooling._spread_2x2(a)
    expected = np.repeat(np.repeat(a, 2, axis=2), 2, axis=3)
    assert spread.shape == (2, 3, 8, 10) and spread.flags.c_contiguous
    np.testing.assert_array_equal(spread.view(np.uint32), expected.view(np.uint32))
    strided = a[:, :, ::2, ::-1]  # not contiguous: the bits still land in their blocks
    np.testing.assert_array_equal(
        pooling._spread_2x2(strided).view(np.uint32),
        np.repeat(np.repeat(strided, 2, axis=2), 2, axis=3).view(np.uint32),
    )


@pytest.mark.parametrize("shape, padding", TILED, ids=str)
def test_float32_2x2_backward_is_the_tap_loops_bits_and_pytorchs_values(shape, padding, monkeypatch):
    rng = np.random.default_rng(1)
    x = distinct(rng, shape).astype(np.float32)  # no ties: the fast path's condition holds
    x[:, :, 0, 0] = np.inf  # an infinite maximum is still a maximum (one per window: no tie)
    g_shape = TF.max_pool2d(torch.from_numpy(x), 2, 2, padding).shape
    g = rng.standard_normal(g_shape).astype(np.float32)
    g.flat[::5] = -0.0  # the sign of g·0 where g is −0 and of g·1: both must survive
    spreads = _count_spreads(monkeypatch)
    dx32, dx64 = _grads(x, g, padding)
    assert spreads.count(g.shape) == 2  # the maximum and the gradient: the fast path ran (float32 only)
    assert dx32.dtype == np.float32
    np.testing.assert_array_equal(dx32.astype(np.float64).view(np.uint64), dx64.view(np.uint64))
    xt = torch.tensor(x, requires_grad=True)
    TF.max_pool2d(xt, 2, 2, padding).backward(torch.from_numpy(g))
    np.testing.assert_array_equal(dx32, xt.grad.numpy())


@pytest.mark.parametrize("shape", [(2, 3, 12, 12), (1, 1, 2, 2), (3, 2, 4, 10), (2, 2, 6, 2)], ids=str)
def test_float32_ties_go_to_each_windows_first_maximum(shape, monkeypatch):
    # Zeros and ones: most windows hold ties, whose gradient PyTorch gives to the first maximum in row-major
    # order, as the tap loop does; so must the fast path.
    rng = np.random.default_rng(2)
    x = rng.integers(0, 2, shape).astype(np.float32)
    if shape == (2, 3, 12, 12):  # every one of the 16 patterns of a window occurs
        windows = x.reshape(2, 3, 6, 2, 6, 2).transpose(0, 1, 2, 4, 3, 5).reshape(-1, 4)
        assert len(np.unique(windows @ (1 << np.arange(4)))) == 16
    g = rng.standard_normal((shape[0], shape[1], shape[2] // 2, shape[3] // 2)).astype(np.float32)
    spreads = _count_spreads(monkeypatch)
    dx32, dx64 = _grads(x, g, 0)
    assert spreads.count(g.shape) == 2
    np.testing.assert_array_equal(dx32.astype(np.float64).view(np.uint64), dx64.view(np.uint64))
    xt = torch.tensor(x, requires_grad=True)
    TF.max_pool2d(xt, 2, 2).backward(torch.from_numpy(g))
    np.testing.assert_array_equal(dx32, xt.grad.numpy())


@pytest.mark.parametrize("case", ["nan input", "infinite gradient", "3x3 windows", "overlapping"])
def test_float32_cases_outside_the_fast_path_skip_it(case, monkeypatch):
    rng = np.random.default_rng(3)
    x = distinct(rng, (2, 2, 6, 6)).astype(np.float32)
    kernel, stride = (3, 3) if case == "3x3 windows" else (2, 1) if case == "overlapping" else (2, 2)
    if case == "nan input":
        x[0, 0, 0, 0] = np.nan
    g = rng.standard_normal(TF.max_pool2d(torch.from_numpy(x), kernel, stride).shape).astype(np.float32)
    if case == "infinite gradient":
        g[1, 1, 0, 0] = np.inf
    spreads = _count_spreads(monkeypatch)
    xn, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    F.max_pool2d(xn, kernel, stride).backward(g)
    TF.max_pool2d(xt, kernel, stride).backward(torch.from_numpy(g))
    assert spreads == []
    if case == "overlapping":  # overlapping windows sum their shares in another order than PyTorch
        np.testing.assert_allclose(xn.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=0)
    else:  # each position gets one window's gradient or nothing: the same numbers (NaN where PyTorch's are)
        np.testing.assert_array_equal(xn.grad.numpy(), xt.grad.numpy())


def test_relu_then_max_pool_in_float32_takes_the_fast_path_with_pytorchs_numbers(monkeypatch):
    # SimpleConvNet's conv → ReLU → pool runs as one fused node whose backward routes through the same path;
    # the inputs hold negative, zero and tied windows (as an image's flat background makes).
    from numnet import nn

    rng = np.random.default_rng(5)
    x = rng.integers(-2, 3, (3, 4, 8, 8)).astype(np.float32)
    g = rng.standard_normal((3, 4, 4, 4)).astype(np.float32)
    spreads = _count_spreads(monkeypatch)
    xn = Tensor(x, requires_grad=True)
    nn.Sequential(nn.ReLU(), nn.MaxPool2d(2))(xn).backward(g)
    assert spreads.count(g.shape) == 2
    xt = torch.tensor(x, requires_grad=True)
    TF.max_pool2d(TF.relu(xt), 2).backward(torch.from_numpy(g))
    np.testing.assert_array_equal(xn.grad.numpy(), xt.grad.numpy())
