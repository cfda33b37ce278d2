"""Rows kept rendered between runs (unionbatch/segments.py): the pieces join into a valid deflate stream and zip, a
workbook spliced from kept segments is the workbook written afresh, and a segment is reused only at its place for
the same rows."""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import zipfile
import zlib
from decimal import Decimal
from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factory import fill_template, make_people
from tests.test_write import CREATED, _contents
from unionbatch import fastrows, write
from unionbatch.compute import SOURCE_KEY, FrameRows
from unionbatch.isolate import forked
from unionbatch.pipeline import run_batch
from unionbatch.records import OutColumn, OutSheet
from unionbatch.segments import SegmentStore, SplicingZip, crc32_combine, deflated, marker, segment_of

PERIOD = "2026-11"


@settings(max_examples=200, deadline=None)
@given(first=st.binary(max_size=3000), second=st.binary(max_size=3000))
def test_the_crc_of_two_pieces_is_combined_from_theirs(first: bytes, second: bytes) -> None:
    assert crc32_combine(zlib.crc32(first), zlib.crc32(second), len(second)) == zlib.crc32(first + second)


@settings(max_examples=60, deadline=None)
@given(pieces=st.lists(st.binary(max_size=5000) | st.text(max_size=800).map(str.encode), max_size=8))
def test_pieces_deflated_on_their_own_join_into_one_stream(pieces: list[bytes]) -> None:
    stream = b"".join(deflated(piece) for piece in pieces) + b"\x03\x00"
    assert zlib.decompress(stream, -15) == b"".join(pieces)


def test_the_splicing_zip_writes_parts_and_splices_segments_where_their_markers_are(tmp_path: Path) -> None:
    rows = [f"<row><c><v>{number}</v></c></row>".encode() for number in range(600)]
    segments = [segment_of(b"".join(rows[:250]), [Decimal(1)], 250), segment_of(b"".join(rows[250:]), [None], 350)]
    sheet = tmp_path / "sheet.xml"
    sheet.write_text(f"<sheetData>{marker(0)}{marker(1)}</sheetData><tail/>", encoding="utf-8")
    other = tmp_path / "other.xml"
    other.write_bytes(b"<other>" + b"x" * 10_000 + b"</other>")
    book = SplicingZip(str(tmp_path / "book.xlsx"), "w", pieces={"xl/worksheets/sheet1.xml": segments})
    book.write(str(sheet), "xl/worksheets/sheet1.xml")
    book.write(str(other), "xl/other.xml")
    book.close()
    with zipfile.ZipFile(tmp_path / "book.xlsx") as written:
        assert written.testzip() is None  # every member's CRC checks
        assert written.namelist() == ["xl/worksheets/sheet1.xml", "xl/other.xml"]
        assert written.read("xl/worksheets/sheet1.xml") == b"<sheetData>" + b"".join(rows) + b"</sheetData><tail/>"
        assert written.read("xl/other.xml") == other.read_bytes()


# ---- the writer: a sheet's blocks spliced from kept segments ------------------------------------------------

COLUMNS = [OutColumn("序号", "int", 6), OutColumn("姓名"), OutColumn("金额", "money", summed=True)]


def blocked_sheet(files: dict[str, int]) -> OutSheet:
    """A 明细-like sheet of each file's rows (its name → how many), known by the file's name."""
    frame = pd.DataFrame(
        {
            "name": [f"{file}的{index}号" for file, count in files.items() for index in range(count)],
            "amount": [Decimal(index) / 4 for count in files.values() for index in range(count)],
            SOURCE_KEY: [file for file, count in files.items() for _ in range(count)],
        },
        dtype=object,
    )
    rows = FrameRows(frame, lambda number, values: [number, *values], columns=["name", "amount"], local=True)
    return OutSheet("明细", COLUMNS, rows, title="明细", total_label="合计", blocks=rows.blocks())


