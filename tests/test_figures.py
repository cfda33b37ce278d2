"""Every figure agrees with every other: the sample run's workbooks recalculated by LibreOffice (recalculation
forced), each 合计 row and 大写 line against the rows of its sheet, and the console and report.json totals
against sums this test makes from the input rows."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import run_earlier_samples, run_samples
from tests.factory import fill_template, make_people
from tests.recalc import (
    WORDS_COLUMN,
    evaluate_sums,
    libreoffice_recalculate,
    read_values,
    sheet_problems,
    totals_row,
    upper_lines,
)
from tests.test_golden import WORKBOOKS  # the workbooks a sample run writes, as the golden files hold them
from tests.test_run import ACCEPTED_SEEDS
from unionbatch import write
from unionbatch.money import rmb_upper
from unionbatch.pipeline import run_batch


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory) -> tuple[str, Path, dict, dict]:
    """(console output, output folder, workbooks as written, workbooks as LibreOffice recomputes them); the console
    output of the quick-start's earlier months is in the folder's `earlier.txt`."""
    out = tmp_path_factory.mktemp("out")
    earlier = run_earlier_samples(out)
    assert [run.exit_code for run in earlier] == [0, 0], "the README says the earlier months exit 0"
    result = run_samples(out, earlier=False)
    (out / "earlier.txt").write_text("".join(run.output for run in earlier), encoding="utf-8")
    folder = out / "2026-11"
    paths = [folder / name for name in WORKBOOKS]
    shown = {path.name: read_values(path) for path in paths}
    return result.output, folder, shown, libreoffice_recalculate(paths, out / "recalculated")


def test_every_total_and_every_total_in_words_agrees_with_its_rows_after_recalculation(recalculated) -> None:
    _, _, shown, again = recalculated
    problems = {
        f"{book} › {sheet}": found
        for book, sheets in shown.items()
        for sheet, grid in sheets.items()
        if (found := sheet_problems(grid, again[book][sheet], WORDS_COLUMN))
    }
    assert problems == {}
    checked = sum(bool(upper_lines(grid)) for sheets in shown.values() for grid in sheets.values())
    assert checked >= 8  # the 大写 lines were found (the check is not vacuous)


def _relief_people() -> list:
    return [p for count, seed in ACCEPTED_SEEDS.values() for p in make_people(count, seed)]


def test_signoff_sheet_states_cash_and_goods_each_in_words(recalculated) -> None:
    _, _, shown, again = recalculated
    people = _relief_people()
    cash, goods = sum(Decimal(p.amount) for p in people), sum(Decimal(p.goods) for p in people)
    totals = totals_row(again["慰问名单汇总.xlsx"]["实名制发放表"])
    assert (totals["慰问金额(元)"], totals["慰问物资折款(元)"]) == (cash, goods)
    words = dict(upper_lines(shown["慰问名单汇总.xlsx"]["实名制发放表"]))
    assert sorted(words.values()) == sorted([rmb_upper(cash), rmb_upper(goods)])  # no words for cash + goods here


def test_personal_prizes_in_words_leave_out_the_team_prizes(recalculated) -> None:
    _, folder, shown, again = recalculated
    personal = totals_row(again["积分与奖金.xlsx"]["个人奖金"])["合计(元)"]
    teams = totals_row(again["积分与奖金.xlsx"]["团体总分"])["团体奖(元)"]
    by_dept = totals_row(again["积分与奖金.xlsx"]["部门奖金"])
    assert teams > 0 and by_dept["合计(元)"] == personal + teams and by_dept["团体奖(元)"] == teams
    assert [words for _, words in upper_lines(shown["积分与奖金.xlsx"]["个人奖金"])] == [rmb_upper(personal)]
    assert [words for _, words in upper_lines(shown["积分与奖金.xlsx"]["部门奖金"])] == [rmb_upper(personal + teams)]
    totals = json.loads((folder / "report.json").read_text(encoding="utf-8"))["totals"]["成绩登记表"]
    assert (Decimal(totals["personal"]), Decimal(totals["team"]), Decimal(totals["total"])) == (
        personal,
        teams,
        personal + teams,
    )
    assert totals["personal_upper"] == rmb_upper(personal)


def test_console_and_report_json_quote_the_sums_of_the_input_rows(recalculated) -> None:
    output, folder, _, again = recalculated
    people = _relief_people()
    cash, goods = sum(Decimal(p.amount) for p in people), sum(Decimal(p.goods) for p in people)
    totals = json.loads((folder / "report.json").read_text(encoding="utf-8"))["totals"]
    relief = totals["慰问名单"]
    assert (relief["households"], Decimal(relief["amount"]), Decimal(relief["goods"])) == (len(people), cash, goods)
    assert (relief["amount_upper"], relief["goods_upper"]) == (rmb_upper(cash), rmb_upper(goods))
    assert f"慰问金 {cash:,.2f} 元({rmb_upper(cash)})" in output
    assert f"物资折款 {goods:,.2f} 元({rmb_upper(goods)})" in output
    stats = totals_row(again["送温暖统计汇总.xlsx"]["按单位汇总"])["合计(元)"]
    assert Decimal(totals["送温暖统计表"]["total"]) == stats
    assert f"合计 {stats:,.2f} 元({rmb_upper(stats)})" in output


def test_the_check_fails_a_total_whose_range_leaves_out_the_last_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer's cached totals are right, the formula's range is one row short: only a recalculation sees it."""
    inbox = tmp_path / "inbox"
    fill_template(inbox / "甲工会.xlsx", "甲工会", make_people(4, seed=51))
    original = write._write_totals

    def short_range(worksheet, sheet, totals, row, first, formats) -> None:
        shortened = type(sheet)(**{**vars(sheet), "rows": list(sheet.rows)[:-1]}) if len(sheet.rows) > 1 else sheet
        original(worksheet, shortened, totals, row, first, formats)  # range of one row fewer, cached values kept

    report = run_batch(inbox, tmp_path / "good", "2026-02", keep_inbox=True)
    good = report.folder / "慰问名单汇总.xlsx"
    monkeypatch.setattr(write, "_write_totals", short_range)
    bad = run_batch(inbox, tmp_path / "bad", "2026-02", keep_inbox=True).folder / "慰问名单汇总.xlsx"
    for path in (good, bad):
        by_lo = libreoffice_recalculate([path], tmp_path / path.parent.parent.name / "recalculated")[path.name]
        ours = evaluate_sums(path)
        shown = read_values(path)
        for again in (by_lo, ours):
            problems = sheet_problems(shown["实名制发放表"], again["实名制发放表"], WORDS_COLUMN)
            assert bool(problems) == (path == bad), problems


