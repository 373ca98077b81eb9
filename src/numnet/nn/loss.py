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


def _class_weight(weight: Any) -> np.ndarray | None:
    """A loss's ``weight`` argument as a buffer: a copy in the default dtype, or None."""
    if weight is None:
        return None
    raw = weight.data if isinstance(weight, Tensor) else weight
    return np.array(raw, dtype=backend.get_default_dtype())


def _check_weight_argument(name: str, weight: Any) -> None:
    """``weight`` comes first, as in PyTorch: a string there is a reduction passed by position."""
    if isinstance(weight, str):
        raise TypeError(f"{name}: the first argument is weight, as in PyTorch; pass reduction={weight!r}")


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
    """Softmax cross-entropy on logits (N, C) or (N, C, d1, …), against integer labels (N,) / (N, d1, …) or
    probabilities / one-hot shaped like the logits.

    −Σ_c t_c·log softmax(x)_c per prediction, fused with the softmax so that dlogits = (softmax(x) − t)/N.
    ``weight`` (C,) rescales each class (a buffer, as in PyTorch); labels equal to ``ignore_index`` count
    for nothing; with ``label_smoothing`` ε the target becomes (1 − ε)·t + ε/C.
    """

    _op_name = "cross_entropy"

    def __init__(
        self,
        weight: Any = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        _check_weight_argument("CrossEntropyLoss", weight)
        super().__init__(reduction)
        if not 0 <= label_smoothing <= 1:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}")
        self.label_smoothing = float(label_smoothing)
        self.ignore_index = int(ignore_index)
        self.register_buffer("weight", _class_weight(weight))

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return self._call(
            F.cross_entropy,
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing,
        )

    def extra_repr(self) -> str:
        smoothing = f"label_smoothing={self.label_smoothing}" if self.label_smoothing else ""
        ignore = f"ignore_index={self.ignore_index}" if self.ignore_index != -100 else ""
        parts = [super().extra_repr(), ignore, smoothing]
        return ", ".join(p for p in parts if p)


class NLLLoss(_Loss):
    """−w[y]·log p[y] per prediction, on log-probabilities (N, C) or (N, C, d1, …) (from ``LogSoftmax``) and
    integer labels (N,) / (N, d1, …); ``weight`` and ``ignore_index`` as in ``CrossEntropyLoss``."""

    _op_name = "nll_loss"

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean") -> None:
        _check_weight_argument("NLLLoss", weight)
        super().__init__(reduction)
        self.ignore_index = int(ignore_index)
        self.register_buffer("weight", _class_weight(weight))

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return self._call(F.nll_loss, input, target, weight=self.weight, ignore_index=self.ignore_index)


class BCELoss(_Loss):
    """−[t·log p + (1 − t)·log(1 − p)] per element, on probabilities p ∈ [0, 1] (e.g. after ``Sigmoid``);
    input and target of the same shape. Logs are clamped at −100 (as PyTorch), so p = 0 or 1 stays finite."""

    _op_name = "binary_cross_entropy"

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        _check_weight_argument("BCELoss", weight)
        super().__init__(reduction)
        self.register_buffer("weight", _class_weight(weight))

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return self._call(F.binary_cross_entropy, input, target, weight=self.weight)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits x, fused with the sigmoid: max(x, 0) − x·t + log(1 + e^−|x|), exact
    and overflow-free for any x; dx = (σ(x) − t)/N. Input and target of the same shape.

    ``pos_weight`` (C,) weighs the positive term of each class (last axis): pw·t·softplus(−x) + …; it is a
    buffer, saved in ``state_dict()`` as in PyTorch.
    """

    _op_name = "binary_cross_entropy_with_logits"

    def __init__(self, weight: Any = None, reduction: str = "mean", pos_weight: Any = None) -> None:
        _check_weight_argument("BCEWithLogitsLoss", weight)
        super().__init__(reduction)
        self.register_buffer("weight", _class_weight(weight))
        if pos_weight is not None:
            raw = pos_weight.data if isinstance(pos_weight, Tensor) else pos_weight
            pos_weight = np.array(raw, dtype=backend.get_default_dtype())  # a copy, in the default dtype
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return self._call(
            F.binary_cross_entropy_with_logits, input, target, weight=self.weight, pos_weight=self.pos_weight
        )


class L1Loss(_Loss):
    """|y − t| per element (mean absolute error), input and target of the same shape."""

    _op_name = "l1_loss"

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return self._call(F.l1_loss, input, target)


class SmoothL1Loss(_Loss):
    """½d²/β where |d| < β, |d| − ½β elsewhere (d = y − t): quadratic near zero, linear in the tails."""

    _op_name = "smooth_l1_loss"

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        if beta < 0:
            raise ValueError(f"SmoothL1Loss: beta must be >= 0, got {beta}")
        self.beta = float(beta)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return self._call(F.smooth_l1_loss, input, target, beta=self.beta)


class HuberLoss(_Loss):
    """½d² where |d| < δ, δ·(|d| − ½δ) elsewhere (d = y − t); SmoothL1Loss(β) is HuberLoss(δ = β) / β."""

    _op_name = "huber_loss"

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        if delta <= 0:
            raise ValueError(f"HuberLoss: delta must be > 0, got {delta}")
        self.delta = float(delta)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return self._call(F.huber_loss, input, target, delta=self.delta)


class KLDivLoss(_Loss):
    """KL divergence t·(log t − x) from log-probabilities x (e.g. ``LogSoftmax`` output) to target
    probabilities t (log-probabilities with ``log_target=True``).

    ``reduction="batchmean"`` divides the sum by the batch size: the KL divergence per sample. "mean"
    (the default, as in PyTorch) divides by the number of elements instead.
    """

    _op_name = "kl_div"

    def __init__(self, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__("mean" if reduction == "batchmean" else reduction)
        self.reduction = reduction
        self.log_target = bool(log_target)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return self._call(F.kl_div, input, target, log_target=self.log_target)
