"""Shared helpers for the optimizer tests: numnet/torch twins of the same parameters, and error measures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

import numnet
from numnet import optim

# (numnet class, torch class) by name.
OPTIMIZERS = {
    "SGD": (optim.SGD, torch.optim.SGD),
    "Adagrad": (optim.Adagrad, torch.optim.Adagrad),
    "RMSprop": (optim.RMSprop, torch.optim.RMSprop),
    "Adam": (optim.Adam, torch.optim.Adam),
    "AdamW": (optim.AdamW, torch.optim.AdamW),
}

# Option combinations compared against torch.optim (name, kwargs).
CONFIGS: list[tuple[str, dict[str, Any]]] = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.1, "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "dampening": 0.3, "weight_decay": 0.1, "maximize": True}),
    ("Adagrad", {}),
    (
        "Adagrad",
        {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-6},
    ),
    ("Adagrad", {"lr": 0.1, "maximize": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "maximize": True, "eps": 1e-4}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    (
        "Adam",
        {
            "lr": 0.02,
            "betas": (0.8, 0.99),
            "eps": 1e-6,
            "amsgrad": True,
            "weight_decay": 0.05,
            "maximize": True,
        },
    ),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "maximize": True}),
]


def config_id(config: tuple[str, dict[str, Any]]) -> str:
    name, kwargs = config
    return name + "(" + ",".join(f"{k}={v}" for k, v in kwargs.items()) + ")"


def torch_optimizer(cls: type, params: Any, kwargs: dict[str, Any]) -> torch.optim.Optimizer:
    """The torch optimizer, forced onto its single-tensor (for-loop) implementation, as numnet's."""
    return cls(params, foreach=False, **kwargs)


def twins(arrays: list[np.ndarray]) -> tuple[list[numnet.Tensor], list[torch.Tensor]]:
    """numnet and torch leaf tensors (requires_grad) starting from copies of the same values."""
    ours = [numnet.Tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    return ours, theirs


# Parameter shapes of the oracle runs: a matrix, a vector, a scalar and a 3-d array.
SHAPES = [(4, 3), (5,), (), (2, 3, 2)]


def start_arrays(seed: int) -> list[np.ndarray]:
    """Float64 starting values, one array per shape in ``SHAPES``."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in SHAPES]


def run_random_gradients(
    ours_cls: type, torch_cls: type, kwargs: dict[str, Any], steps: int
) -> tuple[list[numnet.Tensor], list[torch.Tensor]]:
    """Both optimizers fed the same random gradients for ``steps`` steps, set directly as .grad (at steps
    3, 10, 17, ... the second parameter has none, so it and its state must be skipped); the parameters."""
    ours, theirs = twins(start_arrays(0))
    opt, ref = ours_cls(ours, **kwargs), torch_optimizer(torch_cls, theirs, kwargs)
    rng = np.random.default_rng(1)
    for step in range(steps):
        for i, (p, q) in enumerate(zip(ours, theirs, strict=True)):
            if step % 7 == 3 and i == 1:
                p.grad, q.grad = None, None
                continue
            g = np.asarray(rng.standard_normal(p.shape) * (0.1 + step % 3))
            p.grad, q.grad = g.copy(), torch.from_numpy(g.copy())
        opt.step()
        ref.step()
    return ours, theirs


def run_quadratic(
    ours_cls: type, torch_cls: type, kwargs: dict[str, Any], steps: int
) -> tuple[list[numnet.Tensor], list[torch.Tensor], list[np.ndarray]]:
    """Both optimizers minimizing f(p) = ½ pᵀAp − bᵀp (A positive definite) per parameter for ``steps``
    steps, each gradient taken at the optimizer's own current parameters, so differences would compound;
    the parameters and their starting values."""
    ours, theirs = twins(start_arrays(2))
    start = [p.data.copy() for p in ours]
    rng = np.random.default_rng(3)
    problems = []
    for p in ours:
        n = p.data.size
        m = rng.standard_normal((n, n))
        problems.append((m @ m.T / n + np.eye(n), rng.standard_normal(n)))
    opt, ref = ours_cls(ours, **kwargs), torch_optimizer(torch_cls, theirs, kwargs)
    for _ in range(steps):
        opt.zero_grad()
        ref.zero_grad()
        for p, q, (a, b) in zip(ours, theirs, problems, strict=True):
            p.grad = (a @ p.data.ravel() - b).reshape(p.shape)
            q.grad = torch.from_numpy((a @ q.detach().numpy().ravel() - b).reshape(p.shape))
        opt.step()
        ref.step()
    return ours, theirs, start


def rel_err(actual: np.ndarray, expected: np.ndarray) -> float:
    """Largest elementwise |actual − expected| / max(|expected|, 1e-3): relative, with a floor near zero."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise AssertionError(f"shape {actual.shape} != {expected.shape}")
    if actual.size == 0:
        return 0.0
    return float(np.max(np.abs(actual - expected) / np.maximum(np.abs(expected), 1e-3)))


def max_rel_err(ours: list[numnet.Tensor], theirs: list[torch.Tensor]) -> float:
    return max(rel_err(p.data, q.detach().numpy()) for p, q in zip(ours, theirs, strict=True))


def save_checkpoint(state_dict: dict[str, Any], folder: Path) -> None:
    """Write an optimizer state dict as JSON (structure, numbers) + npz (arrays), without pickle."""
    arrays: dict[str, np.ndarray] = {}
    state: dict[str, dict[str, Any]] = {}
    for index, entries in state_dict["state"].items():
        state[str(index)] = {}
        for name, value in entries.items():
            if isinstance(value, np.ndarray):
                key = f"{index}/{name}"
                arrays[key] = value
                state[str(index)][name] = {"__array__": key}
            else:
                state[str(index)][name] = value
    meta = {"state": state, "param_groups": state_dict["param_groups"]}
    (folder / "optim.json").write_text(json.dumps(meta))
    np.savez(folder / "optim.npz", **arrays)


def load_checkpoint(folder: Path) -> dict[str, Any]:
    """Read what ``save_checkpoint`` wrote (state keys come back as strings, as JSON has them)."""
    meta = json.loads((folder / "optim.json").read_text())
    with np.load(folder / "optim.npz", allow_pickle=False) as arrays:
        for entries in meta["state"].values():
            for name, value in entries.items():
                if isinstance(value, dict) and "__array__" in value:
                    entries[name] = arrays[value["__array__"]]
    return meta
