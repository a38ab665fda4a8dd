"""Small durable-file tools: fsync'd writes, a per-gemeente file lock, an append-only log.

Kept apart from the store so the crash-safety rules are in one short place: a file is written to
a temporary name, flushed and fsync'd, renamed, and its folder fsync'd; a lock is an ``fcntl``
lock on a file, released by the kernel when the process dies (also on SIGKILL).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from biostresstest.core.errors import StoreError

FAILPOINT_ENV = "BIOSTRESSTEST_FAILPOINT"
FAILPOINT_READY_ENV = "BIOSTRESSTEST_FAILPOINT_READY"


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in folder ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    """Flush a finished file's bytes to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json_durably(path: Path, document: Any) -> None:
    """Write ``document`` to ``path`` so that a crash leaves the old or the new file, whole."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(document, handle, ensure_ascii=False, indent=1, default=str)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def remove_durably(path: Path) -> None:
    """Delete a file and make the deletion durable."""
    path.unlink(missing_ok=True)
    fsync_dir(path.parent)


@contextlib.contextmanager
def exclusive_lock(path: Path, timeout: float, what: str) -> Iterator[None]:
    """Hold an exclusive ``fcntl`` lock on ``path``; wait at most ``timeout`` seconds for it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"{what} is busy with another import (waited {timeout:.0f} s)",
                        hint="try again when the running import has finished",
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def try_lock(path: Path) -> int | None:
    """The fd of a lock taken without waiting, or None when someone else holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def append_line(path: Path, entry: dict[str, Any]) -> None:
    """Append one JSON line to an append-only log and fsync it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry, ensure_ascii=False, sort_keys=True, default=str) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def failpoint(name: str) -> None:
    """Stop here, for a crash test, when ``BIOSTRESSTEST_FAILPOINT`` names this point.

    The process writes the file named by ``BIOSTRESSTEST_FAILPOINT_READY`` and sleeps, so a test
    can kill it with SIGKILL exactly at this point. Without the variable this does nothing.
    """
    if os.environ.get(FAILPOINT_ENV) != name:
        return
    ready = os.environ.get(FAILPOINT_READY_ENV)
    if ready:
        Path(ready).write_text(name, "utf-8")
    time.sleep(120)
