"""linear221 — what backpropagation does to the weights of a tiny linear network.

The network has 2 inputs, 2 hidden neurons and 1 output, and no activation function anywhere. Every weight
starts at 1 and every bias at 0; the only training sample is x = (1, 1) with target y = 1, and the loss is
(y − ŷ)². Ten epochs of SGD with learning rate 0.1 show two things:

- **Symmetry.** Both hidden neurons start identical, receive identical gradients, and therefore stay
  identical for ever: w1 = w3, w2 = w4, b1 = b2 and w5 = w6 after every step. Two hidden units that cannot
  differ are worth one. Random initialisation exists to break this tie.
- **Linearity.** Without an activation, ŷ = w5·h1 + w6·h2 + b3 with h = W1·x + b1 is a linear function of x:
  the "two-layer" network is a linear regressor v·x + c, however many hidden units it has.

The tutorial's code is deterministic, so numnet must reproduce its update rules exactly; the table compares
numnet's autograd with those rules written out by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import numnet
from numnet import nn, optim, plot
from numnet.demos.common import Report, output_folder, setting
from numnet.plot import new_figure
from numnet.train import History

NAME = "linear221"
TITLE = "backprop on a linear 2-2-1 net with symmetric initial weights"
WEIGHT_NAMES = ("w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2", "b3")


@dataclass
class Settings:
    lr: float = setting(0.1, "learning rate of per-sample SGD")
    epochs: int = setting(10, "passes over the data")
    init: float = setting(1.0, "the value every weight starts at (biases start at 0)")
    x1: float = setting(1.0, "first input of the one training sample")
    x2: float = setting(1.0, "second input of the one training sample")
    y: float = setting(1.0, "target of the one training sample")


QUICK: dict[str, Any] = {}


def weights(net: nn.Sequential) -> dict[str, float]:
    """The tutorial's names: w1, w2 into hidden unit 1; w3, w4 into unit 2; w5, w6 into the output."""
    hidden, output = net[0], net[1]
    W1, b1, W2, b2 = hidden.weight.data, hidden.bias.data, output.weight.data, output.bias.data
    values = (W1[0, 0], W1[0, 1], W1[1, 0], W1[1, 1], W2[0, 0], W2[0, 1], b1[0], b1[1], b2[0])
    return dict(zip(WEIGHT_NAMES, (float(v) for v in values), strict=True))


def tutorial_rules(s: Settings) -> list[dict[str, float]]:
    """The tutorial's update, one scalar at a time (every gradient from the weights before the step)."""
    p = dict.fromkeys(WEIGHT_NAMES[:6], s.init) | dict.fromkeys(WEIGHT_NAMES[6:], 0.0)
    x1, x2, y, lr = s.x1, s.x2, s.y, s.lr
    trail = []
    for _ in range(s.epochs):
        h1 = p["w1"] * x1 + p["w2"] * x2 + p["b1"]
        h2 = p["w3"] * x1 + p["w4"] * x2 + p["b2"]
        y_hat = p["w5"] * h1 + p["w6"] * h2 + p["b3"]
        g = -2 * (y - y_hat)  # d(y − ŷ)²/dŷ
        grads = {
            "w1": g * p["w5"] * x1,
            "w2": g * p["w5"] * x2,
            "w3": g * p["w6"] * x1,
            "w4": g * p["w6"] * x2,
            "w5": g * h1,
            "w6": g * h2,
            "b1": g * p["w5"],
            "b2": g * p["w6"],
            "b3": g,
        }
        p = {name: p[name] - lr * grads[name] for name in WEIGHT_NAMES}
        trail.append(dict(p))
    return trail


