"""Shared checks for the ops tests: gradcheck in float64, and PyTorch (float64) as the oracle.

``check(family, op, nn_fn, torch_fn, *arrays)`` runs both on the same inputs: numnet's gradcheck against
central differences, then numnet's outputs and gradients against PyTorch's, with the same output weighting.
The worst relative error seen per family is kept in ``WORST`` and printed at the end of the run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

import numnet
from numnet import Tensor

TORCH_RTOL = 1e-7  # the required agreement with PyTorch: max|ours − torch| / max|torch| per array

# family -> (worst relative error, the op where it was seen)
WORST: dict[str, tuple[float, str]] = {}


def rel_err(ours: Any, theirs: Any) -> float:
    """max|ours − theirs| / max|theirs| (0 when both are exactly equal, inf when only theirs is all zero)."""
    ours = np.asarray(ours, dtype=np.float64)
    theirs = np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, f"shape {ours.shape} != torch's {theirs.shape}"
    if ours.size == 0:
        return 0.0
    diff = float(np.max(np.abs(ours - theirs)))
    if diff == 0.0:
        return 0.0
    scale = float(np.max(np.abs(theirs)))
    return diff / scale if scale > 0 else float("inf")


def record(family: str, op: str, err: float) -> None:
    if family not in WORST or err > WORST[family][0]:
        WORST[family] = (err, op)


def _grad_flags(arrays: Sequence[np.ndarray], requires: Sequence[bool] | None) -> list[bool]:
    return [True] * len(arrays) if requires is None else list(requires)


def assert_gradcheck(
    fn: Callable[..., Tensor], *arrays: np.ndarray, requires: Sequence[bool] | None = None, **kwargs: Any
) -> None:
    flags = _grad_flags(arrays, requires)
    inputs = [
        Tensor(np.array(a, dtype=np.float64), requires_grad=f) for a, f in zip(arrays, flags, strict=True)
    ]
    assert numnet.gradcheck(fn, inputs, **kwargs)


def assert_matches_torch(
    family: str,
    op: str,
    nn_fn: Callable[..., Tensor],
    torch_fn: Callable[..., Any],
    *arrays: np.ndarray,
    requires: Sequence[bool] | None = None,
    seed: int = 0,
) -> float:
    """Same inputs → same output and same gradients (for one random weighting of the output)."""
    flags = _grad_flags(arrays, requires)
    ours = [
        Tensor(np.array(a, dtype=np.float64), requires_grad=f) for a, f in zip(arrays, flags, strict=True)
    ]
    theirs = [
        torch.tensor(np.array(a, dtype=np.float64), requires_grad=f)
        for a, f in zip(arrays, flags, strict=True)
    ]
    out = nn_fn(*ours)
    out_t = torch_fn(*theirs)
    assert isinstance(out, Tensor)
    assert out.dtype == np.float64, f"{op}: float64 inputs gave a {out.dtype} output"
    worst = rel_err(out.data, out_t.detach().numpy())
    weights = np.random.default_rng(seed).standard_normal(out.shape)
    if any(flags):
        out.backward(weights)
        out_t.backward(torch.from_numpy(np.array(weights, dtype=np.float64)))
        for i, (x, xt) in enumerate(zip(ours, theirs, strict=True)):
            if not flags[i]:
                continue
            expected = np.zeros(x.shape) if xt.grad is None else xt.grad.numpy()
            assert x.grad is not None, f"{op}: input {i} got no gradient"
            assert x.grad.dtype == np.float64
            worst = max(worst, rel_err(x.grad, expected))
    record(family, op, worst)
    assert worst <= TORCH_RTOL, f"{op}: relative error {worst:.3g} against PyTorch"
    return worst


def check(
    family: str,
    op: str,
    nn_fn: Callable[..., Tensor],
    torch_fn: Callable[..., Any],
    *arrays: np.ndarray,
    requires: Sequence[bool] | None = None,
    gradcheck: bool = True,
) -> None:
    """gradcheck (float64) and the PyTorch oracle, on the same inputs."""
    if gradcheck:
        assert_gradcheck(nn_fn, *arrays, requires=requires)
    assert_matches_torch(family, op, nn_fn, torch_fn, *arrays, requires=requires)


def away_from_zero(rng: np.random.Generator, shape: Any, low: float = 0.2, high: float = 2.0) -> np.ndarray:
    """Random values with |x| in [low, high] and random signs: no kink of relu/abs within reach of eps."""
    magnitude = rng.uniform(low, high, size=shape)
    return np.where(rng.random(size=shape) < 0.5, -magnitude, magnitude)


def distinct(rng: np.random.Generator, shape: Any) -> np.ndarray:
    """Values at least 0.1 apart from one another: max/min have no ties within reach of eps."""
    n = int(np.prod(shape, dtype=np.int64))
    return (rng.permutation(n) * 0.1 - n * 0.05 + rng.uniform(-0.02, 0.02, size=n)).reshape(shape)
