"""PyTorch eager (CPU): the reference every ratio is taken against.

Variants: ``slice`` (a plain loop that gathers ``X[perm[i:i+B]]``) and ``loader``
(``torch.utils.data.DataLoader`` over a ``TensorDataset``, sampler = the shared permutation, no workers).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from benchmarks.workloads.common import Clock, accuracy, batches, child_main, weights_from


def build_model(spec: dict[str, Any], arrays: dict[str, np.ndarray]) -> nn.Sequential:
    """The workload's MLP as an ``nn.Sequential``, with the shared initial weights copied in."""
    sizes = spec["sizes"]
    act = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid}[spec["activation"]]
    layers: list[nn.Module] = []
    for i, (w, b) in enumerate(weights_from(arrays, len(sizes) - 1)):
        linear = nn.Linear(sizes[i], sizes[i + 1])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if i < len(sizes) - 2:
            if spec.get("batchnorm"):
                layers.append(nn.BatchNorm1d(sizes[i + 1]))
            layers.append(act())
            if spec.get("dropout"):
                layers.append(nn.Dropout(spec["dropout"]))
    return nn.Sequential(*layers)


def _loss(spec: dict[str, Any]) -> nn.Module:
    return nn.CrossEntropyLoss() if spec["loss"] == "cross_entropy" else nn.MSELoss()


def _predict(model: nn.Module, x: torch.Tensor, batch_size: int) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        out = [model(x[s:t]).argmax(dim=1) for s, t in batches(len(x), batch_size)]
    model.train()
    return torch.cat(out).numpy()


def run_classifier(spec: dict[str, Any], arrays: dict[str, np.ndarray], variant: str) -> dict[str, Any]:
    """MNIST training (and the deep BatchNorm/Dropout net): seconds per epoch, test accuracy at the end."""
    torch.manual_seed(0)
    x, y = torch.from_numpy(arrays["X_train"]), torch.from_numpy(arrays["y_train"])
    perms, bs, n = arrays["perms"], spec["batch_size"], len(arrays["X_train"])
    loss_fn = _loss(spec)

    # Warm-up on a throwaway copy (same shapes), so the timed model starts from the shared weights.
    warm = build_model(spec, arrays)
    warm_opt = torch.optim.SGD(warm.parameters(), lr=spec["lr"])
    for s, t in batches(min(n, bs * spec["warmup_steps"]), bs):
        warm_opt.zero_grad()
        loss_fn(warm(x[s:t]), y[s:t]).backward()
        warm_opt.step()

    model = build_model(spec, arrays)
    opt = torch.optim.SGD(model.parameters(), lr=spec["lr"])
    model.train()
    clock = Clock()
    for epoch in range(spec["epochs"]):
        if variant == "slice":
            with clock():
                order = torch.from_numpy(perms[epoch])
                for s, t in batches(n, bs):
                    idx = order[s:t]
                    xb, yb = x[idx], y[idx]
                    opt.zero_grad()
                    loss = loss_fn(model(xb), yb)
                    loss.backward()
                    opt.step()
        elif variant == "loader":
            with clock():
                loader = DataLoader(TensorDataset(x, y), batch_size=bs, sampler=perms[epoch].tolist())
                for xb, yb in loader:
                    opt.zero_grad()
                    loss = loss_fn(model(xb), yb)
                    loss.backward()
                    opt.step()
        else:
            raise ValueError(f"unknown variant {variant!r}")
    pred = _predict(model, torch.from_numpy(arrays["X_test"]), spec["eval_batch"])
    return dict(
        **clock.result(),
        unit="s/epoch",
        quality=accuracy(pred, arrays["y_test"]),
        final_loss=float(loss.item()),
    )


def run_inference(spec: dict[str, Any], arrays: dict[str, np.ndarray], variant: str) -> dict[str, Any]:
    """Forward pass + argmax over the test set in batches, under ``torch.no_grad()``: seconds per pass."""
    model = build_model(spec, arrays).eval()
    x = torch.from_numpy(arrays["X_test"])
    clock = Clock()
    for _ in clock.passes(spec["warmup_passes"], spec["passes"]):
        with torch.no_grad():
            pred = torch.cat([model(x[s:t]).argmax(dim=1) for s, t in batches(len(x), spec["batch_size"])])
    return dict(
        **clock.result(),
        unit="s/pass",
        quality=accuracy(pred.numpy(), arrays["y_test"]),
        notes="initial (untrained) weights: equal accuracies = equal predictions",
    )


def run_xor(spec: dict[str, Any], arrays: dict[str, np.ndarray], variant: str) -> dict[str, Any]:
    """The 2-3-1 ReLU net on XOR, batch 4, MSE: seconds per step (forward, loss, zero_grad, backward,
    step)."""
    model = build_model(spec, arrays)
    opt = torch.optim.SGD(model.parameters(), lr=spec["lr"])
    loss_fn = nn.MSELoss()
    x, y = torch.from_numpy(arrays["X"]), torch.from_numpy(arrays["Y"])

    def steps(k: int) -> torch.Tensor:
        for _ in range(k):
            out = model(x)
            loss = loss_fn(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return loss

    steps(spec["warmup_steps"])
    clock = Clock()
    for _ in range(spec["samples"]):
        with clock(per=spec["steps_per_sample"]):
            loss = steps(spec["steps_per_sample"])
    return dict(**clock.result(), unit="s/step", quality=float(loss.item()), quality_name="final MSE")


def run_fit(spec: dict[str, Any], arrays: dict[str, np.ndarray], variant: str) -> dict[str, Any]:
    """The 1-128-1 sigmoid curve fit, batch 1 (per-sample SGD): seconds per step, one sample per epoch."""
    model = build_model(spec, arrays)
    opt = torch.optim.SGD(model.parameters(), lr=spec["lr"])
    loss_fn = nn.MSELoss(reduction="sum")  # the fit tutorial's ½·(z − y)²: gradient z − y
    x, y = torch.from_numpy(arrays["X"]), torch.from_numpy(arrays["Y"])
    perms = arrays["perms"]

    def step(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        out = model(xb)
        loss = 0.5 * loss_fn(out, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    for i in range(spec["warmup_steps"]):
        j = i % len(x)
        step(x[j : j + 1], y[j : j + 1])
    clock = Clock()
    for epoch in range(spec["epochs"]):
        if variant == "slice":
            with clock(per=len(x)):
                for i in perms[epoch].tolist():
                    step(x[i : i + 1], y[i : i + 1])
        elif variant == "loader":
            with clock(per=len(x)):
                for xb, yb in DataLoader(TensorDataset(x, y), batch_size=1, sampler=perms[epoch].tolist()):
                    step(xb, yb)
        else:
            raise ValueError(f"unknown variant {variant!r}")
    with torch.no_grad():
        mse = float(loss_fn(model(x), y)) / len(x)
    return dict(**clock.result(), unit="s/step", quality=mse, quality_name="final MSE")


RUNNERS = {
    "mnist": run_classifier,
    "deep": run_classifier,
    "inference": run_inference,
    "xor": run_xor,
    "fit": run_fit,
}

if __name__ == "__main__":
    child_main("torch", RUNNERS)
