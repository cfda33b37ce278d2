"""Per-file check results kept between runs, and digests of what the outputs show.

A file's check (read → recognise → normalise → validate, the FileResult `check_file` returns) depends only on
the file's bytes, the name it is kept under (its findings quote it), the policy's form sections and limits, and
the processor (its sources and the libraries that read and check). The cache keys an entry by all of them, so a
change to any gives a new key and the file is checked again; what the batch stages add (duplicates across files,
versions, reconciliation) is never cached: those stages run on every file in every run, reused or not. The history
rules' findings (earlier periods' rows, barred IDs) are kept beside the checks (`KeptHistory`), each with a witness
of what those rules read, and found again for a reused check whenever that witness changed. The policy's form sections include the files they
name (the 困难职工档案, by its SHA-256 and its households). A check that met a birth date after today (not yet a
valid ID) gives another result on that day: its entry says so (`valid_until`) and is not trusted from then on.

Entries live in OUT/.cache/checks/PERIOD/<key>.pickle, owner-only, written to a temporary name and renamed, with
a checksum of their bytes: an entry cut short by a kill, or damaged later, fails its checksum and is recomputed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import importlib.metadata
import os
import pickle
import stat
import sys
from collections.abc import Mapping
from contextlib import suppress
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from .atomic import create_owner_only, replacing
from .inbox import kill_point

CACHE_DIR = ".cache"
MAGIC = b"UBCACHE2"  # 2: an entry holds (valid_until, result)
DIGEST_SIZE = hashlib.sha256().digest_size
TEMPORARY_PREFIX = ".tmp-"
_PACKAGE = Path(__file__).resolve().parent
_LIBRARIES = ("python-calamine", "pandas", "pandera", "numpy", "python-stdnum", "openpyxl", "xlsxwriter")


def canonical(value: Any) -> str:
    """A text that is the same for equal values in every process (sets sorted, dataclasses by field, functions by
    name), for digests: pickle and repr are not (a set's order depends on the process's hash seed)."""
    if value is None or isinstance(value, (bool, int, float, str, Decimal, Path, Enum)):
        return f"{type(value).__name__}:{value!s}"
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        return f"{type(value).__name__}:{value!s}"
    if isinstance(value, bytes):
        return f"bytes:{value.hex()}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = ",".join(
            f"{field.name}={canonical(getattr(value, field.name))}" for field in dataclasses.fields(value)
        )
        return f"{type(value).__qualname__}({fields})"
    if isinstance(value, Mapping):
        items = sorted(f"{canonical(key)}:{canonical(item)}" for key, item in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, (set, frozenset)):
        return "set[" + ",".join(sorted(canonical(item) for item in value)) + "]"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(canonical(item) for item in value) + "]"
    if callable(value):
        return f"fn:{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', repr(value))}"
    return f"{type(value).__qualname__}:{value!r}"


def digest(*parts: Any) -> str:
    return hashlib.sha256(canonical(parts).encode()).hexdigest()


def engine_digest(specs: Mapping[str, Any]) -> str:
    """The processor: the package's sources, those of the folders the specs come from (schemas/ and its helpers),
    the Python and the reading libraries' versions."""
    folders = {_PACKAGE}
    for spec in specs.values():
        module = sys.modules.get(getattr(spec.parse_policy, "__module__", ""))
        if module is not None and getattr(module, "__file__", None):
            folders.add(Path(module.__file__).resolve().parent)
    return _sources_digest(tuple(sorted(folders)))


@functools.cache
def _sources_digest(folders: tuple[Path, ...]) -> str:
    """Computed once per process (a few milliseconds): sources do not change under a running process."""
    hasher = hashlib.sha256(f"{sys.version}\0".encode())
    for name in _LIBRARIES:
        try:
            hasher.update(f"{name}={importlib.metadata.version(name)}\0".encode())
        except importlib.metadata.PackageNotFoundError:
            hasher.update(f"{name}=none\0".encode())
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            hasher.update(f"{path}\0".encode())
            hasher.update(path.read_bytes())
    return hasher.hexdigest()


def policy_digest(forms: Mapping[str, Any], limits: Any) -> str:
    """What of the policy a file's check reads: each form's section as parsed, and the reading limits. The roster,
    deadlines and mail settings are read only by the batch stages, so editing them keeps the checks."""
    return digest(forms, limits)


