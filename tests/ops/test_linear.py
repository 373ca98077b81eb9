"""The fused affine map ops.Linear: y = x·Wᵀ + b, with and without bias, for 1-D, 2-D and 3-D inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch.nn.functional as F

from numnet import Tensor, ops

from ._oracle import check

FAMILY = "linear"
INPUT_SHAPES = [(3,), (4, 3), (2, 5, 3), (1, 3)]


@pytest.mark.parametrize("x_shape", INPUT_SHAPES, ids=str)
def test_linear_with_bias(rng, x_shape):
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal((2, 3)), rng.standard_normal(2)
    check(FAMILY, "linear", ops.Linear.apply, F.linear, x, w, b)


@pytest.mark.parametrize("x_shape", INPUT_SHAPES, ids=str)
def test_linear_without_bias(rng, x_shape):
    x, w = rng.standard_normal(x_shape), rng.standard_normal((2, 3))
    check(FAMILY, "linear", ops.Linear.apply, F.linear, x, w)  # two inputs
    check(FAMILY, "linear", lambda x, w: ops.Linear.apply(x, w, None), F.linear, x, w)  # bias=None given


@pytest.mark.parametrize(
    ("x_shape", "w_shape"),
    [((1, 1), (5, 1)), ((3, 1), (1, 1)), ((1, 4), (1, 4)), ((2, 6, 1), (3, 1))],
    ids=str,
)
def test_linear_outer_products(rng, x_shape, w_shape):
    """One input feature, one output or a batch of one: products over a length-1 dimension (the fit net's)."""
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    check(FAMILY, "linear", ops.Linear.apply, F.linear, x, w, b)


@pytest.mark.parametrize("requires", [[False, True, True], [True, False, True], [True, True, False]], ids=str)
def test_linear_with_some_inputs_constant(rng, requires):
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    check(FAMILY, "linear", ops.Linear.apply, F.linear, x, w, b, requires=requires)


def test_first_layer_does_not_compute_dx(rng, monkeypatch):
    """needs_input_grad: the input batch does not require grad, so backward never forms dX = G·W."""
    seen = []
    original = ops.Linear.backward

    def spy(self, grad):
        grads = original(self, grad)
        seen.append((self.needs_input_grad, grads))
        return grads

    monkeypatch.setattr(ops.Linear, "backward", spy)
    x = Tensor(rng.standard_normal((4, 3)))
    w = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = Tensor(rng.standard_normal(2), requires_grad=True)
    hidden = ops.Linear.apply(x, w, b)
    w2 = Tensor(rng.standard_normal((1, 2)), requires_grad=True)
    ops.Linear.apply(hidden, w2).sum().backward()
    (needs2, grads2), (needs1, grads1) = seen
    assert needs2 == (True, True) and grads2[0] is not None  # the second layer needs d(hidden)
    assert needs1 == (False, True, True)
    assert grads1[0] is None and grads1[1] is not None and grads1[2] is not None
    assert x.grad is None


def test_float32_linear_stays_float32(rng):
    x = Tensor(rng.standard_normal((4, 3)).astype(np.float32))
    w = Tensor(rng.standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    b = Tensor(np.zeros(2, dtype=np.float32), requires_grad=True)
    y = ops.Linear.apply(x, w, b)
    assert y.dtype == np.float32
    y.sum().backward()
    assert w.grad.dtype == np.float32 and b.grad.dtype == np.float32


def test_linear_shape_error_names_input_and_weight():
    with pytest.raises(
        ValueError, match=r"input of shape \(4, 5\) has 5 features.*weight \(2, 3\) expects 3"
    ):
        ops.Linear.apply(Tensor(np.ones((4, 5))), Tensor(np.ones((2, 3))))
    with pytest.raises(ValueError, match=r"input of shape \(\) has no features"):
        ops.Linear.apply(Tensor(np.float64(1.0)), Tensor(np.ones((2, 3))))


def test_linear_matches_the_unfused_graph(rng):
    x, w, b = rng.standard_normal((5, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    ts = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    us = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    fused = ops.Linear.apply(*ts)
    unfused = us[0] @ us[1].T + us[2]
    np.testing.assert_allclose(fused.data, unfused.data, rtol=1e-14)
    g = rng.standard_normal(fused.shape)
    fused.backward(g)
    unfused.backward(g)
    for t, u in zip(ts, us, strict=True):
        np.testing.assert_allclose(t.grad, u.grad, rtol=1e-13)
