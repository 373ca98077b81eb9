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

import bisect
import math
import numbers
import types
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from numnet.optim.optimizer import Optimizer

__all__ = [
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
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
        self._initial_step()

    def _initial_step(self) -> None:
        """The step that sets the rate of the first epoch (at construction, or when ``SequentialLR`` starts
        this scheduler)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The rate of every group for epoch ``last_epoch`` (called by ``step``)."""
        raise NotImplementedError

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch and set every group's ``lr`` for it.

        ``step(epoch)`` (deprecated in PyTorch, used by ``SequentialLR`` at its milestones) jumps to ``epoch``
        instead, with the closed form of the schedule where it has one.
        """
        self._check_groups()
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = int(epoch)
            values = self._closed_form_lr() if self._has_closed_form else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    #: Whether ``_closed_form_lr`` gives the rate of any epoch directly (PyTorch's ``_get_closed_form_lr``).
    _has_closed_form = False

    def _closed_form_lr(self) -> list[float]:
        raise NotImplementedError

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

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
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

    _has_closed_form = True

    def _closed_form_lr(self) -> list[float]:
        # lr = base_lr · γ^⌊epoch / step_size⌋
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the rate by ``gamma`` at each epoch listed in ``milestones``.

    lr = base_lr · γ^(number of milestones ≤ epoch); recursively, lr ← lr·γ^k at a milestone listed k times.
    """

    def __init__(
        self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
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

    _has_closed_form = True

    def _closed_form_lr(self) -> list[float]:
        # lr = base_lr · γ^(number of milestones ≤ epoch, with repeats)
        k = bisect.bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [base_lr * self.gamma**k for base_lr in self.base_lrs]

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

    _has_closed_form = True

    def _closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]  # lr = base_lr · γ^epoch


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

    _has_closed_form = True

    def _closed_form_lr(self) -> list[float]:
        # lr = η_min + (base_lr − η_min)·(1 + cos(π·t/T_max)) / 2
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        return [
            eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * t / T)) / 2 for base_lr in self.base_lrs
        ]


class LambdaLR(LRScheduler):
    """Set the rate to ``base_lr · lr_lambda(epoch)``.

    ``lr_lambda`` is a function of the epoch (an int) returning a factor, or a list with one function per
    parameter group. ``state_dict()`` cannot save functions: it saves ``None`` for plain functions and
    lambdas and the ``__dict__`` of callable objects (as PyTorch does); rebuild the scheduler with the same
    functions before loading.
    """

    _not_saved = frozenset({"optimizer", "_is_initial", "lr_lambdas"})

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        name = type(self).__name__
        _check_optimizer(name, optimizer)
        lambdas = _one_per_group(name, "lr_lambdas", optimizer, lr_lambda)
        for fn in lambdas:
            if not callable(fn):
                raise TypeError(f"{name}: lr_lambda must be a function of the epoch, got {type(fn).__name__}")
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
                    f"{type(self).__name__}.load_state_dict: the saved state has {len(saved_lambdas)} "
                    f"lr_lambdas, this scheduler {len(self.lr_lambdas)}"
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
        self.min_lrs = _one_per_group(name, "min_lr values", optimizer, min_lr)
        for v in self.min_lrs:
            _check_real(name, "min_lr", v, low=0.0)
        self.default_min_lr: float | None = None if isinstance(min_lr, (list, tuple)) else min_lr
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


# ---------------------------------------------------------------------------------------------------------
# Warm-up, decay and composite schedules (PyTorch's recursive forms, step for step)
# ---------------------------------------------------------------------------------------------------------


def _check_nonneg_int(name: str, key: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name}: {key} must be a non-negative integer, got {value!r}")


