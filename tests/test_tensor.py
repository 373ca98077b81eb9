"""The engine: Tensor, Function, the iterative backward, gradient accumulation, graph freeing, grad mode,
the dtype policy, and the tutorials' apples-and-oranges graph."""

from __future__ import annotations

import copy
import pickle
from typing import ClassVar

import numpy as np
import pytest
import torch

import numnet
from numnet import Function, Tensor, ops
from numnet.tensor import iter_graph, unbroadcast


@pytest.fixture(autouse=True)
def _restore_global_state():
    dtype = numnet.get_default_dtype()
    state = numnet.backend.get_rng_state()
    yield
    numnet.set_default_dtype(dtype)
    numnet.backend.set_rng_state(state)


def leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


# --- the tutorials' apples graph --------------------------------------------------------------------------


def test_apples_graph():
    """MulLayer/AddLayer as Tensor ops: 2 apples at 100, tax 1.1 → 220."""
    apple, apple_num, tax = leaf(100.0), leaf(2.0), leaf(1.1)
    apple_price = apple * apple_num  # MulLayer
    price = apple_price * tax  # MulLayer
    assert price.item() == pytest.approx(220.0)
    price.backward(np.array(1.0))  # dout = 1
    assert apple.grad == pytest.approx(2.2)
    assert apple_num.grad == pytest.approx(110.0)
    assert tax.grad == pytest.approx(200.0)


def test_apples_and_oranges_graph():
    apple, apple_num = leaf(100.0), leaf(2.0)
    orange, orange_num = leaf(150.0), leaf(3.0)
    tax = leaf(1.1)
    apple_price = apple * apple_num
    orange_price = orange * orange_num
    all_price = apple_price + orange_price  # AddLayer
    price = all_price * tax
    assert price.item() == pytest.approx(715.0)
    price.backward()
    assert apple_num.grad == pytest.approx(110.0)
    assert apple.grad == pytest.approx(2.2)
    assert orange.grad == pytest.approx(3.3)
    assert orange_num.grad == pytest.approx(165.0)
    assert tax.grad == pytest.approx(650.0)


# --- accumulation -----------------------------------------------------------------------------------------


def test_tensor_used_twice_accumulates():
    x = leaf([1.0, -2.0, 3.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, -4.0, 6.0])
    y = leaf([1.0, 2.0])
    (y + y).sum().backward()
    np.testing.assert_array_equal(y.grad, [2.0, 2.0])


def test_diamond_graph():
    # x → a = 2x, b = x² → c = a·b = 2x³ ;  dc/dx = 6x²
    x = leaf([1.0, 2.0, -3.0])
    a = x * 2.0
    b = x * x
    (a * b).sum().backward()
    np.testing.assert_allclose(x.grad, 6 * x.data**2)


def test_shared_intermediate_accumulates_before_its_backward():
    # h = eˣ used three times: y = h·h + h → dy/dx = (2h + 1)·h
    x = leaf([0.5, -1.0])
    h = x.exp()
    y = h * h + h
    y.sum().backward()
    np.testing.assert_allclose(x.grad, (2 * h.data + 1) * h.data)


def test_leaves_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * 3.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0 + 2.0, 3.0 + 4.0])
    x.grad = None
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_broadcast_gradient_is_summed_to_the_input_shape():
    b = leaf([[1.0], [2.0]])  # (2, 1)
    w = leaf([1.0, 2.0, 3.0])  # (3,)
    (b * w).sum().backward()
    np.testing.assert_array_equal(b.grad, [[6.0], [6.0]])
    np.testing.assert_array_equal(w.grad, [3.0, 3.0, 3.0])


def test_unbroadcast():
    g = np.ones((2, 3, 4))
    np.testing.assert_array_equal(unbroadcast(g, (3, 1)), np.full((3, 1), 8.0))
    np.testing.assert_array_equal(unbroadcast(g, (4,)), np.full(4, 6.0))
    assert unbroadcast(g, ()) == 24.0
    assert unbroadcast(g, (2, 3, 4)) is g


# --- deep graphs, freeing, retain_graph -------------------------------------------------------------------


def test_deep_graph_has_no_recursion_error():
    x = leaf(1.0)
    y = x
    for _ in range(10_000):
        y = y * 1.0001 + 0.0
    y.backward()
    assert x.grad == pytest.approx(1.0001**10_000)
    assert len(list(iter_graph(x * 2))) == 1


def test_backward_twice_through_a_freed_graph_is_a_clear_error():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"graph through Sum was already freed.*retain_graph=True"):
        y.backward()


def test_backward_through_a_freed_intermediate_is_a_clear_error():
    x = leaf([1.0, 2.0])
    h = x.exp()
    (h * 2.0).sum().backward()
    with pytest.raises(RuntimeError, match=r"graph through Exp was already freed"):
        (h * 3.0).sum().backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])


def test_backward_frees_saved_arrays():
    x = leaf([1.0, 2.0])
    y = x * x
    fn = y.grad_fn
    y.sum().backward()
    assert y.grad_fn is not fn and y.grad_fn.name == "Mul" and not hasattr(y.grad_fn, "a")
    assert not y.is_leaf


