"""What every demo shares: its output folder, its ``Report`` (numnet vs tutorial), timing and data.

A demo builds a ``Report``, feeds it as it goes, and finishes with ``report.finish()``::

    report = Report("xor", "XOR with a 2-3-1 ReLU net", out, settings)
    report.compare("stopped at iteration", 1234, 3315)          # one row of the numnet-vs-tutorial table
    report.differs("the tutorial's ReLU backward multiplies by X; numnet multiplies by 1")
    report.figure(fig, "loss.png", "loss per iteration")         # saved now, linked in summary.md
    with report.timer("training"):
        ...
    report.finish()                                              # prints the table, writes summary.md

Numbers are printed with 6 significant digits unless a row asks for ``exact=True`` (Python's shortest
round-tripping repr: what the tutorials print for their deterministic results).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: Where a demo writes when no ``--out`` is given: ``numnet-demos/<name>/`` under the working directory.
DEFAULT_ROOT = Path("numnet-demos")
#: What a demo that draws a computational graph says, once, when Graphviz is not installed.
GRAPHVIZ_HINT = (
    "Graphviz's dot program is not installed, so the graph was drawn with numnet's own layered layout "
    "(matplotlib). For Graphviz's rendering install Graphviz (apt-get install graphviz, brew install "
    "graphviz or conda install graphviz) and run the demo again."
)
#: Files the summary shows as pictures (others are linked).
IMAGE_SUFFIXES = (".png", ".svg")


def setting(default: Any, help: str, cosmetic: bool = False) -> Any:
    """A ``Settings`` field with its command-line help (``numnet demo NAME --help`` shows it).

    ``cosmetic``: changing it changes what is printed or drawn, not the results (``print_every``), so a run
    that changes it is still comparable with the tutorial's published figures."""
    return field(default=default, metadata={"help": help, "cosmetic": cosmetic})


def changed_settings(settings: Any) -> list[tuple[str, Any, Any]]:
    """``(name, value, default)`` of every non-cosmetic setting that differs from the demo's default (the
    tutorial's setting): a run with any is not comparable with the published figures."""
    if settings is None or not dataclasses.is_dataclass(settings):
        return []
    changed = []
    for f in dataclasses.fields(settings):
        default = f.default if f.default is not dataclasses.MISSING else None
        value = getattr(settings, f.name)
        if not f.metadata.get("cosmetic") and value != default:
            changed.append((f.name, value, default))
    return changed


def output_folder(name: str, out: str | Path | None = None) -> Path:
    """The demo's output folder (``out``, or ``numnet-demos/<name>``), created if needed."""
    folder = Path(out) if out is not None else DEFAULT_ROOT / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# ---------------------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------------------


