"""Whole files are written to a temporary beside their place and renamed over it (unionbatch/atomic.py): a reader
sees the old file or the new one, never half of one, and a writer that fails leaves nothing behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from unionbatch.atomic import create_owner_only, replacing, write_atomically


class WriterFailed(Exception):
    pass


def test_a_finished_write_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "汇总.xlsx"
    target.write_bytes(b"old")
    with replacing(target) as temporary:
        temporary.write_bytes(b"new")
        assert target.read_bytes() == b"old"  # not yet: a reader meanwhile sees the old file whole
    assert target.read_bytes() == b"new"
    assert [path.name for path in tmp_path.iterdir()] == ["汇总.xlsx"]


def test_a_failing_writer_leaves_no_temporary_and_no_target(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    with pytest.raises(WriterFailed), replacing(target) as temporary:
        temporary.write_bytes(b"half of it")
        raise WriterFailed
    assert list(tmp_path.iterdir()) == []


def test_a_failing_writer_leaves_the_earlier_file_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "status.html"
    target.write_bytes(b"earlier")
    with pytest.raises(WriterFailed), replacing(target, tmp_path / ".status.html.saving") as temporary:
        temporary.write_bytes(b"half")
        raise WriterFailed
    assert target.read_bytes() == b"earlier"
    assert [path.name for path in tmp_path.iterdir()] == ["status.html"]


def test_write_atomically_writes_through_the_named_temporary(tmp_path: Path) -> None:
    target = tmp_path / "回复.eml"
    assert write_atomically(target, b"message", ".saving") == target
    assert target.read_bytes() == b"message"
    assert [path.name for path in tmp_path.iterdir()] == ["回复.eml"]


def test_an_owner_only_file_is_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    before = os.umask(0o022)
    try:
        with create_owner_only(tmp_path / "entry") as stream:
            stream.write(b"personal data")
    finally:
        os.umask(before)
    assert stat.S_IMODE((tmp_path / "entry").stat().st_mode) == 0o600
    assert (tmp_path / "entry").read_bytes() == b"personal data"
