"""The training loop: ``fit`` (the one obvious way) and the ``Trainer`` that holds its state for callbacks."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from numnet import metrics as metrics_module
from numnet.tensor import Tensor, no_grad
from numnet.train.callbacks import Callback, Checkpoint
from numnet.train.checkpoint import restore_checkpoint
from numnet.train.history import History

MetricFn = Callable[[np.ndarray, np.ndarray], float]

METRICS: dict[str, MetricFn] = {
    "accuracy": metrics_module.accuracy,
    "mse": metrics_module.mean_squared_error,
    "mae": metrics_module.mean_absolute_error,
    "r2": metrics_module.r2_score,
}


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; training stopped before the bad step was applied."""

    def __init__(self, message: str, history: History) -> None:
        super().__init__(message)
        self.history = history

    def __reduce__(self) -> tuple[Any, ...]:  # picklable, so it crosses joblib/dask process boundaries
        return (type(self), (str(self), self.history))


#: Metrics undefined on a single sample: a training batch of one (batch_size=1, or a last partial batch)
#: is left out of their batch-weighted epoch mean instead of failing the run.
_NEEDS_TWO_SAMPLES = (metrics_module.r2_score,)


def resolve_metrics(metrics: Iterable[str | MetricFn] | None) -> dict[str, MetricFn]:
    """Metric names (``"accuracy"``, ``"mse"``, ``"mae"``, ``"r2"``) or callables ``f(y_true, y_pred)``."""
    resolved: dict[str, MetricFn] = {}
    for metric in metrics or ():
        if isinstance(metric, str):
            if metric not in METRICS:
                raise ValueError(
                    f"unknown metric {metric!r}; choose from {sorted(METRICS)} or pass a function"
                )
            resolved[metric] = METRICS[metric]
        elif callable(metric):
            resolved[getattr(metric, "__name__", "metric")] = metric
        else:
            raise TypeError(f"a metric must be a name or a function, got {metric!r}")
    return resolved


def _split_batch(batch: Any) -> tuple[Any, Any]:
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise ValueError(
            "fit: each batch must be an (inputs, targets) pair; make the loader from TensorDataset(X, y)"
        )
    return batch[0], batch[1]


def _array(value: Any) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else np.asarray(value)


