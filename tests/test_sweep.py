"""numnet sweep: grid parsing, parallel runs (processes and a Dask LocalCluster) and the tables."""

import csv

import pytest

from numnet.cli import main
from numnet.sweep import parse_grid, run_grid

BASE = {
    "dataset": "xor",
    "hidden": "4",
    "activation": "tanh",
    "init": "xavier",
    "epochs": 60,
    "batch_size": 4,
    "progress": False,
    "quiet": True,
}


def test_parse_grid_makes_the_product():
    rows = parse_grid(["lr=0.1,0.5", "hidden=8,16-8", "batchnorm=true"])
    assert rows == [
        {"lr": 0.1, "hidden": "8", "batchnorm": True},
        {"lr": 0.1, "hidden": "16,8", "batchnorm": True},
        {"lr": 0.5, "hidden": "8", "batchnorm": True},
        {"lr": 0.5, "hidden": "16,8", "batchnorm": True},
    ]
    with pytest.raises(ValueError, match="NAME=V1,V2"):
        parse_grid(["lr"])
    with pytest.raises(ValueError, match="twice"):
        parse_grid(["lr=1", "lr=2"])


def test_processes_give_the_same_results_as_one_process(tmp_path):
    rows = [{**BASE, "lr": lr} for lr in (0.1, 0.5)]
    serial = run_grid("train", rows, tmp_path / "a", jobs=1, backend="sequential")
    parallel = run_grid("train", rows, tmp_path / "b", jobs=2, backend="loky")
    assert [r["results"] for r in serial] == [r["results"] for r in parallel]
    assert serial[0]["results"] != serial[1]["results"]


def test_dask_local_cluster_gives_the_same_results(tmp_path):
    pytest.importorskip("dask.distributed")
    rows = [{**BASE, "lr": lr} for lr in (0.1, 0.5)]
    local = run_grid("train", rows, tmp_path / "a", jobs=1, backend="sequential")
    on_dask = run_grid("train", rows, tmp_path / "b", jobs=2, backend="dask")  # a LocalCluster on loopback
    assert [r["results"] for r in local] == [r["results"] for r in on_dask]


def test_sweep_command_writes_markdown_and_csv(tmp_path, capsys):
    out = tmp_path / "sweep"
    code = main(
        [
            "sweep",
            "--dataset",
            "xor",
            "--hidden",
            "4",
            "--activation",
            "tanh",
            "--init",
            "xavier",
            "--epochs",
            "40",
            "--batch-size",
            "4",
            "--grid",
            "lr=0.1,0.3",
            "--jobs",
            "1",
            "--backend",
            "sequential",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    with (out / "sweep.csv").open() as handle:
        table = list(csv.DictReader(handle))
    assert [row["lr"] for row in table] == ["0.1", "0.3"]
    assert {"loss", "accuracy", "seconds", "picture"} <= set(table[0])
    markdown = (out / "sweep.md").read_text()
    assert "| row |" in markdown and "![row 0](row-00/loss.png)" in markdown
    assert (out / "row-00" / "loss.png").is_file()


def test_sweep_errors_are_one_line(tmp_path, capsys):
    assert main(["sweep", "--out", str(tmp_path)]) == 2
    assert "give at least one --grid" in capsys.readouterr().err
    assert main(["sweep", "--grid", "learning=0.1", "--out", str(tmp_path)]) == 2
    assert "unknown setting(s) learning" in capsys.readouterr().err


def test_fit_table_preset_is_the_tutorials_ten_rows_and_runs(tmp_path):
    from numnet.sweep import PRESETS

    kind, rows = PRESETS["fit-table"]
    assert kind == "fit" and len(rows) == 10
    assert rows[0] == {"neurons": 128, "samples": 1000, "epochs": 1000, "lr": 0.1, "tutorial_score": 5}
    small = [{**row, "samples": 20, "epochs": 2, "test_points": 10} for row in rows[:2]]
    results = run_grid("fit", small, tmp_path, jobs=1, backend="sequential")
    assert [r["settings"]["neurons"] for r in results] == [128, 64]
    assert all(r["results"]["test_mse"] > 0 and r["picture"] == "fit.png" for r in results)
    assert (tmp_path / "row-01" / "fit.png").is_file()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_failing_row_is_reported_and_the_others_still_make_the_table(tmp_path):
    from numnet.sweep import write_tables

    rows = [{**BASE, "lr": 0.1}, {**BASE, "dataset": "curve", "activation": "relu", "lr": 1e9, "epochs": 3}]
    results = run_grid("train", rows, tmp_path, jobs=1, backend="sequential")
    alone = run_grid("train", rows[:1], tmp_path / "alone", jobs=1, backend="sequential")
    assert "error" not in results[0]
    assert results[0]["results"] == alone[0]["results"]  # the failing row did not disturb it
    assert results[1]["results"] == {} and "training diverged" in results[1]["error"]
    md, csv_path = write_tables(results, tmp_path)
    assert "training diverged" in md.read_text()
    with csv_path.open() as handle:
        table = list(csv.DictReader(handle))
    assert table[0]["error"] == "" and "training diverged" in table[1]["error"]
