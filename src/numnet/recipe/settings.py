"""The settings of one training run: their defaults, their types and the checks every front end shares."""

from __future__ import annotations

import numbers
from pathlib import Path
from typing import Any

from numnet import models, optim
from numnet.models import ACTIVATIONS, INITS
from numnet.recipe.datasets import GENERATED, NAMED

# The defaults train the tutorials' MNIST network, the back-propagation TwoLayerNet of "Deep Learning from
# Scratch" (chapter 5): 784-50-10 with a ReLU hidden layer, weights 0.01·N(0, 1), zero biases, softmax +
# cross-entropy, SGD lr 0.1, mini-batches of 100. The book trains 10,000 iterations (20 epochs) and reports
# about 97%; 30 epochs make ≥ 97% test accuracy hold across seeds (0.9715-0.9736 for seeds 0-3).
DEFAULTS: dict[str, Any] = {
    "dataset": "mnist",
    "task": "auto",
    "model": "mlp",
    "hidden": "50",
    "activation": "relu",
    "init": "normal",
    "dropout": 0.0,
    "batchnorm": False,
    "loss": "auto",
    "optimizer": "sgd",
    "lr": 0.1,
    "momentum": 0.0,
    "weight_decay": 0.0,
    "batch_size": 100,
    "epochs": 30,
    "seed": 0,
    "lr_schedule": "none",
    "patience": 0,
    "target": None,
    "samples": None,
    "out": None,
    "checkpoint_every": 0,
    "resume": None,
    "threads": None,
    "progress": True,
    "quiet": False,
}

# The book's training settings for its convolutional nets (ch. 7: Adam, lr 0.001, 20 epochs, batch 100):
# with SGD at the MLP's lr 0.1, the 0.01-std SimpleConvNet hardly leaves chance. They replace DEFAULTS for
# that model; a flag or config value still wins.
MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "simple-cnn": {"optimizer": "adam", "lr": 0.001, "epochs": 20},
    "deep-cnn": {"optimizer": "adam", "lr": 0.001, "epochs": 20},
}


def defaults_for(model: Any) -> dict[str, Any]:
    """The defaults of a run with ``--model model``: ``DEFAULTS``, with the book's settings for its CNNs."""
    return {**DEFAULTS, **MODEL_DEFAULTS.get(model, {})} if isinstance(model, str) else dict(DEFAULTS)


OPTIMIZERS = optim.OPTIMIZERS
LOSSES = ("auto", "cross_entropy", "mse", "bce")
SCHEDULERS = ("none", "step", "cosine", "plateau")
TASKS = ("auto", "classification", "regression")
# Architectures ``build_model`` knows: the MLP the flags shape, and the image nets ``numnet.models.build``
# builds by name (the book's SimpleConvNet and DeepConvNet), whose layers are fixed.
MODELS = ("mlp", *models.names())
# Settings that shape only the MLP: another --model refuses them unless they keep their defaults.
MLP_ONLY = ("hidden", "activation", "init", "dropout", "batchnorm")
# Optimizers that use ``momentum`` (the others ignore it).
WITH_MOMENTUM = ("sgd", "momentum")

CHOICES: dict[str, tuple[str, ...]] = {
    "task": TASKS,
    "model": MODELS,
    "activation": tuple(ACTIVATIONS),
    "init": tuple(INITS),
    "loss": LOSSES,
    "optimizer": OPTIMIZERS,
    "lr_schedule": SCHEDULERS,
}
REALS = ("lr", "momentum", "weight_decay", "dropout")
INTEGERS = ("batch_size", "epochs", "seed", "patience", "checkpoint_every")
OPTIONAL_INTEGERS = ("samples", "threads")
BOOLS = ("batchnorm", "progress", "quiet")
OPTIONAL_PATHS = ("target", "out", "resume")

