"""Writing a whole file so a reader (or a run killed half-way) never sees half of it."""

from __future__ import annotations

from pathlib import Path


def write_atomically(path: Path, data: bytes, suffix: str = ".tmp") -> Path:
    """`data` into a hidden temporary beside `path` (".name<suffix>", which a later run clears if this one is
    killed), then renamed over `path` in one step."""
    temporary = path.with_name(f".{path.name}{suffix}")
    temporary.write_bytes(data)
    temporary.replace(path)
    return path
