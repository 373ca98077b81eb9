"""The sweep's table, as Markdown and CSV."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any


def _columns(rows: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    setting_names: dict[str, None] = {}
    result_names: dict[str, None] = {}
    for row in rows:
        setting_names.update(dict.fromkeys(k for k in row["settings"] if k not in ("out", "threads")))
        result_names.update(dict.fromkeys(row["results"]))
    return list(setting_names), list(result_names)


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def write_tables(rows: list[dict[str, Any]], out: Path, title: str = "numnet sweep") -> tuple[Path, Path]:
    """Write ``sweep.md`` and ``sweep.csv`` into ``out``: one line per row, settings → results, time."""
    settings, results = _columns(rows)
    errors = any(row.get("error") for row in rows)
    header = ["row", *settings, *results, "seconds", "picture", *(["error"] if errors else [])]
    table = []
    for index, row in enumerate(rows):
        picture = f"{Path(row['out']).name}/{row['picture']}" if row.get("picture") else ""
        table.append(
            [
                index,
                *(row["settings"].get(k) for k in settings),
                *(row["results"].get(k) for k in results),
                row["seconds"],
                picture,
                *([row.get("error", "")] if errors else []),
            ]
        )
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "sweep.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(table)
    md = [f"# {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    picture_column = header.index("picture")
    for line in table:
        cells = [_format(v).replace("|", "/") for v in line]
        if cells[picture_column]:
            cells[picture_column] = f"![row {line[0]}]({cells[picture_column]})"
        md.append("| " + " | ".join(cells) + " |")
    md_path = out / "sweep.md"
    md_path.write_text("\n".join(md) + "\n")
    return md_path, csv_path