# --- backward argument errors ----------------------------------------------------------------------------


def test_backward_of_a_non_scalar_needs_a_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"only for a one-element output, got shape \(2,\)"):
        (x * 2.0).backward()
    with pytest.raises(ValueError, match=r"grad has shape \(3,\) but the tensor has shape \(2,\)"):
        (x * 2.0).backward(np.ones(3))
    (x * 2.0).backward(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 20.0])


def test_backward_of_a_tensor_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match=r"does not require grad"):
        (Tensor(np.ones(2)) * 2.0).sum().backward()
    x = leaf([1.0])
    with numnet.no_grad():
        y = x * 2.0
    with pytest.raises(RuntimeError, match=r"does not require grad"):
        y.backward()


def test_backward_on_a_leaf():
    x = leaf(3.0)
    x.backward()
    assert x.grad == 1.0


def test_wrong_gradient_shape_from_a_backward_is_reported():
    class Bad(Function):
        def forward(self, x):
            return x * 2

        def backward(self, grad):
            return grad[:1]

    with pytest.raises(
        RuntimeError, match=r"Bad.backward returned a gradient of shape \(1,\) for an input of shape \(3,\)"
    ):
        Bad.apply(leaf([1.0, 2.0, 3.0])).sum().backward()


# --- who owns .grad ---------------------------------------------------------------------------------------


def test_grads_are_separate_writable_arrays():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    seed = np.array([1.0, 1.0])
    (a + b).backward(seed)  # Add hands the same array to both inputs
    assert a.grad is not b.grad and a.grad is not seed
    assert not np.shares_memory(a.grad, b.grad) and not np.shares_memory(a.grad, seed)
    a.grad *= 10  # an optimiser may scale in place
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])
    np.testing.assert_array_equal(seed, [1.0, 1.0])


def test_leaf_seeded_directly_does_not_alias_the_seed():
    x = leaf([1.0, 2.0])
    seed = np.array([5.0, 6.0])
    x.backward(seed)
    x.grad[0] = 0.0
    assert seed[0] == 5.0


def test_retained_grad_and_leaf_grad_do_not_alias():
    x = leaf([1.0, 2.0])
    h = x + 0.0
    h.retain_grad()
    (h + x).sum().backward()
    assert not np.shares_memory(h.grad, x.grad)
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])
    np.testing.assert_array_equal(h.grad, [1.0, 1.0])


def test_0d_gradient_is_a_tensor_over_a_writable_array():
    x = leaf(2.0)
    x.exp().backward()
    assert type(x.grad) is Tensor and not x.grad.requires_grad and x.grad.grad_fn is None
    assert type(x.grad.data) is np.ndarray and x.grad.shape == () and x.grad.data.flags.writeable
    assert x.grad == pytest.approx(np.exp(2.0))


def test_float32_leaf_gets_a_float32_gradient_from_float64_paths():
    x = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    (x * np.array([2.0, 3.0])).sum().backward()  # a float64 constant promotes the product (NumPy rules)
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [2.0, 3.0])


# --- grad mode, detach, retain_grad, needs_input_grad ----------------------------------------------------


def test_no_grad_context():
    x = leaf([1.0])
    assert numnet.is_grad_enabled()
    with numnet.no_grad():
        assert not numnet.is_grad_enabled()
        y = x * 2.0
        with numnet.enable_grad():
            z = x * 2.0
        assert not numnet.is_grad_enabled()
    assert numnet.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(KeyError), numnet.no_grad():
        raise KeyError
    assert numnet.is_grad_enabled()


def test_no_grad_as_decorator():
    x = leaf([1.0])

    @numnet.no_grad()
    def infer(t):
        return t * 2.0

    @numnet.no_grad
    def infer_bare(t):
        return t * 2.0

    assert not infer(x).requires_grad and not infer_bare(x).requires_grad
    assert infer.__name__ == "infer"
    assert numnet.is_grad_enabled() and (x * 2.0).requires_grad

    @numnet.enable_grad()
    def train_step(t):
        return t * 2.0

    with numnet.no_grad():
        assert train_step(x).requires_grad


def test_detach():
    x = leaf([1.0, 2.0])
    d = (x * 2.0).detach()
    assert not d.requires_grad and d.is_leaf
    y = (x * d).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad, d.data)  # no gradient through d
    assert np.shares_memory(x.detach().data, x.data)


def test_retain_grad_on_non_leaves():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    k = h * h
    h.retain_grad()
    k.retain_grad()
    out = k.sum()
    out.backward()
    np.testing.assert_array_equal(k.grad, [1.0, 1.0])
    np.testing.assert_array_equal(h.grad, 2 * h.data)
    other = (x * 5.0).sum()
    assert (x * 5.0).grad is None
    other.backward()


