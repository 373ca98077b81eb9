"""Profile numnet's tiny-network step and MNIST epoch with cProfile; write ``benchmarks/PROFILE.md``.

    python -m benchmarks.profile_numnet [--quick] [--threads 2] [--top 25] [--output benchmarks/PROFILE.md]

Three profiles, each of the same code the benchmark's numnet rows run (``numnet_impl.build_model``, the public
API): the XOR 2-3-1 step (batch 4), the 1-128-1 curve-fit step through a ``DataLoader`` (batch 1), and one
MNIST epoch (784-256-128-10, batch 128; real MNIST, or synthetic data with ``--quick``). Each section gives
the un-profiled time (cProfile inflates call-heavy code), then the top functions by self time and by
cumulative time. Everything above the line ``<!-- generated below -->`` in an existing output file (the
hand-written analysis) is kept; everything below it is regenerated.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

MARKER = "<!-- generated below -->"
ROOT = Path(__file__).resolve().parent.parent


def _short(path: str) -> str:
    for anchor in ("site-packages/", "/src/", "/lib/python"):
        if anchor in path:
            return path.split(anchor, 1)[1]
    return path


def profile_table(stats: pstats.Stats, key: str, top: int) -> list[str]:
    """The ``top`` functions of ``stats`` sorted by ``key`` ('tottime' or 'cumtime') as a markdown table."""
    rows = []
    for (filename, line, name), (cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((filename, line, name, cc, nc, tt, ct))
    index = 5 if key == "tottime" else 6
    rows.sort(key=lambda r: r[index], reverse=True)
    total = stats.total_tt  # type: ignore[attr-defined]
    out = [
        "| function | calls | self s | self % | cum s | cum % | µs/call (self) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for filename, line, name, _cc, nc, tt, ct in rows[:top]:
        where = name if filename == "~" else f"{name} ({_short(filename)}:{line})"
        out.append(
            f"| `{where}` | {nc} | {tt:.3f} | {100 * tt / total:.1f} | {ct:.3f} | "
            f"{100 * ct / total:.1f} | {1e6 * tt / max(nc, 1):.2f} |"
        )
    return out


def by_file(stats: pstats.Stats, top: int = 12) -> list[str]:
    """Self time summed per source file: which module the time goes to."""
    totals: dict[str, float] = {}
    for (filename, _line, name), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        key = f"(C) {name}" if filename == "~" else _short(filename)
        totals[key] = totals.get(key, 0.0) + tt
    total = stats.total_tt  # type: ignore[attr-defined]
    out = ["| file | self s | self % |", "|---|---:|---:|"]
    for key, tt in sorted(totals.items(), key=lambda kv: kv[1], reverse=True)[:top]:
        out.append(f"| `{key}` | {tt:.3f} | {100 * tt / total:.1f} |")
    return out


class GCTimer:
    """Counts the garbage collector's runs and the time they take (``gc.callbacks``) while active."""

    def __init__(self) -> None:
        self.collections = [0, 0, 0]
        self.seconds = 0.0
        self._start = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start
            self.collections[info["generation"]] += 1

    def __enter__(self) -> GCTimer:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


