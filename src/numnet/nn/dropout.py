"""Dropout: a regulariser that is active in training mode only."""

from __future__ import annotations

from numnet.nn import functional as F
from numnet.nn.module import Module
from numnet.tensor import Tensor


class Dropout(Module):
    """Inverted dropout. In training, each element is zeroed with probability ``p`` and the survivors are
    scaled by 1/(1 − p), so the expected activation is unchanged; in evaluation (and for p = 0) the input is
    returned as is. Any shape → same shape. The mask is drawn from numnet's seeded generator."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p}")
        self.p = float(p)

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
