"""activations — the activation functions and loss functions of "Deep Learning from Scratch", chapters 3–4.

A layer's activation decides what a neuron passes on. The perceptron's **step** function jumps from 0 to 1
and has a zero derivative wherever it has one, so gradients cannot flow through it; the **sigmoid** is its
smooth version; **tanh** is a sigmoid centred on 0; **ReLU** passes positive inputs unchanged and zeroes the
rest. **Softmax** turns a vector of scores into probabilities; subtracting the largest score first changes
nothing mathematically (the factor e⁻ᶜ cancels) but keeps e^x from overflowing.

A loss says how wrong a prediction is: the book's example is a 10-class output y against the one-hot target
t = class 2. The squared error ½·Σ(y − t)² and the cross-entropy −Σ t·log(y + 1e-7) are both small when the
network puts 0.6 on class 2, and larger when it puts 0.6 on class 7. The 1e-7 keeps log(0) from being −∞.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import numnet
from numnet import nn
from numnet.demos.common import Report, output_folder, setting
from numnet.nn import functional as F
from numnet.plot import new_figure

NAME = "activations"
TITLE = "step, sigmoid, ReLU, tanh, softmax; squared error and cross-entropy"

# The book's example: a 10-class prediction, the true class 2 (one-hot t), and a wrong guess (0.6 on class 7).
Y_RIGHT = (0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0)
Y_WRONG = (0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0)
TRUE_CLASS = 2
PUBLISHED = {
    # the book prints the cross-entropies in full: 0.51082545709933802 and 2.3025840929945458
    "mse_right": 0.0975,
    "mse_wrong": 0.5975,
    "ce_right": 0.510825457099338,
    "ce_wrong": 2.3025840929945458,
    "softmax": (0.01821127, 0.24519181, 0.73659691),  # softmax([0.3, 2.9, 4.0]) in the book
}
DELTA = 1e-7  # the book's guard inside the logarithm


@dataclass
class Settings:
    x_min: float = setting(-5.0, "left end of the activation plots")
    x_max: float = setting(5.0, "right end of the activation plots")
    scores: tuple[float, ...] = setting((0.3, 2.9, 4.0), "the scores softmax turns into probabilities")
    big_scores: tuple[float, ...] = setting((1010.0, 1000.0, 990.0), "scores that overflow a naive softmax")


QUICK: dict[str, Any] = {}


def activation_curves(x: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each activation's values and derivative at ``x`` (the derivative from numnet's backward)."""
    curves = {}
    for name, fn in (
        ("step", numnet.step),
        ("sigmoid", numnet.sigmoid),
        ("ReLU", numnet.relu),
        ("tanh", numnet.tanh),
    ):
        t = numnet.tensor(x, requires_grad=True)
        y = fn(t)
        y.sum().backward()  # d(Σ f(xᵢ))/dxᵢ = f'(xᵢ): one backward gives the derivative everywhere
        curves[name] = (y.data.copy(), t.grad.data.copy())
    return curves


def squared_error(y: Any, t: Any) -> float:
    """½·Σ(y − t)²: numnet's MSELoss summed, halved."""
    return 0.5 * nn.MSELoss(reduction="sum")(numnet.tensor(y), np.asarray(t)).item()


def cross_entropy_one_hot(y: Any, t: Any) -> float:
    """−Σ t·log(y + 1e-7), averaged over the batch (rows)."""
    y, t = numnet.tensor(np.atleast_2d(y)), np.atleast_2d(t)
    return (-(numnet.log(y + DELTA) * t).sum(axis=1)).mean().item()


def cross_entropy_labels(y: Any, labels: Any) -> float:
    """−log(y[label] + 1e-7), averaged over the batch: NLL of the guarded log-probabilities."""
    return F.nll_loss(numnet.log(numnet.tensor(np.atleast_2d(y)) + DELTA), np.atleast_1d(labels)).item()