class _Progress:
    """A tqdm bar over an epoch's batches when drawing one makes sense (a terminal), else nothing."""

    def __init__(self, enabled: bool, total: int | None, description: str) -> None:
        self.bar = None
        if enabled and sys.stderr.isatty():
            try:
                from tqdm.auto import tqdm
            except ImportError:  # tqdm is an optional extra
                return
            self.bar = tqdm(total=total, desc=description, unit="batch", leave=False, dynamic_ncols=True)
        self.last_update = 0.0

    def update(self, loss: float, samples_per_second: float, metrics: dict[str, float]) -> None:
        if self.bar is None:
            return
        self.bar.update(1)
        now = time.perf_counter()
        if now - self.last_update > 0.2:
            shown = {"loss": f"{loss:.4f}", **{k: f"{v:.4f}" for k, v in metrics.items()}}
            self.bar.set_postfix(shown, samples_s=f"{samples_per_second:,.0f}", refresh=False)
            self.last_update = now

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class Trainer:
    """Holds a training run's state: model, loss, optimizer, loaders, metrics, callbacks and history."""

    def __init__(
        self,
        model: Any,
        loss_fn: Callable[[Tensor, Any], Tensor],
        optimizer: Any,
        train_loader: Any,
        val_loader: Any = None,
        metrics: Sequence[str | MetricFn] | None = None,
        callbacks: Sequence[Callback] | None = None,
        progress: bool = True,
        settings: dict[str, Any] | None = None,
    ) -> None:
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        # plain-JSON description of the run (the CLI's settings), written into checkpoints for --resume checks
        self.settings = settings
        self.train_loader, self.val_loader = train_loader, val_loader
        self.metrics = resolve_metrics(metrics)
        self.callbacks = list(callbacks or ())
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(f"callbacks must be numnet.train.Callback instances, got {callback!r}")
        self.progress = progress
        self.history = History()
        self.epoch = 0  # epochs completed
        self.step = 0  # optimizer steps taken
        self.total_epochs = 0
        self.stop_training = False
        self.diverged = False

    # --- the loop --------------------------------------------------------------------------------------
    def fit(self, epochs: int, resume: str | Path | None = None) -> History:
        """Train until ``epochs`` epochs are complete (counting those of a resumed checkpoint)."""
        if not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
        if resume is not None:
            restore_checkpoint(resume, self)
        self.total_epochs = int(epochs)
        self.stop_training = False
        self._call("on_train_begin")
        completed = False
        try:
            while self.epoch < self.total_epochs and not self.stop_training:
                logs = self.train_epoch(self.epoch)
                self.history.record_epoch(logs)
                self.epoch += 1
                self._call("on_epoch_end", self.epoch - 1, logs)
            completed = True
        finally:
            if completed or self.diverged:
                self._call("on_train_end")
        return self.history

    def train_epoch(self, epoch: int) -> dict[str, float]:
        self._call("on_epoch_begin", epoch)
        self.model.train()
        model, loss_fn, optimizer = self.model, self.loss_fn, self.optimizer
        # only callbacks that do something per batch are called per batch (tiny nets take millions of steps)
        on_batch_end = [
            c
            for c in self.callbacks
            if getattr(c.on_batch_end, "__func__", None) is not Callback.on_batch_end
        ]
        metric_sums = dict.fromkeys(self.metrics, 0.0)
        metric_seen = dict.fromkeys(self.metrics, 0)  # samples of the batches each metric was defined on
        total_loss, seen = 0.0, 0
        start = time.perf_counter()
        # any re-iterable of batches works; a bar without a length just counts
        total = len(self.train_loader) if hasattr(self.train_loader, "__len__") else None
        bar = _Progress(self.progress, total, f"epoch {epoch + 1}/{self.total_epochs}")
        try:
            for batch in self.train_loader:
                inputs, targets = _split_batch(batch)
                output = model(inputs)
                loss = loss_fn(output, targets)
                value = loss.item()
                if not math.isfinite(value):
                    self._diverge(value, epoch)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                n = len(inputs)
                total_loss += value * n
                seen += n
                self.step += 1
                self.history.record_step(value, optimizer.param_groups[0]["lr"])
                for name, fn in self.metrics.items():
                    if n < 2 and fn in _NEEDS_TWO_SAMPLES:  # R² of one sample is undefined: skip the batch
                        continue
                    metric_sums[name] += fn(_array(targets), output.data) * n
                    metric_seen[name] += n
                for callback in on_batch_end:
                    callback.on_batch_end(self, self.step, value)
                if bar.bar is not None:  # the running metrics are worked out only when a bar shows them
                    running = {name: total / max(metric_seen[name], 1) for name, total in metric_sums.items()}
                    bar.update(value, seen / max(time.perf_counter() - start, 1e-9), running)
        finally:
            bar.close()
        if seen == 0:
            raise ValueError(
                "fit: the training loader yielded no batches "
                "(empty dataset, or drop_last with too few samples)"
            )
        logs = {"loss": total_loss / seen}
        logs.update(
            {
                name: s / metric_seen[name] if metric_seen[name] else math.nan
                for name, s in metric_sums.items()
            }
        )
        if self.val_loader is not None:
            logs.update({f"val_{k}": v for k, v in self.evaluate(self.val_loader).items()})
        logs["lr"] = float(optimizer.param_groups[0]["lr"])
        logs["time"] = time.perf_counter() - start
        return logs

    def _diverge(self, value: float, epoch: int) -> None:
        self.diverged = True
        lr = self.optimizer.param_groups[0]["lr"]
        saved = [c.path for c in self.callbacks if isinstance(c, Checkpoint) and c.path.exists()]
        where = f" The last good checkpoint is {saved[-1]}." if saved else ""
        raise TrainingDiverged(
            f"training diverged: the loss became {value} at epoch {epoch + 1}, step {self.step + 1}; "
            f"the step was not applied. Lower the learning rate (it is {lr:g}; try {lr / 10:g}) "
            f"or check the inputs for NaN/inf.{where}",
            self.history,
        )

    def evaluate(self, loader: Any) -> dict[str, float]:
        """Loss and metrics over a whole loader, in eval mode and without recording the graph."""
        return evaluate(self.model, loader, self.loss_fn, list(self.metrics.items()))

    def _call(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)


