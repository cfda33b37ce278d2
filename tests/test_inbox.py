"""Running unattended: the inbox, the ledger, reruns, late files, locks, and crashes at any point."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from process import cli
from tests.conftest import ROOT
from tests.factory import fill_stats, fill_template, make_people, stats_for
from unionbatch.inbox import KILL_VARIABLE, run_lock
from unionbatch.ledger import SCHEMA_VERSION, Ledger
from unionbatch.pipeline import RunError, run_batch

A, B = make_people(4, seed=91), make_people(3, seed=92)


def ledger_rows(out: Path) -> list[tuple]:
    with closing(sqlite3.connect(out / "ledger.sqlite")) as db:  # closed: a connection is freed only by the cyclic GC
        return db.execute(
            "SELECT original_name, stored_path, period, unit, kind, status, replaced_by, errors, warnings, "
            "(SELECT COUNT(*) FROM rows WHERE submission_id = submissions.id) FROM submissions ORDER BY original_name"
        ).fetchall()


def test_processed_files_move_to_the_archive_and_a_repeat_is_not_counted_twice(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    original = fill_template(inbox / "甲.xlsx", "甲工会", A)
    content = original.read_bytes()
    first = run_batch(inbox, out, "2026-11")
    assert not original.exists() and (out / "2026-11" / "原件" / "甲.xlsx").read_bytes() == content
    (inbox / "甲(再次发送).xlsx").write_bytes(content)
    second = run_batch(inbox, out, "2026-11")
    assert second.repeats == [("甲(再次发送).xlsx", "2026-11/原件/甲.xlsx")]
    assert (out / "2026-11" / "原件" / "重复" / "甲(再次发送).xlsx").read_bytes() == content
    assert list(inbox.iterdir()) == []
    assert second.totals["慰问名单"]["households"] == first.totals["慰问名单"]["households"] == len(A)
    assert len(ledger_rows(out)) == 1


def test_a_file_arriving_after_the_run_is_included_by_the_next(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    fill_template(inbox / "甲.xlsx", "甲工会", A)
    run_batch(inbox, out, "2026-11")
    fill_template(inbox / "乙.xlsx", "乙工会", B)
    report = run_batch(inbox, out, "2026-11")
    assert report.totals["慰问名单"]["households"] == len(A) + len(B)
    assert {r.path.name for r in report.files} == {"甲.xlsx", "乙.xlsx"}
    assert Decimal(report.totals["慰问名单"]["amount"]) == sum(p.amount for p in A + B)


def test_a_resubmission_in_a_later_run_replaces_the_earlier_file(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    fill_stats(
        inbox / "统计.xlsx", "甲工会", [stats_for(A, frontline_count=9, frontline_amount=4500)], date="2026-11-10"
    )
    run_batch(inbox, out, "2026-11")
    fill_stats(inbox / "统计.xlsx", "甲工会", [stats_for(A)], date="2026-11-20")  # same name, corrected
    report = run_batch(inbox, out, "2026-11")
    names = {r.path.name: r for r in report.files}
    assert names["统计.xlsx"].replaced_by == "统计(2).xlsx" and names["统计(2).xlsx"].current
    assert report.totals["送温暖统计表"]["units"] == 1
    assert Decimal(report.totals["送温暖统计表"]["total"]) == stats_for(A)["total"]


def test_lock_files_temporary_files_and_files_still_being_copied_are_left(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    fill_template(inbox / "甲.xlsx", "甲工会", A)
    left = ["~$甲.xlsx", ".~lock.甲.xlsx#", "乙.xlsx.part", "丙.crdownload", ".hidden.xlsx"]
    for name in left:
        (inbox / name).write_bytes(b"partial")
    growing = inbox / "正在复制.xlsx"
    growing.write_bytes(b"PK")
    stop = threading.Event()

    def keep_writing() -> None:
        while not stop.is_set():
            with growing.open("ab") as handle:
                handle.write(b"x" * 100)
            time.sleep(0.02)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    policy = tmp_path / "policy.toml"
    policy.write_text("[inbox]\nsettle_seconds = 1\n", encoding="utf-8")  # written to every 0.02 s meanwhile
    try:
        report = run_batch(inbox, out, "2026-11", policy)
    finally:
        stop.set()
        writer.join()
    assert [r.path.name for r in report.files] == ["甲.xlsx"]
    assert report.arriving == ["正在复制.xlsx"]
    assert sorted(p.name for p in inbox.iterdir()) == sorted([*left, "正在复制.xlsx"])


def test_a_second_run_while_one_holds_the_lock_exits_2(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    fill_template(inbox / "甲.xlsx", "甲工会", A)
    with run_lock(out):
        with pytest.raises(RunError, match="另一个处理正在运行"):
            run_batch(inbox, out, "2026-11")
        result = CliRunner().invoke(
            cli, ["run", "--inbox", str(inbox), "--out", str(out), "--period", "2026-11"], catch_exceptions=False
        )
    assert result.exit_code == 2 and result.output.startswith("错误:另一个处理正在运行")
    assert (inbox / "甲.xlsx").exists()  # untouched


def test_ledger_schema_is_versioned_and_reopened_without_loss(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    fill_template(inbox / "甲.xlsx", "甲工会", A)
    run_batch(inbox, out, "2026-11")
    ledger = Ledger(out / "ledger.sqlite")
    try:
        assert ledger.version == SCHEMA_VERSION
        [submission] = ledger.period_submissions("2026-11")
        assert (submission.unit, submission.kind, submission.status, submission.original_name) == (
            "甲工会",
            "慰问名单",
            "accepted",
            "甲.xlsx",
        )
        history = ledger.history("慰问名单", [A[0].id_number, "no such person"])
        assert list(history) == [A[0].id_number]
        assert [(period, unit, row["amount"]) for period, unit, row in history[A[0].id_number]] == [
            ("2026-11", "甲工会", str(A[0].amount))
        ]
    finally:
        ledger.close()


def test_run_log_has_one_line_per_file(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    fill_template(inbox / "甲.xlsx", "甲工会", A)
    fill_template(inbox / "乙.xlsx", "乙工会", B, edits={"E5": "1"})
    run_batch(inbox, out, "2026-11")
    lines = (out / "run.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert any(line.endswith(" 2026-11 退回修改 乙工会 乙.xlsx 3 行 1 个错误 0 个警告") for line in lines)


def _inbox_of(folder: Path, count: int) -> Path:
    inbox = folder / "inbox"
    for number in range(count):
        unit = f"单位{number:02d}工会"
        people = make_people(30, seed=1000 + number)
        edits = {"E5": "123"} if number % 7 == 3 else None
        fill_template(inbox / f"{unit}.xlsx", unit, people, edits=edits)
        os.utime(inbox / f"{unit}.xlsx", (1_700_000_000 + number, 1_700_000_000 + number))
    return inbox


def _outputs(out: Path) -> dict[str, str]:
    """Digests of a run's outputs; report.json without the times the files were first seen (a run's own clock)."""
    folder = out / "2026-11"
    names = ["慰问名单汇总.xlsx", "处理报告.xlsx"]
    digests = {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in names}
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    for entry in report["files"]:
        del entry["received"], entry["arrived"]
    digests["report.json"] = json.dumps(report, ensure_ascii=False, sort_keys=True)
    digests["原件"] = str(sorted(p.name for p in (folder / "原件").iterdir()))
    digests["批注"] = str(sorted(p.name for p in (folder / "批注").iterdir()))
    return digests


def _gone_within(seconds: float, marker: str) -> bool:
    """No process whose command line holds `marker` is left after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(marker in _command_line(proc) for proc in Path("/proc").iterdir() if proc.name.isdigit()):
            return True
        time.sleep(0.1)
    return False