def run(settings: Settings | None = None, out: str | Path | None = None) -> dict[str, Any]:
    settings = settings or Settings()
    out = output_folder(NAME, out)
    report = Report(NAME, TITLE, out, settings, intro=__doc__.split("\n\n", 1)[1])

    with numnet.default_dtype(np.float64):
        x = np.linspace(settings.x_min, settings.x_max, 1001)
        curves = activation_curves(x)

        scores = np.array(settings.scores)
        probabilities = numnet.softmax(numnet.tensor(scores)).data
        big = np.array(settings.big_scores)
        with np.errstate(over="ignore", invalid="ignore"):
            naive = np.exp(big) / np.sum(np.exp(big))  # what softmax without the shift computes: inf / inf
        stable = numnet.softmax(numnet.tensor(big)).data

        t = np.eye(10)[TRUE_CLASS]
        losses = {
            "mse_right": squared_error(Y_RIGHT, t),
            "mse_wrong": squared_error(Y_WRONG, t),
            "ce_right": cross_entropy_one_hot(Y_RIGHT, t),
            "ce_wrong": cross_entropy_one_hot(Y_WRONG, t),
            "ce_right_labels": cross_entropy_labels(Y_RIGHT, TRUE_CLASS),
            "ce_wrong_labels": cross_entropy_labels(Y_WRONG, TRUE_CLASS),
            "ce_batch": cross_entropy_one_hot(np.array([Y_RIGHT, Y_WRONG]), np.array([t, t])),
            "ce_batch_labels": cross_entropy_labels(np.array([Y_RIGHT, Y_WRONG]), [TRUE_CLASS, TRUE_CLASS]),
        }

    report.compare(
        f"softmax({', '.join(f'{s:g}' for s in scores)})",
        probabilities,
        np.array(PUBLISHED["softmax"]) if settings.scores == (0.3, 2.9, 4.0) else "",
        digits=8,
    )
    report.compare("  its sum", float(probabilities.sum()), 1.0)
    report.compare(f"naive softmax({', '.join(f'{s:g}' for s in big)})", naive, "nan (overflow)")
    report.compare("numnet softmax, shifted by the max", stable, "finite")
    report.compare("½Σ(y−t)², 0.6 on the true class 2", losses["mse_right"], PUBLISHED["mse_right"])
    report.compare("½Σ(y−t)², 0.6 on class 7 (wrong)", losses["mse_wrong"], PUBLISHED["mse_wrong"])
    report.compare(
        "cross-entropy, one-hot t, right guess", losses["ce_right"], PUBLISHED["ce_right"], exact=True
    )
    report.compare(
        "cross-entropy, one-hot t, wrong guess", losses["ce_wrong"], PUBLISHED["ce_wrong"], exact=True
    )
    report.compare(
        "cross-entropy, label 2, right guess", losses["ce_right_labels"], PUBLISHED["ce_right"], exact=True
    )
    report.compare(
        "cross-entropy, label 2, wrong guess", losses["ce_wrong_labels"], PUBLISHED["ce_wrong"], exact=True
    )
    report.compare(
        "cross-entropy, batch of both (mean)",
        losses["ce_batch"],
        (PUBLISHED["ce_right"] + PUBLISHED["ce_wrong"]) / 2,
    )
    report.compare(
        "  the same with integer labels",
        losses["ce_batch_labels"],
        (PUBLISHED["ce_right"] + PUBLISHED["ce_wrong"]) / 2,
    )
    report.section(
        "Cross-entropy in numnet",
        "The book's cross-entropy takes probabilities y (the softmax's output) and needs the 1e-7 guard; "
        "here it is written with numnet's `log` and `nll_loss`, as the book writes it. For training, "
        "numnet's `nn.CrossEntropyLoss` takes the scores (logits) instead and fuses softmax and log into a "
        "log-softmax that is finite for any score, so it needs no guard; its gradient is the book's "
        "SoftmaxWithLoss (y − t) / batch.",
    )
    report.section(
        "Derivatives",
        "The dashed curves in `activations.png` are each function's derivative, computed by numnet's "
        "backward pass (`f(x).sum().backward()` puts f'(x) in `x.grad`): 0 for the step (no gradient can "
        "pass), σ(1 − σ) ≤ 0.25 for the sigmoid, 1 − tanh² ≤ 1 for tanh, and 0 or 1 for ReLU.",
    )
    report.figure(_activations_figure(x, curves), "activations.png", "activation functions and derivatives")
    report.figure(_softmax_figure(scores, probabilities), "softmax.png", "softmax of the book's scores")
    report.figure(_losses_figure(t, losses), "losses.png", "the book's loss example: right and wrong guess")
    report.differs(
        "Bugs in the tutorial's own code that numnet does not have: the cross-entropy for integer labels "
        "calls np.arrange (NumPy has np.arange), so as printed it raises an AttributeError; numnet's "
        "CrossEntropyLoss takes integer labels directly. (Its mean squared error is named "
        "menn_squared_error: a typo, harmless.)"
    )
    report.finish()
    return {
        "softmax": probabilities,
        "naive_softmax": naive,
        "stable_softmax": stable,
        **losses,
        "headline": f"½Σ(y−t)² {losses['mse_right']:.4g} / {losses['mse_wrong']:.4g}; "
        f"CE {losses['ce_right']:.9g} / {losses['ce_wrong']:.9g}",
    }


