"""Numerical gradients, to check the analytic ones that backpropagation computes.

``numerical_gradient`` is the tutorials' central difference; ``gradcheck`` runs it in float64 against
``backward()`` for every input that requires grad and says exactly where they disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from numnet.tensor import Tensor, no_grad


def numerical_gradient(f: Callable[[np.ndarray], Any], x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Central difference ∂f/∂xᵢ ≈ (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h for every element of ``x``.

    ``f`` takes the array (modified in place, one element at a time, and restored) and returns a scalar.
    The error of the central difference shrinks as h², against h for the forward difference; h must not be
    so small that x + h rounds back to x (h = 1e-50 gives 0 in float32, and even in float64).
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise TypeError(f"numerical_gradient: x must be a floating-point array, got dtype {x.dtype}")
    grad = np.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat_x, x):
        raise ValueError("numerical_gradient: x must be contiguous, so that it can be perturbed in place")
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + h
        f_plus = float(np.asarray(_scalar(f(x))))
        flat_x[i] = original - h
        f_minus = float(np.asarray(_scalar(f(x))))
        flat_x[i] = original
        flat_grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def _scalar(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) else value


class GradcheckError(AssertionError):
    """Analytic and numerical gradients disagree."""


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    seed: int = 0,
) -> bool:
    """Check ``backward()`` of ``fn(*inputs)`` against central differences, in float64.

    Every tensor input that requires grad is checked; the output may have any shape (it is reduced with a
    fixed random weighting, so every output element contributes). Raises ``GradcheckError`` naming the input,
    the worst element, both values and the relative error; returns True when all agree within
    ``|analytic − numeric| ≤ atol + rtol·|numeric|``.
    """
    tensors = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if not tensors:
        raise ValueError("gradcheck: no input requires grad; pass Tensors with requires_grad=True")
    for position, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and x.dtype != np.float64:
            raise TypeError(
                f"gradcheck: input {position} is {x.dtype}; float32 is too coarse for finite differences, "
                "use float64 tensors (numnet.set_default_dtype(np.float64) or dtype=np.float64)"
            )

    with no_grad():
        out_shape = np.shape(fn(*inputs).data)
    weights = np.random.default_rng(seed).standard_normal(out_shape)

    def objective() -> float:
        with no_grad():
            return float(np.sum(fn(*inputs).data * weights))

    saved = {id(x): x.grad for x in tensors}  # the caller's .grad, put back afterwards
    try:
        for x in tensors:
            x.grad = None
        out = fn(*inputs)
        if not out.requires_grad:
            raise GradcheckError("gradcheck: the output does not depend on any input that requires grad")
        out.backward(weights)
        analytic_grads = {id(x): np.zeros_like(x.data) if x.grad is None else x.grad.data for x in tensors}
    finally:
        for x in tensors:
            x.grad = saved[id(x)]

    for position, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        analytic = analytic_grads[id(x)]
        numeric = numerical_gradient(lambda _: objective(), x.data, h=eps)
        error = np.abs(analytic - numeric)
        bound = atol + rtol * np.abs(numeric)
        # NaN compares False: a NaN on either side must fail, not pass unnoticed
        bad = ~(error <= bound)
        if np.any(bad):
            excess = np.where(bad, np.nan_to_num(error - bound, nan=np.inf), -np.inf)
            worst = np.unravel_index(np.argmax(excess), excess.shape)
            rel = error[worst] / max(np.abs(numeric[worst]), 1e-12)
            index = tuple(int(i) for i in worst)
            raise GradcheckError(
                f"gradcheck: gradient of input {position} (shape {x.shape}) is wrong at index {index}: "
                f"analytic {analytic[worst]:.10g}, numerical {numeric[worst]:.10g}, "
                f"relative error {rel:.3g} (atol {atol}, rtol {rtol})"
            )
    return True
