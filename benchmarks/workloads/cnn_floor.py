"""The GEMM floor of the SimpleConvNet workload: only the matrix products one training step needs.

Per step of a batch B = 100: the convolution as im2col GEMMs, W (30, 25) · cols[n] (25, 576) for every image
(one batched matmul) and its weight gradient dY[n] · cols[n]ᵀ summed over the batch (the first layer needs no
dX); Affine 4,320 → 100 and 100 → 10 forward, their weight gradients, and the input gradients of both
(the first one flows back into the pooling). On preallocated float32 operands of those shapes (the products'
cost does not depend on the values), ``out=`` where NumPy allows: no im2col copy, bias, ReLU, pooling,
loss, update or framework. The physical limit of an im2col design with NumPy's BLAS on this machine.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks.workloads.common import Clock, batches, child_main


def make_step(batch: int, rng: np.random.Generator) -> Any:
    f32 = np.float32
    w0 = rng.standard_normal((30, 25)).astype(f32)
    cols = rng.random((batch, 25, 576), dtype=f32)
    y0 = np.empty((batch, 30, 576), f32)
    g0 = rng.standard_normal((batch, 30, 576)).astype(f32)
    w1, w2 = rng.standard_normal((100, 4320)).astype(f32), rng.standard_normal((10, 100)).astype(f32)
    a1, z1, z2 = rng.random((batch, 4320), dtype=f32), np.empty((batch, 100), f32), np.empty((batch, 10), f32)
    g2, g1 = rng.standard_normal((batch, 10)).astype(f32), np.empty((batch, 100), f32)
    da1, dw1, dw2 = np.empty((batch, 4320), f32), np.empty_like(w1), np.empty_like(w2)
    cols_t = cols.transpose(0, 2, 1)

    def step() -> None:
        np.matmul(w0, cols, out=y0)  # conv forward, batched over the images
        np.matmul(a1, w1.T, out=z1)
        np.matmul(z1, w2.T, out=z2)
        np.matmul(g2.T, z1, out=dw2)
        np.matmul(g2, w2, out=g1)
        np.matmul(g1.T, a1, out=dw1)
        np.matmul(g1, w1, out=da1)
        np.matmul(g0, cols_t).sum(axis=0)  # conv dW = Σₙ dY[n]·cols[n]ᵀ

    return step


def run_cnn(spec: dict[str, Any], arrays: dict[str, np.ndarray], variant: str) -> dict[str, Any]:
    """Seconds per epoch of the training GEMMs over the epoch's batches."""
    bs, n = spec["batch_size"], spec["n_train"]
    rng = np.random.default_rng(0)
    spans = batches(n, bs)
    steps = {t - s: make_step(t - s, rng) for s, t in spans}
    for s, t in spans[: spec["warmup_steps"]]:
        steps[t - s]()
    clock = Clock()
    for _ in range(spec["epochs"]):
        with clock():
            for s, t in spans:
                steps[t - s]()
    return dict(
        **clock.result(),
        unit="s/epoch",
        quality=None,
        quality_name="accuracy",
        notes="8 GEMMs per step (2 batched for the conv), on preallocated operands",
    )


RUNNERS = {"cnn": run_cnn}

if __name__ == "__main__":
    child_main("gemm_floor", RUNNERS)