def test_needs_input_grad_skips_work_for_constants():
    calls = []

    class Scale(Function):
        def forward(self, x, w):
            self.x, self.w = x, w
            return x * w

        def backward(self, grad):
            calls.append(self.needs_input_grad)
            dx = grad * self.w if self.needs_input_grad[0] else None
            dw = grad * self.x if self.needs_input_grad[1] else None
            return dx, dw

    data = Tensor(np.array([1.0, 2.0]))
    w = leaf([3.0, 4.0])
    Scale.apply(data, w).sum().backward()
    Scale.apply(2.0, w).sum().backward()
    assert calls == [(False, True), (False, True)]
    assert data.grad is None
    np.testing.assert_array_equal(w.grad, [1.0 + 2.0, 2.0 + 2.0])


def test_function_with_a_single_gradient_and_constant_inputs():
    class Cube(Function):
        def forward(self, x):
            self.x = x
            return x**3

        def backward(self, grad):
            return grad * 3 * self.x**2  # one input: a bare array is fine

    x = leaf([1.0, 2.0])
    y = Cube.apply(x)
    assert repr(y.grad_fn) == "<CubeBackward0>"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 12.0])
    assert numnet.gradcheck(Cube.apply, [leaf([0.5, -1.5])])


def test_constants_as_inputs():
    x = leaf([1.0, 2.0])
    y = x * 2 + np.array([1.0, 1.0]) - [0.5, 0.5]
    np.testing.assert_array_equal(y.data, [2.5, 4.5])
    assert y.grad_fn.needs_input_grad == (True, False)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])
    assert isinstance(ops.Add.apply(1.0, 2.0), Tensor)


def test_ndarray_on_the_left_dispatches_to_tensor():
    x = leaf([1.0, 2.0])
    a = np.array([3.0, 4.0])
    for out in (a + x, a - x, a * x, a / x, a**x, a @ x):
        assert isinstance(out, Tensor) and out.requires_grad
    np.testing.assert_array_equal((a - x).data, [2.0, 2.0])
    lt = a < x
    assert isinstance(lt, Tensor) and lt.dtype == bool
    np.testing.assert_array_equal(np.float64(2.0) * x.data, (np.float64(2.0) * x).data)


def test_comparisons_are_bool_tensors_without_grad():
    x = leaf([1.0, 2.0, 3.0])
    for out in (x < 2, x <= 2, x > 2, x >= 2, x == 2, x != 2, x > Tensor(np.array([0.0, 5.0, 1.0]))):
        assert isinstance(out, Tensor) and out.dtype == bool and not out.requires_grad and out.is_leaf
    np.testing.assert_array_equal((x >= 2).data, [False, True, True])
    assert (x.argmax().item(), x.argmin().item()) == (2, 0)
    assert (x > 0).all() and (x > 2).any() and not (x > 5).any()


# --- dtype policy ------------------------------------------------------------------------------------------


def test_python_floats_become_the_default_dtype():
    assert numnet.get_default_dtype() == np.float32
    assert Tensor(1.5).dtype == np.float32
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert numnet.tensor([1.0, 2.0]).dtype == np.float32
    assert (
        numnet.zeros(2).dtype
        == numnet.ones(2, 3).dtype
        == numnet.randn(2).dtype
        == numnet.rand(2).dtype
        == np.float32
    )
    assert numnet.arange(0.0, 1.0, 0.25).dtype == np.float32
    assert numnet.arange(3).dtype == np.int64
    assert Tensor([1, 2]).dtype == np.int64 and Tensor(True).dtype == bool


def test_float64_default_via_set_default_dtype_and_context():
    numnet.set_default_dtype(np.float64)
    assert Tensor(1.5).dtype == np.float64 and numnet.zeros(2).dtype == np.float64
    numnet.set_default_dtype(np.float32)
    with numnet.default_dtype(np.float64):
        assert Tensor([1.0]).dtype == np.float64 and numnet.randn(2).dtype == np.float64
        assert numnet.tensor([1.0]).dtype == np.float64
    assert Tensor([1.0]).dtype == np.float32


def test_numpy_dtypes_are_kept():
    for dtype in (np.float64, np.float32, np.int32, np.float16):
        assert Tensor(np.zeros(2, dtype=dtype)).dtype == dtype
        assert numnet.tensor(np.zeros(2, dtype=dtype)).dtype == dtype
        assert numnet.from_numpy(np.zeros(2, dtype=dtype)).dtype == dtype
    assert Tensor(np.float64(1.0)).dtype == np.float64  # a NumPy scalar is an array too
    assert Tensor([1.0], dtype=np.float64).dtype == np.float64
    assert numnet.zeros(2, dtype=np.float64).dtype == np.float64
    assert numnet.ones(2, dtype=np.dtype("float64")).dtype == np.float64


def test_float32_ops_with_python_scalars_stay_float32():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = ((x * 2.5 + 1) / 3.0 - 0.5) ** 2
    y = y.exp().log().sqrt().clip(0.0, 10.0).sigmoid().tanh().relu().mean() * 0.1
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32


class Probe(Function):
    """Identity that records the dtype of the gradient reaching it."""

    seen: ClassVar[list] = []

    def forward(self, x):
        return x

    def backward(self, grad):
        Probe.seen.append(grad.dtype)
        return grad


