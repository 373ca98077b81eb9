"""PyTorch-style scripts, written for ``import torch``, run twice: once with torch, once with only their
import lines renamed to numnet. Their ``RESULT`` dicts must agree to float32 rounding."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest

SCRIPTS = sorted((Path(__file__).parent / "scripts").glob("*.py"))

# the only edits allowed: the import lines
RENAMES = [
    (r"^import torch$", "import numnet as torch"),
    (r"^from torch import (.+)$", r"from numnet import \1"),
    (r"^import torch\.nn\.functional as F$", "import numnet.nn.functional as F"),
]


def renamed(source: str) -> str:
    for pattern, replacement in RENAMES:
        source = re.sub(pattern, replacement, source, flags=re.MULTILINE)
    return source


def run(source: str, name: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "__torch_script__"}
    exec(compile(source, name, "exec"), namespace)  # our own scripts in this folder, nothing from outside
    return namespace["RESULT"]


def assert_close(ours: Any, theirs: Any, where: str) -> None:
    if isinstance(theirs, dict):
        assert ours.keys() == theirs.keys(), where
        for key in theirs:
            assert_close(ours[key], theirs[key], f"{where}.{key}")
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), where
        for i, (o, t) in enumerate(zip(ours, theirs, strict=True)):
            assert_close(o, t, f"{where}[{i}]")
    elif isinstance(theirs, (bool, str)) or theirs is None:
        assert ours == theirs, where
    else:
        assert math.isclose(ours, theirs, rel_tol=2e-5, abs_tol=1e-6), (
            f"{where}: numnet {ours} vs torch {theirs}"
        )


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_script_runs_on_numnet_with_imports_renamed(script: Path) -> None:
    source = script.read_text()
    ported = renamed(source)
    assert ported != source and "import torch\n" not in ported
    changed = [a for a, b in zip(source.splitlines(), ported.splitlines(), strict=True) if a != b]
    assert all(line.startswith(("import ", "from ")) for line in changed), changed
    theirs = run(source, str(script))
    ours = run(ported, str(script) + " (numnet)")
    assert_close(ours, theirs, script.stem)


def test_there_are_scripts() -> None:
    assert len(SCRIPTS) >= 5
