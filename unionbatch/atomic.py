"""Writing a whole file so a reader (or a run killed half-way) never sees half of it: every whole file the processor
writes is written to a hidden temporary beside its place and renamed over it in one step."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def replacing(path: Path, temporary: Path | None = None) -> Iterator[Path]:
    """The temporary (".name.tmp" beside `path`, unless given) for the block to write; renamed over `path` when the
    block ends. If the block raises, the temporary is removed and `path` is left as it was. A run killed in the
    block leaves the temporary, which a later run clears (failures.TEMPORARY_PATTERNS, checkcache)."""
    temporary = temporary or path.with_name(f".{path.name}.tmp")
    try:
        yield temporary
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_atomically(path: Path, data: bytes, suffix: str = ".tmp") -> Path:
    """`data` into a hidden temporary beside `path` (".name<suffix>"), then renamed over `path`."""
    with replacing(path, path.with_name(f".{path.name}{suffix}")) as temporary:
        temporary.write_bytes(data)
    return path


def create_owner_only(path: Path) -> BinaryIO:
    """`path` created (or emptied) for writing, readable by its owner only whatever the umask."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
