"""``numnet.cuda``: numnet computes on the CPU with NumPy, so there is no CUDA device.

``is_available()`` is False and ``device_count()`` is 0, which sends PyTorch-style scripts down their
CPU branch (``device = "cuda" if torch.cuda.is_available() else "cpu"``).
"""

from __future__ import annotations

from typing import Any


def is_available() -> bool:
    """False: numnet has no GPU backend."""
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    """Accepted and ignored (there is no CUDA generator); seed numnet with ``numnet.manual_seed``."""


def manual_seed_all(seed: int) -> None:
    """Accepted and ignored, as ``manual_seed``."""


def synchronize(device: Any = None) -> None:
    """Nothing to wait for on the CPU."""
