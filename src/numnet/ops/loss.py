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


def _element_weight(name: str, weight: object, prediction: np.ndarray) -> np.ndarray | None:
    """A per-element rescaling weight for the BCE losses, which must broadcast to the prediction's shape."""
    if weight is None:
        return None
    w = np.asarray(weight.data if isinstance(weight, Tensor) else weight)
    try:
        fits = np.broadcast_shapes(w.shape, prediction.shape) == prediction.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"{name}: weight of shape {w.shape} does not broadcast to the prediction's shape "
            f"{prediction.shape}"
        )
    return w.astype(prediction.dtype, copy=False)


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


def _mean_of(total: np.ndarray, count: float) -> np.ndarray:
    """total / count, where an empty batch (count 0) gives NaN, as PyTorch, without a warning."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(total / count)


def _classes_last(x: np.ndarray) -> np.ndarray:
    """(N, C, d1, …) → (N·d1·…, C): the class axis last, one row per prediction (a view where possible)."""
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _classes_back(rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The inverse of ``_classes_last``: (M, C) rows back to ``shape`` (N, C, d1, …)."""
    moved = (shape[0], *shape[2:], shape[1])
    return np.moveaxis(rows.reshape(moved), -1, 1)


def _log_softmax_rows(x: np.ndarray) -> np.ndarray:
    """log softmax along axis 1 of (M, C); an empty class axis (C = 0) gives an empty result."""
    if x.shape[1] == 0:
        return np.array(x, copy=True)
    return log_softmax_array(x, axis=1)


