"""Learning-rate schedulers, as ``torch.optim.lr_scheduler``.

A scheduler adjusts ``group["lr"]`` of its optimizer's parameter groups. Call ``scheduler.step()`` once per
epoch, after the epoch's ``optimizer.step()`` calls (``ReduceLROnPlateau.step(metric)`` takes the validation
metric). Creating a scheduler records each group's starting rate as ``group["initial_lr"]`` and sets the
rate for epoch 0.

The rates follow PyTorch's recursions step for step (``StepLR`` multiplies the current rate by ``gamma`` at
each boundary, ``CosineAnnealingLR`` uses PyTorch's recursive cosine form, ...), so a run gives the same
sequence of floats as ``torch.optim.lr_scheduler``; ``LambdaLR`` is the closed form ``base_lr · λ(epoch)``.

``state_dict()`` returns plain numbers, lists and dicts (JSON-friendly); ``load_state_dict`` restores it.
"""

from __future__ import annotations

import math
import numbers
import types
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from numnet.optim.optimizer import Optimizer

__all__ = [
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "MultiStepLR",
    "ReduceLROnPlateau",
    "StepLR",
]


def _real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_optimizer(name: str, optimizer: Any) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"{name}: optimizer must be a numnet.optim.Optimizer (e.g. SGD(model.parameters(), lr=0.1)), "
            f"got {type(optimizer).__name__}"
        )


def _check_positive_int(name: str, key: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name}: {key} must be a positive integer, got {value!r}")


def _check_real(name: str, key: str, value: Any, low: float | None = None) -> None:
    if not _real(value) or not math.isfinite(value):
        raise TypeError(f"{name}: {key} must be a finite number, got {value!r}")
    if low is not None and value < low:
        raise ValueError(f"{name}: {key} must be >= {low}, got {value}")


class LRScheduler:
    """Base class of the epoch-based schedulers.

    Subclasses implement ``get_lr()``: the new rate of every group, computed after ``last_epoch`` has been
    advanced. ``last_epoch=-1`` (default) starts a schedule; another value resumes one and needs
    ``initial_lr`` in every group (as left there by the scheduler that was saved).
    """

    #: Attributes that are not part of ``state_dict()``.
    _not_saved: frozenset[str] = frozenset({"optimizer", "_is_initial"})

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        name = type(self).__name__
        _check_optimizer(name, optimizer)
        if isinstance(last_epoch, bool) or not isinstance(last_epoch, numbers.Integral) or last_epoch < -1:
            raise ValueError(f"{name}: last_epoch must be an integer >= -1, got {last_epoch!r}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise ValueError(
                        f"{name}: resuming with last_epoch={last_epoch} needs 'initial_lr' in every "
                        f"parameter group, but group {i} has none; load the optimizer's saved state first, "
                        "or start with last_epoch=-1"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch: int = int(last_epoch)
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The rate of every group for epoch ``last_epoch`` (called by ``step``)."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set every group's ``lr`` for it."""
        self._check_groups()
        self._step_count += 1
        self.last_epoch += 1
        values = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The rates the last ``step()`` set, one per parameter group."""
        return list(self._last_lr)

    def _check_groups(self) -> None:
        n = len(self.optimizer.param_groups)
        if len(self.base_lrs) != n:
            raise ValueError(
                f"{type(self).__name__}: the optimizer has {n} parameter groups but the scheduler was made "
                f"for {len(self.base_lrs)}; create the scheduler after adding all parameter groups"
            )

    # --- checkpoints -------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state (every attribute but the optimizer): plain numbers, lists and dicts."""
        return {k: _plain(v) for k, v in self.__dict__.items() if k not in self._not_saved}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state returned by ``state_dict()`` (of a scheduler of the same class)."""
        name = type(self).__name__
        if not isinstance(state_dict, dict):
            raise ValueError(f"{name}.load_state_dict: expected a dict, got {type(state_dict).__name__}")
        known = set(self.state_dict())
        unknown = sorted(set(state_dict) - known)
        if unknown:
            raise ValueError(
                f"{name}.load_state_dict: unexpected entries {unknown}; was the state saved from another "
                f"scheduler class than {name}?"
            )
        if "base_lrs" in state_dict and len(state_dict["base_lrs"]) != len(self.optimizer.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the saved state is for {len(state_dict['base_lrs'])} parameter "
                f"groups but the optimizer has {len(self.optimizer.param_groups)}"
            )
        for key, value in state_dict.items():
            setattr(self, key, _plain(value))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, last_lr={self._last_lr})"


def _plain(value: Any) -> Any:
    """A copy of a saved value with containers as plain lists/dicts."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs: lr = base_lr · γ^⌊epoch / step_size⌋.

    Computed as PyTorch does, recursively: at each epoch that is a multiple of ``step_size``, lr ← lr·γ.
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        _check_positive_int("StepLR", "step_size", step_size)
        _check_real("StepLR", "gamma", gamma, low=0.0)
        self.step_size = int(step_size)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        # lr ← lr·γ at epochs step_size, 2·step_size, ...; unchanged otherwise
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]


