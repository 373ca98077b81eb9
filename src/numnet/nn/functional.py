"""Stateless forms of the layers and losses (``import numnet.nn.functional as F``), as in PyTorch.

Each is a thin wrapper over a ``numnet.ops`` Function: it checks arguments, brings targets to the
prediction's dtype, and applies the op. The ``nn`` modules call these, so a layer and its functional form
compute exactly the same thing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from numnet import backend, ops
from numnet.ops import loss as loss_ops
from numnet.ops.embedding import Embedding as _Embedding
from numnet.ops.layer_norm import LayerNorm as _LayerNorm
from numnet.ops.smooth_activation import ELU as _ELU
from numnet.ops.smooth_activation import GELU as _GELU
from numnet.ops.smooth_activation import SiLU as _SiLU
from numnet.ops.smooth_activation import Softplus as _Softplus
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


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x·Φ(x) (Φ the standard normal CDF); ``approximate="tanh"``: ½x·(1 + tanh(√(2/π)·(x + 0.044715x³)))."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _GELU.apply(input, approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x·σ(x) (swish). ``inplace`` is accepted for PyTorch code and ignored: the result is a new tensor."""
    return _SiLU.apply(input)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, α·(eˣ − 1) otherwise. ``inplace`` is accepted and ignored (a new tensor is returned)."""
    return _ELU.apply(input, alpha=float(alpha))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """(1/β)·log(1 + e^(βx)), and x where βx > threshold (numerically linear there)."""
    if beta == 0:
        raise ValueError("softplus: beta must be non-zero (it divides the result)")
    return _Softplus.apply(input, beta=float(beta), threshold=float(threshold))


def _check_dim(name: str, input: Any, dim: int) -> None:
    ndim = max(np.ndim(input.data if isinstance(input, Tensor) else input), 1)  # a 0-d input has dims -1, 0
    if not -ndim <= dim < ndim:
        raise ValueError(f"{name}: dim={dim} is out of range for an input of shape {np.shape(input)}")


def softmax(input: Tensor, dim: int = -1) -> Tensor:
    """exp(xᵢ) / Σⱼ exp(xⱼ) along ``dim`` (computed with the max subtracted: no overflow).

    A 0-d input is one value (softmax 1, as PyTorch); an empty input gives an empty result.
    """
    _check_dim("softmax", input, dim)
    return ops.Softmax.apply(input, axis=dim)


def log_softmax(input: Tensor, dim: int = -1) -> Tensor:
    """log softmax along ``dim``: xᵢ − log Σⱼ exp(xⱼ), stable for any logits (0-d and empty inputs as
    ``softmax``)."""
    _check_dim("log_softmax", input, dim)
    return ops.LogSoftmax.apply(input, axis=dim)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim`` … ``end_dim`` (inclusive) into one: (N, 2, 3) → (N, 6) for 1 … −1."""
    shape = np.shape(input.data if isinstance(input, Tensor) else input)
    if not shape and start_dim in (0, -1) and end_dim in (0, -1):
        return ops.Reshape.apply(input, shape=(1,))  # a 0-d input flattens to one element, as PyTorch
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


