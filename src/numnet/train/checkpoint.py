"""Checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint holds the model's and optimizer's state, the state of callbacks that have one (LR schedulers,
early stopping), numnet's random generator (dropout masks, shuffling), the loader's epoch counter, the
epoch and step reached, and the history (and, when the command line wrote it, the run's ``settings``).
Restoring all of it makes a resumed run bit-identical to an uninterrupted one. The file is the pickle-free,
atomically written state file of ``numnet.statefile``; ``load_checkpoint`` checks every part of it (types,
shapes, ranges, the random generator's kind) and raises ``ModelFileError`` for anything else.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from numnet import backend
from numnet.statefile import ModelFileError, load_state, save_state
from numnet.train.history import History

if TYPE_CHECKING:
    from numnet.train.trainer import Trainer

FORMAT = "numnet-checkpoint"
VERSION = 1
_REQUIRED = ("model", "optimizer", "callbacks", "loader", "rng", "epoch", "step", "history")
_OPTIONAL = ("settings",)


def _stateful(obj: Any) -> bool:
    return callable(getattr(obj, "state_dict", None)) and callable(getattr(obj, "load_state_dict", None))


def save_checkpoint(path: str | Path, trainer: Trainer) -> Path:
    """Write ``trainer``'s full state to ``path`` (atomically: the previous file survives a crash)."""
    state = {
        "model": trainer.model.state_dict(),
        "optimizer": trainer.optimizer.state_dict(),
        "callbacks": [c.state_dict() if _stateful(c) else None for c in trainer.callbacks],
        "loader": trainer.train_loader.state_dict() if _stateful(trainer.train_loader) else None,
        "rng": backend.get_rng_state(),
        "epoch": trainer.epoch,
        "step": trainer.step,
        "history": trainer.history.to_dict(),
    }
    if getattr(trainer, "settings", None) is not None:  # the run's settings, for --resume to compare
        state["settings"] = trainer.settings
    save_state(path, {"version": VERSION, "state": state}, kind=FORMAT)
    return Path(path)


def _is_plain_json(value: Any, depth: int = 0) -> bool:
    if value is None or type(value) in (bool, int, str) or type(value) is float:
        return True
    if depth >= 32:
        return False
    if type(value) is list:
        return all(_is_plain_json(item, depth + 1) for item in value)
    return type(value) is dict and all(
        type(k) is str and _is_plain_json(v, depth + 1) for k, v in value.items()
    )


def _is_count(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and 0 <= value < 2**62


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float, np.number)) and not isinstance(value, bool))


def _check_history(history: Any) -> str | None:
    if not isinstance(history, dict) or not set(history) <= {"epochs", "step_loss", "step_lr"}:
        return "history must be a dict of epochs, step_loss and step_lr"
    epochs = history.get("epochs", [])
    if not isinstance(epochs, list) or not all(
        isinstance(r, dict) and all(isinstance(k, str) and _is_number(v) for k, v in r.items())
        for r in epochs
    ):
        return "history epochs must be a list of {name: number} records"
    for key in ("step_loss", "step_lr"):
        values = history.get(key, [])
        if not isinstance(values, list) or not all(_is_number(v) for v in values):
            return f"history {key} must be a list of numbers"
    return None


def _problem(saved: Any) -> str | None:
    """What is wrong with a loaded checkpoint, or None."""
    if not isinstance(saved, dict) or set(saved) != {"version", "state"}:
        return "not a checkpoint (expected {'version', 'state'})"
    version = saved["version"]
    if not _is_count(version) or version < 1:
        return f"invalid checkpoint version {version!r:.40}"
    if version > VERSION:
        return f"checkpoint version {version} is newer than this numnet reads ({VERSION}); upgrade numnet"
    state = saved["state"]
    if not isinstance(state, dict):
        return "the state is not a dict"
    missing = [k for k in _REQUIRED if k not in state]
    unknown = [str(k) for k in state if k not in _REQUIRED + _OPTIONAL]
    if missing or unknown:
        return f"missing parts {missing}, unknown parts {unknown[:5]}"
    model = state["model"]
    if not isinstance(model, dict) or not all(
        isinstance(k, str) and isinstance(v, np.ndarray) and v.dtype.kind in "biuf" for k, v in model.items()
    ):
        return "the model state must map parameter names to numeric arrays"
    if not isinstance(state["optimizer"], dict):
        return "the optimizer state must be a dict"
    callbacks = state["callbacks"]
    if not isinstance(callbacks, list) or not all(c is None or isinstance(c, dict) for c in callbacks):
        return "the callback states must be a list of dicts or None"
    loader = state["loader"]
    if loader is not None and not (isinstance(loader, dict) and _is_count(loader.get("epoch", 0))):
        return "the loader state must be None or a dict with a non-negative integer epoch"
    for key in ("epoch", "step"):
        if not _is_count(state[key]):
            return f"{key} must be a non-negative integer, got {state[key]!r:.40}"
    try:
        backend.check_rng_state(state["rng"])
    except (ValueError, TypeError, KeyError) as exc:
        return f"the random generator state is invalid ({exc!s:.160})"
    history = _check_history(state["history"])
    if history is not None:
        return history
    settings = state.get("settings")
    if settings is not None and not (isinstance(settings, dict) and _is_plain_json(settings)):
        return "settings must be a dict of plain JSON values"
    return None


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read and check a checkpoint: its nested state dict (model, optimizer, callbacks, loader, rng, epoch…).

    Raises ``ModelFileError`` (one line naming the file and the part) for anything a checkpoint written by
    ``save_checkpoint`` would not hold.
    """
    saved = load_state(path, kind=FORMAT)
    problem = _problem(saved)
    if problem is not None:
        raise ModelFileError(f"{path}: not a valid numnet checkpoint: {problem}")
    return saved["state"]


def restore_checkpoint(path: str | Path, trainer: Trainer) -> None:
    """Load a checkpoint into a trainer built with the same model, optimizer, callbacks and loader."""
    state = load_checkpoint(path)
    trainer.model.load_state_dict(state["model"])
    trainer.optimizer.load_state_dict(state["optimizer"])
    # Only callbacks with state must match: stateless ones (a logger, the Checkpoint itself) may differ.
    saved_states = [s for s in state["callbacks"] if s is not None]
    stateful = [c for c in trainer.callbacks if _stateful(c)]
    if len(saved_states) != len(stateful):
        raise ValueError(
            f"{path}: the checkpoint holds the state of {len(saved_states)} callbacks (schedulers, early "
            f"stopping) but this run has {len(stateful)}; resume with the same callbacks in the same order"
        )
    for callback, saved in zip(stateful, saved_states, strict=True):
        callback.load_state_dict(saved)
    if state["loader"] is not None and _stateful(trainer.train_loader):
        trainer.train_loader.load_state_dict(state["loader"])
    backend.set_rng_state(state["rng"])
    trainer.epoch, trainer.step = int(state["epoch"]), int(state["step"])
    trainer.history = History.from_dict(state["history"])
