"""Layer 8: draw the computational graph that a forward pass recorded.

Every operation on tensors that require gradients leaves a ``Function`` node behind (see ``numnet.tensor``);
this module turns that graph into Graphviz DOT text and into a picture: with Graphviz's ``dot`` program when
it is installed, otherwise with numnet's own layered layout drawn by matplotlib (``numnet.plot.graph``)::

    loss = numnet.graph.trace(model, x, target, loss_fn)   # forward, retain every gradient, backward once
    text = numnet.graph.to_dot(loss, params=model, inputs={"X": x}, show_values=True, show_grads=True)
    numnet.graph.render(text, "graph.svg")                 # .svg, .png, .pdf or .dot; engine="auto"

What the picture shows:

- one node per operation, named by its ``Function`` (``Linear``, ``ReLU``, ``MSE``…) and labelled with the
  shape of its output (and optionally the output's values and, after ``backward``, the gradient of the loss
  with respect to it);
- parameters (leaves that require gradients) as filled light-blue boxes, named from ``params``;
- inputs, targets and constants (leaves that do not) as grey ellipses;
- the final tensor (the output or the loss) highlighted in red;
- an edge from every tensor to each operation that consumed it.

The text is deterministic: the same graph gives the same DOT, byte for byte.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from numnet.files import atomic_write
from numnet.nn.container import layer_fusion
from numnet.tensor import Tensor, _FreedGraph, iter_graph

__all__ = ["GraphvizNotFoundWarning", "draw", "graphviz_available", "parse_dot", "render", "to_dot", "trace"]

# Operations whose second argument is a target (a leaf there is labelled "target", not "const").
LOSS_OPS = frozenset({"MSE", "CrossEntropy", "NLL", "BCE", "BCEWithLogits"})

# Colours: one per kind of node, used by every picture.
_STYLE = {
    "op": 'shape=box, style="rounded,filled", fillcolor="#fff2cc", color="#b7950b"',
    "param": 'shape=box, style=filled, fillcolor="#cfe2f3", color="#2e75b6"',
    "input": 'shape=ellipse, style=filled, fillcolor="#eeeeee", color="#7f7f7f", fontcolor="#333333"',
    "root": 'shape=box, style="rounded,filled,bold", fillcolor="#f4cccc", color="#c00000", penwidth=2',
}

#: Arrays with at most this many elements are printed in full with ``show_values``/``show_grads``;
#: larger ones are summarised as min / mean / max.
MAX_PRINTED_ELEMENTS = 12

RENDER_TIMEOUT_S = 60


class GraphvizNotFoundWarning(UserWarning):
    """``render`` found no ``dot`` program: it drew the graph with numnet's own layout (or, where it could
    not, wrote the DOT text instead)."""


# ---------------------------------------------------------------------------------------------------------
# DOT text
# ---------------------------------------------------------------------------------------------------------


def _escape(text: str) -> str:
    """Text safe inside a Graphviz HTML-like label: ``& < > "`` as entities, line breaks as ``<BR/>``."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return text.replace("\r", "").replace("\n", '<BR ALIGN="LEFT"/>')


def _label(title: str, shape: str, value: str | None = None, grad: str | None = None) -> str:
    """An HTML-like label: the name in bold, the shape, then values and gradients (monospace; grads red)."""
    rows = [f"<TR><TD><B>{_escape(title)}</B></TD></TR>", f"<TR><TD>{_escape(shape)}</TD></TR>"]
    for text, colour in ((value, "#1f1f1f"), (grad, "#b00020")):
        if text is not None:
            rows.append(
                f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"><FONT FACE="monospace" POINT-SIZE="9" COLOR="{colour}">'
                f"{_escape(text)}</FONT></TD></TR>"
            )
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">' + "".join(rows) + "</TABLE>>"


def _shape_text(shape: tuple[int, ...]) -> str:
    if len(shape) == 0:
        return "scalar"
    return str(tuple(int(n) for n in shape))


