"""xor — a 2-3-1 ReLU network learns XOR by backpropagation on its computational graph.

XOR (0,0 → 0; 0,1 → 1; 1,0 → 1; 1,1 → 0) is the classic problem no linear classifier solves. The tutorial
builds the smallest network that does: Linear(2, 3) → ReLU → Linear(3, 1), weights and biases drawn from
N(0, 0.1²), trained by full-batch gradient descent (lr 0.01) on the squared error, stopping once the loss
falls below 0.001; an output above 0.5 means class 1.

The forward pass is a chain of named intermediate values, a1 = X·W1 + b1, o1 = ReLU(a1), a2 = o1·W2 + b2,
y = a2, loss; the backward pass walks the same chain from right to left, each node turning the gradient of
its output into the gradient of its inputs. numnet records exactly that graph and can draw it.

How many iterations it takes depends on the random initial weights: the tutorial's run stopped at iteration
3315, and some initialisations never get there (a hidden unit whose ReLU is off for all four points
learns nothing).
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import numnet
from numnet import data, graph, nn, optim, plot
from numnet.demos.common import GRAPHVIZ_HINT, Report, output_folder, setting
from numnet.train import History

NAME = "xor"
TITLE = "a 2-3-1 ReLU net learns XOR (full-batch gradient descent)"
PUBLISHED_STOP = 3315


@dataclass
class Settings:
    seed: int = setting(3, "seed of the N(0, 0.1²) initial weights (the iteration count depends on it)")
    hidden: int = setting(3, "hidden ReLU units")
    init_std: float = setting(0.1, "standard deviation of the initial weights and biases")
    lr: float = setting(0.01, "learning rate of full-batch gradient descent")
    iterations: int = setting(10_000, "most iterations to run")
    tol: float = setting(0.001, "stop once the stopping loss (see stop_on) is below this")
    stop_on: str = setting(
        "mse",
        "the loss that must fall below tol: mse (the tutorial's rule: the mean of "
        "(y − t)², the loss it prints) or half_sse (½·Σ(y − t)², the loss it trains on; "
        "twice the MSE on 4 points, so it stops later)",
    )
    print_every: int = setting(200, "print the loss every this many iterations", cosmetic=True)
    threshold: float = setting(0.5, "an output above this means class 1")
    tutorial_relu: bool = setting(
        True, "also train with the tutorial's ReLU backward (grad·X), to compare", cosmetic=True
    )
    seeds: int = setting(
        40,
        "also train from seeds 0 … N−1 and report the success rate and the "
        "distribution of stopping iterations (0: only the one run)",
        cosmetic=True,
    )


QUICK: dict[str, Any] = {"print_every": 1000, "tutorial_relu": False, "seeds": 8}
STOP_RULES = ("mse", "half_sse")


class _ReLUTimesX(numnet.Function):
    """The tutorial's ReLU: forward max(x, 0), but backward grad·x where x > 0 instead of grad·1."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return np.maximum(x, 0)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad * np.where(self.x > 0, self.x, 0)


class TutorialReLU(nn.Module):
    """A ReLU layer with the tutorial's backward, to reproduce what its code computes."""

    def forward(self, x: numnet.Tensor) -> numnet.Tensor:
        return _ReLUTimesX.apply(x)


def make_model(settings: Settings, relu: nn.Module | None = None) -> nn.Sequential:
    """Linear(2, 3) → ReLU → Linear(3, 1), every weight and bias from N(0, init_std²), seeded."""
    numnet.manual_seed(settings.seed)
    model = nn.Sequential(nn.Linear(2, settings.hidden), relu or nn.ReLU(), nn.Linear(settings.hidden, 1))
    for param in model.parameters():
        nn.init.normal_(param, 0.0, settings.init_std)
    return model


def half_squared_error(y: numnet.Tensor, t: np.ndarray) -> numnet.Tensor:
    """½·Σ(y − t)²: its gradient is y − t, the gradient the tutorial back-propagates. Written out op by op, so
    the drawn graph shows exactly this loss (Sub, Mul, Sum, Mul)."""
    d = y - t
    return 0.5 * (d * d).sum()


