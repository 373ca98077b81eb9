"""Losses, each fused into one Function so that its backward is the short closed form
(e.g. softmax + cross-entropy: dlogits = (p − onehot) / N) instead of a chain of small ops."""

from __future__ import annotations

import numpy as np

from numnet.ops.activation import log_softmax_array, sigmoid_array
from numnet.tensor import Function, Tensor

REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    # np.add.reduce rather than .mean()/.sum(): same pairwise summation, without NumPy's Python-level
    # wrapper, which costs more than the sum itself on the small arrays of per-sample training.
    if reduction == "mean":
        return np.add.reduce(loss, axis=None) / loss.size
    if reduction == "sum":
        return np.add.reduce(loss, axis=None)
    return loss


def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _check_same_shape(name: str, prediction: np.ndarray, target: np.ndarray) -> None:
    if prediction.shape != target.shape:
        raise ValueError(
            f"{name}: prediction has shape {prediction.shape} but target has shape {target.shape}; "
            "they must match (reshape the target, e.g. y.reshape(-1, 1))"
        )


def _scale(grad: np.ndarray, reduction: str, count: int) -> np.ndarray:
    """The factor from the reduction: g/N for mean, g for sum, g per element for none."""
    return grad / count if reduction == "mean" else grad


class MSE(Function):
    def forward(self, prediction, target, reduction="mean"):
        _check_reduction("mse_loss", reduction)
        _check_same_shape("mse_loss", prediction, np.asarray(target))
        self.diff = prediction - target
        self.reduction = reduction
        return _reduce(self.diff * self.diff, reduction)

    def backward(self, grad):
        # L = mean((p − t)²)  →  dp = 2(p − t)·g / N, dt = −dp
        if grad.ndim == 0:  # mean or sum: one scale factor, applied in one pass
            scale = 2.0 * grad.item() / (self.diff.size if self.reduction == "mean" else 1)
            dp = self.diff * scale  # a Python float keeps the array's dtype (NEP 50)
        else:
            dp = 2 * grad * self.diff
        return dp, (-dp if self.needs_input_grad[1] else None)


class CrossEntropy(Function):
    """Cross-entropy on logits: log-softmax and negative log-likelihood in one pass.

    ``logits`` (N, C). ``target`` either integer class indices (N,) or class probabilities / one-hot (N, C).
    """

    def forward(self, logits, target, reduction="mean", label_smoothing=0.0):
        _check_reduction("cross_entropy", reduction)
        target = np.asarray(target)
        if logits.ndim != 2:
            raise ValueError(f"cross_entropy: logits must be (N, C), got shape {logits.shape}")
        n, c = logits.shape
        self.reduction, self.n = reduction, n
        log_p = log_softmax_array(logits, axis=1)
        self.labels = None  # set for integer labels without smoothing: then no one-hot matrix is built
        if target.dtype.kind in "iub":
            if target.shape != (n,):
                raise ValueError(
                    f"cross_entropy: integer targets must have shape ({n},) for logits {logits.shape}, "
                    f"got {target.shape}"
                )
            if n and (target.min() < 0 or target.max() >= c):
                raise ValueError(
                    f"cross_entropy: class labels must lie in [0, {c - 1}], "
                    f"got [{target.min()}, {target.max()}]"
                )
            if not label_smoothing:
                # Integer labels: pick log p[t] per row; no one-hot matrix is ever built.
                self.labels, self.rows, self.log_p = target, np.arange(n), log_p
                return _reduce(-log_p[self.rows, target], reduction)
            probs = np.zeros_like(log_p)
            probs[np.arange(n), target] = 1
        else:
            if target.shape != logits.shape:
                raise ValueError(
                    f"cross_entropy: probability targets must have the logits' shape {logits.shape}, "
                    f"got {target.shape}"
                )
            probs = target.astype(logits.dtype, copy=False)
        if label_smoothing:
            probs = probs * (1 - label_smoothing) + label_smoothing / c
        self.target = probs
        self.log_p = log_p
        self.label_smoothing = label_smoothing
        # L = −Σ_c t_c · log p_c  per sample
        return _reduce(-(probs * log_p).sum(axis=1), reduction)

    def backward(self, grad):
        # dlogits = (softmax·Σt − t) · g / N ;  with Σt = 1 (labels, one-hot) this is (p − t)/N
        p = np.exp(self.log_p)
        g = _scale(grad, self.reduction, self.n)
        if self.reduction == "none":
            g = g[:, None]
        if self.labels is not None:  # integer labels: t is one-hot, so subtract 1 at each row's label
            p[self.rows, self.labels] -= 1
            p *= g
            return p, None
        t = self.target
        dlogits = (p * t.sum(axis=1, keepdims=True) - t) * g
        # dtarget = −(1 − ε)·log p · g  (smoothing scales the given target by 1 − ε)
        dtarget = -(self.log_p * (g * (1 - self.label_smoothing))) if self.needs_input_grad[1] else None
        return dlogits, dtarget


