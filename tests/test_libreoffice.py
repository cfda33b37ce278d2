"""Real workbooks through LibreOffice: our outputs open and add up there, and files it saves are read.

LibreOffice shows the values an .xlsx caches beside its formulas unless told to recompute on load; the checks
of our totals tell it to (`recalculate=True`, OOXMLRecalcMode = always), so a SUM over the wrong range fails."""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from pathlib import Path

from tests.factory import (
    fill_attendance,
    fill_registration,
    fill_results,
    fill_template,
    libreoffice_convert,
    make_people,
    make_team,
)
from unionbatch.pipeline import check_files, run_batch


def test_libreoffice_is_installed() -> None:
    assert shutil.which("soffice"), ".ci/run installs libreoffice-calc-nogui"


def test_consolidated_workbook_opens_in_libreoffice_and_totals_agree(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    groups = {"甲工会": make_people(4, seed=41), "乙工会": make_people(3, seed=42)}
    for unit, people in groups.items():
        fill_template(inbox / f"{unit}.xlsx", unit, people)
    report = run_batch(inbox, tmp_path / "out", "2026-02")
    assert report.exit_code == 0
    exported = libreoffice_convert(
        report.folder / "慰问名单汇总.xlsx",
        tmp_path / "按单位汇总.csv",
        "Text - txt - csv (StarCalc):44,34,76",
        recalculate=True,
    )
    rows = list(csv.reader(exported.read_text(encoding="utf-8").splitlines()))
    by_unit = {row[0]: row for row in rows if row and row[0] in groups}
    for unit, people in groups.items():
        expected = sum(Decimal(p.amount) + Decimal(p.goods) for p in people)
        assert Decimal(by_unit[unit][4].replace(",", "")) == expected
    total = next(row for row in rows if row and row[0] == "合计")
    grand = sum(Decimal(p.amount) + Decimal(p.goods) for people in groups.values() for p in people)
    assert Decimal(total[4].replace(",", "")) == grand  # LibreOffice's own SUM of the rows (recomputed on load)


def test_template_saved_by_libreoffice_as_xls_is_recognised_and_read(tmp_path: Path, specs, policy) -> None:
    people = make_people(5, seed=43)
    filled = fill_template(tmp_path / "filled.xlsx", "丙工会", people)
    legacy = libreoffice_convert(filled, tmp_path / "丙工会.xls", "MS Excel 97")
    [result] = check_files([legacy], specs, policy)
    assert (result.kind, result.unit, result.status, result.rows) == ("慰问名单", "丙工会", "accepted", 5)
    assert list(result.parsed.frame["id_number"]) == [p.id_number for p in people]


def test_standings_open_in_libreoffice_and_prizes_add_up(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    teams = {dept: make_team(dept, seed, [["拔河", "托球跑"]] * 10, women=2) for dept, seed in (("甲", 61), ("乙", 62))}
    for dept, athletes in teams.items():
        fill_registration(inbox / f"{dept}.xlsx", dept, athletes)
    fill_results(
        inbox / "成绩.xlsx", [("拔河", 1, "乙", ""), ("拔河", 2, "甲", ""), ("托球跑", 1, "甲", teams["甲"][0].name)]
    )
    fill_attendance(inbox / "签到.xlsx", "校工会", [(a.dept, a.name, "出勤") for team in teams.values() for a in team])
    report = run_batch(inbox, tmp_path / "out", "2026-11")
    assert report.exit_code == 0
    exported = libreoffice_convert(
        report.folder / "积分与奖金.xlsx",
        tmp_path / "团体总分.csv",
        "Text - txt - csv (StarCalc):44,34,76",
        recalculate=True,
    )
    rows = list(csv.reader(exported.read_text(encoding="utf-8").splitlines()))
    # numbers as shown, with the space's width of padding that keeps them off the next column's text
    assert [row[:4] for row in rows[2:4]] == [["第 1 名", "甲", "6 ", "300.00 "], ["第 2 名", "乙", "5 ", "260.00 "]]
    total = next(row for row in rows if row and row[0] == "合计")
    assert (total[2], total[3]) == ("11 ", "560.00 ")  # LibreOffice's own SUM of the rows (recomputed on load)