def layer_norm(
    input: Tensor,
    normalized_shape: Any,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """(x − μ)/√(σ² + ε)·γ + β over the trailing ``normalized_shape`` dimensions of ``input`` (…, *shape)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else normalized_shape
    return _LayerNorm.apply(input, weight, bias, normalized_shape=tuple(int(d) for d in shape), eps=eps)


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` (num_embeddings, dim) picked by the integer ``input`` (any shape) → (*shape, dim).

    ``padding_idx`` rows get no gradient. (PyTorch's ``max_norm``, ``scale_grad_by_freq`` and ``sparse``
    are not supported.)
    """
    indices = input.data if isinstance(input, Tensor) else np.asarray(input)
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    return _Embedding.apply(indices, weight, padding_idx=padding_idx)


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


def _weight_array(weight: Any, dtype: np.dtype) -> np.ndarray | None:
    """A class / element weight as a constant array in the prediction's dtype (weights get no gradient)."""
    if weight is None:
        return None
    raw = weight.data if isinstance(weight, Tensor) else weight
    return np.asarray(raw, dtype=dtype)


def cross_entropy(
    input: Tensor,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """−Σ_c t_c·log softmax(x)_c per prediction, from logits ``input`` (N, C), (N, C, d1, …) or (C,).

    ``target``: integer class labels ((N,), (N, d1, …) or ()) or class probabilities / one-hot shaped like
    the input. ``weight`` (C,) rescales each class (the "mean" then divides by the summed weights of the
    labels); labels equal to ``ignore_index`` count for nothing. ``label_smoothing`` ε mixes the target with
    the uniform distribution: t ← (1 − ε)·t + ε/C. An empty batch gives NaN for "mean", as PyTorch.
    """
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    dtype = _float_dtype("cross_entropy", input)
    target = _as_target("cross_entropy", target, dtype, labels=True)
    t_data = target.data if isinstance(target, Tensor) else target
    logits_ndim = np.ndim(input.data if isinstance(input, Tensor) else input)
    if t_data.dtype.kind == "f" and t_data.ndim == logits_ndim - 1 and logits_ndim >= 2:
        raise ValueError(
            f"cross_entropy: targets of shape {t_data.shape} look like class labels but are {t_data.dtype}; "
            "labels must be integers (y.astype(np.int64)), or pass probabilities shaped like the logits"
        )
    if weight is None and ignore_index == -100:
        return ops.CrossEntropy.apply(input, target, reduction=reduction, label_smoothing=label_smoothing)
    return ops.CrossEntropy.apply(
        input,
        target,
        reduction=reduction,
        label_smoothing=label_smoothing,
        weight=_weight_array(weight, dtype),
        ignore_index=int(ignore_index),
    )


def nll_loss(
    input: Tensor, target: Any, weight: Any = None, ignore_index: int = -100, reduction: str = "mean"
) -> Tensor:
    """−w[y]·log p[y] per prediction, from log-probabilities ``input`` (N, C), (N, C, d1, …) or (C,) and
    integer labels shaped like it without the class axis; ``weight`` and ``ignore_index`` as in
    ``cross_entropy``."""
    dtype = _float_dtype("nll_loss", input)
    return ops.NLL.apply(
        input,
        _as_target("nll_loss", target, dtype, labels=True),
        reduction=reduction,
        weight=_weight_array(weight, dtype),
        ignore_index=int(ignore_index),
    )


def binary_cross_entropy(input: Tensor, target: Any, weight: Any = None, reduction: str = "mean") -> Tensor:
    """−w·[t·log p + (1 − t)·log(1 − p)] on probabilities p ∈ [0, 1] (logs clamped at −100, as PyTorch);
    ``weight`` (broadcast to the input's shape) rescales each element."""
    dtype = _float_dtype("binary_cross_entropy", input)
    target = _as_target("binary_cross_entropy", target, dtype)
    if weight is None:
        return ops.BCE.apply(input, target, reduction=reduction)
    return ops.BCE.apply(input, target, reduction=reduction, weight=_weight_array(weight, dtype))


def binary_cross_entropy_with_logits(
    input: Tensor, target: Any, weight: Any = None, reduction: str = "mean", pos_weight: Any = None
) -> Tensor:
    """Binary cross-entropy on logits x: w·[pw·t·softplus(−x) + (1 − t)·softplus(x)], exact for any x
    (pw = ``pos_weight``, per class along the last axis, default 1; w = ``weight``, broadcast to x)."""
    dtype = _float_dtype("binary_cross_entropy_with_logits", input)
    target = _as_target("binary_cross_entropy_with_logits", target, dtype)
    if weight is None:
        return ops.BCEWithLogits.apply(input, target, reduction=reduction, pos_weight=pos_weight)
    return ops.BCEWithLogits.apply(
        input, target, reduction=reduction, pos_weight=pos_weight, weight=_weight_array(weight, dtype)
    )


def l1_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """|y − t| per element, reduced by ``reduction``. Shapes must match exactly."""
    dtype = _float_dtype("l1_loss", input)
    return loss_ops.L1.apply(input, _as_target("l1_loss", target, dtype), reduction=reduction)


def smooth_l1_loss(input: Tensor, target: Any, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """½d²/β where |d| < β, |d| − ½β elsewhere (d = y − t); β = 0 is the L1 loss."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    dtype = _float_dtype("smooth_l1_loss", input)
    target = _as_target("smooth_l1_loss", target, dtype)
    return loss_ops.SmoothL1.apply(input, target, reduction=reduction, beta=float(beta))


def huber_loss(input: Tensor, target: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """½d² where |d| < δ, δ·(|d| − ½δ) elsewhere (d = y − t)."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    dtype = _float_dtype("huber_loss", input)
    target = _as_target("huber_loss", target, dtype)
    return loss_ops.Huber.apply(input, target, reduction=reduction, delta=float(delta))


def kl_div(input: Tensor, target: Any, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL divergence, from log-probabilities ``input`` to probabilities ``target`` (log-probabilities with
    ``log_target``): t·(log t − x) per element. ``reduction="batchmean"`` (sum / batch size) is the true
    KL divergence; "mean" divides by the number of elements, as PyTorch."""
    dtype = _float_dtype("kl_div", input)
    target = _as_target("kl_div", target, dtype)
    return loss_ops.KLDiv.apply(input, target, reduction=reduction, log_target=bool(log_target))


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


# ---------------------------------------------------------------------------------------------------------
# Convolution and pooling (N, C, H, W); a 3-D input (C, H, W) is one unbatched sample, as in PyTorch
# ---------------------------------------------------------------------------------------------------------


def _pair(name: str, arg: str, value: Any, minimum: int = 1) -> tuple[int, int]:
    """An int or a pair of ints → (rows, columns), each at least ``minimum``."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= minimum for v in pair
    ):
        raise ValueError(f"{name}: {arg} must be an int ≥ {minimum} or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def _batched(name: str, input: Any) -> tuple[Tensor, bool]:
    """(input as (N, C, H, W), whether it was one unbatched (C, H, W) sample)."""
    shape = np.shape(input.data if isinstance(input, Tensor) else input)
    if len(shape) == 3:
        return ops.Reshape.apply(input, shape=(1, *shape)), True
    if len(shape) != 4:
        raise ValueError(f"{name}: expects input (N, C, H, W) or (C, H, W), got shape {shape}")
    return input, False


def _unbatched(out: Tensor, squeeze: bool) -> Tensor:
    return ops.Reshape.apply(out, shape=out.shape[1:]) if squeeze else out


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """2-D cross-correlation: ``input`` (N, C, H, W), ``weight`` (O, C/groups, kh, kw), ``bias`` (O,) →
    (N, O, Ho, Wo), Ho = ⌊(H + 2·pad − dilation·(kh − 1) − 1)/stride⌋ + 1 (see ``numnet.ops.conv``).

    ``padding``: an int, a pair, ``"valid"`` (none) or ``"same"`` (output size = input size, stride 1 only;
    an odd total goes to the bottom/right, as PyTorch).
    """
    x, squeeze = _batched("conv2d", input)
    args = (x, weight) if bias is None else (x, weight, bias)
    out = ops.Conv2d.apply(*args, **_conv_options(weight, stride, padding, dilation, groups))
    return _unbatched(out, squeeze)


def _conv_options(weight: Any, stride: Any, padding: Any, dilation: Any, groups: Any) -> dict[str, Any]:
    """``conv2d``'s arguments checked and in the op's form: stride and dilation pairs, padding as
    ((top, bottom), (left, right)) (``"same"`` worked out for the weight's kernel), groups an int."""
    stride = _pair("conv2d", "stride", stride)
    dilation = _pair("conv2d", "dilation", dilation)
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"conv2d: groups must be a positive integer, got {groups!r}")
    kernel = np.shape(weight.data if isinstance(weight, Tensor) else weight)[2:]
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0), (0, 0))
        elif padding == "same":
            if stride != (1, 1):
                raise ValueError(f"conv2d: padding='same' needs stride 1, got stride {stride}")
            totals = [d * (k - 1) for d, k in zip(dilation, kernel, strict=True)]
            pads = tuple((t // 2, t - t // 2) for t in totals)
        else:
            raise ValueError(f"conv2d: padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
    else:
        ph, pw = _pair("conv2d", "padding", padding, minimum=0)
        pads = ((ph, ph), (pw, pw))
    return dict(stride=stride, padding=pads, dilation=dilation, groups=int(groups))


def _conv_relu_max_pool2d(
    input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any, dilation: Any, groups: int
) -> Tensor | None:
    """max_pool2d(relu(conv2d(input, weight, bias, …)), 2) as one ``ops.ConvReLUMaxPool2d`` node, the form
    ``nn.Sequential`` runs for Conv2d → ReLU → MaxPool2d(2); None where that node does not apply (an input
    that is not (N, C, H, W), a conv output with an odd side, or the im2col column layout in use)."""
    shape = np.shape(input.data if isinstance(input, Tensor) else input)
    if len(shape) != 4 or ops.conv.default_method() != "batched":
        return None
    options = _conv_options(weight, stride, padding, dilation, groups)
    kernel = np.shape(weight.data if isinstance(weight, Tensor) else weight)[2:]
    if not ops.conv_pool.tiles_2x2(
        shape[2:], kernel, options["stride"], options["padding"], options["dilation"]
    ):
        return None
    args = (input, weight) if bias is None else (input, weight, bias)
    return ops.ConvReLUMaxPool2d.apply(*args, **options)


def _pool_args(name: str, kernel_size: Any, stride: Any, padding: Any) -> tuple[tuple[int, int], ...]:
    kernel = _pair(name, "kernel_size", kernel_size)
    stride = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) else stride
    return kernel, _pair(name, "stride", stride), _pair(name, "padding", padding, minimum=0)


def max_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor:
    """The maximum of each window (N, C, H, W) → (N, C, Ho, Wo); ``stride`` defaults to ``kernel_size``.
    The gradient goes to the first maximum of each window, as PyTorch."""
    if return_indices:
        raise ValueError("max_pool2d: return_indices=True is not supported; call it without")
    dilation = _pair("max_pool2d", "dilation", dilation)
    return _pool2d(
        "max_pool2d",
        ops.MaxPool2d,
        input,
        kernel_size,
        stride,
        padding,
        dilation=dilation,
        ceil_mode=bool(ceil_mode),
    )


def avg_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean of each window (N, C, H, W) → (N, C, Ho, Wo); zero padding counts in the divisor when
    ``count_include_pad`` (PyTorch's default)."""
    options = dict(
        ceil_mode=bool(ceil_mode),
        count_include_pad=bool(count_include_pad),
        divisor_override=divisor_override,
    )
    return _pool2d("avg_pool2d", ops.AvgPool2d, input, kernel_size, stride, padding, **options)


def _pool2d(
    name: str, op: type, input: Tensor, kernel_size: Any, stride: Any, padding: Any, **options: Any
) -> Tensor:
    """``op`` (a pooling ``Function``) on ``input`` (N, C, H, W) or (C, H, W), its window checked as ``name``
    checks it; ``options`` are the op's other arguments. ``nn.MaxPool2d.forward_with`` calls it with
    ``ops.ReLUMaxPool2d``, the fused form ``nn.Sequential`` runs for a ``ReLU`` followed by ``MaxPool2d``."""
    kernel, stride, padding = _pool_args(name, kernel_size, stride, padding)
    x, squeeze = _batched(name, input)
    return _unbatched(op.apply(x, kernel=kernel, stride=stride, padding=padding, **options), squeeze)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average over PyTorch's adaptive bins to ``output_size`` (an int, or a pair whose entries may be None
    for "keep the input's size")."""
    size = (output_size, output_size) if isinstance(output_size, (int, np.integer)) else tuple(output_size)
    if len(size) != 2 or not all(s is None or (isinstance(s, (int, np.integer)) and s >= 1) for s in size):
        raise ValueError(
            f"adaptive_avg_pool2d: output_size must be a positive int or pair, got {output_size!r}"
        )
    x, squeeze = _batched("adaptive_avg_pool2d", input)
    out = ops.AdaptiveAvgPool2d.apply(x, output_size=tuple(None if s is None else int(s) for s in size))
    return _unbatched(out, squeeze)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Channel dropout: zero whole channels of (N, C, H, W) (or (N, C, L)) with probability p, scale the
    rest by 1/(1 − p). Evaluation, or p = 0, returns the input itself."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout2d: p must be a probability in [0, 1], got {p}")
    if not training or p == 0:
        return input
    shape = np.shape(input.data if isinstance(input, Tensor) else input)
    if len(shape) not in (3, 4):
        raise ValueError(f"dropout2d: expects input (N, C, H, W) or (C, H, W), got shape {shape}")
    dtype = _float_dtype("dropout2d", input)
    if p == 1:
        return ops.Mul.apply(input, np.zeros((), dtype=dtype))
    # one draw per (sample, channel); a 3-D input is (N, C, L), as PyTorch 2.13 reads it (with a warning)
    mask_shape = (*shape[:2], *(1,) * (len(shape) - 2))
    keep = backend.get_rng().random(mask_shape) >= p
    return ops.Mul.apply(input, keep.astype(dtype) / np.asarray(1 - p, dtype=dtype))
