"""The inbox: which files are ready to process, and where each is archived once its results are written.

Lock files (~$x.xlsx, .~lock.x#), hidden and temporary files are left alone; a file changed within the settle
time is still being copied and is left for the next run; links, folders, pipes and devices are refused. Nothing
is ever deleted or overwritten: processed files move to OUT/PERIOD/原件/ under a name no other file has or was
promised, a file already processed (same bytes) to 原件/重复/.
"""

from __future__ import annotations

import errno
import fcntl
import multiprocessing
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISDIR, S_ISLNK, S_ISREG

from .ledger import Ledger, file_hash
from .privacy import make_private

ARCHIVE_DIR = "原件"
REPEAT_DIR = "重复"
TEMPORARY_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp", "#")
DEFAULT_SETTLE_SECONDS = 5.0  # a file must stay unchanged this long before it is read (policy: inbox.settle_seconds)
SETTLE_VARIABLE = "UNIONBATCH_SETTLE_SECONDS"
MOVING_SUFFIX = ".moving"
STAGING_DIR = ".邮件附件"  # in OUT: attachments of the .eml files dropped in the inbox, until a run archives them


KILL_VARIABLE = "UNIONBATCH_KILL_AT"
_points_passed: dict[str, int] = {}


def kill_point(name: str) -> None:
    """A test hook: with UNIONBATCH_KILL_AT=name (or name:n) the run (from a worker: the run and the worker) kills itself with SIGKILL the first (n-th)
    time it gets here, so that tests can stop a run at an exact step. Does nothing otherwise."""
    wanted = os.environ.get(KILL_VARIABLE)
    if not wanted:
        return
    point, _, count = wanted.partition(":")
    if point == name:
        _points_passed[name] = _points_passed.get(name, 0) + 1
        if _points_passed[name] == int(count or 1):
            parent = multiprocessing.parent_process()
            if parent is not None:  # in one of the run's workers: the run is killed with it
                os.kill(parent.pid, signal.SIGKILL)
            os.kill(os.getpid(), signal.SIGKILL)


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


def is_ignored(name: str) -> bool:
    """Lock files (~$x.xlsx, .~lock.x#), hidden and temporary files: never ours to read."""
    return name.startswith((".", "~$", ".~lock")) or name.lower().endswith(TEMPORARY_SUFFIXES)


def is_candidate(path: Path) -> bool:
    """A regular file (not a link) that is not ignored: something a run would look at."""
    return not is_ignored(path.name) and path.is_file() and not path.is_symlink()


def default_settle_seconds() -> float:
    """The settle time when the policy sets none; UNIONBATCH_SETTLE_SECONDS overrides it (the test suite uses a
    short one so that files written a moment ago need not wait)."""
    try:
        return max(0.0, float(os.environ.get(SETTLE_VARIABLE, DEFAULT_SETTLE_SECONDS)))
    except ValueError:
        return DEFAULT_SETTLE_SECONDS


@dataclass(frozen=True)
class Entry:
    path: Path
    size: int
    mtime_ns: int
    changed_ns: int  # the later of mtime and ctime: ctime cannot be set back, a copy keeping the old mtime moves it

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.path.name, self.size, self.mtime_ns)


@dataclass
class Scan:
    ready: list[Entry] = field(default_factory=list)
    arriving: list[Path] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (name, why), for the report


REFUSED_LINK = "是快捷方式(符号链接),未读取:请放入文件本身"
REFUSED_FOLDER = "是文件夹,未处理:请把其中的文件直接放入收件箱"
REFUSED_SPECIAL = "不是普通文件(管道、设备或套接字),未读取"
REFUSED_UNREADABLE = "无法读取(没有权限),未处理:请检查文件权限"


