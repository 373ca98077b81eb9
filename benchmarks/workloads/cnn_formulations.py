"""Which formulation of conv2d is fastest on SimpleConvNet-sized inputs (forward + backward)?

``python -m benchmarks.workloads.cnn_formulations [--threads 2] [--repeats 30]``

Input (100, 1, 28, 28) float32, 30 filters 5×5, stride 1, no padding → (100, 30, 24, 24); the backward forms
dW and db (the first layer of a net needs no dX) and, in a second row, dX too (any later layer). Each
formulation is timed on the same arrays, interleaved, and checked against the ``im2col`` reference:

* ``im2col``: the textbook rows-per-position matrix (N·Ho·Wo, C·kh·kw), ``cols · Wᵀ``, transpose back.
* ``batched``: (C·kh·kw)-major columns per sample (N, C·kh·kw, Ho·Wo) from kh·kw strided copies, one
  batched matmul ``W · cols[n]`` that lands in (N, O, Ho·Wo) directly (numnet's default).
* ``swv_tensordot``: ``sliding_window_view`` + ``np.tensordot`` over (C, kh, kw) (NumPy copies the view
  into a GEMM operand itself), then a transpose to (N, O, Ho, Wo).
* ``swv_einsum``: ``sliding_window_view`` + ``np.einsum(..., optimize=True)``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np


def _swv(x: np.ndarray, kh: int, kw: int) -> np.ndarray:
    return np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))  # (N, C, Ho, Wo, kh, kw)


def formulations() -> dict[str, Callable[..., tuple[np.ndarray, ...]]]:
    from numnet.ops.conv import Conv2d, use_method

    def numnet_method(method: str) -> Callable[..., tuple[np.ndarray, ...]]:
        def run(x, w, b, g, need_dx):
            with use_method(method):
                fn = object.__new__(Conv2d)
                fn.needs_input_grad = (need_dx, True, True)
                out = fn.forward(x, w, b)
                return (out, *fn.backward(g))

        return run

    def swv_tensordot(x, w, b, g, need_dx):
        o, _, kh, kw = w.shape
        view = _swv(x, kh, kw)
        out = np.tensordot(view, w, axes=([1, 4, 5], [1, 2, 3]))  # (N, Ho, Wo, O)
        out = out.transpose(0, 3, 1, 2) + b.reshape(1, o, 1, 1)
        dw = np.tensordot(g, view, axes=([0, 2, 3], [0, 2, 3]))  # (O, C, kh, kw)
        db = g.sum(axis=(0, 2, 3))
        dx = None
        if need_dx:  # full correlation of g with the flipped kernel
            gp = np.pad(g, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
            dx = np.tensordot(_swv(gp, kh, kw), w[:, :, ::-1, ::-1], axes=([1, 4, 5], [0, 2, 3]))
            dx = dx.transpose(0, 3, 1, 2)
        return out, dx, dw, db

    def swv_einsum(x, w, b, g, need_dx):
        o, _, kh, kw = w.shape
        view = _swv(x, kh, kw)
        out = np.einsum("nchwpq,ocpq->nohw", view, w, optimize=True) + b.reshape(1, o, 1, 1)
        dw = np.einsum("nohw,nchwpq->ocpq", g, view, optimize=True)
        db = g.sum(axis=(0, 2, 3))
        dx = None
        if need_dx:
            gp = np.pad(g, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
            dx = np.einsum("nohwpq,ocpq->nchw", _swv(gp, kh, kw), w[:, :, ::-1, ::-1], optimize=True)
        return out, dx, dw, db

    return {
        "im2col": numnet_method("im2col"),
        "batched": numnet_method("batched"),
        "swv_tensordot": swv_tensordot,
        "swv_einsum": swv_einsum,
    }


def measure(threads: int, repeats: int, channels: int = 1) -> dict[str, dict[str, float]]:
    """Median seconds of forward + backward per formulation, without and with dX."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    x = rng.random((100, channels, 28, 28), dtype=np.float32)
    w = (0.01 * rng.standard_normal((30, channels, 5, 5))).astype(np.float32)
    b = np.zeros(30, np.float32)
    g = rng.standard_normal((100, 30, 24, 24)).astype(np.float32)
    forms = formulations()
    results: dict[str, dict[str, float]] = {}
    with threadpool_limits(threads):
        for need_dx in (False, True):
            reference = forms["im2col"](x, w, b, g, need_dx)
            times: dict[str, list[float]] = {name: [] for name in forms}
            for fn in forms.values():  # warm-up: first-touch page faults, BLAS thread start
                fn(x, w, b, g, need_dx)
            for _ in range(repeats):
                for name, fn in forms.items():  # interleaved: load spikes hit every formulation alike
                    start = time.perf_counter()
                    got = fn(x, w, b, g, need_dx)
                    times[name].append(time.perf_counter() - start)
            for name, fn in forms.items():
                got = fn(x, w, b, g, need_dx)
                for ours, ref in zip(got, reference, strict=True):
                    if ref is not None:
                        np.testing.assert_allclose(ours, ref, rtol=2e-4, atol=2e-5)
                key = "fwd+dW+db" + (" +dX" if need_dx else "")
                results.setdefault(name, {})[key] = float(np.median(times[name]))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.workloads.cnn_formulations")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--channels", type=int, default=1, help="input channels (1: SimpleConvNet)")
    args = parser.parse_args()
    results = measure(args.threads, args.repeats, args.channels)
    keys = list(next(iter(results.values())))
    print(
        f"conv2d (100, {args.channels}, 28, 28) * (30, {args.channels}, 5, 5), float32, "
        f"{args.threads} threads, median of {args.repeats} (ms)"
    )
    print(f"{'formulation':<15}" + "".join(f"{k:>16}" for k in keys))
    for name, row in results.items():
        print(f"{name:<15}" + "".join(f"{row[k] * 1e3:16.2f}" for k in keys))


if __name__ == "__main__":
    main()
