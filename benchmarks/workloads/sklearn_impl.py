"""scikit-learn's ``MLPClassifier`` on the MNIST workloads (training and inference).

Matched settings: solver='sgd', constant ``learning_rate_init`` = lr, ``batch_size``, momentum=0,
nesterovs_momentum=False, alpha=0 (no L2), float32 input, shuffling via ``random_state`` (its own batch order:
scikit-learn takes no sampler). The shared initial weights are copied into ``coefs_``/``intercepts_`` after a
one-pass initialising fit on one sample per class; the epochs are then ``fit`` calls with
``warm_start=True, max_iter=1`` (one epoch each, timed one by one). Each call also validates the input,
tracks the loss curve and checks convergence: that is part of what scikit-learn costs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.neural_network import MLPClassifier

from benchmarks.workloads.common import Clock, accuracy, batches, child_main, weights_from


def build_classifier(
    spec: dict[str, Any], arrays: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray
) -> MLPClassifier:
    """An ``MLPClassifier`` with the workload's shape and settings, holding the shared initial weights."""
    sizes = spec["sizes"]
    clf = MLPClassifier(
        hidden_layer_sizes=tuple(sizes[1:-1]),
        activation=spec["activation"],
        solver="sgd",
        alpha=0.0,
        batch_size=spec["batch_size"],
        learning_rate="constant",
        learning_rate_init=spec.get("lr", 0.1),
        momentum=0.0,
        nesterovs_momentum=False,
        max_iter=1,
        shuffle=True,
        random_state=np.random.RandomState(spec.get("seed", 0)),
        tol=0.0,
        n_iter_no_change=10**6,
        early_stopping=False,
        warm_start=True,
    )
    _, first = np.unique(y, return_index=True)
    clf.fit(x[first], y[first])  # initialises every attribute; the weights are replaced next
    layers = weights_from(arrays, len(sizes) - 1)
    clf.coefs_ = [np.ascontiguousarray(w.T) for w, _ in layers]
    clf.intercepts_ = [b.copy() for _, b in layers]
    return clf


def run_mnist(spec: dict[str, Any], arrays: dict[str, np.ndarray], variant: str) -> dict[str, Any]:
    """Training: seconds per epoch (one warm-started ``fit`` each), test accuracy at the end."""
    x, y = arrays["X_train"], arrays["y_train"]
    warm = build_classifier(spec, arrays, x, y)
    n_warm = min(len(x), spec["batch_size"] * spec["warmup_steps"])
    warm.fit(x[:n_warm], y[:n_warm])
    clf = build_classifier(spec, arrays, x, y)
    clock = Clock()
    for _ in range(spec["epochs"]):
        with clock():
            clf.fit(x, y)
    pred = clf.predict(arrays["X_test"])
    return dict(
        **clock.result(),
        unit="s/epoch",
        quality=accuracy(pred, arrays["y_test"]),
        final_loss=float(clf.loss_),
        notes="own shuffle (random_state); fit(max_iter=1, warm_start)",
    )


def run_inference(spec: dict[str, Any], arrays: dict[str, np.ndarray], variant: str) -> dict[str, Any]:
    """``predict`` over the test set in batches: seconds per pass."""
    x = arrays["X_test"]
    clf = build_classifier(spec, arrays, x, arrays["y_test"])
    clock = Clock()
    for _ in clock.passes(spec["warmup_passes"], spec["passes"]):
        pred = np.concatenate([clf.predict(x[s:t]) for s, t in batches(len(x), spec["batch_size"])])
    return dict(
        **clock.result(), unit="s/pass", quality=accuracy(pred, arrays["y_test"]), notes="predict() per batch"
    )


RUNNERS = {"mnist": run_mnist, "inference": run_inference}

if __name__ == "__main__":
    child_main("sklearn", RUNNERS)
