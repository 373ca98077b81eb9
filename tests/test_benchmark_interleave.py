"""The benchmark children's turn-taking (``benchmarks.interleave``): one runs at a time, round robin, the
next waits for the last one's spinning threads, and a failing or hanging child ends alone."""

from __future__ import annotations

import itertools
import json
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest
from benchmarks.interleave import run_in_turns, wait_until_idle

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")

# A child: ``samples`` timed samples of ``busy`` seconds of spinning each, logged as (name, kind, start, end);
# with ``spin_after`` a helper thread keeps a core busy that long after each sample, like OpenBLAS's threads.
CHILD = textwrap.dedent(
    """
    import json, sys, threading, time
    from benchmarks.interleave import take_turn

    name, samples, busy, spin_after, log, fail = sys.argv[1:7]
    samples, busy, spin_after = int(samples), float(busy), float(spin_after)

    def spin(seconds):
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            pass

    def write(kind, start, end):
        with open(log, "a") as f:
            f.write(json.dumps([name, kind, start, end]) + "\\n")

    if fail == "setup":
        sys.exit(3)
    if fail == "fork":  # a process it starts inherits the pipe and outlives it
        import subprocess
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"], close_fds=False)
    for i in range(samples):
        take_turn()
        start = time.perf_counter()
        if fail == "hang":
            time.sleep(30)
        spin(busy)
        write("sample", start, time.perf_counter())
        if spin_after:
            t0 = time.perf_counter()
            def linger(t0=t0):
                spin(spin_after)
                write("spin", t0, time.perf_counter())

            threading.Thread(target=linger).start()
    print(json.dumps({"name": name}))
    """
)


def child(
    name: str, log: Path, samples: int = 3, busy: float = 0.02, spin_after: float = 0.0, fail: str = "-"
) -> list[str]:
    return [sys.executable, "-c", CHILD, name, str(samples), str(busy), str(spin_after), str(log), fail]


def env() -> dict[str, str]:
    out = dict(os.environ)
    out["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), out.get("PYTHONPATH", "")]))
    return out


def entries(log: Path) -> list[list]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_children_take_turns_round_robin_and_never_overlap(tmp_path: Path) -> None:
    log = tmp_path / "log"
    done = []
    results = run_in_turns(
        [child("a", log), child("b", log), child("c", log)],
        env(),
        ROOT,
        timeout=60,
        on_finished=lambda i, r: done.append(i),
    )
    assert [r.returncode for r in results] == [0, 0, 0]
    assert [json.loads(r.stdout)["name"] for r in results] == ["a", "b", "c"]
    samples = [e for e in entries(log) if e[1] == "sample"]
    assert [e[0] for e in samples] == list("abc" * 3)  # round robin, in the commands' order
    for before, after in itertools.pairwise(samples):
        assert after[2] >= before[3]  # each sample starts after the one before it ended
    assert sorted(done) == [0, 1, 2]


def test_next_child_waits_for_the_parked_ones_spinning_thread(tmp_path: Path) -> None:
    log = tmp_path / "log"
    run_in_turns([child("a", log, samples=2, spin_after=0.15), child("b", log, samples=2)], env(), ROOT, 60)
    spins = [e for e in entries(log) if e[1] == "spin"]
    b_samples = [e for e in entries(log) if e[0] == "b" and e[1] == "sample"]
    assert len(spins) == 2 and len(b_samples) == 2
    # a's helper thread spun 0.15 s after its sample; b's sample started only once it had stopped
    for spin, b in zip(spins, b_samples, strict=True):
        assert b[2] >= spin[3]


def test_a_child_failing_at_start_or_hanging_in_a_turn_ends_alone(tmp_path: Path) -> None:
    log = tmp_path / "log"
    start = time.perf_counter()
    results = run_in_turns(
        [child("a", log, fail="setup"), child("b", log), child("c", log, fail="hang")], env(), ROOT, timeout=2
    )
    assert time.perf_counter() - start < 20  # the hanging child was killed after its 2 s turn
    assert results[0].returncode == 3 and not results[0].timed_out
    assert results[1].returncode == 0 and json.loads(results[1].stdout) == {"name": "b"}
    assert results[2].timed_out and results[2].returncode != 0
    assert [e[0] for e in entries(log)] == ["b"] * 3


def test_wait_until_idle_returns_at_once_for_a_sleeping_process_and_caps_a_busy_one() -> None:
    import subprocess

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)  # both past their start-up
        assert wait_until_idle(sleeper.pid) < 0.1
        assert 0.3 <= wait_until_idle(spinner.pid, cap=0.3) < 0.5
    finally:
        for proc in (sleeper, spinner):
            proc.kill()
            proc.wait()


def test_a_child_whose_own_child_holds_the_pipe_still_ends_when_it_exits(tmp_path: Path) -> None:
    log = tmp_path / "log"
    start = time.perf_counter()
    results = run_in_turns([child("a", log, fail="fork"), child("b", log)], env(), ROOT, timeout=30)
    assert time.perf_counter() - start < 4  # not the 5 s its own child lives, nor the 30 s timeout
    assert [(r.returncode, r.timed_out) for r in results] == [(0, False), (0, False)]
    assert json.loads(results[0].stdout) == {"name": "a"}
