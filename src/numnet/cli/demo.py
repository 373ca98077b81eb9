"""``numnet demo NAME [--out DIR] [--quick] [--SETTING VALUE …]``, ``numnet demo all``, ``demo --list``.

Each demo's flags are made from its ``Settings`` dataclass: a field ``iterations: int`` becomes
``--iterations N``, a bool field ``--field`` / ``--no-field``, a tuple field a list of values. The demo's
module is imported only when it runs, so ``numnet --help`` stays quick.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import types
import typing
from pathlib import Path
from typing import Any

import numnet
from numnet import demos
from numnet.demos.common import DEFAULT_ROOT, fmt


def register(commands: Any) -> None:
    """Add the ``demo`` sub-command to ``numnet``'s sub-parsers."""
    listing = "\n".join(f"  {name:<12} {description}" for name, (_, description) in demos.DEMOS.items())
    parser = commands.add_parser(
        "demo",
        help="run a tutorial experiment (xor, fit, mnist, …) and write its pictures and summary",
        description="Run one of the tutorial experiments with the tutorial's settings, print numnet's key "
        "figures next to the published ones, and write pictures and summary.md to an output folder.",
        epilog=f"demos:\n{listing}\n  {'all':<12} every demo in turn, with an index summary.md\n\n"
        "Each demo's own flags: numnet demo NAME --help",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--list", action="store_true", help="list the demos and exit")
    parser.add_argument("name", nargs="?", metavar="NAME", help="the demo to run, or 'all'")
    parser.add_argument("options", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.set_defaults(run=run_command)


def run_command(args: argparse.Namespace) -> int:
    if args.list or args.name is None:
        print("numnet demos (run one with: numnet demo NAME; its flags: numnet demo NAME --help):")
        for name, (_, description) in demos.DEMOS.items():
            print(f"  {name:<12} {description}")
        print(f"  {'all':<12} every demo in turn (add --quick for a fast pass), with an index summary.md")
        return 0
    if args.name == "all":
        return run_all(_all_parser().parse_args(args.options))
    if args.name not in demos.DEMOS:
        raise ValueError(f"unknown demo {args.name!r}; the demos are: {', '.join(demos.DEMOS)} (or all)")
    module = demos.load(args.name)
    parser = demo_parser(args.name, module.Settings)
    given = vars(parser.parse_args(args.options))
    options = {k: tuple(v) if isinstance(v, list) else v for k, v in given.items()}  # nargs gives lists
    out, quick = options.pop("out"), options.pop("quick")
    _limit_threads(options.pop("threads"))
    settings = demos.settings(args.name, quick=quick, **options)
    module.run(settings, out)
    return 0


def demo_parser(name: str, settings_class: type) -> argparse.ArgumentParser:
    """The flags of demo ``name``: ``--out``, ``--quick`` and one per field of its ``Settings``."""
    parser = argparse.ArgumentParser(
        prog=f"numnet demo {name}",
        description=demos.describe(name) + ". Defaults are the tutorial's settings.",
        argument_default=argparse.SUPPRESS,  # only the flags given override the settings
    )
    parser.add_argument(
        "--out", default=None, metavar="DIR", help=f"output folder (default: {DEFAULT_ROOT / name})"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        default=False,
        help="smaller settings for a fast run (explicit flags still win)",
    )
    _threads_flag(parser)
    hints = typing.get_type_hints(settings_class)
    for f in dataclasses.fields(settings_class):
        flag = "--" + f.name.replace("_", "-")
        help_text = f"{f.metadata.get('help', '')} (default: {fmt(f.default)})"
        kind = hints[f.name]
        origin = typing.get_origin(kind)
        if kind is bool:
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, help=help_text)
        elif origin is tuple:
            item = typing.get_args(kind)[0]
            parser.add_argument(
                flag, dest=f.name, nargs="+", type=item, metavar=item.__name__.upper(), help=help_text
            )
        elif origin in (typing.Union, types.UnionType):  # e.g. int | None
            item = next(a for a in typing.get_args(kind) if a is not type(None))
            parser.add_argument(
                flag,
                dest=f.name,
                type=_optional(item),
                metavar=item.__name__.upper(),
                help=help_text + "; 'none' for no value",
            )
        else:
            parser.add_argument(flag, dest=f.name, type=kind, metavar=kind.__name__.upper(), help=help_text)
    return parser


def _threads_flag(parser: argparse.ArgumentParser) -> None:
    # The demos multiply small matrices (a batch of 100 by 784×50): one BLAS thread is fastest, and several
    # can be ten times slower when another process keeps a core busy (OpenBLAS's threads wait on each other).
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        metavar="N",
        help="BLAS threads (default 1, the fastest for the demos' small matrices; 0: NumPy's choice)",
    )


def _limit_threads(n: int) -> None:
    if n <= 0:
        return
    try:
        numnet.set_num_threads(n)
    except ImportError:  # threadpoolctl is an optional extra
        print(
            "numnet demo: threadpoolctl is not installed, so the BLAS threads are NumPy's choice "
            "(pip install threadpoolctl)",
            file=sys.stderr,
        )


def _optional(kind: type) -> Any:
    def convert(text: str) -> Any:
        return None if text.lower() == "none" else kind(text)

    convert.__name__ = kind.__name__
    return convert


def _all_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="numnet demo all", description="Run every demo in turn.")
    parser.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help=f"root folder; each demo writes to DIR/NAME (default: {DEFAULT_ROOT})",
    )
    parser.add_argument("--quick", action="store_true", help="each demo with its smaller QUICK settings")
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", choices=list(demos.DEMOS), help="run only these demos"
    )
    _threads_flag(parser)
    return parser


def run_all(args: argparse.Namespace) -> int:
    """Run the demos one after another into ``root/NAME`` and write ``root/summary.md``, an index."""
    _limit_threads(args.threads)
    root = Path(args.out) if args.out is not None else DEFAULT_ROOT
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    failed = []
    for name in args.only or demos.names():
        start = time.perf_counter()
        try:
            figures = demos.run_demo(name, out=root / name, quick=args.quick)
        except Exception as exc:  # one broken demo must not hide the others' results
            failed.append(name)
            print(f"numnet demo {name}: FAILED: {type(exc).__name__}: {exc}")
            seconds = f"{time.perf_counter() - start:.1f}"
            rows.append((name, "FAILED", seconds, f"{type(exc).__name__}: {exc}"))
            continue
        headline = figures.get("headline", "")
        rows.append((name, f"[summary]({name}/summary.md)", f"{time.perf_counter() - start:.1f}", headline))
        print()
    lines = [
        "# numnet demos" + (" (quick settings)" if args.quick else ""),
        "",
        "Each tutorial experiment, run by `numnet demo all`"
        + (" --quick" if args.quick else "")
        + ". Every demo's folder holds its pictures and a summary comparing numnet with the tutorial.",
        "",
        "| demo | summary | seconds | headline |",
        "|---|---|---|---|",
    ]
    lines += [f"| `{name}` | {link} | {seconds} | {headline} |" for name, link, seconds, headline in rows]
    index = root / "summary.md"
    index.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"numnet demo all: {len(rows) - len(failed)} of {len(rows)} demos ran; index {index}")
    if failed:
        print(f"  failed: {', '.join(failed)}")
        return 1
    return 0
