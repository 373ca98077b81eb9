"""Adamax: Adam with the infinity norm of past gradients in place of the second moment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from numnet.optim.adam import _adam_grad, _check_betas
from numnet.optim.optimizer import Optimizer, ParamsT, _check_bool, _check_number


class Adamax(Optimizer):
    """Adamax (Kingma & Ba, 2014, §7), as ``torch.optim.Adamax``.

    For each parameter p with gradient g, at step t = 1, 2, … (m, u start at 0):

        g  ← −g                           if maximize
        g  ← g + λ·p                      if weight_decay λ ≠ 0
        m  ← β₁·m + (1 − β₁)·g            (exp_avg)
        u  ← max(β₂·u, |g| + eps)         (exp_inf)
        p  ← p − lr/(1 − β₁ᵗ) · m / u

    Args: ``lr`` (default 2e-3), ``betas`` ((0.9, 0.999)), ``eps`` (1e-8), ``weight_decay`` (0), ``maximize``.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        _check_number(group, "lr")
        _check_betas(group)
        _check_number(group, "eps")
        _check_number(group, "weight_decay")
        _check_bool(group, "maximize")

    def init_state(self, group: dict[str, Any], param: np.ndarray, grad: np.ndarray) -> dict[str, Any]:
        # m = u = 0, no step taken yet
        return {"step": 0, "exp_avg": np.zeros_like(param), "exp_inf": np.zeros_like(param)}

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Adamax update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, eps = float(group["lr"]), float(group["eps"])
            beta1, beta2 = (float(b) for b in group["betas"])
            weight_decay, maximize = float(group["weight_decay"]), bool(group["maximize"])
            for p, g, d, s in self._updates(group):
                st = self._state_of(p, group, d, g)
                st["step"] = t = st["step"] + 1
                g = _adam_grad(g, d, lr, weight_decay, False, maximize)  # g ← ±g + λ·p
                # m ← m + (1 − β₁)·(g − m)   (PyTorch's lerp form of β₁·m + (1 − β₁)·g)
                m = st["exp_avg"]
                np.subtract(g, m, out=s)
                s *= 1 - beta1
                m += s
                # u ← max(β₂·u, |g| + eps)
                u = st["exp_inf"]
                u *= beta2
                np.abs(g, out=s)
                s += eps
                np.maximum(u, s, out=u)
                # p ← p − lr/(1 − β₁ᵗ)·m/u
                np.divide(m, u, out=s)
                s *= lr / (1 - beta1**t)
                d -= s
        return loss