def evaluate(
    model: Any,
    loader: Any,
    loss_fn: Callable[[Tensor, Any], Tensor] | None = None,
    metrics: Sequence[str | MetricFn] | Sequence[tuple[str, MetricFn]] | None = None,
) -> dict[str, float]:
    """Mean loss (if ``loss_fn``) and metrics of ``model`` over every batch of ``loader``.

    Metrics are computed once on all predictions together (exact for every metric, R² included)."""
    if metrics and isinstance(next(iter(metrics)), tuple):
        resolved = dict(metrics)  # type: ignore[arg-type]
    else:
        resolved = resolve_metrics(metrics)  # type: ignore[arg-type]
    was_training = getattr(model, "training", False)
    model.eval()
    outputs, targets_all = [], []
    total_loss, seen = 0.0, 0
    try:
        with no_grad():
            for batch in loader:
                inputs, targets = _split_batch(batch)
                output = model(inputs)
                n = len(inputs)
                if loss_fn is not None:
                    total_loss += loss_fn(output, targets).item() * n
                seen += n
                if resolved:
                    outputs.append(output.data)
                    targets_all.append(_array(targets))
    finally:
        model.train(was_training)
    if seen == 0:
        raise ValueError("evaluate: the loader yielded no batches")
    results: dict[str, float] = {}
    if loss_fn is not None:
        results["loss"] = total_loss / seen
    if resolved:
        y_pred, y_true = np.concatenate(outputs), np.concatenate(targets_all)
        results.update({name: float(fn(y_true, y_pred)) for name, fn in resolved.items()})
    return results


def fit(
    model: Any,
    loss_fn: Callable[[Tensor, Any], Tensor],
    optimizer: Any,
    train_loader: Any,
    epochs: int,
    val_loader: Any = None,
    metrics: Sequence[str | MetricFn] | None = None,
    callbacks: Sequence[Callback] | None = None,
    progress: bool = True,
    resume: str | Path | None = None,
    settings: dict[str, Any] | None = None,
) -> History:
    """Train ``model`` for ``epochs`` epochs and return its ``History``.

    Each step: ``loss = loss_fn(model(x), y)``, ``optimizer.zero_grad()``, ``loss.backward()``,
    ``optimizer.step()``. After each epoch the validation loader (if any) is evaluated: its values are
    recorded as ``val_loss``, ``val_accuracy``… ``metrics`` are names (``"accuracy"``, ``"mse"``, ``"mae"``,
    ``"r2"``) or functions ``f(y_true, y_pred) -> float``; on the training batches they are the batch-size
    weighted mean of per-batch values (exact for accuracy, MSE, MAE; R² is exact only in validation, which
    scores all predictions at once). ``progress`` draws a bar on a terminal.
    ``resume`` continues from a checkpoint written by ``callbacks.Checkpoint`` (``epochs`` counts the
    checkpoint's epochs too). ``settings`` (plain JSON) is stored in every checkpoint as ``"settings"``, so
    a resumed run can check it continues the same run. A NaN/inf loss raises ``TrainingDiverged`` before
    that step is applied.
    """
    trainer = Trainer(
        model, loss_fn, optimizer, train_loader, val_loader, metrics, callbacks, progress, settings=settings
    )
    return trainer.fit(epochs, resume=resume)
