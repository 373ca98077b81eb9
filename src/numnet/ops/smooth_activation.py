"""Smooth activations of modern networks: GELU (exact and tanh forms), SiLU, ELU and Softplus.

Each backward reuses what its forward kept (the Gaussian CDF, the sigmoid, the exponential), so no
transcendental function is evaluated twice.
"""

from __future__ import annotations

import math

import numpy as np

from numnet.ops.activation import sigmoid_array
from numnet.tensor import Function

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715

# NumPy has no erf; math.erf is exact to the last bit, applied element by element (float64 internally).
_erf = np.frompyfunc(math.erf, 1, 1)


def erf_array(x: np.ndarray) -> np.ndarray:
    """The error function erf(x), element-wise, in ``x``'s dtype (via ``math.erf``, correctly rounded)."""
    x = np.asarray(x)
    return np.asarray(_erf(x), dtype=np.float64).astype(x.dtype, copy=False)


class GELU(Function):
    """GELU(x) = x·Φ(x), Φ the standard normal CDF; ``approximate="tanh"`` uses Hendrycks & Gimpel's
    0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))."""

    def forward(self, x, approximate="none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.x, self.approximate = x, approximate
        if approximate == "tanh":
            self.t = np.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x))
            return 0.5 * x * (1 + self.t)
        self.cdf = 0.5 * (1 + erf_array(x * _SQRT_HALF))  # Φ(x) = ½·(1 + erf(x/√2))
        return x * self.cdf

    def backward(self, grad):
        x = self.x
        if self.approximate == "tanh":
            # u = √(2/π)·(x + 0.044715x³), t = tanh u:
            # dx = g·(½(1 + t) + ½x·(1 − t²)·√(2/π)·(1 + 3·0.044715x²))
            t = self.t
            du = _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * x * x)
            return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
        # dx = g·(Φ(x) + x·φ(x)),  φ(x) = e^(−x²/2)/√(2π)
        return grad * (self.cdf + x * np.exp(-0.5 * x * x) * _INV_SQRT_2PI)


class SiLU(Function):
    """SiLU (swish) x·σ(x)."""

    def forward(self, x):
        self.x, self.s = x, sigmoid_array(x)
        return x * self.s

    def backward(self, grad):
        # dx = g·σ(x)·(1 + x·(1 − σ(x)))
        s = self.s
        return grad * s * (1 + self.x * (1 - s))


class ELU(Function):
    """ELU: x for x > 0, α·(eˣ − 1) otherwise."""

    def forward(self, x, alpha=1.0):
        self.positive = x > 0
        self.alpha_exp = alpha * np.exp(np.minimum(x, 0))  # α·eˣ on the negative side (no overflow)
        return np.where(self.positive, x, self.alpha_exp - alpha)

    def backward(self, grad):
        # dx = g for x > 0, g·α·eˣ otherwise
        return grad * np.where(self.positive, 1, self.alpha_exp)


class Softplus(Function):
    """Softplus: (1/β)·log(1 + e^(βx)), and x itself where βx > threshold (as PyTorch)."""

    def forward(self, x, beta=1.0, threshold=20.0):
        z = x * beta
        self.linear = z > threshold
        self.s = sigmoid_array(z)
        return np.where(self.linear, x, np.logaddexp(0, z) / beta)

    def backward(self, grad):
        # dx = g·σ(βx) (g where βx > threshold)
        return grad * np.where(self.linear, 1, self.s)
