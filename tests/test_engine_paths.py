"""The backward engine's two walks (tensor.py): the chain walk and the general walk give the same gradients.

``run_backward`` walks a chain (each node passing gradients to at most one non-leaf input) without sorting,
and hands the rest of the graph to the general walk at the first branch. Each test computes the gradients
twice from identical graphs: once through ``backward()`` and once through the general walk alone
(``_backward_graph`` from the root), and requires bit-identical results.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import numnet
from numnet import nn
from numnet.tensor import Function, Tensor, _backward_graph


def _leaves(seed: int, shapes, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]


def _mlp_loss(leaves, x):
    w1, b1, w2, b2 = leaves
    h = numnet.ops.Linear.apply(x, w1, b1).relu()
    return nn.functional.mse_loss(numnet.ops.Linear.apply(h, w2, b2), np.ones((4, 1), np.float32))


def _chain_then_diamond(leaves, x):
    a, b = leaves
    h = (x * a).tanh()  # chain part
    return ((h * b).sigmoid() + h.exp()).sum()  # a branch: h reaches the sum twice


def _tensor_used_twice(leaves, x):
    (a,) = leaves
    h = (x * a).sigmoid()
    return (h * h).sum()  # Mul gets h twice: a branch at its first node


def _leaf_used_twice_in_a_chain(leaves, x):
    (a,) = leaves
    return ((x * a) * a).sum()  # a chain whose nodes both feed the same leaf


GRAPHS = [
    ("mlp", _mlp_loss, [(3, 2), (3,), (1, 3), (1,)], (4, 2)),
    ("chain_then_diamond", _chain_then_diamond, [(5,), (5,)], (5,)),
    ("tensor_used_twice", _tensor_used_twice, [(3, 4)], (3, 4)),
    ("leaf_used_twice", _leaf_used_twice_in_a_chain, [(6,)], (6,)),
]


@pytest.mark.parametrize("name,graph,shapes,x_shape", GRAPHS, ids=[g[0] for g in GRAPHS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_chain_walk_equals_the_general_walk(name, graph, shapes, x_shape, dtype):
    x = np.random.default_rng(9).standard_normal(x_shape).astype(dtype)
    fast, slow = _leaves(1, shapes, dtype), _leaves(1, shapes, dtype)
    graph(fast, x).backward()
    root = graph(slow, x)
    _backward_graph([root, np.ones_like(root.data)], False, set())
    for f, s in zip(fast, slow, strict=True):
        assert f.grad.dtype == dtype  # float32 stays float32
        np.testing.assert_array_equal(f.grad, s.grad)


def test_chain_through_a_node_that_gives_no_gradient_to_one_input():
    """A node whose backward returns None for a non-leaf input passes the chain on through the other."""

    class Left(Function):  # f(a, b) = a; no gradient for b
        def forward(self, a, b):
            return a.copy()

        def backward(self, grad):
            return grad, None

    (w,) = _leaves(2, [(3,)])
    other = w * 3.0  # a non-leaf that gets no gradient from Left
    out = Left.apply(w.exp(), other).sum()
    out.backward()
    np.testing.assert_array_equal(w.grad, np.exp(w.data))


def test_gradients_of_a_chain_are_fresh_writable_arrays():
    """The chain walk stores each leaf's gradient as an array of its own (not a view, not shared)."""
    a, b = _leaves(3, [(4,), (4,)])
    (a + b).sum().backward()  # Add hands one array to both inputs
    assert a.grad is not b.grad and not np.shares_memory(a.grad, b.grad)
    a.grad += 1  # writable, and b's gradient is untouched
    np.testing.assert_array_equal(b.grad, np.ones(4, np.float32))


def test_a_backward_returning_the_wrong_number_of_gradients_is_reported():
    class Two(Function):
        def forward(self, a, b):
            return a + b

        def backward(self, grad):
            return (grad,)

    a, b = _leaves(4, [(2,), (2,)])
    with pytest.raises(ValueError, match=r"Two.backward returned 1 gradient\(s\) for 2 input\(s\)"):
        Two.apply(a, b).sum().backward()


def test_a_tensor_used_twice_keeps_the_chain_walk(monkeypatch):
    """``d * d`` hands d two gradients; d is still the node's only non-leaf input, so the chain walk sums
    them and goes on: the general walk (topological sort) is not needed, and the gradient is 2·d·∂d."""
    engine = importlib.import_module("numnet.tensor")  # the module (numnet.tensor is also a function)

    def no_general_walk(*args, **kwargs):
        raise AssertionError("the general walk ran for a chain")

    (a,) = _leaves(5, [(4,)], np.float64)
    x = np.linspace(-1, 1, 4)
    monkeypatch.setattr(engine, "_backward_graph", no_general_walk)
    d = x * a - 1.0
    (0.5 * (d * d).sum()).backward()
    np.testing.assert_allclose(a.grad.data, (x * a.data - 1.0) * x, rtol=1e-15)
    monkeypatch.undo()
    (b, c) = _leaves(6, [(3,), (3,)])
    calls = []
    monkeypatch.setattr(engine, "_backward_graph", lambda *args: calls.append(args) or _backward_graph(*args))
    ((b * c).exp() + (b - c).sin()).sum().backward()  # Add's inputs are two different non-leaves: a branch
    assert len(calls) == 1 and b.grad is not None and c.grad is not None


def test_an_accumulated_0d_gradient_stays_an_array_of_its_own():
    """Two backward calls into a 0-d leaf add 0-d arrays, which NumPy returns as a scalar: .grad stays a
    writable ndarray (optimisers and clipping write into it)."""
    x = Tensor(np.array(2.0, np.float32), requires_grad=True)
    for _ in range(2):
        (x * x).backward()
    assert type(x.grad.data) is np.ndarray and x.grad.data.flags.writeable and x.grad.dtype == np.float32
    x.grad.data += 1
    assert float(x.grad) == 9.0