def kept(store: Path) -> dict[str, int]:
    return {path.name: path.stat().st_mtime_ns for path in store.glob("*.segment")}


def test_a_workbook_spliced_from_kept_segments_is_the_workbook_written_afresh(tmp_path: Path) -> None:
    store = SegmentStore(tmp_path / "segments")
    first = {"甲": 300, "乙": 5, "丙": 1200}
    write.write_workbook(tmp_path / "1" / "汇总.xlsx", [blocked_sheet(first)], CREATED, segments=store)
    assert len(kept(store.folder)) == 3 and store.hits == 0
    before = kept(store.folder)
    # a file inserted after the first: the first file's rows are spliced in as kept, the later ones move down
    second = {"甲": 300, "丁": 7, "乙": 5, "丙": 1200}
    store = SegmentStore(store.folder)  # the next run's
    spliced = write.write_workbook(tmp_path / "2" / "汇总.xlsx", [blocked_sheet(second)], CREATED, segments=store)
    fresh = write.write_workbook(tmp_path / "fresh" / "汇总.xlsx", [blocked_sheet(second)], CREATED)
    assert _contents(spliced) == _contents(fresh)
    assert store.hits == 1
    after = kept(store.folder)
    assert len(after) == 6 and all(after[name] == mtime for name, mtime in before.items())  # 3 at their new places
    store.prune()
    assert len(kept(store.folder)) == 4  # those this workbook used
    # every row and the total as written from the rows themselves
    with zipfile.ZipFile(spliced) as book:
        xml = book.read("xl/worksheets/sheet1.xml").decode()
    assert xml.count("<row ") == 1 + 1 + sum(second.values()) + 1  # title, header, rows, total
    total = sum(Decimal(index) / 4 for count in second.values() for index in range(count))
    assert f"<v>{float(total):.16G}</v>" in xml
    assert f'<c r="A{2 + sum(second.values())}" s="' in xml and f"<v>{sum(second.values())}</v>" in xml  # last 序号


def test_many_rows_are_rendered_by_several_processes_into_the_workbook_written_afresh(tmp_path: Path) -> None:
    files = {f"第{number:02}单位": 210 for number in range(60)}  # 12,600 rows: shared out
    assert sum(files.values()) >= fastrows.SHARED_ROWS and (os.cpu_count() or 1) > 1
    store = SegmentStore(tmp_path / "segments")
    shared = write.write_workbook(tmp_path / "1" / "汇总.xlsx", [blocked_sheet(files)], CREATED, segments=store)
    fresh = write.write_workbook(tmp_path / "fresh" / "汇总.xlsx", [blocked_sheet(files)], CREATED)
    assert _contents(shared) == _contents(fresh)
    assert len(kept(store.folder)) == 60 and store.hits == 0  # every block kept, by this process or a child
    again = SegmentStore(store.folder)
    spliced = write.write_workbook(tmp_path / "2" / "汇总.xlsx", [blocked_sheet(files)], CREATED, segments=again)
    assert _contents(spliced) == _contents(fresh) and again.hits == 60


def two_sheets(files: dict[str, int]) -> list[OutSheet]:
    """A small summary (its formats numbered before the rows') and the blocked sheet."""
    summary = OutSheet(
        "按单位汇总",
        [OutColumn("单位"), OutColumn("户数", "int", summed=True)],
        [[file, count] for file, count in files.items()],
        title="按单位汇总",
        total_label="合计",
    )
    return [summary, blocked_sheet(files)]


def test_rows_kept_ahead_are_the_rows_the_workbook_then_splices_in(tmp_path: Path) -> None:
    files = {f"第{number}单位": 30 + number for number in range(8)}
    store = SegmentStore(tmp_path / "segments")
    write.keep_rows_ahead(two_sheets(files), CREATED, store)
    assert len(kept(store.folder)) == 8 and not list(tmp_path.glob("**/*.xlsx"))  # the rows kept, nothing written
    writer = SegmentStore(store.folder)
    spliced = write.write_workbook(tmp_path / "1" / "汇总.xlsx", two_sheets(files), CREATED, segments=writer)
    assert writer.hits == 8  # every block found kept at its place: the same layout, the same formats' numbers
    fresh = write.write_workbook(tmp_path / "fresh" / "汇总.xlsx", two_sheets(files), CREATED)
    assert _contents(spliced) == _contents(fresh)


