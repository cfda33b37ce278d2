"""Workbooks made independently, in units' own layouts (tests/office_workbooks.py), through a real run: what
reaches 明细, 实名制发放表, 按单位汇总 and report.json is compared with what the builder put in."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pytest

import tests.office_workbooks as office
from tests.factory import Person, libreoffice_convert, make_people, make_team, stats_for
from tests.test_workbooks import consolidated, table, yuan
from unionbatch.pipeline import check_files, run_batch
from unionbatch.records import ACCEPTED, ACCEPTED_WITH_WARNINGS, REJECTED

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "samples" / "policy.toml"
PEOPLE = make_people(12, seed=901)
DEPARTMENTS = {"办公室": PEOPLE[:4], "财务科": PEOPLE[4:8], "后勤处": PEOPLE[8:]}
FORMATS = {".xls": "MS Excel 97", ".ods": "calc8", ".xlsx": "Calc MS Excel 2007 XML"}


def inbox_with(tmp_path: Path, build, suffix: str | None = None) -> Path:
    """An inbox holding the workbook `build(folder)` makes; saved through LibreOffice as `suffix` if given."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    if suffix is None:
        build(inbox)
        return inbox
    made_in = tmp_path / "made"
    made_in.mkdir()
    made = build(made_in).path
    libreoffice_convert(made, inbox / f"{made.stem}{suffix}", FORMATS[suffix])
    return inbox


def run(inbox: Path, policy: Path | None = None):
    return run_batch(inbox, inbox.parent / "out", "2026-11", policy)


def workplaces(out: Path) -> dict[str, str]:
    return {row["身份证号"]: row["工作单位"] for row in table(consolidated(out), "明细", "序号")}


def assert_paid_once(out: Path, people: Sequence[Person], unit: str) -> None:
    """明细 and 实名制发放表 hold exactly `people`, once each; 按单位汇总 their count and sum to the fen."""
    expected = sorted(person.id_number for person in people)
    assert sorted(row["身份证号"] for row in table(consolidated(out), "明细", "序号")) == expected
    signoff = table(consolidated(out), "实名制发放表", "序号")
    assert sorted(row["身份证号"] for row in signoff) == expected
    total = office.amount_sum(people)
    assert sum(yuan(row["慰问金额(元)"]) for row in signoff) == total
    [by_unit] = table(consolidated(out), "按单位汇总", "单位")
    assert (by_unit["单位"], int(by_unit["户数"]), yuan(by_unit["慰问金额(元)"])) == (unit, len(people), total)


def by_department(groups: dict[str, Sequence[Person]]) -> dict[str, str]:
    return {person.id_number: name for name, members in groups.items() for person in members}


@pytest.mark.parametrize("suffix", [None, ".ods"])
def test_department_sheets_each_in_its_clerks_own_layout_are_all_read(tmp_path: Path, suffix: str | None) -> None:
    inbox = inbox_with(
        tmp_path, lambda folder: office.department_sheets(folder / "机关工会名单.xlsx", "机关工会", DEPARTMENTS), suffix
    )
    report = run(inbox)
    assert [result.status for result in report.files] == [ACCEPTED], report.files[0].findings
    assert_paid_once(inbox.parent / "out", PEOPLE, "机关工会")
    assert workplaces(inbox.parent / "out") == by_department(DEPARTMENTS)
    signoff = table(consolidated(inbox.parent / "out"), "实名制发放表", "序号")
    goods = sum(yuan(row["慰问物资折款(元)"]) for row in signoff)
    assert goods == office.goods_sum(PEOPLE[4:])  # only 财务科 and 后勤处 have the column


def test_notes_typed_under_the_table_are_not_people(tmp_path: Path) -> None:
    inbox = inbox_with(
        tmp_path, lambda folder: office.list_with_notes_below(folder / "名单.xlsx", "机关工会", PEOPLE[:5])
    )
    [result] = run(inbox).files
    assert (result.status, result.rows, result.findings) == (ACCEPTED, 5, [])
    assert_paid_once(inbox.parent / "out", PEOPLE[:5], "机关工会")


