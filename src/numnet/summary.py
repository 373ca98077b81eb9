"""A model's layer table: each top-level layer with its output shape and parameter count."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from numnet.tensor import Tensor, no_grad


def layer_rows(model: Any, input_shape: Sequence[int]) -> list[tuple[str, str, tuple[int, ...], int]]:
    """(name, type, output shape with batch 1 as N, parameters) for each child, found by one forward pass."""
    children = list(model.named_children()) or [("", model)]
    dtype = next(iter(model.parameters())).dtype if model.num_parameters() else np.float32
    x = Tensor(np.zeros((1, *input_shape), dtype=dtype))  # one sample: the model runs in eval mode below
    rows = []
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            for name, child in children:
                x = child(x)
                count = sum(p.numel() for p in child.parameters())
                rows.append((name, type(child).__name__, (-1, *x.shape[1:]), count))
    finally:
        model.train(was_training)
    return rows


def printable(text: str) -> str:
    """``text`` with control and other unprintable characters escaped (``\\x1b``, ``\\n``): a layer name
    from a model file cannot move the cursor, clear the screen or forge lines in a terminal."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def summary_table(model: Any, input_shape: Sequence[int]) -> str:
    """The table as text, with the totals (parameters and their memory). Names are shown ``printable``."""
    rows = layer_rows(model, input_shape)
    header = ("layer", "type", "output shape", "params")
    body = [
        (printable(name) or "-", printable(kind), "(N, " + ", ".join(map(str, shape[1:])) + ")", f"{count:,}")
        for name, kind, shape, count in rows
    ]
    widths = [max(len(str(r[i])) for r in (header, *body)) for i in range(4)]
    line = "  ".join(f"{{:<{w}}}" for w in widths[:3]) + f"  {{:>{widths[3]}}}"
    total = model.num_parameters()
    nbytes = sum(p.data.nbytes for p in model.parameters())
    out = [line.format(*header), "-" * (sum(widths) + 6)]
    out += [line.format(*r) for r in body]
    out += [
        "-" * (sum(widths) + 6),
        f"input (N, {', '.join(map(str, input_shape))}); {total:,} parameters ({nbytes / 1024:.1f} KiB)",
    ]
    return "\n".join(out)
