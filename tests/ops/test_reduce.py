"""sum, mean, max, min over all elements or along axes (int, negative, tuple), with and without keepdims."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import numnet
from numnet import Tensor

from ._oracle import assert_matches_torch, check, distinct

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


# --- PyTorch's spelling and the reductions issue 12 adds ---------------------------------------------------
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2)], ids=str)
@pytest.mark.parametrize("name", ["sum", "mean", "prod"])
def test_dim_keepdim_spelling_and_function_forms(rng, name, dim, keepdim):
    x = rng.uniform(0.5, 1.5, (2, 3, 4)) * np.where(rng.random((2, 3, 4)) < 0.5, -1, 1)

    def ours(t):
        return getattr(numnet, name)(t, dim=dim, keepdim=keepdim)

    def theirs(t):
        dims = tuple(range(t.ndim)) if dim is None else dim if isinstance(dim, tuple) else (dim,)
        if name != "prod":
            return getattr(torch, name)(t, dim=dims, keepdim=keepdim)
        for d in sorted((d % t.ndim for d in dims), reverse=True):  # torch.prod takes one dim at a time
            t = torch.prod(t, d, keepdim=keepdim)
        return t

    check(FAMILY, name, ours, theirs, x)


def test_prod_gradient_with_zeros_matches_torch():
    x = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 4.0], [1.5, -2.0, 0.5]])
    for dim in (0, 1):
        assert_matches_torch(FAMILY, "prod", lambda t, d=dim: t.prod(d), lambda t, d=dim: t.prod(d), x)
    assert_matches_torch(FAMILY, "prod", lambda t: t[0].prod(), lambda t: t[0].prod(), x)


@pytest.mark.parametrize("kwargs", [{}, {"unbiased": False}, {"correction": 0}, {"correction": 2}], ids=str)
@pytest.mark.parametrize("dim", [None, 1, (0, 2)], ids=str)
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_match_torch(rng, name, dim, kwargs):
    x = rng.standard_normal((3, 4, 5))
    check(
        FAMILY, name, lambda t: getattr(t, name)(dim, **kwargs), lambda t: getattr(t, name)(dim, **kwargs), x
    )
    check(
        FAMILY,
        name,
        lambda t: getattr(numnet, name)(t, dim, keepdim=True, **kwargs),
        lambda t: getattr(torch, name)(t, dim, keepdim=True, **kwargs),
        x,
    )


@pytest.mark.parametrize("dim", [0, -1, (0, 1)], ids=str)
def test_logsumexp_matches_torch_including_large_values(rng, dim):
    x = rng.standard_normal((3, 4)) * 50
    check(FAMILY, "logsumexp", lambda t: numnet.logsumexp(t, dim), lambda t: torch.logsumexp(t, dim), x)
    check(FAMILY, "logsumexp", lambda t: t.logsumexp(dim, keepdim=True), lambda t: t.logsumexp(dim, True), x)


@pytest.mark.parametrize("p", ["fro", 2, 1, 3, float("inf")], ids=str)
@pytest.mark.parametrize("dim", [None, 1], ids=str)
def test_norm_matches_torch(rng, p, dim):
    x = distinct(rng, (3, 4))
    check(FAMILY, "norm", lambda t: t.norm(p, dim), lambda t: t.norm(p, dim), x)


def test_norm_of_zero_has_zero_gradient_as_torch():
    assert_matches_torch(FAMILY, "norm", lambda t: t.norm(), lambda t: t.norm(), np.zeros(3))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum_matches_torch(rng, dim):
    x = rng.standard_normal((3, 4))
    check(FAMILY, "cumsum", lambda t: numnet.cumsum(t, dim), lambda t: torch.cumsum(t, dim), x)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_dim_returns_values_and_indices_as_torch(rng, name, keepdim):
    x = distinct(rng, (3, 4))
    out = getattr(Tensor(x), name)(1, keepdim)
    ref = getattr(torch.tensor(x), name)(1, keepdim)
    values, indices = out  # unpacks like torch's named tuple
    np.testing.assert_array_equal(values.data, ref.values.numpy())
    np.testing.assert_array_equal(indices.data, ref.indices.numpy())
    assert out.indices.dtype == np.int64
    _, pred = getattr(numnet, name)(Tensor(x), dim=1, keepdim=keepdim)
    np.testing.assert_array_equal(pred.data, ref.indices.numpy())
    check(FAMILY, name, lambda t: getattr(t, name)(0).values, lambda t: getattr(t, name)(0).values, x)


def test_argmax_all_any_with_dim_match_torch(rng):
    x = distinct(rng, (3, 4))
    xt = torch.tensor(x)
    for dim in (None, 0, 1):
        for keepdim in (False, True):
            ours = numnet.argmax(Tensor(x), dim, keepdim)
            np.testing.assert_array_equal(ours.data, torch.argmax(xt, dim, keepdim).numpy())
            np.testing.assert_array_equal(
                Tensor(x).argmin(dim, keepdim).data, xt.argmin(dim, keepdim).numpy()
            )
    b = x > 0
    for dim in (0, 1):
        np.testing.assert_array_equal(Tensor(b).all(dim).data, torch.tensor(b).all(dim).numpy())
        np.testing.assert_array_equal(
            numnet.any(Tensor(b), dim, True).data, torch.tensor(b).any(dim, True).numpy()
        )
    assert bool(Tensor(b).any()) == bool(torch.tensor(b).any())


def test_max_over_a_nonempty_dim_of_an_empty_tensor_works_as_torch():
    """Fuzzer: max/min raised whenever the tensor was empty, even reducing a dimension of length 3."""
    x = np.zeros((0, 3))
    for name in ("max", "min"):
        ours = getattr(Tensor(x), name)(1)
        ref = getattr(torch.tensor(x), name)(1)
        assert ours.values.shape == tuple(ref.values.shape) == (0,)
        assert getattr(Tensor(x), "a" + name)(1).shape == (0,)
        with pytest.raises(ValueError, match=r"empty dimension"):
            getattr(Tensor(x), name)(0)


def test_axis_and_keepdims_stay_aliases_of_dim_and_keepdim():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(x.sum(axis=1, keepdims=True).data, x.sum(dim=1, keepdim=True).data)
    np.testing.assert_array_equal(numnet.mean(x, axis=0).data, numnet.mean(x, dim=0).data)
    with pytest.raises(TypeError, match=r"dim or axis"):
        x.sum(dim=0, axis=0)


@pytest.mark.parametrize(
    ("op", "shape"),
    [
        (op, shape)
        for op in ("Sum", "Mean")
        for shape in [(), (0, 3), (2, 3), (4, 1, 5)]
        if (op, shape) != ("Mean", (0, 3))
    ],
    ids=str,
)  # (the mean of nothing is refused at the forward, tested elsewhere)
def test_full_reduction_gradient_is_a_read_only_view(op, shape):
    """A sum or mean over everything spreads its 0-d gradient as a zero-stride view: no copy of the input's
    size, and read-only (every position is one element), as np.broadcast_to's."""
    from numnet import ops

    x = np.arange(float(np.prod(shape)), dtype=np.float32).reshape(shape)
    node = object.__new__(getattr(ops, op))
    node.forward(x)
    g = np.array(3.0, np.float32)
    dx = node.backward(g)
    assert dx.shape == shape and dx.dtype == np.float32
    assert not dx.flags.writeable and all(s == 0 for s in dx.strides)
    want = 3.0 if op == "Sum" else np.float32(3.0) / max(x.size, 1)
    np.testing.assert_array_equal(dx, np.full(shape, want))
    # a scalar gradient (a custom backward may hand one on) spreads the same way
    for scalar in (3.0, np.float32(3.0)):
        spread = node.backward(scalar)
        assert not spread.flags.writeable and all(s == 0 for s in spread.strides)
        np.testing.assert_allclose(spread, np.full(shape, want), rtol=1e-7)  # 3.0 is float64 here
