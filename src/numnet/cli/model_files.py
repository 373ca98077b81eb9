"""``numnet evaluate``, ``numnet predict`` and ``numnet summary``: commands on a saved model file."""

from __future__ import annotations

import argparse
import csv
import io
import math
from pathlib import Path
from typing import Any

import numpy as np

import numnet
from numnet import data, models
from numnet.cli.errors import CLIError, one_line
from numnet.files import atomic_write
from numnet.io import ModelFileError, check_model_metadata
from numnet.recipe import LOSSES, NAMED, TASKS, load_dataset, make_loss, metrics_for, targets_for
from numnet.summary import summary_table
from numnet.train import evaluate


def register(commands: Any) -> None:
    """Add ``evaluate``, ``predict`` and ``summary`` to ``numnet``'s sub-parsers."""
    parser = commands.add_parser("evaluate", help="loss and metrics of a saved model on a dataset")
    add_evaluate_arguments(parser)
    parser.set_defaults(run=run_evaluate)
    parser = commands.add_parser("predict", help="predictions of a saved model for inputs in a CSV/NPY file")
    add_predict_arguments(parser)
    parser.set_defaults(run=run_predict)
    parser = commands.add_parser(
        "summary", help="layer table of a saved model: output shapes and parameter counts"
    )
    add_summary_arguments(parser)
    parser.set_defaults(run=run_summary)


# The largest input width or output count a model file may declare: the CLI allocates inputs of that size.
MAX_WIDTH = 10_000_000


def load_model(path: str) -> tuple[Any, dict[str, Any]]:
    """The model in ``path`` and its metadata, every field the CLI reads checked for type and range."""
    file = Path(path)
    if file.exists() and not file.is_file():
        raise CLIError(
            f"model file {file} is not a regular file (a folder, pipe or device); give a model.npz"
        )
    if not file.is_file():
        raise CLIError(f"model file {file} does not exist (numnet train writes one as <out>/model.npz)")
    try:
        model, meta = numnet.io.load_with_metadata(file)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    return model, checked_metadata(meta if isinstance(meta, dict) else {}, file)  # no metadata: None


def checked_metadata(meta: dict[str, Any], file: Path) -> dict[str, Any]:
    """``meta`` with the fields the CLI uses checked: a file with a wrong one is refused in one line.

    ``numnet.io.check_model_metadata`` checks the fields every reader of model files shares (in_features,
    dataset, settings); the CLI adds its own (num_outputs, loss, task).
    """
    try:
        check_model_metadata(meta, None, where=f"{file}: its metadata")
    except ModelFileError as exc:
        raise CLIError(str(exc)) from None
    for field, choices in (("loss", LOSSES), ("task", ("classification", "regression"))):
        if field in meta and meta[field] not in choices:
            raise CLIError(
                f"{file}: its metadata's {field} must be one of {', '.join(choices)}, got {meta[field]!r}"
            )
    value = meta.get("num_outputs")
    whole = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_WIDTH
    if "num_outputs" in meta and not whole:
        raise CLIError(
            f"{file}: its metadata's num_outputs must be a whole number from 1 to {MAX_WIDTH:,}, "
            f"got {value!r}"
        )
    return meta


def add_evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="a model.npz written by numnet train or numnet.save")
    parser.add_argument("--dataset", help="dataset to evaluate on (default: the one it was trained on)")
    parser.add_argument("--split", choices=["train", "validation", "test"], default="test")
    parser.add_argument("--target", help="CSV: name of the target column")


def run_evaluate(args: argparse.Namespace) -> int:
    model, meta = load_model(args.model)
    name = args.dataset or meta.get("dataset")
    if not name:
        raise CLIError("this model file does not say which dataset it was trained on; pass --dataset")
    if not args.dataset and name.lower() not in NAMED:
        # a model file names a dataset; only a built-in one is read on its word, never a local file
        raise CLIError(
            f"this model was trained on the file {name!r}; pass --dataset FILE to evaluate it on a file"
        )
    settings = meta.get("settings", {})
    same = name == meta.get("dataset")  # regenerate the trained-on data exactly (--samples included)
    splits = load_dataset(
        name,
        seed=settings.get("seed", 0),
        target=args.target or settings.get("target"),
        n_samples=settings.get("samples") if same else None,
        task=settings.get("task", "auto") if same and settings.get("task") in TASKS else "auto",
    )
    split = getattr(splits, args.split)
    if split is None:
        raise CLIError(f"dataset {name} has no {args.split} split; use --split train")
    x, y = split
    shape = sample_shape(model, meta)
    if x.shape[1] != math.prod(shape):
        raise CLIError(f"dataset {name} has {x.shape[1]} features but the model expects {_described(shape)}")
    x = x.reshape(len(x), *shape)  # (N, C, H, W) for a CNN; a view
    # the same loss, targets and metrics as numnet train used (the loss it chose is in the metadata)
    loss_fn, loss_name = make_loss(meta.get("loss", "auto"), splits)
    if splits.task == "classification" and y.size and y.max() >= meta.get("num_outputs", splits.num_outputs):
        raise CLIError(
            f"dataset {name} has labels up to {y.max()}, but the model has "
            f"{meta.get('num_outputs')} outputs: it was trained on another dataset"
        )
    y = targets_for(y, loss_name, meta.get("num_outputs", splits.num_outputs))
    metrics = metrics_for(splits, loss_name)
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=1000)
    results = evaluate(model, loader, loss_fn, metrics)
    print(f"{name} {args.split} ({len(x)} samples): " + ", ".join(f"{k} {v:.4f}" for k, v in results.items()))
    return 0


