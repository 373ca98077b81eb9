"""Checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint holds the model's and optimizer's state, the state of callbacks that have one (LR schedulers,
early stopping), numnet's random generator (dropout masks, shuffling), the loader's epoch counter, the
epoch and step reached, and the history. Restoring all of it makes a resumed run bit-identical to an
uninterrupted one. The file is the pickle-free, atomically written format of ``numnet.io``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from numnet import backend
from numnet.io import load_state, save_state
from numnet.train.history import History

if TYPE_CHECKING:
    from numnet.train.trainer import Trainer

FORMAT = "numnet-checkpoint"
VERSION = 1


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


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint into its nested state dict (model, optimizer, callbacks, loader, rng, epoch…)."""
    saved = load_state(path, kind=FORMAT)
    if saved.get("version", 0) > VERSION:
        raise ValueError(
            f"{path}: checkpoint version {saved['version']} is newer than this numnet reads ({VERSION}); "
            "upgrade numnet"
        )
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