def scan_inbox(inbox: Path, settle_seconds: float) -> Scan:
    """The inbox's entries: regular files that have not changed for `settle_seconds` are ready; the others are
    still being copied (left for the next run). Links, folders, pipes and devices are refused, each with a reason,
    and never opened. Waits at most `settle_seconds`, once, for the entries changed within it."""
    scan = Scan()
    entries: list[Entry] = []
    with os.scandir(inbox) as items:
        names = sorted(item.name for item in items if not is_ignored(item.name))
    for name in names:
        entry = _entry(inbox / name)
        if isinstance(entry, str):
            scan.refused.append((name, entry))
        elif entry is not None:
            entries.append(entry)
    start = time.time()
    recent = {entry.path for entry in entries if entry.changed_ns / 1e9 > start - settle_seconds}
    if recent:
        latest = max(entry.changed_ns / 1e9 for entry in entries if entry.path in recent)
        time.sleep(min(max(latest + settle_seconds - start, 0.0), settle_seconds))
    for entry in entries:
        again = _entry(entry.path) if entry.path in recent else entry
        if again == entry:
            scan.ready.append(entry)
        elif isinstance(again, Entry):
            scan.arriving.append(entry.path)
    return scan


def _entry(path: Path) -> Entry | str | None:
    """The entry's signature, why it is refused, or None if it is gone."""
    try:
        stat = path.lstat()
    except FileNotFoundError:
        return None
    if S_ISLNK(stat.st_mode):
        return REFUSED_LINK
    if S_ISDIR(stat.st_mode):
        return REFUSED_FOLDER
    if not S_ISREG(stat.st_mode):
        return REFUSED_SPECIAL
    if not os.access(path, os.R_OK):
        return REFUSED_UNREADABLE
    return Entry(path, stat.st_size, stat.st_mtime_ns, max(stat.st_mtime_ns, stat.st_ctime_ns))


def free_path(folder: Path, name: str, taken: set[Path]) -> Path:
    """A name in `folder` for `name` that no file has and no one reserved: 名单.xlsx, then 名单(2).xlsx …
    The name is added to `taken`."""
    stem, suffix = Path(name).stem, Path(name).suffix
    candidate, number = folder / name, 1
    while candidate in taken or os.path.lexists(candidate):
        number += 1
        candidate = folder / f"{stem}({number}){suffix}"
    taken.add(candidate)
    return candidate


def archive_name(folder: Path, name: str, taken: set[str]) -> Path:
    """A free name in `folder` for `name`, `taken` holding names already given out in this folder."""
    reserved = {folder / other for other in taken}
    path = free_path(folder, name, reserved)
    taken.add(path.name)
    return path


