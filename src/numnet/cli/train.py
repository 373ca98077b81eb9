"""``numnet train``: the flags and config file of a run; ``numnet.recipe.train_from_settings`` runs it."""

from __future__ import annotations

import argparse
import json
import tomllib
from pathlib import Path
from typing import Any

from numnet.cli.errors import CLIError
from numnet.models import ACTIVATIONS, INITS
from numnet.recipe import (
    DEFAULTS,
    LOSSES,
    MODELS,
    OPTIMIZERS,
    SCHEDULERS,
    TASKS,
    defaults_for,
    train_from_settings,
)


def register(commands: Any) -> None:
    """Add the ``train`` sub-command to ``numnet``'s sub-parsers."""
    parser = commands.add_parser(
        "train", help="train an MLP or a CNN on a dataset and write model, history and pictures"
    )
    add_arguments(parser)
    parser.set_defaults(run=run_train)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # Every default is None here so that a config file's values can be told apart from flags given.
    add = parser.add_argument
    add("--config", help="JSON or TOML file of settings (keys as the flags' long names); flags override it")
    add(
        "--dataset",
        help="mnist (default), fashion-mnist, digits, xor, moons, circles, spirals, curve, gender, "
        "or a .csv/.npz file",
    )
    add("--target", help="CSV: name of the target column (default: the last column)")
    add(
        "--task",
        choices=TASKS,
        help="how a file's target is read: classes or a quantity (default auto: whole numbers are classes)",
    )
    add(
        "--model",
        choices=MODELS,
        help="architecture: mlp (default, shaped by --hidden etc.), or the book's simple-cnn / deep-cnn for "
        "image datasets (mnist, fashion-mnist, digits)",
    )
    add("--samples", type=int, help="number of samples for generated datasets (moons, curve, …)")
    add("--hidden", help="hidden layer sizes, comma-separated (default 50; '' for none)")
    add("--activation", choices=list(ACTIVATIONS), help="hidden activation (default relu)")
    add(
        "--init",
        choices=list(INITS),
        help="weight initialisation (default normal: 0.01·N(0, 1), as the tutorial)",
    )
    add("--dropout", type=float, help="dropout probability after each hidden layer (default 0)")
    add(
        "--batchnorm",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="BatchNorm1d after each hidden Linear",
    )
    add("--loss", choices=LOSSES, help="default: cross_entropy for classes, mse for regression")
    add("--optimizer", choices=OPTIMIZERS, help="default sgd")
    add("--lr", type=float, help="learning rate (default 0.1)")
    add("--momentum", type=float, help="momentum for sgd (default 0; the 'momentum' optimizer uses 0.9)")
    add("--weight-decay", dest="weight_decay", type=float, help="L2 weight decay (default 0)")
    add("--batch-size", dest="batch_size", type=int, help="mini-batch size (default 100)")
    add("--epochs", type=int, help="number of epochs (default 30)")
    add("--seed", type=int, help="seed for weights, shuffling and dropout (default 0)")
    add("--lr-schedule", dest="lr_schedule", choices=SCHEDULERS, help="learning-rate schedule (default none)")
    add(
        "--patience",
        type=int,
        help="early stopping on val_loss after this many epochs without progress (0: off)",
    )
    add(
        "--checkpoint-every",
        dest="checkpoint_every",
        type=int,
        help="write checkpoint.npz every N epochs (0: off)",
    )
    add("--resume", help="continue from a checkpoint.npz written by an earlier run with the same settings")
    add("--threads", type=int, help="BLAS threads (default: NumPy's choice)")
    add("--out", help="output folder (default runs/<dataset>-<time>)")
    add("--no-progress", dest="progress", action="store_false", default=None, help="no progress bar")
    add("--quiet", action="store_true", default=None, help="print only the final summary")


def resolve_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Defaults (the chosen model's: ``recipe.defaults_for``), then the config file, then the flags given."""
    given: dict[str, Any] = {}
    if args.config:
        given.update(read_config(Path(args.config)))
    given.update({k: v for k, v in vars(args).items() if k in DEFAULTS and v is not None})
    return {**defaults_for(given.get("model", DEFAULTS["model"])), **given}


def read_config(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise CLIError(f"config file {path} does not exist")
    try:
        text = path.read_text()
        raw = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise CLIError(
            f"config file {path} is not valid {'TOML' if path.suffix == '.toml' else 'JSON'}: {exc}"
        ) from None
    if not isinstance(raw, dict):
        raise CLIError(f"config file {path} must hold a table/object of settings")
    settings = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if name not in DEFAULTS:
            raise CLIError(
                f"config file {path}: unknown setting {key!r}; known: {', '.join(sorted(DEFAULTS))}"
            )
        settings[name] = value  # types and ranges are checked with the flags' (recipe.check_settings)
    return settings


def given_settings(args: argparse.Namespace) -> set[str]:
    """The settings the user chose, on the command line or in the config file (for warnings)."""
    given = {k for k, v in vars(args).items() if k in DEFAULTS and v is not None}
    if getattr(args, "config", None):
        given |= set(read_config(Path(args.config)))
    return given


def run_train(args: argparse.Namespace) -> int:
    settings = resolve_settings(args)
    quiet = settings["quiet"] is True
    summary = train_from_settings(settings, verbose=not quiet, given=given_settings(args))
    results = summary["results"]
    split_name = next(s for s in ("test", "validation", "train") if s in results)
    shown = ", ".join(f"{k} {v:.4f}" for k, v in results[split_name].items())
    print(f"{split_name}: {shown}  ({summary['train_seconds']:.1f}s training)")
    print(f"wrote {summary['out']}/: " + ", ".join(summary["files"]))
    return 0
