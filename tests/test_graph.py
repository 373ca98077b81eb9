"""numnet.graph: DOT text of a recorded graph, trace, render (with Graphviz and without), numnet graph."""

from __future__ import annotations

import argparse
import html
import re
import shutil

import numpy as np
import pytest

import numnet
from numnet import graph
from numnet.cli.errors import CLIError

needs_graphviz = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="Graphviz's dot program is not installed (apt-get install graphviz); the matplotlib fallback's "
    "tests below still run",
)

NODE = re.compile(r"^\s*(n\d+) \[label=<(.*)>, (.*)\];$")
EDGE = re.compile(r"^\s*(n\d+) -> (n\d+);$")


def _plain(cell: str) -> str:
    """The text of a label cell: line breaks as newlines, tags dropped, entities decoded."""
    text = re.sub(r"<BR\b[^>]*/>", "\n", cell)
    return html.unescape(re.sub(r"</?(B|FONT)\b[^>]*>", "", text))


class Dot:
    """The nodes (title, shape, value, grad, style) and edges (title → title) of to_dot's text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.nodes: dict[str, dict[str, str | None]] = {}
        self.edges: list[tuple[str, str]] = []
        for line in text.splitlines():
            if m := NODE.match(line):
                label, style = m.group(2), m.group(3)
                cells = re.findall(r"<TD[^>]*>(.*?)</TD>", label)
                fields = [_plain(c) for c in cells]
                value = next((f for f in fields[2:] if f.startswith("value:")), None)
                grad = next((f for f in fields[2:] if f.startswith("grad:")), None)
                self.nodes[m.group(1)] = {
                    "title": fields[0],
                    "shape": fields[1],
                    "value": value,
                    "grad": grad,
                    "style": style,
                }
            elif m := EDGE.match(line):
                self.edges.append((m.group(1), m.group(2)))

    def titles(self) -> list[str]:
        return [n["title"] for n in self.nodes.values()]

    def node(self, title: str) -> dict[str, str | None]:
        matches = [n for n in self.nodes.values() if n["title"] == title]
        assert len(matches) == 1, f"{title!r}: {len(matches)} nodes; titles: {self.titles()}"
        return matches[0]

    def edge_titles(self) -> set[tuple[str, str]]:
        return {(self.nodes[a]["title"], self.nodes[b]["title"]) for a, b in self.edges}


def hand_graph():
    """x @ W + b → relu → sum, with fixed numbers."""
    x = numnet.tensor(np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, 1.0], [2.0, -3.0]], dtype=np.float32))
    W = numnet.tensor(np.array([[0.5, -1.0, 0.25], [1.0, 0.5, -0.5]], dtype=np.float32), requires_grad=True)
    b = numnet.tensor(np.array([0.1, 0.2, -0.3], dtype=np.float32), requires_grad=True)
    h = (x @ W + b).relu()
    return x, W, b, h, h.sum()


def test_hand_built_graph_nodes_shapes_names_edges():
    x, W, b, _h, s = hand_graph()
    dot = Dot(graph.to_dot(s, params={"W": W, "b": b}, inputs={"X": x}))
    assert dot.text.startswith("digraph numnet {") and dot.text.rstrip().endswith("}")
    assert sorted(dot.titles()) == sorted(["X", "W", "b", "MatMul", "Add", "ReLU", "loss = Sum"])
    assert dot.node("X")["shape"] == "(4, 2)"
    assert dot.node("W")["shape"] == "(2, 3)"
    assert dot.node("b")["shape"] == "(3,)"
    assert dot.node("MatMul")["shape"] == "(4, 3)"
    assert dot.node("ReLU")["shape"] == "(4, 3)"
    assert dot.node("loss = Sum")["shape"] == "scalar"
    assert dot.edge_titles() == {
        ("X", "MatMul"),
        ("W", "MatMul"),
        ("MatMul", "Add"),
        ("b", "Add"),
        ("Add", "ReLU"),
        ("ReLU", "loss = Sum"),
    }
    assert len(dot.edges) == 6
    # styles: parameters blue boxes, inputs grey ellipses, operations rounded boxes, the root highlighted
    assert "#cfe2f3" in dot.node("W")["style"] and "shape=box" in dot.node("W")["style"]
    assert "shape=ellipse" in dot.node("X")["style"]
    assert "rounded" in dot.node("ReLU")["style"] and "#fff2cc" in dot.node("ReLU")["style"]
    assert "#f4cccc" in dot.node("loss = Sum")["style"] and "penwidth=2" in dot.node("loss = Sum")["style"]
    # nothing printed unless asked
    assert all(n["value"] is None and n["grad"] is None for n in dot.nodes.values())


def test_default_names_and_tensor_names():
    x, W, _b, h, s = hand_graph()
    dot = Dot(graph.to_dot(h))
    assert sorted(dot.titles()) == sorted(["input", "param", "param", "MatMul", "Add", "output = ReLU"])
    W.name, x.name = "W1", "X"
    h.name = "a1"
    dot = Dot(graph.to_dot(s))
    assert {"X", "W1", "a1 = ReLU"} <= set(dot.titles())
    # a leaf alone is a one-node graph
    assert Dot(graph.to_dot(W)).titles() == ["W1"]


def test_deterministic_text():
    first = graph.to_dot(hand_graph()[-1], show_values=True)
    assert first == graph.to_dot(hand_graph()[-1], show_values=True)
    _x, _W, _b, _h, s = hand_graph()
    assert graph.to_dot(s) == graph.to_dot(s)


def test_values_small_and_large():
    x, W, b, h, s = hand_graph()
    dot = Dot(graph.to_dot(s, params={"W": W, "b": b}, inputs={"X": x}, show_values=True))
    assert dot.node("b")["value"] == "value: [0.1 0.2 -0.3]"
    relu = h.data
    assert dot.node("loss = Sum")["value"] == f"value: {relu.sum():.4g}"
    assert dot.node("W")["value"].splitlines() == ["value: [[0.5 -1 0.25]", "        [1 0.5 -0.5]]"]
    big = numnet.randn(10, 10, requires_grad=True)
    node = Dot(graph.to_dot((big * 2).sum(), show_values=True)).node("param")
    assert node["value"] == (
        f"value: min {big.data.min():.4g}  mean {big.data.mean(dtype=np.float64):.4g}  "
        f"max {big.data.max():.4g}"
    )
    # scalar constants get a node of their own
    assert "2" in Dot(graph.to_dot((big * 2).sum())).titles()


def test_grads_after_trace_match_backward():
    x, W, b, _h, s = hand_graph()
    dot = Dot(graph.to_dot(s, params={"W": W, "b": b}, show_grads=True))
    assert all(n["grad"] is None for n in dot.nodes.values()), "no gradient before backward"

    W.grad = np.full((2, 3), 99.0, dtype=np.float32)  # stale: trace starts from clean gradients
    root = graph.trace(lambda t: (t @ W + b).relu(), x, target=None)
    assert root.shape == (4, 3)
    expected_mask = (x.data @ W.data + b.data > 0).astype(np.float32)
    np.testing.assert_allclose(W.grad, x.data.T @ expected_mask)
    np.testing.assert_allclose(b.grad, expected_mask.sum(axis=0))
    dot = Dot(graph.to_dot(root, params={"W": W, "b": b}, show_grads=True, show_values=True))
    for title in ("MatMul", "Add", "output = ReLU", "W", "b"):
        assert dot.node(title)["grad"] is not None, title
    assert dot.node("output = ReLU")["grad"].splitlines()[0] == "grad:  [[1 1 1]"
    assert dot.node("input")["grad"] is None  # the input needs no gradient


def test_trace_with_loss_and_default_mse():
    W = numnet.tensor(np.eye(2, dtype=np.float32), requires_grad=True)
    x = np.array([[1.0, 2.0]], dtype=np.float32)
    t = np.array([[0.0, 0.0]], dtype=np.float32)
    loss = graph.trace(lambda inp: inp @ W, x, t)
    assert loss.item() == pytest.approx(2.5)  # mean((1, 2)²)
    np.testing.assert_allclose(W.grad, x.T @ x)  # d/dW mean((xW)²) = xᵀ·(2·xW/2)
    dot = Dot(graph.to_dot(loss, show_grads=True))
    assert dot.node("loss = MSE")["grad"] == "grad:  1"
    assert dot.node("target")["shape"] == "(1, 2)"
    custom = graph.trace(lambda inp: inp @ W, x, t, loss_fn=lambda y, target: ((y - target) ** 2).sum())
    assert custom.item() == pytest.approx(5.0)
    # tracing twice gives the same gradients (they are reset, not accumulated)
    graph.trace(lambda inp: inp @ W, x, t)
    np.testing.assert_allclose(W.grad, x.T @ x)


def test_freed_graph_is_reported():
    _x, _W, _b, _h, s = hand_graph()
    s.backward()
    with pytest.raises(ValueError, match="retain_graph"):
        graph.to_dot(s)


@needs_graphviz
def test_labels_are_escaped_and_render(tmp_path):
    _x, W, b, _h, s = hand_graph()
    text = graph.to_dot(s, params={'W<1> & "w"': W, "b": b}, title="a <b> & c")
    assert "W&lt;1&gt; &amp; &quot;w&quot;" in text
    assert Dot(text).node('W<1> & "w"')["shape"] == "(2, 3)"
    assert "a &lt;b&gt; &amp; c" in text
    svg = graph.render(text, tmp_path / "escaped.svg")
    assert "W&lt;1&gt; &amp; &quot;w&quot;" in svg.read_text() or 'W&lt;1&gt; &amp; "w"' in svg.read_text()


def xor_model():
    nn = pytest.importorskip("numnet.nn")
    numnet.manual_seed(0)
    return nn, nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))


XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_T = np.array([[0], [1], [1], [0]], dtype=np.float32)


def test_nn_model_graph_names_from_module():
    nn, model = xor_model()
    x = numnet.tensor(XOR_X)
    loss = graph.trace(model, x, XOR_T, nn.MSELoss())
    dot = Dot(graph.to_dot(loss, params=model, inputs={"X": x}, show_grads=True))
    assert sorted(dot.titles()) == sorted(
        ["X", "0.weight", "0.bias", "Linear", "ReLU", "2.weight", "2.bias", "Linear", "target", "loss = MSE"]
    )
    linear_shapes = sorted(n["shape"] for n in dot.nodes.values() if n["title"] == "Linear")
    assert linear_shapes == ["(4, 1)", "(4, 3)"]
    assert dot.node("0.weight")["shape"] == "(3, 2)"
    edges = dot.edge_titles()
    assert {
        ("X", "Linear"),
        ("0.weight", "Linear"),
        ("Linear", "ReLU"),
        ("ReLU", "Linear"),
        ("Linear", "loss = MSE"),
        ("target", "loss = MSE"),
    } <= edges
    # every gradient is the one a plain backward gives
    for name, p in model.named_parameters():
        assert dot.node(name)["grad"] == "grad:  " + graph.format_array(p.grad).replace("\n", "\n       ")
    assert all(n["grad"] is not None for n in dot.nodes.values() if n["title"] not in {"X", "target"})


@needs_graphviz
def test_render_svg_and_png_with_graphviz(tmp_path):
    nn, model = xor_model()
    x = numnet.tensor(XOR_X)
    loss = graph.trace(model, x, XOR_T, nn.MSELoss())
    text = graph.to_dot(
        loss, params=model, inputs={"X": x}, show_values=True, show_grads=True, title="XOR 2-3-1"
    )
    svg = graph.render(text, tmp_path / "out" / "xor.svg")
    assert svg == tmp_path / "out" / "xor.svg"
    content = svg.read_text()
    assert "<svg" in content and "0.weight" in content and "loss = MSE" in content
    png = graph.render(text, tmp_path / "xor.png")
    assert png.read_bytes().startswith(b"\x89PNG")
    matplotlib_image = pytest.importorskip("matplotlib.image")
    image = matplotlib_image.imread(png)
    assert image.shape[0] > 100 and image.shape[1] > 300
    assert graph.render(text, tmp_path / "xor.pdf").read_bytes().startswith(b"%PDF")
    dot_file = graph.render(text, tmp_path / "xor.dot")
    assert dot_file.read_text() == text
    assert graph.draw(loss, tmp_path / "drawn.svg", params=model).exists()
    with pytest.raises(ValueError, match="format"):
        graph.render(text, tmp_path / "xor.txt")
    with pytest.raises(RuntimeError, match="dot failed"):
        graph.render("digraph { this is not dot ", tmp_path / "broken.svg")


def xor_dot_text(**options) -> tuple[str, object]:
    nn, model = xor_model()
    x = numnet.tensor(XOR_X)
    loss = graph.trace(model, x, XOR_T, nn.MSELoss())
    return graph.to_dot(
        loss, params=model, inputs={"X": x}, show_values=True, show_grads=True, **options
    ), loss


def test_parse_dot_reads_back_what_to_dot_wrote():
    text, _loss = xor_dot_text(title="XOR <2-3-1>", legend=True)
    dot, spec = Dot(text), graph.parse_dot(text)
    assert spec.title == "XOR <2-3-1>" and spec.rankdir == "LR"
    assert [n.id for n in spec.nodes] == list(dot.nodes)
    assert set(spec.edges) == set(dot.edges)  # the legend's nodes and invisible edges are left out
    for node in spec.nodes:
        expected = dot.nodes[node.id]
        assert node.title == expected["title"] and node.shape == expected["shape"]
        assert ("\n".join(node.value) or None) == expected["value"]
        assert ("\n".join(node.grad) or None) == expected["grad"]
    kinds = {n.title: n.kind for n in spec.nodes}
    assert kinds["0.weight"] == "param" and kinds["X"] == "input" and kinds["loss = MSE"] == "root"
    assert kinds["ReLU"] == "op"
    assert graph.parse_dot("digraph { a -> b }") is None  # general DOT is not parsed
    assert graph.parse_dot(text.replace("n1 ->", "n99 ->")) is None  # an edge to an unknown node


def test_legend_lists_the_kinds_used():
    text, _ = xor_dot_text(legend=True)
    assert "subgraph cluster_key" in text
    for name in ("operation", "parameter", "input, target or constant", "result"):
        assert name in text
    assert "gradient of the loss" in text
    assert "cluster_key" not in xor_dot_text()[0]


def test_layered_layout_puts_every_input_before_its_consumer():
    from numnet.plot.graph import layered_layout

    spec = graph.parse_dot(xor_dot_text()[0])
    layout = layered_layout(spec)
    for a, b in spec.edges:  # left to right: each edge goes rightwards
        (xa, _), (xb, _) = layout.centres[a], layout.centres[b]
        wa, wb = layout.sizes[a][0], layout.sizes[b][0]
        assert xa + wa / 2 < xb - wb / 2, (a, b)
    boxes = [(layout.centres[n.id], layout.sizes[n.id]) for n in spec.nodes]
    for i, ((x1, y1), (w1, h1)) in enumerate(boxes):  # no two nodes overlap
        for (x2, y2), (w2, h2) in boxes[i + 1 :]:
            assert abs(x1 - x2) >= (w1 + w2) / 2 or abs(y1 - y2) >= (h1 + h2) / 2
        assert 0 <= x1 - w1 / 2 and x1 + w1 / 2 <= layout.width + 1e-9
        assert 0 <= y1 - h1 / 2 and y1 + h1 / 2 <= layout.height + 1e-9
    for route in layout.routes:
        assert len(route) >= 2
        xs = [p[0] for p in route]
        assert xs == sorted(xs), "an edge never runs backwards"
    top_down = layered_layout(graph.parse_dot(xor_dot_text(rankdir="TB")[0]))
    for a, b in spec.edges:  # top to bottom: each edge goes downwards
        assert top_down.centres[a][1] > top_down.centres[b][1]


def test_render_without_graphviz_draws_with_matplotlib(tmp_path, monkeypatch):
    matplotlib_image = pytest.importorskip("matplotlib.image")
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    assert not graph.graphviz_available()
    text, loss = xor_dot_text(title="XOR 2-3-1")
    with pytest.warns(graph.GraphvizNotFoundWarning, match=r"numnet's own layout.*apt-get install graphviz"):
        written = graph.render(text, tmp_path / "pics" / "graph.png")
    assert written == tmp_path / "pics" / "graph.png"
    image = matplotlib_image.imread(written)
    assert image.shape[0] > 200 and image.shape[1] > 500 and image.std() > 0.05
    assert not (tmp_path / "pics" / "graph.dot").exists()
    svg = graph.render(text, tmp_path / "graph.svg", engine="numnet")  # no warning asked for
    content = svg.read_text()
    assert "<svg" in content and "0.weight" in content and "loss = MSE" in content
    assert graph.render(text, tmp_path / "graph.pdf", engine="numnet").read_bytes().startswith(b"%PDF")
    assert graph.draw(loss, tmp_path / "drawn.png", engine="numnet").exists()
    with pytest.raises(RuntimeError, match="engine='graphviz' needs"):
        graph.render(text, tmp_path / "x.png", engine="graphviz")
    with pytest.raises(ValueError, match="engine must be"):
        graph.render(text, tmp_path / "x.png", engine="neato")


def test_render_without_graphviz_on_path(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.warns(graph.GraphvizNotFoundWarning):
        written = graph.render(graph.to_dot(hand_graph()[-1]), tmp_path / "g.svg")
    assert written == tmp_path / "g.svg" and "<svg" in written.read_text()


def test_render_foreign_dot_without_graphviz_writes_dot(tmp_path, monkeypatch):
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    text = "digraph { a -> b }"
    with pytest.warns(graph.GraphvizNotFoundWarning, match=r"apt-get install graphviz.*dot -Tpng"):
        written = graph.render(text, tmp_path / "pics" / "graph.png")
    assert written == tmp_path / "pics" / "graph.dot"
    assert written.read_text() == text
    assert not (tmp_path / "pics" / "graph.png").exists()


def test_graph_too_large_to_draw_is_refused():
    from numnet.plot.graph import MAX_NODES, GraphNode, GraphSpec, draw_graph

    pytest.importorskip("matplotlib")
    nodes = [GraphNode(f"n{i}", "op", f"op {i}") for i in range(MAX_NODES + 1)]
    with pytest.raises(ValueError, match="too many to draw"):
        draw_graph(GraphSpec(nodes, []))


# --- the numnet graph command ----------------------------------------------------------------------------


def run_graph_command(argv: list[str]) -> int:
    from numnet.cli import graph as graph_cli

    parser = argparse.ArgumentParser(prog="numnet")
    commands = parser.add_subparsers(dest="command")
    graph_cli.register(commands)
    args = parser.parse_args(argv)
    return args.run(args)


def saved_model(tmp_path, metadata=None, classes: int = 3):
    nn = pytest.importorskip("numnet.nn")
    numnet.manual_seed(1)
    model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, classes))
    path = tmp_path / "model.npz"
    numnet.save(model, path, metadata=metadata)
    return path


@needs_graphviz
def test_graph_command_svg_default_path(tmp_path, capsys):
    path = saved_model(tmp_path, {"in_features": 4, "task": "classification", "loss": "cross_entropy"})
    assert run_graph_command(["graph", str(path)]) == 0
    out = tmp_path / "model.graph.svg"
    assert capsys.readouterr().out.strip() == str(out)
    text = out.read_text()
    assert "<svg" in text and "0.weight" in text and "(1, 4)" in text and "(1, 3)" in text
    assert "CrossEntropy" not in text  # no loss without --grads


def test_graph_command_grads_values_png(tmp_path, capsys):
    path = saved_model(tmp_path, {"in_features": 4, "task": "classification", "loss": "cross_entropy"})
    dot_path = tmp_path / "g.dot"
    assert run_graph_command(["graph", str(path), "--grads", "--values", "--out", str(dot_path)]) == 0
    dot = Dot(dot_path.read_text())
    assert dot.node("loss = CrossEntropy")["grad"] == "grad:  1"
    assert dot.node("target")["value"] == "value: [0]"
    assert dot.node("0.weight")["grad"] is not None and dot.node("input")["value"] is not None
    png = tmp_path / "g.png"
    assert run_graph_command(["graph", str(path), "--grads", "--out", str(png)]) == 0
    assert png.read_bytes().startswith(b"\x89PNG")


def test_graph_command_regression_without_metadata(tmp_path):
    path = saved_model(tmp_path, None, classes=1)  # in_features from the first Linear; MSE against zeros
    out = tmp_path / "r.dot"
    assert run_graph_command(["graph", str(path), "--grads", "--out", str(out)]) == 0
    dot = Dot(out.read_text())
    assert dot.node("loss = MSE")["shape"] == "scalar"
    assert dot.node("target")["shape"] == "(1, 1)"


def test_graph_command_errors(tmp_path, monkeypatch, capsys):
    with pytest.raises(CLIError, match="does not exist"):
        run_graph_command(["graph", str(tmp_path / "missing.npz")])
    bad = tmp_path / "bad.npz"
    bad.write_text("not a model")
    with pytest.raises(CLIError):
        run_graph_command(["graph", str(bad)])
    path = saved_model(tmp_path, {"in_features": 4})
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    assert run_graph_command(["graph", str(path), "--out", str(tmp_path / "x.png")]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(tmp_path / "x.png")  # drawn by numnet's own layout
    assert (tmp_path / "x.png").read_bytes().startswith(b"\x89PNG")
    assert "apt-get install graphviz" in captured.err


def test_graph_command_through_numnet_cli(tmp_path, capsys):
    from numnet.cli import main

    path = saved_model(tmp_path, {"in_features": 4})
    assert main(["graph", str(path), "--out", str(tmp_path / "m.svg")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "m.svg")
    assert main(["graph", str(tmp_path / "nope.npz")]) == 2
    assert "does not exist" in capsys.readouterr().err
