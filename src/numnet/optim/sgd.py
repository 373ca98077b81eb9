"""Stochastic gradient descent, with optional momentum (heavy-ball or Nesterov) and weight decay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from numnet.optim.optimizer import (
    Optimizer,
    ParamsT,
    _check_bool,
    _check_number,
    required,
)


class SGD(Optimizer):
    """Stochastic gradient descent, as ``torch.optim.SGD``.

    For each parameter p with gradient g, step t (PyTorch's documented algorithm):

        g ← −g                              if maximize
        g ← g + λ·p                         if weight_decay λ ≠ 0
        b ← g                               on the first step,   if momentum μ ≠ 0
        b ← μ·b + (1 − dampening)·g         afterwards
        g ← g + μ·b  (nesterov)   or   g ← b
        p ← p − lr·g

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate (required).
        momentum: momentum factor μ (default 0: plain SGD).
        dampening: dampening of the momentum (default 0).
        weight_decay: L2 penalty λ added to the gradient (default 0).
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening = 0).
        maximize: maximize the objective instead of minimizing it.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = required,  # type: ignore[assignment]
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        _check_number(group, "lr")
        _check_number(group, "momentum")
        _check_number(group, "dampening")
        _check_number(group, "weight_decay")
        _check_bool(group, "nesterov")
        _check_bool(group, "maximize")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "nesterov=True needs momentum > 0 and dampening = 0, got "
                f"momentum={group['momentum']}, dampening={group['dampening']}"
            )

    def _state_keys(self, group: dict[str, Any]) -> frozenset[str]:
        return frozenset({"momentum_buffer"}) if group["momentum"] != 0 else frozenset()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One SGD update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._run_closure(closure)
        state = self.state
        for group in self.param_groups:
            lr = float(group["lr"])
            momentum = float(group["momentum"])
            one_minus_dampening = 1.0 - float(group["dampening"])
            weight_decay = float(group["weight_decay"])
            nesterov = bool(group["nesterov"])
            maximize = bool(group["maximize"])
            for p, g, d, s in self._updates(group):

                # g_eff = ±g + λ·p, written into the scratch array (p.grad is never modified)
                if weight_decay != 0:
                    np.multiply(d, weight_decay, out=s)
                    if maximize:
                        s -= g
                    else:
                        s += g
                    g = s
                elif maximize:
                    np.negative(g, out=s)
                    g = s

                if momentum != 0:
                    st = state.get(p)
                    if st is None:
                        # b ← g on the first step (a copy: the buffer must own its memory)
                        buf = np.array(g, dtype=d.dtype, copy=True)
                        state[p] = {"momentum_buffer": buf}
                    else:
                        # b ← μ·b + (1 − dampening)·g
                        buf = st["momentum_buffer"]
                        buf *= momentum
                        if one_minus_dampening == 1.0:
                            buf += g
                        else:
                            np.multiply(g, one_minus_dampening, out=s)
                            buf += s
                    if nesterov:
                        # g ← g + μ·b
                        if g is s:  # the scratch already holds ±g + λ·p: this sum needs one more array
                            g = np.multiply(buf, momentum)
                            g += s
                        else:  # g is p.grad, which is only read
                            np.multiply(buf, momentum, out=s)
                            s += g
                            g = s
                    else:
                        g = buf

                # p ← p − lr·g
                np.multiply(g, lr, out=s)
                d -= s
        return loss