class OpTimer:
    """Times every ``numnet.ops`` Function's ``forward`` and ``backward`` (wrapped in this process only:
    numnet's source is untouched), and the phases of a training step as the loop reports them."""

    def __init__(self) -> None:
        from numnet import ops

        self.ops: dict[str, list[float]] = {}
        self.phases: dict[str, float] = {}
        self._originals: list[tuple[type, str, Any]] = []
        self._depth = [0]  # 1 while an op method runs
        self._classes = [getattr(ops, name) for name in ops.__all__]

    def _wrap(self, cls: type, method: str) -> None:
        original = cls.__dict__[method]
        key = f"{cls.__name__}.{method}"
        slot = self.ops.setdefault(key, [0.0, 0])
        clock = time.perf_counter

        depth = self._depth

        def timed(fn_self: Any, *args: Any, **kwargs: Any) -> Any:
            # Only the outermost call counts: a fused op calls its parts' methods (LinearReLU.forward calls
            # Linear.forward), whose time is already inside its own.
            if depth[0]:
                return original(fn_self, *args, **kwargs)
            depth[0] = 1
            start = clock()
            try:
                return original(fn_self, *args, **kwargs)
            finally:
                slot[0] += clock() - start
                slot[1] += 1
                depth[0] = 0

        self._originals.append((cls, method, original))
        setattr(cls, method, timed)

    def __enter__(self) -> OpTimer:
        for cls in self._classes:
            for method in ("forward", "backward"):
                if method in cls.__dict__:
                    self._wrap(cls, method)
        return self

    def __exit__(self, *exc: object) -> None:
        for cls, method, original in self._originals:
            setattr(cls, method, original)

    def phase(self, name: str, seconds: float) -> None:
        self.phases[name] = self.phases.get(name, 0.0) + seconds

    def table(self, steps: int, unit: str) -> list[str]:
        """Phases of the step (with the framework's share: the phase minus the ops inside it) and ops."""
        scale = 1e6 if unit == "µs" else 1e3
        unit_name = "µs/step" if unit == "µs" else "ms/epoch"
        per = steps if unit == "µs" else 1
        total = sum(self.phases.values())
        fwd_ops = sum(v[0] for k, v in self.ops.items() if k.endswith(".forward"))
        bwd_ops = sum(v[0] for k, v in self.ops.items() if k.endswith(".backward"))
        out = [f"| phase of the step | {unit_name} | % |", "|---|---:|---:|"]
        for name, seconds in self.phases.items():
            out.append(f"| {name} | {seconds * scale / per:.1f} | {100 * seconds / total:.1f} |")
            if name.startswith("forward"):
                out.append(
                    f"| ↳ inside op forwards (NumPy work + op code) | {fwd_ops * scale / per:.1f} | "
                    f"{100 * fwd_ops / total:.1f} |"
                )
                rest = seconds - fwd_ops
                out.append(
                    f"| ↳ outside them (modules, Function.apply, checks) | {rest * scale / per:.1f} | "
                    f"{100 * rest / total:.1f} |"
                )
            if name.startswith("backward"):
                rest = seconds - bwd_ops
                out.append(
                    f"| ↳ inside op backwards | {bwd_ops * scale / per:.1f} | {100 * bwd_ops / total:.1f} |"
                )
                out.append(
                    f"| ↳ outside them (engine: graph walk, accumulation) | "
                    f"{rest * scale / per:.1f} | {100 * rest / total:.1f} |"
                )
        out += ["", f"| op method | calls/step | {unit_name} | % of step |", "|---|---:|---:|---:|"]
        for key, (seconds, calls) in sorted(self.ops.items(), key=lambda kv: kv[1][0], reverse=True):
            if calls:
                out.append(
                    f"| `{key}` | {calls / steps:.3g} | {seconds * scale / per:.1f} | "
                    f"{100 * seconds / total:.1f} |"
                )
        return out


def instrumented(loop: Callable[[OpTimer], int], unit: str) -> list[str]:
    """Run ``loop(timer) -> steps`` under an :class:`OpTimer`: the per-phase and per-op tables."""
    with OpTimer() as timer:
        steps = loop(timer)
    return [
        "Where a step's time goes (instrumented run: a timer around every op's forward/backward, about "
        "0.3 µs each, and around each phase of the loop):",
        "",
        *timer.table(steps, unit),
        "",
    ]


