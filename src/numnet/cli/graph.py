"""``numnet graph MODEL``: draw the computational graph of a saved model on one random input."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from numnet.cli.errors import CLIError
from numnet.cli.model_files import load_model, sample_shape


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
        help="add the loss numnet train used (against class 0 for classifiers, zeros for regression), "
        "run backward once and print each node's gradient",
    )
    parser.set_defaults(run=run_graph)


def run_graph(args: argparse.Namespace) -> int:
    from numnet import backend, graph
    from numnet.tensor import Tensor

    file = Path(args.model)
    model, metadata = load_model(args.model)
    if hasattr(model, "eval"):
        model.eval()

    shape = sample_shape(model, metadata)  # (in_features,) or a CNN's (C, H, W)
    described = ", ".join(map(str, (1, *shape)))
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((1, *shape)).astype(backend.get_default_dtype()))
    try:
        if args.grads:
            target, loss_fn = _loss_and_target(model, x, metadata)
            root = graph.trace(model, x, target, loss_fn)
        else:
            root = model(x)
    except (ValueError, TypeError) as exc:
        raise CLIError(f"cannot run {file.name} on an input of shape ({described}): {exc}") from None

    title = f"{file.name}: input ({described})"
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


def _loss_and_target(model: Any, x: Any, metadata: dict[str, Any]) -> tuple[np.ndarray, Any]:
    """The loss numnet train chose for this model (``recipe.choose_loss``) and a target for ``x`` in the
    form that loss takes: class 0 for a classifier, zeros shaped like the output for regression."""
    from numnet.recipe import choose_loss, targets_for
    from numnet.tensor import no_grad

    with no_grad():
        width = int(np.asarray(model(x).data).shape[-1])
    task = metadata.get("task") if metadata.get("task") in ("classification", "regression") else None
    loss = metadata.get("loss") if isinstance(metadata.get("loss"), str) else "auto"
    if task is None:
        task = "classification" if loss in ("cross_entropy", "bce") else "regression"
    num_outputs = 2 if loss == "bce" else width
    loss_fn, loss_name = choose_loss(loss, task, num_outputs)
    if task == "classification":
        target = targets_for(np.zeros(1, dtype=np.int64), loss_name, num_outputs)
    else:
        target = np.zeros((1, width), dtype=np.asarray(x.data).dtype)
    return target, loss_fn