# The one status vocabulary, as this test expects to read it everywhere.
STATUS_WORDS = {
    "accepted": "已受理",
    "accepted_with_warnings": "已受理(有警告)",
    "rejected": "退回修改",
    "replaced": "已被新版替换",
}


def _files(folder: Path) -> list[dict]:
    return json.loads((folder / "report.json").read_text(encoding="utf-8"))["files"]


def test_every_file_has_one_status_everywhere_and_replaced_files_count_nowhere(recalculated) -> None:
    output, folder, shown, again = recalculated
    files = _files(folder)
    assert {entry["status"] for entry in files} == set(STATUS_WORDS)  # the samples have each outcome
    sheet = shown["处理报告.xlsx"]["文件"]
    header = sheet[1]
    by_file = {row[header.index("文件")]: row for row in sheet[2:] if row[0] != "合计"}
    for entry in files:
        name, words = Path(entry["path"]).name, STATUS_WORDS[entry["status"]]
        assert by_file[name][header.index("状态")] == words
        assert any(line.startswith(f"  {words}  ") and f"  {name}  " in line for line in output.splitlines()), name
        assert (entry["status"] == "replaced") == (entry["replaced_by"] is not None)
    counted = sum(entry["rows"] for entry in files if entry["status"] in ("accepted", "accepted_with_warnings"))
    assert totals_row(again["处理报告.xlsx"]["文件"])["计入汇总行数"] == counted
    relief = sum(entry["rows"] for entry in files if entry["kind"] == "慰问名单" and entry["status"].startswith("acc"))
    assert totals_row(again["慰问名单汇总.xlsx"]["按单位汇总"])["户数"] == relief


def test_rejected_and_replaced_rows_stand_out_in_the_office_report(recalculated) -> None:
    from openpyxl import load_workbook

    _, folder, _, _ = recalculated
    sheet = load_workbook(folder / "处理报告.xlsx")["文件"]
    status_column = [c.value for c in sheet[2]].index("状态")
    looks = {}
    for row in sheet.iter_rows(min_row=3):
        if row[status_column].value in STATUS_WORDS.values():
            cell = row[0]
            looks.setdefault(row[status_column].value, set()).add(
                (cell.fill.start_color.rgb, cell.font.color.rgb if cell.font.color else None)
            )
    assert all(len(found) == 1 for found in looks.values())  # one look per status
    assert looks["退回修改"] != looks["已受理"] and looks["已被新版替换"] != looks["已受理"]
    assert next(iter(looks["退回修改"]))[0].endswith("FFC7CE")