def place(source: Path, target: Path, keep_source: bool = False, copied: Path | None = None) -> Path:
    """Move (or copy, `keep_source`) `source` to `target`, or to the next free name if `target` exists: never
    overwrites. A hard link then unlinking the source (a killed run leaves both names, the same bytes); across
    file systems a copy, flushed to disk, linked in place (`copied`: that copy, made beforehand by
    `flushed_copies`). Returns where the bytes went."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if not keep_source:
        placed = _link_free(source, target)
        if placed is not None:
            kill_point("linked")
            source.unlink()
            make_private(placed)  # the office's copy kept its mode (often 0644); under OUT it is the owner's only
            return placed
    temporary = copied
    if temporary is None:
        temporary = _copy(source, target)
        _flush(temporary)
    kill_point("copied")
    placed = _link_free(temporary, target)
    if placed is None:  # a file system without hard links: rename, after checking the name is free
        placed = free_path(target.parent, target.name, set())
        temporary.rename(placed)
    temporary.unlink(missing_ok=True)
    if not keep_source:
        source.unlink()
    return placed


def flushed_copies(moves: Iterable[tuple[Path, Path, str, bool]]) -> dict[Path, Path]:
    """source → its copy beside the target, for the moves (source, target, SHA-256, keep the source) that copy:
    every copy written first, then each flushed to disk. Flushed one after another, a batch's copies cost ~0.3 ms a
    file; each flushed as soon as written, ~5 ms (ext4 commits its journal at every flush)."""
    copies = {}
    for source, target, _, keep_source in moves:
        if keep_source and os.path.lexists(source):
            target.parent.mkdir(parents=True, exist_ok=True)
            copies[source] = _copy(source, target)
    for temporary in copies.values():
        _flush(temporary)
    return copies


@contextmanager
def copies_ahead(moves: Sequence[tuple[Path, Path, str, bool]]) -> Iterator[CopiesAhead]:
    """`flushed_copies(moves)` made by a thread while the run goes on (most of it waits for the disk). Each copy is
    a hidden temporary beside its target until finish_moves links it in place; those left unlinked when the run
    leaves (it failed before) are removed, and a run killed meanwhile leaves only what remove_leftovers clears."""
    ahead = CopiesAhead(moves)
    try:
        yield ahead
    finally:
        ahead.thread.join()
        for temporary in ahead.copies.values():
            temporary.unlink(missing_ok=True)


class CopiesAhead:
    """The thread making the copies (see `copies_ahead`): `taken()` waits for it."""

    def __init__(self, moves: Sequence[tuple[Path, Path, str, bool]]) -> None:
        self.copies: dict[Path, Path] = {}
        self.error: Exception | None = None
        self.thread = threading.Thread(target=self._copy, args=(moves,), name="unionbatch-archive", daemon=True)
        self.thread.start()

    def _copy(self, moves: Sequence[tuple[Path, Path, str, bool]]) -> None:
        try:
            self.copies = flushed_copies(moves)
        except Exception as error:  # noqa: BLE001  # raised where the copies are taken, as in finish_moves
            self.error = error

    def taken(self) -> dict[Path, Path]:
        """source → its flushed copy, once all are made."""
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.copies


def _copy(source: Path, target: Path) -> Path:
    """A copy of `source` (its times, the owner's mode) under a hidden name beside `target`, not yet flushed."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}{MOVING_SUFFIX}")
    shutil.copyfile(source, temporary)
    shutil.copystat(source, temporary)
    make_private(temporary)
    return temporary


def _flush(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _link_free(source: Path, target: Path) -> Path | None:
    """Hard-link `source` at `target` or the next free name; None when a link cannot be made here."""
    taken: set[Path] = set()
    candidate = target
    while True:
        try:
            os.link(source, candidate, follow_symlinks=False)
            return candidate
        except FileExistsError:
            taken.add(candidate)
            candidate = free_path(target.parent, target.name, taken)
        except OSError as error:
            if error.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EACCES):
                return None
            raise


def finish_moves(ledger: Ledger, out: Path, verify: bool = True, copied: Mapping[Path, Path] | None = None) -> None:
    """Carry out every move the ledger has planned (`Ledger.plan_moves`). With `verify` (what a run killed
    half-way left), a move whose source is gone or holds other bytes now is dropped, and one whose bytes are at
    the target already only loses its source name. Without, the copies are made first (`flushed_copies`; those
    `copied` already, source → copy, are taken as made) and the moves recorded done together at the end: a kill
    before leaves them all to the verifying pass."""
    moves = ledger.pending_moves()
    if verify:
        for source, target, sha, keep_source in moves:
            placed = _carry_out(source, target, sha, keep_source)
            kill_point("moved")
            ledger.move_done(source, target, placed, out)
        return
    made = dict(copied or {})
    copies = made | flushed_copies(move for move in moves if move[0] not in made)
    done = []
    try:
        for source, target, _, keep_source in moves:
            placed = target  # a file taken out of the inbox before it was copied is not there
            if os.path.lexists(source) or source in copies:
                placed = place(source, target, keep_source, copies.get(source))
            kill_point("moved")
            done.append((source, target, placed))
    finally:
        ledger.moves_done(done, out)


def _carry_out(source: Path, target: Path, sha: str, keep_source: bool) -> Path:
    if not source.is_file() or source.is_symlink() or file_hash(source) != sha:
        return target
    if os.path.lexists(target) and (os.path.samefile(source, target) or file_hash(target) == sha):
        if not keep_source:
            source.unlink()
        return target
    return place(source, target, keep_source)


def remove_leftovers(folder: Path) -> None:
    """The half-made copies a killed run may leave in `folder` (only runs, holding the lock, make them)."""
    if folder.is_dir():
        for stray in folder.glob(f".*{MOVING_SUFFIX}"):
            stray.unlink(missing_ok=True)


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
