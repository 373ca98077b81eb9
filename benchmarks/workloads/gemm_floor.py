"""The GEMM floor: only the matrix products one step of the workload needs, with NumPy, nothing else.

For a layer ``l`` with weight ``W`` (out, in), input ``A`` (B, in) and output gradient ``G`` (B, out):
forward ``Z = A·Wᵀ``; backward ``dW = Gᵀ·A`` and, except for the first layer, ``dA = G·W``. The products
chain as in training (each forward product's output is the next one's input; each ``dA`` is the previous
layer's ``G``), write into preallocated arrays (``out=``), and read the training images as contiguous slices
of the epoch's pre-permuted copy (permuted outside the timed region). No bias, activation, loss, softmax,
BatchNorm, dropout, update, allocation or Python framework: the physical limit of a NumPy-backed design on
this machine, in the same shapes and dtype (float32).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.workloads.common import Clock, batches, child_main, weights_from


def make_step(
    sizes: list[int],
    batch: int,
    weights: list[np.ndarray],
    train: bool = True,
    rng: np.random.Generator | None = None,
) -> Callable[[np.ndarray], None]:
    """A function running the GEMMs of one step (forward, plus backward when ``train``) on an input batch."""
    rng = rng or np.random.default_rng(0)
    dtype = weights[0].dtype
    n = len(sizes) - 1
    outs = [np.empty((batch, sizes[i + 1]), dtype=dtype) for i in range(n)]
    grads = [rng.standard_normal((batch, sizes[i + 1])).astype(dtype) * 1e-2 for i in range(n)]
    dws = [np.empty_like(w) for w in weights]
    wts = [w.T for w in weights]  # views: BLAS reads the transpose in place, as a framework would

    def step(x: np.ndarray) -> None:
        a = x
        for i in range(n):
            np.matmul(a, wts[i], out=outs[i])
            a = outs[i]
        if not train:
            return
        for i in range(n - 1, -1, -1):
            a_in = x if i == 0 else outs[i - 1]
            np.matmul(grads[i].T, a_in, out=dws[i])
            if i > 0:
                np.matmul(grads[i], weights[i], out=grads[i - 1])

    return step


def _weights(spec: dict[str, Any], arrays: dict[str, np.ndarray]) -> list[np.ndarray]:
    return [w.copy() for w, _ in weights_from(arrays, len(spec["sizes"]) - 1)]


def run_classifier(spec: dict[str, Any], arrays: dict[str, np.ndarray], variant: str) -> dict[str, Any]:
    """Seconds per epoch of the training GEMMs over the epoch's batches (the last one possibly smaller)."""
    x, perms, bs, sizes = arrays["X_train"], arrays["perms"], spec["batch_size"], spec["sizes"]
    weights = _weights(spec, arrays)
    spans = batches(len(x), bs)
    steps = {t - s: make_step(sizes, t - s, weights) for s, t in spans}
    for s, t in spans[: spec["warmup_steps"]]:
        steps[t - s](x[s:t])
    clock = Clock()
    xp = np.empty_like(x)
    for epoch in range(spec["epochs"]):
        np.take(x, perms[epoch], axis=0, out=xp, mode="wrap")  # unbuffered (mode="raise" copies); untimed
        with clock():
            for s, t in spans:
                steps[t - s](xp[s:t])
    return dict(
        **clock.result(),
        unit="s/epoch",
        quality=None,
        quality_name="accuracy",
        notes=f"{3 * (len(sizes) - 1) - 1} GEMMs per step",
    )


def run_inference(spec: dict[str, Any], arrays: dict[str, np.ndarray], variant: str) -> dict[str, Any]:
    """Seconds per pass of the forward GEMMs over the test set."""
    x, sizes = arrays["X_test"], spec["sizes"]
    weights = _weights(spec, arrays)
    spans = batches(len(x), spec["batch_size"])
    steps = {t - s: make_step(sizes, t - s, weights, train=False) for s, t in spans}
    clock = Clock()
    for _ in clock.passes(spec["warmup_passes"], spec["passes"]):
        for s, t in spans:
            steps[t - s](x[s:t])
    return dict(**clock.result(), unit="s/pass", quality=None, notes=f"{len(sizes) - 1} GEMMs per batch")


def run_xor(spec: dict[str, Any], arrays: dict[str, np.ndarray], variant: str) -> dict[str, Any]:
    """Seconds per step of the 2-3-1 net's five products (batch 4)."""
    x = arrays["X"]
    step = make_step(spec["sizes"], len(x), _weights(spec, arrays))
    for _ in range(spec["warmup_steps"]):
        step(x)
    clock = Clock()
    for _ in range(spec["samples"]):
        with clock(per=spec["steps_per_sample"]):
            for _ in range(spec["steps_per_sample"]):
                step(x)
    return dict(
        **clock.result(), unit="s/step", quality=None, quality_name="final MSE", notes="5 GEMMs per step"
    )


def run_fit(spec: dict[str, Any], arrays: dict[str, np.ndarray], variant: str) -> dict[str, Any]:
    """Seconds per step of the 1-128-1 net's five products (batch 1), one sample per epoch."""
    x, perms = arrays["X"], arrays["perms"]
    step = make_step(spec["sizes"], 1, _weights(spec, arrays))
    for i in range(spec["warmup_steps"]):
        step(x[i % len(x) : i % len(x) + 1])
    clock = Clock()
    for epoch in range(spec["epochs"]):
        rows = [x[i : i + 1] for i in perms[epoch].tolist()]  # sliced outside the timed region
        with clock(per=len(x)):
            for row in rows:
                step(row)
    return dict(
        **clock.result(), unit="s/step", quality=None, quality_name="final MSE", notes="5 GEMMs per step"
    )


RUNNERS = {
    "mnist": run_classifier,
    "deep": run_classifier,
    "inference": run_inference,
    "xor": run_xor,
    "fit": run_fit,
}

if __name__ == "__main__":
    child_main("gemm_floor", RUNNERS)
