"""PyTorch eager (CPU) on the SimpleConvNet workload: the same weights, batches (the shared per-epoch order,
gathered by index slicing), Adam and threads as numnet's row."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from benchmarks.workloads.cnn_common import WEIGHT_SHAPES
from benchmarks.workloads.common import Clock, accuracy, batches, child_main


def build_model(spec: dict[str, Any], arrays: dict[str, np.ndarray]) -> nn.Sequential:
    c, h, w = spec["input_shape"]
    k, f = spec["kernel_size"], spec["filters"]
    features = f * ((h - k + 1) // 2) * ((w - k + 1) // 2)
    model = nn.Sequential(
        nn.Conv2d(c, f, k),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(features, spec["hidden"]),
        nn.ReLU(),
        nn.Linear(spec["hidden"], 10),
    )
    with torch.no_grad():
        for layer, name in zip((model[0], model[4], model[6]), WEIGHT_SHAPES, strict=True):
            layer.weight.copy_(torch.from_numpy(arrays[name]))
            layer.bias.copy_(torch.from_numpy(arrays["b" + name[1:]]))
    return model


def run_cnn(spec: dict[str, Any], arrays: dict[str, np.ndarray], variant: str) -> dict[str, Any]:
    """Seconds per training epoch; test accuracy at the end."""
    torch.manual_seed(0)
    x, y = torch.from_numpy(arrays["X_train"]), torch.from_numpy(arrays["y_train"])
    perms, bs, n = arrays["perms"], spec["batch_size"], len(arrays["X_train"])
    loss_fn = nn.CrossEntropyLoss()
    warm = build_model(spec, arrays)
    warm_opt = torch.optim.Adam(warm.parameters(), lr=spec["lr"])
    for s, t in batches(min(n, bs * spec["warmup_steps"]), bs):
        warm_opt.zero_grad()
        loss_fn(warm(x[s:t]), y[s:t]).backward()
        warm_opt.step()
    model = build_model(spec, arrays)
    opt = torch.optim.Adam(model.parameters(), lr=spec["lr"])
    clock = Clock()
    for epoch in range(spec["epochs"]):
        with clock():
            order = torch.from_numpy(perms[epoch])
            for s, t in batches(n, bs):
                idx = order[s:t]
                opt.zero_grad()
                loss = loss_fn(model(x[idx]), y[idx])
                loss.backward()
                opt.step()
    model.eval()
    x_test = torch.from_numpy(arrays["X_test"])
    with torch.no_grad():
        pred = torch.cat(
            [model(x_test[s:t]).argmax(dim=1) for s, t in batches(len(x_test), spec["eval_batch"])]
        )
    return dict(
        **clock.result(),
        unit="s/epoch",
        quality=accuracy(pred.numpy(), arrays["y_test"]),
        final_loss=float(loss.item()),
    )


RUNNERS = {"cnn": run_cnn}

if __name__ == "__main__":
    child_main("torch", RUNNERS)
