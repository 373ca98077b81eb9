"""exp, log, sqrt, abs, clip and where: gradcheck, PyTorch, and the defined gradient at the kinks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import numnet
from numnet import Tensor

from ._oracle import assert_matches_torch, away_from_zero, check

FAMILY = "elementwise"
SHAPES = [(), (5,), (2, 3), (2, 1, 3)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_exp(rng, shape):
    x = rng.standard_normal(shape)
    check(FAMILY, "exp", lambda t: t.exp(), torch.exp, x)
    check(FAMILY, "exp", numnet.exp, torch.exp, x)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_log(rng, shape):
    x = rng.uniform(0.3, 3.0, shape)
    check(FAMILY, "log", lambda t: t.log(), torch.log, x)
    check(FAMILY, "log", numnet.log, torch.log, x)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_sqrt(rng, shape):
    x = rng.uniform(0.3, 3.0, shape)
    check(FAMILY, "sqrt", lambda t: t.sqrt(), torch.sqrt, x)
    check(FAMILY, "sqrt", numnet.sqrt, torch.sqrt, x)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_abs(rng, shape):
    x = away_from_zero(rng, shape)
    check(FAMILY, "abs", lambda t: t.abs(), torch.abs, x)
    check(FAMILY, "abs", numnet.abs, torch.abs, x)
    check(FAMILY, "abs", abs, torch.abs, x)


def test_abs_at_zero_has_zero_gradient():
    x = Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    x.abs().sum().backward()
    np.testing.assert_array_equal(x.grad, [-1.0, 0.0, 1.0])  # sign(0) = 0, as PyTorch


BOUNDS = [(-0.5, 0.5), (-0.5, None), (None, 0.5), (0.0, 0.0)]


@pytest.mark.parametrize("bounds", BOUNDS, ids=str)
@pytest.mark.parametrize("shape", [(7,), (3, 4)], ids=str)
def test_clip(rng, shape, bounds):
    low, high = bounds
    x = rng.uniform(-1.5, 1.5, shape)
    # keep every value at least 0.05 from a bound, where the gradient jumps
    for b in (low, high):
        if b is not None:
            near = np.abs(x - b) < 0.05
            x[near] = b + 0.1
    check(FAMILY, "clip", lambda t: t.clip(low, high), lambda t: torch.clamp(t, low, high), x)
    check(
        FAMILY, "clip", lambda t: numnet.clamp(t, min=low, max=high), lambda t: torch.clamp(t, low, high), x
    )


def test_clip_gradient_passes_at_the_bounds_like_torch():
    data = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    x = Tensor(data, requires_grad=True)
    x.clip(-0.5, 0.5).sum().backward()
    xt = torch.tensor(data, requires_grad=True)
    torch.clamp(xt, -0.5, 0.5).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(x.grad, xt.grad.numpy())


def test_clip_needs_a_bound():
    with pytest.raises(ValueError, match=r"clip: give min, max or both"):
        Tensor(np.ones(3)).clip()


@pytest.mark.parametrize(
    ("cond_shape", "a_shape", "b_shape"),
    [((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), (2, 1)), ((3,), (2, 3), ()), ((2, 1), (1, 3), (2, 3))],
    ids=str,
)
def test_where(rng, cond_shape, a_shape, b_shape):
    cond = rng.random(cond_shape) < 0.5
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    check(
        FAMILY,
        "where",
        lambda x, y: numnet.where(cond, x, y),
        lambda x, y: torch.where(torch.from_numpy(cond), x, y),
        a,
        b,
    )
    check(
        FAMILY,
        "where",
        lambda x, y: numnet.where(Tensor(cond), x, y),
        lambda x, y: torch.where(torch.from_numpy(cond), x, y),
        a,
        b,
        requires=[True, False],
    )


def test_where_with_a_python_scalar(rng):
    cond = np.array([True, False, True])
    a = rng.standard_normal(3)
    check(
        FAMILY,
        "where",
        lambda x: numnet.where(cond, x, 0.0),
        lambda x: torch.where(torch.from_numpy(cond), x, 0.0),
        a,
    )
    x32 = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    out = numnet.where(cond, x32, 0.0)
    assert out.dtype == np.float32
    out.sum().backward()
    np.testing.assert_array_equal(x32.grad, [1, 0, 1])


def test_float32_elementwise_stay_float32():
    x = Tensor(np.full(3, 0.5, dtype=np.float32), requires_grad=True)
    outs = [x.exp(), x.log(), x.sqrt(), x.abs(), x.clip(0.0, 1.0)]
    assert all(o.dtype == np.float32 for o in outs)
    sum(outs[1:], outs[0]).sum().backward()
    assert x.grad.dtype == np.float32


# --- PyTorch's element-wise functions (issue 12) ---------------------------------------------------------
UNARY = {
    "sin": ("sin", lambda r, s: r.uniform(-3, 3, s)),
    "cos": ("cos", lambda r, s: r.uniform(-3, 3, s)),
    "tan": ("tan", lambda r, s: r.uniform(-1.2, 1.2, s)),
    "sinh": ("sinh", lambda r, s: r.uniform(-2, 2, s)),
    "cosh": ("cosh", lambda r, s: r.uniform(-2, 2, s)),
    "square": ("square", lambda r, s: r.uniform(-2, 2, s)),
    "log1p": ("log1p", lambda r, s: r.uniform(-0.5, 2, s)),
    "expm1": ("expm1", lambda r, s: r.uniform(-2, 2, s)),
    "rsqrt": ("rsqrt", lambda r, s: r.uniform(0.3, 3, s)),
    "reciprocal": ("reciprocal", lambda r, s: away_from_zero(r, s, 0.3, 2)),
    "sign": ("sign", lambda r, s: away_from_zero(r, s)),
}


@pytest.mark.parametrize("form", ["method", "function"])
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_functions_match_torch(rng, name, form):
    torch_name, draw = UNARY[name]
    x = draw(rng, (3, 4))
    ours = (lambda t: getattr(t, name)()) if form == "method" else (lambda t: getattr(numnet, name)(t))
    check(FAMILY, name, ours, lambda t: getattr(torch, torch_name)(t), x)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_match_torch_with_broadcasting_and_ties(rng, name):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4,))
    check(FAMILY, name, getattr(numnet, name), getattr(torch, name), a, b)
    # ties: PyTorch gives each side half of the gradient
    tie = np.array([1.0, 2.0, 3.0])
    assert_matches_torch(FAMILY, name, getattr(numnet, name), getattr(torch, name), tie, tie.copy())
    # max(other)/min(other) as methods are the element-wise forms
    ta, tb = Tensor(a), Tensor(b)
    np.testing.assert_array_equal(getattr(ta, name[:3])(tb).data, getattr(np, name)(a, b))


def test_clamp_with_tensor_bounds_matches_torch(rng):
    x = rng.uniform(-3, 3, (4, 5))
    low, high = rng.uniform(-2, -0.5, (5,)), rng.uniform(0.5, 2, (4, 1))
    check(FAMILY, "clamp", lambda t, lo, hi: t.clamp(lo, hi), lambda t, lo, hi: t.clamp(lo, hi), x, low, high)
    check(
        FAMILY, "clamp", lambda t, lo: numnet.clamp(t, min=lo), lambda t, lo: torch.clamp(t, min=lo), x, low
    )
    check(FAMILY, "clamp", lambda t, hi: t.clamp(max=hi), lambda t, hi: t.clamp(max=hi), x, high)
