"""Callbacks: code that runs at fixed points of ``fit`` (train begin/end, epoch begin/end, after a batch).

A callback may also keep state worth resuming (an LR scheduler, early stopping's patience counter): it then
implements ``state_dict()``/``load_state_dict()`` and the checkpoint stores it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from numnet.train.checkpoint import save_checkpoint

if TYPE_CHECKING:
    from numnet.train.trainer import Trainer


class Callback:
    """Base class: override the hooks you need. ``trainer`` gives access to the model, optimizer, history."""

    def on_train_begin(self, trainer: Trainer) -> None: ...

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None: ...

    def on_batch_end(self, trainer: Trainer, step: int, loss: float) -> None: ...

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None: ...

    def on_train_end(self, trainer: Trainer) -> None: ...


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda trainer, epoch, logs: ...)``."""

    def __init__(self, **hooks: Callable[..., None]) -> None:
        allowed = {"on_train_begin", "on_epoch_begin", "on_batch_end", "on_epoch_end", "on_train_end"}
        unknown = set(hooks) - allowed
        if unknown:
            raise TypeError(f"LambdaCallback: unknown hook(s) {sorted(unknown)}; use {sorted(allowed)}")
        for name, hook in hooks.items():
            setattr(self, name, hook)


def _resolve_mode(monitor: str, mode: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    # accuracy-like values improve upwards; losses and errors downwards
    return "max" if any(word in monitor for word in ("acc", "f1", "precision", "recall", "r2")) else "min"


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs; by default put back
    the weights of the best epoch."""

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = True,
    ) -> None:
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be ≥ 0, got {patience}")
        self.monitor, self.patience, self.min_delta = monitor, patience, abs(min_delta)
        self.mode = _resolve_mode(monitor, mode)
        self.restore_best_weights = restore_best_weights
        self._reset()
        self._restored = False  # set by load_state_dict: the next fit resumes rather than starts afresh

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = -1
        self.wait = 0
        self.best_weights: dict[str, Any] | None = None
        self.stopped_epoch: int | None = None

    def on_train_begin(self, trainer: Trainer) -> None:
        # A new run starts from scratch (the same instance may serve several fits); a resumed one carries
        # on, and one whose run had already stopped early stays stopped.
        if not self._restored:
            self._reset()
        elif self.stopped_epoch is not None:
            trainer.stop_training = True
        self._restored = False

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        if self.monitor not in logs:
            raise KeyError(
                f"EarlyStopping monitors {self.monitor!r}, which this run does not record; "
                f"recorded: {', '.join(logs)} (val_* values need a val_loader)"
            )
        value = logs[self.monitor]
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = trainer.model.state_dict()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                trainer.stop_training = True

    def on_train_end(self, trainer: Trainer) -> None:
        if self.stopped_epoch is not None and self.restore_best_weights and self.best_weights is not None:
            trainer.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        return {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
            "best_weights": self.best_weights,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch, self.wait = state["best"], state["best_epoch"], state["wait"]
        self.best_weights = state.get("best_weights")
        self.stopped_epoch = state.get("stopped_epoch")
        self._restored = True


class LRScheduler(Callback):
    """Step an ``optim.lr_scheduler`` scheduler once per epoch (default) or once per batch.

    ``ReduceLROnPlateau`` is stepped with the epoch's ``monitor`` value (default ``val_loss``)."""

    def __init__(self, scheduler: Any, interval: str = "epoch", monitor: str = "val_loss") -> None:
        if interval not in ("epoch", "step"):
            raise ValueError(f"LRScheduler: interval must be 'epoch' or 'step', got {interval!r}")
        self.scheduler, self.interval, self.monitor = scheduler, interval, monitor
        self.needs_metric = type(scheduler).__name__ == "ReduceLROnPlateau"
        if self.needs_metric and interval == "step":
            raise ValueError("LRScheduler: ReduceLROnPlateau steps once per epoch with a monitored value")

    def on_batch_end(self, trainer: Trainer, step: int, loss: float) -> None:
        if self.interval == "step":
            self.scheduler.step()

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        if self.interval != "epoch":
            return
        if self.needs_metric:
            if self.monitor not in logs:
                raise KeyError(
                    f"LRScheduler: ReduceLROnPlateau monitors {self.monitor!r}, "
                    f"which is not recorded (have {list(logs)})"
                )
            self.scheduler.step(logs[self.monitor])
        else:
            self.scheduler.step()

    def state_dict(self) -> dict[str, Any]:
        return self.scheduler.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.scheduler.load_state_dict(state)


class Checkpoint(Callback):
    """Write a full checkpoint (model, optimizer, callbacks' state, RNG, epoch, history) to ``path`` every
    ``every`` epochs and at the end. Writes are atomic, so the file on disk is always the last good one;
    ``fit(..., resume=path)`` continues from it."""

    def __init__(self, path: str | Path, every: int = 1) -> None:
        if every < 1:
            raise ValueError(f"Checkpoint: every must be ≥ 1, got {every}")
        self.path, self.every = Path(path), every
        self.last_saved_epoch: int | None = None

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        if (epoch + 1) % self.every == 0:
            self._save(trainer, epoch)

    def on_train_end(self, trainer: Trainer) -> None:
        if trainer.epoch > 0 and self.last_saved_epoch != trainer.epoch - 1 and not trainer.diverged:
            self._save(trainer, trainer.epoch - 1)

    def _save(self, trainer: Trainer, epoch: int) -> None:
        save_checkpoint(self.path, trainer)
        self.last_saved_epoch = epoch


class EpochLogger(Callback):
    """Print one line per epoch (what the CLI shows in logs, where no progress bar is drawn)."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        parts = [f"epoch {epoch + 1}/{trainer.total_epochs}"]
        for key, value in logs.items():
            if key in ("epoch",):
                continue
            parts.append(f"{key} {value:.4g}" if key != "time" else f"{value:.1f}s")
        print("  ".join(parts), file=self.stream or sys.stdout, flush=True)
