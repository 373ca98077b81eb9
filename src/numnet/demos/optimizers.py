"""optimizers — SGD, Momentum, AdaGrad and Adam, "Deep Learning from Scratch" chapter 6.

On f(x, y) = x²/20 + y² the gradient is 20 times steeper across (y) than along (x), and the minimum lies at
the origin. Plain SGD follows the gradient and zigzags across the valley while crawling along it; Momentum
accumulates velocity like a ball rolling downhill and overshoots, then settles; AdaGrad divides each
coordinate's step by the root of its summed squared gradients, so the steep y direction is tamed at once;
Adam combines momentum with that per-coordinate scaling (and corrects the bias of both averages early on).
The book starts each at (−7, 2) with its own learning rate (SGD 0.95, Momentum 0.1 with μ = 0.9, AdaGrad 1.5,
Adam 0.3) and takes 30 steps.

The same four, with the book's default learning rates (0.01, 0.01, 0.01, 0.001), then train a 5-layer network
of 100 ReLU units (He initialisation, batch 128) on MNIST: SGD learns slowest, the other three much faster.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import numnet
from numnet import data, nn, optim, plot
from numnet.demos.common import Report, image_data, output_folder, setting
from numnet.models import mlp
from numnet.plot import new_figure

NAME = "optimizers"
TITLE = "SGD, Momentum, AdaGrad and Adam on x²/20 + y² and on MNIST"
BOOK_EPS = 1e-7  # the book's AdaGrad and Adam add 1e-7 to the denominator


@dataclass
class Settings:
    sgd_lr: float = setting(0.95, "SGD learning rate on f(x, y)")
    momentum_lr: float = setting(0.1, "Momentum learning rate on f(x, y)")
    momentum: float = setting(0.9, "Momentum's μ")
    adagrad_lr: float = setting(1.5, "AdaGrad learning rate on f(x, y)")
    adam_lr: float = setting(0.3, "Adam learning rate on f(x, y)")
    steps: int = setting(30, "steps on f(x, y)")
    start: tuple[float, ...] = setting((-7.0, 2.0), "starting point on f(x, y)")
    mnist_iterations: int = setting(2000, "MNIST steps per optimizer, the book's 2000 (0 skips MNIST)")
    mnist_batch: int = setting(128, "MNIST batch size")
    mnist_hidden: tuple[int, ...] = setting((100, 100, 100, 100), "hidden ReLU layers of the MNIST net")
    seed: int = setting(0, "seed of the MNIST net's initial weights and batch order")
    seeds: int = setting(
        3,
        "also train on MNIST from seeds 0 … N−1 and report the range of each optimizer's "
        "final loss (0 or 1: only the one run)",
        cosmetic=True,
    )
    dataset: str = setting("mnist", "mnist, or digits (scikit-learn's 8×8 digits) where MNIST is missing")


QUICK: dict[str, Any] = {"mnist_iterations": 200, "seeds": 2}


def f(x: Any, y: Any) -> Any:
    """The book's test function: an elongated bowl with its minimum at (0, 0)."""
    return x**2 / 20 + y**2


def surface_optimizers(s: Settings) -> dict[str, Callable[[list], optim.Optimizer]]:
    return {
        "SGD": lambda p: optim.SGD(p, lr=s.sgd_lr),
        "Momentum": lambda p: optim.SGD(p, lr=s.momentum_lr, momentum=s.momentum),
        "AdaGrad": lambda p: optim.Adagrad(p, lr=s.adagrad_lr, eps=BOOK_EPS),
        "Adam": lambda p: optim.Adam(p, lr=s.adam_lr, eps=BOOK_EPS),
    }


def descend(make: Callable[[list], optim.Optimizer], start: tuple[float, ...], steps: int) -> np.ndarray:
    """The path of one optimizer on f; x and y are two parameters, as the book's params['x'] and ['y']."""
    x = numnet.tensor(np.float64(start[0]), requires_grad=True)
    y = numnet.tensor(np.float64(start[1]), requires_grad=True)
    optimizer = make([x, y])
    path = [(x.item(), y.item())]
    for _ in range(steps):
        optimizer.zero_grad()
        f(x, y).backward()
        optimizer.step()
        path.append((x.item(), y.item()))
    return np.array(path)