def run_profile(name: str, work: Callable[[], Any], per: int, unit: str, top: int) -> list[str]:
    """Time ``work`` once without the profiler and once under cProfile; a markdown section."""
    with GCTimer() as gc_timer:
        start = time.perf_counter()
        work()
        plain = time.perf_counter() - start
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.runcall(work)
    profiled = time.perf_counter() - start
    stats = pstats.Stats(profiler, stream=io.StringIO())
    scale = 1e6 if unit == "µs" else 1.0
    lines = [
        f"### {name}",
        "",
        f"Un-profiled: {plain * scale / per:.4g} {unit} per {'step' if unit == 'µs' else 'epoch'} "
        f"({per} {'steps' if unit == 'µs' else 'epoch(s)'} in {plain:.3f} s); under cProfile "
        f"{profiled:.3f} s ({profiled / plain:.1f}× slower: the profiler's per-call cost inflates small "
        "calls).",
        "",
        f"Garbage collector during the un-profiled run: {sum(gc_timer.collections)} collections "
        f"(gen0/1/2 = {gc_timer.collections}), {gc_timer.seconds * 1e3:.1f} ms = "
        f"{100 * gc_timer.seconds / plain:.1f} % of the time.",
        "",
        "Self time by file:",
        "",
        *by_file(stats),
        "",
        "Top functions by self time:",
        "",
        *profile_table(stats, "tottime", top),
        "",
        "Top functions by cumulative time:",
        "",
        *profile_table(stats, "cumtime", top),
        "",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.profile_numnet", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="synthetic MNIST-shaped data, few steps")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "PROFILE.md"))
    args = parser.parse_args(argv)
    if "numpy" not in sys.modules:  # as in the benchmark's children: before NumPy loads its BLAS
        from benchmarks.workloads import THREAD_ENV_VARS

        for var in THREAD_ENV_VARS:
            os.environ[var] = str(args.threads)

    import tempfile

    import numpy as np

    import numnet
    from benchmarks.workloads import common
    from benchmarks.workloads.numnet_impl import build_model
    from numnet import data, nn, optim

    common.limit_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        paths = common.build_workloads(Path(tmp), quick=args.quick, names=("mnist", "xor", "fit"))
        specs = {name: common.load_workload(path) for name, path in paths.items()}
    clock = time.perf_counter

    def trainer(workload: str) -> tuple[Any, Any, Any, Any]:
        spec, arrays = specs[workload]
        model = build_model(spec, arrays)
        opt = optim.SGD(model.parameters(), lr=spec["lr"])
        if spec["loss"] == "cross_entropy":
            loss_fn: Any = nn.CrossEntropyLoss()
        elif spec["loss"] == "half_sse":  # the fit demo's ½·(z − y)²
            sse = nn.MSELoss(reduction="sum")

            def loss_fn(out: Any, target: Any) -> Any:
                return 0.5 * sse(out, target)
        else:
            loss_fn = nn.MSELoss()
        return spec, model, opt, loss_fn

    def timed_steps(batches: Any, model: Any, opt: Any, loss_fn: Any, timer: OpTimer) -> int:
        steps = 0
        iterator = iter(batches)
        while True:
            t0 = clock()
            try:
                xb, yb = next(iterator)
            except StopIteration:
                timer.phase("fetch the batch (DataLoader)", clock() - t0)
                return steps
            t1 = clock()
            loss = loss_fn(model(xb), yb)
            t2 = clock()
            opt.zero_grad()
            t3 = clock()
            loss.backward()
            t4 = clock()
            opt.step()
            t5 = clock()
            for name, seconds in (
                ("fetch the batch (DataLoader)", t1 - t0),
                ("forward + loss", t2 - t1),
                ("zero_grad", t3 - t2),
                ("backward", t4 - t3),
                ("optimizer step", t5 - t4),
            ):
                timer.phase(name, seconds)
            steps += 1

    sections: list[str] = []

    # XOR: the 2-3-1 ReLU step, batch 4 (no loader: the batch is the whole data set).
    spec, model, opt, loss_fn = trainer("xor")
    x, y = numnet.from_numpy(specs["xor"][1]["X"]), numnet.from_numpy(specs["xor"][1]["Y"])
    n_steps = 500 if args.quick else 5000

    def xor_steps() -> None:
        for _ in range(n_steps):
            out = model(x)
            loss = loss_fn(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()

    xor_steps()  # warm-up
    sections += run_profile(
        "XOR 2-3-1 ReLU, batch 4: forward + MSE + zero_grad + backward + SGD step",
        xor_steps,
        n_steps,
        "µs",
        args.top,
    )
    sections += instrumented(lambda t: timed_steps([(x, y)] * n_steps, model, opt, loss_fn, t), "µs")

    # Curve fit: the 1-128-1 sigmoid step through a DataLoader, batch 1.
    spec, model_fit, opt_fit, mse = trainer("fit")
    fit_x, fit_y = specs["fit"][1]["X"], specs["fit"][1]["Y"]
    loader = data.DataLoader(data.TensorDataset(fit_x, fit_y), batch_size=1, shuffle=True, seed=spec["seed"])

    def fit_epoch() -> None:
        for xb, yb in loader:
            loss = mse(model_fit(xb), yb)
            opt_fit.zero_grad()
            loss.backward()
            opt_fit.step()

    fit_epoch()
    sections += run_profile(
        "Curve fit 1-128-1 sigmoid, batch 1, through DataLoader (one epoch)",
        fit_epoch,
        len(fit_x),
        "µs",
        args.top,
    )
    sections += instrumented(lambda t: timed_steps(loader, model_fit, opt_fit, mse, t), "µs")

    # MNIST: one epoch, 784-256-128-10, batch 128.
    spec, model_m, opt_m, ce = trainer("mnist")
    x_train, y_train = specs["mnist"][1]["X_train"], specs["mnist"][1]["y_train"]
    mnist_loader = data.DataLoader(
        data.TensorDataset(x_train, y_train), batch_size=spec["batch_size"], shuffle=True, seed=spec["seed"]
    )

    def mnist_epoch() -> None:
        for xb, yb in mnist_loader:
            opt_m.zero_grad()
            loss = ce(model_m(xb), yb)
            loss.backward()
            opt_m.step()

    mnist_epoch()  # warm-up
    sections += run_profile(
        f"MNIST epoch ({len(x_train)} images, batch 128, 784-256-128-10)", mnist_epoch, 1, "s", args.top
    )
    sections += instrumented(lambda t: timed_steps(mnist_loader, model_m, opt_m, ce, t), "s")

    from importlib import metadata

    command = "python -m benchmarks.profile_numnet" + (" --quick" if args.quick else "")
    command += f" --threads {args.threads}"
    header = [
        MARKER,
        "",
        "## Generated profiles",
        "",
        f"`{command}` — {time.strftime('%Y-%m-%d %H:%M')}, NumPy {np.__version__}, numnet "
        f"{metadata.version('numnet')}, load average {os.getloadavg()[0]:.2f}.",
        "",
    ]
    output = Path(args.output)
    previous = output.read_text() if output.exists() else ""
    if MARKER in previous:
        kept = previous.split(MARKER, 1)[0]
    else:
        kept = "# numnet profile\n\n(Hand-written analysis goes above the marker.)\n\n"
    output.write_text(kept + "\n".join(header + sections))
    print(f"wrote {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