FLOAT32_GRAPHS = {
    "2.0 ** x": lambda x: 2.0**x,
    "x ** 1.5": lambda x: x**1.5,
    "x ** x": lambda x: x**x,
    "3.0 / x": lambda x: 3.0 / x,
    "x - 0.5": lambda x: x - 0.5,
    "x @ x": lambda x: x @ x.T,
    "max": lambda x: x.max(axis=0),
    "min": lambda x: x.min(),
    "mean": lambda x: x.mean(axis=1),
    "getitem": lambda x: x[[0, 0, 1]],
    "where": lambda x: numnet.where(x > 1.5, x, 0.0),
    "clip": lambda x: x.clip(1.2, 2.5),
    "abs": lambda x: abs(x),
    "leaky_relu": lambda x: x.leaky_relu(0.1),
    "softmax": lambda x: x.softmax(),
    "log_softmax": lambda x: x.log_softmax(axis=0),
    "stack": lambda x: numnet.stack([x, x * 2.0]),
    "concatenate": lambda x: numnet.concatenate([x, x], axis=1),
    "cross_entropy": lambda x: ops.CrossEntropy.apply(x, np.array([0, 2]), label_smoothing=0.1),
    "nll": lambda x: ops.NLL.apply(x.log_softmax(), np.array([1, 2])),
    "mse": lambda x: ops.MSE.apply(x, np.zeros((2, 3), dtype=np.float32)),
    "bce": lambda x: ops.BCE.apply(x.sigmoid(), np.ones((2, 3), dtype=np.float32)),
    "bce_with_logits": lambda x: ops.BCEWithLogits.apply(
        x, np.ones((2, 3), dtype=np.float32), pos_weight=[2.0] * 3
    ),
    "batch_norm": lambda x: ops.BatchNorm.apply(x, np.ones(3, np.float32), np.zeros(3, np.float32)),
    "batch_norm eval": lambda x: ops.BatchNorm.apply(
        x, None, None, mean=np.zeros(3), var=np.ones(3), training=False
    ),
    "linear": lambda x: ops.Linear.apply(x, np.ones((4, 3), np.float32), np.zeros(4, np.float32)),
    "dropout": lambda x: ops.Dropout.apply(x, p=0.3),
}


@pytest.mark.parametrize("name", list(FLOAT32_GRAPHS))
def test_float32_gradients_stay_float32_inside_the_graph(name):
    """No silent float64 inside a float32 graph, forward or backward (a leaf's cast would hide it)."""
    x = Tensor(np.array([[1.0, 2.0, 3.0], [1.5, 2.5, 0.5]], dtype=np.float32), requires_grad=True)
    Probe.seen = []
    out = FLOAT32_GRAPHS[name](Probe.apply(x))
    out = out.values if isinstance(out, tuple) else out
    assert out.dtype == np.float32
    out.sum().backward()
    assert Probe.seen == [np.float32]


def test_list_constants_are_operands_too():
    x = leaf([1.0, 2.0, 3.0])
    (x @ [1.0, 2.0, 3.0] + (x ** [1, 2, 3]).sum() + ([2.0, 2.0, 2.0] @ x)).backward()
    np.testing.assert_allclose(x.grad, [1.0 + 1.0 + 2.0, 2.0 + 4.0 + 2.0, 3.0 + 27.0 + 2.0])


def test_tensor_copies_and_from_numpy_shares():
    a = np.zeros(3)
    t, f, c = numnet.tensor(a), numnet.from_numpy(a), Tensor(a)
    a[0] = 1.0
    assert t.data[0] == 0.0 and f.data[0] == 1.0 and c.data[0] == 1.0
    with pytest.raises(TypeError, match=r"from_numpy expects a numpy.ndarray, got list"):
        numnet.from_numpy([1.0])


def test_requires_grad_on_integer_data_is_a_type_error():
    with pytest.raises(
        TypeError, match=r"only floating-point tensors can require gradients, got dtype int64"
    ):
        Tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(TypeError, match=r"dtype int64 cannot require gradients"):
        Tensor([1, 2, 3]).requires_grad_()
    assert Tensor([1.0]).requires_grad_().requires_grad


def test_object_data_is_a_type_error():
    with pytest.raises(TypeError, match=r"cannot make a numeric tensor"):
        Tensor({"a": 1})


def test_manual_seed_reproduces_randn_and_rand():
    numnet.manual_seed(42)
    a, b = numnet.randn(3, 4), numnet.rand((2, 2))
    numnet.manual_seed(42)
    c, d = numnet.randn(3, 4), numnet.rand((2, 2))
    np.testing.assert_array_equal(a.data, c.data)
    np.testing.assert_array_equal(b.data, d.data)
    assert a.shape == (3, 4) and b.shape == (2, 2)
    assert not np.array_equal(numnet.randn(3, 4).data, a.data)
    assert np.all((d.data >= 0) & (d.data < 1))
    numnet.manual_seed(1)
    assert numnet.randn(2, requires_grad=True).requires_grad