class ConstantLR(LRScheduler):
    """Multiply the rate by ``factor`` for the first ``total_iters`` epochs, then restore it (a warm-up).

    Recursively: lr ← lr·factor at epoch 0, lr ← lr/factor at epoch ``total_iters``, unchanged otherwise.
    """

    def __init__(
        self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5, last_epoch: int = -1
    ) -> None:
        _check_real("ConstantLR", "factor", factor)
        if not 0 < factor <= 1:
            raise ValueError(f"ConstantLR: factor must lie in (0, 1], got {factor}")
        _check_nonneg_int("ConstantLR", "total_iters", total_iters)
        self.factor = factor
        self.total_iters = int(total_iters)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [group["lr"] * self.factor for group in groups]
        if self.last_epoch != self.total_iters:
            return [group["lr"] for group in groups]
        return [group["lr"] * (1.0 / self.factor) for group in groups]

    _has_closed_form = True

    def _closed_form_lr(self) -> list[float]:
        # lr = base_lr · (factor before total_iters, 1 from then on)
        on = self.last_epoch >= self.total_iters
        return [base_lr * (self.factor + on * (1 - self.factor)) for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the rate linearly from ``start_factor``·lr to ``end_factor``·lr over ``total_iters`` epochs.

    Closed form: lr(t) = base_lr·(s + (e − s)·min(t, T)/T). ``step()`` applies it recursively, as PyTorch:
    lr ← lr·s at t = 0; lr ← lr·(1 + (e − s) / (T·s + (t − 1)·(e − s))) for 0 < t ≤ T.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        _check_real("LinearLR", "start_factor", start_factor)
        _check_real("LinearLR", "end_factor", end_factor)
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must lie in (0, 1], got {start_factor}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: end_factor must lie in [0, 1], got {end_factor}")
        _check_positive_int("LinearLR", "total_iters", total_iters)
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = int(total_iters)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups, t = self.optimizer.param_groups, self.last_epoch
        if t == 0:
            return [group["lr"] * self.start_factor for group in groups]
        if t > self.total_iters:
            return [group["lr"] for group in groups]
        s, e = self.start_factor, self.end_factor
        ratio = 1.0 + (e - s) / (self.total_iters * s + (t - 1) * (e - s))
        return [group["lr"] * ratio for group in groups]

    _has_closed_form = True

    def _closed_form_lr(self) -> list[float]:
        s, e, T = self.start_factor, self.end_factor, self.total_iters
        return [base_lr * (s + (e - s) * min(T, self.last_epoch) / T) for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    """Decay the rate to 0 over ``total_iters`` epochs as a polynomial: lr(t) = base_lr·(1 − t/T)^power.

    Recursively (PyTorch): lr ← lr·((1 − t/T) / (1 − (t − 1)/T))^power for 0 < t ≤ T; unchanged after.
    """

    def __init__(
        self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1
    ) -> None:
        _check_positive_int("PolynomialLR", "total_iters", total_iters)
        _check_real("PolynomialLR", "power", power)
        self.total_iters = int(total_iters)
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups, t, T = self.optimizer.param_groups, self.last_epoch, self.total_iters
        if t == 0 or t > T:
            return [group["lr"] for group in groups]
        decay = ((1.0 - t / T) / (1.0 - (t - 1) / T)) ** self.power
        return [group["lr"] * decay for group in groups]

    _has_closed_form = True

    def _closed_form_lr(self) -> list[float]:
        T = self.total_iters
        return [base_lr * (1.0 - min(T, self.last_epoch) / T) ** self.power for base_lr in self.base_lrs]


class MultiplicativeLR(LambdaLR):
    """Multiply the rate by ``lr_lambda(epoch)`` at every epoch after the first: lr ← lr·λ(epoch).

    ``lr_lambda`` is one function or one per parameter group; saving works as for ``LambdaLR``.
    """

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch > 0:
            return [
                group["lr"] * fn(self.last_epoch) for fn, group in zip(self.lr_lambdas, groups, strict=True)
            ]
        return [group["lr"] for group in groups]


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing with warm restarts (SGDR): lr = η_min + (base_lr − η_min)·(1 + cos(π·T_cur/T_i))/2.

    T_cur counts epochs since the last restart; the first period is ``T_0`` epochs and each next one
    ``T_mult`` times longer. ``step(epoch)`` also takes a fractional epoch (``epoch + i / iters`` inside an
    epoch), as in PyTorch.
    """

    def __init__(
        self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        name = "CosineAnnealingWarmRestarts"
        _check_positive_int(name, "T_0", T_0)
        _check_positive_int(name, "T_mult", T_mult)
        _check_real(name, "eta_min", eta_min)
        self.T_0 = int(T_0)
        self.T_i = int(T_0)
        self.T_mult = int(T_mult)
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        cosine = (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        return [self.eta_min + (base_lr - self.eta_min) * cosine for base_lr in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """Advance one epoch (T_cur ← T_cur + 1, restarting at T_i), or jump to ``epoch``."""
        self._check_groups()
        self._step_count += 1
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur - self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if not _real(epoch) or epoch < 0:
                raise ValueError(f"CosineAnnealingWarmRestarts.step: epoch must be >= 0, got {epoch!r}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    # the restart n before epoch: T_0·(T_mult^n − 1)/(T_mult − 1) ≤ epoch
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult**n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


def _one_per_group(name: str, what: str, optimizer: Optimizer, value: Any) -> list[Any]:
    """``value`` as one entry per parameter group: a list or tuple of them (its length checked), or one
    value for all the groups. ``what`` names the entries in the error (``"lr_lambdas"``)."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{name}: expected {n} {what} (one per parameter group), got {len(value)}")
        return list(value)
    return [value] * n


def _per_group(name: str, key: str, optimizer: Optimizer, value: Any) -> list[float]:
    """One number per parameter group: a list of them, or one number for all."""
    values = _one_per_group(name, f"values of {key}", optimizer, value)
    for v in values:
        _check_real(name, key, v)
    return values


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2017), stepped once per *batch*: the rate rises from
    max_lr/``div_factor`` to ``max_lr`` over the first ``pct_start`` of ``total_steps``, then anneals to
    initial_lr/``final_div_factor``; momentum (or Adam's β₁) moves the opposite way between ``max_momentum``
    and ``base_momentum`` when ``cycle_momentum``. ``three_phase`` comes back down symmetrically to the
    initial rate before the final annealing. ``anneal_strategy``: "cos" or "linear".

    Give ``total_steps``, or ``epochs`` and ``steps_per_epoch`` (their product). Stepping past the last step
    raises ValueError, as in PyTorch. Each group records ``initial_lr``, ``max_lr`` and ``min_lr`` (and
    ``max_momentum``/``base_momentum``), so they are saved with the optimizer.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        name = "OneCycleLR"
        _check_optimizer(name, optimizer)
        if total_steps is not None:
            _check_positive_int(name, "total_steps", total_steps)
            self.total_steps = int(total_steps)
        elif epochs is not None and steps_per_epoch is not None:
            _check_positive_int(name, "epochs", epochs)
            _check_positive_int(name, "steps_per_epoch", steps_per_epoch)
            self.total_steps = int(epochs) * int(steps_per_epoch)
        else:
            raise ValueError(f"{name}: give total_steps, or both epochs and steps_per_epoch")
        _check_real(name, "pct_start", pct_start)
        if not 0 <= pct_start <= 1:
            raise ValueError(f"{name}: pct_start must lie in [0, 1], got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{name}: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        _check_real(name, "div_factor", div_factor)
        _check_real(name, "final_div_factor", final_div_factor)
        self.anneal_strategy = anneal_strategy
        total = self.total_steps
        # Both shapes of the cycle open with the warm-up: lr initial_lr → max_lr, momentum max → base.
        warm_up = {
            "end_step": float(pct_start * total) - 1,
            "start_lr": "initial_lr",
            "end_lr": "max_lr",
            "start_momentum": "max_momentum",
            "end_momentum": "base_momentum",
        }
        if three_phase:
            self._schedule_phases = [
                warm_up,
                {
                    "end_step": float(2 * pct_start * total) - 2,
                    "start_lr": "max_lr",
                    "end_lr": "initial_lr",
                    "start_momentum": "base_momentum",
                    "end_momentum": "max_momentum",
                },
                {
                    "end_step": total - 1,
                    "start_lr": "initial_lr",
                    "end_lr": "min_lr",
                    "start_momentum": "max_momentum",
                    "end_momentum": "max_momentum",
                },
            ]
        else:
            self._schedule_phases = [
                warm_up,
                {
                    "end_step": total - 1,
                    "start_lr": "max_lr",
                    "end_lr": "min_lr",
                    "start_momentum": "base_momentum",
                    "end_momentum": "max_momentum",
                },
            ]
        max_lrs = _per_group(name, "max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for top, group in zip(max_lrs, optimizer.param_groups, strict=True):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(
                    f"{name}: cycle_momentum needs an optimizer with momentum or betas "
                    f"({type(optimizer).__name__} has neither); pass cycle_momentum=False"
                )
            self.use_beta1 = "betas" in optimizer.defaults
            max_momentums = _per_group(name, "max_momentum", optimizer, max_momentum)
            base_momentums = _per_group(name, "base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                for top, low, group in zip(
                    max_momentums, base_momentums, optimizer.param_groups, strict=True
                ):
                    if self.use_beta1:
                        group["betas"] = (top, *group["betas"][1:])
                    else:
                        group["momentum"] = top
                    group["max_momentum"] = top
                    group["base_momentum"] = low
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            # from start to end along half a cosine: end + (start − end)/2·(1 + cos(π·pct))
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start  # linear

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR: tried to step {step} times, but total_steps is {self.total_steps}; "
                "make total_steps (or epochs × steps_per_epoch) cover the whole run"
            )
        lrs = []
        phases = self._schedule_phases
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(phases):
                end_step = phase["end_step"]
                if step <= end_step or i == len(phases) - 1:
                    pct = (step - start_step) / (end_step - start_step)
                    lr = self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct)
                    if self.cycle_momentum:
                        momentum = self._anneal(
                            group[phase["start_momentum"]], group[phase["end_momentum"]], pct
                        )
                    break
                start_step = phase["end_step"]
            lrs.append(lr)
            if self.cycle_momentum:
                if self.use_beta1:
                    group["betas"] = (momentum, *group["betas"][1:])
                else:
                    group["momentum"] = momentum
        return lrs


