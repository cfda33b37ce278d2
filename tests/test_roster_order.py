"""Rows of the consolidated workbooks in the office's order: the roster's, then the units not on it by name; within a
unit, its own rows as it sent them. Read back from the written workbooks."""

from __future__ import annotations

from pathlib import Path

from python_calamine import CalamineWorkbook

from tests.factory import fill_stats, fill_template, make_people, stats_for
from unionbatch.pipeline import run_batch

PERIOD = "2026-11"
ROSTER = ["乙工会", "丙工会", "甲工会"]  # the office's order, neither Unicode's (丙 乙 甲) nor the files'
OFF_ROSTER = ["戊工会", "丁工会"]  # sent without being on the roster: after it, by name (丁 before 戊)
EXPECTED = ["乙工会", "丙工会", "甲工会", "丁工会", "戊工会"]


def column(rows: list[list], header: str) -> tuple[int, int]:
    """(header row index, column index) of the first cell reading `header`."""
    for index, row in enumerate(rows):
        if header in row:
            return index, row.index(header)
    raise AssertionError(f"no column {header}")


def values(path: Path, sheet: str, header: str) -> list[str]:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
    top, at = column(rows, header)
    found = []
    for row in rows[top + 1 :]:
        if row[at] in ("", "合计") or str(row[at]).startswith(("未计入", "注", "“")):
            break
        found.append(str(row[at]))
    return found


def test_units_in_roster_order_then_by_name_and_their_rows_as_sent(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("".join(f'[[roster]]\nunit = "{unit}"\n\n' for unit in ROSTER), encoding="utf-8")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    people = {}
    for seed, unit in enumerate(["甲工会", "戊工会", "乙工会", "丁工会", "丙工会"]):  # files named out of order
        people[unit] = make_people(3, seed=500 + seed, prefix=unit[0])
        fill_template(inbox / f"{seed}_{unit}.xlsx", unit, people[unit])
        fill_stats(inbox / f"{seed}_{unit}_统计表.xlsx", unit, [stats_for(people[unit])])
    run_batch(inbox, tmp_path / "out", PERIOD, policy)
    folder = tmp_path / "out" / PERIOD
    relief = folder / "慰问名单汇总.xlsx"
    assert values(relief, "按单位汇总", "单位") == EXPECTED
    in_order = [(unit, person.name) for unit in EXPECTED for person in people[unit]]
    signoff_units, signoff_names = values(relief, "实名制发放表", "单位"), values(relief, "实名制发放表", "姓名")
    assert list(zip(signoff_units, signoff_names, strict=True)) == in_order
    detail_units, detail_names = values(relief, "明细", "来源单位"), values(relief, "明细", "姓名")
    assert list(zip(detail_units, detail_names, strict=True)) == in_order
    stats = folder / "送温暖统计汇总.xlsx"
    assert values(stats, "按单位汇总", "单位") == EXPECTED
    assert list(dict.fromkeys(values(stats, "与名单核对", "单位"))) == EXPECTED


def test_the_report_lists_files_and_findings_in_roster_order_then_unknown_units(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("".join(f'[[roster]]\nunit = "{unit}"\n\n' for unit in ROSTER), encoding="utf-8")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for seed, unit in enumerate(["甲工会", "戊工会", "乙工会", "丁工会", "丙工会"]):
        people = make_people(3, seed=520 + seed, prefix=unit[0])
        fill_template(inbox / f"{seed}_{unit}_b.xlsx", unit, people)
        wrong_id = {"D4": people[0].id_number[:17] + ("0" if people[0].id_number[17] != "0" else "1")}
        fill_template(inbox / f"{seed}_{unit}_a.xlsx", unit, people, edits=wrong_id)  # named first: listed first
    (inbox / "说明.docx").write_bytes(b"PK\x03\x04 not a workbook")  # no unit known: after every unit
    run_batch(inbox, tmp_path / "out", PERIOD, policy)
    report = tmp_path / "out" / PERIOD / "处理报告.xlsx"
    expected = [f"{seed}_{unit}_{part}.xlsx" for unit, seed in SEEDS.items() for part in "ab"] + ["说明.docx"]
    assert values(report, "文件", "文件") == expected
    assert values(report, "文件", "单位")[: len(expected) - 1] == [unit for unit in EXPECTED for _ in "ab"]
    listed = values(report, "问题清单", "文件")
    assert list(dict.fromkeys(listed)) == [name for name in expected if name.endswith("_a.xlsx")] + ["说明.docx"]


SEEDS = {"乙工会": 2, "丙工会": 4, "甲工会": 0, "丁工会": 3, "戊工会": 1}  # EXPECTED's units, numbered as made above
