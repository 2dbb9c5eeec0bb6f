"""Atomic snapshot writes: temp file in the same folder, flush, fsync, rename, fsync of the folder.

A reader sees either the previous snapshot or the new one, never a mix. A write that fails (disk full, file
too large, permission) raises :class:`StateWriteError` and leaves the previous snapshot untouched.
"""

from __future__ import annotations

import errno
import os
import tempfile
import time
from pathlib import Path

from pydantic import BaseModel

# A temp file this old belongs to a writer that died before its rename (kill -9); a live writer holds its
# temp file for milliseconds, so one minute leaves a wide margin before it is cleaned up.
STALE_TEMP_SECS = 60.0


class StateWriteError(OSError):
    """A state file could not be written; the previous version is intact."""

    def __str__(self) -> str:  # the message alone, without OSError's "[Errno N]" prefix
        return self.strerror or super().__str__()


def write_fix(code: int | None) -> str:
    """What fixes a write that failed with errno `code`."""
    if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return "free some disk space"
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "fix the folder's permissions"
    return "fix what the error names"


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a directory; the rename is still atomic
    finally:
        os.close(fd)


def _temp_prefix(path: Path) -> str:
    return f".{path.name}."


def remove_stale_temp_files(path: Path, older_than: float = STALE_TEMP_SECS) -> int:
    """Delete temp files left by writers of `path` that died before their rename; return how many."""
    path = Path(path)
    prefix = _temp_prefix(path)
    cutoff = time.time() - older_than
    removed = 0
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return 0
    for entry in entries:
        if entry.name.startswith(prefix) and entry.name.endswith(".tmp"):
            try:
                if entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except OSError:
                pass
    return removed


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        reason = exc.strerror or str(exc)
        raise StateWriteError(
            exc.errno,
            f"could not write {path}: {reason}; the previous version of the file is intact "
            f"({write_fix(exc.errno)}, then resume)",
        ) from exc
    fsync_dir(path.parent)
    remove_stale_temp_files(path)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_model(path: Path, model: BaseModel) -> None:
    atomic_write_bytes(path, model.model_dump_json(indent=2).encode("utf-8") + b"\n")
