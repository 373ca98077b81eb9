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

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import numnet
from numnet import data, graph, nn, optim, plot
from numnet.demos.common import Report, output_folder, setting
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
    tol: float = setting(0.001, "stop once the loss ½·Σ(y − t)² is below this")
    print_every: int = setting(200, "print the loss every this many iterations")
    threshold: float = setting(0.5, "an output above this means class 1")
    tutorial_relu: bool = setting(True, "also train with the tutorial's ReLU backward (grad·X), to compare")


QUICK: dict[str, Any] = {"print_every": 1000, "tutorial_relu": False}


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
    """½·Σ(y − t)²: its gradient is y − t, the gradient the tutorial back-propagates."""
    return 0.5 * nn.MSELoss(reduction="sum")(y, t)


def train(model: nn.Sequential, settings: Settings, report: Report | None) -> tuple[History, int | None]:
    """Full-batch gradient descent until the loss is below ``tol``: the history and the stop iteration."""
    X, y = data.make_xor()
    T = y.astype(np.float32).reshape(-1, 1)
    inputs = numnet.tensor(X)
    optimizer = optim.SGD(model.parameters(), lr=settings.lr)
    history = History()
    for i in range(settings.iterations):
        loss = half_squared_error(model(inputs), T)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        value = loss.item()
        history.record_step(value, settings.lr)
        if report is not None and i % settings.print_every == 0:
            report.say(f"iteration {i:5d}  loss {value:.6f}")
        if value < settings.tol:
            if report is not None:
                report.say(f"iteration {i:5d}  loss {value:.6f} < {settings.tol:g}: training complete")
            return history, i
    return history, None


def predict(model: nn.Module, X: np.ndarray, threshold: float) -> np.ndarray:
    with numnet.no_grad():
        return (model(numnet.tensor(X)).data[:, 0] > threshold).astype(np.int64)


def draw_graph(settings: Settings, out: Path) -> Path:
    """The computational graph of the first iteration, every node with its shape, value and gradient."""
    model = make_model(settings)
    X, y = data.make_xor()
    names = {}
    x = numnet.tensor(X)
    a1 = model[0](x)
    o1 = model[1](a1)
    a2 = model[2](o1)
    y_out = a2.reshape(-1)  # the tutorial's y = o2.reshape(4)
    squared = nn.MSELoss(reduction="sum")(y_out, y.astype(np.float32))
    loss = 0.5 * squared
    for name, t in (("X", x), ("a1", a1), ("o1", o1), ("a2", a2), ("y", y_out), ("Σ(y−t)²", squared),
                    ("loss", loss)):
        names[name] = t
        if t.requires_grad:
            t.retain_grad()
    loss.backward(retain_graph=True)
    params = {"W1": model[0].weight, "b1": model[0].bias, "W2": model[2].weight, "b2": model[2].bias}
    text = graph.to_dot(loss, params=params, inputs=names, show_values=True, show_grads=True,
                        title="XOR net, iteration 0: value and gradient of the loss at every node")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", graph.GraphvizNotFoundWarning)  # reported by the file's .dot suffix
        graph.render(text, out / "graph.svg")
        return graph.render(text, out / "graph.png")