def stopping_loss(half_sse: Any, settings: Settings) -> Any:
    """The number compared with ``tol``: the MSE (mean of (y − t)² over the 4 points) or ½·Σ(y − t)²."""
    if settings.stop_on not in STOP_RULES:
        raise ValueError(f"xor demo: stop_on must be mse or half_sse, got {settings.stop_on!r}")
    return half_sse * 2 / 4 if settings.stop_on == "mse" else half_sse


def train(model: nn.Sequential, settings: Settings, report: Report | None) -> tuple[History, int | None]:
    """Full-batch gradient descent on ½·Σ(y − t)² until the stopping loss is below ``tol``: the history of
    the stopping loss and the iteration at which it stopped (``None``: never)."""
    X, y = data.make_xor()
    T = y.astype(np.float32).reshape(-1, 1)
    inputs = numnet.tensor(X)
    optimizer = optim.SGD(model.parameters(), lr=settings.lr)
    history = History()
    name = "MSE" if settings.stop_on == "mse" else "½·Σ(y − t)²"
    for i in range(settings.iterations):
        loss = half_squared_error(model(inputs), T)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        value = stopping_loss(loss.item(), settings)
        history.record_step(value, settings.lr)
        if report is not None and i % settings.print_every == 0:
            report.say(f"iteration {i:5d}  {name} {value:.6f}")
        if value < settings.tol:
            if report is not None:
                report.say(f"iteration {i:5d}  {name} {value:.6f} < {settings.tol:g}: training complete")
            return history, i
    return history, None


def over_seeds(settings: Settings) -> list[tuple[int | None, bool]]:
    """(stop iteration or None, all four points right) for seeds 0 … ``settings.seeds`` − 1.

    The nets are trained side by side as one stack of independent nets: weights (S, 2, 3), (S, 1, 3),
    (S, 3, 1), (S, 1, 1) drawn exactly as ``make_model`` draws each seed's, and the sum of their losses, whose
    gradient with respect to each net's weights is that net's own gradient. Each net stops being counted
    once its stopping loss falls below ``tol`` (its answers are taken then, as a single run's would be);
    the iterations are the ones a single run from that seed gives (the tests check it).
    """
    X, y = data.make_xor()
    T = y.astype(np.float32).reshape(1, -1, 1)
    n = settings.seeds
    models = [make_model(dataclasses.replace(settings, seed=seed)) for seed in range(n)]
    stacked = [  # numnet's Linear keeps W as (out, in) and computes x·Wᵀ + b: stack Wᵀ and b as rows
        np.stack([m[0].weight.data.T for m in models]),
        np.stack([m[0].bias.data[None, :] for m in models]),
        np.stack([m[2].weight.data.T for m in models]),
        np.stack([m[2].bias.data[None, :] for m in models]),
    ]
    W1, b1, W2, b2 = (numnet.tensor(p, requires_grad=True) for p in stacked)
    optimizer = optim.SGD([W1, b1, W2, b2], lr=settings.lr)
    inputs = numnet.tensor(X)

    def answers(which: np.ndarray) -> np.ndarray:  # each net's predicted classes with its current weights
        hidden = np.maximum(X @ W1.data[which] + b1.data[which], 0)
        return ((hidden @ W2.data[which] + b2.data[which])[:, :, 0] > settings.threshold).astype(np.int64)

    stop = np.full(n, -1)
    right = np.zeros(n, dtype=bool)
    for i in range(settings.iterations):
        d = (inputs @ W1 + b1).relu() @ W2 + b2 - T  # (S, 4, 1)
        per_net = 0.5 * (d * d).sum(axis=(1, 2))  # ½·Σ(y − t)² of each net
        optimizer.zero_grad()
        per_net.sum().backward()
        optimizer.step()
        newly = (stopping_loss(per_net.data, settings) < settings.tol) & (stop < 0)
        if newly.any():
            stop[newly] = i
            right[newly] = (answers(newly) == y).all(axis=1)
        if (stop >= 0).all():
            break
    still = stop < 0
    if still.any():
        right[still] = (answers(still) == y).all(axis=1)
    return [(int(s) if s >= 0 else None, bool(ok)) for s, ok in zip(stop, right, strict=True)]


def predict(model: nn.Module, X: np.ndarray, threshold: float) -> np.ndarray:
    with numnet.no_grad():
        return (model(numnet.tensor(X)).data[:, 0] > threshold).astype(np.int64)


