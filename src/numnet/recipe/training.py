"""One training run from its settings: the model, loss, targets, metrics, schedule, loop and output files."""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import numnet
from numnet import data, models, nn, optim
from numnet.files import atomic_write_text, claim_output_folder
from numnet.models import mlp
from numnet.recipe.datasets import Splits, load_dataset
from numnet.recipe.settings import check_settings, ignored_settings, parse_hidden, settings_differences
from numnet.train import (
    Checkpoint,
    EarlyStopping,
    EpochLogger,
    LRScheduler,
    TrainingDiverged,
    evaluate,
    fit,
    load_checkpoint,
)

# Files a run writes into its folder: a folder that holds any of them holds another run.
RUN_FILES = ("model.npz", "history.json", "summary.json", "summary.md", "checkpoint.npz")


class SettingWarning(UserWarning):
    """A setting that was given but has no effect with the others (``--momentum`` with adam)."""


def make_loss(name: str, splits: Splits) -> tuple[nn.Module, str]:
    """The loss module for ``name`` (``auto``: cross-entropy for classes, MSE otherwise), and its name."""
    return choose_loss(name, splits.task, splits.num_outputs)


def choose_loss(name: str, task: str, num_outputs: int) -> tuple[nn.Module, str]:
    """``make_loss`` from the task (``classification``/``regression``) and number of classes or columns."""
    if name == "auto":
        name = "cross_entropy" if task == "classification" else "mse"
    if name == "cross_entropy":
        if task != "classification":
            raise ValueError(
                "--loss cross_entropy needs class labels, but this dataset's target is continuous; use mse"
            )
        return nn.CrossEntropyLoss(), name
    if name == "bce":
        if task != "classification" or num_outputs != 2:
            raise ValueError("--loss bce needs two classes (0/1)")
        return nn.BCEWithLogitsLoss(), name
    if name != "mse":
        raise ValueError(f"unknown loss {name!r}; use auto, cross_entropy, mse or bce")
    return nn.MSELoss(), name


def output_width(loss_name: str, num_outputs: int) -> int:
    """The model's number of outputs: one logit for BCE, else one per class or target column."""
    return 1 if loss_name == "bce" else num_outputs


def targets_for(y: np.ndarray, loss_name: str, num_outputs: int) -> np.ndarray:
    """Targets in the form the loss expects: labels for cross-entropy, float columns otherwise."""
    if loss_name == "cross_entropy":
        return y
    if loss_name == "bce":
        return y.reshape(-1, 1).astype(np.float32)
    if y.dtype.kind in "iu":  # mse on classes: one-hot
        return data.one_hot(y, num_outputs)
    return y


def metrics_for(splits: Splits, loss_name: str) -> list[str]:
    """The metrics reported for a task and loss: accuracy for classes, MSE/MAE/R² for regression."""
    if splits.task == "classification":
        return ["accuracy"] if loss_name != "mse" else []
    return ["mse", "mae", "r2"] if loss_name == "mse" else []


