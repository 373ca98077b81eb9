"""Helpers for the attack tests: run a load in a child process with bounded memory and a time limit."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

MEMORY_LIMIT = 3 << 29  # 1.5 GiB of address space: far below what the hostile files ask for
TIME_LIMIT_S = 120


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_limited(code: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run Python ``code`` in a child process under ``MEMORY_LIMIT`` and ``TIME_LIMIT_S``.

    The child inherits ``PYTHONPATH`` (so it imports this worktree's numnet) and gets one BLAS thread.
    """
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT_S,
        preexec_fn=_limit_memory,
        check=False,
    )


def assert_refused(result: subprocess.CompletedProcess, error: str, match: str) -> None:
    """The child exited normally (no signal, no MemoryError) after printing ``error: message``."""
    detail = f"rc={result.returncode}\nstdout={result.stdout}\nstderr={result.stderr[-2000:]}"
    assert result.returncode == 0, detail
    assert "MemoryError" not in result.stdout + result.stderr, detail
    lines = result.stdout.strip().splitlines()
    assert lines and lines[-1].startswith(f"{error}: "), detail
    assert match in lines[-1], detail
