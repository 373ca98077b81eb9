"""+ − * / ** @ and negation: gradcheck and PyTorch on broadcasting shapes, scalars and 0-d tensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import numnet
from numnet import Tensor

from ._oracle import assert_matches_torch, check

FAMILY = "arithmetic"

BROADCAST_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 1), (1, 4)),
    ((4,), (2, 3, 4)),
    ((2, 3, 4), (4,)),
    ((2, 1, 3), (4, 1)),
    ((1,), (3,)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((), ()),
]

BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "pow": (lambda a, b: a**b, lambda a, b: a**b),
}


def _operands(rng, op, shape_a, shape_b):
    a = rng.standard_normal(shape_a)
    b = rng.standard_normal(shape_b)
    if op == "div":  # keep the divisor away from 0
        b = np.sign(b + 1e-3) * rng.uniform(0.5, 2.0, shape_b)
    if op == "pow":  # a positive base, so that aᵇ and ln a are real
        a = rng.uniform(0.5, 2.0, shape_a)
    return a, b


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
@pytest.mark.parametrize("op", list(BINARY))
def test_binary_op_broadcasting(rng, op, shapes):
    a, b = _operands(rng, op, *shapes)
    nn_fn, torch_fn = BINARY[op]
    check(FAMILY, op, nn_fn, torch_fn, a, b)


@pytest.mark.parametrize("op", list(BINARY))
@settings(max_examples=8, deadline=None, derandomize=True, database=None)
@given(
    shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    seed=st.integers(0, 2**16),
)
def test_binary_op_random_broadcast_shapes(op, shapes, seed):
    a, b = _operands(np.random.default_rng(seed), op, *shapes.input_shapes)
    nn_fn, torch_fn = BINARY[op]
    check(FAMILY, op, nn_fn, torch_fn, a, b)


@pytest.mark.parametrize("op", list(BINARY))
def test_only_one_operand_requires_grad(rng, op):
    a, b = _operands(rng, op, (2, 3), (3,))
    nn_fn, torch_fn = BINARY[op]
    check(FAMILY, op, nn_fn, torch_fn, a, b, requires=[True, False])
    check(FAMILY, op, nn_fn, torch_fn, a, b, requires=[False, True])


SCALAR_FORMS = {
    "x + 2.5": (lambda x: x + 2.5, lambda x: x + 2.5),
    "2.5 + x": (lambda x: 2.5 + x, lambda x: 2.5 + x),
    "x - 1.5": (lambda x: x - 1.5, lambda x: x - 1.5),
    "1.5 - x": (lambda x: 1.5 - x, lambda x: 1.5 - x),
    "x * 3": (lambda x: x * 3, lambda x: x * 3),
    "3 * x": (lambda x: 3 * x, lambda x: 3 * x),
    "x / 4": (lambda x: x / 4, lambda x: x / 4),
    "4 / x": (lambda x: 4 / x, lambda x: 4 / x),
    "x ** 2": (lambda x: x**2, lambda x: x**2),
    "x ** 3": (lambda x: x**3, lambda x: x**3),
    "x ** -1.5": (lambda x: x**-1.5, lambda x: x**-1.5),
    "x ** 0.5": (lambda x: x**0.5, lambda x: x**0.5),
    "2 ** x": (lambda x: 2**x, lambda x: 2**x),
    "-x": (lambda x: -x, lambda x: -x),
    "ndarray + x": (
        lambda x: np.full(x.shape, 0.5) + x,
        lambda x: torch.full(x.shape, 0.5, dtype=x.dtype) + x,
    ),
    "ndarray * x": (lambda x: _ramp(x.shape) * x, lambda x: torch.from_numpy(_ramp(x.shape)) * x),
}


def _ramp(shape):
    return np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape)


@pytest.mark.parametrize("shape", [(2, 3), (4,), ()], ids=str)
@pytest.mark.parametrize("form", list(SCALAR_FORMS))
def test_with_constants(rng, form, shape):
    x = rng.uniform(0.5, 2.0, shape) if "**" in form or "/ x" in form else rng.standard_normal(shape)
    nn_fn, torch_fn = SCALAR_FORMS[form]
    check(FAMILY, form, nn_fn, torch_fn, x)


def test_same_tensor_on_both_sides(rng):
    x = rng.uniform(0.5, 2.0, (3, 2))
    check(FAMILY, "x*x", lambda x: x * x, lambda x: x * x, x)
    check(FAMILY, "x/x", lambda x: x / x + x, lambda x: x / x + x, x)
    check(FAMILY, "x**x", lambda x: x**x, lambda x: x**x, x)
    check(FAMILY, "x-x", lambda x: (x - x) * x, lambda x: (x - x) * x, x)


MATMUL_SHAPES = [
    ((3,), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3,)),
    ((2, 3), (3, 4)),
    ((1, 3), (3, 1)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((2, 1, 2, 3), (4, 3, 2)),
    ((3,), (5, 3, 4)),
    ((5, 2, 3), (3,)),
    ((4, 1), (1, 3)),  # an outer product: every backward product contracts a length-1 dimension
    ((9, 1, 1), (9, 1, 128)),  # a stack of 1-input layers (the fit demo's nets side by side)
    ((9, 1, 128), (9, 128, 1)),  # … and of 1-output layers
    ((2, 1, 1, 3), (4, 3, 1)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(rng, shapes):
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    check(FAMILY, "matmul", lambda a, b: a @ b, lambda a, b: a @ b, a, b)


@pytest.mark.parametrize(
    ("shape_a", "shape_b"),
    [
        ((4, 1), (1, 3)),
        ((1, 1), (1, 128)),
        ((9, 128, 1), (9, 1, 1)),
        ((2, 1, 3, 1), (4, 1, 6)),
        ((3, 2), (2, 4)),
    ],
    ids=str,
)
@pytest.mark.parametrize("transposed", [False, True])
def test_matmul_array_is_numpys_product(rng, shape_a, shape_b, transposed):
    """Over a length-1 contracted dimension matmul_array multiplies instead: the same numbers as np.matmul,
    bit for bit, the sign of a zero included, also on transposed views."""
    from numnet.ops.arithmetic import matmul_array

    a = rng.standard_normal(shape_a).astype(np.float32)
    b = rng.standard_normal(shape_b).astype(np.float32)
    a.flat[0] = 0.0  # a zero entry: −0 from the multiply where the other factor is negative
    if transposed:  # the same values through swapped strides, as backward formulas pass them
        a = np.swapaxes(np.ascontiguousarray(np.swapaxes(a, -1, -2)), -1, -2)
    got, want = matmul_array(a, b), np.matmul(a, b)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))  # 0·(−x) is +0 in a product sum


def test_matmul_with_array_operands(rng):
    a, w = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    check(FAMILY, "array @ x", lambda a: a @ w, lambda a: a @ torch.from_numpy(w), a)
    check(FAMILY, "x @ array", lambda w_: a @ w_, lambda w_: torch.from_numpy(a) @ w_, w)


@pytest.mark.parametrize(
    ("shape_a", "shape_b"),
    [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3), (2,)), ((5, 2, 3), (4, 3, 2)), ((2, 3, 4), (5, 4, 6))],
    ids=str,
)
def test_matmul_incompatible_shapes_names_both(shape_a, shape_b):
    with pytest.raises(ValueError, match="matmul") as info:
        Tensor(np.ones(shape_a)) @ Tensor(np.ones(shape_b))
    assert str(shape_a) in str(info.value) and str(shape_b) in str(info.value)


def test_matmul_with_a_0d_operand_is_an_error():
    with pytest.raises(ValueError, match=r"at least one dimension.*\(\).*\(3,\)"):
        Tensor(np.float64(2.0)) @ Tensor(np.ones(3))


def test_pow_zero_exponent_has_zero_gradient_even_at_zero():
    """d(x⁰)/dx = 0 everywhere (PyTorch), not 0·x⁻¹ = nan at x = 0."""
    x = Tensor(np.array([0.0, 1.0, -2.0]), requires_grad=True)
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])


def test_pow_exponent_gradient_at_zero_base_matches_torch():
    """0ᵇ for b ≥ 0: PyTorch defines d/db = 0 there (ln 0 = −inf would give nan)."""
    a = np.array([0.0, 0.5, 2.0])
    b = np.array([2.0, 1.5, 0.5])
    x, y = Tensor(a), Tensor(b, requires_grad=True)
    (x**y).sum().backward()
    yt = torch.tensor(b, requires_grad=True)
    (torch.from_numpy(a) ** yt).sum().backward()
    np.testing.assert_allclose(y.grad, yt.grad.numpy(), rtol=1e-12)
    assert np.all(np.isfinite(y.grad))


def test_float32_stays_float32_with_python_scalars():
    x = Tensor(np.ones((2, 2), dtype=np.float32), requires_grad=True)
    outs = [x + 1.5, 1.5 + x, x - 2.0, 2.0 - x, x * 0.1, 0.1 * x, x / 3.0, 3.0 / x, x**2, x**0.5, 2.0**x, -x]
    for out in outs:
        assert out.dtype == np.float32
    sum(outs[1:], outs[0]).sum().backward()
    assert x.grad.dtype == np.float32


def test_float32_matmul_and_division_keep_float32_gradients():
    x = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    w = Tensor(np.full((3, 2), 0.5, dtype=np.float32), requires_grad=True)
    ((x @ w) / 7).sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_subtracting_a_constant_does_not_need_its_gradient():
    x = Tensor(np.ones(3), requires_grad=True)
    out = 5.0 - x
    assert out.grad_fn.needs_input_grad == (False, True)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, -np.ones(3))


def test_results_are_numnet_tensors():
    x = Tensor(np.ones(3))
    for out in (x + 1, np.ones(3) + x, np.ones(3) * x, np.ones((2, 3)) @ x, np.ones(3) - x, np.ones(3) / x):
        assert isinstance(out, Tensor)
    assert numnet.tensor([1.0]).dtype == numnet.get_default_dtype()


# --- issue 12: fuzzer regressions, tensor exponents, type promotion ----------------------------------------
def test_pow_gradient_at_zero_to_the_zero_is_zero_as_torch():
    """Fuzzer: d(aᵇ)/da at a = 0, b = 0 was NaN (0·0⁻¹); PyTorch gives 0."""
    a, b = np.array([0.0, 0.0, 2.0, 0.0]), np.array([0.0, 2.0, 0.0, 1.0])
    assert_matches_torch(FAMILY, "pow", lambda x, y: x**y, lambda x, y: x**y, a, b)
    x = Tensor(a, requires_grad=True)
    (x**b).sum().backward()
    assert np.isfinite(x.grad.data).all()


def test_division_gradient_does_not_underflow_for_tiny_divisors():
    """Fuzzer: db = −g·a/(b·b) underflowed to 0 (then inf·0) for |b| < 1e-154; −(g/b)·(a/b) does not."""
    a, b = np.array([1e-160, 2e-170]), np.array([1e-160, -3e-170])
    assert_matches_torch(FAMILY, "div", lambda x, y: x / y, lambda x, y: x / y, a, b)


@pytest.mark.parametrize("form", ["operator", "method", "function"])
def test_pow_with_tensor_exponents_matches_torch(rng, form):
    base, exponent = rng.uniform(0.5, 2.0, (3, 1)), rng.uniform(-1.5, 2.5, (4,))
    fns = {
        "operator": (lambda a, b: a**b, lambda a, b: a**b),
        "method": (lambda a, b: a.pow(b), lambda a, b: a.pow(b)),
        "function": (lambda a, b: numnet.pow(a, b), lambda a, b: torch.pow(a, b)),
    }
    check(FAMILY, "pow", *fns[form], base, exponent)


def test_unsqueeze_pow_int_exponents_stays_float32_as_torch():
    """The issue's example: x.unsqueeze(-1).pow(tensor([1, 2, 3])) gave float64."""
    x = numnet.linspace(-1, 1, 5)
    out = x.unsqueeze(-1).pow(numnet.tensor([1, 2, 3]))
    ref = torch.linspace(-1, 1, 5).unsqueeze(-1).pow(torch.tensor([1, 2, 3]))
    assert out.dtype == np.float32 and str(ref.dtype) == "torch.float32"
    np.testing.assert_allclose(out.data, ref.numpy(), rtol=1e-6)


