"""The ``numnet`` command line: ``numnet train | evaluate | predict | summary | demo | graph | sweep``.

Whatever goes wrong, the user sees one line, ``numnet <command>: error: …``, and an exit code: 2 for bad
input (flags, settings, data or model files), 1 for a run that diverged or an internal error, 130 for
Ctrl-C and 128 + N for signal N (SIGTERM 143, SIGHUP 129). ``numnet --debug …`` adds the traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

from numnet.cli import demo, graph, model_files, sweep, train
from numnet.cli.errors import CLIError, one_line

# Every sub-command, in the order ``numnet --help`` lists them: each module's ``register(commands)`` adds its
# parsers. A new command is a module in numnet/cli with a ``register`` function, added to this list.
COMMANDS = (train, model_files, demo, graph, sweep)

# Exceptions that mean the input was wrong (a flag, a setting, a data or model file): exit 2.
BAD_INPUT = (ValueError, OSError, ImportError)


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: raised in the main thread so that ``finally`` blocks (temporary files,
    worker pools) clean up as for Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="numnet", description="Neural networks from scratch in NumPy.")
    parser.add_argument("--version", action="version", version=f"numnet {_version()}")
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback of an error (also: NUMNET_DEBUG=1)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for module in COMMANDS:
        module.register(commands)
    return parser


def _version() -> str:
    from numnet import __version__

    return __version__


@contextlib.contextmanager
def _warnings_as_lines(prog: str) -> Iterator[None]:
    def show(message, category, filename, lineno, file=None, line=None):
        print(
            f"{prog}: warning: {one_line(message) if isinstance(message, Warning) else message}",
            file=sys.stderr,
        )

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


@contextlib.contextmanager
def _signals_as_exceptions() -> Iterator[None]:
    """SIGTERM and SIGHUP raise ``Terminated`` while the command runs (signals reach only the main thread).

    Python drops an exception that a signal handler raises while a finalizer runs (a ZipFile's ``__del__``
    just after a checkpoint is written, say) and hands it to ``sys.unraisablehook``, which would print it and
    let the command go on. Here that hook sends the signal again a moment later, once the finalizer is over,
    so every command stops, with its one line.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise Terminated(signum)

    def redeliver(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, Terminated):
            signum = unraisable.exc_value.signum
            threading.Timer(0.01, os.kill, (os.getpid(), signum)).start()
        else:
            hook(unraisable)

    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            previous[number] = signal.signal(number, handler)
    hook, sys.unraisablehook = sys.unraisablehook, redeliver
    try:
        yield
    finally:
        sys.unraisablehook = hook
        for number, old in previous.items():
            signal.signal(number, old)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    prog = f"numnet {args.command}"
    debug = args.debug or os.environ.get("NUMNET_DEBUG", "") not in ("", "0")
    from numnet.train import TrainingDiverged

    def report(message: str, code: int) -> int:
        if debug:
            traceback.print_exc()
        print(f"{prog}: {message}", file=sys.stderr)
        return code

    with _warnings_as_lines(prog):
        try:
            with _signals_as_exceptions():
                return int(args.run(args) or 0)
        except CLIError as exc:
            return report(f"error: {one_line(exc)}", exc.exit_code)
        except TrainingDiverged as exc:
            return report(f"error: {one_line(exc)}", 1)
        except MemoryError:
            return report("error: not enough memory for this input; use a smaller dataset or model", 2)
        except BAD_INPUT as exc:
            # Input problems found below the CLI (a dataset that cannot be found, a file that is not a
            # model, a setting of the wrong type): their messages already say what to do.
            return report(f"error: {one_line(exc)}", 2)
        except KeyboardInterrupt:
            return report("interrupted", 130)
        except Terminated as exc:
            return report(f"stopped by {exc}", 128 + exc.signum)
        except Exception as exc:  # a bug in numnet: still one line, with the way to see more
            hint = "" if debug else " (run numnet --debug … for the traceback)"
            return report(f"error: internal error: {type(exc).__name__}: {one_line(exc)}{hint}", 1)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