def run(settings: Settings | None = None, out: str | Path | None = None) -> dict[str, Any]:
    settings = settings or Settings()
    out = output_folder(NAME, out)
    report = Report(NAME, TITLE, out, settings, intro=__doc__.split("\n\n", 1)[1])

    with numnet.default_dtype(np.float64):
        net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))  # no activation in between
        for layer in net:
            nn.init.constant_(layer.weight, settings.init)
            nn.init.zeros_(layer.bias)
        X = np.array([[settings.x1, settings.x2]])
        Y = np.array([[settings.y]])
        loss_fn = nn.MSELoss()
        optimizer = optim.SGD(net.parameters(), lr=settings.lr)

        initial = weights(net)  # epoch 0, before any step
        loss_min, loss_mean, loss_max, trail = [], [], [], []
        report.say("epoch  " + "  ".join(f"{name:>9}" for name in WEIGHT_NAMES) + "       loss")
        for epoch in range(settings.epochs):
            losses = []
            for x, y in zip(X, Y, strict=True):  # per-sample SGD (here: the one sample)
                loss = loss_fn(net(numnet.tensor(x[None, :])), y[None, :])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            loss_min.append(min(losses))
            loss_mean.append(sum(losses) / len(losses))
            loss_max.append(max(losses))
            trail.append(weights(net))
            report.say(
                f"{epoch + 1:5d}  "
                + "  ".join(f"{v:9.5f}" for v in trail[-1].values())
                + f"  {loss_mean[-1]:9.5f}"
            )
        with numnet.no_grad():  # the whole network as one linear map: ŷ = v·x + c
            v = (net[1].weight @ net[0].weight).data[0]
            c = (net[1].weight @ net[0].bias + net[1].bias).data[0]

    by_hand = tutorial_rules(settings)
    symmetric = all(
        w["w1"] == w["w3"] and w["w2"] == w["w4"] and w["b1"] == w["b2"] and w["w5"] == w["w6"] for w in trail
    )
    worst = max(abs(a[k] - b[k]) for a, b in zip(trail, by_hand, strict=True) for k in WEIGHT_NAMES)
    report.compare("loss in epoch 1", loss_mean[0], 9.0)
    report.compare(f"loss in epoch {settings.epochs}", loss_mean[-1], "")
    for name in ("w1", "w2", "w5", "b1", "b3"):
        report.compare(
            f"{name} after epoch {settings.epochs} (tutorial: its update rules)",
            trail[-1][name],
            by_hand[-1][name],
            exact=True,
        )
    report.compare("max |numnet − tutorial rules| over all epochs", worst, 0.0)
    report.compare("hidden units identical every epoch", symmetric, True)
    report.compare("the net as ŷ = v·x + c: v", v, "linear regressor")
    report.compare("the net as ŷ = v·x + c: c", float(c), "")

    report.section(
        "Symmetry",
        "Hidden unit 1 computes h1 = w1·x1 + w2·x2 + b1 and unit 2 h2 = w3·x1 + w4·x2 + b2. With w1 = w3, "
        "w2 = w4, b1 = b2 and w5 = w6 the two units have the same value and the same gradient (dL/dw1 = "
        "g·w5·x1 = g·w6·x1 = dL/dw3), so one SGD step keeps them equal, and so does every later step: the "
        "table above checks it after every epoch (`hidden units identical`). That is why the tutorials "
        "draw initial weights at random.",
    )
    report.section(
        "Linearity",
        "With no activation, ŷ = W2·(W1·x + b1) + b2 = (W2·W1)·x + (W2·b1 + b2): a product of matrices is "
        f"one matrix, so the network is the linear model v·x + c with v = {np.round(v, 6).tolist()} and c "
        f"= {float(c):.6g}. Stacking linear layers adds no expressive power; the nonlinearity between them "
        "does.",
    )
    history = History()
    for low, mean, high in zip(loss_min, loss_mean, loss_max, strict=True):
        history.record_epoch({"loss": mean, "loss_min": low, "loss_max": high})
    fig = plot.loss_range_curve(history, title="linear221: min / mean / max loss per epoch (one sample)")
    report.figure(fig, "loss_range.png", "min / mean / max loss per epoch (one sample: the three coincide)")
    report.figure(
        _weights_figure([initial, *trail]),
        "weights.png",
        "every weight at epoch 0 (the start) and after each epoch; each hidden unit's weight next to "
        "its twin in the other unit",
    )
    report.finish()
    return {
        "weights": trail,
        "loss_min": loss_min,
        "loss_mean": loss_mean,
        "loss_max": loss_max,
        "symmetric": symmetric,
        "max_difference_from_rules": worst,
        "v": v,
        "c": float(c),
        "headline": f"loss {loss_mean[0]:g} → {loss_mean[-1]:.3g}; hidden units identical: {symmetric}",
    }


# ---------------------------------------------------------------------------------------------------------
# Pictures
# ---------------------------------------------------------------------------------------------------------


def _weights_figure(trail: list[dict[str, float]]) -> Any:
    """One panel per pair of twin weights (unit 1's solid circles, unit 2's dashed crosses, shifted apart by
    a fraction of an epoch so both stay visible where they coincide), and b3; epoch 0 is the start."""
    pairs = [("w1", "w3"), ("w2", "w4"), ("w5", "w6"), ("b1", "b2"), ("b3", None)]
    fig, axes = new_figure(2, 3, figsize=(10.0, 5.6), sharex=True)
    flat = axes.ravel()
    epochs = np.arange(len(trail))
    for ax, (first, twin) in zip(flat, pairs, strict=False):
        ax.plot(epochs - 0.08, [w[first] for w in trail], "-o", color="C0", markersize=4, label=first)
        title = first
        if twin is not None:
            ax.plot(epochs + 0.08, [w[twin] for w in trail], "--x", color="C3", markersize=5, label=twin)
            gap = max(abs(w[first] - w[twin]) for w in trail)
            title = f"{first} (unit 1) and {twin} (unit 2): max |difference| {gap:.3g}"
        ax.set_title(title, fontsize=8.5)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    for ax in flat[3:]:
        ax.set_xlabel("epoch (0: the initial weights)")
    for ax in flat[len(pairs) :]:
        ax.set_axis_off()
    fig.suptitle("linear221: every weight per epoch; the twins of the two hidden units stay equal")
    return fig
