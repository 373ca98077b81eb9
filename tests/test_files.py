"""numnet.files: atomic writes keep modes, replace symlinks, remove stale temporaries; unique folders."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from numnet.files import (
    TEMP_PREFIX,
    atomic_write,
    atomic_write_text,
    claim_output_folder,
    create_unique_folder,
)

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX modes, symlinks and pids")


def temporaries(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(TEMP_PREFIX))


def test_the_file_is_the_old_one_or_the_complete_new_one(tmp_path):
    target = tmp_path / "f.txt"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write(b"half of the new")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old" and temporaries(tmp_path) == []
    atomic_write_text(target, "new")
    assert target.read_text() == "new" and temporaries(tmp_path) == []


@posix_only
def test_an_existing_files_mode_is_kept(tmp_path):
    target = tmp_path / "secret.json"
    target.write_text("{}")
    os.chmod(target, 0o600)
    atomic_write_text(target, '{"a": 1}')
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600 and target.read_text() == '{"a": 1}'
    os.chmod(target, 0o640)
    atomic_write_text(target, "{}")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640


@posix_only
def test_a_new_file_gets_the_umask_default(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "new.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.txt").st_mode) == 0o644


@posix_only
def test_a_symlink_at_the_target_is_replaced_never_written_through(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    os.chmod(victim, 0o600)
    out = tmp_path / "out"
    out.mkdir()
    (out / "history.json").symlink_to(victim)
    atomic_write_text(out / "history.json", "[]")
    assert victim.read_text() == "precious" and stat.S_IMODE(os.stat(victim).st_mode) == 0o600
    assert not (out / "history.json").is_symlink() and (out / "history.json").read_text() == "[]"


@posix_only
def test_a_dangling_symlink_is_replaced_and_nothing_is_created_at_its_target(tmp_path):
    link = tmp_path / "summary.md"
    link.symlink_to(tmp_path / "elsewhere.md")
    atomic_write_text(link, "# hi")
    assert not (tmp_path / "elsewhere.md").exists() and link.read_text() == "# hi"


def test_a_folder_at_the_target_is_refused(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(IsADirectoryError, match="is a folder"):
        atomic_write_text(tmp_path / "d", "x")


def _dead_pid() -> int:
    process = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    return int(process.stdout)


@posix_only
def test_stale_temporaries_of_the_same_file_are_removed_live_ones_kept(tmp_path):
    dead = _dead_pid()
    stale = tmp_path / f"{TEMP_PREFIX}model.npz.{dead}.0123456789ab"
    live = tmp_path / f"{TEMP_PREFIX}model.npz.{os.getppid()}.ba9876543210"  # the parent runs
    other = tmp_path / f"{TEMP_PREFIX}history.json.{dead}.0123456789ab"  # another file's
    old_style = tmp_path / ".model.npz.0123456789ab.tmp"  # the earlier naming, from a kill long ago
    for path in (stale, live, other, old_style):
        path.write_bytes(b"x" * 1000)
    os.utime(old_style, (0, 0))
    atomic_write_text(tmp_path / "model.npz", "new")
    assert not stale.exists() and not old_style.exists()
    assert live.exists() and other.exists()
    assert (tmp_path / "model.npz").read_text() == "new"


@posix_only
def test_a_killed_writer_leaves_a_temporary_that_the_next_save_removes(tmp_path):
    target = tmp_path / "big.bin"
    code = (
        "import os, sys\n"
        "from numnet.files import atomic_write\n"
        "with atomic_write(sys.argv[1]) as handle:\n"
        "    handle.write(b'x' * 10000); handle.flush()\n"
        "    os.kill(os.getpid(), 9)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.run([sys.executable, "-c", code, str(target)], env=env, timeout=60)
    assert process.returncode == -9
    assert len(temporaries(tmp_path)) == 1 and not target.exists()
    atomic_write_text(target, "ok")
    assert temporaries(tmp_path) == [] and target.read_text() == "ok"


def test_long_names_still_make_a_temporary(tmp_path):
    name = "n" * 240
    atomic_write_text(tmp_path / name, "x")
    assert (tmp_path / name).read_text() == "x" and temporaries(tmp_path) == []


def test_unique_folders_get_a_suffix_instead_of_sharing(tmp_path):
    base = tmp_path / "runs" / "xor-20260101-000000"
    made = [create_unique_folder(base) for _ in range(3)]
    assert [p.name for p in made] == [base.name, f"{base.name}-2", f"{base.name}-3"]
    assert all(p.is_dir() for p in made)
    with pytest.raises(FileExistsError, match="choose another folder"):
        create_unique_folder(base, attempts=3)


@posix_only
def test_run_outputs_go_through_atomic_write(tmp_path, capsys):
    from numnet.cli import main
    from numnet.train import History

    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    history = History()
    history.record_epoch({"loss": 1.0})
    (tmp_path / "history.json").symlink_to(victim)
    history.save(tmp_path / "history.json")
    assert victim.read_text() == "precious" and not (tmp_path / "history.json").is_symlink()
    os.chmod(tmp_path / "history.json", 0o600)
    history.save(tmp_path / "history.json")
    assert stat.S_IMODE(os.stat(tmp_path / "history.json").st_mode) == 0o600

    out = tmp_path / "sweep"
    out.mkdir()
    (out / "sweep.md.bak").write_text("")  # not a sweep table: the folder may be used
    (out / "row-00").mkdir()
    argv = ["sweep", "--dataset", "xor", "--hidden", "3", "--epochs", "1", "--batch-size", "4"]
    argv += ["--grid", "lr=0.1", "--jobs", "1", "--backend", "sequential", "--out", str(out)]
    assert main(argv) == 0
    capsys.readouterr()
    assert temporaries(out) == [] and temporaries(out / "row-00") == []
    assert (out / "sweep.csv").is_file() and (out / "row-00" / "summary.json").is_file()


def test_claim_output_folder_refuses_a_folder_that_holds_another_run(tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert claim_output_folder(out, "run", ("model.npz",), "another run") == out and out.is_dir()
    (out / "model.npz").write_bytes(b"x")
    with pytest.raises(ValueError, match=r"already holds another run \(model.npz\)"):
        claim_output_folder(out, "run", ("model.npz",), "another run")
    assert claim_output_folder(out, "run", ("model.npz",), "another run", reuse=True) == out
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        claim_output_folder(tmp_path / "file", "run", (), "another run")
    monkeypatch.chdir(tmp_path)
    first = claim_output_folder(None, "xor", (), "another run")
    second = claim_output_folder(None, "xor", (), "another run")
    assert first != second and first.parent == second.parent == Path("runs")