def test_reconciliation_counts_are_integers_disagreements_highlighted_and_both_roll_ups_reconcile(
    recalculated,
) -> None:
    from openpyxl import load_workbook

    _, folder, shown, again = recalculated
    sheet = load_workbook(folder / "送温暖统计汇总.xlsx")["与名单核对"]
    header = [c.value for c in sheet[2]]
    for row in sheet.iter_rows(min_row=3):
        for cell, name in zip(row, header, strict=False):
            if name and "户数" in name and isinstance(cell.value, int | float):
                assert cell.number_format == write.INT_FORMAT and cell.value == int(cell.value), (name, cell.value)
        if row[header.index("结果")].value == "不一致":
            assert row[0].fill.start_color.rgb.endswith(("FFEB9C", "FFC7CE")), row[0].value
    totals = totals_row(again["送温暖统计汇总.xlsx"]["与名单核对"])
    stats = totals_row(again["送温暖统计汇总.xlsx"]["按单位汇总"])
    relief = totals_row(again["慰问名单汇总.xlsx"]["按单位汇总"])
    assert totals["困难职工户数·统计表"] == stats["困难职工户数"]
    assert totals["困难职工户数·名单"] == relief["户数"]
    assert totals["困难职工慰问金额·统计表"] == stats["困难职工金额(元)"]
    assert totals["困难职工慰问金额·名单"] == relief["慰问金额(元)"]
    notes = " ".join(str(row[0]) for row in shown["送温暖统计汇总.xlsx"]["与名单核对"])
    assert f"本汇总 {int(stats['困难职工户数'])},慰问名单汇总 {int(relief['户数'])}" in notes


def test_a_roll_up_that_leaves_a_unit_out_says_so(recalculated) -> None:
    _, folder, shown, _ = recalculated
    files = _files(folder)
    for book, kind in (("慰问名单汇总.xlsx", "慰问名单"), ("送温暖统计汇总.xlsx", "送温暖统计表")):
        sent = {entry["unit"] for entry in files if entry["kind"] == kind}
        counted = {entry["unit"] for entry in files if entry["kind"] == kind and entry["status"].startswith("acc")}
        assert sent - counted  # the samples have a unit left out of each
        notes = " ".join(str(row[0]) for row in shown[book]["按单位汇总"])
        for unit in sent - counted:
            assert unit in notes and "未计入本表" in notes


def test_registration_detail_shows_every_entry_as_a_tick_and_every_age_group(recalculated) -> None:
    _, _, shown, again = recalculated
    detail = shown["报名汇总.xlsx"]["报名明细"]
    header, rows = detail[1], [row for row in detail[2:] if isinstance(row[0], float)]
    per_event = totals_row(again["报名汇总.xlsx"]["各部门人数"])
    events = [name for name in header if name in per_event and name not in ("报名人数", "男", "女")]
    assert len(events) >= 5
    for event in events:
        assert sum(row[header.index(event)] == "√" for row in rows) == per_event[event], event
    listed = [row for row in rows if row[header.index("报名项目")]]
    assert listed  # the samples enter some events in a 报名项目 column
    for row in listed:
        for name in str(row[header.index("报名项目")]).split("、"):
            column = header.index(name if name in header else f"{name}*")  # * events are headed 托球跑*
            assert row[column] == "√", (row[2], name)
    assert all(row[header.index("年龄组")] for row in rows)


def _block_after(readme: str, words: str) -> list[str]:
    return readme.split(words, 1)[1].split("\n\n```\n", 1)[1].split("```", 1)[0].splitlines()


def _without_folder(lines: list[str]) -> list[str]:
    """The lines but their 输出 folder, which is out/ in the README and a temporary folder here."""
    return [line for line in lines if not line.startswith("输出:")]


def test_readme_quick_start_shows_the_real_output_of_its_commands(recalculated) -> None:
    output, folder, _, _ = recalculated
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = _block_after(readme, "11 月(第三条命令)的输出(退出码 1,")
    assert _without_folder(block) == _without_folder(output.splitlines())
    assert block[-1] == "输出:out/2026-11"
    earlier = (folder.parent / "earlier.txt").read_text(encoding="utf-8").splitlines()
    block = _block_after(readme, "9 月、10 月两条命令的输出(退出码都是 0")
    assert _without_folder(block) == _without_folder(earlier)
    assert [line for line in block if line.startswith("输出:")] == ["输出:out/2026-09", "输出:out/2026-10"]


def test_a_form_nobody_sent_this_period_is_said_so_not_summed_to_zeros(recalculated) -> None:
    _, folder, _, _ = recalculated
    september = (folder.parent / "earlier.txt").read_text(encoding="utf-8").split("期间 2026-10")[0].splitlines()
    assert "慰问名单:本期没有收到文件" in september and "送温暖统计表:本期没有收到文件" in september
    assert not [line for line in september if "0.00 元" in line or "0 人报名" in line]
    assert any(line.startswith("促进就业统计表:4 个单位报送") for line in september)  # what was sent is summed