@pytest.mark.parametrize("suffix", ["名单", "慰问名单", "(终稿)"])
def test_a_sheet_named_for_the_form_still_names_its_department(tmp_path: Path, suffix: str) -> None:
    inbox = inbox_with(
        tmp_path,
        lambda folder: office.sheets_named_for_the_form(folder / "机关.xlsx", "机关工会", DEPARTMENTS, suffix),
    )
    assert [result.status for result in run(inbox).files] == [ACCEPTED]
    assert workplaces(inbox.parent / "out") == by_department(DEPARTMENTS)


TEAMS = {
    "数学系": make_team("数学系", 11, [["托球跑", "一分钟跳绳"], ["摸石过河"], ["托球跑", "踢毽子"]]),
    "物理系": make_team("物理系", 12, [["摸石过河", "踢毽子"]] * 4),
}


def team_sizes(out: Path) -> dict[str, int]:
    counts = table(out / "2026-11" / "报名汇总.xlsx", "各部门人数", "代表队")
    return {row["代表队"]: int(row["报名人数"]) for row in counts}


@pytest.mark.parametrize("suffix", ["报名表", ""])
def test_a_registration_sheet_per_department_forms_one_team_each(tmp_path: Path, suffix: str) -> None:
    inbox = inbox_with(
        tmp_path,
        lambda folder: office.registration_sheet_per_department(folder / "理学院.xlsx", "理学院分工会", TEAMS, suffix),
    )
    assert [result.status for result in run(inbox, POLICY).files] == [ACCEPTED]
    assert team_sizes(inbox.parent / "out") == {"数学系": 3, "物理系": 4}


@pytest.mark.parametrize("suffix", [None, ".xls"])
def test_a_merged_department_over_tick_columns_under_a_merged_group_title(tmp_path: Path, suffix: str | None) -> None:
    events = ["拔河", "托球跑", "一分钟跳绳", "踢毽子", "摸石过河"]
    inbox = inbox_with(
        tmp_path,
        lambda folder: office.merged_department_ticks(folder / "理学院报名.xlsx", "理学院分工会", TEAMS, events),
        suffix,
    )
    assert [result.status for result in run(inbox, POLICY).files] == [ACCEPTED]
    assert team_sizes(inbox.parent / "out") == {"数学系": 3, "物理系": 4}
    entries = table(inbox.parent / "out" / "2026-11" / "报名汇总.xlsx", "各部门人数", "代表队")
    assert {row["代表队"]: int(row["踢毽子"]) for row in entries} == {"数学系": 1, "物理系": 4}


def test_a_master_sheet_with_a_department_column_is_not_added_nor_misread(tmp_path: Path) -> None:
    inbox = inbox_with(
        tmp_path, lambda folder: office.master_and_departments(folder / "机关.xlsx", "机关工会", DEPARTMENTS)
    )
    [result] = run(inbox).files
    assert (result.status, result.findings) == (ACCEPTED, [])
    assert result.parsed is not None and result.parsed.sheet_names == tuple(DEPARTMENTS)
    assert_paid_once(inbox.parent / "out", PEOPLE, "机关工会")


def test_a_master_sheet_whose_amounts_disagree_is_a_total_mismatch(tmp_path: Path, specs, policy) -> None:
    made = office.master_and_departments(tmp_path / "机关.xlsx", "机关工会", DEPARTMENTS, {5: 9999})
    [result] = check_files([made.path], specs, policy)
    [mismatch] = [finding for finding in result.findings if finding.code == "total_mismatch"]
    total = office.amount_sum(PEOPLE)
    changed = total - Decimal(PEOPLE[5].amount) + 9999
    assert mismatch.sheet == "总表" and f"{total:,.2f}" in mismatch.message and mismatch.value == f"{changed}"
    assert result.status == REJECTED