def book_rules(name: str, s: Settings) -> np.ndarray:
    """The book's update rules written out in NumPy, for comparison: the path of optimizer ``name``."""
    p = np.array(s.start, dtype=np.float64)
    v, h, m = np.zeros(2), np.zeros(2), np.zeros(2)
    path = [p.copy()]
    for t in range(1, s.steps + 1):
        g = np.array([p[0] / 10, 2 * p[1]])  # ∇f = (x/10, 2y)
        if name == "SGD":
            p = p - s.sgd_lr * g
        elif name == "Momentum":  # v ← μv − lr·g;  p ← p + v
            v = s.momentum * v - s.momentum_lr * g
            p = p + v
        elif name == "AdaGrad":  # h ← h + g²;  p ← p − lr·g / (√h + ε)
            h = h + g * g
            p = p - s.adagrad_lr * g / (np.sqrt(h) + BOOK_EPS)
        else:  # Adam: m, v moving averages; the bias correction folded into the step size
            m = m + (1 - 0.9) * (g - m)
            h = h + (1 - 0.999) * (g * g - h)
            lr_t = s.adam_lr * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
            p = p - lr_t * m / (np.sqrt(h) + BOOK_EPS)
        path.append(p.copy())
    return np.array(path)


def mnist_model(s: Settings, inputs: int) -> nn.Sequential:
    """Linear → ReLU for each hidden layer, then Linear(…, 10); He-normal weights (the book's √(2/n)), zero
    biases."""
    numnet.manual_seed(s.seed)
    return mlp(inputs, s.mnist_hidden, 10, "relu", init="he")


def mnist_losses(s: Settings, report: Report | None) -> dict[str, list[float]]:
    """The loss at every step of each optimizer, all starting from the same weights and batch order."""
    (X, y), _ = image_data(s.dataset)
    makers = {
        "SGD": lambda p: optim.SGD(p, lr=0.01),
        "Momentum": lambda p: optim.SGD(p, lr=0.01, momentum=0.9),
        "AdaGrad": lambda p: optim.Adagrad(p, lr=0.01, eps=BOOK_EPS),
        "Adam": lambda p: optim.Adam(p, lr=0.001, eps=BOOK_EPS),
    }
    losses: dict[str, list[float]] = {}
    loss_fn = nn.CrossEntropyLoss()
    for name, make in makers.items():
        model = mnist_model(s, X.shape[1])
        optimizer = make(list(model.parameters()))
        loader = data.DataLoader(
            data.TensorDataset(X, y), batch_size=s.mnist_batch, shuffle=True, seed=s.seed
        )
        losses[name] = []
        while len(losses[name]) < s.mnist_iterations:
            for xb, yb in loader:
                loss = loss_fn(model(xb), yb)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses[name].append(loss.item())
                if len(losses[name]) == s.mnist_iterations:
                    break
        tail = losses[name][-min(100, len(losses[name])) :]
        if report is not None:
            report.say(
                f"MNIST {name:<9} loss: first {losses[name][0]:.3f}, mean of the last {len(tail)} "
                f"{np.mean(tail):.4f}"
            )
    return losses


