"""A lean, hand-written NumPy training loop for the tiny networks, and a lean NumPy forward pass for MNIST
inference: the references for what a framework adds on top of NumPy.

No graph, no modules, no optimizer objects: the forward pass, the MSE loss, the hand-derived backward pass and
the SGD update written out with NumPy on float32 arrays, as one would in a tutorial without a framework.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.workloads.common import Clock, accuracy, batches, child_main, weights_from

Step = Callable[[np.ndarray, np.ndarray], float]


def make_step(spec: dict[str, Any], arrays: dict[str, np.ndarray]) -> tuple[Step, Callable[[], list]]:
    """``step(x, y) -> loss`` for a one-hidden-layer net (ReLU or sigmoid), plain SGD, with the workload's
    loss (``mse``: mean squared error; ``half_sse``: ½·sum of squared errors, the fit tutorial's); and a
    getter of the current parameters."""
    (w1, b1), (w2, b2) = [(w.copy(), b.copy()) for w, b in weights_from(arrays, 2)]
    lr = np.float32(spec["lr"])
    sigmoid = spec["activation"] == "sigmoid"
    half_sse = spec["loss"] == "half_sse"

    def step(x: np.ndarray, y: np.ndarray) -> float:
        z1 = x @ w1.T + b1
        a1 = 1.0 / (1.0 + np.exp(-z1)) if sigmoid else np.maximum(z1, 0)
        out = a1 @ w2.T + b2
        diff = out - y
        if half_sse:
            loss = 0.5 * float(np.sum(diff * diff))
            g = diff
        else:
            loss = float(np.mean(diff * diff))
            g = diff * np.float32(2.0 / diff.size)
        dw2, db2 = g.T @ a1, g.sum(axis=0)
        ga1 = g @ w2
        gz1 = ga1 * (a1 * (1.0 - a1)) if sigmoid else ga1 * (z1 > 0)
        dw1, db1 = gz1.T @ x, gz1.sum(axis=0)
        w1[...] -= lr * dw1
        b1[...] -= lr * db1
        w2[...] -= lr * dw2
        b2[...] -= lr * db2
        return loss

    return step, lambda: [w1, b1, w2, b2]


def _mse(params: list[np.ndarray], x: np.ndarray, y: np.ndarray, sigmoid: bool) -> float:
    w1, b1, w2, b2 = params
    z1 = x @ w1.T + b1
    a1 = 1.0 / (1.0 + np.exp(-z1)) if sigmoid else np.maximum(z1, 0)
    return float(np.mean((a1 @ w2.T + b2 - y) ** 2))


def run_xor(spec: dict[str, Any], arrays: dict[str, np.ndarray], variant: str) -> dict[str, Any]:
    """The 2-3-1 ReLU net on XOR, batch 4: seconds per step."""
    step, _ = make_step(spec, arrays)
    x, y = arrays["X"], arrays["Y"]
    for _ in range(spec["warmup_steps"]):
        step(x, y)
    clock = Clock()
    loss = float("nan")
    for _ in range(spec["samples"]):
        with clock(per=spec["steps_per_sample"]):
            for _ in range(spec["steps_per_sample"]):
                loss = step(x, y)
    # the last step's loss (before its update), as the other implementations report it
    return dict(**clock.result(), unit="s/step", quality=loss, quality_name="final MSE")


def run_fit(spec: dict[str, Any], arrays: dict[str, np.ndarray], variant: str) -> dict[str, Any]:
    """The 1-128-1 sigmoid fit, batch 1, ``x[i:i+1]`` in the shared order: seconds per step."""
    step, params = make_step(spec, arrays)
    x, y, perms = arrays["X"], arrays["Y"], arrays["perms"]
    for i in range(spec["warmup_steps"]):
        j = i % len(x)
        step(x[j : j + 1], y[j : j + 1])
    clock = Clock()
    for epoch in range(spec["epochs"]):
        with clock(per=len(x)):
            for i in perms[epoch].tolist():
                step(x[i : i + 1], y[i : i + 1])
    return dict(**clock.result(), unit="s/step", quality=_mse(params(), x, y, True), quality_name="final MSE")


def run_inference(spec: dict[str, Any], arrays: dict[str, np.ndarray], variant: str) -> dict[str, Any]:
    """Forward pass + argmax over the test set in batches, in NumPy's cheapest forms (the product, the bias
    added in place, ReLU in place against the scalar 0; no framework): seconds per pass. What is left between
    this and the GEMM floor is the element-wise work itself, which NumPy runs on one thread.

    glibc is first told to keep freed memory, as importing numnet does (``numnet.backend.keep_freed_memory``):
    with its defaults each fresh (1000, 256) product is faulted in page by page, and this pass took 1.36–1.39×
    the floor at 2 threads instead of numnet's 1.10×, a difference of allocators, not of forward passes."""
    from numnet.backend import keep_freed_memory  # the allocator setting only: the pass below is NumPy

    keep_freed_memory()
    layers = [(w.copy(), b.copy()) for w, b in weights_from(arrays, len(spec["sizes"]) - 1)]
    x = arrays["X_test"]
    spans = batches(len(x), spec["batch_size"])

    def predict(xb: np.ndarray) -> np.ndarray:
        a = xb
        for i, (w, b) in enumerate(layers):
            a = a @ w.T  # z = a·Wᵀ + b, then max(z, 0) on every layer but the last
            a += b
            if i < len(layers) - 1:
                np.maximum(a, 0, out=a)
        return a.argmax(axis=1)

    clock = Clock()
    pred = np.empty(0)
    for _ in clock.passes(spec["warmup_passes"], spec["passes"]):
        pred = np.concatenate([predict(x[s:t]) for s, t in spans])
    return dict(
        **clock.result(),
        unit="s/pass",
        quality=accuracy(pred, arrays["y_test"]),
        notes="in-place bias and ReLU; initial weights: equal accuracies = equal predictions",
    )


RUNNERS = {"xor": run_xor, "fit": run_fit, "inference": run_inference}

if __name__ == "__main__":
    child_main("lean_numpy", RUNNERS)
