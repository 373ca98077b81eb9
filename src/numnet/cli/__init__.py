"""The ``numnet`` command line: ``numnet train | evaluate | predict | summary | demo | graph | sweep``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from numnet.cli.errors import CLIError


def build_parser() -> argparse.ArgumentParser:
    from numnet.cli import model_files as models, train

    parser = argparse.ArgumentParser(prog="numnet", description="Neural networks from scratch in NumPy.")
    parser.add_argument("--version", action="version", version=f"numnet {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    p = commands.add_parser("train", help="train an MLP on a dataset and write model, history and pictures")
    train.add_arguments(p)
    p.set_defaults(run=train.run_train)

    p = commands.add_parser("evaluate", help="loss and metrics of a saved model on a dataset")
    models.add_evaluate_arguments(p)
    p.set_defaults(run=models.run_evaluate)

    p = commands.add_parser("predict", help="predictions of a saved model for inputs in a CSV/NPY file")
    models.add_predict_arguments(p)
    p.set_defaults(run=models.run_predict)

    p = commands.add_parser(
        "summary", help="layer table of a saved model: output shapes and parameter counts"
    )
    models.add_summary_arguments(p)
    p.set_defaults(run=models.run_summary)

    for extra in _extra_commands():
        extra(commands)
    return parser


def _extra_commands() -> list:
    """Sub-commands that live with their features (demos, graph drawing, sweeps), when present."""
    found = []
    for module_name in ("numnet.cli.demo", "numnet.cli.graph", "numnet.cli.sweep"):
        try:
            module = __import__(module_name, fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue
            raise
        found.append(module.register)
    return found


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
