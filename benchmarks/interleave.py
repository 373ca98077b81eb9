"""Interleaved timing: the children of one workload take turns, one timing sample at a time.

The machines this suite runs on are shared, and their speed drifts: the same pure-Python loop takes 210 ms
and then 350 ms a few seconds later, with no steal time reported. Rows run one after another let a slow
stretch fall on one row and miss its peer, so a ratio then measures the host, not the code. Here every
implementation of a workload is started, but only one of them runs at any moment, and they take turns
sample by sample (round robin): a slow stretch falls on neighbouring samples of every row alike, and what
a child times is still its own process alone on the machine.

The protocol, over two pipes per child (their descriptors in ``NUMNET_BENCH_TURN="READ,WRITE"``):

- a child owns the machine from its start (imports, data, warm-up) until it is about to time a sample;
- there :func:`take_turn` (``Clock.__enter__`` calls it) writes one byte, "my turn is over", and blocks until
  it reads one, "your turn"; then it times the sample;
- its exit ends its last turn (the parent reads end-of-file).

Before handing the turn on, the parent waits until every thread of the child that just parked is asleep:
NumPy's OpenBLAS threads spin for about 100 ms after a product, and would otherwise take a core from the
next child's sample.
"""

from __future__ import annotations

import os
import select
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

TURN_ENV = "NUMNET_BENCH_TURN"


def take_turn() -> None:
    """In a child: end this turn and wait for the next (a no-op when not run by :func:`run_in_turns`)."""
    fds = os.environ.get(TURN_ENV)
    if not fds:
        return
    read_fd, write_fd = (int(fd) for fd in fds.split(","))
    os.write(write_fd, b".")
    if os.read(read_fd, 1) != b".":  # the parent is gone: nobody will read this child's result
        raise SystemExit("benchmark parent went away")


@dataclass
class Finished:
    """What a child left behind: its exit status and output (``timed_out`` when a turn overran)."""

    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False


def _busy_threads(pid: int) -> int:
    """How many of ``pid``'s threads are running or runnable (state R in ``/proc``); 0 when unreadable."""
    busy = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for tid in tasks:
        try:
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        except OSError:
            continue
        # the state follows the parenthesised command name, which may itself contain spaces
        busy += stat[stat.rindex(")") + 2] == "R"
    return busy


def wait_until_idle(pid: int, cap: float = 0.5, poll: float = 0.002) -> float:
    """Wait until no thread of ``pid`` runs (two polls in a row), at most ``cap`` seconds; returns the
    seconds waited."""
    start = time.perf_counter()
    quiet = 0
    while quiet < 2 and time.perf_counter() - start < cap:
        time.sleep(poll)
        quiet = quiet + 1 if _busy_threads(pid) == 0 else 0
    return time.perf_counter() - start


class _Child:
    def __init__(self, command: Sequence[str], env: dict[str, str], cwd: Path) -> None:
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()
        self.out = tempfile.TemporaryFile()
        self.err = tempfile.TemporaryFile()
        env = dict(env, **{TURN_ENV: f"{to_child_r},{from_child_w}"})
        self.proc = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=self.out, stderr=self.err, pass_fds=(to_child_r, from_child_w)
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self.timed_out = False

    def turn(self, timeout: float) -> bool:
        """Let the child run until it parks again (True) or exits (False); kill it if that takes too long."""
        deadline = time.monotonic() + timeout
        while True:
            ready, _, _ = select.select([self.from_child], [], [], 0.1)
            if ready:
                return os.read(self.from_child, 1) == b"."
            if self.proc.poll() is not None:  # exited, though a process it forked may hold the pipe open
                return False
            if time.monotonic() > deadline:
                self.timed_out = True
                self.proc.kill()
                return False

    def resume(self) -> None:
        os.write(self.to_child, b".")

    def finish(self) -> Finished:
        if self.proc.poll() is None:
            self.proc.kill()
        returncode = self.proc.wait()
        for fd in (self.to_child, self.from_child):
            os.close(fd)
        texts = []
        for file in (self.out, self.err):
            file.seek(0)
            texts.append(file.read().decode("utf-8", "replace"))
            file.close()
        return Finished(returncode, texts[0], texts[1], self.timed_out)


def run_in_turns(
    commands: Sequence[Sequence[str]],
    env: dict[str, str],
    cwd: Path,
    timeout: float,
    on_finished: Callable[[int, Finished], None] | None = None,
) -> list[Finished]:
    """Run ``commands`` as children that take turns (see the module's docstring); their results in order.

    Each child is started only when the ones before it have parked, so start-ups never overlap a sample.
    ``timeout`` bounds every single turn: a child that overruns it is killed (``timed_out``). A child that
    fails ends its turns; the others go on. ``on_finished(index, result)`` is called as each one ends.
    """
    children: list[_Child] = []
    results: dict[int, Finished] = {}
    live: list[int] = []

    def end(i: int) -> None:
        results[i] = children[i].finish()
        if on_finished is not None:
            on_finished(i, results[i])

    try:
        for i, command in enumerate(commands):
            children.append(_Child(command, env, cwd))
            if children[i].turn(timeout):
                wait_until_idle(children[i].proc.pid)
                live.append(i)
            else:
                end(i)
        while live:
            for i in list(live):
                children[i].resume()
                if children[i].turn(timeout):
                    wait_until_idle(children[i].proc.pid)
                else:
                    live.remove(i)
                    end(i)
    finally:
        for i in range(len(children)):  # unwinding (an error, SIGTERM): leave no child behind
            if i not in results:
                end(i)
    return [results[i] for i in range(len(commands))]
