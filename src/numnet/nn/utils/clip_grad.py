"""Gradient clipping, in place on each parameter's ``.grad`` (call between ``backward()`` and ``step()``)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from numnet.tensor import Tensor


def _grads(parameters: Tensor | Iterable[Tensor], name: str) -> list[np.ndarray]:
    """The ``.grad`` arrays of the parameters that have one."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = []
    for p in parameters:
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: expects tensors (e.g. model.parameters()), got {type(p).__name__}")
        if p.grad is not None:
            grads.append(p.grad.data if isinstance(p.grad, Tensor) else p.grad)  # .grad is a Tensor
    return grads


def _check_number(name: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: {key} must be a number, got {value!r:.60}")
    return float(value)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``; return that norm.

    total = ‖(‖g₁‖ₚ, ‖g₂‖ₚ, …)‖ₚ, the p-norm of all gradients as one vector (p = ``norm_type``; ``inf`` is
    the largest |gᵢ|). Every gradient is multiplied by min(1, max_norm / (total + 1e-6)), in place, as in
    PyTorch. ``error_if_nonfinite=True`` raises when total is NaN or infinite (instead of spreading NaN into
    every gradient). ``foreach`` is accepted for PyTorch code and ignored. Returns the total norm (before
    clipping) as a 0-d tensor.
    """
    name = "clip_grad_norm_"
    max_norm = _check_number(name, "max_norm", max_norm)
    norm_type = _check_number(name, "norm_type", norm_type)
    grads = _grads(parameters, name)
    if not grads:
        return Tensor(np.array(0.0))
    dtype = grads[0].dtype
    if math.isinf(norm_type):
        reduce = np.max if norm_type > 0 else np.min
        norms = [np.abs(g).max() if g.size else np.zeros((), dtype) for g in grads]
        total = reduce(np.array(norms, dtype=dtype))
    else:
        with np.errstate(over="ignore"):
            norms = np.array([np.linalg.norm(g.reshape(-1), ord=norm_type) for g in grads], dtype=dtype)
            total = np.linalg.norm(norms, ord=norm_type)
    total = np.asarray(total, dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"{name}: the total norm of order {norm_type} of the gradients is {float(total)}, so they cannot "
            "be clipped; find where the loss or the gradients become non-finite, or pass "
            "error_if_nonfinite=False"
        )
    # g ← g · min(1, max_norm / (total + 1e-6))
    with np.errstate(divide="ignore", invalid="ignore"):
        coef = np.minimum(max_norm / (total + 1e-6), 1.0).astype(dtype)  # NaN stays NaN, as in PyTorch
    for g in grads:
        g *= coef
    return Tensor(total)


def clip_grad_value_(
    parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None
) -> None:
    """Clamp every gradient element into [−clip_value, clip_value], in place."""
    clip_value = _check_number("clip_grad_value_", "clip_value", clip_value)
    for g in _grads(parameters, "clip_grad_value_"):
        np.clip(g, -clip_value, clip_value, out=g)
