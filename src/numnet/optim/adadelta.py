"""Adadelta: per-coordinate step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from numnet.optim.optimizer import Optimizer, ParamsT, _check_bool, _check_number, _decayed_grad


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012), as ``torch.optim.Adadelta``.

    For each parameter p with gradient g (v, u start at 0):

        g  ← −g                       if maximize
        g  ← g + λ·p                  if weight_decay λ ≠ 0
        v  ← ρ·v + (1 − ρ)·g²         (square_avg)
        Δ  ← √(u + eps) / √(v + eps) · g
        u  ← ρ·u + (1 − ρ)·Δ²         (acc_delta)
        p  ← p − lr·Δ

    Args: ``lr`` (default 1.0), ``rho`` (0.9), ``eps`` (1e-6), ``weight_decay`` (0), ``maximize``.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def _validate_group(self, group: dict[str, Any]) -> None:
        _check_number(group, "lr")
        _check_number(group, "rho", high=1.0, high_inclusive=True)
        _check_number(group, "eps")
        _check_number(group, "weight_decay")
        _check_bool(group, "maximize")

    def init_state(self, group: dict[str, Any], param: np.ndarray, grad: np.ndarray) -> dict[str, Any]:
        # v = u = 0, no step taken yet
        return {"step": 0, "square_avg": np.zeros_like(param), "acc_delta": np.zeros_like(param)}

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Adadelta update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
            weight_decay, maximize = float(group["weight_decay"]), bool(group["maximize"])
            for p, g, d, s in self._updates(group):
                st = self._state_of(p, group, d, g)
                st["step"] += 1
                if weight_decay != 0 or maximize:
                    g = _decayed_grad(g, d, weight_decay, maximize)
                # v ← ρ·v + (1 − ρ)·g²
                v = st["square_avg"]
                v *= rho
                np.multiply(g, g, out=s)
                s *= 1 - rho
                v += s
                # Δ ← √(u + eps)/√(v + eps)·g  (s holds Δ)
                u = st["acc_delta"]
                np.add(u, eps, out=s)
                np.sqrt(s, out=s)
                s /= np.sqrt(v + eps)
                s *= g
                # u ← ρ·u + (1 − ρ)·Δ²
                u *= rho
                u += (1 - rho) * (s * s)
                # p ← p − lr·Δ
                s *= lr
                d -= s
        return loss
