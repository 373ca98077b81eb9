"""Grids of settings: parsing ``--grid name=v1,v2`` and the built-in presets."""

from __future__ import annotations

import itertools
from typing import Any

# The `fit` tutorial's table: (neurons, samples, epochs, lr) → the tutorial's 0-5 score judged by eye.
FIT_TABLE: list[dict[str, Any]] = [
    {"neurons": n, "samples": m, "epochs": e, "lr": lr, "tutorial_score": score}
    for n, m, e, lr, score in [
        (128, 1000, 1000, 0.1, 5),
        (64, 1000, 2000, 0.1, 3),
        (96, 1000, 1000, 0.1, 2.5),
        (256, 1000, 500, 0.1, 0),
        (128, 500, 1000, 0.1, 2),
        (128, 1500, 1000, 0.1, 5),
        (128, 1000, 500, 0.1, 2.5),
        (128, 1000, 1500, 0.1, 5),
        (128, 1000, 1000, 0.5, 1),
        (128, 1000, 1000, 0.05, 2),
    ]
]

PRESETS = {"fit-table": ("fit", FIT_TABLE)}


def _value(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def parse_grid(specs: list[str]) -> list[dict[str, Any]]:
    """``["lr=0.1,0.5", "hidden=64,256-128"]`` → the product of the values, one dict per combination.

    Values are separated by commas; for ``hidden`` a value's layer sizes are joined by ``-`` or ``x``
    (``256-128`` is two hidden layers), since the comma already separates values.
    """
    axes: dict[str, list[Any]] = {}
    for spec in specs:
        name, sep, values = spec.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name or not values.strip():
            raise ValueError(f"--grid takes NAME=V1,V2,… (e.g. lr=0.1,0.5), got {spec!r}")
        if name in axes:
            raise ValueError(f"--grid names {name!r} twice")
        parts = [v.strip() for v in values.split(",") if v.strip()]
        if name == "hidden":
            axes[name] = [p.replace("x", ",").replace("-", ",") for p in parts]
        else:
            axes[name] = [_value(p) for p in parts]
    names = list(axes)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes.values())]
