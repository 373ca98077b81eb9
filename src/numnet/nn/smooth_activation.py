"""Smooth activation layers: ``GELU``, ``SiLU``, ``ELU``, ``Softplus`` (any shape → same shape).

``inplace=True`` is accepted where PyTorch has it, so PyTorch code runs unchanged, but the result is always
a new tensor (the values are the same; nothing else can observe the difference in numnet).
"""

from __future__ import annotations

from numnet.nn import functional as F
from numnet.nn.module import Module
from numnet.tensor import Tensor


class GELU(Module):
    """x·Φ(x), Φ the standard normal CDF; ``approximate="tanh"``: ½x·(1 + tanh(√(2/π)·(x + 0.044715x³)))."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x·σ(x) (also called swish)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = bool(inplace)

    def forward(self, x: Tensor) -> Tensor:
        return F.silu(x)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ELU(Module):
    """x for x > 0, α·(eˣ − 1) otherwise."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha  # kept as given: the repr shows it as PyTorch does
        self.inplace = bool(inplace)

    def forward(self, x: Tensor) -> Tensor:
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Softplus(Module):
    """(1/β)·log(1 + e^(βx)), and x where βx > threshold: a smooth ReLU."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        if beta == 0:
            raise ValueError("Softplus: beta must be non-zero (it divides the result)")
        self.beta = beta
        self.threshold = threshold

    def forward(self, x: Tensor) -> Tensor:
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"
