"""NAdam: Adam with Nesterov momentum and a warming-up momentum schedule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from numnet.optim.adam import _adam_grad, _check_betas, _update_moments
from numnet.optim.optimizer import Optimizer, ParamsT, _check_bool, _check_number


class NAdam(Optimizer):
    """NAdam (Dozat, 2016), as ``torch.optim.NAdam``.

    For each parameter p with gradient g, at step t = 1, 2, … (m, v start at 0, Πμ at 1; ψ = momentum_decay):

        g     ← −g                                 if maximize
        p     ← p·(1 − lr·λ)                       if decoupled_weight_decay (NAdamW), else g ← g + λ·p
        μₜ    ← β₁·(1 − ½·0.96^(t·ψ)),  μₜ₊₁ likewise at t + 1;  Πμ ← Πμ·μₜ   (mu_product)
        m     ← β₁·m + (1 − β₁)·g
        v     ← β₂·v + (1 − β₂)·g²
        d     ← √(v/(1 − β₂ᵗ)) + eps
        p     ← p − lr·(1 − μₜ)/(1 − Πμ) · g/d − lr·μₜ₊₁/(1 − Πμ·μₜ₊₁) · m/d

    Args: ``lr`` (2e-3), ``betas`` ((0.9, 0.999)), ``eps`` (1e-8), ``weight_decay`` (0), ``momentum_decay``
    (4e-3), ``decoupled_weight_decay`` (False), ``maximize``.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        _check_number(group, "lr")
        _check_betas(group)
        _check_number(group, "eps")
        _check_number(group, "weight_decay")
        _check_number(group, "momentum_decay")
        _check_bool(group, "decoupled_weight_decay")
        _check_bool(group, "maximize")

    def init_state(self, group: dict[str, Any], param: np.ndarray, grad: np.ndarray) -> dict[str, Any]:
        # m = v = 0, Πμ = 1, no step taken yet
        return {
            "step": 0,
            "mu_product": 1.0,
            "exp_avg": np.zeros_like(param),
            "exp_avg_sq": np.zeros_like(param),
        }

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One NAdam update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, eps = float(group["lr"]), float(group["eps"])
            beta1, beta2 = (float(b) for b in group["betas"])
            weight_decay, psi = float(group["weight_decay"]), float(group["momentum_decay"])
            decoupled, maximize = bool(group["decoupled_weight_decay"]), bool(group["maximize"])
            for p, g, d, s in self._updates(group):
                st = self._state_of(p, group, d, g)
                st["step"] = t = st["step"] + 1
                # p ← p·(1 − lr·λ) if decoupled, else g ← ±g + λ·p
                g = _adam_grad(g, d, lr, weight_decay, decoupled, maximize)
                mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
                st["mu_product"] = mu_product = st["mu_product"] * mu
                mu_product_next = mu_product * mu_next
                # m ← m + (1 − β₁)·(g − m);  v ← β₂·v + (1 − β₂)·g²
                m, v = st["exp_avg"], st["exp_avg_sq"]
                _update_moments(m, v, g, s, beta1, beta2)
                # denominator √(v/(1 − β₂ᵗ)) + eps  (in s)
                np.divide(v, 1 - beta2**t, out=s)
                np.sqrt(s, out=s)
                s += eps
                d -= (lr * (1.0 - mu) / (1.0 - mu_product)) * (g / s)
                d -= (lr * mu_next / (1.0 - mu_product_next)) * (m / s)
        return loss
