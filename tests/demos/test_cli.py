"""``numnet demo``: the listing, the flags made from each demo's settings, errors, and ``numnet demo all``."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from numnet import demos
from numnet.cli import main
from numnet.cli.demo import demo_parser
from numnet.demos.common import Report, fmt, setting

from .demo_helpers import check_outputs

NAMES = [
    "xor",
    "fit",
    "linear221",
    "gender",
    "mnist",
    "activations",
    "numgrad",
    "apples",
    "optimizers",
    "init",
    "batchnorm",
    "overfitting",
    "cnn",
]


def test_every_demo_is_registered():
    assert demos.names() == NAMES
    for name in NAMES:
        assert demos.load(name).NAME == name
        assert demos.describe(name)


@pytest.mark.parametrize("argv", [["demo", "--list"], ["demo"]])
def test_list(argv, capsys):
    assert main(argv) == 0
    printed = capsys.readouterr().out
    for name in [*NAMES, "all"]:
        assert f"  {name} " in printed


def test_unknown_demo_is_an_error(capsys):
    assert main(["demo", "nonsense"]) == 2
    assert "unknown demo 'nonsense'" in capsys.readouterr().err


def test_demo_help_lists_its_settings(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "xor", "--help"])
    assert exit_info.value.code == 0
    printed = capsys.readouterr().out
    for flag in (
        "--out",
        "--quick",
        "--iterations",
        "--lr",
        "--seed",
        "--tutorial-relu",
        "--no-tutorial-relu",
    ):
        assert flag in printed
    assert "(default: 10,000)" in printed  # the tutorial's setting is the default


@dataclass
class _Settings:
    count: int = setting(3, "a count")
    rate: float = setting(0.1, "a rate")
    name: str = setting("a", "a name")
    flag: bool = setting(True, "a switch")
    sizes: tuple[int, ...] = setting((1, 2), "some sizes")
    limit: int | None = setting(None, "an optional limit")


def test_flags_are_made_from_the_settings():
    parser = demo_parser("xor", _Settings)
    given = vars(
        parser.parse_args(
            [
                "--count",
                "5",
                "--rate",
                "2e-3",
                "--no-flag",
                "--sizes",
                "4",
                "5",
                "6",
                "--limit",
                "7",
                "--name",
                "b",
            ]
        )
    )
    assert given == {
        "out": None,
        "quick": False,
        "threads": 1,
        "count": 5,
        "rate": 0.002,
        "flag": False,
        "sizes": [4, 5, 6],
        "limit": 7,
        "name": "b",
    }
    assert vars(parser.parse_args(["--limit", "none"]))["limit"] is None
    assert vars(parser.parse_args([])) == {"out": None, "quick": False, "threads": 1}  # the rest: defaults
    with pytest.raises(SystemExit):
        parser.parse_args(["--count", "many"])


def test_settings_overrides_and_quick():
    assert demos.settings("fit").epochs == 1000
    assert demos.settings("fit", quick=True).epochs == demos.load("fit").QUICK["epochs"]
    assert demos.settings("fit", quick=True, epochs=7).epochs == 7  # an explicit flag wins over --quick
    with pytest.raises(TypeError):
        demos.settings("fit", nonsense=1)
    with pytest.raises(ValueError, match="unknown demo"):
        demos.run_demo("nonsense")


def test_demo_all_writes_an_index(tmp_path, capsys):
    # --threads 0: leave this test process's BLAS threads alone (the fixture sets them for the test only)
    argv = ["demo", "all", "--quick", "--only", "apples", "numgrad", "--out", str(tmp_path), "--threads", "0"]
    assert main(argv) == 0
    index = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "[summary](apples/summary.md)" in index and "[summary](numgrad/summary.md)" in index
    assert "price 220" in index  # each demo's headline
    check_outputs(tmp_path / "apples", pictures=2)
    check_outputs(tmp_path / "numgrad", pictures=1)
    assert "2 of 2 demos ran" in capsys.readouterr().out


def test_default_output_folder_is_named_after_the_demo(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "apples", "--threads", "0"]) == 0
    assert (tmp_path / "numnet-demos" / "apples" / "summary.md").is_file()
    assert "writing to numnet-demos/apples/" in capsys.readouterr().out


def test_report_table_and_summary(tmp_path, capsys):
    report = Report("example", "an example", tmp_path, _Settings(), intro="What it shows.")
    report.compare("exact", 0.1 + 0.2, 0.3, exact=True)
    report.compare("rounded", 2 / 3, "≈ 0.67")
    report.compare("array", [1.0, 0.5], [1, 0.5])
    report.differs("numnet does it right.")
    with report.timer("work"):
        pass
    path = report.finish()
    printed = capsys.readouterr().out
    assert "0.30000000000000004" in printed and "0.666667" in printed and "[1, 0.5]" in printed
    summary = path.read_text(encoding="utf-8")
    assert "| exact | 0.30000000000000004 | 0.3 |" in summary
    assert "| `sizes` | [1, 2] | some sizes |" in summary
    assert "- numnet does it right." in summary and "| work |" in summary


def test_fmt():
    assert fmt(True) == "yes" and fmt(12345) == "12,345" and fmt(7) == "7"
    assert fmt(float("nan")) == "nan" and fmt(1 / 3) == "0.333333" and fmt(1 / 3, exact=True) == repr(1 / 3)
    assert fmt(None) == "" and fmt("text") == "text"