def test_a_typed_summary_sheet_is_checked_row_by_row(tmp_path: Path, specs, policy) -> None:
    right = office.typed_summary_first(tmp_path / "对.xlsx", "机关工会", DEPARTMENTS)
    wrong_amount = office.amount_sum(DEPARTMENTS["财务科"]) + 100
    wrong = office.typed_summary_first(tmp_path / "错.xlsx", "机关工会", DEPARTMENTS, wrong=("财务科", wrong_amount))
    accepted, rejected = check_files([right.path, wrong.path], specs, policy)
    assert (accepted.status, accepted.rows, accepted.findings) == (ACCEPTED, len(PEOPLE), [])
    # 汇总表: title, header, then 办公室 (row 3), 财务科 (row 4): its 慰问金额 in D
    assert [(f.code, f.sheet, f.cell) for f in rejected.findings] == [("total_mismatch", "汇总表", "D4")]


def test_a_hidden_dropdown_sheet_is_no_warning_and_the_instructions_no_list(tmp_path: Path) -> None:
    inbox = inbox_with(
        tmp_path,
        lambda folder: office.with_instructions_and_dropdowns(folder / "机关.xlsx", "机关工会", DEPARTMENTS),
    )
    [result] = run(inbox).files
    assert (result.status, result.findings) == (ACCEPTED, [])
    assert_paid_once(inbox.parent / "out", PEOPLE, "机关工会")


def test_last_years_visible_sheet_beside_this_years_is_not_read(tmp_path: Path) -> None:
    last_year = make_people(5, seed=902)
    inbox = inbox_with(
        tmp_path, lambda folder: office.two_years_visible(folder / "城东.xlsx", "城东街道工会", last_year, PEOPLE[:6])
    )
    [result] = run(inbox).files
    assert result.status == ACCEPTED_WITH_WARNINGS
    assert [(f.code, f.sheet) for f in result.findings] == [("earlier_year_sheet", "2025年")]
    assert "2025 年" in result.findings[0].message and "2026 年" in result.findings[0].message
    assert_paid_once(inbox.parent / "out", PEOPLE[:6], "城东街道工会")


def test_a_year_in_the_date_line_is_no_sheet_year(tmp_path: Path, specs, policy) -> None:
    """Every 部门 sheet says 填报日期:2026年11月18日, and one was filled on 2025年12月30日: all are read."""
    made = office.department_sheets(tmp_path / "机关.xlsx", "机关工会", DEPARTMENTS)
    from openpyxl import load_workbook

    workbook = load_workbook(made.path)
    workbook["财务科"]["A1"] = "财务科困难职工慰问名单"
    workbook["财务科"]["L2"] = "填报日期:2025年12月30日"
    workbook.save(made.path)
    [result] = check_files([made.path], specs, policy)
    assert result.parsed is not None and result.parsed.sheet_names == tuple(DEPARTMENTS)
    assert result.findings == []


def test_a_workbook_of_several_units_sheets_is_refused_not_credited_to_the_first(tmp_path: Path) -> None:
    towns = {
        "城关镇": stats_for(make_people(3, seed=903)),
        "江南镇": stats_for(make_people(4, seed=904)),
        "北山乡": stats_for(make_people(2, seed=905)),
    }
    inbox = inbox_with(tmp_path, lambda folder: office.stats_per_town(folder / "县统计表.xlsx", towns))
    [result] = run(inbox).files
    assert result.status == REJECTED
    assert [f.code for f in result.findings] == ["unit_conflict"]
    assert all(f"{town}工会" in result.findings[0].message for town in towns)
    report = json.loads((inbox.parent / "out" / "2026-11" / "report.json").read_text(encoding="utf-8"))
    assert [file["status"] for file in report["files"]] == ["rejected"] and "送温暖统计表" not in report["totals"]


@pytest.mark.parametrize("suffix", [None, ".ods"])
def test_merges_over_blank_rows_and_past_the_last_person_add_nobody(tmp_path: Path, suffix: str | None) -> None:
    groups = {"市一医院": PEOPLE[:4], "疾控中心": PEOPLE[4:7], "妇幼保健院": PEOPLE[7:]}
    inbox = inbox_with(
        tmp_path,
        lambda folder: office.merged_workplace_with_gaps(folder / "卫健.xlsx", "卫健系统工会", groups, overrun=6),
        suffix,
    )
    [result] = run(inbox).files
    assert (result.status, result.findings) == (ACCEPTED, [])
    assert_paid_once(inbox.parent / "out", PEOPLE, "卫健系统工会")
    assert workplaces(inbox.parent / "out") == by_department(groups)


