"""Layer 7: the training loop, its history, callbacks and checkpoints."""

from numnet.train.callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    EpochLogger,
    LambdaCallback,
    LRScheduler,
)
from numnet.train.checkpoint import load_checkpoint, save_checkpoint
from numnet.train.history import History
from numnet.train.trainer import Trainer, TrainingDiverged, evaluate, fit

__all__ = [
    "Callback",
    "Checkpoint",
    "EarlyStopping",
    "EpochLogger",
    "History",
    "LRScheduler",
    "LambdaCallback",
    "Trainer",
    "TrainingDiverged",
    "evaluate",
    "fit",
    "load_checkpoint",
    "save_checkpoint",
]
