"""PyTorch-style scripts (written for this suite) that use the nn / optim / data pieces added for issue 12:
each runs once with ``import torch`` and once with its import lines renamed to numnet (nothing else
changed), and both runs must print the same numbers to float32 rounding."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SCRIPTS = sorted(p.name for p in HERE.glob("*.py") if not p.name.startswith(("test_", "__")))
RTOL = 2e-5  # float32 rounding, compounded over a few dozen optimizer steps
TIMEOUT_S = 300


def rename_imports(source: str) -> str:
    """Only the import lines change: ``import torch`` becomes ``import numnet as torch``, and ``torch``
    becomes ``numnet`` in every other ``import``/``from`` line (``from numnet.utils.data import …``)."""
    lines = []
    for line in source.splitlines():
        if line.strip() == "import torch":
            line = "import numnet as torch"
        elif re.match(r"\s*(import|from)\s+torch\b", line):
            line = re.sub(r"\btorch\b", "numnet", line)
        lines.append(line)
    return "\n".join(lines) + "\n"


def _run(path: Path) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, str(path)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env=env,
        cwd=path.parent,
        check=False,
    )
    assert done.returncode == 0, f"{path.name} failed:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def _compare(ours, theirs, where: str) -> float:
    """The worst relative difference (with a 1e-6 floor), asserting the structures match."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and ours.keys() == theirs.keys(), where
        return max((_compare(ours[k], theirs[k], f"{where}.{k}") for k in theirs), default=0.0)
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), where
        return max(
            (_compare(a, b, f"{where}[{i}]") for i, (a, b) in enumerate(zip(ours, theirs, strict=True))),
            default=0.0,
        )
    assert isinstance(ours, (int, float)) and math.isfinite(ours), f"{where}: {ours!r}"
    err = abs(ours - theirs) / max(abs(theirs), 1e-6)
    assert err <= RTOL, f"{where}: numnet {ours!r} vs torch {theirs!r} (relative {err:.2e})"
    return err


def test_rename_touches_import_lines_only():
    source = (
        "import torch\nimport torch.nn.functional as F\nfrom torch import nn\nx = torch.zeros(2)  # torch\n"
    )
    expected = "import numnet as torch\nimport numnet.nn.functional as F\nfrom numnet import nn\n"
    assert rename_imports(source) == expected + "x = torch.zeros(2)  # torch\n"


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_gives_torchs_numbers_with_imports_renamed(script, tmp_path):
    source = (HERE / script).read_text()
    theirs = _run(HERE / script)
    renamed = tmp_path / script
    renamed.write_text(rename_imports(source))
    ours = _run(renamed)
    worst = _compare(ours, theirs, script)
    print(f"{script}: worst relative difference {worst:.2e}")
