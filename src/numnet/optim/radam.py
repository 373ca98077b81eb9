"""RAdam: Adam whose adaptive step is switched on gradually, as the variance estimate becomes reliable."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from numnet.optim.adam import _adam_grad, _check_betas, _update_moments
from numnet.optim.optimizer import Optimizer, ParamsT, _check_bool, _check_number


class RAdam(Optimizer):
    """Rectified Adam (Liu et al., 2019), as ``torch.optim.RAdam``.

    For each parameter p with gradient g, at step t = 1, 2, … (m, v start at 0):

        g     ← −g                          if maximize
        p     ← p·(1 − lr·λ)                if decoupled_weight_decay, else g ← g + λ·p
        m     ← β₁·m + (1 − β₁)·g;   v ← β₂·v + (1 − β₂)·g²
        ρ∞    = 2/(1 − β₂) − 1;   ρₜ = ρ∞ − 2t·β₂ᵗ/(1 − β₂ᵗ)
        if ρₜ > 5:  r = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ))
                    p ← p − lr · m/(1 − β₁ᵗ) · r · √(1 − β₂ᵗ)/(√v + eps)
        else:       p ← p − lr · m/(1 − β₁ᵗ)            (plain momentum while the variance is unreliable)

    Args: ``lr`` (1e-3), ``betas`` ((0.9, 0.999)), ``eps`` (1e-8), ``weight_decay`` (0),
    ``decoupled_weight_decay`` (False), ``maximize``.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        _check_number(group, "lr")
        _check_betas(group)
        _check_number(group, "eps")
        _check_number(group, "weight_decay")
        _check_bool(group, "decoupled_weight_decay")
        _check_bool(group, "maximize")

    def init_state(self, group: dict[str, Any], param: np.ndarray, grad: np.ndarray) -> dict[str, Any]:
        # m = v = 0, no step taken yet
        return {"step": 0, "exp_avg": np.zeros_like(param), "exp_avg_sq": np.zeros_like(param)}

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One RAdam update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, eps = float(group["lr"]), float(group["eps"])
            beta1, beta2 = (float(b) for b in group["betas"])
            weight_decay = float(group["weight_decay"])
            decoupled, maximize = bool(group["decoupled_weight_decay"]), bool(group["maximize"])
            rho_inf = 2 / (1 - beta2) - 1
            for p, g, d, s in self._updates(group):
                st = self._state_of(p, group, d, g)
                st["step"] = t = st["step"] + 1
                # p ← p·(1 − lr·λ) if decoupled, else g ← ±g + λ·p
                g = _adam_grad(g, d, lr, weight_decay, decoupled, maximize)
                # m ← m + (1 − β₁)·(g − m);  v ← β₂·v + (1 − β₂)·g²
                m, v = st["exp_avg"], st["exp_avg_sq"]
                _update_moments(m, v, g, s, beta1, beta2)
                bias_correction1 = 1 - beta1**t
                bias_correction2 = 1 - beta2**t
                rho_t = rho_inf - 2 * t * beta2**t / bias_correction2
                corrected = m / bias_correction1
                if rho_t > 5.0:
                    rect = math.sqrt(
                        (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
                    )
                    np.sqrt(v, out=s)
                    s += eps
                    np.divide(
                        math.sqrt(bias_correction2), s, out=s
                    )  # the adaptive rate √(1 − β₂ᵗ)/(√v + eps)
                    d -= corrected * lr * s * rect
                else:
                    d -= corrected * lr
        return loss
