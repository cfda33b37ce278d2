"""The writer renders data rows itself (speed); they must be exactly what xlsxwriter writes for them."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zipfile
import zlib
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.xlsx_compare import MAIN, differences
from unionbatch import fastrows, write
from unionbatch.compute import MARKS
from unionbatch.records import OutColumn, OutSheet

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


def _contents(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as book:
        return {name: book.read(name) for name in book.namelist()}


def _both(tmp_path: Path, sheets: list[OutSheet]) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The workbook written by the fast renderer and through xlsxwriter's public API (as with any other version):
    the same element for element (xlsx_compare), each cell's style read as the format it stands for. Returns both
    workbooks' members as written."""
    assert fastrows.proven(xlsxwriter.__version__), "requirements.txt pins the xlsxwriter the renderer was proven on"
    fast = write.write_workbook(tmp_path / "fast" / "汇总.xlsx", sheets, CREATED)
    public = write.write_workbook(tmp_path / "public" / "汇总.xlsx", sheets, CREATED, xlsxwriter_version="0.0")
    assert differences(_styles_resolved(fast), _styles_resolved(public)) == []
    return _contents(fast), _contents(public)


def _styles_resolved(path: Path) -> Path:
    """A copy of the workbook whose cells name their format by what it is (a digest of its font, fill, border,
    number format and alignment) rather than by its index in styles.xml, which lists the digests, sorted, with what
    they stand for. The fast renderer numbers a format when it renders a row, xlsxwriter when it flushes one (a
    sheet's last row waits for the workbook's close): a later sheet's first use of a format may get another number
    for the same format."""
    contents = _contents(path)
    formats = _cell_formats(contents["xl/styles.xml"])
    digests = [hashlib.sha256(described.encode()).hexdigest()[:12] for described in formats]
    listing = sorted(
        f"<xf digest='{digest}'>{escape(described)}</xf>" for digest, described in zip(digests, formats, strict=True)
    )
    resolved = path.with_name(f"{path.stem}.styles-resolved.xlsx")
    with zipfile.ZipFile(resolved, "w") as book:
        for member, data in contents.items():
            if member == "xl/styles.xml":
                data = f"<styles>{''.join(listing)}</styles>".encode()
            elif member.startswith("xl/worksheets/sheet"):
                data = re.sub(rb' s="(\d+)"', lambda found: f' s="{digests[int(found[1])]}"'.encode(), data)
            book.writestr(member, data)
    return resolved


def _cell_formats(styles_xml: bytes) -> list[str]:
    """Each cell format of styles.xml (its cellXfs, in order), described in full."""
    styles = ElementTree.fromstring(styles_xml)

    def listed(kind: str) -> list[str]:
        return [
            ElementTree.tostring(part, encoding="unicode")
            for part in styles.iterfind(f"{{{MAIN}}}{kind}s/{{{MAIN}}}{kind}")
        ]

    parts = {"fontId": listed("font"), "fillId": listed("fill"), "borderId": listed("border")}
    codes = {
        code.get("numFmtId"): code.get("formatCode") for code in styles.iterfind(f"{{{MAIN}}}numFmts/{{{MAIN}}}numFmt")
    }
    described = []
    for xf in styles.iterfind(f"{{{MAIN}}}cellXfs/{{{MAIN}}}xf"):
        attributes = {key: value for key, value in sorted(xf.attrib.items()) if key not in parts}
        attributes["numFmtId"] = codes.get(xf.get("numFmtId"), xf.get("numFmtId", ""))
        held = [ElementTree.tostring(child, encoding="unicode") for child in xf]
        described.append(f"{attributes} {[parts[key][int(xf.get(key, 0))] for key in parts]} {held}")
    return described


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
    fast, reference = _both(tmp_path, [sheet, OutSheet("第二表", COLUMNS[:2], [values[:2] for values in rows[:3]])])
    assert fast.keys() == reference.keys()
    for name in fast:
        assert fast[name] == reference[name], name


