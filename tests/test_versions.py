"""Versions and duplicates are decided together: no counted version escapes the duplicate check."""

from __future__ import annotations

from pathlib import Path

from tests.factory import fill_stats, fill_template, make_people, stats_for
from unionbatch.pipeline import check_batch, run_batch


def codes(result) -> list[str]:
    return [finding.code for finding in result.findings]


def test_an_older_version_that_becomes_current_carries_the_duplicate_error(tmp_path: Path, specs, policy) -> None:
    """甲 sends v1 and a newer v2, both listing a person 乙 also lists: v2 and 乙 are rejected, and so is v1."""
    shared = make_people(1, seed=81)[0]
    own = make_people(3, seed=82)
    v1 = fill_template(tmp_path / "甲v1.xlsx", "甲工会", [*own[:2], shared], date="2026-11-05")
    v2 = fill_template(tmp_path / "甲v2.xlsx", "甲工会", [*own, shared], date="2026-11-12")
    other = fill_template(tmp_path / "乙.xlsx", "乙工会", [shared, *make_people(2, seed=83)])
    results, _ = check_batch([v1, v2, other], specs, policy, period="2026-11")
    by_name = {result.path.name: result for result in results}
    assert "duplicate_across_files" in codes(by_name["甲v2.xlsx"])
    assert "duplicate_across_files" in codes(by_name["乙.xlsx"])
    assert "duplicate_across_files" in codes(by_name["甲v1.xlsx"])
    assert [result.path.name for result in results if result.current] == []  # nobody with the duplicate counted


def test_a_person_dropped_by_the_newer_version_is_no_duplicate(tmp_path: Path, specs, policy) -> None:
    """甲's v1 listed a person 乙 lists; 甲's v2 no longer does: 乙 and v2 are counted, v1 is replaced."""
    shared = make_people(1, seed=84)[0]
    own = make_people(2, seed=85)
    v1 = fill_template(tmp_path / "甲v1.xlsx", "甲工会", [*own, shared], date="2026-11-05")
    v2 = fill_template(tmp_path / "甲v2.xlsx", "甲工会", own, date="2026-11-12")
    other = fill_template(tmp_path / "乙.xlsx", "乙工会", [shared])
    results, _ = check_batch([v1, v2, other], specs, policy, period="2026-11")
    by_name = {result.path.name: result for result in results}
    assert sorted(result.path.name for result in results if result.current) == ["乙.xlsx", "甲v2.xlsx"]
    assert "duplicate_across_files" not in codes(by_name["乙.xlsx"])
    assert by_name["甲v1.xlsx"].replaced_by == "甲v2.xlsx"


def test_an_older_statistics_form_that_becomes_current_was_reconciled(tmp_path: Path) -> None:
    """The newer 统计表 disagrees with the list and is rejected; the older one that is counted instead was
    checked against the list too (here it agrees), and the 与名单核对 rows are the counted file's."""
    inbox = tmp_path / "inbox"
    people = make_people(4, seed=86)
    fill_template(inbox / "甲名单.xlsx", "甲工会", people)
    fill_stats(inbox / "甲统计v1.xlsx", "甲工会", [stats_for(people)], date="2026-11-05")
    fill_stats(inbox / "甲统计v2.xlsx", "甲工会", [stats_for(people[:3])], date="2026-11-12")
    report = run_batch(inbox, tmp_path / "out", "2026-11")
    by_name = {result.path.name: result for result in report.files}
    assert "reconcile_mismatch" in codes(by_name["甲统计v2.xlsx"])
    assert by_name["甲统计v1.xlsx"].current and "reconcile_mismatch" not in codes(by_name["甲统计v1.xlsx"])
    assert {(row.file, row.status, row.counted) for row in report.reconciliations} == {("甲统计v1.xlsx", "一致", True)}