class NLL(Function):
    """Negative log-likelihood on log-probabilities (N, C) and integer labels (N,)."""

    def forward(self, log_p, target, reduction="mean"):
        _check_reduction("nll_loss", reduction)
        target = np.asarray(target)
        if log_p.ndim != 2 or target.shape != (log_p.shape[0],):
            raise ValueError(
                "nll_loss: expects log-probabilities (N, C) and labels (N,), "
                f"got {log_p.shape} and {target.shape}"
            )
        if target.dtype.kind not in "iu":
            raise ValueError(
                f"nll_loss: labels must be integers, got dtype {target.dtype} (use y.astype(np.int64))"
            )
        c = log_p.shape[1]
        if target.size and (target.min() < 0 or target.max() >= c):
            raise ValueError(
                f"nll_loss: class labels must lie in [0, {c - 1}], got [{target.min()}, {target.max()}]"
            )
        self.shape, self.target, self.reduction = log_p.shape, target, reduction
        return _reduce(-log_p[np.arange(len(target)), target], reduction)

    def backward(self, grad):
        # L = −log p[t]  →  d log p = −1 at the target class, 0 elsewhere
        n = self.shape[0]
        dlog_p = np.zeros(self.shape, dtype=grad.dtype)
        g = _scale(grad, self.reduction, n)
        dlog_p[np.arange(n), self.target] = -g
        return dlog_p, None


class BCE(Function):
    """Binary cross-entropy on probabilities in [0, 1]. log is clamped at −100 (as PyTorch) so p = 0 or 1
    gives a large finite loss rather than inf."""

    def forward(self, p, target, reduction="mean"):
        _check_reduction("binary_cross_entropy", reduction)
        _check_same_shape("binary_cross_entropy", p, np.asarray(target))
        if p.size and (p.min() < 0 or p.max() > 1):
            raise ValueError(
                "binary_cross_entropy: predictions must be probabilities in [0, 1]; for raw scores (logits) "
                "use binary_cross_entropy_with_logits / BCEWithLogitsLoss"
            )
        self.p, self.t, self.reduction = p, target, reduction
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(p), -100)
            log_1mp = np.maximum(np.log1p(-p), -100)
        self.log_p, self.log_1mp = log_p, log_1mp
        # L = −[t·log p + (1 − t)·log(1 − p)]
        return _reduce(-(target * log_p + (1 - target) * log_1mp), self.reduction)

    def backward(self, grad):
        # dp = (p − t) / (p·(1 − p)) · g / N, the denominator kept ≥ 1e-12 (PyTorch's guard)
        p, t = self.p, self.t
        g = _scale(grad, self.reduction, p.size)
        dp = g * (p - t) / np.maximum(p * (1 - p), 1e-12)
        dt = g * (self.log_1mp - self.log_p) if self.needs_input_grad[1] else None
        return dp, dt


class BCEWithLogits(Function):
    """Binary cross-entropy on logits x, overflow-free and without cancellation for any x:
    L = pw·t·softplus(−x) + (1 − t)·softplus(x),  softplus(±x) = max(±x, 0) + log(1 + e^−|x|)
    (−log σ(x) = softplus(−x), −log(1 − σ(x)) = softplus(x)). ``pos_weight`` pw weighs the positive term,
    broadcast against the last axis as in PyTorch; it is a constant (no gradient)."""

    def forward(self, x, target, reduction="mean", pos_weight=None):
        _check_reduction("binary_cross_entropy_with_logits", reduction)
        _check_same_shape("binary_cross_entropy_with_logits", x, np.asarray(target))
        self.x, self.t, self.reduction = x, target, reduction
        tail = np.log1p(np.exp(-np.abs(x)))
        softplus_pos = np.maximum(x, 0) + tail  # −log(1 − σ(x))
        softplus_neg = np.maximum(-x, 0) + tail  # −log σ(x)
        if pos_weight is None:
            self.pw = None
            positive = target
        else:
            if isinstance(pos_weight, Tensor):
                pos_weight = pos_weight.data
            self.pw = np.asarray(pos_weight, dtype=x.dtype)
            self.softplus = softplus_pos, softplus_neg
            positive = self.pw * target
        return _reduce(positive * softplus_neg + (1 - target) * softplus_pos, reduction)

    def backward(self, grad):
        # dx = (σ(x) − t)·g/N;  with pw: dx = (pw·t·(σ(x) − 1) + (1 − t)·σ(x))·g/N
        # dt = −x·g/N;          with pw: dt = (pw·softplus(−x) − softplus(x))·g/N
        g = _scale(grad, self.reduction, self.x.size)
        x, t, pw = self.x, self.t, self.pw
        s = sigmoid_array(x)
        dt = None
        if pw is None:
            dx = g * (s - t)
            if self.needs_input_grad[1]:
                dt = -g * x
        else:
            dx = g * (pw * t * (s - 1) + (1 - t) * s)
            if self.needs_input_grad[1]:
                softplus_pos, softplus_neg = self.softplus
                dt = g * (pw * softplus_neg - softplus_pos)
        return dx, dt
