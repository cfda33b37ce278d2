"""Every figure agrees with every other: the sample run's workbooks recalculated by LibreOffice (recalculation
forced), each 合计 row and 大写 line against the rows of its sheet, and the console and report.json totals
against sums this test makes from the input rows."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import run_samples
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
from tests.test_run import ACCEPTED_SEEDS
from unionbatch import write
from unionbatch.money import rmb_upper
from unionbatch.pipeline import run_batch

WORKBOOKS = ("慰问名单汇总.xlsx", "报名汇总.xlsx", "积分与奖金.xlsx", "送温暖统计汇总.xlsx", "处理报告.xlsx")


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory) -> tuple[str, Path, dict, dict]:
    """(console output, output folder, workbooks as written, workbooks as LibreOffice recomputes them)."""
    out = tmp_path_factory.mktemp("out")
    result = run_samples(out)
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