# --- conversions and small API ---------------------------------------------------------------------------


def test_item_numpy_tolist_repr():
    x = Tensor(np.array([[1.0, 2.0]]), requires_grad=True)
    assert Tensor(np.array([2.5])).item() == 2.5 and isinstance(Tensor(np.array([2.5])).item(), float)
    with pytest.raises(ValueError, match=r"only a tensor with one element.*shape \(1, 2\)"):
        x.item()
    assert x.numpy() is x.data
    assert x.tolist() == [[1.0, 2.0]]
    assert repr(x) == "tensor([[1., 2.]], dtype=numnet.float64, requires_grad=True)"
    assert repr(x * 2) == "tensor([[2., 4.]], dtype=numnet.float64, grad_fn=<MulBackward0>)"
    assert repr(Tensor([1.5, 2.0])) == "tensor([1.5000, 2.0000])"
    assert repr(Tensor(np.arange(3))) == "tensor([0, 1, 2])"
    assert np.asarray(x).shape == (1, 2) and np.asarray(x, dtype=np.float32).dtype == np.float32


def test_shape_properties_len_bool():
    x = Tensor(np.zeros((2, 3)))
    assert (x.shape, x.ndim, x.size(), x.size(1), x.numel(), len(x)) == ((2, 3), 2, (2, 3), 3, 6, 2)
    with pytest.raises(TypeError, match=r"len\(\) of a 0-d tensor"):
        len(Tensor(1.0))
    with pytest.raises(ValueError, match=r"ambiguous"):
        bool(x)
    assert bool(Tensor([1.0])) and not bool(Tensor(0.0))


def test_copies_and_pickles_carry_values_not_the_graph():
    x = leaf([1.0, 2.0])
    y = x * 3.0
    y.retain_grad()
    y.sum().backward()
    for clone in (pickle.loads(pickle.dumps(y)), copy.deepcopy(y)):
        assert clone.is_leaf and clone.requires_grad and clone.grad_fn is None
        np.testing.assert_array_equal(clone.data, y.data)
        np.testing.assert_array_equal(clone.grad, [1.0, 1.0])
        assert not np.shares_memory(clone.data, y.data)
        clone.sum().backward()  # a new leaf: its own gradient accumulates
        np.testing.assert_array_equal(clone.grad, [2.0, 2.0])


def test_tensors_are_hashable_by_identity():
    a, b = Tensor([1.0]), Tensor([1.0])
    assert len({a, b}) == 2


# --- issue 12: in-place operations --------------------------------------------------------------------------
def test_inplace_operators_update_the_same_tensor_under_no_grad():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (w * w).sum().backward()
    alias, data = w, w.data
    with numnet.no_grad():
        w -= 0.1 * w.grad
        w += 1.0
        w *= 2.0
        w /= 4.0
    assert w is alias and w.data is data and w.requires_grad and w.is_leaf
    expected = ((np.array([1.0, 2.0]) - 0.1 * np.array([2.0, 4.0]) + 1) * 2) / 4
    np.testing.assert_allclose(w.data, expected)


def test_inplace_methods_match_torch():
    x, xt = Tensor(np.arange(6.0).reshape(2, 3)), torch.arange(6.0, dtype=torch.float64).reshape(2, 3)
    for name, args in [
        ("add_", (1.5,)),
        ("sub_", (np.ones(3),)),
        ("mul_", (3.0,)),
        ("div_", (2.0,)),
        ("clamp_", (1.0, 5.0)),
        ("pow_", (2,)),
    ]:
        out = getattr(x, name)(*args)
        getattr(xt, name)(*(torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args))
        assert out is x
        np.testing.assert_allclose(x.data, xt.numpy())
    x.add_(Tensor(np.ones(3)), alpha=2)
    xt.add_(torch.ones(3, dtype=torch.float64), alpha=2)
    np.testing.assert_allclose(x.data, xt.numpy())
    x.copy_(Tensor(np.array([7, 8, 9])))
    np.testing.assert_array_equal(x.data, [[7, 8, 9], [7, 8, 9]])
    assert x.fill_(2.5) is x and (x.data == 2.5).all()
    assert x.zero_() is x and (x.data == 0).all()
    numnet.manual_seed(0)
    x.normal_(3.0, 0.1)
    assert abs(x.data.mean() - 3.0) < 0.5 and x.dtype == np.float64
    x.uniform_(-1, 1)
    assert (x.data >= -1).all() and (x.data < 1).all()


def test_inplace_on_a_leaf_that_requires_grad_raises_as_torch():
    w = Tensor(np.ones(3), requires_grad=True)
    wt = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError) as torch_error:
        wt += 1
    for action in (lambda: w.__iadd__(1), lambda: w.zero_(), lambda: w.mul_(2), lambda: w.normal_()):
        with pytest.raises(RuntimeError) as ours:
            action()
        assert str(ours.value) == str(torch_error.value)


def test_inplace_on_a_recorded_non_leaf_raises_clearly():
    w = Tensor(np.ones(3), requires_grad=True)
    y = w * 2
    with pytest.raises(RuntimeError, match=r"output of a recorded operation.*out of place"):
        y += 1


