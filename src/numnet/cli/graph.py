"""``numnet graph MODEL``: draw the computational graph of a saved model on one random input."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from numnet.cli.errors import CLIError


def register(commands: Any) -> None:
    """Add the ``graph`` sub-command to ``commands`` (the sub-parsers object of the ``numnet`` parser)."""
    parser = commands.add_parser(
        "graph",
        help="draw the computational graph of a saved model (SVG, PNG, PDF or DOT)",
        description="Run a saved model on one random input and draw the graph its forward pass records: "
        "one node per operation with its output shape, the parameters by name. Needs Graphviz's dot program "
        "for pictures; without it the DOT text is written instead.",
    )
    parser.add_argument("model", help="a model.npz written by numnet train or numnet.save")
    parser.add_argument(
        "--out",
        help="picture to write: .svg (default), .png, .pdf or .dot "
        "(default: MODEL with the suffix .graph.svg)",
    )
    parser.add_argument("--values", action="store_true", help="print each tensor's values in its node")
    parser.add_argument(
        "--grads",
        action="store_true",
        help="add a loss (cross-entropy against class 0 for classifiers, else MSE against zeros), "
        "run backward once and print each node's gradient",
    )
    parser.set_defaults(run=run_graph)


def run_graph(args: argparse.Namespace) -> int:
    from numnet import backend, graph, io, ops
    from numnet.tensor import Tensor

    file = Path(args.model)
    if not file.is_file():
        raise CLIError(f"model file {file} does not exist (numnet train writes one as <out>/model.npz)")
    try:
        model, metadata = io.load_with_metadata(file)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    metadata = metadata if isinstance(metadata, dict) else {}
    if hasattr(model, "eval"):
        model.eval()

    in_features = _in_features(model, metadata)
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((1, in_features)).astype(backend.get_default_dtype()))
    loss_name = metadata.get("loss") or (
        "cross_entropy" if metadata.get("task") == "classification" else "mse"
    )
    target, loss_fn = _loss(loss_name, ops)
    try:
        root = graph.trace(model, x, target(model, x), loss_fn) if args.grads else model(x)
    except (ValueError, TypeError) as exc:
        raise CLIError(f"cannot run {file.name} on an input of {in_features} features: {exc}") from None

    title = f"{file.name}: input (1, {in_features})"
    text = graph.to_dot(
        root, params=model, inputs={"input": x}, show_values=args.values, show_grads=args.grads, title=title
    )
    out = Path(args.out) if args.out else file.with_suffix(".graph.svg")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", graph.GraphvizNotFoundWarning)
        try:
            written = graph.render(text, out)
        except (RuntimeError, ValueError) as exc:
            raise CLIError(str(exc), exit_code=1) from None
    for warning in caught:
        print(f"numnet graph: warning: {warning.message}", file=sys.stderr)
    print(written)
    return 0


def _in_features(model: Any, metadata: dict[str, Any]) -> int:
    """The input width: from the metadata, else from the first layer that declares ``in_features``."""
    value = metadata.get("in_features")
    if value is None:
        modules = model.modules() if hasattr(model, "modules") else [model]
        value = next(
            (m.in_features for m in modules if isinstance(getattr(m, "in_features", None), int)), None
        )
    if value is None:
        raise CLIError(
            "cannot tell how many input features this model takes (its file has no in_features "
            "and it has no Linear layer)"
        )
    return int(value)


def _loss(name: str, ops: Any) -> tuple[Any, Any]:
    """(target maker, loss function) for ``--grads``: class 0, or zeros shaped like the output."""

    def zeros(model: Any, x: Any) -> np.ndarray:
        from numnet.tensor import no_grad

        with no_grad():
            return np.zeros_like(np.asarray(model(x).data))

    if name == "cross_entropy":
        return (lambda model, x: np.zeros(1, dtype=np.int64)), (lambda y, t: ops.CrossEntropy.apply(y, t))
    if name == "bce":
        return zeros, (lambda y, t: ops.BCEWithLogits.apply(y, t))
    return zeros, (lambda y, t: ops.MSE.apply(y, t))