def _command_line(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:  # the process ended while we looked
        return ""


# the run killed by itself at a named step (unionbatch.inbox.kill_point), not by polling for signs of it from here:
# once the ledger is written, once the copies and replies are made, once the outputs are, during the archiving
@pytest.mark.parametrize("kill_at", ["recorded", "replied", "outputs_written", "moved:3"])
def test_a_run_killed_at_any_point_is_finished_by_the_next(tmp_path: Path, kill_at: str) -> None:
    reference = tmp_path / "reference"
    run_batch(_inbox_of(reference, 14), reference / "out", "2026-11")
    expected_outputs, expected_ledger = _outputs(reference / "out"), ledger_rows(reference / "out")

    work = tmp_path / "work"
    inbox, out = _inbox_of(work, 14), work / "out"
    command = [
        sys.executable,
        str(ROOT / "process.py"),
        "run",
        "--inbox",
        str(inbox),
        "--out",
        str(out),
        "--period",
        "2026-11",
    ]
    killed = subprocess.run(
        command, cwd=ROOT, capture_output=True, timeout=300, env={**os.environ, KILL_VARIABLE: kill_at}
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    folder = out / "2026-11"
    assert _gone_within(5, str(inbox)), "the killed run's worker processes must not outlive it"
    remaining = sorted(p.name for p in inbox.iterdir())
    archived = sorted(p.name for p in (folder / "原件").iterdir()) if (folder / "原件").exists() else []
    assert sorted(remaining + archived) == sorted(f"单位{n:02d}工会.xlsx" for n in range(14))  # nothing lost

    rerun = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 1, rerun.stderr
    assert list(inbox.iterdir()) == []
    assert _outputs(out) == expected_outputs
    assert ledger_rows(out) == expected_ledger
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert len(report["files"]) == 14 and report["repeats"] == []


def test_same_person_paid_by_two_units_in_one_period_across_runs(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    fill_template(inbox / "甲.xlsx", "甲工会", A)
    assert run_batch(inbox, out, "2026-11").exit_code == 0
    fill_template(inbox / "乙.xlsx", "乙工会", [*B, A[2]])
    report = run_batch(inbox, out, "2026-11")
    codes = {r.path.name: [f.code for f in r.findings] for r in report.files}
    assert codes == {"甲.xlsx": ["duplicate_across_files"], "乙.xlsx": ["duplicate_across_files"]}


def test_bar_command_records_the_id_and_later_lists_are_rejected(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (tmp_path / "inbox").mkdir()
    run_batch(tmp_path / "inbox", out, "2026-11")  # the ledger `bar` writes to
    result = CliRunner().invoke(
        cli, ["bar", A[1].id_number, "--reason", "2025 年虚报", "--out", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0
    assert result.output == f"已登记取消补助资格:{A[1].id_number[:6]}********{A[1].id_number[-4:]}(2025 年虚报)\n"
    bad = CliRunner().invoke(cli, ["bar", "12345", "--reason", "x", "--out", str(out)], catch_exceptions=False)
    assert (bad.exit_code, bad.output) == (2, "错误:“12345”不是有效的 18 位身份证号\n")
    fill_template(tmp_path / "inbox" / "甲.xlsx", "甲工会", A)
    report = run_batch(tmp_path / "inbox", out, "2026-11")
    assert [(f.code, f.cell) for f in report.files[0].findings] == [("barred", "D5")]


def test_watch_processes_each_file_as_it_lands(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    command = [
        sys.executable,
        "-u",
        str(ROOT / "process.py"),
        "watch",
        "--inbox",
        str(inbox),
        "--out",
        str(out),
        "--period",
        "2026-11",
    ]
    watcher = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert watcher.stdout is not None
        assert watcher.stdout.readline().startswith("正在监视")
        report_file = out / "2026-11" / "report.json"
        for name, unit, people in (("甲.xlsx", "甲工会", A), ("乙.xlsx", "乙工会", B)):
            landing = fill_template(tmp_path / "staging" / name, unit, people)
            os.replace(landing, inbox / name)  # lands whole, as a mail client or a copy does
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                # the report is written before the input is moved out: wait for both
                processed = report_file.exists() and name in report_file.read_text(encoding="utf-8")
                if processed and not (inbox / name).exists():
                    break
                time.sleep(0.1)
            else:
                pytest.fail(f"{name} was not processed within 30 s")
        report = json.loads(report_file.read_text(encoding="utf-8"))
        assert sorted(Path(f["path"]).name for f in report["files"]) == ["乙.xlsx", "甲.xlsx"]
        assert report["totals"]["慰问名单"]["households"] == len(A) + len(B)
        assert list(inbox.iterdir()) == []
    finally:
        watcher.send_signal(signal.SIGTERM)
        output, _ = watcher.communicate(timeout=30)
    assert watcher.returncode == 0
    assert output.rstrip().endswith("已停止监视")


def test_a_half_made_copy_in_the_archive_is_not_a_submission_and_is_cleared(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    fill_template(inbox / "甲.xlsx", "甲工会", A)
    run_batch(inbox, out, "2026-11")
    stray = out / "2026-11" / "原件" / ".乙.xlsx.moving"  # what a move across file systems leaves if killed
    stray.write_bytes(fill_template(tmp_path / "乙.xlsx", "乙工会", B).read_bytes())
    report = run_batch(inbox, out, "2026-11")
    assert [r.path.name for r in report.files] == ["甲.xlsx"] and not stray.exists()


def test_watch_runs_once_the_inbox_is_quiet_since_its_latest_event_not_a_whole_wait_after_each() -> None:
    """The debounce counts from the latest event: a copy's trailing events, seen after the first, do not restart a
    whole wait (a late file waited 2 s, not 1, in two runs of three); an event during the wait extends it."""
    from unionbatch.watch import _Nudge, _quiet_for

    nudge, stop = _Nudge(threading.Event()), threading.Event()
    nudge.last = time.monotonic() - 1.5  # the latest event 1.5 s ago: 0.5 s of the 2 s left
    started = time.monotonic()
    assert _quiet_for(2.0, nudge, stop)
    assert 0.4 < time.monotonic() - started < 1.5
    nudge.last = time.monotonic() - 1.5
    started = time.monotonic()
    threading.Timer(0.2, lambda: setattr(nudge, "last", time.monotonic())).start()  # one more event
    assert _quiet_for(2.0, nudge, stop)
    assert time.monotonic() - started >= 2.1
    nudge.last = time.monotonic()
    threading.Timer(0.2, stop.set).start()
    assert not _quiet_for(5.0, nudge, stop)  # stopped meanwhile
