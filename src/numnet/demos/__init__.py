"""The tutorial experiments, one command each: ``numnet demo NAME`` (listed in the project's EXPERIMENTS.md).

Every demo is one module of this package, readable top to bottom like a tutorial: a docstring with the
idea, a ``Settings`` dataclass holding the tutorial's exact settings as defaults, a ``QUICK`` dict of
smaller settings (``--quick``), and ``run(settings, out) -> dict`` that trains, prints its key figures next
to the tutorial's, and writes pictures and ``summary.md`` into ``out``.

From Python::

    from numnet import demos
    figures = demos.run_demo("gender", out="gender-demo")      # the tutorial's settings
    figures = demos.run_demo("xor", iterations=500, seed=3)     # any setting overridden by keyword
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

#: name → (module, one-line description), in the order ``numnet demo all`` runs them.
DEMOS: dict[str, tuple[str, str]] = {
    "xor": ("numnet.demos.xor", "2-3-1 ReLU net learns XOR by full-batch gradient descent; its graph drawn"),
    "fit": ("numnet.demos.fit", "1-128-1 sigmoid net fits a wiggly curve with 1,000,000 single-sample steps"),
    "linear221": ("numnet.demos.linear221", "what backprop does to the weights of a linear 2-2-1 net"),
    "gender": ("numnet.demos.gender", "Victor Zhou's neuron and 2-2-1 network: exact outputs, then training"),
    "mnist": ("numnet.demos.mnist", "the DLFS TwoLayerNet (784-50-10) on MNIST, with a gradient check"),
    "activations": ("numnet.demos.activations", "step, sigmoid, ReLU, tanh, softmax; two losses"),
    "numgrad": ("numnet.demos.numgrad", "numerical differentiation and gradient descent on x0² + x1²"),
    "apples": ("numnet.demos.apples", "the apple-shopping graph: forward 220, backward 2.2 / 110 / 200"),
    "optimizers": ("numnet.demos.optimizers", "SGD, Momentum, AdaGrad, Adam on x²/20 + y² and on MNIST"),
    "init": ("numnet.demos.init", "activation histograms of a 5-layer net for four weight scales"),
    "batchnorm": ("numnet.demos.batchnorm", "a deep net with and without BatchNorm across weight scales"),
    "overfitting": ("numnet.demos.overfitting", "300 MNIST images: overfitting, weight decay and dropout"),
    "cnn": ("numnet.demos.cnn", "the DLFS SimpleConvNet on MNIST: its filters, feature maps, ≈ 98.9% test"),
}


def names() -> list[str]:
    """Every demo's name, in the order ``numnet demo all`` runs them."""
    return list(DEMOS)


def describe(name: str) -> str:
    """The one-line description of demo ``name``."""
    return DEMOS[_check(name)][1]


def load(name: str) -> ModuleType:
    """The module of demo ``name`` (imported on first use, so listing the demos stays fast)."""
    return importlib.import_module(DEMOS[_check(name)][0])


def settings(name: str, quick: bool = False, **overrides: Any) -> Any:
    """Demo ``name``'s ``Settings``: the tutorial's defaults, then the ``QUICK`` ones if asked, then
    ``overrides``."""
    module = load(name)
    values = {**(module.QUICK if quick else {}), **overrides}
    return module.Settings(**values)


def run_demo(
    name: str, out: str | Path | None = None, quick: bool = False, **overrides: Any
) -> dict[str, Any]:
    """Run demo ``name`` and return its key figures; pictures and ``summary.md`` go to ``out``
    (default ``numnet-demos/<name>/``)."""
    return load(name).run(settings(name, quick, **overrides), out)


def _check(name: str) -> str:
    if name not in DEMOS:
        raise ValueError(f"unknown demo {name!r}; the demos are: {', '.join(DEMOS)}")
    return name


__all__ = ["DEMOS", "describe", "load", "names", "run_demo", "settings"]