def _check_schedulers(name: str, schedulers: Any, optimizer: Optimizer | None) -> list[LRScheduler]:
    try:
        schedulers = list(schedulers)
    except TypeError as exc:
        raise TypeError(f"{name}: schedulers must be a list of schedulers, got {schedulers!r:.60}") from exc
    if not schedulers:
        raise ValueError(f"{name}: give at least one scheduler")
    optimizer = schedulers[0].optimizer if optimizer is None else optimizer
    for i, scheduler in enumerate(schedulers):
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(
                f"{name}: ReduceLROnPlateau (scheduler {i}) needs a metric and cannot be composed"
            )
        if not isinstance(scheduler, (LRScheduler, SequentialLR, ChainedScheduler)):
            raise TypeError(f"{name}: scheduler {i} is a {type(scheduler).__name__}, not a scheduler")
        if scheduler.optimizer is not optimizer:
            raise ValueError(f"{name}: scheduler {i} drives another optimizer than the others")
    return schedulers


class _Composite:
    """State handling shared by the schedulers made of other schedulers."""

    optimizer: Optimizer
    _schedulers: list[Any]
    _last_lr: list[float]

    def get_last_lr(self) -> list[float]:
        """The rates the last ``step()`` set, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """This scheduler's counters and every inner scheduler's ``state_dict()`` (plain values)."""
        state = {k: _plain(v) for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "_schedulers" not in state_dict:
            raise ValueError(f"{name}.load_state_dict: expected a dict saved by {name}.state_dict()")
        inner = state_dict["_schedulers"]
        if len(inner) != len(self._schedulers):
            raise ValueError(
                f"{name}.load_state_dict: the saved state has {len(inner)} schedulers, this one "
                f"{len(self._schedulers)}"
            )
        for key, value in state_dict.items():
            if key != "_schedulers":
                setattr(self, key, _plain(value))
        for scheduler, saved in zip(self._schedulers, inner, strict=True):
            scheduler.load_state_dict(saved)


class SequentialLR(_Composite):
    """Run ``schedulers`` one after another: the i-th takes over at epoch ``milestones[i − 1]`` (restarted at
    its epoch 0, with its closed form where it has one), e.g. a ``LinearLR`` warm-up then a
    ``CosineAnnealingLR``. Built as PyTorch does: the rates are reset to ``initial_lr``, the inner schedulers'
    construction steps undone, and the first scheduler started."""

    def __init__(
        self, optimizer: Optimizer, schedulers: list[LRScheduler], milestones: list[int], last_epoch: int = -1
    ) -> None:
        name = "SequentialLR"
        _check_optimizer(name, optimizer)
        self._schedulers = _check_schedulers(name, schedulers, optimizer)
        milestones = list(milestones)
        if len(milestones) != len(self._schedulers) - 1:
            raise ValueError(
                f"{name}: expected {len(self._schedulers) - 1} milestones (one fewer than the schedulers), "
                f"got {len(milestones)}"
            )
        for m in milestones:
            _check_nonneg_int(name, "milestones", m)
        self._milestones = [int(m) for m in milestones]
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for scheduler in self._schedulers:  # undo the step each scheduler took when it was built
            _undo_step(scheduler)
        self._schedulers[0]._initial_step()
        self._last_lr = self._schedulers[0].get_last_lr()

    def step(self) -> None:
        """Advance one epoch with the scheduler whose turn it is."""
        self.last_epoch += 1
        idx = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler.step(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


def _undo_step(scheduler: Any) -> None:
    if isinstance(scheduler, _Composite):
        for inner in scheduler._schedulers:
            _undo_step(inner)
    else:
        scheduler.last_epoch -= 1


class ChainedScheduler(_Composite):
    """Step every scheduler in ``schedulers`` at each ``step()``, so their factors compose (e.g. a warm-up
    ``LinearLR`` together with an ``ExponentialLR``)."""

    def __init__(self, schedulers: list[LRScheduler], optimizer: Optimizer | None = None) -> None:
        self._schedulers = _check_schedulers("ChainedScheduler", schedulers, optimizer)
        self.optimizer = self._schedulers[0].optimizer
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def step(self) -> None:
        """Step each scheduler, in order."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]
