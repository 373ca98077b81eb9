"""``History``: what happened during training, epoch by epoch and step by step."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from numnet.files import atomic_write_text


class History:
    """Per-epoch records (loss, metrics, learning rate, time) and per-step losses.

    ``history["loss"]`` is the list of per-epoch training losses (the mean over the epoch's batches, weighted
    by batch size); ``history["val_accuracy"]`` the per-epoch validation accuracy, and so on for every key
    recorded. ``history.step_loss`` holds every batch's loss; ``history.epochs`` the raw per-epoch dicts.
    """

    def __init__(self) -> None:
        self.epochs: list[dict[str, float]] = []
        self.step_loss: list[float] = []
        self.step_lr: list[float] = []

    def record_step(self, loss: float, lr: float) -> None:
        self.step_loss.append(loss)
        self.step_lr.append(lr)

    def record_epoch(self, values: dict[str, float]) -> None:
        self.epochs.append(dict(values))

    def keys(self) -> list[str]:
        seen: dict[str, None] = {}
        for record in self.epochs:
            seen.update(dict.fromkeys(record))
        return list(seen)

    def __getitem__(self, key: str) -> list[float]:
        if key not in self.keys():
            raise KeyError(f"History has no {key!r}; recorded keys: {', '.join(self.keys()) or 'none yet'}")
        return [record.get(key, math.nan) for record in self.epochs]

    def __contains__(self, key: str) -> bool:
        return key in self.keys()

    def __len__(self) -> int:
        return len(self.epochs)

    def last(self, key: str, default: float = math.nan) -> float:
        """The latest epoch's value of ``key``."""
        return self.epochs[-1].get(key, default) if self.epochs else default

    def best(self, key: str, mode: str = "min") -> tuple[int, float]:
        """(epoch index, value) of the best epoch for ``key``."""
        values = self[key]
        chooser = min if mode == "min" else max
        index = chooser(range(len(values)), key=lambda i: values[i])
        return index, values[index]

    def to_dict(self) -> dict[str, Any]:
        return {
            "epochs": [dict(r) for r in self.epochs],
            "step_loss": list(self.step_loss),
            "step_lr": list(self.step_lr),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        history = cls()
        history.epochs = [dict(r) for r in data.get("epochs", [])]
        history.step_loss = list(data.get("step_loss", []))
        history.step_lr = list(data.get("step_lr", []))
        return history

    def save(self, path: str | Path) -> Path:
        """Write ``history.json``-style JSON (NaN and inf written as null), atomically: a crash leaves the
        previous file or the complete new one."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return atomic_write_text(path, json.dumps(_finite(self.to_dict()), indent=1))

    @classmethod
    def load(cls, path: str | Path) -> History:
        return cls.from_dict(json.loads(Path(path).read_text()))

    def __repr__(self) -> str:
        if not self.epochs:
            return "History(no epochs)"
        last = ", ".join(f"{k}={v:.4g}" for k, v in self.epochs[-1].items() if isinstance(v, float))
        return f"History({len(self.epochs)} epochs; last: {last})"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