def test_rendered_rows_cut_long_text_keep_values_and_short_rows(tmp_path: Path) -> None:
    long_text = "长" * (write.MAX_TEXT + 10)
    rows = [["甲", Decimal("1234.50"), 3, long_text], [None, Decimal("0.10"), 0, ""], ["短行", Decimal("2")]]
    zeros = [["零", Decimal("0"), 0, "乙"], ["负零", -0.0, 0, "丙"]]  # equal as keys, written 0 and -0
    sheets = [OutSheet("明细", COLUMNS, rows), OutSheet("零", COLUMNS, zeros)]  # full rows: the column path
    fast, reference = _both(tmp_path, sheets)
    assert fast == reference
    data = fast["xl/worksheets/sheet1.xml"].decode()
    assert "<v>1234.5</v>" in data and "<v>0.1</v>" in data
    assert "长" * write.MAX_TEXT + "</t>" in data and "长" * (write.MAX_TEXT + 1) not in data


@settings(max_examples=30, deadline=None)
@given(rows=st.lists(row, max_size=12), marks=st.lists(st.sampled_from(["", *MARKS]), min_size=12, max_size=12))
def test_marked_and_wrapped_rows_are_what_xlsxwriter_writes(tmp_path_factory, rows, marks: list[str]) -> None:
    tmp_path = tmp_path_factory.mktemp("w")
    wrapped = [OutColumn("说明", width=8, wrap=True), *COLUMNS[1:]]  # a narrow wrapped column: tall rows
    sheets = [
        OutSheet("处理报告", COLUMNS, rows, marks=marks[: len(rows)], total_label="合计"),
        OutSheet("与名单核对", wrapped, rows, tall_rows=True),
    ]
    _both(tmp_path, sheets)  # equal but for the formats' numbers: a later sheet's are numbered before they are flushed


def test_the_fast_renderer_is_used_only_with_the_xlsxwriter_it_was_proven_on() -> None:
    assert fastrows.proven(fastrows.PROVEN_XLSXWRITER)
    for other in ("3.3.2", "3.3.10", "3.3", "4.0.0", "3.3.1.post1", ""):
        assert not fastrows.proven(other), other


def test_any_other_xlsxwriter_version_writes_rows_through_the_public_api() -> None:
    assert write.rows_writer(xlsxwriter.__version__) is fastrows.write_rows  # the pinned version
    for other in ("3.3.2", "3.4.0", "4.0.0"):
        assert write.rows_writer(other) is write.write_rows_public, other


def _deflated_size(data: bytes, level: int) -> int:
    packer = zlib.compressobj(level, zlib.DEFLATED, -15)
    return len(packer.compress(data) + packer.flush())


def test_the_proven_xlsxwriter_packs_at_level_one_and_any_other_at_zipfile_s_default(tmp_path: Path) -> None:
    """The proven xlsxwriter's workbooks are deflated at zlib's fastest level, the same members, for more bytes;
    neither xlsxwriter's module nor zipfile is changed for it: any other Workbook packs at the default level."""
    rows = [[f"单位{number % 37}", Decimal(number) / 4, number, "备注" * (number % 5)] for number in range(3000)]
    sheets = [OutSheet("明细", COLUMNS, rows, total_label="合计")]
    fast, public = _both(tmp_path, sheets)
    assert fast.keys() == public.keys()
    sizes = {}
    for folder in ("fast", "public"):
        with zipfile.ZipFile(tmp_path / folder / "汇总.xlsx") as book:
            member = book.getinfo("xl/worksheets/sheet1.xml")
            sizes[folder] = (
                member.compress_size,
                _deflated_size(book.read(member), 1),
                _deflated_size(book.read(member), 6),
            )
    # level 1, closed as a stream of pieces is (a sync flush and an empty last block: a few bytes more)
    assert sizes["fast"][1] <= sizes["fast"][0] <= sizes["fast"][1] + 8 and sizes["fast"][0] > sizes["fast"][2]
    assert sizes["public"][0] == sizes["public"][2]
    assert xlsxwriter.workbook.ZipFile is zipfile.ZipFile and xlsxwriter.workbook.Workbook is xlsxwriter.Workbook
    with zipfile.ZipFile(tmp_path / "plain.zip", "w", zipfile.ZIP_DEFLATED) as plain:
        assert plain.compresslevel is None