def format_array(array: Any, max_elements: int = MAX_PRINTED_ELEMENTS) -> str:
    """Compact text for a label: small arrays printed in full (4 significant digits), large ones as
    ``min … mean … max``."""
    a = np.asarray(array)
    if a.size == 0:
        return "[]"
    if a.dtype.kind == "b":
        a = a.astype(np.int8)
    elif a.dtype.kind == "f":
        a = a + a.dtype.type(0)  # −0.0 prints as 0
    if a.size <= max_elements:
        if a.ndim == 0:
            return f"{a.item():.4g}" if a.dtype.kind in "fc" else str(a.item())
        column = a.ndim == 2 and a.shape[1] == 1 and a.shape[0] > 1
        if column:  # a column vector reads better as a transposed row
            a = a[:, 0]
        elif a.ndim > 2:
            a = a.reshape(-1, a.shape[-1])
        text = np.array2string(
            a, separator=" ", max_line_width=56, formatter={"float_kind": lambda v: f"{v:.4g}"}
        )
        return text + "ᵀ" if column else text
    finite = a[np.isfinite(a)] if a.dtype.kind in "fc" else a
    if finite.size == 0:
        return f"all non-finite ({a.size} values)"
    note = "" if finite.size == a.size else f", {a.size - finite.size} non-finite"
    return f"min {finite.min():.4g}  mean {finite.mean(dtype=np.float64):.4g}  max {finite.max():.4g}{note}"