# ---------------------------------------------------------------------------------------------------------
# Pictures
# ---------------------------------------------------------------------------------------------------------


def _activations_figure(x: np.ndarray, curves: dict[str, tuple[np.ndarray, np.ndarray]]) -> Any:
    fig, axes = new_figure(2, 2, figsize=(9.0, 6.5))
    for ax, (name, (y, dy)) in zip(axes.ravel(), curves.items(), strict=True):
        ax.plot(x, y, linewidth=2, label=name)
        ax.plot(x, dy, "--", linewidth=1.5, label=f"{name}' (numnet backward)")
        ax.axhline(0, color="grey", linewidth=0.6)
        ax.axvline(0, color="grey", linewidth=0.6)
        ax.set(title=name, xlabel="x", ylabel="f(x)")
        ax.legend(loc="upper left", fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle("Activation functions (solid) and their derivatives (dashed)")
    return fig


def _softmax_figure(scores: np.ndarray, probabilities: np.ndarray) -> Any:
    fig, axes = new_figure(1, 2, figsize=(7.5, 3.6))
    left, right = axes[0]
    positions = np.arange(len(scores))
    left.bar(positions, scores, color="C0")
    left.set(title="scores a", xticks=positions, xlabel="class", ylabel="a")
    right.bar(positions, probabilities, color="C1")
    for i, p in enumerate(probabilities):
        right.annotate(f"{p:.4f}", (i, p), ha="center", va="bottom", fontsize=9)
    right.set(
        title="softmax(a): probabilities summing to 1",
        xticks=positions,
        xlabel="class",
        ylabel="p",
        ylim=(0, 1.05),
    )
    return fig


def _losses_figure(t: np.ndarray, losses: dict[str, float]) -> Any:
    fig, axes = new_figure(1, 2, figsize=(9.0, 3.6), sharey=True)
    axes = axes[0]
    classes = np.arange(10)
    for ax, y, key, label in (
        (axes[0], Y_RIGHT, "right", "0.6 on the true class 2"),
        (axes[1], Y_WRONG, "wrong", "0.6 on class 7"),
    ):
        ax.bar(classes, y, color="C0", label="prediction y")
        ax.bar(classes, t, color="none", edgecolor="C3", linewidth=1.5, label="target t (one-hot)")
        ax.set(
            title=f"{label}\n½Σ(y−t)² = {losses['mse_' + key]:.4g},  CE = {losses['ce_' + key]:.4g}",
            xticks=classes,
            xlabel="class",
        )
        ax.title.set_fontsize(10)
    axes[0].set_ylabel("probability")
    axes[0].legend(fontsize=8)
    return fig