def run(settings: Settings | None = None, out: str | Path | None = None) -> dict[str, Any]:
    settings = settings or Settings()
    out = output_folder(NAME, out)
    report = Report(NAME, TITLE, out, settings, intro=__doc__.split("\n\n", 1)[1])

    with numnet.default_dtype(np.float64):
        paths = {
            name: descend(make, settings.start, settings.steps)
            for name, make in surface_optimizers(settings).items()
        }
    for name, path in paths.items():
        book = book_rules(name, settings)
        end, book_end = path[-1], book[-1]
        report.compare(
            f"{name}: end point after {settings.steps} steps (tutorial: the book's rules)",
            np.round(end, 6),
            np.round(book_end, 6),
        )
        report.compare(
            f"{name}: max |numnet − book rules| along the path",
            float(np.abs(path - book).max()),
            0.0,
            digits=2,
        )
    report.figure(
        plot.optimizer_paths(
            f,
            paths,
            bounds=(-10, 10, -5, 5),
            minimum=(0, 0),
            title=f"f(x, y) = x²/20 + y² from {tuple(settings.start)}",
        ),
        "paths.png",
        "the four optimizers' paths on the contours of x²/20 + y²",
    )

    losses: dict[str, list[float]] = {}
    if settings.mnist_iterations > 0:
        with report.timer("MNIST"):
            losses = mnist_losses(settings, report)
        for name, values in losses.items():
            tail = values[-min(100, len(values)) :]
            report.compare(
                f"MNIST {name}: mean loss, last {len(tail)} steps",
                float(np.mean(tail)),
                "highest" if name == "SGD" else "well below SGD",
            )
        if settings.seeds > 1:
            finals: dict[str, list[float]] = {name: [] for name in losses}
            with report.timer(f"MNIST, {settings.seeds} seeds"):
                for seed in range(settings.seeds):
                    seeded = (
                        losses
                        if seed == settings.seed
                        else mnist_losses(dataclasses.replace(settings, seed=seed), None)
                    )
                    for name, values in seeded.items():
                        finals[name].append(float(np.mean(values[-min(100, len(values)) :])))
            for name, values in finals.items():
                report.compare(
                    f"seeds 0–{settings.seeds - 1}, MNIST {name}: mean loss of the last steps, min / max",
                    f"{min(values):.4f} / {max(values):.4f}",
                    "highest" if name == "SGD" else "well below SGD",
                )
            sgd_highest = sum(
                all(finals["SGD"][k] > finals[name][k] for name in finals if name != "SGD")
                for k in range(settings.seeds)
            )
            report.compare(
                f"seeds 0–{settings.seeds - 1}: SGD's loss the highest of the four",
                f"{sgd_highest} of {settings.seeds}",
                "yes (one run)",
            )
        report.figure(_loss_figure(losses), "mnist_loss.png", "MNIST training loss per step, four optimizers")
    report.differs(
        "numnet's optimizers follow PyTorch's formulas. Momentum keeps b ← μb + g and steps lr·b, the book "
        "v ← μv − lr·g and steps v: the same path for a constant learning rate. AdaGrad and Adam are given "
        "the book's ε = 1e-7. numnet's Adam adds ε after the bias correction, the book's before it (an ε "
        "larger by 1/√(1 − β2ᵗ) in the first steps), which moves Adam's path by about 1e-5; the other "
        "three match the book's rules to rounding."
    )
    report.differs(
        "MNIST batches come from a DataLoader that shuffles each epoch (the book samples with "
        "replacement), and each optimizer sees the same initial weights and batches. "
        f"{settings.mnist_iterations} steps per optimizer here"
        + (
            ", the book's 2000."
            if settings.mnist_iterations == 2000
            else ", the book 2000: the curves are not the book's length (--mnist-iterations 2000)."
        )
    )
    report.finish()
    ends = {name: path[-1] for name, path in paths.items()}
    final = {name: float(np.mean(v[-min(100, len(v)) :])) for name, v in losses.items()}
    return {
        "paths": paths,
        "ends": ends,
        "mnist_losses": losses,
        "mnist_final_loss": final,
        "headline": "ends: " + ", ".join(f"{k} ({v[0]:.2f}, {v[1]:.2f})" for k, v in ends.items()),
    }


def _loss_figure(losses: dict[str, list[float]]) -> Any:
    fig, axes = new_figure(figsize=(6.4, 4.4))
    ax = axes[0, 0]
    for name, values in losses.items():
        values = np.asarray(values)
        window = max(1, min(50, len(values) // 10))
        smooth = np.convolve(values, np.ones(window) / window, mode="valid")
        ax.plot(np.arange(window, len(values) + 1), smooth, label=name)
    ax.set(
        xlabel="iteration",
        ylabel=f"cross-entropy (moving average of {window})",
        yscale="log",
        title="MNIST: training loss of a 5-layer ReLU net",
    )
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    return fig
