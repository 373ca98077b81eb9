"""Adamax: Adam with the infinity norm of past gradients in place of the second moment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from numnet.optim.optimizer import Optimizer, ParamsT, _check_bool, _check_number, _decayed_grad


def _betas(group: dict[str, Any]) -> None:
    """Validate ``group["betas"]`` as a pair in [0, 1) (a list after a JSON round trip becomes a tuple)."""
    betas = group["betas"]
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r:.60}")
    group["betas"] = tuple(betas)
    for i, beta in enumerate(group["betas"]):
        _check_number({f"betas[{i}]": beta}, f"betas[{i}]", high=1.0)


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
        _betas(group)
        _check_number(group, "eps")
        _check_number(group, "weight_decay")
        _check_bool(group, "maximize")

    def _state_keys(self, group: dict[str, Any]) -> frozenset[str]:
        return frozenset({"step", "exp_avg", "exp_inf"})

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Adamax update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, eps = float(group["lr"]), float(group["eps"])
            beta1, beta2 = (float(b) for b in group["betas"])
            weight_decay, maximize = float(group["weight_decay"]), bool(group["maximize"])
            for p, g, d, s in self._updates(group):
                st = self.state.get(p)
                if st is None:
                    st = self.state[p] = {"step": 0, "exp_avg": np.zeros_like(d), "exp_inf": np.zeros_like(d)}
                st["step"] = t = st["step"] + 1
                if weight_decay != 0 or maximize:
                    g = _decayed_grad(g, d, weight_decay, maximize)
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
