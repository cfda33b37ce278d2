"""Reading sheets as units really build them: two-row headers, 小计 rows, macros, formulas in the totals."""

from __future__ import annotations

import zipfile
from pathlib import Path

from openpyxl import load_workbook

from tests.annotated import LIST_HEADER, header_row
from tests.conftest import CORPUS
from tests.factory import fill_template, libreoffice_convert, make_people, write_own_layout
from unionbatch.annotate import sheet_title
from unionbatch.pipeline import check_files, run_batch

PEOPLE = make_people(6, seed=61)
HEADER = ["姓名", "身份证号", "联系电话", "困难类别", "致困原因", "家庭人口", "家庭年收入", "刚性支出", "慰问金额"]


def as_row(p) -> list:
    return [p.name, p.id_number, p.phone, p.tier, p.cause, p.household, p.income, p.expense, p.amount]


def test_two_row_header(tmp_path: Path, specs, policy) -> None:
    upper = ["姓名", "身份证号", "联系电话", "困难类别", "致困原因", "家庭情况", None, None, "慰问金额"]
    lower = [None, None, None, None, None, "家庭人口", "家庭年收入", "刚性支出", None]
    rows = [as_row(p) for p in PEOPLE]
    path = write_own_layout(tmp_path / "两行表头.xlsx", [["填报单位:甲工会"], upper], lower, rows)
    [result] = check_files([path], specs, policy)
    assert (result.status, result.rows) == ("accepted", 6)
    assert result.parsed.location.header_row == 2  # the second header row (0-based), data from Excel row 4


def test_subtotal_rows_check_their_own_block(tmp_path: Path, specs, policy) -> None:
    first, second = PEOPLE[:3], PEOPLE[3:]
    rows = [
        *(as_row(p) for p in first),
        ["小计", None, None, None, None, None, None, None, sum(p.amount for p in first)],
        *(as_row(p) for p in second),
        ["小计", None, None, None, None, None, None, None, sum(p.amount for p in second) + 10],
        ["合计", None, None, None, None, None, None, None, sum(p.amount for p in PEOPLE)],
    ]
    path = write_own_layout(tmp_path / "小计.xlsx", [["填报单位:甲工会"]], HEADER, rows)
    [result] = check_files([path], specs, policy)
    assert result.rows == 6
    assert [(f.code, f.cell) for f in result.findings] == [("total_mismatch", "I10")]
    assert "相差 10.00" in result.findings[0].message


def test_macros_never_reach_the_annotated_copy(tmp_path: Path) -> None:
    vba = tmp_path / "vbaProject.bin"
    with zipfile.ZipFile(CORPUS / "number_format.xlsm") as source:
        vba.write_bytes(source.read("xl/vbaProject.bin"))
    inbox = tmp_path / "inbox"
    rows = [as_row(p) for p in PEOPLE]
    rows[0][2] = "12345"
    macro_book = write_own_layout(inbox / "带宏.xlsm", [["填报单位:甲工会"]], HEADER, rows, vba_project=vba)
    with zipfile.ZipFile(macro_book) as book:
        assert "xl/vbaProject.bin" in book.namelist()
    report = run_batch(inbox, tmp_path / "out", "2026-04")
    annotated = report.files[0].annotated
    assert annotated is not None and annotated.suffix == ".xlsx"
    with zipfile.ZipFile(annotated) as copy:
        assert not any("vba" in name.lower() for name in copy.namelist())
    assert load_workbook(annotated)["Sheet1"]["C3"].comment is not None


def test_sender_text_that_looks_like_a_formula_stays_text(tmp_path: Path, specs, policy) -> None:
    inbox = tmp_path / "inbox"
    rows = [as_row(p) for p in PEOPLE]
    rows[1][4] = '=HYPERLINK("http://example.invalid","点我")'
    write_own_layout(inbox / "注入.xlsx", [["填报单位:甲工会"]], HEADER, rows)
    report = run_batch(inbox, tmp_path / "out", "2026-04")
    copy = load_workbook(report.files[0].annotated)["错误清单"]
    value = copy.cell(header_row(copy) + 1, LIST_HEADER.index("填写内容") + 1)
    assert (value.data_type, value.value) == ("s", rows[1][4])


def test_same_name_different_format_get_separate_annotated_copies(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    rows = [as_row(p) for p in PEOPLE]
    rows[0][2] = "12345"
    for name, unit in (("名单.xlsx", "甲工会"), ("名单.xlsm", "乙工会")):  # not the same bytes: those are one file
        write_own_layout(inbox / name, [[f"填报单位:{unit}"]], HEADER, rows)
    report = run_batch(inbox, tmp_path / "out", "2026-04")
    names = sorted(result.annotated.name for result in report.files if result.annotated)
    assert names == ["名单.xlsx_批注.xlsx", "名单_批注.xlsx"]


def test_rows_with_only_a_prefilled_row_number_are_blank(tmp_path: Path, specs, policy) -> None:
    path = fill_template(tmp_path / "预填序号.xlsx", "甲工会", PEOPLE[:3], edits={f"A{r}": r - 3 for r in range(7, 30)})
    [result] = check_files([path], specs, policy)
    assert (result.status, result.rows) == ("accepted", 3)


def test_ods_from_libreoffice_gets_an_annotated_copy_with_its_sheet_names(tmp_path: Path) -> None:
    rows = [as_row(p) for p in PEOPLE]
    rows[0][2] = "12345"
    source = write_own_layout(tmp_path / "名单.xlsx", [["填报单位:甲工会"]], HEADER, rows)
    workbook = load_workbook(source)
    workbook["Sheet1"].title = "名单(11月)"
    workbook.save(source)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    ods = libreoffice_convert(source, inbox / "名单.ods", "calc8")
    assert sheet_title("a/b:c*d?[e]") == "a_b_c_d__e_"
    report = run_batch(inbox, tmp_path / "out", "2026-04")
    [result] = report.files
    assert result.annotated is not None and not ods.exists() and result.path.exists()  # archived
    assert load_workbook(result.annotated)["名单(11月)"]["C3"].comment is not None