def _label_weights(
    name: str, labels: np.ndarray, c: int, weight: np.ndarray | None, ignore_index: int, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For labels (M,): ``(safe_labels, a, valid)`` with a_i = w[yᵢ] (1 without weight) and 0 where
    yᵢ = ignore_index; ``safe_labels`` has ignored entries replaced by 0 so they can index a row."""
    valid = labels != ignore_index
    checked = labels[valid]
    if checked.size and (checked.min() < 0 or checked.max() >= c):
        raise ValueError(
            f"{name}: class labels must lie in [0, {c - 1}], got [{checked.min()}, {checked.max()}] "
            f"(labels equal to ignore_index={ignore_index} are skipped)"
        )
    safe = np.where(valid, labels, 0)
    if weight is None:
        a = valid.astype(dtype)
    else:
        a = np.where(valid, weight[safe] if c else 0, 0).astype(dtype, copy=False)
    return safe, a, valid


def _check_weight(name: str, weight: object, c: int, dtype: np.dtype) -> np.ndarray | None:
    if weight is None:
        return None
    w = np.asarray(weight.data if isinstance(weight, Tensor) else weight)
    if w.shape != (c,):
        raise ValueError(f"{name}: weight must have one entry per class, shape ({c},), got {w.shape}")
    return w.astype(dtype, copy=False)


class CrossEntropy(Function):
    """Cross-entropy on logits: log-softmax and negative log-likelihood in one pass.

    ``logits`` (N, C), (N, C, d1, …) or (C,). ``target`` either integer class indices, shaped like the
    logits without the class axis ((N,), (N, d1, …) or ()), or class probabilities / one-hot shaped like the
    logits. ``weight`` (C,) rescales each class; labels equal to ``ignore_index`` contribute nothing (and
    are left out of the mean's denominator), as in PyTorch.

    Every case but the plain one is a weighted target matrix T (M, C), one row per prediction:
        labels:         T = (1 − ε)·aᵢ·onehot(yᵢ) + (ε/C)·mᵢ·w
                        aᵢ = w[yᵢ] (0 if ignored), mᵢ = 1[not ignored]
        probabilities:  T = ((1 − ε)·t + ε/C)·w
        Lᵢ = −Σ_c T_ic·log p_ic,  "mean" divides Σᵢ Lᵢ by D = Σᵢ aᵢ (labels) or M (probabilities)
    """

    def forward(self, logits, target, reduction="mean", label_smoothing=0.0, weight=None, ignore_index=-100):
        _check_reduction("cross_entropy", reduction)
        target = np.asarray(target)
        self.shape = logits.shape
        is_labels = target.dtype.kind in "iub"
        if logits.ndim == 1 and (target.ndim == 0 if is_labels else target.shape == logits.shape):
            rows, target = logits[None], target[None]  # one unbatched sample (C,)
        elif logits.ndim == 2:
            rows = logits
        elif logits.ndim > 2:
            rows = _classes_last(logits)
        else:
            raise ValueError(
                f"cross_entropy: logits must be (N, C), got shape {logits.shape} with targets of shape "
                f"{target.shape} (also accepted: (N, C, d1, …), or (C,) with a 0-d label)"
            )
        m, c = rows.shape
        self.reduction, self.n = reduction, m
        log_p = _log_softmax_rows(rows)
        self.labels = None  # set for integer labels without smoothing or weights: then no T matrix is built
        w = _check_weight("cross_entropy", weight, c, logits.dtype)
        if is_labels:
            expected = (logits.shape[0], *logits.shape[2:]) if logits.ndim > 1 else (1,)
            if target.shape != expected:
                raise ValueError(
                    f"cross_entropy: integer targets must have shape {expected} for logits {logits.shape}, "
                    f"got {target.shape}"
                )
            labels = target.reshape(-1)
            if m and not label_smoothing and w is None:
                low, high = labels.min(), labels.max()
                # (an ignore_index inside [0, C) may still be among them: then the general path)
                if low >= 0 and high < c and (not 0 <= ignore_index < c or ignore_index not in labels):
                    # Integer labels: pick log p[t] per row; no one-hot matrix is ever built.
                    self.labels, self.rows, self.log_p = labels, np.arange(m), log_p
                    return self._out(_reduce(-log_p[self.rows, labels], reduction))
            safe, a, valid = _label_weights("cross_entropy", labels, c, w, ignore_index, logits.dtype)
            t_matrix = np.zeros_like(log_p)
            if m and c:
                t_matrix[np.arange(m), safe] = a * (1 - label_smoothing)
            if label_smoothing:
                t_matrix += (label_smoothing / c) * valid[:, None] * (1 if w is None else w)
            self.count = np.add.reduce(a)  # D = Σ aᵢ
        else:
            if target.shape != (logits.shape if logits.ndim != 1 else rows.shape):
                raise ValueError(
                    f"cross_entropy: probability targets must have the logits' shape {logits.shape}, "
                    f"got {target.shape}"
                )
            if ignore_index != -100:
                raise ValueError(
                    "cross_entropy: ignore_index applies to class-label targets only; drop it for "
                    "probability targets"
                )
            probs = target.astype(logits.dtype, copy=False)
            if probs.ndim > 2:
                probs = _classes_last(probs)
            if label_smoothing:
                probs = probs * (1 - label_smoothing) + label_smoothing / c
            t_matrix = probs if w is None else probs * w
            self.count = m if c else 0  # "mean" over no elements is NaN, as PyTorch
        self.target, self.log_p, self.label_smoothing, self.weight = t_matrix, log_p, label_smoothing, w
        self.is_labels = is_labels
        # L = −Σ_c T_c · log p_c  per prediction
        losses = -np.add.reduce(t_matrix * log_p, axis=1)
        if reduction == "mean":
            return _mean_of(np.add.reduce(losses), self.count)
        return self._out(_reduce(losses, reduction))

    def _out(self, loss: np.ndarray) -> np.ndarray:
        """Per-prediction losses (reduction "none") back in the target's shape."""
        if self.reduction != "none":
            return loss
        shape = self.shape
        return loss.reshape(()) if len(shape) == 1 else loss.reshape((shape[0], *shape[2:]))

    def backward(self, grad):
        # dlogits = (softmax·ΣT − T) · g / D ;  with ΣT = 1 (labels, one-hot) this is (p − t)/N
        p = np.exp(self.log_p)
        if self.reduction == "none":
            g = grad.reshape(-1)[:, None]
        elif self.reduction == "mean":
            g = grad / self.n if self.labels is not None else _mean_of(grad, self.count)
        else:
            g = grad
        if self.labels is not None:  # integer labels: t is one-hot, so subtract 1 at each row's label
            p[self.rows, self.labels] -= 1
            p *= g
            return self._shaped(p), None
        t = self.target
        dlogits = (p * np.add.reduce(t, axis=1, keepdims=True) - t) * g
        dtarget = None
        if self.needs_input_grad[1] and not self.is_labels:
            # dtarget = −(1 − ε)·w·log p · g  (smoothing scales the given target by 1 − ε)
            scaled = self.log_p * (g * (1 - self.label_smoothing))
            if self.weight is not None:
                scaled = scaled * self.weight
            dtarget = self._shaped(-scaled)
        return self._shaped(dlogits), dtarget

    def _shaped(self, rows: np.ndarray) -> np.ndarray:
        shape = self.shape
        if len(shape) == 2:
            return rows
        if len(shape) == 1:
            return rows.reshape(shape)
        return _classes_back(rows, shape)


class NLL(Function):
    """Negative log-likelihood on log-probabilities (N, C), (N, C, d1, …) or (C,) and integer labels shaped
    like them without the class axis. ``weight`` (C,) and ``ignore_index`` as in ``CrossEntropy``:
    Lᵢ = −aᵢ·log p[i, yᵢ], aᵢ = w[yᵢ] (0 if ignored); "mean" divides by Σᵢ aᵢ."""

    def forward(self, log_p, target, reduction="mean", weight=None, ignore_index=-100):
        _check_reduction("nll_loss", reduction)
        target = np.asarray(target)
        self.shape = log_p.shape
        if log_p.ndim == 1 and target.ndim == 0:
            rows, expected = log_p[None], ()
        elif log_p.ndim >= 2:
            rows = log_p if log_p.ndim == 2 else _classes_last(log_p)
            expected = (log_p.shape[0], *log_p.shape[2:])
        else:
            rows, expected = None, None
        if rows is None or target.shape != expected:
            raise ValueError(
                "nll_loss: expects log-probabilities (N, C) and labels (N,), "
                f"got {log_p.shape} and {target.shape}"
            )
        if target.dtype.kind not in "iu":
            raise ValueError(
                f"nll_loss: labels must be integers, got dtype {target.dtype} (use y.astype(np.int64))"
            )
        m, c = rows.shape
        labels = target.reshape(-1)
        w = _check_weight("nll_loss", weight, c, log_p.dtype)
        safe, a, _ = _label_weights("nll_loss", labels, c, w, ignore_index, log_p.dtype)
        self.safe, self.a, self.reduction, self.m, self.c = safe, a, reduction, m, c
        self.count = np.add.reduce(a)
        picked = rows[np.arange(m), safe] if c else np.zeros(m, dtype=log_p.dtype)
        losses = -(a * picked)
        if reduction == "mean":
            return _mean_of(np.add.reduce(losses), self.count)
        if reduction == "sum":
            return np.add.reduce(losses)
        return losses.reshape(expected)

    def backward(self, grad):
        # L = −aᵢ·log p[yᵢ]  →  d log p = −aᵢ·g/D at the target class, 0 elsewhere
        if self.reduction == "mean":
            g = _mean_of(grad, self.count)
        elif self.reduction == "none":
            g = grad.reshape(-1)
        else:
            g = grad
        drows = np.zeros((self.m, self.c), dtype=grad.dtype)
        if self.m and self.c:
            drows[np.arange(self.m), self.safe] = -self.a * g
        shape = self.shape
        if len(shape) == 2:
            return drows, None
        if len(shape) == 1:
            return drows.reshape(shape), None
        return _classes_back(drows, shape), None


class BCE(Function):
    """Binary cross-entropy on probabilities in [0, 1]. log is clamped at −100 (as PyTorch) so p = 0 or 1
    gives a large finite loss rather than inf."""

    def forward(self, p, target, reduction="mean", weight=None):
        _check_reduction("binary_cross_entropy", reduction)
        _check_same_shape("binary_cross_entropy", p, np.asarray(target))
        self.w = _element_weight("binary_cross_entropy", weight, p)
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
        # L = −w·[t·log p + (1 − t)·log(1 − p)]
        loss = -(target * log_p + (1 - target) * log_1mp)
        return _reduce(loss if self.w is None else loss * self.w, self.reduction)

    def backward(self, grad):
        # dp = (p − t) / (p·(1 − p)) · g / N, the denominator kept ≥ 1e-12 (PyTorch's guard)
        p, t = self.p, self.t
        g = _scale(grad, self.reduction, p.size)
        if self.w is not None:
            g = g * self.w
        dp = g * (p - t) / np.maximum(p * (1 - p), 1e-12)
        dt = g * (self.log_1mp - self.log_p) if self.needs_input_grad[1] else None
        return dp, dt


class BCEWithLogits(Function):
    """Binary cross-entropy on logits x, overflow-free and without cancellation for any x:
    L = pw·t·softplus(−x) + (1 − t)·softplus(x),  softplus(±x) = max(±x, 0) + log(1 + e^−|x|)
    (−log σ(x) = softplus(−x), −log(1 − σ(x)) = softplus(x)). ``pos_weight`` pw weighs the positive term,
    broadcast against the last axis as in PyTorch; it is a constant (no gradient)."""

    def forward(self, x, target, reduction="mean", pos_weight=None, weight=None):
        _check_reduction("binary_cross_entropy_with_logits", reduction)
        _check_same_shape("binary_cross_entropy_with_logits", x, np.asarray(target))
        self.w = _element_weight("binary_cross_entropy_with_logits", weight, x)
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
        loss = positive * softplus_neg + (1 - target) * softplus_pos
        return _reduce(loss if self.w is None else loss * self.w, reduction)  # weight w: L ← w·L

    def backward(self, grad):
        # dx = (σ(x) − t)·g/N;  with pw: dx = (pw·t·(σ(x) − 1) + (1 − t)·σ(x))·g/N
        # dt = −x·g/N;          with pw: dt = (pw·softplus(−x) − softplus(x))·g/N
        g = _scale(grad, self.reduction, self.x.size)
        if self.w is not None:
            g = g * self.w
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


def _check_pair(name: str, prediction: np.ndarray, target: object, reduction: str) -> np.ndarray:
    _check_reduction(name, reduction)
    target = np.asarray(target)
    _check_same_shape(name, prediction, target)
    return target


class L1(Function):
    """Mean absolute error: L = |p − t| per element."""

    def forward(self, prediction, target, reduction="mean"):
        target = _check_pair("l1_loss", prediction, target, reduction)
        self.sign = np.sign(prediction - target)
        self.reduction = reduction
        return _reduce(np.abs(prediction - target), reduction)

    def backward(self, grad):
        # L = |p − t|  →  dp = sign(p − t)·g/N (0 where p = t, as PyTorch), dt = −dp
        dp = _scale(grad, self.reduction, self.sign.size) * self.sign
        return dp, (-dp if self.needs_input_grad[1] else None)


class SmoothL1(Function):
    """Smooth L1 with threshold β: L = ½d²/β where |d| < β, |d| − ½β elsewhere (d = p − t; β = 0 is L1)."""

    def forward(self, prediction, target, reduction="mean", beta=1.0):
        target = _check_pair("smooth_l1_loss", prediction, target, reduction)
        d = prediction - target
        self.d, self.beta, self.reduction = d, beta, reduction
        if beta == 0:
            return _reduce(np.abs(d), reduction)
        absd = np.abs(d)
        return _reduce(np.where(absd < beta, 0.5 * d * d / beta, absd - 0.5 * beta), reduction)

    def backward(self, grad):
        # dp = d/β where |d| < β, sign(d) elsewhere (sign(d) for β = 0), times g/N;  dt = −dp
        d, beta = self.d, self.beta
        slope = np.sign(d) if beta == 0 else np.where(np.abs(d) < beta, d / (beta or 1), np.sign(d))
        dp = _scale(grad, self.reduction, d.size) * slope
        return dp, (-dp if self.needs_input_grad[1] else None)


class Huber(Function):
    """Huber loss with threshold δ: L = ½d² where |d| < δ, δ·(|d| − ½δ) elsewhere (d = p − t)."""

    def forward(self, prediction, target, reduction="mean", delta=1.0):
        target = _check_pair("huber_loss", prediction, target, reduction)
        d = prediction - target
        self.d, self.delta, self.reduction = d, delta, reduction
        absd = np.abs(d)
        return _reduce(np.where(absd < delta, 0.5 * d * d, delta * (absd - 0.5 * delta)), reduction)

    def backward(self, grad):
        # dp = d where |d| ≤ δ, δ·sign(d) elsewhere, times g/N;  dt = −dp
        d, delta = self.d, self.delta
        slope = np.clip(d, -delta, delta)
        dp = _scale(grad, self.reduction, d.size) * slope
        return dp, (-dp if self.needs_input_grad[1] else None)


KL_REDUCTIONS = ("mean", "batchmean", "sum", "none")


class KLDiv(Function):
    """Kullback-Leibler divergence from log-probabilities x = log q to a target t (probabilities, or
    log-probabilities with ``log_target``):  L = t·(log t − x)  (0 where t = 0),  or  eᵗ·(t − x).

    "batchmean" divides the sum by the batch size x.shape[0] (the true KL divergence per sample); "mean"
    divides by the number of elements, as PyTorch.
    """

    def forward(self, x, target, reduction="mean", log_target=False):
        if reduction not in KL_REDUCTIONS:
            raise ValueError(f"kl_div: reduction must be one of {KL_REDUCTIONS}, got {reduction!r}")
        target = np.asarray(target)
        _check_same_shape("kl_div", x, target)
        self.x, self.t, self.log_target, self.reduction = x, target, log_target, reduction
        if log_target:
            self.prob = np.exp(target)
            loss = self.prob * (target - x)
        else:
            self.prob = target
            with np.errstate(divide="ignore", invalid="ignore"):
                self.log_t = np.where(target > 0, np.log(np.where(target > 0, target, 1)), 0)
            loss = target * (self.log_t - x)
        if reduction == "batchmean":
            return np.add.reduce(loss, axis=None) / (x.shape[0] if x.ndim else 1)
        return _reduce(loss, reduction)

    def _g(self, grad: np.ndarray) -> np.ndarray:
        if self.reduction == "batchmean":
            return grad / (self.x.shape[0] if self.x.ndim else 1)
        return _scale(grad, self.reduction, self.x.size)

    def backward(self, grad):
        # dx = −t·g (−eᵗ·g with log_target);  dt = (log t + 1 − x)·g (eᵗ·(t − x + 1)·g with log_target)
        g = self._g(grad)
        dx = -self.prob * g
        dt = None
        if self.needs_input_grad[1]:
            if self.log_target:
                dt = self.prob * (self.t - self.x + 1) * g
            else:
                dt = (self.log_t + 1 - self.x) * g
        return dx, dt
