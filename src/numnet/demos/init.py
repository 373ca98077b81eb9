"""init — how the scale of the initial weights shapes the activations, "Deep Learning from Scratch" §6.2.

Push 1000 random inputs (100 features, N(0, 1)) through 5 layers of 100 units, no biases, and look at the
histogram of each layer's outputs. With sigmoid and weights of std 1, most activations end up near 0 or 1,
where the sigmoid is flat: gradients vanish. With std 0.01 they all sit near 0.5: every unit says the same
thing, and 100 units are worth one. Xavier's std 1/√n keeps them spread out layer after layer (for sigmoid
and, more symmetrically, for tanh). ReLU zeroes half of its inputs, so it needs twice the variance: He's
std √(2/n) keeps every layer's spread the same, while Xavier's shrinks layer by layer.

The four scales are numnet's initialisers: ``normal_(std=1)``, ``normal_(std=0.01)``, ``xavier_normal_``
(std √(2/(n_in + n_out)) = 1/√n for square layers) and ``kaiming_normal_`` (std √(2/n_in)).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import numnet
from numnet import nn, plot
from numnet.demos.common import Report, output_folder, setting
from numnet.plot import new_figure

NAME = "init"
TITLE = "activation histograms of a 5-layer net for four weight scales"

INITS: dict[str, Callable[[Any], Any]] = {
    "std 1": lambda w: nn.init.normal_(w, 0.0, 1.0),
    "std 0.01": lambda w: nn.init.normal_(w, 0.0, 0.01),
    "Xavier 1/√n": lambda w: nn.init.xavier_normal_(w),
    "He √(2/n)": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
}
FILE_NAMES = {"std 1": "std1", "std 0.01": "std0.01", "Xavier 1/√n": "xavier", "He √(2/n)": "he"}
ACTIVATIONS: dict[str, type[nn.Module]] = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "relu": None}  # relu: the values' own range


@dataclass
class Settings:
    layers: int = setting(5, "hidden layers")
    units: int = setting(100, "units per layer")
    samples: int = setting(1000, "random N(0, 1) inputs")
    activations: tuple[str, ...] = setting(("sigmoid", "tanh", "relu"), "activations to try")
    seed: int = setting(0, "seed of the inputs and weights")
    bins: int = setting(30, "histogram bins")


QUICK: dict[str, Any] = {}


def layer_activations(activation: str, init: str, s: Settings) -> list[np.ndarray]:
    """Each layer's output for the same random inputs: Linear (no bias) → activation, ``layers`` times."""
    numnet.manual_seed(s.seed)
    x = numnet.randn(s.samples, s.units)
    outputs = []
    with numnet.no_grad():
        for _ in range(s.layers):
            linear = nn.Linear(s.units, s.units, bias=False)
            INITS[init](linear.weight)
            x = ACTIVATIONS[activation]()(linear(x))
            outputs.append(x.data)
    return outputs


