"""Layer 1: writing files so that a crash never leaves a half-written one (model files, checkpoints, data).

``atomic_write`` writes to a temporary file next to the target and renames it over the target: the file
on disk is always the old one or the complete new one. The temporary's name is ``.numnet-tmp.<target
name>.<pid>.<random>``, so a later save of the same file can recognise (and remove) the ones a killed
process left behind. ``create_unique_folder`` makes a run folder no other run shares.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

PathLike = str | os.PathLike

TEMP_PREFIX = ".numnet-tmp."
# Temporaries of the old naming scheme (".<name>.<12 hex>.tmp") this old are taken as left by a kill.
_OLD_TEMP_AGE_S = 600.0
# A file name may be 255 bytes; the target's name is cut to this many characters in the temporary's name.
_NAME_IN_TEMP = 120


def _temp_stem(base: str) -> str:
    return f"{TEMP_PREFIX}{base[:_NAME_IN_TEMP]}."


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's) or cannot tell: keep its file
    return True


def remove_stale_temporaries(directory: PathLike, base: str) -> list[str]:
    """Remove the temporaries of ``directory/base`` that earlier, killed writers left; returns their names.

    A temporary is stale when the process named in it no longer runs (or, for the old naming scheme, when
    it is older than ten minutes). Live writers' temporaries are never touched."""
    removed = []
    stem = _temp_stem(base)
    old_prefix, now = f".{base}.", time.time()
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        path = os.path.join(os.fspath(directory), name)
        stale = False
        if name.startswith(stem):
            pid_text = name[len(stem) :].split(".", 1)[0]
            stale = pid_text.isdigit() and not _pid_alive(int(pid_text))
        elif name.startswith(old_prefix) and name.endswith(".tmp"):
            token = name[len(old_prefix) : -len(".tmp")]
            if len(token) == 12 and all(c in "0123456789abcdef" for c in token):
                with contextlib.suppress(OSError):
                    stale = now - os.lstat(path).st_mtime > _OLD_TEMP_AGE_S
        if stale:
            with contextlib.suppress(OSError):
                if stat.S_ISREG(os.lstat(path).st_mode):
                    os.unlink(path)
                    removed.append(name)
    return removed


def _create_temp(directory: str, base: str, mode: int) -> tuple[int, str]:
    """Create a new, empty temporary file next to the target, with ``mode`` (less the umask)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        tmp = os.path.join(directory, f"{_temp_stem(base)}{os.getpid()}.{secrets.token_hex(6)}")
        try:
            return os.open(tmp, flags, mode), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file in {directory}")  # pragma: no cover


def _fsync_directory(directory: str) -> None:
    """Make the rename durable (POSIX); a no-op where directories cannot be opened."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _existing_mode(target: str) -> int | None:
    """The permission bits of the regular file at ``target`` (a symlink there is not followed), else None."""
    try:
        info = os.lstat(target)
    except OSError:
        return None
    return stat.S_IMODE(info.st_mode) if stat.S_ISREG(info.st_mode) else None


@contextlib.contextmanager
def atomic_write(path: PathLike) -> Iterator[BinaryIO]:
    """Write ``path`` all at once: yields a temporary file in the same folder, which is flushed, synced and
    renamed onto ``path`` when the block ends without error. The folder must exist.

    On any error (or Ctrl-C, or a signal turned into an exception) the temporary file is removed and
    ``path`` is left exactly as it was, so the file on disk is always either the old one or the complete
    new one. An existing file keeps its permissions (a 0600 file stays 0600); a new one gets 0666 less the
    umask. A symlink at ``path`` is replaced by the new file, never written through. Temporaries of
    ``path`` left by killed writers are removed first.
    """
    target = os.fspath(path)
    if os.path.isdir(target) and not os.path.islink(target):
        raise IsADirectoryError(f"{target} is a folder; cannot write a file over it")
    directory = os.path.dirname(os.path.abspath(target))
    base = os.path.basename(target)
    remove_stale_temporaries(directory, base)
    mode = _existing_mode(target)
    fd, tmp = _create_temp(directory, base, 0o666)
    try:
        if mode is not None:
            os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)  # rename replaces a symlink itself, not the file it points to
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def atomic_write_text(path: PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` with ``atomic_write``; returns the path."""
    with atomic_write(path) as handle:
        handle.write(text.encode(encoding))
    return Path(path)


def create_unique_folder(path: PathLike, attempts: int = 1000) -> Path:
    """Create the folder ``path`` (its parents as needed) and return it; if it exists already, create
    ``path-2``, ``path-3``, … instead. ``os.mkdir`` either creates a folder or fails, so two processes
    started in the same second never get the same one."""
    base = Path(path)
    base.parent.mkdir(parents=True, exist_ok=True)
    for number in range(1, attempts + 1):
        candidate = base if number == 1 else base.with_name(f"{base.name}-{number}")
        try:
            os.mkdir(candidate)
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"{base} and {attempts - 1} numbered variants exist; choose another folder")


def claim_output_folder(
    out: PathLike | None, name: str, held_by: Sequence[str], what: str, reuse: bool = False
) -> Path:
    """The folder a new run or sweep writes into.

    ``out=None``: a new ``runs/<name>-<time>`` that no other process shares (see ``create_unique_folder``).
    Otherwise ``out``, created if needed, refused (``ValueError``) when it is a file or already holds another
    ``what`` (any of the files ``held_by``) — unless ``reuse`` (a run resuming from its own checkpoint).
    """
    if out is None or out == "":
        return create_unique_folder(Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}")
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--out {folder} is a file, not a folder")
    held = [] if reuse else [file for file in held_by if (folder / file).exists()]
    if held:
        raise ValueError(
            f"--out {folder} already holds {what} ({', '.join(held)}); choose a new folder (or leave --out "
            f"out for a fresh one under runs/), or remove it first"
        )
    folder.mkdir(parents=True, exist_ok=True)
    return folder