def test_a_constant_updated_in_place_from_a_graph_joins_the_graph_as_torch():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    wt = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    h, ht = numnet.zeros(2, dtype=numnet.float64), torch.zeros(2, dtype=torch.float64)
    h += w * 3
    ht += wt * 3
    assert h.requires_grad and not h.is_leaf
    h = h * w  # a second in-place step would be refused (h is now a recorded output): out of place
    ht = ht * wt
    h.sum().backward()
    ht.sum().backward()
    np.testing.assert_allclose(h.data, ht.detach().numpy())
    np.testing.assert_allclose(w.grad.data, wt.grad.numpy())


def test_inplace_with_an_incompatible_result_raises():
    x = Tensor(np.array([1, 2]))
    with pytest.raises(RuntimeError, match=r"cannot write the result"):
        x /= 2
    with pytest.raises(RuntimeError, match=r"cannot write the result"):
        Tensor(np.ones(2)).add_(np.ones((3, 2)))


def test_setitem_writes_in_place():
    x = Tensor(np.zeros(4))
    x[1:3] = 5.0
    x[Tensor(np.array([True, False, False, True]))] = Tensor(np.array(-1.0))
    np.testing.assert_array_equal(x.data, [-1, 5, 5, -1])


def test_ndarray_data_updates_from_tensors_work_in_place():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (w * w).sum().backward()
    data = w.data
    w.data -= 0.5 * w.grad  # `.data`-style update with a Tensor on the right
    assert w.data is data
    np.testing.assert_allclose(w.data, [0.0, 0.0])


# --- issue 12: .grad is a Tensor ----------------------------------------------------------------------------
def test_grad_is_a_tensor_that_zero_and_print_like_torch():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    wt = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    (w * w).sum().backward()
    (wt * wt).sum().backward()
    assert isinstance(w.grad, Tensor) and not w.grad.requires_grad
    assert repr(w.grad).replace("numnet", "torch") == repr(wt.grad)
    grad = w.grad
    (w * w).sum().backward()  # accumulates into the same .grad tensor
    assert w.grad is grad
    np.testing.assert_array_equal(w.grad.data, [4.0, 8.0])
    w.grad.zero_()
    np.testing.assert_array_equal(w.grad.data, [0.0, 0.0])
    (w * 3).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [3.0, 3.0])


def test_optimizer_trains_through_tensor_grads_and_zero_grad_keeps_tensors():
    w = numnet.nn.Parameter(np.array([1.0, -2.0]))
    opt = numnet.optim.SGD([w], lr=0.25)
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_allclose(w.data, [0.5, -1.0])
    opt.zero_grad(set_to_none=False)
    assert isinstance(w.grad, Tensor) and (w.grad.data == 0).all()


# --- issue 12: factories, dtypes, devices -------------------------------------------------------------------
def test_factories_match_torch():
    cases = [
        (numnet.linspace(-1, 2, 7), torch.linspace(-1, 2, 7)),
        (numnet.logspace(0, 2, 5), torch.logspace(0, 2, 5)),
        (numnet.logspace(0, 3, 4, base=2.0), torch.logspace(0, 3, 4, base=2.0)),
        (numnet.full((2, 3), 1.5), torch.full((2, 3), 1.5)),
        (numnet.full((2,), 7), torch.full((2,), 7)),
        (numnet.eye(3), torch.eye(3)),
        (numnet.eye(2, 4, dtype=numnet.float64), torch.eye(2, 4, dtype=torch.float64)),
        (
            numnet.zeros_like(numnet.ones(2, 3, dtype=numnet.int32)),
            torch.zeros_like(torch.ones(2, 3, dtype=torch.int32)),
        ),
        (numnet.ones_like(numnet.zeros(2)), torch.ones_like(torch.zeros(2))),
        (numnet.full_like(numnet.zeros(2), 3.0), torch.full_like(torch.zeros(2), 3.0)),
        (numnet.arange(5), torch.arange(5)),
        (numnet.arange(0, 1, 0.25), torch.arange(0, 1, 0.25)),
        (numnet.zeros(2, 3, dtype=numnet.long), torch.zeros(2, 3, dtype=torch.long)),
    ]
    for ours, theirs in cases:
        assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype).removeprefix(
            "torch."
        )
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6)
    assert numnet.empty(2, 3).shape == (2, 3) and numnet.empty(2, 3).dtype == np.float32
    for like in (numnet.rand_like, numnet.randn_like):
        out = like(numnet.zeros(4, 5, dtype=numnet.float64))
        assert out.shape == (4, 5) and out.dtype == np.float64


