"""Ready-made architectures built from ``numnet.nn`` layers (used by the CLI, sweeps and estimators)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from numnet import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "leaky_relu": nn.LeakyReLU,
    "identity": nn.Identity,
}

INITS = ("default", "xavier", "he", "normal")


def mlp(
    in_features: int,
    hidden: Sequence[int],
    out_features: int,
    activation: str = "relu",
    dropout: float = 0.0,
    batchnorm: bool = False,
    init: str = "default",
) -> nn.Sequential:
    """A multilayer perceptron: ``in → [Linear → (BatchNorm) → activation → (Dropout)] × len(hidden) → out``.

    ``init``: ``"default"`` keeps ``Linear``'s own (PyTorch's) initialisation; ``"xavier"`` (Glorot, for
    sigmoid/tanh), ``"he"`` (Kaiming, for ReLU) or ``"normal"`` (the tutorials' 0.01·N(0, 1)) re-draw the
    weights and zero the biases.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose from {', '.join(ACTIVATIONS)}")
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; choose from {', '.join(INITS)}")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    sizes = [int(in_features), *(int(h) for h in hidden), int(out_features)]
    if any(size < 1 for size in sizes):
        raise ValueError(f"layer sizes must be positive, got {sizes}")
    layers: list[nn.Module] = []
    for index, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        linear = nn.Linear(fan_in, fan_out)
        _initialise(linear, init, activation)
        layers.append(linear)
        if index < len(sizes) - 2:  # hidden layer
            if batchnorm:
                layers.append(nn.BatchNorm1d(fan_out))
            layers.append(ACTIVATIONS[activation]())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def _initialise(linear: nn.Linear, init: str, activation: str) -> None:
    if init == "default":
        return
    if init == "xavier":
        nn.init.xavier_uniform_(linear.weight, gain=nn.init.calculate_gain(_gain_name(activation)))
    elif init == "he":
        nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
    else:
        nn.init.normal_(linear.weight, 0.0, 0.01)
    if linear.bias is not None:
        nn.init.zeros_(linear.bias)


def _gain_name(activation: str) -> str:
    return {"identity": "linear"}.get(activation, activation)
