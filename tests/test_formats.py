"""Formats offices really send besides Excel's own: WPS's .et / .ett, and .csv exported from other systems."""

from __future__ import annotations

import csv
import io
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.conftest import SAMPLES
from tests.factory import make_people, with_changes
from unionbatch.annotate import Annotated, annotate_copy
from unionbatch.isolate import WorkerPool
from unionbatch.pipeline import check_files, run_batch
from unionbatch.read import Limits, ReadFailure, read_book

PEOPLE = make_people(5, seed=31)
HEADER = [
    "序号",
    "姓名",
    "性别",
    "身份证号",
    "联系电话",
    "工作单位",
    "困难类别",
    "致困原因",
    "家庭人口",
    "家庭年收入",
    "刚性支出",
]
HEADER += ["慰问金额", "慰问物资折款", "建档编号"]


def row_of(number: int, person) -> list[object]:
    return [
        number,
        person.name,
        person.gender,
        person.id_number,
        person.phone,
        "测试工会",
        person.tier,
        person.cause,
        person.household,
        person.income,
        person.expense,
        person.amount,
        person.goods,
        person.archive_no,
    ]


def csv_text(people, delimiter: str = ",", title: bool = True) -> str:
    """A list as another system exports it: perhaps a title line, a header, one line a person."""
    stream = io.StringIO(newline="")
    writer = csv.writer(stream, delimiter=delimiter, lineterminator="\r\n")
    if title:
        writer.writerow(["困难职工慰问名单"] + [""] * (len(HEADER) - 1))
    writer.writerow(HEADER)
    writer.writerows(row_of(number, person) for number, person in enumerate(people, start=1))
    return stream.getvalue()


# ---- WPS -----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".et", ".ett"])
def test_a_wps_workbook_is_read_like_the_xls_it_holds(tmp_path: Path, specs, policy, suffix: str) -> None:
    """WPS writes BIFF8 into .et (and its templates .ett): a real .xls saved by LibreOffice, renamed."""
    original = SAMPLES / "inbox" / "教育系统工会慰问名单.xls"
    renamed = shutil.copy(original, tmp_path / f"教育系统工会慰问名单{suffix}")
    [as_xls, as_wps] = check_files([original, Path(renamed)], specs, policy)
    assert (as_wps.kind, as_wps.unit, as_wps.status) == ("慰问名单", "教育系统工会", as_xls.status)
    assert as_wps.rows == as_xls.rows > 0
    assert as_wps.parsed is not None and as_xls.parsed is not None
    assert as_wps.parsed.frame.equals(as_xls.parsed.frame)
    assert [(f.code, f.cell) for f in as_wps.findings] == [(f.code, f.cell) for f in as_xls.findings]


# ---- CSV -----------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_a_csv_in_any_encoding_offices_use_is_one_sheet(tmp_path: Path, specs, policy, encoding: str) -> None:
    path = tmp_path / "导出名单.csv"
    path.write_bytes(csv_text(PEOPLE).encode(encoding))
    [result] = check_files([path], specs, policy)
    assert (result.kind, result.unit, result.status, result.findings) == ("慰问名单", "测试工会", "accepted", [])
    assert result.parsed is not None
    frame = result.parsed.frame
    assert frame["name"].tolist() == [person.name for person in PEOPLE]
    assert frame["id_number"].tolist() == [person.id_number for person in PEOPLE]  # all 18 digits: text already
    assert sum(frame["amount"]) == sum(Decimal(person.amount) for person in PEOPLE)
    assert result.parsed.sheet_name == "导出名单"


def test_a_tab_separated_unicode_export_and_excel_text_wrappers(tmp_path: Path, specs, policy) -> None:
    """Excel's 'Unicode text' (UTF-16, tabs); IDs written ="…" so Excel keeps them as text."""
    text = csv_text(PEOPLE, delimiter="\t", title=False)
    for person in PEOPLE:
        text = text.replace(person.id_number, f'="{person.id_number}"')
    path = tmp_path / "名单.csv"
    path.write_bytes(text.encode("utf-16"))
    [result] = check_files([path], specs, policy)
    assert (result.status, result.findings) == ("accepted", [])
    assert result.parsed is not None
    assert result.parsed.frame["id_number"].tolist() == [person.id_number for person in PEOPLE]


def test_a_csv_with_mistakes_gets_findings_and_an_xlsx_annotated_copy(tmp_path: Path) -> None:
    people = [*PEOPLE[:2], with_changes(PEOPLE[2], phone="12345"), *PEOPLE[3:]]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "名单.csv").write_bytes(csv_text(people).encode("gb18030"))
    report = run_batch(inbox, tmp_path / "out", "2026-11")
    [result] = report.files
    assert [(f.code, f.sheet, f.cell) for f in result.findings] == [("phone_invalid", "名单", "E5")]
    assert result.annotated is not None and result.annotated.suffix == ".xlsx"
    workbook = load_workbook(result.annotated)
    assert workbook.sheetnames == ["错误清单", "名单"]
    cell = workbook["名单"]["E5"]
    assert cell.value == "12345" and cell.comment is not None and "联系电话" in cell.comment.text
    assert (tmp_path / "out" / "2026-11" / "原件" / "名单.csv").read_bytes() == csv_text(people).encode("gb18030")


def test_a_binary_file_named_csv_is_unreadable(tmp_path: Path, specs, policy) -> None:
    path = tmp_path / "名单.csv"
    path.write_bytes(b"\x00\x01\x02binary\x00" * 100)
    [result] = check_files([path], specs, policy)
    assert [f.code for f in result.findings] == ["file_unreadable"]
    assert "CSV" in result.findings[0].message


def test_a_csv_beyond_the_row_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "名单.csv"
    path.write_text(csv_text(PEOPLE), encoding="utf-8")
    with pytest.raises(ReadFailure) as refused:
        read_book(path, Limits(max_rows=4))
    assert refused.value.code == "too_large" and "7 行" in refused.value.reason


def test_a_long_csv_with_one_mistake_still_gets_its_annotated_copy(tmp_path: Path, specs, policy) -> None:
    """A 12,000-person export: the copy is rebuilt row by row through openpyxl within the run's time limit for a
    job (looking up each appended row by number once scanned the whole sheet each time: the job was given up)."""
    people = make_people(12_000, seed=31)
    people[11_000] = with_changes(people[11_000], phone="12345")
    path = tmp_path / "全市名单.csv"
    path.write_bytes(csv_text(people).encode("utf-8"))
    [result] = check_files([path], specs, policy)
    assert ("phone_invalid", "E11003") in [(f.code, f.cell) for f in result.findings]  # (and chance duplicates)
    pool = WorkerPool(1)  # as a run makes its copies: in a worker, given up after the run's time limit
    try:
        [copy] = pool.run(annotate_copy, [(path, result.findings, tmp_path / "批注.xlsx")])
    finally:
        pool.close()
    assert isinstance(copy, Annotated), copy
    sheet = load_workbook(copy.path, read_only=True)["全市名单"]
    [[phone]] = sheet.iter_rows(min_row=11_003, max_row=11_003, min_col=5, max_col=5, values_only=True)
    assert phone == "12345"
