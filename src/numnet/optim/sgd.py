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
    _decayed_grad,
    _grad_shape_error,
    required,
)
from numnet.tensor import Tensor


def plain_update(values: np.ndarray, grads: np.ndarray, rate: np.ndarray, scratch: np.ndarray) -> None:
    """SGD's plain update in place, ``p ← p − lr·g``: ``s = g·lr`` into ``scratch`` (the gradient is never
    written), then ``values −= s``. ``rate`` is lr as a 0-d array of the dtype. One formula for the
    per-parameter step and for ``compile_step``'s update of a flat buffer (``numnet.compiled._FlatSGD``), so
    the two give the same numbers bit for bit."""
    np.multiply(grads, rate, scratch)
    values -= scratch


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
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
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

    def init_state(self, group: dict[str, Any], param: np.ndarray, grad: np.ndarray) -> dict[str, Any]:
        # b ← g on the first step (a copy: the buffer must own its memory); no state without momentum
        if group["momentum"] == 0:
            return {}
        return {"momentum_buffer": np.array(grad, dtype=param.dtype, copy=True)}

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One SGD update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = None if closure is None else self._run_closure(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            if self.is_plain(group):
                self._plain_step(group["params"], lr)
            else:
                self._full_step(group, lr)
        return loss

    @staticmethod
    def is_plain(group: dict[str, Any]) -> bool:
        """Whether ``group`` takes the plain update p ← p − lr·g: no momentum, weight decay or maximize (so no
        state, and no Nesterov, which needs momentum)."""
        return group["momentum"] == 0 and group["weight_decay"] == 0 and not group["maximize"]

    def _plain_step(self, params: list[Tensor], lr: float) -> None:
        """p ← p − lr·g for the default options: no per-parameter options to look at, no state."""
        work = self._work
        ndarray = np.ndarray
        # lr as a 0-d array of the gradient's dtype: the same number a Python float becomes in lr·g (NEP 50
        # casts it to the array's dtype), and NumPy takes it without resolving a Python scalar's type at every
        # call (about 0.4 µs a call on a tiny array)
        rate = None
        for p in params:
            g = p.grad
            if g is None:
                continue
            if type(g) is not ndarray:  # a .grad held as a Tensor: its array
                g = g.data
            d = p.data
            s = work.get(p)
            if s is None or s.shape != d.shape or s.dtype is not d.dtype:
                if g.shape != d.shape:
                    raise _grad_shape_error(type(self).__name__, g, d)
                s = self._scratch(p, d)
            elif g.shape != d.shape:
                raise _grad_shape_error(type(self).__name__, g, d)
            if rate is None or rate.dtype is not g.dtype:
                rate = np.array(lr, dtype=g.dtype)
            plain_update(d, g, rate, s)

    def _full_step(self, group: dict[str, Any], lr: float) -> None:
        """The documented algorithm with momentum, dampening, Nesterov, weight decay and maximize."""
        momentum = float(group["momentum"])
        one_minus_dampening = 1.0 - float(group["dampening"])
        weight_decay = float(group["weight_decay"])
        nesterov = bool(group["nesterov"])
        maximize = bool(group["maximize"])
        state = self.state
        for p, g, d, s in self._updates(group):
            if weight_decay != 0 or maximize:
                g = _decayed_grad(g, d, weight_decay, maximize)  # g ← ±g + λ·p (a new array)
            if momentum != 0:
                if p not in state:
                    buf = self._state_of(p, group, d, g)["momentum_buffer"]  # b ← g on the first step
                else:
                    # b ← μ·b + (1 − dampening)·g
                    buf = state[p]["momentum_buffer"]
                    buf *= momentum
                    if one_minus_dampening == 1.0:
                        buf += g
                    else:
                        np.multiply(g, one_minus_dampening, out=s)
                        buf += s
                if nesterov:
                    # g ← g + μ·b
                    np.multiply(buf, momentum, out=s)
                    s += g
                    g = s
                else:
                    g = buf
            # p ← p − lr·g
            np.multiply(g, lr, out=s)
            d -= s