def make_scheduler(settings: dict[str, Any], optimizer: optim.Optimizer, has_validation: bool) -> Any:
    """The learning-rate schedule ``settings["lr_schedule"]`` names (None for ``none``)."""
    kind, epochs = settings["lr_schedule"], settings["epochs"]
    if kind == "none":
        return None
    if kind == "step":
        return optim.lr_scheduler.StepLR(optimizer, step_size=max(epochs // 3, 1), gamma=0.1)
    if kind == "cosine":
        return optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    if kind != "plateau":
        raise ValueError(f"unknown lr_schedule {kind!r}; use none, step, cosine or plateau")
    if not has_validation:
        raise ValueError("--lr-schedule plateau watches val_loss, and this dataset has no validation split")
    return optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=2)


def build_model(settings: dict[str, Any], input_shape: Sequence[int], n_outputs: int) -> nn.Module:
    """The network ``settings["model"]`` names for inputs of ``input_shape`` (one sample: ``(784,)`` for an
    MLP, ``(C, H, W)`` for a CNN) and ``n_outputs`` outputs. Every front end builds its model here: ``mlp``
    from the flags, the image nets of ``numnet.models`` (``simple-cnn``, ``deep-cnn``) by name."""
    name = settings["model"]
    if name in models.names():
        if len(input_shape) != 3:
            raise ValueError(
                f"--model {name} takes images (C, H, W), but the inputs are flat rows of shape "
                f"{tuple(input_shape)}; use an image dataset (mnist, fashion-mnist, digits) or --model mlp"
            )
        return models.build(name, input_shape, n_outputs)
    if name != "mlp":
        raise ValueError(f"unknown model {name!r}; use one of mlp, {', '.join(models.names())}")
    return mlp(
        int(math.prod(input_shape)),
        parse_hidden(settings["hidden"]),
        n_outputs,
        settings["activation"],
        settings["dropout"],
        settings["batchnorm"],
        settings["init"],
    )


def _warn(message: str) -> None:
    warnings.warn(message, SettingWarning, stacklevel=3)


def output_folder(settings: dict[str, Any], name: str) -> Path:
    """The run's folder: ``settings["out"]``, refused if it holds another run (unless resuming from it), or
    a new ``runs/<name>-<time>`` that no other run shares (a suffix when two start in the same second)."""
    out = settings["out"]
    resuming_here = bool(out and settings["resume"]) and (
        Path(settings["resume"]).resolve().parent == Path(out).resolve()
    )
    return claim_output_folder(out, Path(name).stem, RUN_FILES, "another run", reuse=resuming_here)


def check_resume(settings: dict[str, Any]) -> None:
    """Refuse a ``--resume`` whose settings would change the model, data or optimizer of the checkpoint's
    run (naming each), or whose ``--epochs`` is below the epochs the checkpoint has already completed."""
    path = Path(settings["resume"])
    if not path.is_file():
        raise ValueError(
            f"--resume {path}: no such checkpoint (numnet train --checkpoint-every N writes one)"
        )
    state = load_checkpoint(path)
    saved = state.get("settings") if isinstance(state, dict) else None
    if isinstance(saved, dict):
        differences = settings_differences(saved, settings)
        if differences:
            raise ValueError(
                f"--resume {path}: this run's settings differ from the checkpoint's: "
                f"{'; '.join(differences)}. Resume with the checkpoint's settings, or start a new run "
                "without --resume"
            )
    else:
        _warn(f"--resume {path}: the checkpoint does not record its settings, so they cannot be checked")
    done = state.get("epoch") if isinstance(state, dict) else None
    if isinstance(done, int) and not isinstance(done, bool) and done > settings["epochs"]:
        raise ValueError(
            f"--resume {path}: the checkpoint has already completed {done} epochs, more than --epochs "
            f"{settings['epochs']}; --epochs counts the checkpoint's epochs too, so ask for more than {done}"
        )
    if done == settings["epochs"]:
        _warn(f"--resume {path}: the checkpoint has already completed all {done} epochs; nothing to train")


def train_from_settings(
    settings: dict[str, Any],
    verbose: bool = False,
    given: set[str] | None = None,
) -> dict[str, Any]:
    """Run one training job described by ``settings`` (the keys of ``DEFAULTS``; missing keys take the
    defaults) and write its files; returns the summary (settings, results per split, time, files, out).

    ``given`` names the settings the user chose (for warnings about ones that have no effect). Bad settings
    or data raise ``ValueError``; a loss that becomes NaN/inf raises ``TrainingDiverged`` after writing the
    history so far."""
    settings = check_settings(settings)
    for note in ignored_settings(settings, given):
        _warn(note)
    say = print if verbose else (lambda *a: None)
    if settings["threads"]:
        numnet.set_num_threads(settings["threads"])
    if settings["resume"]:
        check_resume(settings)
    numnet.manual_seed(settings["seed"])

    splits = load_dataset(
        settings["dataset"],
        seed=settings["seed"],
        target=settings["target"],
        n_samples=settings["samples"],
        task=settings["task"],
    )
    if settings["model"] != "mlp":
        splits = splits.as_images()  # (N, C, H, W) for a CNN; refused in one line for flat features
    loss_fn, loss_name = make_loss(settings["loss"], splits)
    out_features = output_width(loss_name, splits.num_outputs)
    model = build_model(settings, splits.input_shape, out_features)
    optimizer = optim.create_optimizer(
        settings["optimizer"],
        model.parameters(),
        settings["lr"],
        settings["momentum"],
        settings["weight_decay"],
    )

    def loader(split: tuple[np.ndarray, np.ndarray] | None, shuffle: bool) -> data.DataLoader | None:
        if split is None:
            return None
        x, y = split
        dataset = data.TensorDataset(x, targets_for(y, loss_name, splits.num_outputs))
        return data.DataLoader(
            dataset,
            batch_size=settings["batch_size"] if shuffle else 1000,
            shuffle=shuffle,
            seed=settings["seed"] if shuffle else None,
        )

    train_loader = loader(splits.train, shuffle=True)
    val_loader, test_loader = loader(splits.validation, False), loader(splits.test, False)
    metrics = metrics_for(splits, loss_name)

    callbacks: list[Any] = [EpochLogger()] if verbose else []
    scheduler = make_scheduler(settings, optimizer, val_loader is not None)
    if scheduler is not None:
        callbacks.append(LRScheduler(scheduler))
    if settings["patience"]:
        if val_loader is None:
            raise ValueError("--patience needs a validation split, and this dataset has none")
        callbacks.append(EarlyStopping("val_loss", patience=settings["patience"]))
    out = output_folder(settings, splits.name)
    if settings["checkpoint_every"] or settings["resume"]:
        callbacks.append(Checkpoint(out / "checkpoint.npz", every=max(settings["checkpoint_every"], 1)))

    hidden = parse_hidden(settings["hidden"])
    if settings["model"] == "mlp":
        described = (
            f"{splits.in_features}-{'-'.join(map(str, hidden)) + '-' if hidden else ''}{out_features} "
            f"{settings['activation']}"
        )
    else:
        described = f"{settings['model']} {'×'.join(map(str, splits.input_shape))} → {out_features}"
    say(
        f"numnet train: {splits.name} ({len(splits.train[0])} training samples), model {described}, "
        f"{settings['optimizer']} lr {settings['lr']}, batch {settings['batch_size']}, "
        f"{settings['epochs']} epochs"
    )
    start = time.perf_counter()
    try:
        history = fit(
            model,
            loss_fn,
            optimizer,
            train_loader,
            settings["epochs"],
            val_loader=val_loader,
            metrics=metrics,
            callbacks=callbacks,
            progress=settings["progress"] and verbose,
            resume=settings["resume"],
            settings=settings,
        )
    except TrainingDiverged as exc:
        exc.history.save(out / "history.json")
        raise
    train_time = time.perf_counter() - start

    results: dict[str, Any] = {"train": evaluate(model, loader(splits.train, False), loss_fn, metrics)}
    if val_loader is not None:
        results["validation"] = evaluate(model, val_loader, loss_fn, metrics)
    if test_loader is not None:
        results["test"] = evaluate(model, test_loader, loss_fn, metrics)

    metadata = {
        "dataset": settings["dataset"],
        "task": splits.task,
        "loss": loss_name,
        "in_features": splits.in_features,
        "input_shape": list(splits.input_shape),  # (C, H, W) for a CNN: what evaluate/predict/graph feed it
        "num_outputs": splits.num_outputs,
        "feature_names": splits.feature_names,
        "settings": settings,
    }
    numnet.save(model, out / "model.npz", metadata=metadata)
    history.save(out / "history.json")
    summary = {
        "settings": settings,
        "results": results,
        "train_seconds": round(train_time, 2),
        "epochs_run": len(history),
        "parameters": model.num_parameters(),
    }
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1, default=str))
    pictures = _pictures(history, out)
    atomic_write_text(out / "summary.md", _markdown(summary, pictures))
    summary["out"] = str(out)
    summary["files"] = ["model.npz", "history.json", "summary.md", "summary.json", *pictures]
    return summary


