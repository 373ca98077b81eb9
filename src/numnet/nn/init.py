"""Weight initialisers, in place on a tensor's ``.data`` (PyTorch's ``torch.nn.init`` names and formulas).

Every random draw comes from numnet's seeded generator (``numnet.manual_seed``), in the tensor's own dtype.
Fans follow PyTorch for a weight of shape (out, in, *kernel):

    receptive = Π kernel dims (1 for a Linear weight)
    fan_in  = in  · receptive   (shape[1] · …)
    fan_out = out · receptive   (shape[0] · …)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from numnet import backend
from numnet.tensor import Tensor


def _array(tensor: Any, name: str) -> np.ndarray:
    array = tensor.data if isinstance(tensor, Tensor) else tensor
    if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
        raise TypeError(f"nn.init.{name}: expects a floating-point Tensor, got {type(tensor).__name__}")
    return array


def _fill(tensor: Any, values: Any, name: str) -> Any:
    array = _array(tensor, name)
    array[...] = values  # in place: the Parameter and anything holding its array see the new values
    return tensor


def calculate_fan_in_and_fan_out(tensor: Any) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight (out, in, *kernel); see the module docstring."""
    shape = np.shape(tensor.data if isinstance(tensor, Tensor) else tensor)
    if len(shape) < 2:
        raise ValueError(f"nn.init: fan in and fan out need a weight of 2 or more dimensions, got {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain that keeps activations' variance steady through ``nonlinearity``:

    linear, identity, sigmoid → 1;  tanh → 5/3;  relu → √2;  leaky_relu → √(2 / (1 + a²)) (a = param or 0.01);
    selu → 3/4.
    """
    if nonlinearity in ("linear", "identity", "sigmoid") or nonlinearity.startswith("conv"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; "
        "use linear, identity, sigmoid, tanh, relu, leaky_relu or selu"
    )


def zeros_(tensor: Any) -> Any:
    return _fill(tensor, 0, "zeros_")


def ones_(tensor: Any) -> Any:
    return _fill(tensor, 1, "ones_")


def constant_(tensor: Any, val: float) -> Any:
    return _fill(tensor, val, "constant_")


def normal_(tensor: Any, mean: float = 0.0, std: float = 1.0) -> Any:
    """w ~ N(mean, std²)."""
    if std < 0:
        raise ValueError(f"nn.init.normal_: std must be non-negative, got {std}")
    array = _array(tensor, "normal_")
    return _fill(tensor, backend.get_rng().normal(mean, std, array.shape).astype(array.dtype), "normal_")


def uniform_(tensor: Any, a: float = 0.0, b: float = 1.0) -> Any:
    """w ~ U(a, b)."""
    if a > b:
        raise ValueError(f"nn.init.uniform_: needs a ≤ b, got a={a}, b={b}")
    array = _array(tensor, "uniform_")
    return _fill(tensor, backend.get_rng().uniform(a, b, array.shape).astype(array.dtype), "uniform_")


def xavier_uniform_(tensor: Any, gain: float = 1.0) -> Any:
    """Glorot: w ~ U(−a, a), a = gain·√(6 / (fan_in + fan_out)) (variance gain²·2/(fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Any, gain: float = 1.0) -> Any:
    """Glorot: w ~ N(0, std²), std = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(tensor: Any, a: float, mode: str, nonlinearity: str) -> float:
    # std = gain / √fan, fan = fan_in (keeps the forward variance) or fan_out (keeps the backward variance)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"nn.init.kaiming: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:
        return 0.0
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor: Any, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Any:
    """He: w ~ U(−b, b), b = √3·std, std = gain/√fan (a: the leaky ReLU slope behind the gain).

    ``a=√5`` gives b = √(2/6)·√3/√fan_in = 1/√fan_in: Linear's default.
    """
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor: Any, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> Any:
    """He: w ~ N(0, std²), std = gain/√fan (for ReLU: √(2/fan_in))."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))
