"""numnet sweep: grid parsing, parallel runs (processes and a Dask LocalCluster) and the tables."""

import csv
import os
import subprocess
import sys
import time

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


# --- running sweeps: workers, folders, progress, the table so far -------------------------------------------

TINY = ["--dataset", "xor", "--hidden", "3", "--epochs", "2", "--batch-size", "4"]


def _session_members(session: int) -> list[int]:
    """Processes (other than zombies) whose session is ``session``, read from /proc."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        state, sid = fields[0], int(fields[3])
        if sid == session and state != "Z":
            members.append(int(entry))
    return members


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads the process table from /proc")
def test_a_sweep_with_jobs_500_on_two_rows_leaves_no_workers(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    argv = [sys.executable, "-m", "numnet", "sweep", *TINY, "--grid", "lr=0.1,0.3", "--jobs", "500"]
    argv += ["--backend", "loky", "--out", str(tmp_path / "s")]
    # its own session: every process the command starts (loky workers, their helpers) inherits it
    with subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    ) as process:
        stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    assert "2 workers" in stdout and "--jobs 500 clamped" in stdout
    left = _session_members(process.pid)
    for _ in range(50):  # a worker that is exiting gets up to 5 s; none may stay
        if not left:
            break
        time.sleep(0.1)
        left = _session_members(process.pid)
    assert left == []
    with (tmp_path / "s" / "sweep.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == 2


def _worker_children() -> list[str]:
    """Command lines of this process's live loky workers (psutil when installed, else /proc)."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        children = psutil.Process().children(recursive=True)
        lines = []
        for child in children:
            try:
                if child.status() != psutil.STATUS_ZOMBIE:
                    lines.append(" ".join(child.cmdline()))
            except psutil.NoSuchProcess:
                continue
    else:
        lines = []
        for entry in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    cmdline = handle.read().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if int(fields[1]) == os.getpid() and fields[0] != "Z":
                lines.append(cmdline)
    return [line for line in lines if "LokyProcess" in line]


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads the process table")
def test_the_loky_pool_ends_with_the_grid(tmp_path):
    rows = [{**BASE, "lr": lr, "epochs": 2} for lr in (0.1, 0.3)]
    run_grid("train", rows, tmp_path, jobs=2, backend="loky")
    assert _worker_children() == []  # joblib would keep its pool of workers alive for reuse


def test_jobs_are_clamped_to_rows_and_cores():
    from numnet.sweep.runner import effective_jobs

    assert effective_jobs(500, 2) == min(2, os.cpu_count())
    assert effective_jobs(1, 10) == 1
    assert effective_jobs(100_000, 10**6) == os.cpu_count()


def test_each_row_is_written_as_it_finishes(tmp_path):
    from numnet.sweep import write_tables

    rows = [{**BASE, "lr": lr, "epochs": 2} for lr in (0.1, 0.2, 0.3)]
    seen = []

    def on_row(index, row):
        seen.append(index)
        write_tables([row], tmp_path / "t")  # what the command does with the rows so far
        if len(seen) == 2:
            raise KeyboardInterrupt  # Ctrl-C after the second row

    with pytest.raises(KeyboardInterrupt):
        run_grid("train", rows, tmp_path, jobs=1, backend="sequential", on_row=on_row)
    assert seen == [0, 1]
    with (tmp_path / "t" / "sweep.csv").open() as handle:
        assert [r["row"] for r in csv.DictReader(handle)] == ["1"]


def test_an_interrupted_sweep_keeps_its_table_so_far(tmp_path, capsys, monkeypatch):
    from numnet.sweep import runner

    real = runner.run_job
    calls = []

    def stop_on_third(kind, settings):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(kind, settings)

    monkeypatch.setattr(runner, "run_job", stop_on_third)
    out = tmp_path / "s"
    argv = ["sweep", *TINY, "--grid", "lr=0.1,0.2,0.3", "--jobs", "1", "--backend", "sequential"]
    code = main([*argv, "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 130
    assert "row 0 done" in captured.out and "1/3 rows" in captured.out and "2/3 rows" in captured.out
    assert "left" in captured.out  # the estimate of the time still needed
    with (out / "sweep.csv").open() as handle:
        assert [r["lr"] for r in csv.DictReader(handle)] == ["0.1", "0.2"]
    assert "the 2 finished rows are in" in captured.err


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_sweep_whose_rows_all_fail_exits_1(tmp_path, capsys):
    argv = ["sweep", "--dataset", "curve", "--samples", "40", "--activation", "relu", "--epochs", "3"]
    argv += ["--grid", "lr=1e9,1e10", "--jobs", "1", "--backend", "sequential", "--out", str(tmp_path / "s")]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 1 and "every row failed" in err and "training diverged" in err
    assert (tmp_path / "s" / "sweep.md").is_file()


def test_sweep_folders_are_unique_and_a_used_one_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["sweep", *TINY, "--grid", "lr=0.1", "--jobs", "1", "--backend", "sequential"]
    assert main(argv) == 0 and main(argv) == 0
    folders = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert len(folders) == 2 and folders[1] in (f"{folders[0]}-2", folders[1])
    capsys.readouterr()
    assert main([*argv, "--out", str(tmp_path / "runs" / folders[0])]) == 2
    assert "already holds a sweep" in capsys.readouterr().err


def test_a_bad_grid_value_is_refused_before_any_row_runs(tmp_path, capsys):
    code = main(["sweep", *TINY, "--grid", "lr=0.1,abc", "--out", str(tmp_path / "s")])
    assert code == 2 and "lr must be a number, got 'abc'" in capsys.readouterr().err
    assert not (tmp_path / "s" / "row-00").exists()


def test_the_fit_table_shows_each_rows_own_tutorial_score(tmp_path):
    from numnet.sweep import PRESETS, write_tables

    _, rows = PRESETS["fit-table"]
    assert [row["tutorial_score"] for row in rows] == [5, 3, 2.5, 0, 2, 5, 2.5, 5, 1, 2]
    small = [{**row, "samples": 20, "epochs": 1, "test_points": 10} for row in rows[:3]]
    results = run_grid("fit", small, tmp_path, jobs=1, backend="sequential")
    md, csv_path = write_tables(results, tmp_path, "fit-table")
    with csv_path.open() as handle:
        table = list(csv.DictReader(handle))
    assert [r["tutorial score"] for r in table] == ["5", "3", "2.5"]
    header = list(table[0])
    assert header.index("tutorial score") > header.index("test_mse")  # a published figure, after numnet's
    assert "5 / 5" not in md.read_text()