def _param_names(params: Any) -> dict[int, str]:
    """id(tensor) → name, from a dict name → Tensor or an object with ``named_parameters()`` (a Module)."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        items: Iterable[tuple[str, Any]] = params.named_parameters()
    elif isinstance(params, Mapping):
        items = params.items()
    else:
        raise TypeError(
            f"to_dot: params must be a dict name → Tensor or a Module, got {type(params).__name__}"
        )
    names: dict[int, str] = {}
    for name, tensor in items:
        if tensor is not None:
            names.setdefault(id(tensor), str(name))
    return names


def _input_names(inputs: Any) -> dict[int, str]:
    """id(tensor) → name for ``inputs``: a dict name → Tensor, a sequence of tensors, or one tensor."""
    if inputs is None:
        return {}
    if isinstance(inputs, Tensor):
        return {id(inputs): "input"}
    if isinstance(inputs, Mapping):
        return {id(t): str(name) for name, t in inputs.items() if t is not None}
    if isinstance(inputs, (list, tuple)):
        if len(inputs) == 1:
            return {id(inputs[0]): "input"}
        return {id(t): f"input {i}" for i, t in enumerate(inputs) if t is not None}
    raise TypeError(
        "to_dot: inputs must be a dict name → Tensor, a list of tensors or a Tensor, "
        f"got {type(inputs).__name__}"
    )


def to_dot(
    root: Tensor,
    params: Any = None,
    show_values: bool = False,
    show_grads: bool = False,
    inputs: Any = None,
    rankdir: str = "LR",
    title: str | None = None,
    legend: bool = False,
) -> str:
    """Graphviz DOT text for the graph that the forward pass ending at ``root`` recorded.

    Args:
        root: the last tensor of the forward pass (the output or the loss). Its graph must still exist:
            draw it before ``backward()``, or after ``backward(retain_graph=True)`` (``trace`` does that).
        params: names for the parameters: a dict name → Tensor, or a Module (its ``named_parameters()``).
            Parameters without a name here use ``Tensor.name`` or are called ``param``.
        show_values: print each tensor's values in its node (small arrays in full, large ones as
            min / mean / max).
        show_grads: print each tensor's gradient (``.grad``), where there is one: leaves that require grad
            after ``backward()``, and operation outputs whose gradient was retained (``retain_grad()``;
            ``trace`` retains them all).
        inputs: names for input tensors (and any other tensor of the graph): a dict name → Tensor, a list of
            tensors, or one tensor (called ``input``). Otherwise ``Tensor.name`` is used when set; unnamed
            leaves that need no gradient are called ``input`` (first argument of an operation), ``target``
            (second argument of a loss) or ``const``.
        rankdir: Graphviz layout direction: ``"LR"`` (left to right, the default) or ``"TB"`` (top to bottom).
        title: a caption drawn above the graph.
        legend: add a key to the colours (one small node per kind of node in the graph) below the graph.

    Returns:
        The DOT text (deterministic: the same graph gives the same text).
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"to_dot: root must be a Tensor, got {type(root).__name__}")
    if rankdir not in {"LR", "RL", "TB", "BT"}:
        raise ValueError(f"to_dot: rankdir must be LR, RL, TB or BT, got {rankdir!r}")
    param_names = _param_names(params)
    named = _input_names(inputs)

    node_lines: list[str] = []
    edge_lines: list[str] = []
    ids: dict[int, str] = {}
    keep_alive: list[Any] = []  # objects whose id() is a key stay referenced while the text is built

    def add_node(
        key: int | None, title: str, array: Any, grad: Any, kind: str, shape: str | None = None
    ) -> str:
        node_id = f"n{len(node_lines)}"
        if key is not None:
            ids[key] = node_id
        value_text = _prefixed("value: ", format_array(array)) if show_values and array is not None else None
        grad_text = _prefixed("grad:  ", format_array(grad)) if show_grads and grad is not None else None
        shape = _shape_text(np.shape(array)) if shape is None else shape
        label = _label(title, shape, value_text, grad_text)
        node_lines.append(f"  {node_id} [label={label}, {_STYLE[kind]}];")
        return node_id

    def leaf_node(t: Tensor, op_name: str, position: int) -> str:
        if id(t) in ids:
            return ids[id(t)]
        keep_alive.append(t)
        name = named.get(id(t)) or param_names.get(id(t)) or t.name
        if t.requires_grad:
            kind, name = "param", name or "param"
        else:
            kind, name = "input", name or _role(op_name, position)
        return add_node(
            id(t), name, t.data, None if t.grad is None else t.grad.data, "root" if t is root else kind
        )

    def constant_node(value: Any, op_name: str, position: int) -> str:
        if isinstance(value, np.ndarray):
            if id(value) in ids:
                return ids[id(value)]
            keep_alive.append(value)
            return add_node(id(value), named.get(id(value)) or _role(op_name, position), value, None, "input")
        # A Python or NumPy number (an exponent, a scale): a small node of its own, labelled with its value.
        text = format_array(value) if np.ndim(value) == 0 else repr(value)
        return add_node(None, text, None, None, "input", shape="constant")

    if root._ctx is None:  # a leaf: the graph is this one tensor
        leaf_node(root, "", 0)
    else:
        nodes = list(iter_graph(root))
        for t in nodes:
            if isinstance(t._ctx, _FreedGraph):
                raise ValueError(
                    f"to_dot: the graph through {t._ctx.name} was freed by backward(); draw it before "
                    "backward(), call backward(retain_graph=True), or use numnet.graph.trace(...)"
                )
        for t in nodes:
            ctx = t._ctx
            op_name = ctx.name  # type: ignore[union-attr]
            sources = []
            for position, value in enumerate(ctx.inputs):  # type: ignore[union-attr]
                if value is None:
                    continue
                if isinstance(value, Tensor):
                    source = ids[id(value)] if value._ctx is not None else leaf_node(value, op_name, position)
                else:
                    source = constant_node(value, op_name, position)
                sources.append(source)
            name = named.get(id(t)) or t.name
            if name is None and t is root:
                name = "loss" if op_name in LOSS_OPS or t.data.size == 1 else "output"
            keep_alive.append(t)
            title_text = f"{name} = {op_name}" if name else op_name
            node_id = add_node(
                id(t),
                title_text,
                t.data,
                None if t.grad is None else t.grad.data,
                "root" if t is root else "op",
            )
            edge_lines.extend(f"  {source} -> {node_id};" for source in sources)

    if legend:
        edge_lines.extend(_legend_lines(node_lines, show_values, show_grads))
    caption = f", label=<<B>{_escape(title)}</B>>, labelloc=t" if title else ""
    header = [
        "digraph numnet {",
        f"  graph [rankdir={rankdir}, nodesep=0.3, ranksep=0.45, "
        f'fontname="Helvetica", fontsize=13{caption}];',
        '  node [fontname="Helvetica", fontsize=11, margin="0.1,0.05"];',
        '  edge [color="#555555", arrowsize=0.7];',
    ]
    return "\n".join([*header, *node_lines, *edge_lines, "}"]) + "\n"