def add_predict_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="a model.npz written by numnet train or numnet.save")
    parser.add_argument("input", help="a .csv (with a header row) or .npy file of inputs, one row per sample")
    parser.add_argument("--output", "-o", help="write predictions here (.csv or .npy); default: print them")
    parser.add_argument("--proba", action="store_true", help="print class probabilities instead of labels")


def read_inputs(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """The inputs in ``path`` (.npy or .csv) as float32 ``(N, *shape)``: flat rows of ``prod(shape)`` values
    are reshaped to the model's sample shape (a CNN's (C, H, W)); an .npy already shaped so is taken as is."""
    if path.exists() and not path.is_file():
        raise CLIError(
            f"input file {path} is not a regular file (a folder, pipe or device); give a .csv or .npy"
        )
    if not path.is_file():
        raise CLIError(f"input file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            x = np.load(path, allow_pickle=False)
        except ValueError as exc:
            # NumPy's message for an object array suggests loading it with pickle: numnet never does that
            if "pickle" in str(exc).lower() or "object" in str(exc).lower():
                raise CLIError(
                    f"{path} holds Python objects (pickled data), which numnet never loads; "
                    "save a plain numeric array with np.save"
                ) from None
            raise CLIError(f"{path} is not a readable .npy array: {one_line(exc)}") from None
        if not isinstance(x, np.ndarray) or x.dtype.kind not in "biuf":
            raise CLIError(f"{path}: inputs must be a numeric array, got {getattr(x, 'dtype', type(x))}")
    elif suffix == ".csv":
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
        if rows and any(_not_number(v) for v in rows[0]):
            rows = rows[1:]  # header
        try:
            x = np.array([[float(v) for v in row] for row in rows if row], dtype=np.float32)
        except ValueError as exc:
            raise CLIError(f"{path}: every value must be a number ({exc})") from None
    else:
        raise CLIError(f"{path}: inputs must be a .csv or .npy file")
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == len(shape) + 1 and x.shape[1:] == shape:
        return x
    x = x.reshape(1, -1) if x.ndim == 1 else x.reshape(len(x), -1)
    if x.shape[1] != math.prod(shape):
        raise CLIError(
            f"{path}: rows have {x.shape[1]} values but the model expects {_described(shape)}; "
            "give one sample per row"
        )
    return x.reshape(len(x), *shape)


def _not_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return True
    return False


def sample_shape(model: Any, meta: dict[str, Any]) -> tuple[int, ...]:
    """The shape of one input sample: ``(in_features,)`` for an MLP, ``(C, H, W)`` for a CNN.

    From the metadata's ``input_shape`` (numnet train writes it), else its ``in_features``, else the model's
    first ``Linear`` (``numnet.models.input_shape``); a CNN saved without ``input_shape`` is refused."""
    if "input_shape" not in meta and "in_features" in meta:
        return (int(meta["in_features"]),)
    if not hasattr(model, "modules"):
        raise CLIError("this model file holds no layers to run; give a model saved from an nn.Module")
    try:
        return models.input_shape(model, meta)
    except ValueError as exc:
        raise CLIError(str(exc)) from None


def _described(shape: tuple[int, ...]) -> str:
    if len(shape) == 1:
        return f"{shape[0]} features"
    return f"{math.prod(shape)} values per sample (images {'×'.join(map(str, shape))})"


def run_predict(args: argparse.Namespace) -> int:
    model, meta = load_model(args.model)
    x = read_inputs(Path(args.input), sample_shape(model, meta))
    model.eval()
    with numnet.no_grad():
        scores = model(numnet.Tensor(x)).data
    loss_name = meta.get("loss")
    if meta.get("task") == "classification":
        if loss_name == "bce":
            proba = numnet.sigmoid(numnet.Tensor(scores)).data
            proba = np.concatenate([1 - proba, proba], axis=1)
        else:
            proba = numnet.softmax(numnet.Tensor(scores), axis=1).data
        result = proba if args.proba else proba.argmax(axis=1)
    else:
        result = scores
    if args.output:
        out = Path(args.output)
        with atomic_write(out) as handle:
            if out.suffix.lower() == ".npy":
                np.save(handle, result, allow_pickle=False)
            else:
                text = io.StringIO()
                np.savetxt(
                    text,
                    np.atleast_2d(result.T).T,
                    delimiter=",",
                    fmt="%d" if result.dtype.kind == "i" else "%.6g",
                )
                handle.write(text.getvalue().encode())
        print(f"wrote {len(result)} predictions to {out}")
    else:
        for row in np.atleast_1d(result):
            print(row if np.ndim(row) == 0 else ",".join(f"{v:.6g}" for v in np.atleast_1d(row)))
    return 0


def add_summary_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="a model.npz written by numnet train or numnet.save")


def run_summary(args: argparse.Namespace) -> int:
    model, meta = load_model(args.model)
    print(summary_table(model, sample_shape(model, meta)))
    return 0