def test_dtype_names_are_torchs():
    pairs = {
        "float32": "float32",
        "float": "float32",
        "float64": "float64",
        "double": "float64",
        "int64": "int64",
        "long": "int64",
        "int32": "int32",
        "int": "int32",
        "bool": "bool",
        "float16": "float16",
        "half": "float16",
    }
    for name, numpy_name in pairs.items():
        assert getattr(numnet, name) == np.dtype(numpy_name)
        assert str(getattr(torch, name)) == f"torch.{numpy_name}"
        assert numnet.zeros(2, dtype=getattr(numnet, name)).dtype == np.dtype(numpy_name)
        assert numnet.tensor([1, 0], dtype=getattr(numnet, name)).dtype == np.dtype(numpy_name)
    assert numnet.ones(2, dtype=np.float64).dtype == numnet.float64  # NumPy dtypes still work


def test_devices_are_cpu_no_ops():
    assert not numnet.cuda.is_available() and numnet.cuda.device_count() == 0
    cpu = numnet.device("cpu")
    x = numnet.zeros(2, 3, device=cpu)
    assert (
        x.device == cpu
        and x.device == "cpu"
        and str(x.device) == "cpu"
        and repr(cpu) == repr(torch.device("cpu"))
    )
    assert x.to("cpu") is x and x.cpu() is x and x.to(cpu) is x
    assert x.to(cpu, numnet.float64).dtype == np.float64 and x.to(dtype=numnet.int64).dtype == np.int64
    for bad in ("cuda", "cuda:0", "mps"):
        with pytest.raises(ValueError, match=r"CPU only"):
            numnet.device(bad)
        with pytest.raises(ValueError, match=r"CPU only"):
            numnet.ones(2, device=bad)
        with pytest.raises(ValueError, match=r"CPU only"):
            x.to(bad)
    with pytest.raises(ValueError, match=r"CPU only"):
        x.cuda()


# --- issue 12: conversions ----------------------------------------------------------------------------------
def test_python_conversions_as_torch():
    t = Tensor(np.array([2.75]))
    assert float(t) == 2.75 and int(t) == 2 and bool(t) is True
    i = Tensor(np.array(3))
    assert [10, 20, 30, 40][i] == 40 and range(10)[i] == 3
    with pytest.raises(TypeError, match=r"only integer tensors"):
        [1, 2][Tensor(np.array(1.0))]
    with pytest.raises(ValueError, match=r"one-element"):
        float(Tensor(np.ones(2)))


def test_type_conversions_as_torch():
    x = Tensor(np.array([1.7, -2.2, 0.0]), requires_grad=True)
    xt = torch.tensor([1.7, -2.2, 0.0], dtype=torch.float64, requires_grad=True)
    for name in ("long", "int", "bool", "float", "double", "half"):
        ours, theirs = getattr(x, name)(), getattr(xt, name)()
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(ours.data, theirs.detach().numpy())
        assert ours.requires_grad == theirs.requires_grad
    assert x.type() == "numnet.DoubleTensor" and xt.type() == "torch.DoubleTensor"
    assert x.type(numnet.float32).dtype == np.float32 and x.type("torch.LongTensor").dtype == np.int64
    c = x.clone()
    assert c.data is not x.data and c.requires_grad and c.grad_fn is not None
    (c * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0, 2.0])


# --- issue 12: printing -------------------------------------------------------------------------------------
def test_repr_matches_torch():
    cases = [
        [1.5, 2.0, -3.25],
        [[1.0, 2.0], [3.0, 4.0]],
        0.5,
        [1, 2, 3],
        [True, False],
        [[0.12345, 100.5]],
    ]
    for data in cases:
        ours, theirs = numnet.tensor(data), torch.tensor(data)
        assert repr(ours) == repr(theirs).replace("torch", "numnet"), data
    assert repr(numnet.tensor([1.0, 2.0], dtype=numnet.float64)) == "tensor([1., 2.], dtype=numnet.float64)"
    big, big_t = numnet.linspace(0, 1, 2001), torch.linspace(0, 1, 2001)
    assert "..." in repr(big) and repr(big) == repr(big_t)
    assert repr(numnet.zeros(10, 200)) == repr(torch.zeros(10, 200))
    w = numnet.tensor([1.0, 2.0], requires_grad=True)
    wt = torch.tensor([1.0, 2.0], requires_grad=True)
    for op in (lambda a: a + 1, lambda a: a * 2, lambda a: a.sum(), lambda a: a.mean(), lambda a: a.exp()):
        assert repr(op(w)) == repr(op(wt)), repr(op(wt))
    assert repr(w) == repr(wt)


