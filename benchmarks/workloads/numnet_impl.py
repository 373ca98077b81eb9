"""numnet, through its public API as a user writes it: ``nn.Sequential``, an ``nn`` loss, ``optim.SGD`` and
``data.DataLoader`` over a ``data.TensorDataset``.

The batch order is the shared one: numnet's seeded loader (``DataLoader(..., shuffle=True, seed=s)``) draws
epoch ``e``'s order as ``default_rng([s, e]).permutation(n)``, the recipe the parent used, and the runner
checks ``loader.permutation(e)`` against the shared permutation. Should the two ever differ, it falls back
to a loader over the pre-permuted arrays (``shuffle=False``), the gather counted in the epoch's time, and
says so in ``notes``.

Variants: ``loader`` (default: batches from the ``DataLoader``), for the curve fit ``slice`` (a plain loop
over ``x[i:i+1]`` on a ``Tensor``, as the PyTorch ``slice`` row), and ``compiled``: the same loop with the
step recorded once and replayed by ``numnet.compiled.compile_step`` (``default`` for XOR: eager); for the
curve fit also ``demo``: the ``fit`` demo's own training loop, which the fit-demo target is projected from.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

import numnet
from benchmarks.workloads.common import Clock, accuracy, batches, child_main, weights_from
from numnet import data, nn, optim
from numnet.compiled import compile_step


def build_model(spec: dict[str, Any], arrays: dict[str, np.ndarray]) -> nn.Sequential:
    """The workload's MLP as an ``nn.Sequential``, with the shared initial weights copied in."""
    sizes = spec["sizes"]
    act = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid}[spec["activation"]]
    layers: list[nn.Module] = []
    for i, (w, b) in enumerate(weights_from(arrays, len(sizes) - 1)):
        linear = nn.Linear(sizes[i], sizes[i + 1])
        linear.weight.data[...] = w
        linear.bias.data[...] = b
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


def _predict(model: nn.Module, x: np.ndarray, batch_size: int) -> np.ndarray:
    model.eval()
    with numnet.no_grad():
        out = [model(numnet.from_numpy(x[s:t])).data.argmax(axis=1) for s, t in batches(len(x), batch_size)]
    model.train()
    return np.concatenate(out)


def shared_order_loader(
    x: np.ndarray, y: np.ndarray, perms: np.ndarray, batch_size: int, seed: int
) -> tuple[Any, str]:
    """A seeded shuffling ``DataLoader`` whose epochs visit the samples in ``perms``' order, or ``None`` (and
    the reason) when numnet's seeded order differs from the shared one."""
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=batch_size, shuffle=True, seed=seed)
    try:
        same = all(np.array_equal(loader.permutation(e), perms[e]) for e in range(len(perms)))
    except (AttributeError, TypeError):
        same = False
    if same:
        return loader, "DataLoader(TensorDataset, shuffle=True, seed=s): order checked equal to the shared"
    return None, "numnet's seeded order differs: DataLoader(shuffle=False) over pre-permuted arrays"


def _epoch_batches(
    loader: Any, x: np.ndarray, y: np.ndarray, perms: np.ndarray, epoch: int, batch_size: int
) -> Iterable:
    if loader is not None:
        loader.set_epoch(epoch)
        return loader
    perm = perms[epoch]
    return data.DataLoader(data.TensorDataset(x[perm], y[perm]), batch_size=batch_size, shuffle=False)


def run_classifier(spec: dict[str, Any], arrays: dict[str, np.ndarray], variant: str) -> dict[str, Any]:
    """MNIST training (and the deep BatchNorm/Dropout net): seconds per epoch, test accuracy at the end."""
    numnet.manual_seed(0)
    x, y, perms, bs = arrays["X_train"], arrays["y_train"], arrays["perms"], spec["batch_size"]
    loss_fn = _loss(spec)

    # Warm-up on a throwaway copy (same shapes), so the timed model starts from the shared weights.
    warm = build_model(spec, arrays)
    warm_opt = optim.SGD(warm.parameters(), lr=spec["lr"])
    n_warm = min(len(x), bs * spec["warmup_steps"])
    for xb, yb in data.DataLoader(data.TensorDataset(x[:n_warm], y[:n_warm]), batch_size=bs):
        warm_opt.zero_grad()
        loss_fn(warm(xb), yb).backward()
        warm_opt.step()
    del warm, warm_opt

    loader, note = shared_order_loader(x, y, perms, bs, spec["seed"])
    model = build_model(spec, arrays)
    opt = optim.SGD(model.parameters(), lr=spec["lr"])
    model.train()
    step = compile_step(model, loss_fn, opt) if variant == "compiled" else None
    clock = Clock()
    for epoch in range(spec["epochs"]):
        with clock():
            for xb, yb in _epoch_batches(loader, x, y, perms, epoch, bs):
                if step is not None:
                    loss = step(xb, yb)
                    continue
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
        notes=note,
    )


