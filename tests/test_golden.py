"""The sample run's consolidated workbooks against reviewed expected files (tests/golden/2026-11), compared at
XML level (tests/xlsx_compare.py), so any change to what they hold or how they look shows as workbook › sheet ›
cell. A change made on purpose: `UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py` rewrites the expected
files from this run; open them, check them, and commit them with the change."""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import run_samples
from tests.xlsx_compare import differences, element_lines, sheet_labels

GOLDEN = Path(__file__).resolve().parent / "golden" / "2026-11"
WORKBOOKS = (
    "慰问名单汇总.xlsx",
    "报名汇总.xlsx",
    "积分与奖金.xlsx",
    "送温暖统计汇总.xlsx",
    "促进就业汇总.xlsx",
    "处理报告.xlsx",
)
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
HOW_TO_UPDATE = (
    "If the change is intended: UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py, "
    "then open and check tests/golden/2026-11/*.xlsx and commit them."
)


@pytest.fixture(scope="module")
def sample_outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("golden")
    result = run_samples(out)
    assert result.exit_code == 1, result.output  # the samples have rejected files
    folder = out / "2026-11"
    if UPDATE:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for name in WORKBOOKS:
            shutil.copyfile(folder / name, GOLDEN / name)
    return folder


@pytest.mark.parametrize("name", WORKBOOKS)
def test_consolidated_workbook_is_its_reviewed_golden_file(sample_outputs: Path, name: str) -> None:
    found = differences(sample_outputs / name, GOLDEN / name)
    assert not found, "\n".join([*found, HOW_TO_UPDATE])


def test_the_golden_folder_holds_the_consolidated_workbooks_only() -> None:
    assert sorted(path.name for path in GOLDEN.iterdir()) == sorted(WORKBOOKS)


def _rewritten(source: Path, target: Path, member: str, change: Callable[[str], str]) -> Path:
    """A copy of `source` with one member's XML text changed (the others copied as they are)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info.filename)
            if info.filename == member:
                data = change(data.decode("utf-8")).encode("utf-8")
            new.writestr(info.filename, data)
    return target


def test_a_changed_cell_is_reported_by_workbook_sheet_and_cell(tmp_path: Path) -> None:
    expected = GOLDEN / "慰问名单汇总.xlsx"
    with zipfile.ZipFile(expected) as book:
        member = next(member for member, sheet in sheet_labels(book).items() if sheet == "实名制发放表")
        number = re.search(r'<c r="([A-Z]+\d+)" s="\d+"><v>(\d+)</v>', book.read(member).decode("utf-8"))
    assert number, "a number cell to change"
    cell, value = number[1], int(number[2])
    moved = number[0].replace(f"<v>{value}</v>", f"<v>{value + 1}</v>")
    changed = _rewritten(expected, tmp_path / expected.name, member, lambda xml: xml.replace(number[0], moved, 1))
    found = differences(changed, expected)
    assert found[0] == f"慰问名单汇总.xlsx › 实名制发放表 ({member}) differs: cells {cell}"
    changes = [line.strip() for line in found[3:] if line.startswith(("-", "+"))]
    assert [(line[:1], line[1:].split(": <c")[0].strip(), re.search(r"<v>(\d+)</v>", line)[1]) for line in changes] == [
        ("-", cell, str(value)),
        ("+", cell, str(value + 1)),
    ]


def test_member_order_attribute_order_relationship_order_and_dates_do_not_count(tmp_path: Path) -> None:
    expected = GOLDEN / "积分与奖金.xlsx"
    step = _rewritten(
        expected,
        tmp_path / "a.xlsx",
        "[Content_Types].xml",
        lambda xml: re.sub(r"(<Override [^>]*/>)(<Override [^>]*/>)", r"\2\1", xml),  # pairs of Overrides swapped
    )
    step = _rewritten(
        step,
        tmp_path / "b.xlsx",
        "xl/_rels/workbook.xml.rels",
        lambda xml: re.sub(r"(<Relationship [^>]*/>)(<Relationship [^>]*/>)", r"\2\1", xml),
    )
    step = _rewritten(
        step,
        tmp_path / "c.xlsx",
        "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(r'<c r="([A-Z]+\d+)" s="(\d+)"', r'<c s="\2" r="\1"', xml),  # attributes in another order
    )
    step = _rewritten(
        step,
        tmp_path / "d.xlsx",
        "docProps/core.xml",
        lambda xml: re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "2031-05-06T07:08:09Z", xml),
    )
    with zipfile.ZipFile(step) as book:
        names = book.namelist()
    with zipfile.ZipFile(step) as book, zipfile.ZipFile(tmp_path / "e.xlsx", "w") as reordered:
        for name in reversed(names):
            reordered.writestr(name, book.read(name))
    assert zipfile.ZipFile(tmp_path / "e.xlsx").read("xl/worksheets/sheet1.xml") != zipfile.ZipFile(expected).read(
        "xl/worksheets/sheet1.xml"
    )  # the copy really differs byte for byte
    assert differences(tmp_path / "e.xlsx", expected) == []


def test_rows_in_another_order_a_missing_member_and_a_changed_style_are_differences(tmp_path: Path) -> None:
    expected = GOLDEN / "处理报告.xlsx"
    swapped = _rewritten(
        expected,
        tmp_path / "rows.xlsx",
        "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(r'(<row r="3".*?</row>)(<row r="4".*?</row>)', r"\2\1", xml, count=1),
    )
    assert differences(swapped, expected)[0].startswith("处理报告.xlsx › 文件 (xl/worksheets/sheet1.xml) differs")
    styled = _rewritten(
        expected, tmp_path / "style.xlsx", "xl/styles.xml", lambda xml: xml.replace("FFC7CE", "FFFFFF", 1)
    )
    assert differences(styled, expected)[0] == "处理报告.xlsx › xl/styles.xml differs"
    with zipfile.ZipFile(expected) as book, zipfile.ZipFile(tmp_path / "less.xlsx", "w") as less:
        for name in book.namelist():
            if name != "docProps/app.xml":
                less.writestr(name, book.read(name))
    assert differences(tmp_path / "less.xlsx", expected) == [
        f"处理报告.xlsx › docProps/app.xml: missing from {tmp_path / 'less.xlsx'}"
    ]


def test_a_cell_is_one_line_with_its_reference_and_what_it_holds() -> None:
    xml = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="8"><c r="A8" s="6" t="inlineStr"><is><t>\xe5\x90\x88\xe8\xae\xa1</t></is></c>'
        b'<c r="B8" s="7"><f>SUM(B3:B7)</f><v>30.0</v></c></row></sheetData></worksheet>'
    )
    assert element_lines(xml) == [
        "<worksheet>",
        "  <sheetData>",
        '    <row r="8">',
        '      A8: <c s="6" t="inlineStr"><is><t>合计</t></is>',
        '      B8: <c s="7"><f>SUM(B3:B7)</f><v>30.0</v>',
    ]