def _pictures(history: Any, out: Path) -> list[str]:
    from numnet import plot

    if not plot.is_available():  # matplotlib is an optional extra: no pictures, everything else written
        return []
    written = []
    for name, figure in plot.training_figures(history).items():
        plot.save_figure(figure, out / name)
        written.append(name)
    return written


def _markdown(summary: dict[str, Any], pictures: list[str]) -> str:
    lines = ["# numnet train", "", "| split | " + " | ".join(next(iter(summary["results"].values()))) + " |"]
    lines.append("|---" * (1 + len(next(iter(summary["results"].values())))) + "|")
    for split, values in summary["results"].items():
        lines.append(f"| {split} | " + " | ".join(f"{v:.4f}" for v in values.values()) + " |")
    lines += [
        "",
        f"Trained {summary['epochs_run']} epochs in {summary['train_seconds']} s; "
        f"{summary['parameters']:,} parameters.",
        "",
        "## Settings",
        "",
        "```json",
        json.dumps(summary["settings"], indent=1, default=str),
        "```",
        "",
    ]
    lines += [f"![{p}]({p})" for p in pictures]
    return "\n".join(lines) + "\n"


__all__ = [
    "RUN_FILES",
    "SettingWarning",
    "build_model",
    "check_resume",
    "choose_loss",
    "make_loss",
    "make_scheduler",
    "metrics_for",
    "output_folder",
    "output_width",
    "targets_for",
    "train_from_settings",
]