def run(settings: Settings | None = None, out: str | Path | None = None) -> dict[str, Any]:
    settings = settings or Settings()
    out = output_folder(NAME, out)
    report = Report(NAME, TITLE, out, settings, intro=__doc__.split("\n\n", 1)[1])
    X, y = data.make_xor()

    report.say(f"training Linear(2, {settings.hidden}) → ReLU → Linear({settings.hidden}, 1), seed "
               f"{settings.seed}, lr {settings.lr}, until ½·Σ(y − t)² < {settings.tol:g}")
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

    report.compare("stopped at iteration", stopped if stopped is not None else "not reached", PUBLISHED_STOP)
    report.compare("final loss ½·Σ(y − t)²", history.step_loss[-1], f"< {settings.tol:g}")
    report.compare("predictions for (0,0) (0,1) (1,0) (1,1)", " ".join(map(str, predicted)), "0 1 1 0")
    report.compare("all four points right", solved, True)
    if settings.tutorial_relu:
        report.compare("with the tutorial's ReLU backward: stopped at",
                       bug_stopped if bug_stopped is not None else "not reached", PUBLISHED_STOP)
        report.compare("with the tutorial's ReLU backward: all right", bug_solved, True)
    report.differs(
        "ReLU backward: the tutorial computes np.where(X > 0, X, 0) * grad, i.e. multiplies the incoming "
        "gradient by the input X; the derivative of ReLU is 1 where X > 0, so numnet multiplies by 1. The "
        "wrong factor rescales each hidden unit's gradient by its own activation; training often still "
        "converges, at a different speed (see the second loss curve, same initial weights)."
    )
    report.differs(
        "Loss: the tutorial prints an MSE but back-propagates y − t, which is the gradient of ½·Σ(y − t)², "
        "not of the mean. numnet trains and stops on ½·Σ(y − t)² itself, so the loss it reports is the one "
        "it follows."
    )
    report.differs(
        "The iteration count depends on the random initial weights: numnet draws them from its own "
        f"generator (seed {settings.seed}), so it does not stop at the tutorial's iteration 3315; other "
        "seeds stop earlier, later, or (a dead hidden unit) not at all."
    )

    report.section(
        "Reading the graph",
        "`graph.png` is the graph numnet recorded for the first iteration: X → a1 = Linear → o1 = ReLU → "
        "a2 = Linear → y (reshaped to 4 values) → Σ(y − t)² → loss = ½·Σ(y − t)². Each node shows its "
        "shape, its value and, in red, the gradient of the loss with respect to it; the parameters W1, b1, "
        "W2, b2 show theirs. numnet's Linear stores W1 as (out, in) = (3, 2), the transpose of the "
        "tutorial's (2, 3) matrix, and computes a1 = X·W1ᵀ + b1. a1's gradient is o1's where a1 > 0 and "
        "zero elsewhere: the ReLU's backward multiplies by 1, not by X.",
    )
    fig = plot.step_loss_curve(history, smooth=1, title="XOR: loss ½·Σ(y − t)² per iteration")
    ax = fig.axes[0]
    ax.lines[0].set_label("numnet (ReLU backward: grad·1)")
    if bug_history is not None:
        ax.plot(np.arange(1, len(bug_history.step_loss) + 1), bug_history.step_loss, color="grey", alpha=0.8,
                linestyle="--", label="the tutorial's ReLU backward (grad·X)")
    ax.axhline(settings.tol, color="black", linewidth=0.8, linestyle=":", label=f"stop at {settings.tol:g}")
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.legend()
    report.figure(fig, "loss.png", "loss per iteration (log scale)")

    def net_output(points: np.ndarray) -> np.ndarray:  # the raw output clipped to [0, 1]: drawn as P(class 1)
        with numnet.no_grad():
            return np.clip(model(numnet.tensor(points)).data, 0.0, 1.0)

    fig = plot.decision_boundary(net_output, X, y, bounds=(-0.5, 1.5, -0.5, 1.5),
                                 class_names=["class 0", "class 1"],
                                 title="XOR: the trained net's output (black line: 0.5)")
    report.figure(fig, "decision_boundary.png", "decision boundary over [−0.5, 1.5]²")
    graph_path = draw_graph(settings, out)
    report.file(graph_path, "the computational graph (X, a1, o1, a2, y, loss): shapes, values and gradients "
                + ("(Graphviz missing: DOT text)" if graph_path.suffix == ".dot" else "at iteration 0"))
    report.finish()
    return {
        "stopped_at": stopped, "solved": solved, "predictions": predicted,
        "final_loss": history.step_loss[-1], "losses": history.step_loss,
        "tutorial_relu_stopped_at": bug_stopped, "tutorial_relu_solved": bug_solved,
        "graph": graph_path,
        "headline": f"stopped at iteration {stopped if stopped is not None else 'none (not reached)'} "
        f"(tutorial 3315); solved: {solved}",
    }