def test_behind_a_helper_the_writer_renders_back_from_the_last_block_to_those_the_helper_kept(
    tmp_path: Path,
) -> None:
    files = {f"第{number:02}单位": 40 for number in range(10)}
    ahead = SegmentStore(tmp_path / "ahead")
    write.keep_rows_ahead(two_sheets(files), CREATED, ahead)
    first_four = sorted(ahead.folder.glob("*.segment"), key=lambda path: path.stat().st_mtime_ns)[:4]  # in order
    store = SegmentStore(tmp_path / "segments")

    def helper_at_work() -> bool:  # asked once the writer has looked its blocks up: the helper has kept four since
        for path in first_four:
            if not (store.folder / path.name).exists():
                shutil.copy(path, store.folder / path.name)
        return True

    spliced = write.write_workbook(
        tmp_path / "1" / "汇总.xlsx", two_sheets(files), CREATED, segments=store, helper=helper_at_work
    )
    fresh = write.write_workbook(tmp_path / "fresh" / "汇总.xlsx", two_sheets(files), CREATED)
    assert _contents(spliced) == _contents(fresh)
    helpers = {path.name: (store.folder / path.name).stat().st_ino for path in first_four}
    assert len(kept(store.folder)) == 10 and store.hits == 0
    assert all((store.folder / name).stat().st_ino == inode for name, inode in helpers.items())  # taken as kept


def test_on_two_cores_a_writer_whose_helper_is_at_work_renders_from_the_last_block_and_forks_no_child(
    tmp_path: Path, monkeypatch
) -> None:
    files = {f"第{number:02}单位": 600 for number in range(20)}  # above fastrows.SHARED_ROWS: else shared out
    monkeypatch.setattr(os, "cpu_count", lambda: 2)  # the helper takes the other core
    forks: list[object] = []
    real_forked = fastrows.forked
    monkeypatch.setattr(fastrows, "forked", lambda *arguments: forks.append(arguments) or real_forked(*arguments))
    store = SegmentStore(tmp_path / "segments")
    spliced = write.write_workbook(  # the helper has kept none of the sheet's blocks yet: it is at the first
        tmp_path / "1" / "汇总.xlsx", two_sheets(files), CREATED, segments=store, helper=lambda: True
    )
    assert not forks and len(kept(store.folder)) == 20
    fresh = write.write_workbook(tmp_path / "fresh" / "汇总.xlsx", two_sheets(files), CREATED)
    assert _contents(spliced) == _contents(fresh)
    shared = write.write_workbook(
        tmp_path / "2" / "汇总.xlsx", two_sheets(files), CREATED, segments=SegmentStore(tmp_path / "alone")
    )
    assert forks and _contents(shared) == _contents(fresh)  # no helper: the rows are shared out with children


def test_a_writer_and_a_helper_at_work_together_give_the_workbook_written_afresh(tmp_path: Path) -> None:
    files = {f"第{number:02}单位": 120 for number in range(40)}
    store = SegmentStore(tmp_path / "segments")
    helper = forked(functools.partial(write.keep_rows_ahead, two_sheets(files), CREATED, store))
    spliced = write.write_workbook(
        tmp_path / "1" / "汇总.xlsx", two_sheets(files), CREATED, segments=store, helper=helper.running
    )
    assert helper.wait()
    fresh = write.write_workbook(tmp_path / "fresh" / "汇总.xlsx", two_sheets(files), CREATED)
    assert _contents(spliced) == _contents(fresh) and len(kept(store.folder)) == 40


