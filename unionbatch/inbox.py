"""The inbox: which files are ready to process, and where each is archived once its results are written.

Lock files (~$x.xlsx, .~lock.x#), hidden and temporary files are left alone; a file whose size or time
changes while we look is still being copied and is left for the next run. Nothing is ever deleted:
processed files move to OUT/PERIOD/原件/, a file already processed (same bytes) to 原件/重复/.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .privacy import make_private

ARCHIVE_DIR = "原件"
REPEAT_DIR = "重复"
TEMPORARY_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp", "#")
RECENT_SECONDS = 2.0


class Busy(Exception):
    """Another run holds the lock."""


_HELD_LOCKS: set[int] = set()  # descriptors of the run locks this process holds


@contextmanager
def run_lock(out: Path) -> Iterator[None]:
    """One run at a time per output folder; the OS releases the lock if a run dies."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / ".lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise Busy(str(out / ".lock")) from error
        _HELD_LOCKS.add(handle.fileno())
        try:
            yield
        finally:
            _HELD_LOCKS.discard(handle.fileno())
            fcntl.flock(handle, fcntl.LOCK_UN)


def _let_go_of_locks_in_child() -> None:
    """A forked worker shares its parent's flock; were it to keep the descriptor, a run killed while its
    workers live would leave the lock held. The descriptor is pointed at /dev/null instead."""
    if _HELD_LOCKS:
        null = os.open(os.devnull, os.O_RDONLY)
        for descriptor in _HELD_LOCKS:
            os.dup2(null, descriptor)
        os.close(null)
        _HELD_LOCKS.clear()


os.register_at_fork(after_in_child=_let_go_of_locks_in_child)


def is_candidate(path: Path) -> bool:
    name = path.name
    return (
        path.is_file() and not name.startswith((".", "~$", ".~lock")) and not name.lower().endswith(TEMPORARY_SUFFIXES)
    )


def ready_files(inbox: Path, settle_seconds: float) -> tuple[list[Path], list[Path]]:
    """(ready, still arriving). Files touched in the last few seconds are watched for `settle_seconds`;
    one whose size or modification time changes meanwhile is still being copied."""
    candidates = sorted(path for path in inbox.iterdir() if is_candidate(path))
    first = {path: _signature(path) for path in candidates}
    now = time.time()
    recent = [path for path in candidates if now - first[path][1] < RECENT_SECONDS]
    if recent and settle_seconds > 0:
        time.sleep(settle_seconds)
    arriving = [path for path in recent if not path.exists() or _signature(path) != first[path]]
    return [path for path in candidates if path not in arriving and path.exists()], arriving


def _signature(path: Path) -> tuple[int, float]:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return (-1, 0.0)
    return (stat.st_size, stat.st_mtime)


def archive_name(folder: Path, name: str, taken: set[str]) -> Path:
    """A free name in `folder` for `name`: 名单.xlsx, then 名单(2).xlsx …"""
    stem, suffix = Path(name).stem, Path(name).suffix
    candidate, number = name, 1
    while candidate in taken or (folder / candidate).exists():
        number += 1
        candidate = f"{stem}({number}){suffix}"
    taken.add(candidate)
    return folder / candidate


def move(source: Path, target: Path) -> None:
    """Move without ever losing the file: rename, or copy + fsync + remove across file systems."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(source, target)
        make_private(target)  # the office's copy kept its mode (often 0644); under OUT it is the owner's only
    except OSError:
        temporary = target.with_name(f".{target.name}.moving")
        shutil.copy2(source, temporary)
        make_private(temporary)
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        temporary.replace(target)
        source.unlink()


def copy_file(source: Path, target: Path) -> None:
    """Archive a copy and leave the inbox as it is (run --keep-inbox)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.copying")
    shutil.copy2(source, temporary)
    make_private(temporary)
    temporary.replace(target)


_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


NAME_BYTES = 200  # file systems allow 255 bytes a name; room is left for "(2)", "_批注.xlsx", ".saving"


def safe_name(name: str, limit: int = 80) -> str:
    """A file name from outside (attachment, sheet) made safe to write: no folders, no control characters,
    not hidden, at most `limit` characters and NAME_BYTES bytes of UTF-8 with its extension kept."""
    flat = _UNSAFE.sub("", name).replace("/", "_").replace("\\", "_").lstrip("._ ").strip()
    if not flat or set(flat) <= {"."}:
        return "文件"
    stem, dot, suffix = flat.rpartition(".")
    if not dot or len(suffix) > 8:
        stem, suffix = flat, ""
    keep = limit - len(suffix) - (1 if suffix else 0)
    if not suffix:
        return _cut_bytes(flat[:limit], NAME_BYTES)
    return f"{_cut_bytes(stem[:keep], NAME_BYTES - len(suffix.encode()) - 1)}.{suffix}"


def _cut_bytes(text: str, size: int) -> str:
    """`text` cut to at most `size` bytes of UTF-8, never inside a character (a 4-byte 𠀀 is kept whole or not)."""
    return text.encode("utf-8")[:size].decode("utf-8", "ignore")
