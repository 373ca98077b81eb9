"""sum, mean, max, min over all elements or along axes (int, negative, tuple), with and without keepdims."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from numnet import Tensor

from ._oracle import check, distinct

FAMILY = "reduce"

AXES = [None, 0, 1, -1, (0, 2), (2, 0), (-1, -2), (0, 1, 2)]


def _torch_reduce(name):
    def fn(x, axis, keepdims):
        dim = tuple(range(x.ndim)) if axis is None else axis
        if name in ("sum", "mean"):
            if axis is None and not keepdims:
                return getattr(x, name)()
            return getattr(x, name)(dim=dim, keepdim=keepdims)
        return getattr(torch, "amax" if name == "max" else "amin")(x, dim=dim, keepdim=keepdims)

    return fn


def _amax(name):
    """max/min over given dims are amax/amin (max(dim) returns (values, indices), tested below)."""
    return {"max": "amax", "min": "amin"}.get(name, name)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
def test_reduction_over_axes(rng, name, axis, keepdims):
    x = distinct(rng, (2, 3, 4))  # no ties within reach of the finite difference
    tfn = _torch_reduce(name)
    check(
        FAMILY,
        name,
        lambda t: getattr(t, _amax(name))(axis=axis, keepdims=keepdims),
        lambda t: tfn(t, axis, keepdims),
        x,
    )


@pytest.mark.parametrize("shape", [(), (5,), (1, 4), (3, 1, 2)], ids=str)
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
def test_reduction_of_small_shapes(rng, name, shape):
    x = distinct(rng, shape)
    tfn = _torch_reduce(name)
    check(FAMILY, name, lambda t: getattr(t, name)(), lambda t: tfn(t, None, False), x)
    check(FAMILY, name, lambda t: getattr(t, name)(keepdims=True), lambda t: tfn(t, None, True), x)


@pytest.mark.parametrize("axis", [0, -1, (0,)], ids=str)
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
def test_0d_tensor_accepts_axis_0_and_minus_1(name, axis):
    """As PyTorch: a 0-d tensor has dimension 0 (or -1) to reduce over, which leaves it unchanged."""
    x = Tensor(np.float64(2.5), requires_grad=True)
    out = getattr(x, _amax(name))(axis=axis)
    assert out.shape == () and out.item() == 2.5
    out.backward()
    assert x.grad == 1.0


@pytest.mark.parametrize("name", ["max", "min"])
def test_ties_share_the_gradient_equally(name):
    """Ties split the gradient evenly among the tied elements (torch.amax/amin), independent of order."""
    data = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0], [5.0, 5.0, 5.0]])
    if name == "min":
        data = -data
    x = Tensor(data, requires_grad=True)
    getattr(x, _amax(name))(axis=1).backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [1.0, 1.0, 0], [1.0, 1.0, 1.0]])
    xt = torch.tensor(data, requires_grad=True)
    getattr(torch, "amax" if name == "max" else "amin")(xt, dim=1).backward(
        torch.tensor([1.0, 2.0, 3.0]).double()
    )
    np.testing.assert_allclose(x.grad, xt.grad.numpy())


def test_global_max_tie_shares_gradient():
    x = Tensor(np.array([4.0, 1.0, 4.0, 4.0]), requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad, [1 / 3, 0, 1 / 3, 1 / 3])
    assert x.grad.sum() == pytest.approx(1.0)


def test_float32_reductions_stay_float32():
    x = Tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    outs = [x.sum(), x.mean(axis=0), x.max(axis=1).values, x.min(keepdims=True)]
    assert all(o.dtype == np.float32 for o in outs)
    (outs[0] + outs[1].sum() + outs[2].sum() + outs[3].sum()).backward()
    assert x.grad.dtype == np.float32


def test_sum_gradient_is_a_writable_array_of_its_own():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    x.sum().backward()  # Sum's backward is a read-only broadcast view; the leaf must get a real array
    assert x.grad.data.flags.writeable and x.grad.data.flags.owndata
    x.grad += 1
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 2.0))


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
def test_axis_out_of_range_is_a_clear_error(name):
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"axis 2 is out of range for a tensor with 2 dimension"):
        getattr(x, name)(axis=2)
    with pytest.raises(ValueError, match=r"axis -3 is out of range"):
        getattr(x, name)(axis=(0, -3))


def test_repeated_axis_is_an_error():
    with pytest.raises(ValueError, match=r"repeats an axis"):
        Tensor(np.ones((2, 3))).sum(axis=(1, -1))


def test_non_integer_axis_is_a_type_error():
    with pytest.raises(TypeError, match=r"axis"):
        Tensor(np.ones((2, 3))).sum(axis=1.0)


def test_mean_and_max_of_empty_are_errors():
    with pytest.raises(ValueError, match=r"mean of an empty selection"):
        Tensor(np.ones((0, 3))).mean(axis=0)
    with pytest.raises(ValueError, match=r"max over an empty dimension \(shape \(0,\)"):
        Tensor(np.ones(0)).max()
