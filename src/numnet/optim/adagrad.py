"""Adagrad: per-coordinate learning rates shrinking with the sum of squared gradients."""

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


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), as ``torch.optim.Adagrad``.

    For each parameter p with gradient g, at step t = 1, 2, ... (PyTorch's documented algorithm):

        g    ← −g                         if maximize
        g    ← g + λ·p                    if weight_decay λ ≠ 0
        clr  = lr / (1 + (t − 1)·lr_decay)
        sum  ← sum + g²                   (sum starts at initial_accumulator_value)
        p    ← p − clr · g / (√sum + eps)

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate (default 0.01).
        lr_decay: learning-rate decay per step (default 0).
        weight_decay: L2 penalty λ added to the gradient (default 0).
        initial_accumulator_value: starting value of the sum of squares (default 0).
        eps: added to the denominator for numerical stability (default 1e-10).
        maximize: maximize the objective instead of minimizing it.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        _check_number(group, "lr")
        _check_number(group, "lr_decay")
        _check_number(group, "weight_decay")
        _check_number(group, "initial_accumulator_value")
        _check_number(group, "eps")
        _check_bool(group, "maximize")

    def init_state(self, group: dict[str, Any], param: np.ndarray, grad: np.ndarray) -> dict[str, Any]:
        # sum starts at initial_accumulator_value, no step taken yet
        return {"step": 0, "sum": np.full_like(param, float(group["initial_accumulator_value"]))}

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Adagrad update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            lr_decay = float(group["lr_decay"])
            weight_decay = float(group["weight_decay"])
            eps = float(group["eps"])
            maximize = bool(group["maximize"])
            for p, g, d, s in self._updates(group):
                st = self._state_of(p, group, d, g)
                st["step"] = t = st["step"] + 1
                if weight_decay != 0 or maximize:
                    g = _decayed_grad(g, d, weight_decay, maximize)  # g ← ±g + λ·p (a new array)

                # clr = lr / (1 + (t − 1)·lr_decay)
                clr = lr / (1 + (t - 1) * lr_decay)
                # sum ← sum + g²
                total = st["sum"]
                np.multiply(g, g, out=s)
                total += s
                # p ← p − clr · g / (√sum + eps)
                np.sqrt(total, out=s)
                s += eps
                np.divide(g, s, out=s)
                s *= clr
                d -= s
        return loss
