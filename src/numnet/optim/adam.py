"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay."""

from __future__ import annotations

import math
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


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2014), as ``torch.optim.Adam``.

    For each parameter p with gradient g, at step t = 1, 2, ... (PyTorch's documented algorithm; m, v start
    at 0):

        g     ← −g                               if maximize
        g     ← g + λ·p                          if weight_decay λ ≠ 0   (Adam: L2 penalty in the gradient)
        p     ← p·(1 − lr·λ)                     instead, for AdamW      (decoupled weight decay)
        m     ← β₁·m + (1 − β₁)·g                (exp_avg)
        v     ← β₂·v + (1 − β₂)·g²               (exp_avg_sq)
        v̂max  ← max(v̂max, v);  use v̂max for v   if amsgrad (max_exp_avg_sq)
        p     ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate (default 1e-3).
        betas: (β₁, β₂), decay rates of the moment estimates (default (0.9, 0.999)).
        eps: added to the denominator for numerical stability (default 1e-8).
        weight_decay: λ (default 0); an L2 penalty for Adam, decoupled decay for AdamW.
        amsgrad: use the AMSGrad variant (the running maximum of v).
        maximize: maximize the objective instead of minimizing it.
    """

    #: AdamW sets this: weight decay multiplies the parameter instead of entering the gradient.
    _decoupled_weight_decay = False

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize
        )
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        _check_number(group, "lr")
        _check_betas(group)
        _check_number(group, "eps")
        _check_number(group, "weight_decay")
        _check_bool(group, "amsgrad")
        _check_bool(group, "maximize")

    def init_state(self, group: dict[str, Any], param: np.ndarray, grad: np.ndarray) -> dict[str, Any]:
        # m = v = 0 (and v̂max = 0 with amsgrad), no step taken yet
        state = {"step": 0, "exp_avg": np.zeros_like(param), "exp_avg_sq": np.zeros_like(param)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(param)
        return state

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Adam update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._run_closure(closure)
        decoupled = self._decoupled_weight_decay
        for group in self.param_groups:
            lr = float(group["lr"])
            beta1, beta2 = (float(b) for b in group["betas"])
            one_minus_beta1 = 1.0 - beta1
            one_minus_beta2 = 1.0 - beta2
            eps = float(group["eps"])
            weight_decay = float(group["weight_decay"])
            amsgrad = bool(group["amsgrad"])
            maximize = bool(group["maximize"])
            for p, g, d, s in self._updates(group):
                st = self._state_of(p, group, d, g)
                st["step"] = t = st["step"] + 1
                # p ← p·(1 − lr·λ) (AdamW), or g ← ±g + λ·p (Adam: L2 penalty, a new array)
                g = _adam_grad(g, d, lr, weight_decay, decoupled, maximize)

                # m ← β₁·m + (1 − β₁)·g
                exp_avg = st["exp_avg"]
                exp_avg *= beta1
                np.multiply(g, one_minus_beta1, out=s)
                exp_avg += s
                # v ← β₂·v + (1 − β₂)·g²
                exp_avg_sq = st["exp_avg_sq"]
                exp_avg_sq *= beta2
                np.multiply(g, g, out=s)
                s *= one_minus_beta2
                exp_avg_sq += s
                if amsgrad:
                    # v̂max ← max(v̂max, v)
                    v = st["max_exp_avg_sq"]
                    np.maximum(v, exp_avg_sq, out=v)
                else:
                    v = exp_avg_sq

                # bias corrections 1 − βᵗ, in Python floats (no float64 array may touch a float32 parameter)
                step_size = lr / (1.0 - beta1**t)
                bias_correction2_sqrt = math.sqrt(1.0 - beta2**t)
                # p ← p − step_size · m / (√v / √(1 − β₂ᵗ) + eps)
                np.sqrt(v, out=s)
                s /= bias_correction2_sqrt
                s += eps
                np.divide(exp_avg, s, out=s)
                s *= step_size
                d -= s
        return loss


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``: Adam with decoupled weight decay.

    The decay multiplies the parameter before the Adam update, p ← p·(1 − lr·λ), instead of adding λ·p to
    the gradient (where the adaptive denominator would rescale it). Same arguments as ``Adam``, with
    ``weight_decay`` defaulting to 0.01.
    """

    _decoupled_weight_decay = True

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize
        )


# ---------------------------------------------------------------------------------------------------------
# Helpers the Adam family (Adam, NAdam, RAdam, Adamax) shares
# ---------------------------------------------------------------------------------------------------------


def _check_betas(group: dict[str, Any]) -> None:
    """Validate ``group["betas"]`` as a pair in [0, 1), stored as a tuple (a list after a JSON round trip is
    accepted)."""
    betas = group["betas"]
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r:.60}")
    group["betas"] = tuple(betas)
    for i, beta in enumerate(group["betas"]):
        _check_number({f"betas[{i}]": beta}, f"betas[{i}]", high=1.0)


def _adam_grad(
    g: np.ndarray, d: np.ndarray, lr: float, weight_decay: float, decoupled: bool, maximize: bool
) -> np.ndarray:
    """The gradient an Adam-style update uses, with weight decay applied as the group asks:

        p ← p·(1 − lr·λ)        if decoupled (AdamW-style; ``d`` is scaled in place)
        g ← ±g + λ·p            otherwise (L2 penalty; a new array, ``p.grad`` is never written)

    ``g`` itself is returned when neither weight decay nor ``maximize`` changes it.
    """
    if decoupled:
        if weight_decay != 0:
            d *= 1.0 - lr * weight_decay
        weight_decay = 0.0
    if weight_decay != 0 or maximize:
        return _decayed_grad(g, d, weight_decay, maximize)
    return g


def _update_moments(
    m: np.ndarray, v: np.ndarray, g: np.ndarray, s: np.ndarray, beta1: float, beta2: float
) -> None:
    """The two moment estimates, in place (``s`` is scratch):

    m ← m + (1 − β₁)·(g − m)     (PyTorch's lerp form of β₁·m + (1 − β₁)·g)
    v ← β₂·v + (1 − β₂)·g²
    """
    np.subtract(g, m, out=s)
    s *= 1 - beta1
    m += s
    v *= beta2
    np.multiply(g, g, out=s)
    s *= 1 - beta2
    v += s