class MultiStepLR(LRScheduler):
    """Multiply the rate by ``gamma`` at each epoch listed in ``milestones``.

    lr = base_lr · γ^(number of milestones ≤ epoch); recursively, lr ← lr·γ^k at a milestone listed k times.
    """

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        try:
            milestones = list(milestones)
        except TypeError as exc:
            raise TypeError(f"MultiStepLR: milestones must be a list of epochs, got {milestones!r}") from exc
        for m in milestones:
            if isinstance(m, bool) or not isinstance(m, numbers.Integral) or m < 0:
                raise ValueError(f"MultiStepLR: milestones must be non-negative integers, got {m!r}")
        _check_real("MultiStepLR", "gamma", gamma, low=0.0)
        self.milestones: Counter[int] = Counter(int(m) for m in milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        # lr ← lr·γ^k at a milestone (k = how often it is listed); unchanged elsewhere
        if self.last_epoch not in self.milestones:
            return [group["lr"] for group in self.optimizer.param_groups]
        k = self.milestones[self.last_epoch]
        return [group["lr"] * self.gamma**k for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["milestones"] = {int(k): v for k, v in self.milestones.items()}
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        # JSON turns the integer keys into strings; turn them back.
        self.milestones = Counter({int(k): int(v) for k, v in dict(self.milestones).items()})


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch: lr = base_lr · γ^epoch (recursively lr ← lr·γ)."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        _check_real("ExponentialLR", "gamma", gamma, low=0.0)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        # lr ← lr·γ (except when the scheduler is created)
        if self._is_initial:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from the base rate to ``eta_min`` over ``T_max`` epochs (SGDR without restarts).

    Closed form: lr(t) = η_min + (base_lr − η_min)·(1 + cos(π·t / T_max)) / 2. Like PyTorch, ``step()``
    computes it recursively from the current rate (so changes made to ``lr`` by others are respected):

        lr(t) = η_min + (lr(t−1) − η_min) · (1 + cos(π·t/T_max)) / (1 + cos(π·(t−1)/T_max))

    and, at t − 1 − T_max ≡ 0 (mod 2·T_max), where that ratio is 0/0, lr(t) = lr(t−1) + (base_lr −
    η_min)·(1 − cos(π/T_max)) / 2. Past ``T_max`` the rate rises again (the cosine continues).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        _check_positive_int("CosineAnnealingLR", "T_max", T_max)
        _check_real("CosineAnnealingLR", "eta_min", eta_min, low=0.0)
        self.T_max = int(T_max)
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return [group["lr"] for group in groups]
        if self._step_count == 1 and t > 0:
            # resuming at epoch t: the closed form
            return [
                eta_min + (base_lr - eta_min) * (1 + math.cos(t * math.pi / T)) / 2
                for base_lr in self.base_lrs
            ]
        if (t - 1 - T) % (2 * T) == 0:
            # the trough of the cosine: lr ← lr + (base_lr − η_min)·(1 − cos(π/T)) / 2
            return [
                group["lr"] + (base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
                for base_lr, group in zip(self.base_lrs, groups, strict=True)
            ]
        # lr ← η_min + (lr − η_min)·(1 + cos(πt/T)) / (1 + cos(π(t−1)/T))
        return [
            (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T)) * (group["lr"] - eta_min)
            + eta_min
            for group in groups
        ]


class LambdaLR(LRScheduler):
    """Set the rate to ``base_lr · lr_lambda(epoch)``.

    ``lr_lambda`` is a function of the epoch (an int) returning a factor, or a list with one function per
    parameter group. ``state_dict()`` cannot save functions: it saves ``None`` for plain functions and
    lambdas and the ``__dict__`` of callable objects (as PyTorch does); rebuild the scheduler with the same
    functions before loading.
    """

    _not_saved = frozenset({"optimizer", "_is_initial", "lr_lambdas"})

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        _check_optimizer("LambdaLR", optimizer)
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(
                    f"LambdaLR: expected {n} lr_lambdas (one per parameter group), got {len(lr_lambda)}"
                )
            lambdas = list(lr_lambda)
        else:
            lambdas = [lr_lambda] * n
        for fn in lambdas:
            if not callable(fn):
                raise TypeError(
                    f"LambdaLR: lr_lambda must be a function of the epoch, got {type(fn).__name__}"
                )
        self.lr_lambdas: list[Callable[[int], float]] = lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        # lr = base_lr · λ(epoch)
        epoch = self.last_epoch
        return [base_lr * fn(epoch) for fn, base_lr in zip(self.lr_lambdas, self.base_lrs, strict=True)]

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["lr_lambdas"] = [
            None if isinstance(fn, types.FunctionType) else dict(getattr(fn, "__dict__", {}))
            for fn in self.lr_lambdas
        ]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        saved_lambdas = state.pop("lr_lambdas", None)
        super().load_state_dict(state)
        if saved_lambdas is not None:
            if len(saved_lambdas) != len(self.lr_lambdas):
                raise ValueError(
                    f"LambdaLR.load_state_dict: the saved state has {len(saved_lambdas)} lr_lambdas, "
                    f"this scheduler {len(self.lr_lambdas)}"
                )
            for fn, saved in zip(self.lr_lambdas, saved_lambdas, strict=True):
                if saved is not None:
                    fn.__dict__.update(saved)


class ReduceLROnPlateau(LRScheduler):
    """Reduce the rate by ``factor`` when a metric has stopped improving for ``patience`` epochs.

    ``step(metric)`` once per epoch with the validation metric. The metric improves when (``mode="min"``)
    it is below best·(1 − threshold) (``threshold_mode="rel"``) or best − threshold (``"abs"``); for
    ``mode="max"``, above best·(1 + threshold) or best + threshold. After more than ``patience`` epochs in a
    row without improvement, every group's rate becomes max(lr·factor, min_lr) (unless that changes it by
    less than ``eps``), and the next ``cooldown`` epochs do not count as bad.

    Unlike the other schedulers it does not set ``initial_lr`` (as in PyTorch).
    """

    _not_saved = frozenset({"optimizer"})

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0,
        eps: float = 1e-8,
    ) -> None:
        name = "ReduceLROnPlateau"
        _check_optimizer(name, optimizer)
        _check_real(name, "factor", factor, low=0.0)
        if factor >= 1.0:
            raise ValueError(f"{name}: factor must be < 1 (the rate is multiplied by it), got {factor}")
        if isinstance(patience, bool) or not isinstance(patience, numbers.Integral) or patience < 0:
            raise ValueError(f"{name}: patience must be a non-negative integer, got {patience!r}")
        if isinstance(cooldown, bool) or not isinstance(cooldown, numbers.Integral) or cooldown < 0:
            raise ValueError(f"{name}: cooldown must be a non-negative integer, got {cooldown!r}")
        _check_real(name, "threshold", threshold, low=0.0)
        _check_real(name, "eps", eps, low=0.0)
        if mode not in ("min", "max"):
            raise ValueError(f"{name}: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"{name}: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(
                    f"{name}: expected {n} min_lr values (one per parameter group), got {len(min_lr)}"
                )
            for v in min_lr:
                _check_real(name, "min_lr", v, low=0.0)
            self.default_min_lr: float | None = None
            self.min_lrs = list(min_lr)
        else:
            _check_real(name, "min_lr", min_lr, low=0.0)
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * n
        self.optimizer = optimizer
        self.factor = factor
        self.patience = int(patience)
        self.cooldown = int(cooldown)
        self.eps = eps
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self._reset()

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def is_better(self, a: float, best: float) -> bool:
        """Whether metric ``a`` improves on ``best`` by more than the threshold."""
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, metrics: Any = None) -> None:  # type: ignore[override]
        """Record this epoch's metric, and reduce the rates if it has not improved for too long."""
        if metrics is None:
            raise TypeError(
                "ReduceLROnPlateau.step(metric): pass the epoch's validation metric (e.g. the loss)"
            )
        try:
            current = float(metrics.item() if hasattr(metrics, "item") else metrics)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"ReduceLROnPlateau.step: the metric must be a number, got {metrics!r:.60}"
            ) from exc
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise ValueError(
                    f"ReduceLROnPlateau: the optimizer has {len(groups)} parameter groups but min_lr lists "
                    f"{len(self.min_lrs)}; set scheduler.min_lrs to one value per group"
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs, strict=True):
            # lr ← max(lr·factor, min_lr), unless that changes it by no more than eps
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if isinstance(state_dict, dict):
            mode = state_dict.get("mode", self.mode)
            threshold_mode = state_dict.get("threshold_mode", self.threshold_mode)
            if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
                raise ValueError(
                    f"ReduceLROnPlateau.load_state_dict: the saved mode {mode!r} / threshold_mode "
                    f"{threshold_mode!r} is not 'min'/'max' / 'rel'/'abs'"
                )
        super().load_state_dict(state_dict)
