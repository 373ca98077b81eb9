"""numnet on the SimpleConvNet workload, through its public API: ``numnet.models.simple_cnn``, the shared
initial weights copied in, ``nn.CrossEntropyLoss``, ``optim.Adam`` and a seeded ``data.DataLoader`` whose
order is checked equal to the shared one (see ``numnet_impl``).

Variants: ``loader`` (default: the convolution's default column layout) and ``im2col`` (the textbook
reference layout, ``numnet.ops.conv.use_method("im2col")``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import numnet
from benchmarks.workloads.cnn_common import WEIGHT_SHAPES
from benchmarks.workloads.common import Clock, accuracy, batches, child_main
from benchmarks.workloads.numnet_impl import _epoch_batches, shared_order_loader
from numnet import models, nn, optim
from numnet.ops.conv import use_method


def build_model(spec: dict[str, Any], arrays: dict[str, np.ndarray]) -> nn.Sequential:
    """SimpleConvNet with the workload's initial weights (conv, then the two Affine layers)."""
    model = models.simple_cnn(
        tuple(spec["input_shape"]),
        10,
        filters=spec["filters"],
        kernel_size=spec["kernel_size"],
        hidden=spec["hidden"],
    )
    for layer, name in zip((model[0], model[4], model[6]), WEIGHT_SHAPES, strict=True):
        layer.weight.data[...] = arrays[name]
        layer.bias.data[...] = arrays["b" + name[1:]]
    return model


def _predict(model: nn.Module, x: np.ndarray, batch_size: int) -> np.ndarray:
    model.eval()
    with numnet.no_grad():
        out = [model(numnet.from_numpy(x[s:t])).data.argmax(axis=1) for s, t in batches(len(x), batch_size)]
    model.train()
    return np.concatenate(out)


def run_cnn(spec: dict[str, Any], arrays: dict[str, np.ndarray], variant: str) -> dict[str, Any]:
    """Seconds per training epoch (forward, loss, zero_grad, backward, Adam step); test accuracy last."""
    if variant not in ("loader", "default", "im2col"):
        raise ValueError(f"unknown variant {variant!r}")
    method = "im2col" if variant == "im2col" else "batched"
    numnet.manual_seed(0)
    x, y, perms, bs = arrays["X_train"], arrays["y_train"], arrays["perms"], spec["batch_size"]
    loss_fn = nn.CrossEntropyLoss()
    with use_method(method):
        warm = build_model(spec, arrays)  # warm-up on a throwaway copy: the timed model starts fresh
        warm_opt = optim.Adam(warm.parameters(), lr=spec["lr"])
        for s, t in batches(min(len(x), bs * spec["warmup_steps"]), bs):
            warm_opt.zero_grad()
            loss_fn(warm(numnet.from_numpy(x[s:t])), y[s:t]).backward()
            warm_opt.step()
        del warm, warm_opt
        loader, note = shared_order_loader(x, y, perms, bs, spec["seed"])
        model = build_model(spec, arrays)
        opt = optim.Adam(model.parameters(), lr=spec["lr"])
        clock = Clock()
        for epoch in range(spec["epochs"]):
            with clock():
                for xb, yb in _epoch_batches(loader, x, y, perms, epoch, bs):
                    opt.zero_grad()
                    loss = loss_fn(model(xb), yb)
                    loss.backward()
                    opt.step()
        pred = _predict(model, arrays["X_test"], spec["eval_batch"])
    return dict(
        **clock.result(),
        unit="s/epoch",
        quality=accuracy(pred, arrays["y_test"]),
        final_loss=float(loss.item()),
        notes=f"conv2d method {method}; {note}",
    )


RUNNERS = {"cnn": run_cnn}

if __name__ == "__main__":
    child_main("numnet", RUNNERS)
