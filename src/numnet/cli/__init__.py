"""The ``numnet`` command line: ``numnet train | evaluate | predict | summary | demo | graph | sweep``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from numnet.cli import demo, graph, model_files, sweep, train
from numnet.cli.errors import CLIError

# Every sub-command, in the order ``numnet --help`` lists them: each module's ``register(commands)`` adds its
# parsers. A new command is a module in numnet/cli with a ``register`` function, added to this list.
COMMANDS = (train, model_files, demo, graph, sweep)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="numnet", description="Neural networks from scratch in NumPy.")
    parser.add_argument("--version", action="version", version=f"numnet {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for module in COMMANDS:
        module.register(commands)
    return parser


def _version() -> str:
    from numnet import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except CLIError as exc:
        print(f"numnet {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except (ValueError, OSError, ImportError) as exc:
        # Input problems found below the CLI (a dataset that cannot be found, a file that is not a model):
        # their messages already say what to do; one line, no traceback.
        print(f"numnet {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"numnet {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