def draw_graph(settings: Settings, out: Path) -> tuple[Path, bool]:
    """The computational graph of the first iteration, every node with its shape, value and gradient: the
    PNG written (and an SVG next to it) and whether Graphviz drew it (else numnet's own layout)."""
    model = make_model(settings)
    X, y = data.make_xor()
    x = numnet.tensor(X)
    a1 = model[0](x)
    o1 = model[1](a1)
    a2 = model[2](o1)
    y_out = a2.reshape(-1)  # the tutorial's y = o2.reshape(4)
    t = y.astype(np.float32)
    d = y_out - t
    squared = d * d
    total = squared.sum()
    loss = 0.5 * total  # half_squared_error, op by op, to name each node
    names = {
        "X": x,
        "a1": a1,
        "o1": o1,
        "a2": a2,
        "y": y_out,
        "t": t,
        "y − t": d,
        "(y − t)²": squared,
        "Σ(y − t)²": total,
        "loss ½·Σ(y − t)²": loss,
    }
    for tensor in names.values():
        if isinstance(tensor, numnet.Tensor) and tensor.requires_grad:
            tensor.retain_grad()
    loss.backward(retain_graph=True)
    params = {"W1": model[0].weight, "b1": model[0].bias, "W2": model[2].weight, "b2": model[2].bias}
    text = graph.to_dot(
        loss,
        params=params,
        inputs=names,
        show_values=True,
        show_grads=True,
        legend=True,
        title="XOR net, iteration 0: value and gradient of the loss ½·Σ(y − t)² at every node",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", graph.GraphvizNotFoundWarning)  # the demo says it once, itself
        graph.render(text, out / "graph.svg")
        path = graph.render(text, out / "graph.png")
    return path, graph.graphviz_available()


def run(settings: Settings | None = None, out: str | Path | None = None) -> dict[str, Any]:
    settings = settings or Settings()
    out = output_folder(NAME, out)
    report = Report(NAME, TITLE, out, settings, intro=__doc__.split("\n\n", 1)[1])
    X, y = data.make_xor()
    stop_name = "MSE" if settings.stop_on == "mse" else "½·Σ(y − t)²"

    report.say(
        f"training Linear(2, {settings.hidden}) → ReLU → Linear({settings.hidden}, 1), seed "
        f"{settings.seed}, lr {settings.lr}, on ½·Σ(y − t)² until the {stop_name} < {settings.tol:g}"
    )
    model = make_model(settings)
    with report.timer("training"):
        history, stopped = train(model, settings, report)
    predicted = predict(model, X, settings.threshold)
    solved = bool(np.array_equal(predicted, y))

    bug_history, bug_stopped, bug_solved = None, None, None
    if settings.tutorial_relu:
        buggy = make_model(settings, TutorialReLU())  # the same initial weights, the tutorial's ReLU backward
        with report.timer("training with the tutorial's ReLU"):
            bug_history, bug_stopped = train(buggy, settings, None)
        bug_solved = bool(np.array_equal(predict(buggy, X, settings.threshold), y))

    seed_results: list[tuple[int | None, bool]] = []
    if settings.seeds > 0:
        report.say(f"training from seeds 0 … {settings.seeds - 1} (numnet's ReLU backward) …")
        with report.timer(f"{settings.seeds} seeds"):
            seed_results = over_seeds(settings)

    report.compare(
        f"seed {settings.seed}: stopped at iteration",
        stopped if stopped is not None else "not reached",
        f"{PUBLISHED_STOP} (one run, its grad·X ReLU)",
    )
    report.compare(f"seed {settings.seed}: final {stop_name}", history.step_loss[-1], f"< {settings.tol:g}")
    report.compare("predictions for (0,0) (0,1) (1,0) (1,1)", " ".join(map(str, predicted)), "0 1 1 0")
    report.compare("all four points right", solved, True)
    if settings.tutorial_relu:
        report.compare(
            "with the tutorial's ReLU backward: stopped at",
            bug_stopped if bug_stopped is not None else "not reached",
            PUBLISHED_STOP,
        )
        report.compare("with the tutorial's ReLU backward: all right", bug_solved, True)
    seed_summary = ""
    if seed_results:
        n = len(seed_results)
        stops = np.array([s for s, _ in seed_results if s is not None])
        right = sum(ok for _, ok in seed_results)
        span = f"seeds 0–{n - 1}"
        report.compare(
            f"{span}: stopped (loss < {settings.tol:g} within {settings.iterations:,})",
            f"{len(stops)} of {n} ({len(stops) / n:.0%})",
            "1 of 1 (the published run)",
        )
        report.compare(f"{span}: all four points right", f"{right} of {n} ({right / n:.0%})", "")
        if len(stops):
            q1, median, q3 = np.percentile(stops, [25, 50, 75])
            report.compare(
                f"{span}, the ones that stopped: iteration min / Q1 / median / Q3 / max",
                f"{stops.min()} / {q1:.0f} / {median:.0f} / {q3:.0f} / {stops.max()}",
                PUBLISHED_STOP,
            )
            if stopped is not None:
                report.compare(
                    f"{span}: runs that stopped sooner than seed {settings.seed}",
                    f"{int((stops < stopped).sum())} of {len(stops)}",
                    "",
                )
            later = int((stops > PUBLISHED_STOP).sum())
            seed_summary = (
                f"Over seeds 0–{n - 1}, {len(stops)} of {n} runs stopped within {settings.iterations:,} "
                f"iterations (median {median:.0f}, range {stops.min()}–{stops.max()}; {later} of them later "
                f"than the tutorial's {PUBLISHED_STOP}) and {right} of {n} classify all four points right. "
                "The others end with a dead hidden unit or on a plateau: one run, the tutorial's or this "
                "demo's, says little about how many iterations XOR takes."
            )
        else:
            seed_summary = f"None of seeds 0–{n - 1} stopped within {settings.iterations:,} iterations."
        report.section("Over seeds", seed_summary)
    report.differs(
        "ReLU backward (a bug in the tutorial's code): it computes np.where(X > 0, X, 0) * grad, i.e. "
        "multiplies the incoming gradient by the input X; the derivative of ReLU is 1 where X > 0, so numnet "
        "multiplies by 1. The wrong factor rescales each hidden unit's gradient by its own activation"
        + (_relu_comparison(bug_stopped, stopped) if settings.tutorial_relu else ".")
    )
    report.differs(
        "The tutorial's training loop reshapes the gradient with result.shape[0], a name it never defines "
        "(a NameError as printed); numnet's reverse-mode engine needs no hand-written reshape."
    )
    report.differs(
        f"Loss and stopping rule: the tutorial prints an MSE and stops once it is below 0.001, but "
        "back-propagates y − t, the gradient of ½·Σ(y − t)² (twice the MSE's gradient on 4 points). numnet "
        "does the same: it trains on ½·Σ(y − t)² and, by default, stops on the MSE "
        f"(this run: stop_on={settings.stop_on}). Stopping on ½·Σ(y − t)² < 0.001 instead is a twice "
        "stricter rule and stops later."
    )
    report.differs(
        "The iteration count depends on the random initial weights: numnet draws them from its own "
        f"generator (seed {settings.seed}), so it cannot stop at the tutorial's iteration 3315 except by "
        "chance" + ("; the 'Over seeds' section shows the spread." if seed_results else ".")
    )

    report.section(
        "Reading the graph",
        "`graph.png` is the graph numnet recorded for the first iteration: X → a1 = Linear → o1 = ReLU → "
        "a2 = Linear → y (reshaped to 4 values) → y − t → (y − t)² → Σ(y − t)² → loss = ½·Σ(y − t)², the "
        "loss the net is trained on. Each node shows its shape, its value and, in red, the gradient of the "
        "loss with respect to it; the parameters W1, b1, W2, b2 show theirs. numnet's Linear stores W1 as "
        "(out, in) = (3, 2), the transpose of the tutorial's (2, 3) matrix, and computes a1 = X·W1ᵀ + b1. "
        "a1's gradient is o1's where a1 > 0 and zero elsewhere: the ReLU's backward multiplies by 1, not by "
        "X. The key below the graph explains the colours.",
    )
    fig = plot.step_loss_curve(
        history, smooth=1, title=f"XOR: {stop_name} per iteration (seed {settings.seed})"
    )
    ax = fig.axes[0]
    ax.lines[0].set_label("numnet (ReLU backward: grad·1)")
    if bug_history is not None:
        ax.plot(
            np.arange(1, len(bug_history.step_loss) + 1),
            bug_history.step_loss,
            color="grey",
            alpha=0.8,
            linestyle="--",
            label="the tutorial's ReLU backward (grad·X)",
        )
    ax.axhline(settings.tol, color="black", linewidth=0.8, linestyle=":", label=f"stop at {settings.tol:g}")
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel(stop_name)
    ax.legend()
    report.figure(fig, "loss.png", f"{stop_name} per iteration (log scale)")

    def net_output(points: np.ndarray) -> np.ndarray:  # the raw regression output, clipped to [0, 1]
        with numnet.no_grad():
            return np.clip(model(numnet.tensor(points)).data, 0.0, 1.0)

    fig = plot.decision_boundary(
        net_output,
        X,
        y,
        bounds=(-0.5, 1.5, -0.5, 1.5),
        class_names=["class 0", "class 1"],
        value_label="network output, clipped to [0, 1] (a regression value)",
        title="XOR: the trained net's output (black line: 0.5, the threshold)",
    )
    report.figure(
        fig,
        "decision_boundary.png",
        "the trained net's output over [−0.5, 1.5]², clipped to [0, 1]; above 0.5 means class 1",
    )
    if seed_results:
        report.figure(
            _seeds_figure(seed_results, settings, stopped),
            "seeds.png",
            f"stopping iterations over seeds 0–{len(seed_results) - 1}",
        )
    graph_path, by_graphviz = draw_graph(settings, out)
    if not by_graphviz:
        report.note(GRAPHVIZ_HINT)
    report.file(
        graph_path,
        "the computational graph (X, a1, o1, a2, y, loss): shapes, values and gradients "
        "at iteration 0" + ("" if by_graphviz else " (numnet's own layout: Graphviz not installed)"),
    )
    report.finish()
    stops = [s for s, _ in seed_results]
    return {
        "stopped_at": stopped,
        "solved": solved,
        "predictions": predicted,
        "final_loss": history.step_loss[-1],
        "losses": history.step_loss,
        "tutorial_relu_stopped_at": bug_stopped,
        "tutorial_relu_solved": bug_solved,
        "graph": graph_path,
        "seed_stops": stops,
        "seed_solved": [ok for _, ok in seed_results],
        "headline": f"seed {settings.seed} stopped at iteration "
        f"{stopped if stopped is not None else 'none (not reached)'} (tutorial's one run: 3315)"
        + (f"; {sum(s is not None for s in stops)} of {len(stops)} seeds stop" if stops else ""),
    }


def _relu_comparison(bug_stopped: int | None, stopped: int | None) -> str:
    def text(stop: int | None) -> str:
        return f"iteration {stop}" if stop is not None else "no iteration (never stopped)"

    return (
        f"; from the same initial weights it stopped at {text(bug_stopped)}, numnet's ReLU at "
        f"{text(stopped)} (see the second loss curve)."
    )


def _seeds_figure(results: list[tuple[int | None, bool]], settings: Settings, stopped: int | None) -> Any:
    fig, axes = plot.new_figure(figsize=(6.4, 4.0))
    ax = axes[0, 0]
    stops = [s for s, _ in results if s is not None]
    never = len(results) - len(stops)
    bins = np.linspace(0, settings.iterations, 21)
    ax.hist(stops, bins=bins, color="C0", edgecolor="white", label=f"stopped ({len(stops)} seeds)")
    ax.axvline(PUBLISHED_STOP, color="black", linestyle=":", label=f"tutorial's one run: {PUBLISHED_STOP}")
    if stopped is not None:
        ax.axvline(stopped, color="C3", linestyle="--", label=f"seed {settings.seed} (this run): {stopped}")
    ax.set(
        xlabel="iteration at which the loss fell below the tolerance",
        ylabel="seeds",
        title=f"XOR over seeds 0–{len(results) - 1}: {never} of {len(results)} never stopped "
        f"within {settings.iterations:,}",
    )
    ax.legend(fontsize=8)
    return fig
