"""apples — the shopping example of "Deep Learning from Scratch", chapter 5, on numnet tensors.

You buy 2 apples at 100 each and pay 10% tax: price = apple × count × tax = 100 × 2 × 1.1 = 220. Written with
tensors, each × is a multiplication node of the computational graph (the book's MulLayer) and each + an
addition node (AddLayer). Backpropagation runs the graph from right to left with dout = 1:

- a multiplication node passes each input the upstream gradient times the *other* input (d(xy)/dx = y),
- an addition node passes the upstream gradient through unchanged (d(x + y)/dx = 1).

So d price / d apple = count × tax = 2.2, d price / d count = apple × tax = 110 and d price / d tax =
apple × count = 200. The book's second example adds 3 oranges at 150: (200 + 450) × 1.1 = 715.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import numnet
from numnet import graph
from numnet.demos.common import GRAPHVIZ_HINT, Report, output_folder, setting

NAME = "apples"
TITLE = "the apple-shopping computational graph (MulLayer / AddLayer)"

PUBLISHED_APPLES = {"price": 220, "d apple": 2.2, "d apple_num": 110, "d tax": 200}
PUBLISHED_FRUIT = {
    "price": 715,
    "d apple_num": 110,
    "d apple": 2.2,
    "d orange": 3.3,
    "d orange_num": 165,
    "d tax": 650,
}


@dataclass
class Settings:
    apple: float = setting(100.0, "price of one apple")
    apple_num: float = setting(2.0, "number of apples")
    orange: float = setting(150.0, "price of one orange")
    orange_num: float = setting(3.0, "number of oranges")
    tax: float = setting(1.1, "tax factor")
    float64: bool = setting(False, "compute in float64 (shows 100·2·1.1 = 220.00000000000003)")


QUICK: dict[str, Any] = {}


def leaf(value: float, name: str) -> numnet.Tensor:
    """An input of the graph that wants its gradient."""
    t = numnet.tensor(value, requires_grad=True)
    t.name = name
    return t


def node(t: numnet.Tensor, name: str) -> numnet.Tensor:
    """Name an intermediate result and keep its gradient after backward (to show it on the graph)."""
    t.name = name
    return t.retain_grad()


def buy_apples(s: Settings) -> tuple[numnet.Tensor, dict[str, numnet.Tensor]]:
    """price = (apple × apple_num) × tax: two multiplication nodes."""
    x = {name: leaf(getattr(s, name), name) for name in ("apple", "apple_num", "tax")}
    apple_price = node(x["apple"] * x["apple_num"], "apple_price")
    price = node(apple_price * x["tax"], "price")
    return price, x


def buy_fruit(s: Settings) -> tuple[numnet.Tensor, dict[str, numnet.Tensor]]:
    """price = (apple × apple_num + orange × orange_num) × tax: three multiplications and one addition."""
    names = ("apple", "apple_num", "orange", "orange_num", "tax")
    x = {name: leaf(getattr(s, name), name) for name in names}
    apple_price = node(x["apple"] * x["apple_num"], "apple_price")
    orange_price = node(x["orange"] * x["orange_num"], "orange_price")
    all_price = node(apple_price + orange_price, "all_price")
    price = node(all_price * x["tax"], "price")
    return price, x


def draw(price: numnet.Tensor, x: dict[str, numnet.Tensor], path: Path, title: str) -> Path:
    """The graph with each node's value and gradient, as SVG and PNG (drawn by Graphviz, or by numnet's own
    layout where Graphviz is not installed); the PNG's path."""
    text = graph.to_dot(price, inputs=x, show_values=True, show_grads=True, title=title, legend=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", graph.GraphvizNotFoundWarning)  # the demo says it once, itself
        graph.render(text, path.with_suffix(".svg"))
        return graph.render(text, path.with_suffix(".png"))


def run(settings: Settings | None = None, out: str | Path | None = None) -> dict[str, Any]:
    settings = settings or Settings()
    out = output_folder(NAME, out)
    report = Report(NAME, TITLE, out, settings, intro=__doc__.split("\n\n", 1)[1])
    dtype = np.float64 if settings.float64 else np.float32

    with numnet.default_dtype(dtype):
        price, x = buy_apples(settings)
        price.backward(retain_graph=True)  # dout = 1; keep the graph to draw it afterwards
        apples = {"price": price.item(), **{f"d {k}": float(v.grad) for k, v in x.items()}}
        picture = draw(price, x, out / "apples_graph", "2 apples at 100, tax 1.1")

        fruit_price, fx = buy_fruit(settings)
        fruit_price.backward(retain_graph=True)
        fruit = {"price": fruit_price.item(), **{f"d {k}": float(v.grad) for k, v in fx.items()}}
        fruit_picture = draw(
            fruit_price, fx, out / "fruit_graph", "2 apples at 100 + 3 oranges at 150, tax 1.1"
        )

    exact = settings.float64
    for key, value in apples.items():
        report.compare(f"apples: {key.replace('d ', 'd price / d ')}", value, PUBLISHED_APPLES[key], exact)
    for key in PUBLISHED_FRUIT:
        report.compare(
            f"apples + oranges: {key.replace('d ', 'd price / d ')}", fruit[key], PUBLISHED_FRUIT[key], exact
        )
    report.section(
        "Reading the graph",
        "Each box is an operation numnet recorded while computing the price: `Mul` is the book's MulLayer, "
        "`Add` its AddLayer. Calling `price.backward()` seeds d price / d price = 1 and walks the boxes "
        "from right to left: a `Mul` node hands each input the upstream gradient times the other input "
        "(the book's 'swap the inputs'), an `Add` node hands the upstream gradient on unchanged.",
    )
    report.section(
        "Floating point",
        "In float64, 100 × 2 × 1.1 is 220.00000000000003 (1.1 has no exact binary form) and d price / d "
        "count 110.00000000000001; the book prints the rounded 220 and 110. numnet computes in float32 by "
        "default, where both round to exactly 220 and 110 (run with `--float64` to see the float64 digits).",
    )
    if not graph.graphviz_available():
        report.note(GRAPHVIZ_HINT)
    for path, caption in (
        (picture, "the apple graph, values and gradients"),
        (fruit_picture, "the apple + orange graph, values and gradients"),
    ):
        report.file(path, caption)
    report.finish()
    return {
        "apples": apples,
        "fruit": fruit,
        "graph": picture,
        "fruit_graph": fruit_picture,
        "headline": f"price {apples['price']:g}; grads {apples['d apple']:g} / {apples['d apple_num']:g} / "
        f"{apples['d tax']:g}",
    }
