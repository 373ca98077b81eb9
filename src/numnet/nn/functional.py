"""Stateless forms of the layers and losses (``import numnet.nn.functional as F``), as in PyTorch.

Each is a thin wrapper over a ``numnet.ops`` Function: it checks arguments, brings targets to the
prediction's dtype, and applies the op. The ``nn`` modules call these, so a layer and its functional form
compute exactly the same thing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from numnet import backend, ops
from numnet.tensor import Tensor

# ---------------------------------------------------------------------------------------------------------
# Affine map and activations
# ---------------------------------------------------------------------------------------------------------


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x·Wᵀ + b.  ``input`` (N, …, in), ``weight`` (out, in), ``bias`` (out,) or None → (N, …, out)."""
    if bias is None:
        return ops.Linear.apply(input, weight)
    return ops.Linear.apply(input, weight, bias)


def relu(input: Tensor) -> Tensor:
    """max(x, 0), element-wise."""
    return ops.ReLU.apply(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, negative_slope·x otherwise."""
    return ops.LeakyReLU.apply(input, negative_slope=negative_slope)


def sigmoid(input: Tensor) -> Tensor:
    """σ(x) = 1 / (1 + e⁻ˣ)."""
    return ops.Sigmoid.apply(input)


def tanh(input: Tensor) -> Tensor:
    return ops.Tanh.apply(input)


def step(input: Tensor) -> Tensor:
    """1[x > 0] (the perceptron's activation; no gradient flows through it)."""
    return ops.Step.apply(input)


def _check_dim(name: str, input: Any, dim: int) -> None:
    ndim = max(np.ndim(input.data if isinstance(input, Tensor) else input), 1)  # a 0-d input has dim 0/−1
    if not -ndim <= dim < ndim:
        raise ValueError(f"{name}: dim={dim} is out of range for an input of shape {np.shape(input)}")


def softmax(input: Tensor, dim: int = -1) -> Tensor:
    """exp(xᵢ) / Σⱼ exp(xⱼ) along ``dim`` (computed with the max subtracted: no overflow)."""
    _check_dim("softmax", input, dim)
    return ops.Softmax.apply(input, axis=dim)


def log_softmax(input: Tensor, dim: int = -1) -> Tensor:
    """log softmax along ``dim``: xᵢ − log Σⱼ exp(xⱼ), stable for any logits."""
    _check_dim("log_softmax", input, dim)
    return ops.LogSoftmax.apply(input, axis=dim)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim`` … ``end_dim`` (inclusive) into one: (N, 2, 3) → (N, 6) for 1 … −1."""
    shape = np.shape(input.data if isinstance(input, Tensor) else input)
    ndim = len(shape)
    start, end = start_dim % max(ndim, 1), end_dim % max(ndim, 1)
    if not (-ndim <= start_dim < ndim and -ndim <= end_dim < ndim) or start > end:
        raise ValueError(f"flatten: start_dim={start_dim}, end_dim={end_dim} do not fit an input of {shape}")
    merged = int(np.prod(shape[start : end + 1]))
    return ops.Reshape.apply(input, shape=(*shape[:start], merged, *shape[end + 1 :]))


# ---------------------------------------------------------------------------------------------------------
# Regularisation and normalisation
# ---------------------------------------------------------------------------------------------------------


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout: zero each element with probability p and scale the rest by 1/(1 − p).

    The input itself is returned when not ``training`` or when p = 0; p = 1 gives zeros.
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p}")
    if not training or p == 0:
        return input
    if p == 1:
        return ops.Mul.apply(input, 0.0)
    return ops.Dropout.apply(input, p=p)


def batch_norm(
    input: Tensor,
    running_mean: np.ndarray | None,
    running_var: np.ndarray | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """y = γ·(x − μ)/√(σ² + ε) + β per channel, for ``input`` (N, C) or (N, C, L).

    ``training=True`` normalises with the batch's own mean and biased variance, and (when running arrays are
    given) updates them in place as PyTorch does:
    ``running ← (1 − momentum)·running + momentum·batch``, with the *unbiased* batch variance (÷ (m − 1)).
    ``training=False`` normalises with ``running_mean``/``running_var``. ``weight``/``bias`` None mean
    γ = 1, β = 0.
    """
    if training:
        return ops.BatchNorm.apply(
            input,
            weight,
            bias,
            eps=eps,
            training=True,
            running_mean=running_mean,
            running_var=running_var,
            momentum=momentum,
        )
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: training=False normalises with running_mean and running_var; pass both")
    return ops.BatchNorm.apply(
        input, weight, bias, mean=running_mean, var=running_var, eps=eps, training=False
    )


# ---------------------------------------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------------------------------------


def _float_dtype(name: str, input: Any) -> np.dtype:
    dtype = getattr(input, "dtype", None)
    if dtype is None:
        raise TypeError(f"{name}: the prediction must be a Tensor (or array), got {type(input).__name__}")
    return dtype if dtype.kind == "f" else backend.get_default_dtype()


def _as_target(name: str, target: Any, dtype: np.dtype, labels: bool = False) -> Any:
    """The target, ready for the op: a Tensor that requires grad stays as given; anything else becomes an
    array (no gradient) in the prediction's float dtype, so a float64 ``y`` does not turn a float32 network's
    whole backward pass into float64. With ``labels=True`` integer targets stay integers (bool → int64)."""
    if isinstance(target, Tensor):
        if target.requires_grad:
            return target
        target = target.data
    target = np.asarray(target)
    kind = target.dtype.kind
    if kind not in "fiub":
        raise TypeError(f"{name}: targets must be numbers, got dtype {target.dtype}")
    if labels and kind in "iub":
        return target.astype(np.int64) if kind == "b" else target
    return target if target.dtype == dtype else target.astype(dtype)


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """(y − t)², reduced by ``reduction`` ("mean", "sum" or "none"). Shapes must match exactly."""
    dtype = _float_dtype("mse_loss", input)
    return ops.MSE.apply(input, _as_target("mse_loss", target, dtype), reduction=reduction)


def cross_entropy(
    input: Tensor, target: Any, reduction: str = "mean", label_smoothing: float = 0.0
) -> Tensor:
    """−Σ_c t_c·log softmax(x)_c per sample, from logits ``input`` (N, C).

    ``target``: integer class labels (N,) or class probabilities / one-hot rows (N, C). ``label_smoothing`` ε
    mixes the target with the uniform distribution: t ← (1 − ε)·t + ε/C.
    """
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    dtype = _float_dtype("cross_entropy", input)
    target = _as_target("cross_entropy", target, dtype, labels=True)
    t_data = target.data if isinstance(target, Tensor) else target
    logits_ndim = np.ndim(input.data if isinstance(input, Tensor) else input)
    if t_data.dtype.kind == "f" and t_data.ndim == 1 and logits_ndim == 2:
        raise ValueError(
            f"cross_entropy: targets of shape {t_data.shape} look like class labels but are {t_data.dtype}; "
            "labels must be integers (y.astype(np.int64)), or pass probabilities shaped like the logits"
        )
    return ops.CrossEntropy.apply(input, target, reduction=reduction, label_smoothing=label_smoothing)


def nll_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """−log p[label] per sample, from log-probabilities ``input`` (N, C) and integer labels (N,)."""
    dtype = _float_dtype("nll_loss", input)
    return ops.NLL.apply(input, _as_target("nll_loss", target, dtype, labels=True), reduction=reduction)


def binary_cross_entropy(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """−[t·log p + (1 − t)·log(1 − p)] on probabilities p ∈ [0, 1] (logs clamped at −100, as PyTorch)."""
    dtype = _float_dtype("binary_cross_entropy", input)
    return ops.BCE.apply(input, _as_target("binary_cross_entropy", target, dtype), reduction=reduction)


def binary_cross_entropy_with_logits(
    input: Tensor, target: Any, reduction: str = "mean", pos_weight: Any = None
) -> Tensor:
    """Binary cross-entropy on logits x: pw·t·softplus(−x) + (1 − t)·softplus(x), exact for any x
    (pw = ``pos_weight``, per class along the last axis, default 1)."""
    dtype = _float_dtype("binary_cross_entropy_with_logits", input)
    target = _as_target("binary_cross_entropy_with_logits", target, dtype)
    return ops.BCEWithLogits.apply(input, target, reduction=reduction, pos_weight=pos_weight)


# ---------------------------------------------------------------------------------------------------------
# Utilities
# ---------------------------------------------------------------------------------------------------------


def one_hot(labels: Any, num_classes: int = -1, dtype: Any = None) -> Tensor:
    """Rows of the identity: labels (N,) → (N, num_classes), no gradient.

    ``num_classes=-1`` uses max label + 1. Unlike PyTorch (int64), the result is in the default float dtype,
    so it can serve directly as a ``cross_entropy``/``mse_loss`` target; pass ``dtype=np.int64`` for
    integers.
    """
    y = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    if y.dtype.kind not in "iu":
        raise ValueError(f"one_hot: labels must be integers, got dtype {y.dtype}")
    if num_classes == -1:
        num_classes = int(y.max()) + 1 if y.size else 0
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"one_hot: labels must lie in [0, {num_classes - 1}], got [{y.min()}, {y.max()}]")
    out = np.zeros((*y.shape, num_classes), dtype=backend.get_default_dtype() if dtype is None else dtype)
    np.put_along_axis(out, y[..., None], 1, axis=-1)
    return Tensor(out)