def test_subtotals_a_merged_total_label_and_a_merged_footer(tmp_path: Path) -> None:
    groups = {"市一医院": PEOPLE[:5], "疾控中心": PEOPLE[5:]}
    inbox = inbox_with(
        tmp_path,
        lambda folder: office.subtotals_and_merged_total(folder / "卫健.xlsx", "卫健系统工会", groups),
        ".xlsx",  # LibreOffice saves the =SUM values
    )
    [result] = run(inbox).files
    assert (result.status, result.findings) == (ACCEPTED, [])
    assert_paid_once(inbox.parent / "out", PEOPLE, "卫健系统工会")
    assert workplaces(inbox.parent / "out") == by_department(groups)


def test_a_subtotal_typed_wrong_is_found_at_its_cell(tmp_path: Path, specs, policy) -> None:
    groups = {"市一医院": PEOPLE[:5], "疾控中心": PEOPLE[5:]}
    source = office.subtotals_and_merged_total(tmp_path / "made.xlsx", "卫健系统工会", groups, typed_first_subtotal=1.0)
    path = libreoffice_convert(source.path, tmp_path / "卫健.xlsx", FORMATS[".xlsx"])
    [result] = check_files([path], specs, policy)
    # title, 填报单位, header, five people (rows 4–8), 小计 in row 9, seven, 小计, 合计 in row 18; 慰问金额 is column L
    assert [(f.code, f.cell) for f in result.findings] == [("total_mismatch", "L9"), ("total_mismatch", "L18")]


def test_an_empty_template_copy_an_empty_sheet2_and_a_very_hidden_old_list(tmp_path: Path) -> None:
    inbox = inbox_with(
        tmp_path, lambda folder: office.with_extra_sheets(folder / "城东.xlsx", "城东街道工会", PEOPLE[:6])
    )
    [result] = run(inbox).files
    assert result.status == ACCEPTED_WITH_WARNINGS
    assert [(f.code, f.sheet) for f in result.findings] == [("hidden_sheet", "去年")]
    assert_paid_once(inbox.parent / "out", PEOPLE[:6], "城东街道工会")


@pytest.mark.parametrize("suffix", [None, ".ods"])
def test_a_two_row_header_from_xlsxwriter_with_a_merged_total_label(tmp_path: Path, suffix: str | None) -> None:
    inbox = inbox_with(
        tmp_path, lambda folder: office.two_row_header_xlsxwriter(folder / "名单.xlsx", "机关工会", PEOPLE[:5]), suffix
    )
    [result] = run(inbox).files
    assert (result.status, result.rows, result.findings) == (ACCEPTED, 5, [])
    assert_paid_once(inbox.parent / "out", PEOPLE[:5], "机关工会")


@pytest.mark.parametrize(
    "build",
    [
        lambda folder: office.payroll(folder / "工资表.xlsx", PEOPLE),
        lambda folder: office.address_book(folder / "通讯录.xlsx", PEOPLE),
        lambda folder: office.payslip_with_ids(folder / "工资条.xlsx", PEOPLE[:5]),
    ],
    ids=["payroll", "address_book", "payslip_with_ids"],
)
def test_lists_of_people_that_are_none_of_our_forms(tmp_path: Path, build, specs, policy) -> None:
    [result] = check_files([build(tmp_path).path], specs, policy)
    assert [f.code for f in result.findings] == ["not_a_form"]


def test_a_list_sent_before_the_amounts_were_decided(tmp_path: Path, specs, policy) -> None:
    [result] = check_files([office.list_lacking_amount(tmp_path / "名单.xlsx", "机关工会", PEOPLE).path], specs, policy)
    [finding] = result.findings
    assert finding.code == "form_incomplete" and "慰问名单" in finding.message and "慰问金额" in finding.message