#: What each colour means, for the legend.
KIND_NAMES = {
    "op": "operation (its output)",
    "param": "parameter (a leaf that gets a gradient)",
    "input": "input, target or constant",
    "root": "result (the loss or output)",
}


def _legend_lines(node_lines: list[str], show_values: bool, show_grads: bool) -> list[str]:
    """A cluster below the graph with one sample node per kind of node used (ids ``key_*``)."""
    used = [
        kind for kind, style in _STYLE.items() if any(line.endswith(f", {style}];") for line in node_lines)
    ]
    notes = []
    if show_values:
        notes.append("value (black)")
    if show_grads:
        notes.append('<FONT COLOR="#b00020">gradient of the loss (red)</FONT>')
    label = "key: name, shape" + (", " + " and ".join(notes) if notes else "")
    lines = [
        "  subgraph cluster_key {",
        f'    label=<{label}>; labelloc=b; fontsize=10; color="#bbbbbb"; style=dashed;',
    ]
    lines += [f'    key_{kind} [label="{KIND_NAMES[kind]}", fontsize=9, {_STYLE[kind]}];' for kind in used]
    lines += (
        ["    " + " -> ".join(f"key_{kind}" for kind in used) + " [style=invis];"] if len(used) > 1 else []
    )
    lines.append("  }")
    return lines


def _prefixed(prefix: str, text: str) -> str:
    """``prefix`` before the first line of ``text``, later lines indented to line up under it."""
    return prefix + text.replace("\n", "\n" + " " * len(prefix))


def _role(op_name: str, position: int) -> str:
    if position == 1 and op_name in LOSS_OPS:
        return "target"
    return "input" if position == 0 else "const"


# ---------------------------------------------------------------------------------------------------------
# Tracing a model
# ---------------------------------------------------------------------------------------------------------


def trace(model: Callable[[Tensor], Tensor], x: Any, target: Any = None, loss_fn: Any = None) -> Tensor:
    """Run ``model`` on ``x`` (and the loss on ``target``), keep every gradient, and run ``backward`` once.

    After ``trace``, ``to_dot(root, show_grads=True)`` shows the gradient of the loss at every node.

    Args:
        model: any callable from a Tensor to a Tensor (a Module, a function).
        x: the input: a Tensor, or anything ``np.asarray`` takes (floats become the default dtype).
        target: if given, the graph ends at a loss of the output against it.
        loss_fn: ``loss_fn(output, target) -> Tensor`` (an ``nn`` loss module or a function); defaults to the
            mean squared error when a target is given.

    Returns:
        The root of the graph: the loss, or the model's output when there is no target.

    The model runs inside ``nn.layer_fusion(False)``: a ``Sequential``'s Linear and ReLU are two nodes here
    (as written), where a training step runs them as one fused op with the same numbers.

    Side effects: it runs ``backward(retain_graph=True)`` once, from the loss (or, with no target, from the
    output with a gradient of ones, i.e. from ``output.sum()``). The ``.grad`` of every leaf in the graph
    (parameters included) is cleared first, so it holds exactly this pass's gradient afterwards, as after
    ``zero_grad()`` and ``backward()``. Nothing is updated. If nothing in the graph requires gradients
    (no parameters), no backward runs.
    """
    if not isinstance(x, Tensor):
        x = Tensor(np.asarray(x))
    with layer_fusion(False):  # one node per layer, as the model is written (same numbers as fused)
        root = model(x)
    if not isinstance(root, Tensor):
        raise TypeError(f"trace: the model returned {type(root).__name__}, not a Tensor")
    if target is not None:
        if loss_fn is None:
            from numnet.ops import MSE

            target_array = target.data if isinstance(target, Tensor) else np.asarray(target, dtype=root.dtype)
            root = MSE.apply(root, target_array)
        else:
            root = loss_fn(root, target)
        if not isinstance(root, Tensor):
            raise TypeError(f"trace: the loss function returned {type(root).__name__}, not a Tensor")
    if not root.requires_grad:
        return root
    nodes = list(iter_graph(root))
    for t in nodes:
        t.retain_grad()
        t.grad = None
        for value in t._ctx.inputs:  # type: ignore[union-attr]
            if isinstance(value, Tensor) and value._ctx is None:
                value.grad = None
    root.backward(np.ones_like(root.data), retain_graph=True)
    return root