def run_inference(spec: dict[str, Any], arrays: dict[str, np.ndarray], variant: str) -> dict[str, Any]:
    """Forward pass + argmax over the test set in batches, under ``numnet.no_grad()``: seconds per pass."""
    model = build_model(spec, arrays).eval()
    x = arrays["X_test"]
    loader = data.DataLoader(data.TensorDataset(x), batch_size=spec["batch_size"])
    clock = Clock()
    for _ in clock.passes(spec["warmup_passes"], spec["passes"]):
        with numnet.no_grad():
            pred = np.concatenate([model(xb).data.argmax(axis=1) for (xb,) in loader])
    return dict(
        **clock.result(),
        unit="s/pass",
        quality=accuracy(pred, arrays["y_test"]),
        notes="DataLoader over the test set; initial weights: equal accuracies = equal predictions",
    )


def run_xor(spec: dict[str, Any], arrays: dict[str, np.ndarray], variant: str) -> dict[str, Any]:
    """The 2-3-1 ReLU net on XOR, batch 4, MSE: seconds per step (forward, loss, zero_grad, backward,
    step); ``compiled``: the same step through ``compile_step``."""
    model = build_model(spec, arrays)
    opt = optim.SGD(model.parameters(), lr=spec["lr"])
    loss_fn = nn.MSELoss()
    x, y = numnet.from_numpy(arrays["X"]), numnet.from_numpy(arrays["Y"])
    compiled = compile_step(model, loss_fn, opt) if variant == "compiled" else None

    def steps(k: int) -> Any:
        for _ in range(k):
            if compiled is not None:
                loss = compiled(x, y)
                continue
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
    """The 1-128-1 sigmoid curve fit, batch 1 (per-sample SGD): seconds per step, one sample per epoch.

    ``loader``: ``for xb, yb in DataLoader(TensorDataset(x, y), batch_size=1, shuffle=True, seed=s)``,
    what the ``fit`` tutorial does, with ``loss.item()`` every step as the demo; ``compiled``: the same loop
    through ``compile_step``; ``slice``: ``x[i:i+1]`` on tensors in the shared order.
    """
    if variant == "demo":
        return _fit_demo_loop(spec)
    model = build_model(spec, arrays)
    opt = optim.SGD(model.parameters(), lr=spec["lr"])
    loss_fn = nn.MSELoss(reduction="sum")  # the fit tutorial's ½·(z − y)²: gradient z − y
    x_np, y_np, perms = arrays["X"], arrays["Y"], arrays["perms"]
    x, y = numnet.from_numpy(x_np), numnet.from_numpy(y_np)

    def step(xb: Any, yb: Any) -> Any:
        out = model(xb)
        loss = 0.5 * loss_fn(out, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    if variant == "compiled":  # the demo's loop with its step recorded once and replayed
        step = compile_step(model, lambda z, t: 0.5 * loss_fn(z, t), opt)

    for i in range(spec["warmup_steps"]):
        j = i % len(x_np)
        step(x[j : j + 1], y[j : j + 1])
    note = ""
    loader = None
    if variant in ("loader", "compiled"):
        loader, note = shared_order_loader(x_np, y_np, perms, 1, spec["seed"])
    clock = Clock()
    for epoch in range(spec["epochs"]):
        if variant == "slice":
            with clock(per=len(x_np)):
                for i in perms[epoch].tolist():
                    step(x[i : i + 1], y[i : i + 1])
        elif variant in ("loader", "compiled"):
            with clock(per=len(x_np)):
                for xb, yb in _epoch_batches(loader, x_np, y_np, perms, epoch, 1):
                    step(xb, yb).item()  # .item() every step, as the demo
        else:
            raise ValueError(f"unknown variant {variant!r}")
    with numnet.no_grad():
        mse = float(loss_fn(model(x), y).item()) / len(x_np)
    return dict(**clock.result(), unit="s/step", quality=mse, quality_name="final MSE", notes=note)


def _fit_demo_loop(spec: dict[str, Any]) -> dict[str, Any]:
    """``numnet demo fit``'s own training loop, ``train_side_by_side``, at the demo's defaults (its 9 nets
    side by side, each on its own data draw; 1000 samples) but one epoch per call: seconds per single-sample
    step, so that 10⁶ steps project the demo's training time. The demo draws its own data: no quality. It
    runs with 1 BLAS thread in every column, as the demo does by default (``--threads 1``)."""
    from threadpoolctl import threadpool_limits

    from numnet import demos  # the applications layer, imported only by this row

    fit_demo = demos.load("fit")
    settings = demos.settings("fit", samples=spec["n"], epochs=1)
    seeds = fit_demo.data_seeds(settings)
    clock = Clock()
    with threadpool_limits(limits=1, user_api="blas"):
        fit_demo.train_side_by_side(settings, seeds)  # warm-up
        for _ in range(spec["epochs"]):
            with clock(per=settings.samples * settings.epochs):
                fit_demo.train_side_by_side(settings, seeds)
    note = (
        f"the demo's train_side_by_side: {len(seeds)} nets side by side, {settings.samples} steps a call, "
        "1 BLAS thread (the demo's default)"
    )
    return dict(**clock.result(), unit="s/step", quality=None, quality_name="final MSE", notes=note)


RUNNERS = {
    "mnist": run_classifier,
    "deep": run_classifier,
    "inference": run_inference,
    "xor": run_xor,
    "fit": run_fit,
}

if __name__ == "__main__":
    child_main("numnet", RUNNERS)