PROMOTION_CASES = [
    ("float32", "int64"),
    ("float32", "float64"),
    ("int32", "int64"),
    ("bool", "int32"),
    ("float16", "float32"),
    ("int64", "bool"),
    ("float64", "int32"),
]


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
@pytest.mark.parametrize("left, right", PROMOTION_CASES)
def test_type_promotion_of_two_tensors_matches_torch(left, right, op):
    a, b = np.array([1, 2, 3]).astype(left), np.array([3, 1, 2]).astype(right)
    if op == "sub" and "bool" in (left, right):
        return  # torch refuses bool subtraction; numnet's NumPy would too — nothing to compare
    ours = getattr(numnet, op)(Tensor(a), Tensor(b))
    theirs = getattr(torch, op)(torch.from_numpy(a), torch.from_numpy(b))
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (left, right, op)
    assert numnet.result_type(Tensor(a), Tensor(b)) == ours.dtype or op == "div"


@pytest.mark.parametrize("scalar", [2, 2.5, True])
@pytest.mark.parametrize("dtype", ["float32", "float16", "int32", "int64", "bool"])
def test_python_numbers_do_not_promote_as_torch(dtype, scalar):
    a = np.array([1, 0, 1]).astype(dtype)
    ours, theirs = Tensor(a) * scalar, torch.from_numpy(a) * scalar
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (dtype, scalar)


def test_zero_d_tensors_do_not_promote_tensors_with_dimensions_as_torch():
    a, b = np.ones(3, dtype=np.float32), np.array(2.0)  # float64, 0-d
    assert (Tensor(a) * Tensor(b)).dtype == np.float32
    assert str((torch.from_numpy(a) * torch.from_numpy(b)).dtype) == "torch.float32"


def test_integer_division_is_true_division_in_the_default_float():
    out = Tensor(np.array([1, 2])) / Tensor(np.array([2, 4]))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, [0.5, 0.5])
