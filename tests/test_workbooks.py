"""Workbooks read as the office made them (#12): every 部门 sheet, 汇总 sheets checked and not added, hidden
sheets never read, merged cells spread, and files that are not our forms told so.

Each case goes through a real run; what reaches 明细, 实名制发放表 and 按单位汇总 is compared with what the test
itself put into the workbook."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from tests.factory import Person, fill_stats, libreoffice_convert, make_people, make_team, stats_for
from tests.workbooks import (
    amount_sum,
    department_book,
    hidden_last_year_book,
    list_without_amounts,
    merged_department_registration,
    merged_workplace_book,
    payroll_slip,
    summed_book,
)
from unionbatch.pipeline import check_files, run_batch
from unionbatch.records import ACCEPTED, ACCEPTED_WITH_WARNINGS, REJECTED

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = make_people(10, seed=70)
DEPARTMENTS = {"办公室": PEOPLE[:3], "财务科": PEOPLE[3:7], "后勤处": PEOPLE[7:]}


def table(path: Path, sheet: str, first_header: str) -> list[dict[str, Any]]:
    """The rows of an output sheet under its header row (the row starting with `first_header`), up to 合计."""
    grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
    start = next(index for index, row in enumerate(grid) if row and row[0] == first_header)
    header = grid[start]
    rows = []
    for values in grid[start + 1 :]:
        if not any(value != "" for value in values) or values[0] in ("合计", "总计"):
            break
        rows.append(dict(zip(header, values, strict=False)))
    return rows


def yuan(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def consolidated(out: Path) -> Path:
    return out / "2026-11" / "慰问名单汇总.xlsx"


def assert_everyone_once(out: Path, expected: dict[str, list[Person]], unit: str) -> None:
    """明细 and 实名制发放表 hold each expected person exactly once, with their sheet; 按单位汇总 the sums."""
    people = [person for members in expected.values() for person in members]
    detail = table(consolidated(out), "明细", "序号")
    assert sorted(row["身份证号"] for row in detail) == sorted(person.id_number for person in people)
    sheet_of = {person.id_number: sheet for sheet, members in expected.items() for person in members}
    assert {row["身份证号"]: row["来源工作表"] for row in detail} == sheet_of
    signoff = table(consolidated(out), "实名制发放表", "序号")
    assert sorted(row["身份证号"] for row in signoff) == sorted(person.id_number for person in people)
    assert sum(yuan(row["慰问金额(元)"]) for row in signoff) == amount_sum(people)
    [by_unit] = table(consolidated(out), "按单位汇总", "单位")
    assert (by_unit["单位"], int(by_unit["户数"]), yuan(by_unit["慰问金额(元)"])) == (
        unit,
        len(people),
        amount_sum(people),
    )


@pytest.mark.parametrize("suffix", [".xlsx", ".xls", ".ods"])
def test_every_department_sheet_is_read_and_the_units_statistics_agree(tmp_path: Path, suffix: str) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    made = department_book(tmp_path / "机关工会慰问名单.xlsx", "机关工会", DEPARTMENTS)
    if suffix == ".xlsx":
        made.rename(inbox / made.name)
    else:
        libreoffice_convert(made, inbox / f"机关工会慰问名单{suffix}", {".xls": "MS Excel 97", ".ods": "calc8"}[suffix])
    fill_stats(inbox / "机关工会统计表.xlsx", "机关工会", [stats_for(PEOPLE)])
    report = run_batch(inbox, tmp_path / "out", "2026-11")
    statuses = {result.path.name: result.status for result in report.files}
    assert statuses == {f"机关工会慰问名单{suffix}": ACCEPTED, "机关工会统计表.xlsx": ACCEPTED}
    assert_everyone_once(tmp_path / "out", DEPARTMENTS, "机关工会")
    detail = table(consolidated(tmp_path / "out"), "明细", "序号")
    # 工作单位 left blank: each row takes its sheet's name (the README's choice)
    assert {row["姓名"]: row["工作单位"] for row in detail} == {
        person.name: sheet for sheet, members in DEPARTMENTS.items() for person in members
    }


def test_a_duplicate_across_two_sheets_of_one_file_names_both_sheets(tmp_path: Path, specs, policy) -> None:
    path = department_book(
        tmp_path / "名单.xlsx", "机关工会", {"办公室": PEOPLE[:3], "财务科": [*PEOPLE[3:6], PEOPLE[1]]}
    )
    [result] = check_files([path], specs, policy)
    [finding] = [f for f in result.findings if f.code == "duplicate_in_file"]
    assert (finding.sheet, finding.cell) == ("财务科", "D7")
    assert "工作表“办公室”第 5 行" in finding.message


def test_a_summary_sheet_of_formulas_is_checked_and_never_added(tmp_path: Path) -> None:
    schools = {"一中": PEOPLE[:4], "实验小学": PEOPLE[4:]}
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    source = summed_book(tmp_path / "made.xlsx", "教育系统工会", schools)
    libreoffice_convert(source, inbox / "教育系统工会慰问名单.xlsx", "Calc MS Excel 2007 XML")  # values computed
    report = run_batch(inbox, tmp_path / "out", "2026-11")
    [result] = report.files
    assert result.status == ACCEPTED, result.findings
    assert result.rows == len(PEOPLE)
    assert_everyone_once(tmp_path / "out", schools, "教育系统工会")


def test_a_summary_figure_that_disagrees_with_its_sheet_is_a_total_mismatch(tmp_path: Path, specs, policy) -> None:
    schools = {"一中": PEOPLE[:4], "实验小学": PEOPLE[4:]}
    wrong = amount_sum(PEOPLE[4:]) + 500
    source = summed_book(tmp_path / "made.xlsx", "教育系统工会", schools, stated={"C5": float(wrong)})
    path = libreoffice_convert(source, tmp_path / "教育.xlsx", "Calc MS Excel 2007 XML")
    [result] = check_files([path], specs, policy)
    mismatches = [(f.sheet, f.cell) for f in result.findings if f.code == "total_mismatch"]
    # the school's row, and the 合计 row that sums it
    assert mismatches == [("汇总", "C5"), ("汇总", "C6")]
    assert result.status == REJECTED and result.rows == len(PEOPLE)


def test_a_hidden_sheet_never_wins_and_is_reported(tmp_path: Path) -> None:
    this_year, last_year = PEOPLE[:6], make_people(8, seed=72)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    hidden_last_year_book(inbox / "城东名单.xlsx", "城东街道工会", this_year, last_year)
    report = run_batch(inbox, tmp_path / "out", "2026-11")
    [result] = report.files
    assert result.status == ACCEPTED_WITH_WARNINGS
    assert [(f.code, f.sheet) for f in result.findings] == [("hidden_sheet", "2025年")]
    assert_everyone_once(tmp_path / "out", {"2026年": this_year}, "城东街道工会")


def test_a_list_only_on_a_hidden_sheet_is_said_so(tmp_path: Path, specs, policy) -> None:
    path = hidden_last_year_book(tmp_path / "名单.xlsx", "城东街道工会", [], PEOPLE, only_hidden=True)
    [result] = check_files([path], specs, policy)
    assert result.status == REJECTED and result.parsed is None
    assert [(f.code, f.sheet) for f in result.findings] == [
        ("form_in_hidden_sheet", "2025年"),
        ("hidden_sheet", "2025年"),
    ]


@pytest.mark.parametrize("suffix", [".xlsx", ".xls", ".ods"])
def test_a_merged_workplace_applies_to_every_row_it_spans(tmp_path: Path, suffix: str) -> None:
    groups = {"市一医院": PEOPLE[:4], "市二医院": PEOPLE[4:7], "疾控中心": PEOPLE[7:]}
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    made = merged_workplace_book(tmp_path / "卫健.xlsx", "卫健系统工会", groups)
    if suffix == ".xlsx":
        made.rename(inbox / made.name)
    else:  # calamine reports an .xls file's merges; those of OpenDocument are read from its content.xml
        libreoffice_convert(made, inbox / f"卫健{suffix}", {".xls": "MS Excel 97", ".ods": "calc8"}[suffix])
    report = run_batch(inbox, tmp_path / "out", "2026-11")
    assert [result.status for result in report.files] == [ACCEPTED]
    detail = table(consolidated(tmp_path / "out"), "明细", "序号")
    assert {row["姓名"]: row["工作单位"] for row in detail} == {
        person.name: workplace for workplace, members in groups.items() for person in members
    }


def test_a_finding_inside_a_merged_cell_points_at_the_cell_the_sender_edits(tmp_path: Path, specs, policy) -> None:
    path = merged_workplace_book(
        tmp_path / "名单.xlsx", "卫健系统工会", {"市一医院": PEOPLE[:4]}, merged_tier=(5, 7, "特别困难")
    )
    [result] = check_files([path], specs, policy)
    found = [(f.cell, f.value) for f in result.findings if f.code == "invalid_choice"]
    assert found == [("G5", "特别困难")] * 3
    messages = [f.message for f in result.findings if f.code == "invalid_choice"]
    assert "合并单元格 G5:G7" in messages[1] and "第 6 行" in messages[1]


def test_a_merged_department_forms_no_phantom_team(tmp_path: Path) -> None:
    teams = {
        "数学学院": make_team("数学学院", 81, [["托球跑", "一分钟跳绳"]] * 3),
        "外国语学院": make_team("外国语学院", 82, [["摸石过河", "踢毽子"]] * 4),
    }
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    merged_department_registration(inbox / "文科报名.xlsx", "文理学院分工会", teams)
    report = run_batch(inbox, tmp_path / "out", "2026-11", ROOT / "samples" / "policy.toml")
    assert [result.status for result in report.files] == [ACCEPTED], report.files[0].findings
    counts = table(tmp_path / "out" / "2026-11" / "报名汇总.xlsx", "各部门人数", "代表队")
    assert {row["代表队"]: int(row["报名人数"]) for row in counts} == {"数学学院": 3, "外国语学院": 4}


def test_a_payroll_slip_is_not_one_of_our_forms(tmp_path: Path, specs, policy) -> None:
    [result] = check_files([payroll_slip(tmp_path / "工资条.xlsx", PEOPLE)], specs, policy)
    assert [f.code for f in result.findings] == ["not_a_form"]


def test_a_list_lacking_the_amounts_is_told_which_form_and_columns(tmp_path: Path, specs, policy) -> None:
    [result] = check_files([list_without_amounts(tmp_path / "名单.xlsx", "机关工会", PEOPLE)], specs, policy)
    [finding] = result.findings
    assert (finding.code, finding.cell) == ("form_incomplete", None)
    assert "慰问名单" in finding.message and "慰问金额" in finding.message


def test_very_hidden_sheets_and_instruction_sheets_are_not_lists(tmp_path: Path, specs, policy) -> None:
    path = department_book(
        tmp_path / "名单.xlsx", "机关工会", {"填表说明": PEOPLE[:2], "办公室": PEOPLE[2:5], "旧表": PEOPLE[5:]}
    )
    workbook = load_workbook(path)
    workbook["旧表"].sheet_state = "veryHidden"
    workbook.save(path)
    [result] = check_files([path], specs, policy)
    assert result.parsed is not None and result.parsed.sheet_names == ("办公室",)
    assert result.rows == 3
    assert [(f.code, f.sheet) for f in result.findings] == [("hidden_sheet", "旧表")]


def test_a_sheet_repeating_the_others_people_is_a_summary(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    departments = {"总表": PEOPLE, "办公室": PEOPLE[:5], "财务科": PEOPLE[5:]}
    department_book(inbox / "机关工会.xlsx", "机关工会", departments)
    report = run_batch(inbox, tmp_path / "out", "2026-11")
    [result] = report.files
    assert result.status == ACCEPTED and result.parsed is not None
    assert result.parsed.sheet_names == ("办公室", "财务科")
    assert_everyone_once(tmp_path / "out", {"办公室": PEOPLE[:5], "财务科": PEOPLE[5:]}, "机关工会")


def test_a_default_sheet_name_does_not_become_a_workplace(tmp_path: Path, specs, policy) -> None:
    path = department_book(tmp_path / "名单.xlsx", "机关工会", {"Sheet1": PEOPLE[:3], "财务科": PEOPLE[3:6]})
    [result] = check_files([path], specs, policy)
    assert result.parsed is not None
    assert result.parsed.frame["workplace"].tolist() == ["机关工会"] * 3 + ["财务科"] * 3