def fmt(value: Any, exact: bool = False, digits: int = 6) -> str:
    """Text for a table cell: exact floats as Python's repr, others with ``digits`` significant digits."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}" if abs(int(value)) >= 10_000 else str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if exact or not math.isfinite(value):
            return repr(value)
        return f"{value:.{digits}g}"
    array = np.asarray(value)
    if array.dtype.kind in "fiu" and array.ndim == 1:
        return "[" + ", ".join(fmt(v.item(), exact, digits) for v in array) + "]"
    return str(value)


@dataclass
class Row:
    quantity: str
    numnet: str
    tutorial: str


def _table(rows: list[Row]) -> list[str]:
    """A plain-text table with aligned columns."""
    header = Row("quantity", "numnet", "tutorial")
    widths = [max(len(getattr(r, c)) for r in [header, *rows]) for c in ("quantity", "numnet", "tutorial")]
    lines = []
    for i, row in enumerate([header, *rows]):
        cells = [row.quantity.ljust(widths[0]), row.numnet.rjust(widths[1]), row.tutorial.rjust(widths[2])]
        lines.append("  " + "   ".join(cells).rstrip())
        if i == 0:
            lines.append("  " + "   ".join("-" * w for w in widths))
    return lines


def _markdown_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


# ---------------------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------------------


class Report:
    """Collects a demo's figures, differences, notes, pictures and timings; prints them and writes
    ``summary.md``.

    Args:
        name: the demo's name (``xor``).
        title: one line saying what the demo shows.
        out: the output folder (created by ``output_folder``).
        settings: the ``Settings`` the demo ran with (listed in the summary).
        intro: the text opening the summary (the demo module's docstring after its title line).
    """

    def __init__(self, name: str, title: str, out: Path, settings: Any = None, intro: str = "") -> None:
        self.name, self.title, self.out = name, title, Path(out)
        self.settings = settings
        self.intro = intro.strip()
        self.rows: list[Row] = []
        self.differences: list[str] = []
        self.sections: list[tuple[str, str]] = []
        self.pictures: list[tuple[str, str]] = []  # (file name, caption)
        self.timings: dict[str, float] = {}
        self.notes: list[str] = []
        self._start = time.perf_counter()
        self.changed = changed_settings(settings)
        print(f"numnet demo {name}: {title}")
        print(f"  writing to {self.out}/")
        if self.changed:
            print("  " + self.not_comparable())

    @property
    def comparable(self) -> bool:
        """Whether the run used the demo's default (the tutorial's) settings for everything that matters."""
        return not self.changed

    def not_comparable(self) -> str:
        """The warning for a run whose settings differ from the tutorial's (``--quick`` or flags)."""
        listing = ", ".join(
            f"{name} {fmt(value)} (default {fmt(default)})" for name, value, default in self.changed
        )
        return (
            f"NOT COMPARABLE with the published numbers: settings changed from the defaults: {listing}. "
            "The 'tutorial' column still shows the published figures, for the tutorial's settings."
        )

    # --- content ---------------------------------------------------------------------------------------
    def compare(
        self, quantity: str, numnet: Any, tutorial: Any = "", exact: bool = False, digits: int = 6
    ) -> None:
        """One row of the numnet-vs-tutorial table (``tutorial`` empty where it published nothing)."""
        self.rows.append(Row(quantity, fmt(numnet, exact, digits), fmt(tutorial, exact, digits)))

    def differs(self, text: str) -> None:
        """Something numnet does differently from the tutorial's code, and why (printed and summarised)."""
        self.differences.append(text.strip())

    def section(self, heading: str, text: str) -> None:
        """A paragraph of explanation for ``summary.md``."""
        self.sections.append((heading, text.strip()))

    def figure(self, fig: Any, filename: str, caption: str) -> Path:
        """Save a matplotlib figure as ``out/filename`` (PNG) and link it in the summary."""
        from numnet.plot import save_figure

        path = save_figure(fig, self.out / filename)
        self.pictures.append((path.name, caption))
        return path

    def file(self, path: Path, caption: str) -> None:
        """Link a file the demo wrote itself (a rendered graph, a .dot file) in the summary."""
        self.pictures.append((Path(path).name, caption))

    @contextmanager
    def timer(self, label: str) -> Iterator[None]:
        """Time the block; the seconds are printed and go into the summary's timing table."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[label] = self.timings.get(label, 0.0) + time.perf_counter() - start

    def say(self, text: str = "") -> None:
        """Print a progress line (indented under the demo's header)."""
        print("  " + text if text else "")

    def note(self, text: str) -> None:
        """A remark printed now and listed in the summary's notes (e.g. how the graph was drawn)."""
        self.notes.append(text.strip())
        self.say(text.strip())

    # --- output ----------------------------------------------------------------------------------------
    def finish(self) -> Path:
        """Print the comparison table, the differences and the timings; write ``summary.md`` (its path is
        returned)."""
        total = time.perf_counter() - self._start
        self.timings.setdefault("total", total)
        print()
        if self.rows:
            print(f"  numnet vs tutorial ({self.name})")
            for line in _table(self.rows):
                print(line)
        if self.differences:
            print()
            print("  where numnet differs from the tutorial's code:")
            for text in self.differences:
                print(f"  - {text}")
        print()
        print("  time: " + ", ".join(f"{label} {seconds:.2f} s" for label, seconds in self.timings.items()))
        if self.changed:
            print("  " + self.not_comparable())
        # only files that exist are counted and linked
        self.pictures = [(name, caption) for name, caption in self.pictures if (self.out / name).is_file()]
        images = [name for name, _ in self.pictures if Path(name).suffix.lower() in IMAGE_SUFFIXES]
        others = len(self.pictures) - len(images)
        path = self.out / "summary.md"
        from numnet.files import atomic_write

        with atomic_write(path) as handle:
            handle.write(self.markdown().encode("utf-8"))
        extra = f", {others} other file(s)" if others else ""
        print(f"  wrote {len(images)} picture(s){extra} and {path}")
        return path

    def markdown(self) -> str:
        lines = [f"# numnet demo `{self.name}`: {self.title}", ""]
        if self.intro:
            lines += [self.intro, ""]
        if self.changed:
            lines += [f"**{self.not_comparable()}**", ""]
        if self.settings is not None and dataclasses.is_dataclass(self.settings):
            lines += ["## Settings", ""]
            rows = [
                (f"`{f.name}`", fmt(getattr(self.settings, f.name)), f.metadata.get("help", ""))
                for f in dataclasses.fields(self.settings)
            ]
            lines += [*_markdown_table(("setting", "value", "meaning"), rows), ""]
        if self.rows:
            lines += ["## numnet vs tutorial", ""]
            rows = [(r.quantity, r.numnet, r.tutorial) for r in self.rows]
            lines += [*_markdown_table(("quantity", "numnet", "tutorial"), rows), ""]
        if self.differences:
            lines += ["## Where numnet differs from the tutorial's code", ""]
            lines += [f"- {text}" for text in self.differences] + [""]
        for heading, text in self.sections:
            lines += [f"## {heading}", "", text, ""]
        if self.notes:
            lines += ["## Notes", ""] + [f"- {text}" for text in self.notes] + [""]
        if self.pictures:
            lines += ["## Pictures", ""]
            for filename, caption in self.pictures:
                if Path(filename).suffix.lower() in IMAGE_SUFFIXES:
                    lines += [f"![{caption}]({filename})", "", f"*{caption}* (`{filename}`)", ""]
                else:
                    lines += [f"- [{filename}]({filename}): {caption}", ""]
        if self.timings:
            lines += ["## Time", ""]
            lines += _markdown_table(("part", "seconds"), [(k, f"{v:.2f}") for k, v in self.timings.items()])
            lines += [""]
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------
# Data shared by the MNIST demos
# ---------------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=2)
def image_data(dataset: str = "mnist") -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``(X_train, y_train), (X_test, y_test)`` of an image data set, loaded once per process.

    ``"mnist"``: the 60,000 training images the book uses (numnet's train and validation splits joined)
    and the 10,000 test images. ``"digits"``: scikit-learn's 1,797 8×8 digits, 1,497 / 300 (for a machine
    without MNIST). The arrays are shared between calls: do not modify them.
    """
    from numnet import data

    if dataset == "mnist":
        splits = data.load_mnist(validation_size=0)
        return splits.train, splits.test
    if dataset == "digits":
        X, y = data.load_digits()
        return (X[:-300], y[:-300]), (X[-300:], y[-300:])
    raise ValueError(f"unknown dataset {dataset!r}: use 'mnist' or 'digits'")