# Settings that shape the model, the data or the optimizer: a resumed run must use the checkpoint's values.
# (epochs, out, checkpoint_every, resume, threads, progress and quiet may change between the two runs.)
FIXED_ON_RESUME = (
    "dataset",
    "task",
    "target",
    "samples",
    "model",
    "hidden",
    "activation",
    "init",
    "dropout",
    "batchnorm",
    "loss",
    "optimizer",
    "lr",
    "momentum",
    "weight_decay",
    "batch_size",
    "seed",
    "lr_schedule",
    "patience",
)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _is_integer(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def parse_hidden(value: Any) -> list[int]:
    """Hidden layer sizes from ``"256,128"``, ``256``, ``[256, 128]`` or ``""`` (none)."""
    if _is_integer(value):
        parts: list[Any] = [value]
    elif isinstance(value, (list, tuple)):
        parts = list(value)
    elif isinstance(value, str):
        parts = [p.strip() for p in value.split(",")] if value.strip() else []
    else:
        raise ValueError(f"--hidden takes comma-separated layer sizes like 256,128, got {value!r}")
    sizes = []
    for part in parts:
        if isinstance(part, str) and part.lstrip("+").isdigit():
            part = int(part)
        if not _is_integer(part):
            raise ValueError(f"--hidden takes comma-separated layer sizes like 256,128, got {value!r}")
        sizes.append(int(part))
    if any(size < 1 for size in sizes):
        raise ValueError(f"--hidden sizes must be positive, got {value!r}")
    return sizes


def check_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` completed with the defaults and checked: every value of the right type and range.

    A config file's ``"no"`` is not a bool and its ``patience: 0.5`` not an integer: both are refused with a
    ``ValueError`` that names the setting and what it takes. Unknown keys are refused too."""
    unknown = sorted(set(settings) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(DEFAULTS))}")
    checked = {**defaults_for(settings.get("model", DEFAULTS["model"])), **settings}
    if not isinstance(checked["dataset"], (str, Path)) or not str(checked["dataset"]):
        raise ValueError(f"dataset must be a dataset name or a file path, got {checked['dataset']!r}")
    checked["dataset"] = str(checked["dataset"])
    for name, choices in CHOICES.items():
        if checked[name] not in choices:
            raise ValueError(f"{name} must be one of {', '.join(choices)}, got {checked[name]!r}")
    for name in REALS:
        if not _is_real(checked[name]):  # a config file's "0.1" or true
            raise ValueError(f"{name} must be a number, got {checked[name]!r}")
        checked[name] = float(checked[name])
    for name in INTEGERS:
        if not _is_integer(checked[name]):  # patience: 0.5
            raise ValueError(f"{name} must be a whole number, got {checked[name]!r}")
        checked[name] = int(checked[name])
    for name in OPTIONAL_INTEGERS:
        value = checked[name]
        if value is not None and not _is_integer(value):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        if value is not None and value < 1:
            raise ValueError(f"{_flag(name)} must be at least 1 (leave it out for the default), got {value}")
    for name in BOOLS:
        if not isinstance(checked[name], bool):  # "no" is a non-empty string, not false
            raise ValueError(f"{name} must be true or false, got {checked[name]!r}")
    for name in OPTIONAL_PATHS:
        value = checked[name]
        if value is not None and not isinstance(value, (str, Path)):
            raise ValueError(f"{name} must be a text value, got {value!r}")
        checked[name] = None if value is None else str(value)
    checked["hidden"] = ",".join(map(str, parse_hidden(checked["hidden"])))
    for name in ("lr", "batch_size"):
        if checked[name] <= 0:
            raise ValueError(f"{_flag(name)} must be positive, got {checked[name]}")
    if checked["epochs"] < 1:
        raise ValueError(f"--epochs must be at least 1, got {checked['epochs']}")
    for name in ("momentum", "weight_decay", "seed", "patience", "checkpoint_every"):
        if checked[name] < 0:
            raise ValueError(f"{_flag(name)} must not be negative, got {checked[name]} (0 turns it off)")
    if not 0 <= checked["dropout"] < 1:
        raise ValueError(f"--dropout must be in [0, 1), got {checked['dropout']}")
    if checked["momentum"] >= 1:
        raise ValueError(f"--momentum must be below 1, got {checked['momentum']}")
    if checked["model"] != "mlp":
        changed = [
            _flag(name) if checked[name] is True else f"{_flag(name)} {checked[name]}"
            for name in MLP_ONLY
            if _normalise(name, checked[name]) != _normalise(name, DEFAULTS[name])
        ]
        if changed:
            raise ValueError(
                f"{', '.join(changed)} shape the MLP only; --model {checked['model']} has the book's fixed "
                "layers: leave those out, or use --model mlp"
            )
    return checked


def ignored_settings(settings: dict[str, Any], given: set[str] | None = None) -> list[str]:
    """Warnings for settings that were given but do nothing with the others (``--momentum`` with adam).

    ``given`` is the set of settings the user chose (default: those that differ from ``DEFAULTS``)."""
    if given is None:
        given = {k for k, v in settings.items() if k in DEFAULTS and v != DEFAULTS[k]}
    notes = []
    if "momentum" in given and settings["momentum"] and settings["optimizer"] not in WITH_MOMENTUM:
        notes.append(
            f"--momentum does nothing with --optimizer {settings['optimizer']} (only sgd and momentum use it)"
        )
    dataset = str(settings["dataset"]).lower()
    if "samples" in given and settings["samples"] is not None and dataset not in GENERATED:
        notes.append(
            f"--samples does nothing with --dataset {settings['dataset']} (only {', '.join(GENERATED)} "
            "are generated)"
        )
    if "target" in given and settings["target"] is not None and dataset in NAMED:
        notes.append(f"--target is for CSV files; dataset {settings['dataset']} has its own target")
    if (
        "checkpoint_every" in given
        and settings["checkpoint_every"]
        and settings["checkpoint_every"] > (settings["epochs"])
    ):
        notes.append(
            f"--checkpoint-every {settings['checkpoint_every']} is more than --epochs {settings['epochs']}: "
            "only the final checkpoint is written"
        )
    return notes


def settings_differences(saved: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """``"lr 0.1 → 0.5"`` for each setting in ``FIXED_ON_RESUME`` that ``wanted`` changes from ``saved``."""
    differences = []
    for name in FIXED_ON_RESUME:
        before, after = saved.get(name, DEFAULTS[name]), wanted.get(name, DEFAULTS[name])
        if _normalise(name, before) != _normalise(name, after):
            differences.append(f"{name} {before!r} → {after!r}")
    if wanted.get("lr_schedule", "none") != "none" and saved.get("epochs") != wanted.get("epochs"):
        # the schedule's length is the number of epochs: another one would change the learning rates
        differences.append(
            f"epochs {saved.get('epochs')!r} → {wanted.get('epochs')!r} (sets the lr schedule)"
        )
    return differences


def _normalise(name: str, value: Any) -> Any:
    if name == "hidden":
        try:
            return parse_hidden(value)
        except ValueError:
            return value
    if _is_real(value):
        return float(value)
    return value