class CheckCache:
    """The period's cached checks. `load` returns None for an entry that is missing, damaged or not ours;
    `hits` counts the checks reused this run."""

    def __init__(self, folder: Path, policy: str, engine: str) -> None:
        self.folder = folder
        self.policy = policy
        self.engine = engine
        self.hits = 0
        self.used: set[str] = set()
        self.reused: set[str] = set()  # keys of the entries loaded this run
        make_folder(folder)
        remove_temporaries(folder)  # a killed run's half-written entries (under the run's lock: nobody else's)

    def entry(self, sha256: str, name: str) -> Path:
        """Where the check of these bytes, kept under `name`, is kept; remembered as used by this run."""
        key = digest(sha256, name, self.policy, self.engine)
        self.used.add(key)
        return self.folder / f"{key}.pickle"

    def load(self, entry: Path, today: dt.date | None = None) -> Any | None:
        """The result kept at `entry`, unless it is missing, damaged, or out of date by `today`'s date."""
        value = load_pickle(entry)
        if not isinstance(value, tuple) or len(value) != 2:
            return None
        valid_until, result = value
        if valid_until is not None and (today or dt.date.today()) >= valid_until:
            return None
        self.hits += 1
        self.reused.add(entry.stem)
        return result

    def prune(self) -> None:
        """Entries of files no longer in the period, or checked under another policy or processor."""
        for path in self.folder.iterdir():
            if path.suffix == ".pickle" and path.stem not in self.used:
                path.unlink(missing_ok=True)


class KeptHistory:
    """The findings of the rules that read earlier periods (history rules), kept per check between runs: a file
    whose check was reused gets them again while what those rules read is unchanged, the `witness` of its form
    (a digest of the earlier periods' submissions of the form, their rows' last recording and the barred IDs).
    Kept in OUT/.cache/history/PERIOD.pickle; `save` keeps only this run's files."""

    def __init__(self, path: Path, witnesses: Mapping[str, str]) -> None:
        self.path = path
        self.witnesses = witnesses
        kept = load_pickle(path)
        self.kept: dict[str, tuple[str, list[Any]]] = kept if isinstance(kept, dict) else {}
        self.now: dict[str, tuple[str, list[Any]]] = {}
        self.hits = 0

    def get(self, kind: str, check_key: str) -> list[Any] | None:
        found = self.kept.get(check_key)
        if found is None or found[0] != self.witnesses.get(kind):
            return None
        self.hits += 1
        self.now[check_key] = found
        return list(found[1])

    def put(self, kind: str, check_key: str, findings: list[Any]) -> None:
        witness = self.witnesses.get(kind)
        if witness is not None:
            self.now[check_key] = (witness, list(findings))

    def save(self) -> None:
        with suppress(OSError):  # without it the next run finds the history again, nothing worse
            save_pickle(self.path, self.now)


def make_folder(folder: Path) -> None:
    """The folder and those above it up to OUT/.cache, owner-only (entries are personal data)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for path in (folder, *folder.parents):
        if stat.S_IMODE(path.stat().st_mode) != 0o700:
            path.chmod(0o700)
        if path.name == CACHE_DIR or CACHE_DIR not in path.parts:
            break


def remove_temporaries(folder: Path) -> None:
    for path in folder.glob(f"{TEMPORARY_PREFIX}*"):
        path.unlink(missing_ok=True)


def write_entry(path: Path, payload: bytes) -> None:
    """Atomically, owner-only: a temporary file in the same folder, renamed over the entry once complete."""
    temporary = path.with_name(f"{TEMPORARY_PREFIX}{os.getpid()}-{path.name}")
    with replacing(path, temporary), create_owner_only(temporary) as stream:
        half = len(payload) // 2
        stream.write(MAGIC + hashlib.sha256(payload).digest() + payload[:half])
        stream.flush()
        kill_point("cache_entry_half_written")
        stream.write(payload[half:])


def read_entry(path: Path) -> bytes | None:
    """The payload of an entry this user wrote and nobody else can have changed, if its checksum holds."""
    try:
        with open(path, "rb") as stream:
            info = os.fstat(stream.fileno())
            if info.st_uid != os.geteuid() or stat.S_IMODE(info.st_mode) & 0o077:
                return None
            data = stream.read()
    except OSError:
        return None
    head = len(MAGIC) + DIGEST_SIZE
    if len(data) < head or not data.startswith(MAGIC):
        return None
    payload = data[head:]
    if hashlib.sha256(payload).digest() != data[len(MAGIC) : head]:
        return None
    return payload


def file_identity(path: Path) -> str | None:
    """What tells a file written earlier from one put in its place or edited since, without reading it: its size,
    modification time and inode (a city's consolidated workbook is 190 MB: hashing it took ~0.4 s a run)."""
    try:
        info = path.stat()
    except OSError:
        return None
    return f"{info.st_size}:{info.st_mtime_ns}:{info.st_ino}"


def file_digest(path: Path) -> str | None:
    try:
        with open(path, "rb") as stream:
            return hashlib.file_digest(stream, "sha256").hexdigest()
    except OSError:
        return None


def load_pickle(path: Path) -> Any | None:
    payload = read_entry(path)
    if payload is None:
        return None
    try:
        return pickle.loads(payload)
    except Exception:  # noqa: BLE001  # damaged or from another version: treated as absent
        return None


def save_pickle(path: Path, value: Any) -> None:
    make_folder(path.parent)
    write_entry(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
