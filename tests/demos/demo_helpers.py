"""Helpers of the demo tests: check what a demo wrote."""

from __future__ import annotations

import re
from pathlib import Path


def check_outputs(out: Path, pictures: int) -> str:
    """summary.md exists, links only files that exist, and shows at least ``pictures`` PNG pictures."""
    summary = (out / "summary.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)]+)\)", summary)
    for link in links:
        assert (out / link).is_file(), f"summary.md links {link}, which was not written"
    pngs = sorted({link for link in links if link.endswith(".png")})
    assert len(pngs) >= pictures, f"expected {pictures} PNG pictures in the summary, got {pngs}"
    for png in pngs:
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "## numnet vs tutorial" in summary
    return summary
