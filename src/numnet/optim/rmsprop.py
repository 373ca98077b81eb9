"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from numnet.optim.optimizer import (
    Optimizer,
    ParamsT,
    _check_bool,
    _check_number,
    _decayed_grad,
)


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), as ``torch.optim.RMSprop``.

    For each parameter p with gradient g (PyTorch's documented algorithm; all buffers start at 0):

        g    ← −g                              if maximize
        g    ← g + λ·p                         if weight_decay λ ≠ 0
        v    ← α·v + (1 − α)·g²                (square_avg)
        v'   = v − ḡ²   with ḡ ← α·ḡ + (1 − α)·g    if centered (grad_avg ḡ)
        v'   = v                               otherwise
        b    ← μ·b + g / (√v' + eps);  p ← p − lr·b     if momentum μ > 0
        p    ← p − lr · g / (√v' + eps)                 otherwise

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate (default 0.01).
        alpha: smoothing constant α of the running average (default 0.99).
        eps: added to the denominator for numerical stability (default 1e-8).
        weight_decay: L2 penalty λ added to the gradient (default 0).
        momentum: momentum factor μ (default 0).
        centered: normalise by an estimate of the gradient's variance instead of its second moment.
        maximize: maximize the objective instead of minimizing it.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        _check_number(group, "lr")
        _check_number(group, "alpha", high=1.0, high_inclusive=True)
        _check_number(group, "eps")
        _check_number(group, "weight_decay")
        _check_number(group, "momentum")
        _check_bool(group, "centered")
        _check_bool(group, "maximize")

    def init_state(self, group: dict[str, Any], param: np.ndarray, grad: np.ndarray) -> dict[str, Any]:
        # v = 0, and b = 0 with momentum, ḡ = 0 when centered
        state = {"step": 0, "square_avg": np.zeros_like(param)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(param)
        return state

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One RMSprop update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            alpha = float(group["alpha"])
            one_minus_alpha = 1.0 - alpha
            eps = float(group["eps"])
            weight_decay = float(group["weight_decay"])
            momentum = float(group["momentum"])
            centered = bool(group["centered"])
            maximize = bool(group["maximize"])
            for p, g, d, s in self._updates(group):
                st = self._state_of(p, group, d, g)
                st["step"] += 1
                if weight_decay != 0 or maximize:
                    g = _decayed_grad(g, d, weight_decay, maximize)  # g ← ±g + λ·p (a new array)

                # v ← α·v + (1 − α)·g²
                square_avg = st["square_avg"]
                square_avg *= alpha
                np.multiply(g, g, out=s)
                s *= one_minus_alpha
                square_avg += s
                if centered:
                    # ḡ ← α·ḡ + (1 − α)·g ;  denominator √(v − ḡ²) + eps
                    grad_avg = st["grad_avg"]
                    grad_avg *= alpha
                    np.multiply(g, one_minus_alpha, out=s)
                    grad_avg += s
                    np.multiply(grad_avg, grad_avg, out=s)
                    np.subtract(square_avg, s, out=s)
                    np.sqrt(s, out=s)
                else:
                    # denominator √v + eps
                    np.sqrt(square_avg, out=s)
                s += eps
                np.divide(g, s, out=s)  # s = g / (√v' + eps)
                if momentum > 0:
                    # b ← μ·b + g / (√v' + eps) ;  p ← p − lr·b
                    buf = st["momentum_buffer"]
                    buf *= momentum
                    buf += s
                    np.multiply(buf, lr, out=s)
                else:
                    # p ← p − lr · g / (√v' + eps)
                    s *= lr
                d -= s
        return loss