# ---------------------------------------------------------------------------------------------------------
# Rendering: Graphviz, or numnet's own layout
# ---------------------------------------------------------------------------------------------------------

_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}
_ENGINES = ("auto", "graphviz", "numnet")


def graphviz_available() -> bool:
    """Whether Graphviz's ``dot`` program is on the PATH (``render`` then uses it)."""
    return shutil.which("dot") is not None


def render(dot_text: str, path: str | Path, format: str | None = None, engine: str = "auto") -> Path:
    """Write ``dot_text`` as a picture at ``path`` and return the path written.

    The format comes from ``format`` or the suffix of ``path``: ``.svg``, ``.png``, ``.pdf`` (a picture) or
    ``.dot`` (the text itself). Parent folders are created.

    ``engine``: ``"graphviz"`` draws with Graphviz's ``dot`` program, ``"numnet"`` with numnet's own layered
    layout in matplotlib (``numnet.plot.graph``: no system program needed, for text made by ``to_dot``), and
    ``"auto"`` (the default) with Graphviz when ``dot`` is installed, else numnet's layout, with a
    ``GraphvizNotFoundWarning`` that says how to get Graphviz's rendering. When neither can draw (no
    ``dot``, and no matplotlib or text that ``to_dot`` did not write) the DOT text is written next to
    ``path`` (suffix ``.dot``), the warning says how to render it, and that ``.dot`` path is returned.
    """
    path = Path(path)
    fmt = (format or _FORMATS.get(path.suffix.lower(), "")).lower().lstrip(".")
    if fmt == "gv":
        fmt = "dot"
    if fmt not in {"svg", "png", "pdf", "dot"}:
        raise ValueError(
            f"render: cannot tell the picture format of {path.name!r}; use a .svg, .png, .pdf or .dot file "
            "name, or pass format="
        )
    if engine not in _ENGINES:
        raise ValueError(f"render: engine must be one of {', '.join(_ENGINES)}, got {engine!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "dot":
        with atomic_write(path) as handle:
            handle.write(dot_text.encode("utf-8"))
        return path
    dot = shutil.which("dot") if engine != "numnet" else None
    if dot is None and engine == "graphviz":
        raise RuntimeError(
            "render: engine='graphviz' needs Graphviz's dot program, which is not on the PATH; install it "
            "(apt-get install graphviz, brew install graphviz or conda install graphviz) or use engine='auto'"
        )
    if dot is None:
        return _render_without_graphviz(dot_text, path, fmt, warn=engine == "auto")
    try:
        result = subprocess.run(
            [dot, f"-T{fmt}", *(["-Gdpi=144"] if fmt == "png" else [])],
            input=dot_text.encode("utf-8"),
            capture_output=True,
            timeout=RENDER_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(
            f"render: dot took more than {RENDER_TIMEOUT_S} s to draw {path.name}; "
            "the graph may be too large to draw (write a .dot file instead)"
        ) from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"render: dot failed on {path.name} (exit {result.returncode}): {message}")
    with atomic_write(path) as handle:
        handle.write(result.stdout)
    return path


_INSTALL = "apt-get install graphviz, brew install graphviz or conda install graphviz"


def _render_without_graphviz(dot_text: str, path: Path, fmt: str, warn: bool) -> Path:
    """numnet's own layered drawing of ``to_dot`` text; the ``.dot`` file when that cannot be drawn."""
    from numnet.plot import is_available

    spec = parse_dot(dot_text)
    if spec is not None and is_available():
        import matplotlib

        from numnet.plot import save_figure
        from numnet.plot.graph import draw_graph

        with matplotlib.rc_context({"svg.fonttype": "none"}):  # SVG text stays text (searchable)
            save_figure(draw_graph(spec), path, format=fmt)
        if warn:
            warnings.warn(
                f"Graphviz's dot program was not found, so {path.name} was drawn with numnet's own layout "
                f"(matplotlib). For Graphviz's rendering install Graphviz ({_INSTALL}) and draw it again.",
                GraphvizNotFoundWarning,
                stacklevel=3,
            )
        return path
    dot_path = path.with_suffix(".dot")
    with atomic_write(dot_path) as handle:
        handle.write(dot_text.encode("utf-8"))
    why = "matplotlib is not installed" if spec is not None else "the text was not written by to_dot"
    warnings.warn(
        f"Graphviz's dot program was not found and {why}, so {path.name} was not drawn; "
        f"wrote the graph as {dot_path}. "
        f"Install Graphviz ({_INSTALL}), then run: dot -T{fmt} {dot_path} -o {path}",
        GraphvizNotFoundWarning,
        stacklevel=3,
    )
    return dot_path


_NODE_LINE = re.compile(r"^\s*(n\d+) \[label=<(.*)>, (.*)\];$")
_EDGE_LINE = re.compile(r"^\s*(n\d+) -> (n\d+);$")
_TITLE = re.compile(r"label=<<B>(.*?)</B>>")
_RANKDIR = re.compile(r"rankdir=(LR|RL|TB|BT)")


def _cell_lines(cell: str) -> list[str]:
    """The text lines of one label cell: tags dropped, entities decoded."""
    text = re.sub(r"<BR\b[^>]*/>", "\n", cell)
    return html.unescape(re.sub(r"</?(B|FONT)\b[^>]*>", "", text)).split("\n")


def parse_dot(dot_text: str) -> Any:
    """The nodes, edges, title and direction of DOT text that ``to_dot`` wrote, as a
    ``numnet.plot.graph.GraphSpec``; ``None`` for any other text (numnet does not parse general DOT)."""
    from numnet.plot.graph import GraphNode, GraphSpec

    lines = dot_text.splitlines()
    if not lines or lines[0].strip() != "digraph numnet {":
        return None
    kinds = {style: kind for kind, style in _STYLE.items()}
    nodes, edges, title, rankdir = [], [], "", "LR"
    for line in lines[1:]:
        if m := _NODE_LINE.match(line):
            cells = [_cell_lines(c) for c in re.findall(r"<TD[^>]*>(.*?)</TD>", m.group(2))]
            kind = kinds.get(m.group(3))
            if kind is None or len(cells) < 2:
                return None
            node = GraphNode(m.group(1), kind, " ".join(cells[0]), " ".join(cells[1]))
            for cell in cells[2:]:
                (node.grad if cell[0].startswith("grad:") else node.value).extend(cell)
            nodes.append(node)
        elif m := _EDGE_LINE.match(line):
            edges.append((m.group(1), m.group(2)))
        elif line.lstrip().startswith("graph ["):
            if t := _TITLE.search(line):
                title = html.unescape(t.group(1))
            if r := _RANKDIR.search(line):
                rankdir = r.group(1)
    known = {n.id for n in nodes}
    if not nodes or any(a not in known or b not in known for a, b in edges):
        return None
    return GraphSpec(nodes, edges, title, rankdir)


def draw(root: Tensor, path: str | Path, engine: str = "auto", **options: Any) -> Path:
    """``render(to_dot(root, **options), path, engine=engine)``: draw the graph ending at ``root``."""
    return render(to_dot(root, **options), path, engine=engine)