def run(settings: Settings | None = None, out: str | Path | None = None) -> dict[str, Any]:
    settings = settings or Settings()
    out = output_folder(NAME, out)
    report = Report(NAME, TITLE, out, settings, intro=__doc__.split("\n\n", 1)[1])
    unknown = set(settings.activations) - set(ACTIVATIONS)
    if unknown:
        raise ValueError(f"init demo: unknown activation(s) {sorted(unknown)}; use {', '.join(ACTIVATIONS)}")

    stds: dict[tuple[str, str], list[float]] = {}
    outputs: dict[tuple[str, str], list[np.ndarray]] = {}
    report.say("standard deviation of each layer's activations:")
    layers = range(1, settings.layers + 1)
    report.say(f"{'activation':<10} {'init':<12} " + " ".join(f"{f'layer {i}':>9}" for i in layers))
    for activation in settings.activations:
        for init in INITS:
            acts = layer_activations(activation, init, settings)
            outputs[activation, init] = acts
            stds[activation, init] = [float(a.std()) for a in acts]
            row = " ".join(f"{v:9.4g}" for v in stds[activation, init])
            report.say(f"{activation:<10} {init:<12} {row}")
            name = f"{activation}_{FILE_NAMES[init]}.png"
            relu = activation == "relu"  # a spike of exact zeros, and layer scales far apart
            fig = plot.histograms(
                {f"layer {i + 1}": a for i, a in enumerate(acts)},
                bins=settings.bins,
                range=RANGES[activation],
                xlabel=activation + " output",
                title=f"{activation}, weights {init}"
                + (" (exact zeros not drawn; each layer its own range)" if relu else ""),
                exclude_zeros=relu,
                own_ranges=relu,
            )
            report.figure(
                fig,
                name,
                f"{activation} activations per layer, weights {init}"
                + (
                    ": the exact zeros (about half of the values) are left out of the bars and "
                    "counted in each panel; each layer has its own x range"
                    if relu
                    else ""
                ),
            )

    _compare(report, settings, stds, outputs)
    report.figure(
        _std_figure(settings, stds), "std_by_layer.png", "activation std per layer, every combination"
    )
    report.section(
        "What to look for",
        "For sigmoid: std 1 piles the activations at 0 and 1, std 0.01 at 0.5, Xavier spreads them. For "
        "ReLU: std 0.01 collapses everything towards 0, Xavier's spread shrinks with depth, He's stays "
        "put. The table above gives each case as a number; `std_by_layer.png` shows all of them.",
    )
    report.differs(
        "The tutorial's histogram code draws every activation with range=(0, 1): right for sigmoid, but it "
        "hides tanh's negative half and every ReLU output above 1. numnet gives tanh (−1, 1) and each ReLU "
        "layer its own range, with the exact zeros (half of the ReLU outputs) counted instead of drawn."
    )
    report.finish()
    return {
        "stds": {f"{a}/{i}": v for (a, i), v in stds.items()},
        "headline": "last-layer std, relu: "
        + ", ".join(f"{i} {stds['relu', i][-1]:.3g}" for i in INITS if ("relu", i) in stds),
    }


def _compare(report: Report, s: Settings, stds: dict, outputs: dict) -> None:
    """The book's observations, each as a number."""
    last = s.layers - 1
    if "sigmoid" in s.activations:
        a = outputs["sigmoid", "std 1"][last]
        report.compare(
            "sigmoid, std 1: share of the last layer within 0.05 of 0 or 1",
            float(np.mean((a < 0.05) | (a > 0.95))),
            "most (at 0 and 1)",
        )
        a = outputs["sigmoid", "std 0.01"][last]
        report.compare(
            "sigmoid, std 0.01: last-layer mean ± std", f"{a.mean():.3f} ± {a.std():.2g}", "all near 0.5"
        )
        report.compare("sigmoid, Xavier: last-layer std", stds["sigmoid", "Xavier 1/√n"][last], "spread out")
    if "tanh" in s.activations:
        a = outputs["tanh", "Xavier 1/√n"][last]
        report.compare(
            "tanh, Xavier: last-layer mean, std", f"{a.mean():.2g}, {a.std():.3g}", "spread, centred on 0"
        )
    if "relu" in s.activations:
        report.compare("relu, std 0.01: last-layer std", stds["relu", "std 0.01"][last], "≈ 0 (collapsed)")
        first, final = stds["relu", "Xavier 1/√n"][0], stds["relu", "Xavier 1/√n"][last]
        report.compare("relu, Xavier: std layer 1 → last", f"{first:.3g} → {final:.3g}", "shrinks with depth")
        first, final = stds["relu", "He √(2/n)"][0], stds["relu", "He √(2/n)"][last]
        report.compare("relu, He: std layer 1 → last", f"{first:.3g} → {final:.3g}", "stays the same")


def _std_figure(s: Settings, stds: dict[tuple[str, str], list[float]]) -> Any:
    n = len(s.activations)
    fig, axes = new_figure(1, n, figsize=(4.2 * n, 3.8))
    axes = axes[0]
    layers = np.arange(1, s.layers + 1)
    for ax, activation in zip(axes, s.activations, strict=True):
        for init in INITS:
            ax.plot(layers, stds[activation, init], marker="o", label=init)
        values = [v for name in INITS for v in stds[activation, name] if v > 0]
        if values and max(values) / min(values) > 100:
            ax.set_yscale("log")
        ax.set(title=activation, xlabel="layer", ylabel="std of the activations", xticks=layers)
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=8)
    fig.suptitle("Spread of each layer's activations, by weight scale")
    return fig
