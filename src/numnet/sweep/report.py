"""The sweep's table, as Markdown and CSV (rewritten as each row finishes: a stopped sweep keeps its rows)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from numnet.files import atomic_write_text

# Settings named ``tutorial_*`` are a published figure for the row (the fit tutorial's score by eye),
# shown after numnet's results, not as a setting.
PUBLISHED_PREFIX = "tutorial_"


def _columns(rows: list[dict[str, Any]]) -> tuple[list[str], list[str], list[str]]:
    setting_names: dict[str, None] = {}
    result_names: dict[str, None] = {}
    published: dict[str, None] = {}
    for row in rows:
        for key in row["settings"]:
            if key.startswith(PUBLISHED_PREFIX):
                published[key] = None
            elif key not in ("out", "threads"):
                setting_names[key] = None
        result_names.update(dict.fromkeys(row["results"]))
    return list(setting_names), list(result_names), list(published)


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def write_tables(rows: list[dict[str, Any]], out: Path, title: str = "numnet sweep") -> tuple[Path, Path]:
    """Write ``sweep.md`` and ``sweep.csv`` into ``out``: one line per row, settings → results, time.

    A row's number is its ``"index"`` (the position in the grid) when it has one, else its position in
    ``rows``; a row's ``tutorial_*`` settings (published figures) follow the results, one per row."""
    settings, results, published = _columns(rows)
    errors = any(row.get("error") for row in rows)
    header = [
        "row",
        *settings,
        *results,
        *(p.replace("_", " ") for p in published),
        "seconds",
        "picture",
        *(["error"] if errors else []),
    ]
    table = []
    for position, row in enumerate(rows):
        picture = f"{Path(row['out']).name}/{row['picture']}" if row.get("picture") else ""
        table.append(
            [
                row.get("index", position),
                *(row["settings"].get(k) for k in settings),
                *(row["results"].get(k) for k in results),
                *(row["settings"].get(k) for k in published),
                row["seconds"],
                picture,
                *([row.get("error", "")] if errors else []),
            ]
        )
    out.mkdir(parents=True, exist_ok=True)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(table)
    csv_path = atomic_write_text(out / "sweep.csv", text.getvalue())
    md = [f"# {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    picture_column = header.index("picture")
    for line in table:
        cells = [_format(v).replace("|", "/").replace("\n", " ") for v in line]
        if cells[picture_column]:
            cells[picture_column] = f"![row {line[0]}]({cells[picture_column]})"
        md.append("| " + " | ".join(cells) + " |")
    md_path = atomic_write_text(out / "sweep.md", "\n".join(md) + "\n")
    return md_path, csv_path