def test_a_damaged_segment_is_rendered_again(tmp_path: Path) -> None:
    store = SegmentStore(tmp_path / "segments")
    files = {"甲": 40, "乙": 60}
    write.write_workbook(tmp_path / "1" / "汇总.xlsx", [blocked_sheet(files)], CREATED, segments=store)
    fresh = _contents(write.write_workbook(tmp_path / "fresh" / "汇总.xlsx", [blocked_sheet(files)], CREATED))
    kept_files = sorted(store.folder.glob("*.segment"))
    for path, at in zip(kept_files, (-5, 60), strict=False):  # one in its rows, one in its metadata
        data = bytearray(path.read_bytes())
        data[at] ^= 0xFF
        path.write_bytes(bytes(data))
    again = SegmentStore(store.folder)
    spliced = write.write_workbook(tmp_path / "2" / "汇总.xlsx", [blocked_sheet(files)], CREATED, segments=again)
    assert _contents(spliced) == fresh
    assert again.hits == 1  # the damaged metadata was not taken; the damaged rows were, found out when packing
    assert not kept_files[0].exists()  # …and the workbook written again afresh, without them
    third = SegmentStore(store.folder)
    spliced = write.write_workbook(tmp_path / "3" / "汇总.xlsx", [blocked_sheet(files)], CREATED, segments=third)
    assert _contents(spliced) == fresh and third.hits == 1  # the one rendered again in place of the other is sound


def test_rows_are_cut_into_blocks_only_when_each_is_its_own_file_s_alone(tmp_path: Path) -> None:
    sheet = blocked_sheet({"甲": 3, "乙": 2, "丙": 4})
    assert sheet.blocks is not None
    assert [(block.start, block.size) for block in sheet.blocks] == [(0, 3), (3, 2), (5, 4)]
    assert [next(iter(block.rows))[0] for block in sheet.blocks] == [1, 4, 6]  # numbered where they stand
    assert len({block.key for block in sheet.blocks}) == 3
    frame = sheet.rows.frame  # type: ignore[attr-defined]
    assert FrameRows(frame, list, columns=["name"]).blocks() is None  # not declared its own rows' alone
    assert FrameRows(frame, list, columns=["name"], sort_by=["name"], local=True).blocks() is None  # reordered
    other = FrameRows(frame, list, columns=["name"], local=True).blocks()
    assert other is not None and {block.key for block in other}.isdisjoint(block.key for block in sheet.blocks)


# ---- a period: late files splice the others' rows -----------------------------------------------------------


def summary_digest(out: Path) -> str:
    return hashlib.sha256((out / PERIOD / "慰问名单汇总.xlsx").read_bytes()).hexdigest()


def test_a_late_file_keeps_the_other_files_rows_and_the_workbook_equals_a_cold_run(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    for unit, seed in (("A工会", 1), ("C工会", 2)):
        fill_template(inbox / f"{unit}_慰问名单.xlsx", unit, make_people(5, seed))
    run_batch(inbox, out, PERIOD, None)
    store = out / ".cache" / "segments" / PERIOD / "慰问名单汇总"
    before = kept(store)
    assert len(before) == 4  # two files × (明细, 实名制发放表)
    fill_template(inbox / "B工会_慰问名单.xlsx", "B工会", make_people(4, 3))  # between the two in office order
    fill_template(inbox / "D工会_慰问名单.xlsx", "D工会", make_people(3, 4))  # after them
    run_batch(inbox, out, PERIOD, None)
    after = kept(store)
    # A's rows kept as they were; C's rendered again lower down (its old segments pruned); B's and D's new
    assert sum(after.get(name) == mtime for name, mtime in before.items()) == 2 and len(after) == 8
    cold = tmp_path / "cold"
    run_batch(out / PERIOD / "原件", cold, PERIOD, None)
    assert summary_digest(out) == summary_digest(cold)
