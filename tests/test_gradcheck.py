"""numerical_gradient and gradcheck: they pass on correct backward formulas and say exactly where a wrong
one is wrong."""

from __future__ import annotations

import re

import numpy as np
import pytest

import numnet
from numnet import Function, GradcheckError, Tensor, gradcheck, numerical_gradient


def leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


# --- numerical_gradient -----------------------------------------------------------------------------------


def function_2(x):
    """The tutorials' f(x0, x1) = x0² + x1²."""
    return x[0] ** 2 + x[1] ** 2


@pytest.mark.parametrize(
    ("point", "expected"), [((3.0, 4.0), (6.0, 8.0)), ((0.0, 2.0), (0.0, 4.0)), ((3.0, 0.0), (6.0, 0.0))]
)
def test_numerical_gradient_of_the_tutorial_function(point, expected):
    x = np.array(point)
    np.testing.assert_allclose(numerical_gradient(function_2, x), expected, atol=1e-7)
    np.testing.assert_array_equal(x, point)  # restored after every perturbation


def test_numerical_gradient_of_a_matrix_and_of_a_tensor_valued_function():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(numerical_gradient(lambda a: np.sum(a**3), x), 3 * x**2, rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(numerical_gradient(lambda a: Tensor(a).exp().sum(), x), np.exp(x), rtol=1e-7)


def test_numerical_gradient_rejects_bad_arrays():
    with pytest.raises(TypeError, match=r"floating-point array, got dtype int64"):
        numerical_gradient(function_2, np.array([3, 4]))
    with pytest.raises(ValueError, match=r"contiguous"):
        numerical_gradient(lambda a: a.sum(), np.ones((3, 2)).T)


def test_too_small_h_rounds_to_nothing():
    """h = 1e-50 vanishes against x: the estimate is 0, the reason numerical_gradient uses 1e-4."""
    x = np.array([3.0, 4.0])
    np.testing.assert_array_equal(numerical_gradient(function_2, x, h=1e-50), [0.0, 0.0])


# --- gradcheck passes -------------------------------------------------------------------------------------


def test_gradcheck_passes_on_correct_ops():
    rng = np.random.default_rng(0)
    a, b = leaf(rng.standard_normal((3, 4))), leaf(rng.standard_normal(4))
    assert gradcheck(lambda a, b: (a * b).tanh() @ b.exp(), [a, b]) is True
    assert gradcheck(lambda a: a.softmax(axis=0), [a])


def test_gradcheck_ignores_constants_and_restores_existing_grads():
    x = leaf([1.0, 2.0])
    x.grad = np.array([7.0, 7.0])
    assert gradcheck(lambda x, c, k: x * c + k, [x, np.array([3.0, 4.0]), 2.0])
    np.testing.assert_array_equal(x.grad, [7.0, 7.0])
    constant = Tensor(np.array([1.0, 1.0]))
    assert gradcheck(lambda x, c: x * c, [x, constant])
    assert constant.grad is None


# --- gradcheck fails, and says where ----------------------------------------------------------------------


class BuggyReLU(Function):
    """The tutorials' bug: the backward multiplies the gradient by x instead of by 1."""

    def forward(self, x):
        self.mask = x > 0
        self.x = x
        return np.maximum(x, 0)

    def backward(self, grad):
        return grad * self.mask * self.x  # wrong: d relu/dx is 1 where x > 0


def test_gradcheck_catches_the_relu_bug_and_names_the_element():
    x = leaf([[-1.0, 0.5], [3.0, -2.0]])
    with pytest.raises(GradcheckError) as info:
        gradcheck(BuggyReLU.apply, [x])
    message = str(info.value)
    assert "input 0" in message and "shape (2, 2)" in message
    assert "index (1, 0)" in message  # x = 3 is the worst: analytic 3·w against the true w
    found = re.search(r"analytic (\S+), numerical (\S+), relative error (\S+) ", message)
    analytic, numeric, rel = (float(v) for v in found.groups())
    w = np.random.default_rng(0).standard_normal((2, 2))  # gradcheck's output weighting (seed 0)
    assert analytic == pytest.approx(3 * w[1, 0], rel=1e-9)  # g·x with x = 3
    assert numeric == pytest.approx(w[1, 0], rel=1e-6)  # the true g·1
    assert rel == pytest.approx(2.0, rel=1e-3)  # |3w − w| / |w|
    assert isinstance(info.value, AssertionError)  # fails a test like an assert


def test_gradcheck_names_the_input_whose_gradient_is_wrong():
    class WrongSecond(Function):
        def forward(self, a, b):
            self.a, self.b = a, b
            return a * b

        def backward(self, grad):
            return grad * self.b, grad * self.a * 2  # db is twice too large

    with pytest.raises(
        GradcheckError, match=r"gradient of input 2 \(shape \(3,\)\) is wrong at index \(\d,\)"
    ):
        gradcheck(
            lambda a, c, b: WrongSecond.apply(a, b) + c, [leaf([1.0, 2.0, 3.0]), 1.0, leaf([0.5, 1.5, 2.5])]
        )


def test_gradcheck_catches_a_missing_gradient():
    class Detached(Function):
        def forward(self, x):
            return x * 2

        def backward(self, grad):
            return None

    with pytest.raises(GradcheckError, match=r"analytic 0, numerical"):
        gradcheck(Detached.apply, [leaf([1.0, 2.0])])


def test_gradcheck_catches_nan_on_either_side():
    class NanGrad(Function):
        def forward(self, x):
            return x * 2

        def backward(self, grad):
            return grad * np.nan

    with pytest.raises(GradcheckError, match=r"analytic nan"):
        gradcheck(NanGrad.apply, [leaf([1.0, 2.0])])

    class NanForward(Function):  # the function is undefined at the point: the numerical side is nan
        def forward(self, x):
            self.shape = x.shape
            return np.where(np.abs(x - 1.0) < 1e-3, np.nan, x)

        def backward(self, grad):
            return grad

    with pytest.raises(GradcheckError, match=r"numerical nan"):
        gradcheck(NanForward.apply, [leaf([1.0, 2.0])])


def test_gradcheck_of_a_0d_input():
    class Twice(Function):
        def forward(self, x):
            return x * 2

        def backward(self, grad):
            return grad * 3

    assert gradcheck(lambda x: x * x, [leaf(1.5)])
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(\)\) is wrong at index \(\)"):
        gradcheck(Twice.apply, [leaf(1.5)])


# --- gradcheck refuses what it cannot check --------------------------------------------------------------


def test_gradcheck_refuses_float32():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    with pytest.raises(TypeError, match=r"input 1 is float32; float32 is too coarse.*use float64"):
        gradcheck(lambda c, x: x * c, [2.0, x])
    with numnet.default_dtype(np.float64):
        assert gradcheck(lambda x: x * 2.0, [Tensor([1.0, 2.0], requires_grad=True)])


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match=r"no input requires grad"):
        gradcheck(lambda x: x * 2, [Tensor(np.ones(2))])


def test_gradcheck_output_must_depend_on_the_inputs():
    with pytest.raises(GradcheckError, match=r"does not depend on any input"):
        gradcheck(lambda x: Tensor(np.ones(2)), [leaf([1.0, 2.0])])
