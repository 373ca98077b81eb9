"""Loss layers: ``loss_fn = nn.CrossEntropyLoss(); loss = loss_fn(logits, y)``.

Each wraps a fused op from ``numnet.ops`` (through ``numnet.nn.functional``). Targets may be Tensors or
arrays; they get a gradient only if they are Tensors the user made ``requires_grad``. The ops' argument
errors are re-raised under the name of the loss class the user called (``MSELoss: prediction has shape …``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from numnet import backend
from numnet.nn import functional as F
from numnet.nn.module import Module
from numnet.tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


class _Loss(Module):
    """Base of the losses: holds ``reduction`` and renames the op's errors after the class."""

    _op_name: str  # the prefix the functional form puts on its error messages

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in _REDUCTIONS:
            name = type(self).__name__
            raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction

    def _call(self, fn: Callable[..., Tensor], input: Tensor, target: Any, **options: Any) -> Tensor:
        try:
            return fn(input, target, reduction=self.reduction, **options)
        except (ValueError, TypeError) as exc:
            message = str(exc)
            if message.startswith(self._op_name + ":"):
                message = message[len(self._op_name) + 1 :].lstrip()
            kind = TypeError if isinstance(exc, TypeError) else ValueError
            raise kind(f"{type(self).__name__}: {message}") from None

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """(y − t)² per element, averaged ("mean"), summed ("sum") or kept ("none"). ``input`` and ``target``
    have the same shape (any); ½·Σ(y − t)² is ``MSELoss(reduction="sum")(y, t) * 0.5``."""

    _op_name = "mse_loss"

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return self._call(F.mse_loss, input, target)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy on logits (N, C), against integer labels (N,) or probabilities / one-hot (N, C).

    −Σ_c t_c·log softmax(x)_c per sample, fused with the softmax so that dlogits = (softmax(x) − t)/N. With
    ``label_smoothing`` ε the target becomes (1 − ε)·t + ε/C.
    """

    _op_name = "cross_entropy"

    def __init__(self, reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(reduction)
        if not 0 <= label_smoothing <= 1:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}")
        self.label_smoothing = float(label_smoothing)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return self._call(F.cross_entropy, input, target, label_smoothing=self.label_smoothing)

    def extra_repr(self) -> str:
        smoothing = f"label_smoothing={self.label_smoothing}" if self.label_smoothing else ""
        parts = [super().extra_repr(), smoothing]
        return ", ".join(p for p in parts if p)


class NLLLoss(_Loss):
    """−log p[label] per sample, on log-probabilities (N, C) (from ``LogSoftmax``) and integer labels (N,)."""

    _op_name = "nll_loss"

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return self._call(F.nll_loss, input, target)


class BCELoss(_Loss):
    """−[t·log p + (1 − t)·log(1 − p)] per element, on probabilities p ∈ [0, 1] (e.g. after ``Sigmoid``);
    input and target of the same shape. Logs are clamped at −100 (as PyTorch), so p = 0 or 1 stays finite."""

    _op_name = "binary_cross_entropy"

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return self._call(F.binary_cross_entropy, input, target)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits x, fused with the sigmoid: max(x, 0) − x·t + log(1 + e^−|x|), exact
    and overflow-free for any x; dx = (σ(x) − t)/N. Input and target of the same shape.

    ``pos_weight`` (C,) weighs the positive term of each class (last axis): pw·t·softplus(−x) + …; it is a
    buffer, saved in ``state_dict()`` as in PyTorch.
    """

    _op_name = "binary_cross_entropy_with_logits"

    def __init__(self, reduction: str = "mean", pos_weight: Any = None) -> None:
        super().__init__(reduction)
        if pos_weight is not None:
            raw = pos_weight.data if isinstance(pos_weight, Tensor) else pos_weight
            pos_weight = np.array(raw, dtype=backend.get_default_dtype())  # a copy, in the default dtype
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return self._call(F.binary_cross_entropy_with_logits, input, target, pos_weight=self.pos_weight)