# --- issue 12: numnet.autograd ------------------------------------------------------------------------------
class _TorchStyleCube:
    """x³ with backward 3x²·g, written once, run as numnet.autograd.Function and torch.autograd.Function."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x**3 * scale

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        assert ctx.needs_input_grad == (True, False)
        return grad_output * 3 * x**2 * ctx.scale, None


def test_custom_autograd_function_matches_torch():
    Ours = type("Cube", (numnet.autograd.Function,), dict(vars(_TorchStyleCube)))
    Theirs = type("Cube", (torch.autograd.Function,), dict(vars(_TorchStyleCube)))
    x = Tensor(np.array([0.5, -1.5, 2.0]), requires_grad=True)
    xt = torch.tensor([0.5, -1.5, 2.0], dtype=torch.float64, requires_grad=True)
    y, yt = Ours.apply(x, 2.0), Theirs.apply(xt, 2.0)
    assert repr(y.grad_fn) == "<CubeBackward>"
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(y.data, yt.detach().numpy())
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy())
    assert numnet.gradcheck(lambda t: Ours.apply(t, 2.0), [Tensor(np.array([0.3, -0.7]), requires_grad=True)])


def test_autograd_grad_matches_torch_and_leaves_grad_alone():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    w = Tensor(np.array([3.0, -1.0]), requires_grad=True)
    xt = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    wt = torch.tensor([3.0, -1.0], dtype=torch.float64, requires_grad=True)
    h, ht = x * w, xt * wt
    out, outt = (h.exp() * x).sum(), (ht.exp() * xt).sum()
    gx, gh = numnet.autograd.grad(out, [x, h], retain_graph=True)
    gxt, ght = torch.autograd.grad(outt, [xt, ht], retain_graph=True)
    np.testing.assert_allclose(gx.data, gxt.numpy())
    np.testing.assert_allclose(gh.data, ght.numpy())
    assert x.grad is None and w.grad is None and h.grad is None
    (g,) = numnet.autograd.grad(h, w, grad_outputs=Tensor(np.array([1.0, 2.0])))
    np.testing.assert_allclose(g.data, [1.0, 4.0])
    unused = Tensor(np.ones(1), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"not used"):
        numnet.autograd.grad((x * 2).sum(), [unused])
    assert numnet.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)[1] is None
    with pytest.raises(NotImplementedError, match=r"create_graph"):
        numnet.autograd.grad((x * 2).sum(), x, create_graph=True)


def test_numnet_reaches_train_and_models_without_a_cycle():
    import subprocess
    import sys

    code = "import numnet; print(numnet.train.fit.__name__, numnet.models.__name__)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["fit", "numnet.models"]


def test_softmax_along_a_zero_length_axis_and_of_0d_inputs_as_torch():
    """Fuzzer: softmax/log_softmax along a zero-length axis raised; F.softmax rejected 0-d inputs."""
    import torch.nn.functional as torch_f

    from numnet.nn import functional as F

    for fn, torch_fn in ((F.softmax, torch_f.softmax), (F.log_softmax, torch_f.log_softmax)):
        x = Tensor(np.zeros((3, 0)), requires_grad=True)
        out = fn(x, 1)
        assert out.shape == tuple(torch_fn(torch.zeros(3, 0), 1).shape) == (3, 0)
        out.sum().backward()
        assert x.grad.shape == (3, 0)
        for dim in (0, -1):
            ours, theirs = (
                fn(Tensor(np.float64(0.7)), dim),
                torch_fn(torch.tensor(0.7, dtype=torch.float64), dim),
            )
            assert ours.shape == () and ours.item() == pytest.approx(theirs.item())


def test_slicing_a_tensor_without_a_graph_gives_a_view_as_pytorch():
    # x[i:i+1] of data (no grad) skips the GetItem node: the result must still be PyTorch's view
    data = np.arange(12.0).reshape(6, 2)
    ours, theirs = Tensor(data.copy()), torch.tensor(data.copy())
    for index in (slice(1, 3), slice(None, None, 2), slice(4, 99), slice(5, 1)):
        a, b = ours[index], theirs[index]
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert a.grad_fn is None and not a.requires_grad
    view = ours[1:3]
    view.data[0, 0] = -1.0  # writes through to the tensor, as a torch slice does
    assert ours.data[1, 0] == -1.0
    with pytest.raises(IndexError, match="indexing a tensor of shape"):
        Tensor(np.float32(1.0))[0:1]
    leaf = Tensor(data, requires_grad=True)
    picked = leaf[1:3]
    assert picked.grad_fn.name == "GetItem"  # with a graph the slice is a node, and gradients flow
    picked.sum().backward()
    np.testing.assert_array_equal(
        leaf.grad.numpy(), np.repeat([[0.0], [1.0], [1.0], [0.0], [0.0], [0.0]], 2, 1)
    )


def test_set_grad_enabled_as_a_call_a_block_and_a_decorator_as_pytorch():
    torch = pytest.importorskip("torch")
    for lib in (numnet, torch):
        seen = []
        w = lib.ones(2, requires_grad=True)
        lib.set_grad_enabled(False)  # a plain call: off from here on
        seen.append((w * 2).requires_grad)
        lib.set_grad_enabled(True)
        with lib.set_grad_enabled(False):
            seen.append((w * 2).requires_grad)
            with lib.set_grad_enabled(True):
                seen.append((w * 2).requires_grad)
            seen.append((w * 2).requires_grad)
        seen.append((w * 2).requires_grad)  # the block restored it

        @lib.set_grad_enabled(False)
        def double(t):
            return t * 2

        seen.append(lib.is_grad_enabled())  # decorating does not switch it off out here
        seen.append(double(w).requires_grad)
        seen.append((w * 2).requires_grad)
        assert seen == [False, False, True, False, True, True, False, True], lib.__name__
    assert numnet.is_grad_enabled()
