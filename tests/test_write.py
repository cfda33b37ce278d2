"""The writer renders data rows itself (speed); they must be exactly what xlsxwriter writes for them."""

from __future__ import annotations

import datetime as dt
import zipfile
import zlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from unionbatch import write
from unionbatch.compute import OutColumn, OutSheet

CREATED = dt.datetime(2026, 11, 1)
COLUMNS = [OutColumn("文本"), OutColumn("金额", "money", summed=True), OutColumn("人数", "int"), OutColumn("备注")]

text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["张三", " 前后空格 ", "a&b<c>", "_x0041_", "换\n行", "\x01控制", "=SUM(A1)", "\u3000全角空格"]),
)
number = st.one_of(
    st.decimals(min_value=0, max_value=Decimal("9999999.99"), places=2),
    st.integers(min_value=-(10**6), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)
cell = st.one_of(st.none(), st.just(""), text, number)
row = st.tuples(cell, st.one_of(st.none(), number), st.one_of(st.none(), st.integers(0, 500)), cell).map(list)


def _reference_rows(worksheet: Any, sheet: OutSheet, first: int, formats: dict[str, Any]) -> list[Decimal | None]:
    """What the writer did before: one xlsxwriter write_* call per cell, totals added up in a second pass."""
    cell_formats = [formats[column.kind] for column in sheet.columns]
    for row, values in enumerate(sheet.rows, start=first):
        if sheet.tall_rows:
            worksheet.set_row(row, 30)
        for col, value in enumerate(values):
            if value is None or value == "":
                worksheet.write_blank(row, col, None, cell_formats[col])
            elif isinstance(value, Decimal | int | float) and not isinstance(value, bool):
                worksheet.write_number(row, col, float(value), cell_formats[col])
            else:
                worksheet.write_string(row, col, str(value)[: write.MAX_TEXT], cell_formats[col])
    return sheet.column_totals()


def _contents(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as book:
        return {name: book.read(name) for name in book.namelist()}


def _both(tmp_path: Path, sheets: list[OutSheet], monkeypatch: pytest.MonkeyPatch) -> tuple[dict, dict]:
    fast = _contents(write.write_workbook(tmp_path / "fast" / "汇总.xlsx", sheets, CREATED))
    with monkeypatch.context() as patch:
        patch.setattr(write, "_write_rows", _reference_rows)
        reference = _contents(write.write_workbook(tmp_path / "reference" / "汇总.xlsx", sheets, CREATED))
    return fast, reference


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(row, max_size=20), tall=st.booleans(), titled=st.booleans())
def test_rendered_rows_are_what_xlsxwriter_writes(tmp_path_factory, rows, tall: bool, titled: bool) -> None:
    tmp_path = tmp_path_factory.mktemp("w")
    sheet = OutSheet(
        "明细",
        COLUMNS,
        rows,
        title="测试表" if titled else None,
        total_label="合计",
        notes=["注:测试"],
        tall_rows=tall,
    )
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, reference = _both(
            tmp_path, [sheet, OutSheet("第二表", COLUMNS[:2], [values[:2] for values in rows[:3]])], monkeypatch
        )
    assert fast.keys() == reference.keys()
    for name in fast:
        assert fast[name] == reference[name], name


def test_rendered_rows_cut_long_text_keep_values_and_short_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_text = "长" * (write.MAX_TEXT + 10)
    rows = [["甲", Decimal("1234.50"), 3, long_text], [None, Decimal("0.10"), 0, ""], ["短行", Decimal("2")]]
    zeros = [["零", Decimal("0"), 0, "乙"], ["负零", -0.0, 0, "丙"]]  # equal as keys, written 0 and -0
    sheets = [OutSheet("明细", COLUMNS, rows), OutSheet("零", COLUMNS, zeros)]  # full rows: the column path
    fast, reference = _both(tmp_path, sheets, monkeypatch)
    assert fast == reference
    data = fast["xl/worksheets/sheet1.xml"].decode()
    assert "<v>1234.5</v>" in data and "<v>0.1</v>" in data
    assert "长" * write.MAX_TEXT + "</t>" in data and "长" * (write.MAX_TEXT + 1) not in data


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=3000), cuts=st.lists(st.integers(1, 700), max_size=12), level=st.sampled_from([1, 6]))
def test_parallel_deflate_is_one_valid_deflate_stream(data: bytes, cuts: list[int], level: int) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(write._ParallelDeflate, "BLOCK", 256)  # many blocks, fed in pieces of any size
        compressor = write._ParallelDeflate(level)
        compressed, start = [], 0
        for cut in [*cuts, len(data)]:
            compressed.append(compressor.compress(data[start : start + cut]))
            start += cut
        compressed.append(compressor.flush())
    assert zlib.decompress(b"".join(compressed), -zlib.MAX_WBITS) == data


def test_big_members_deflated_in_parallel_read_back_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [[f"第{n}行", Decimal(n) / 100, n, "备注" * (n % 7)] for n in range(3000)]
    sheets = [OutSheet("明细", COLUMNS, rows, total_label="合计")]
    plain = _contents(write.write_workbook(tmp_path / "plain" / "汇总.xlsx", sheets, CREATED))
    monkeypatch.setattr(write._ParallelDeflate, "BLOCK", 4096)  # every member over 8 KB goes in blocks
    parallel = write.write_workbook(tmp_path / "parallel" / "汇总.xlsx", sheets, CREATED)
    with zipfile.ZipFile(parallel) as book:
        assert book.testzip() is None  # every member's CRC checks out
    assert _contents(parallel) == plain
    sheet = load_workbook(parallel, read_only=True)["明细"]
    assert [cell.value for cell in next(sheet.iter_rows(min_row=2999, max_row=2999))] == [
        "第2997行",
        29.97,
        2997,
        "备注" * 1,
    ]
