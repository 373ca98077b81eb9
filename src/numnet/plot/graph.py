"""A computational graph drawn with matplotlib alone: the picture ``numnet.graph.render`` makes when
Graphviz's ``dot`` program is not installed.

The layout is a small Sugiyama-style layered drawing, in four steps:

1. **layers**: each operation sits one layer after the latest of its inputs; a leaf (parameter, input,
   constant) sits in the layer just before its first consumer, so W1 is drawn next to the Linear that uses it;
2. **dummies**: an edge that spans several layers is split by invisible points, one per layer it crosses, so
   it bends around the nodes in between instead of running through them;
3. **order**: within each layer the nodes are sorted by the mean position of their neighbours in the layer
   before (then after), a few sweeps back and forth (the barycentre heuristic, which removes most crossings);
4. **coordinates**: layers are placed side by side (width of their widest node plus a gap), and within a
   layer each node moves towards its neighbours' mean position, keeping the order and a minimum gap.

Everything is measured in points (1/72 inch), so the figure is exactly as large as the text needs.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from numnet.plot.style import DPI, require_matplotlib

KIND_NAMES = {
    "op": "operation (its output)",
    "param": "parameter (a leaf that gets a gradient)",
    "input": "input, target or constant",
    "root": "result (the loss or output)",
}

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

#: Fill and edge colour of each kind of node (the same as numnet.graph's Graphviz styles).
NODE_COLORS = {
    "op": ("#fff2cc", "#b7950b"),
    "param": ("#cfe2f3", "#2e75b6"),
    "input": ("#eeeeee", "#7f7f7f"),
    "root": ("#f4cccc", "#c00000"),
}
VALUE_COLOR, GRAD_COLOR = "#1f1f1f", "#b00020"

FONT_SIZE = 9.0  # title and shape
MONO_SIZE = 7.5  # values and gradients
LINE_GAP = 1.25  # line height / font size
PAD = 6.0  # inside a node, points
LAYER_GAP = 34.0  # between layers
NODE_GAP = 14.0  # between nodes of a layer
SANS_WIDTH, MONO_WIDTH = 0.64, 0.63  # average character width / font size (DejaVu Sans bold, DejaVu Mono)
MAX_NODES = 400  # beyond that the picture is unreadable anyway


@dataclass
class GraphNode:
    """One node: its id, its kind (``op``, ``param``, ``input``, ``root``) and its text lines."""

    id: str
    kind: str
    title: str
    shape: str = ""
    value: list[str] = field(default_factory=list)
    grad: list[str] = field(default_factory=list)

    def lines(self) -> list[tuple[str, str]]:
        """(text, style) per line, style one of ``title``, ``shape``, ``value``, ``grad``."""
        rows = [(self.title, "title")]
        if self.shape:
            rows.append((self.shape, "shape"))
        rows += [(t, "value") for t in self.value] + [(t, "grad") for t in self.grad]
        return rows

    def size(self) -> tuple[float, float]:
        """Width and height in points."""
        width, height = 0.0, 0.0
        for text, style in self.lines():
            mono = style in ("value", "grad")
            size = MONO_SIZE if mono else FONT_SIZE
            width = max(width, len(text) * size * (MONO_WIDTH if mono else SANS_WIDTH))
            height += size * LINE_GAP
        extra = 1.3 if self.kind == "input" else 1.0  # an ellipse needs room around its text
        return (width + 2 * PAD) * extra, (height + 2 * PAD) * (1.15 if self.kind == "input" else 1.0)


@dataclass
class GraphSpec:
    """A graph to draw: nodes in order, edges (from id, to id), a title and the layout direction."""

    nodes: list[GraphNode]
    edges: list[tuple[str, str]]
    title: str = ""
    rankdir: str = "LR"


@dataclass
class Layout:
    """Node centres and edge polylines, in points (y upwards), and the size of the picture."""

    centres: dict[str, tuple[float, float]]
    sizes: dict[str, tuple[float, float]]
    routes: list[list[tuple[float, float]]]
    width: float
    height: float


def _layers(ids: Sequence[str], edges: Sequence[tuple[str, str]]) -> dict[str, int]:
    preds: dict[str, list[str]] = {n: [] for n in ids}
    succs: dict[str, list[str]] = {n: [] for n in ids}
    for a, b in edges:
        preds[b].append(a)
        succs[a].append(b)
    layer: dict[str, int] = {}
    pending = {n: len(preds[n]) for n in ids}
    ready = [n for n in ids if pending[n] == 0]
    while ready:  # Kahn's topological order: every node after all its inputs
        n = ready.pop(0)
        layer[n] = max((layer[p] + 1 for p in preds[n]), default=0)
        for s in succs[n]:
            pending[s] -= 1
            if pending[s] == 0:
                ready.append(s)
    if len(layer) != len(ids):
        raise ValueError("draw_graph: the graph has a cycle; a computational graph never does")
    for n in ids:  # a leaf goes right before its first consumer
        if not preds[n] and succs[n]:
            layer[n] = min(layer[s] for s in succs[n]) - 1
    low = min(layer.values(), default=0)
    return {n: v - low for n, v in layer.items()}


def layered_layout(spec: GraphSpec) -> Layout:
    """Place the nodes of ``spec`` in layers and route its edges (see the module's docstring)."""
    ids = [n.id for n in spec.nodes]
    sizes = {n.id: n.size() for n in spec.nodes}
    vertical = spec.rankdir in ("TB", "BT")
    # extent along the layer axis ("depth") and across it ("breadth")
    depth = {n: sizes[n][1 if vertical else 0] for n in ids}
    breadth = {n: sizes[n][0 if vertical else 1] for n in ids}
    layer = _layers(ids, spec.edges)

    # dummy points split the long edges
    chains: list[list[str]] = []
    for k, (a, b) in enumerate(spec.edges):
        chain = [a]
        for step in range(layer[a] + 1, layer[b]):
            dummy = f"_d{k}_{step}"
            layer[dummy], depth[dummy], breadth[dummy] = step, 0.0, 4.0
            chain.append(dummy)
        chains.append([*chain, b])
    up: dict[str, list[str]] = {n: [] for n in layer}
    down: dict[str, list[str]] = {n: [] for n in layer}
    for chain in chains:
        for a, b in itertools.pairwise(chain):
            down[a].append(b)
            up[b].append(a)

    count = max(layer.values(), default=-1) + 1
    rows: list[list[str]] = [[] for _ in range(count)]
    for n in layer:  # first appearance order: to_dot lists nodes in the order the forward pass made them
        rows[layer[n]].append(n)

    def sweep(order_rows: list[list[str]], neighbours: dict[str, list[str]], indices: range) -> None:
        for i in indices:
            previous = {n: j for j, n in enumerate(order_rows[i - 1 if indices.step > 0 else i + 1])}
            here = {n: j for j, n in enumerate(order_rows[i])}
            keys = {}
            for n in order_rows[i]:
                positions = [previous[m] for m in neighbours[n] if m in previous]
                keys[n] = sum(positions) / len(positions) if positions else float(here[n])
            order_rows[i].sort(key=lambda n: (keys[n], here[n]))

    for _ in range(4):
        sweep(rows, up, range(1, count, 1))
        sweep(rows, down, range(count - 2, -1, -1))

    # across-axis coordinates: stacked, then pulled towards the neighbours, keeping the order and the gaps
    pos: dict[str, float] = {}
    for row in rows:
        total = sum(breadth[n] for n in row) + NODE_GAP * (len(row) - 1)
        at = -total / 2
        for n in row:
            pos[n] = at + breadth[n] / 2
            at += breadth[n] + NODE_GAP
    for _ in range(8):
        for row in rows:
            wanted = []
            for n in row:
                others = [pos[m] for m in up[n] + down[n]]
                wanted.append(sum(others) / len(others) if others else pos[n])
            for j, n in enumerate(row):
                pos[n] = wanted[j]
            for j in range(1, len(row)):  # push apart downwards …
                a, b = row[j - 1], row[j]
                least = pos[a] + (breadth[a] + breadth[b]) / 2 + NODE_GAP
                pos[b] = max(pos[b], least)
            shift = sum(wanted) / len(row) - sum(pos[n] for n in row) / len(row) if row else 0.0
            for n in row:  # … and re-centre the row on where its nodes wanted to be
                pos[n] += shift

    # along-axis coordinates: one column (or row) per layer
    layer_depth = [max((depth[n] for n in row), default=0.0) for row in rows]
    starts, at = [], 0.0
    for d in layer_depth:
        starts.append(at + d / 2)
        at += d + LAYER_GAP
    along = {n: starts[layer[n]] for n in layer}

    low = min(pos[n] - breadth[n] / 2 for n in layer)
    high = max(pos[n] + breadth[n] / 2 for n in layer)
    extent_along, extent_across = at - LAYER_GAP, high - low

    def point(n: str) -> tuple[float, float]:
        a, b = along[n], pos[n] - low
        if vertical:  # layers top to bottom (TB) or bottom to top (BT)
            return (b, extent_along - a) if spec.rankdir == "TB" else (b, a)
        return (a, extent_across - b) if spec.rankdir == "LR" else (extent_along - a, extent_across - b)

    centres = {n: point(n) for n in ids}
    routes = []
    sign = -1.0 if spec.rankdir in ("TB", "RL") else 1.0
    for chain in chains:
        route = []
        for k, n in enumerate(chain):
            x, y = point(n)
            if n in sizes:  # leave a node from its far side, enter the next from its near side
                half = depth[n] / 2 * (sign if k == 0 else -sign)
                x, y = (x, y - half) if vertical else (x + half, y)
            route.append((x, y))
        routes.append(route)
    width, height = (extent_across, extent_along) if vertical else (extent_along, extent_across)
    return Layout(centres, sizes, routes, width, height)


def draw_graph(spec: GraphSpec, legend: bool = True) -> Figure:
    """A matplotlib figure of the graph, sized so that its text (in points) fits."""
    require_matplotlib()
    from matplotlib.figure import Figure
    from matplotlib.patches import Ellipse, FancyArrowPatch, FancyBboxPatch, Patch

    if len(spec.nodes) > MAX_NODES:
        raise ValueError(
            f"draw_graph: {len(spec.nodes)} nodes is too many to draw readably (at most {MAX_NODES}); "
            "write a .dot file and draw it with Graphviz"
        )
    layout = layered_layout(spec)
    margin = 14.0
    top = 24.0 if spec.title else 0.0
    kinds = [k for k in NODE_COLORS if any(n.kind == k for n in spec.nodes)]
    has_text = any(n.value or n.grad for n in spec.nodes)
    bottom = (18.0 + 12.0 * has_text) if legend else 0.0
    width = max(layout.width + 2 * margin, 300.0 if legend else 0.0)
    height = layout.height + 2 * margin + top + bottom
    fig = Figure(figsize=(width / 72, height / 72), dpi=DPI)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()
    dx, dy = (width - layout.width) / 2, margin + bottom

    for route in layout.routes:
        pts = [(x + dx, y + dy) for x, y in route]
        if len(pts) > 2:
            ax.plot(
                [p[0] for p in pts[:-1]], [p[1] for p in pts[:-1]], color="#555555", linewidth=0.9, zorder=1
            )
        ax.add_patch(
            FancyArrowPatch(
                pts[-2],
                pts[-1],
                arrowstyle="-|>",
                mutation_scale=9,
                color="#555555",
                linewidth=0.9,
                shrinkA=0,
                shrinkB=1,
                zorder=1,
            )
        )

    for node in spec.nodes:
        cx, cy = layout.centres[node.id]
        cx, cy = cx + dx, cy + dy
        w, h = layout.sizes[node.id]
        fill, edge = NODE_COLORS.get(node.kind, NODE_COLORS["op"])
        bold = node.kind == "root"
        if node.kind == "input":
            patch: Any = Ellipse((cx, cy), w, h, facecolor=fill, edgecolor=edge, linewidth=1.0, zorder=2)
        else:
            style = "square,pad=0" if node.kind == "param" else "round,pad=0,rounding_size=6"
            patch = FancyBboxPatch(
                (cx - w / 2, cy - h / 2),
                w,
                h,
                boxstyle=style,
                facecolor=fill,
                edgecolor=edge,
                linewidth=2.0 if bold else 1.0,
                zorder=2,
            )
        ax.add_patch(patch)
        lines = node.lines()
        heights = [(MONO_SIZE if s in ("value", "grad") else FONT_SIZE) * LINE_GAP for _, s in lines]
        y = cy + sum(heights) / 2
        for (text, style), line_height in zip(lines, heights, strict=True):
            y -= line_height / 2
            mono = style in ("value", "grad")
            ax.text(
                cx if not mono else cx - w / 2 + PAD * (1.3 if node.kind == "input" else 1.0),
                y,
                text,
                ha="center" if not mono else "left",
                va="center",
                fontsize=MONO_SIZE if mono else FONT_SIZE,
                family="monospace" if mono else "sans-serif",
                fontweight="bold" if style == "title" else "normal",
                color=GRAD_COLOR if style == "grad" else VALUE_COLOR,
                zorder=3,
            )
            y -= line_height / 2

    if spec.title:
        ax.text(
            width / 2,
            height - margin / 2 - 6,
            spec.title,
            ha="center",
            va="center",
            fontsize=10.5,
            fontweight="bold",
        )
    if legend:
        handles = [
            Patch(facecolor=NODE_COLORS[k][0], edgecolor=NODE_COLORS[k][1], label=KIND_NAMES[k])
            for k in kinds
        ]
        fig.legend(
            handles=handles,
            loc="lower center",
            ncol=len(handles),
            fontsize=7.5,
            frameon=False,
            bbox_to_anchor=(0.5, (12.0 * has_text + 2) / height),
            handlelength=1.4,
            columnspacing=1.0,
        )
        if has_text:
            has_grad = any(n.grad for n in spec.nodes)
            ax.text(
                width / 2,
                8,
                "in each node: name, shape, value (black)"
                + (" and gradient of the loss (red)" if has_grad else ""),
                ha="center",
                va="center",
                fontsize=7.5,
                color="#333333",
            )
    return fig


__all__ = ["GraphNode", "GraphSpec", "Layout", "draw_graph", "layered_layout"]
