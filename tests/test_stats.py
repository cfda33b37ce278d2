"""送温暖统计表: roll-up, reconciliation with the unit's own 慰问名单, and resubmissions."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import python_calamine as calamine

from tests.factory import fill_stats, fill_template, make_people, stats_for, with_changes, write_own_layout
from unionbatch.pipeline import check_batch, check_files, run_batch

A, B = make_people(5, seed=71), make_people(4, seed=72)


def sheet(path: Path, name: str) -> list[list]:
    return calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def test_reconciliation_agrees_and_disagrees(tmp_path: Path, specs, policy) -> None:
    paths = [
        fill_template(tmp_path / "甲名单.xlsx", "甲工会", A),
        fill_stats(tmp_path / "甲统计.xlsx", "甲工会", [stats_for(A)]),
        fill_template(tmp_path / "乙名单.xlsx", "乙工会", B),
        fill_stats(tmp_path / "乙统计.xlsx", "乙工会", [stats_for(B, hard_amount=sum(p.amount for p in B) + 500)]),
    ]
    results, checks = check_batch(paths, specs, policy)
    status = {r.path.name: r.status for r in results}
    assert status == {
        "甲名单.xlsx": "accepted",
        "甲统计.xlsx": "accepted",
        "乙名单.xlsx": "accepted",
        "乙统计.xlsx": "rejected",
    }
    [finding] = results[3].findings
    listed = sum(p.amount for p in B)
    assert (finding.code, finding.cell) == ("reconcile_mismatch", "C4")
    assert (
        f"为 {listed + 500:,}" in finding.message
        and f"合计为 {listed:,}" in finding.message
        and "相差 500" in finding.message
    )
    assert [(c.unit, c.label, c.status) for c in checks] == [
        ("甲工会", "困难职工户数", "一致"),
        ("甲工会", "困难职工慰问金额(元)", "一致"),
        ("乙工会", "困难职工户数", "一致"),
        ("乙工会", "困难职工慰问金额(元)", "不一致"),
    ]


def test_stats_without_a_list_is_not_an_error(tmp_path: Path, specs, policy) -> None:
    [result] = check_files([fill_stats(tmp_path / "统计.xlsx", "丙工会", [stats_for(A)])], specs, policy)
    assert result.status == "accepted"


def test_roll_up_matches_independent_sums(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    figures = {"甲工会": stats_for(A), "乙工会": stats_for(B, donations=0), "丙工会": stats_for(A[:2])}
    for unit, record in figures.items():
        fill_stats(inbox / f"{unit}.xlsx", unit, [record])
    report = run_batch(inbox, tmp_path / "out", "2026-01")
    assert report.exit_code == 0
    rows = sheet(report.folder / "送温暖统计汇总.xlsx", "按单位汇总")
    header = rows[1]
    by_unit = {row[0]: row for row in rows[2:] if row[0] in figures}
    for unit, record in figures.items():
        assert Decimal(str(by_unit[unit][header.index("合计(元)")])) == record["total"]
        assert by_unit[unit][header.index("困难职工户数")] == record["hard_count"]
    total_row = next(row for row in rows if row[0] == "合计")
    assert Decimal(str(total_row[header.index("合计(元)")])) == sum(r["total"] for r in figures.values())
    sources = sheet(report.folder / "送温暖统计汇总.xlsx", "资金来源")
    donations = next(row for row in sources if row[0] == "合计")[3]
    assert Decimal(str(donations)) == sum(r["donations"] for r in figures.values())
    assert report.totals["送温暖统计表"]["hard_households"] == len(A) + len(B) + 2


def test_unit_built_stats_with_grouped_two_row_header(tmp_path: Path, specs, policy) -> None:
    record = stats_for(A)
    upper = [
        "单位",
        "慰问困难职工",
        None,
        "慰问困难农民工",
        None,
        "慰问劳模",
        None,
        "慰问一线职工",
        None,
        "物资折款",
        "合计",
        "资金来源",
        None,
        None,
        None,
    ]
    lower = [
        None,
        "户数",
        "金额(元)",
        "人数",
        "金额(元)",
        "人数",
        "金额(元)",
        "人数",
        "金额(元)",
        None,
        None,
        "工会经费",
        "财政拨款",
        "社会捐助",
        "其他",
    ]
    keys = [
        "hard_count",
        "hard_amount",
        "migrant_count",
        "migrant_amount",
        "model_count",
        "model_amount",
        "frontline_count",
        "frontline_amount",
        "goods",
        "total",
        "union_funds",
        "fiscal",
        "donations",
        "other_sources",
    ]
    path = write_own_layout(
        tmp_path / "自制统计表.xlsx",
        [["2026年送温暖活动统计表"], ["填报单位:丁工会"], upper],
        lower,
        [["丁工会", *(record[key] for key in keys)]],
    )
    [result] = check_files([path], specs, policy)
    assert (result.kind, result.status, result.unit) == ("送温暖统计表", "accepted", "丁工会")
    assert result.parsed.frame.iloc[0]["model_amount"] == Decimal(record["model_amount"])


def test_resubmission_replaces_the_earlier_file_and_says_what_changed(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    corrected = [*A[:3], with_changes(A[3], amount=A[3].amount + 200), make_people(1, seed=73)[0]]  # A[4] out, one in
    fill_template(inbox / "甲名单.xlsx", "甲工会", A, date="2026-11-10")
    fill_template(inbox / "甲名单(更正).xlsx", "甲工会", corrected, date="2026-11-18")
    report = run_batch(inbox, tmp_path / "out", "2026-11")
    by_name = {r.path.name: r for r in report.files}
    old, new = by_name["甲名单.xlsx"], by_name["甲名单(更正).xlsx"]
    assert (old.replaced_by, new.replaced_by) == ("甲名单(更正).xlsx", None)
    assert not any(f.code == "duplicate_across_files" for f in old.findings + new.findings)
    assert new.changes and (new.changes.count("新增"), new.changes.count("删除"), new.changes.count("修改")) == (
        1,
        1,
        1,
    )
    [changed] = [item for item in new.changes.items if item.kind == "修改"]
    assert (changed.field, changed.old, changed.new) == (
        "慰问金额(元)",
        f"{A[3].amount:,}.00",
        f"{A[3].amount + 200:,}.00",
    )
    assert report.totals["慰问名单"]["households"] == len(corrected)  # the unit counted once
    assert Decimal(report.totals["慰问名单"]["amount"]) == sum(p.amount for p in corrected)
    changes = sheet(report.folder / "慰问名单汇总.xlsx", "重报变更")
    assert {row[3] for row in changes[2:]} == {"新增", "删除", "修改"}
    json_entry = next(f for f in report.to_json()["files"] if f["path"].endswith("甲名单(更正).xlsx"))
    assert json_entry["replaces"]["added"] == 1 and A[4].id_number not in str(json_entry)


def test_newest_by_arrival_when_dates_tie_and_a_rejected_newer_file_keeps_the_older(
    tmp_path: Path, specs, policy
) -> None:
    first = fill_stats(tmp_path / "a.xlsx", "甲工会", [stats_for(A)])
    second = fill_stats(tmp_path / "b.xlsx", "甲工会", [stats_for(A, total=1)])  # newer, but rejected
    os.utime(first, (1_700_000_000, 1_700_000_000))
    os.utime(second, (1_700_000_900, 1_700_000_900))
    results = check_files([second, first], specs, policy)
    newer, older = results
    assert newer.status == "rejected" and older.current and newer.replaced_by is None
    third = fill_stats(tmp_path / "c.xlsx", "甲工会", [stats_for(A, fiscal=0)])
    os.utime(third, (1_700_001_800, 1_700_001_800))
    results = check_files([first, second, third], specs, policy)
    assert [r.replaced_by for r in results] == ["c.xlsx", "c.xlsx", None]
