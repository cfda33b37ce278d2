"""Reruns reuse each file's check while the file, the policy and the processor are unchanged, and give the same
outputs as a run that checks everything again; anything a check depends on changing makes it run again."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from decimal import Decimal
from pathlib import Path

import pytest
import python_calamine as calamine

from tests.conftest import ROOT, SAMPLES
from tests.factory import fill_template, make_id, make_people, with_changes
from tests.recalc import read_values
from tests.test_employment import figures, report_file, write_policy
from tests.test_registry import register_of, registry_policy, write_register
from unionbatch.checkcache import MAGIC, CheckCache, _sources_digest, load_pickle, read_entry, save_pickle
from unionbatch.pipeline import bar_person, run_batch
from unionbatch.records import REJECTED, Report

PERIOD = "2026-11"
OUTPUTS = (
    "report.json",
    "处理报告.xlsx",
    "慰问名单汇总.xlsx",
    "送温暖统计汇总.xlsx",
    "报名汇总.xlsx",
    "积分与奖金.xlsx",
    "促进就业汇总.xlsx",
)


def run(inbox: Path, out: Path, policy: Path | None = SAMPLES / "policy.toml") -> Report:
    return run_batch(inbox, out, PERIOD, policy)


def entries(out: Path) -> dict[str, int]:
    """Cache entry → its modification time (ns)."""
    folder = out / ".cache" / "checks" / PERIOD
    return {path.name: path.stat().st_mtime_ns for path in folder.iterdir()} if folder.is_dir() else {}


def archived(out: Path) -> list[Path]:
    return sorted(path for path in (out / PERIOD / "原件").iterdir() if path.is_file())


def outputs(out: Path, names: tuple[str, ...] = OUTPUTS) -> dict[str, str]:
    folder = out / PERIOD
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in names}


SMALL_OUTPUTS = ("report.json", "处理报告.xlsx", "慰问名单汇总.xlsx")


def annotated(out: Path) -> dict[str, str]:
    folder = out / PERIOD / "批注"
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())}


@pytest.fixture
def period(tmp_path: Path) -> tuple[Path, Path]:
    """The samples run once (the inbox moved into 原件/): (inbox, out)."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    shutil.copytree(SAMPLES / "inbox", inbox)
    first = run(inbox, out)
    assert first.checks_reused == 0
    return inbox, out


@pytest.fixture
def small_period(tmp_path: Path) -> tuple[Path, Path]:
    """Three relief lists run once under the default policy (archived, their checks kept): (inbox, out)."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    small_inbox(inbox, 3)
    assert run(inbox, out, None).checks_reused == 0
    return inbox, out


def new_file(inbox: Path) -> Path:
    return fill_template(
        inbox / "新港街道工会_慰问名单.xlsx", "新港街道工会", make_people(6, 41)
    )  # no file in samples/


def test_a_new_file_is_the_only_one_checked_and_the_outputs_equal_a_cold_run(period, tmp_path) -> None:
    inbox, out = period
    old = len(archived(out))
    before = entries(out)
    new_file(inbox)
    second = run(inbox, out)
    assert second.checks_reused == old
    after = entries(out)
    assert len(after) == old + 1
    assert all(after[name] == mtime for name, mtime in before.items())  # old entries not rewritten
    assert [result.rows for result in second.files if result.path.name == "新港街道工会_慰问名单.xlsx"] == [6]
    # the same state checked from scratch: every output byte for byte the same
    cold = tmp_path / "cold"
    shutil.copytree(out, cold)
    shutil.rmtree(cold / ".cache")
    assert run(inbox, cold).checks_reused == 0
    assert run(inbox, out).checks_reused == old + 1
    assert outputs(out) == outputs(cold)
    assert annotated(out) == annotated(cold)


def sample_policy_text() -> str:
    """samples/policy.toml to be written elsewhere: its register named where it is (the same file, so the same
    checks)."""
    text = (SAMPLES / "policy.toml").read_text(encoding="utf-8")
    line = 'registry = "困难职工档案.xlsx"'
    assert line in text
    return text.replace(line, f'registry = "{SAMPLES / "困难职工档案.xlsx"}"')


def test_editing_a_form_s_policy_checks_again_and_the_roster_or_a_deadline_does_not(period, tmp_path) -> None:
    inbox, out = period
    count = len(archived(out))
    policy = tmp_path / "policy.toml"
    text = sample_policy_text()
    roster_and_deadline = text.replace('"慰问名单" = 2026-12-20', '"慰问名单" = 2026-12-25', 1)
    assert roster_and_deadline != text
    roster_and_deadline += '\n[[roster]]\nunit = "新成立工会"\nforms = ["慰问名单"]\n'
    policy.write_text(roster_and_deadline, encoding="utf-8")
    assert run(inbox, out, policy).checks_reused == count
    policy.write_text(text.replace('"相对困难" = 800', '"相对困难" = 900', 1), encoding="utf-8")
    edited = run(inbox, out, policy)
    assert edited.checks_reused == 0
    assert any(finding.code == "below_standard" for result in edited.files for finding in result.findings)
    assert len(entries(out)) == count  # the entries of the old policy pruned


def test_a_file_s_bytes_changed_in_the_archive_are_checked_again(period) -> None:
    inbox, out = period
    files = archived(out)
    target = next(path for path in files if path.name == "机关工会_慰问名单.xlsx")
    fill_template(target, "机关工会", make_people(3, 1))
    rerun = run(inbox, out)
    assert rerun.checks_reused == len(files) - 1
    assert next(result for result in rerun.files if result.path == target).rows == 3


def test_a_bar_added_after_the_check_is_applied_to_the_reused_result(period) -> None:
    inbox, out = period
    person = make_people(8, 1)[0]  # in 机关工会_慰问名单.xlsx
    bar_person(out / "ledger.sqlite", person.id_number, "虚报")
    rerun = run(inbox, out)
    assert rerun.checks_reused == len(archived(out))
    result = next(result for result in rerun.files if result.path.name == "机关工会_慰问名单.xlsx")
    assert not result.accepted
    assert "barred" in {finding.code for finding in result.findings}


@pytest.mark.parametrize("damage", ["truncated", "flipped", "garbage", "world_readable"])
def test_a_damaged_entry_is_checked_again(small_period, damage) -> None:
    inbox, out = small_period
    assert run(inbox, out, None).checks_reused == len(archived(out))
    reference = outputs(out, SMALL_OUTPUTS)
    folder = out / ".cache" / "checks" / PERIOD
    entry = sorted(folder.iterdir(), key=lambda path: path.stat().st_size)[-1]
    data = entry.read_bytes()
    assert data.startswith(MAGIC)
    if damage == "truncated":  # what a writer killed half-way would leave, had it written in place
        entry.write_bytes(data[: len(data) // 2])
    elif damage == "flipped":
        entry.write_bytes(data[:-10] + bytes([data[-10] ^ 1]) + data[-9:])
    elif damage == "garbage":
        entry.write_bytes(b"not a pickle at all")
    else:
        entry.chmod(0o644)
    rerun = run(inbox, out, None)
    assert rerun.checks_reused == len(archived(out)) - 1
    assert outputs(out, SMALL_OUTPUTS) == reference
    assert oct(entry.stat().st_mode & 0o777) == "0o600"
    assert run(inbox, out, None).checks_reused == len(archived(out))  # written again, whole


def test_a_half_written_entry_left_by_a_kill_is_never_read(small_period) -> None:
    inbox, out = small_period
    folder = out / ".cache" / "checks" / PERIOD
    stray = folder / ".tmp-99999-0123.pickle"
    stray.write_bytes(MAGIC + b"\0" * 40)
    assert run(inbox, out, None).checks_reused == len(archived(out))
    assert not stray.exists()
    assert oct(folder.stat().st_mode & 0o777) == oct((out / ".cache").stat().st_mode & 0o777) == "0o700"


def test_the_processor_s_digest_covers_every_source_byte(tmp_path) -> None:
    folder = tmp_path / "schemas"
    shutil.copytree(ROOT / "schemas", folder, ignore=shutil.ignore_patterns("__pycache__"))
    before = _sources_digest((folder,))
    spec = folder / "relief_list.py"
    spec.write_text(spec.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    _sources_digest.cache_clear()
    assert _sources_digest((folder,)) != before


def test_a_changed_spec_checks_every_file_again(tmp_path) -> None:
    """A copy of the processor, run as the office runs it; then one spec edited (a comment): every entry replaced."""
    code = tmp_path / "code"
    for part in ("unionbatch", "schemas"):
        shutil.copytree(ROOT / part, code / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "process.py", code / "process.py")
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    shutil.copytree(SAMPLES / "inbox", inbox)
    command = [sys.executable, str(code / "process.py"), "run", "--inbox", str(inbox), "--out", str(out)]
    command += ["--period", PERIOD, "--policy", str(SAMPLES / "policy.toml")]
    environment = {**os.environ, "PYTHONPATH": str(code)}
    assert subprocess.run(command, env=environment, capture_output=True, check=False).returncode == 1
    first = entries(out)
    assert subprocess.run(command, env=environment, capture_output=True, check=False).returncode == 1
    assert entries(out) == first  # nothing changed: every entry reused, none rewritten
    spec = code / "schemas" / "relief_list.py"
    spec.write_text(spec.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert subprocess.run(command, env=environment, capture_output=True, check=False).returncode == 1
    edited = entries(out)
    assert len(edited) == len(first)
    assert not set(edited) & set(first)


def test_the_new_files_are_answered_before_the_consolidated_workbooks_are_written(tmp_path) -> None:
    """Killed right after the replies are queued: every emailed file's reply and every new file's annotated copy
    exist, no consolidated workbook does yet; the next run writes them and queues no reply twice."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    shutil.copytree(SAMPLES / "inbox", inbox)
    emails = len(list(inbox.glob("*.eml")))
    command = [sys.executable, str(ROOT / "process.py"), "run", "--inbox", str(inbox), "--out", str(out)]
    command += ["--period", PERIOD, "--policy", str(SAMPLES / "policy.toml")]
    killed = subprocess.run(command, cwd=ROOT, env={**os.environ, "UNIONBATCH_KILL_AT": "replied"}, check=False)
    assert killed.returncode == -signal.SIGKILL
    folder = out / PERIOD
    replies = sorted(path.name for path in (folder / "outbox").iterdir())
    assert len(replies) == emails
    copies = sorted(path.name for path in (folder / "批注").iterdir())
    assert "城西镇工会_慰问名单_批注.xlsx" in copies and "学生处踏青报名表_批注.xlsx" in copies
    assert not [name for name in OUTPUTS if (folder / name).exists()]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
    assert finished.returncode == 1, finished.stderr
    assert all((folder / name).exists() for name in OUTPUTS)
    assert sorted(path.name for path in (folder / "outbox").iterdir()) == replies
    with closing(sqlite3.connect(out / "ledger.sqlite")) as db:  # closed: a connection is freed only by the cyclic GC
        assert db.execute("SELECT COUNT(*) FROM replies").fetchone()[0] == emails
    assert sorted(path.name for path in (folder / "批注").iterdir()) == copies


def test_watch_leaves_the_workbooks_to_the_run_that_takes_the_last_file_of_a_burst(tmp_path) -> None:
    """A file that lands while a run checks the period: that run answers its own files and writes no workbook;
    the run that takes the late file writes them once, with every file."""
    inbox, out, staging = tmp_path / "inbox", tmp_path / "out", tmp_path / "staging"
    inbox.mkdir()
    shutil.copytree(SAMPLES / "inbox", staging)
    sent = {path.name for path in staging.iterdir() if path.suffix != ".eml"}
    late = new_file(tmp_path)
    command = [sys.executable, "-u", str(ROOT / "process.py"), "watch", "--inbox", str(inbox), "--out", str(out)]
    command += ["--period", PERIOD, "--policy", str(SAMPLES / "policy.toml")]
    watcher = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    report_file = out / PERIOD / "report.json"
    try:
        assert watcher.stdout is not None and watcher.stdout.readline().startswith("正在监视")
        for path in sorted(staging.iterdir()):
            os.replace(path, inbox / path.name)
        checking = out / ".cache" / "checks" / PERIOD  # made once the run has scanned the inbox
        _wait_for(checking.is_dir, 60)
        os.replace(late, inbox / late.name)
        _wait_for(report_file.exists, 120)
        first = json.loads(report_file.read_text(encoding="utf-8"))
        assert late.name in {Path(entry["path"]).name for entry in first["files"]}
        reported = {Path(entry["path"]).name for entry in first["files"]}
        assert sent <= reported  # the burst and the late file in one report
    finally:
        watcher.send_signal(signal.SIGTERM)
        output, _ = watcher.communicate(timeout=60)
    assert output.count("还有文件正在到达") == 1, output
    assert watcher.returncode == 0


def _wait_for(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {seconds} s")
        time.sleep(0.01)


WORKBOOKS = ("慰问名单汇总.xlsx", "送温暖统计汇总.xlsx", "报名汇总.xlsx", "积分与奖金.xlsx", "促进就业汇总.xlsx")


def written(out: Path) -> dict[str, int]:
    return {name: (out / PERIOD / name).stat().st_mtime_ns for name in WORKBOOKS}


def test_a_workbook_is_written_again_only_when_what_it_shows_changed(period, tmp_path) -> None:
    inbox, out = period
    run(inbox, out)  # the files now read from 原件/ (the first run lists the mails' attachments last)
    before, shown = written(out), outputs(out)
    again = run(inbox, out)
    assert written(out) == before and outputs(out) == shown  # nothing changed: nothing rewritten, same report
    assert sorted(path.name for path in again.outputs[: len(WORKBOOKS)]) == sorted(WORKBOOKS)
    tampered = out / PERIOD / "报名汇总.xlsx"
    tampered.write_bytes(b"edited by hand")
    policy = tmp_path / "policy.toml"  # a unit added to the roster: one more 未报送 in the relief workbooks
    text = sample_policy_text()
    policy.write_text(text + '\n[[roster]]\nunit = "新成立工会"\nforms = ["慰问名单"]\n', encoding="utf-8")
    run(inbox, out, policy)
    after = written(out)
    assert after["慰问名单汇总.xlsx"] != before["慰问名单汇总.xlsx"]
    assert after["报名汇总.xlsx"] != before["报名汇总.xlsx"] and tampered.read_bytes()[:2] == b"PK"
    assert after["积分与奖金.xlsx"] == before["积分与奖金.xlsx"]
    assert after["促进就业汇总.xlsx"] == before["促进就业汇总.xlsx"]  # the new unit sends no 促进就业统计表
    # the same state from scratch: the workbooks kept and those rewritten equal a cold run's
    cold = tmp_path / "cold"
    shutil.copytree(out, cold)
    shutil.rmtree(cold / ".cache")
    run(inbox, cold, policy)
    assert outputs(out) == outputs(cold)


# ---- small periods: what else a check depends on -------------------------------------------------------------


def small_inbox(folder: Path, count: int = 3, seed: int = 50) -> list[Path]:
    """`count` relief lists of 4 people, each of its own unit (people apart across files): relief_people's."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        fill_template(folder / f"{unit}_慰问名单.xlsx", unit, people)
        for unit, people in relief_people(count, seed).items()
    ]


def relief_people(count: int = 3, seed: int = 50) -> dict[str, list]:
    """The people small_inbox(…, count, seed) sends, by unit."""
    return {f"第{number}工会": make_people(4, seed + number) for number in range(count)}


def codes(report: Report, name: str) -> set[str]:
    result = next(result for result in report.files if result.path.name == name)
    return {finding.code for finding in result.findings}


def test_a_changed_register_checks_the_lists_again(tmp_path: Path) -> None:
    people = make_people(6, seed=11)
    write_register(tmp_path / "档案.xlsx", register_of(people))
    policy = registry_policy(tmp_path)
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    fill_template(inbox / "名单.xlsx", "测试工会", people)
    first = run(inbox, out, policy)
    assert first.checks_reused == 0 and "registry_exited" not in codes(first, "名单.xlsx")
    assert run(inbox, out, policy).checks_reused == 1
    write_register(tmp_path / "档案.xlsx", register_of(people, **{"2": {"status": "已脱困"}}))
    changed = run(inbox, out, policy)
    assert changed.checks_reused == 0
    assert "registry_exited" in codes(changed, "名单.xlsx")
    assert changed.files[0].checked_against.sha256 != first.files[0].checked_against.sha256


def test_an_earlier_period_s_rows_apply_to_the_reused_checks(tmp_path: Path) -> None:
    """不得低于上年慰问标准: last year's list, processed after this month's, is seen by this month's reused check."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    files = small_inbox(inbox, 2)
    assert run(inbox, out, None).checks_reused == 0
    assert run(inbox, out, None).checks_reused == 2
    people = [with_changes(person, amount=person.amount + 300) for person in make_people(4, 50)]
    last_year = tmp_path / "last_year"
    last_year.mkdir()
    fill_template(last_year / "第0工会_慰问名单.xlsx", "第0工会", people, date="2025-11-15")
    run_batch(last_year, out, "2025-11", None)
    rerun = run(inbox, out, None)
    assert rerun.checks_reused == 2
    assert "below_last_year" in codes(rerun, files[0].name)
    assert "below_last_year" not in codes(rerun, files[1].name)


def test_an_earlier_period_run_again_changes_what_the_reused_checks_find_in_it(tmp_path: Path) -> None:
    """Last year's list, run again under a policy that bars one of its people, is rejected: its rows no longer count,
    and this month's reused checks (their history findings kept) say so, though no file's bytes changed."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    files = small_inbox(inbox, 2)
    last_year_people = [with_changes(person, amount=person.amount + 300) for person in make_people(4, 50)]
    last_year = tmp_path / "last_year"
    last_year.mkdir()
    fill_template(last_year / "第0工会_慰问名单.xlsx", "第0工会", last_year_people, date="2025-11-15")
    run_batch(last_year, out, "2025-11", None, keep_inbox=True)
    assert run(inbox, out, None).checks_reused == 0
    kept = run(inbox, out, None)
    assert kept.checks_reused == 2 and "below_last_year" in codes(kept, files[0].name)
    barring = tmp_path / "barring.toml"
    barring.write_text(f'[relief]\nbarred_ids = ["{last_year_people[3].id_number}"]\n', encoding="utf-8")
    assert run_batch(last_year, out, "2025-11", barring, keep_inbox=True).files[0].status == REJECTED
    rerun = run(inbox, out, None)
    assert rerun.checks_reused == 2
    assert "below_last_year" not in codes(rerun, files[0].name)
    cold = tmp_path / "cold"
    shutil.copytree(out, cold)
    shutil.rmtree(cold / ".cache")
    assert outputs(run(inbox, cold, None).folder.parent, SMALL_OUTPUTS) == outputs(out, SMALL_OUTPUTS)


def test_a_check_that_met_a_birth_date_after_today_is_trusted_only_until_that_day(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    small_inbox(inbox, 2)
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    people = make_people(4, 70)
    people[1] = with_changes(people[1], id_number=make_id(random.Random(1), people[1].gender, tomorrow))
    fill_template(inbox / "未来工会_慰问名单.xlsx", "未来工会", people)
    first = run(inbox, out, None)
    assert "id_birthdate" in codes(first, "未来工会_慰问名单.xlsx")
    kept = {path: load_pickle(path) for path in (out / ".cache" / "checks" / PERIOD).glob("*.pickle")}
    dated = [path for path, (until, _) in kept.items() if until is not None]
    assert len(dated) == 1 and kept[dated[0]][0] == tomorrow  # the other lists met no such date
    cache = CheckCache(dated[0].parent, "", "")
    assert cache.load(dated[0], today=tomorrow) is None
    assert cache.load(dated[0], today=tomorrow - dt.timedelta(days=1)) is not None
    # the entry as a check made yesterday, of an ID born today, would have left it: not trusted today
    save_pickle(dated[0], (dt.date.today(), kept[dated[0]][1]))
    rerun = run(inbox, out, None)
    assert rerun.checks_reused == 2
    assert load_pickle(dated[0])[0] == tomorrow  # checked again, kept again


def test_a_kill_while_an_entry_is_written_leaves_nothing_a_later_run_trusts(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    small_inbox(inbox, 4)
    command = [sys.executable, str(ROOT / "process.py"), "run", "--inbox", str(inbox), "--out", str(out)]
    command += ["--period", PERIOD]
    environment = {**os.environ, "UNIONBATCH_KILL_AT": "cache_entry_half_written"}
    killed = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    folder = out / ".cache" / "checks" / PERIOD
    half = [path for path in folder.iterdir() if path.name.startswith(".tmp-")]
    assert half and all(path.read_bytes().startswith(MAGIC) for path in half)
    assert all(read_entry(path) is None for path in half)  # cut short: its checksum fails
    kept = [path for path in folder.glob("*.pickle") if not path.name.startswith(".tmp-")]
    whole = [path for path in kept if read_entry(path) is not None]
    assert len(whole) == len(kept) < 4
    assert not (out / PERIOD / "report.json").exists()
    resumed = run(inbox, out, None)
    assert resumed.checks_reused == len(whole)
    assert not [path for path in folder.iterdir() if path.name.startswith(".tmp-")]
    assert len(list(folder.glob("*.pickle"))) == 4 and all(result.accepted for result in resumed.files)  # no .tmp-
    assert len(resumed.files) == 4


def test_progress_counts_every_file_whether_checked_or_reused(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    small_inbox(inbox, 3)
    run(inbox, out, None)
    fill_template(inbox / "新工会_慰问名单.xlsx", "新工会", make_people(4, 90))
    told: list[tuple[int, int]] = []
    report = run_batch(inbox, out, PERIOD, None, progress=lambda done, total: told.append((done, total)))
    assert report.checks_reused == 3
    assert told == [(done, 4) for done in range(5)]  # (0, 4): the checking starts


def test_the_processor_s_version_is_in_its_digest(tmp_path: Path) -> None:
    folder = tmp_path / "unionbatch"
    shutil.copytree(ROOT / "unionbatch", folder, ignore=shutil.ignore_patterns("__pycache__"))
    before = _sources_digest((folder,))
    version = folder / "__init__.py"
    version.write_text(version.read_text(encoding="utf-8").replace('__version__ = "', '__version__ = "9'), "utf-8")
    _sources_digest.cache_clear()
    assert _sources_digest((folder,)) != before


def workbook_cells(path: Path) -> list[list[object]]:
    book = calamine.CalamineWorkbook.from_path(str(path))
    return [row for name in book.sheet_names for row in book.get_sheet_by_name(name).to_python()]


def test_a_workbook_that_reads_earlier_periods_is_written_again_when_they_change(tmp_path: Path) -> None:
    """促进就业汇总 shows each month's increase over the last: August processed after September changes it."""
    policy = write_policy(tmp_path / "policy")
    out, unit = tmp_path / "out", "甲市总工会"
    report_file(tmp_path / "september" / "甲_9.xlsx", unit, figures(unit, 9), date="2026-09-28")
    run_batch(tmp_path / "september", out, "2026-09", policy)
    workbook = out / "2026-09" / "促进就业汇总.xlsx"
    first, written_at = workbook_cells(workbook), workbook.stat().st_mtime_ns
    run_batch(tmp_path / "september", out, "2026-09", policy)
    assert workbook.stat().st_mtime_ns == written_at  # nothing changed: kept
    report_file(tmp_path / "august" / "甲_8.xlsx", unit, figures(unit, 8), date="2026-08-28")
    run_batch(tmp_path / "august", out, "2026-08", policy)
    rerun = run_batch(tmp_path / "september", out, "2026-09", policy)
    assert rerun.checks_reused == 1
    assert workbook_cells(workbook) != first
    cold = tmp_path / "cold"
    shutil.copytree(out, cold)
    shutil.rmtree(cold / ".cache")
    run_batch(tmp_path / "september", cold, "2026-09", policy)
    assert workbook_cells(cold / "2026-09" / "促进就业汇总.xlsx") == workbook_cells(workbook)


def ledger_state(out: Path) -> dict[str, tuple[str, str, int]]:
    """Each submission of the period: (status, when it was last recorded, its rows)."""
    with closing(sqlite3.connect(out / "ledger.sqlite")) as db:  # closed: a connection is freed only by the cyclic GC
        query = (
            "SELECT s.original_name, s.status, s.processed, COUNT(r.row_number) FROM submissions s "
            "LEFT JOIN rows r ON r.submission_id = s.id WHERE s.period = ? GROUP BY s.id"
        )
        return {name: (status, processed, rows) for name, status, processed, rows in db.execute(query, (PERIOD,))}


def test_a_reused_check_with_the_same_result_is_not_recorded_again_and_a_changed_result_is(small_period) -> None:
    inbox, out = small_period
    before = ledger_state(out)
    assert [rows for _, _, rows in before.values()] == [4, 4, 4]
    saved = out / "saved-ledger.sqlite"
    shutil.copy(out / "ledger.sqlite", saved)
    time.sleep(1.1)  # `processed` has whole seconds: a record made again would show
    assert run(inbox, out, None).checks_reused == 3
    assert ledger_state(out) == before
    person = make_people(4, 50)[0]  # in 第0工会_慰问名单.xlsx
    bar_person(out / "ledger.sqlite", person.id_number, "虚报")
    barred = run(inbox, out, None)
    assert barred.checks_reused == 3
    after = ledger_state(out)
    assert after["第0工会_慰问名单.xlsx"][0] == "rejected" and after["第0工会_慰问名单.xlsx"][2] == 0
    assert {name: state for name, state in after.items() if name != "第0工会_慰问名单.xlsx"} == {
        name: state for name, state in before.items() if name != "第0工会_慰问名单.xlsx"
    }
    # the ledger put back as it was before the bar: what it holds is not what the last run recorded
    shutil.copy(saved, out / "ledger.sqlite")
    time.sleep(1.1)
    run(inbox, out, None)
    restored = ledger_state(out)
    assert restored["第0工会_慰问名单.xlsx"][0] != "rejected" and restored["第0工会_慰问名单.xlsx"][2] == 4
    assert restored["第0工会_慰问名单.xlsx"][1] != before["第0工会_慰问名单.xlsx"][1]  # recorded again


def test_a_new_file_listing_a_person_of_a_reused_file_is_a_duplicate_in_both(small_period) -> None:
    """The duplicate check across files reads each reused check's kept keys (found when the file was checked):
    the person a new file repeats is found in the reused file, both files get the error, as in a cold run."""
    inbox, out = small_period
    repeated = make_people(4, 50)[1]  # 第0工会's second person
    fill_template(inbox / "新港街道工会_慰问名单.xlsx", "新港街道工会", [*make_people(2, 41), repeated])
    second = run(inbox, out, None)
    assert second.checks_reused == 3
    reused = next(result for result in second.files if result.path.name == "第0工会_慰问名单.xlsx")
    assert reused.parsed is not None and reused.parsed.keys is not None and len(reused.parsed.keys) == 4
    assert "duplicate_across_files" in codes(second, "新港街道工会_慰问名单.xlsx")
    assert "duplicate_across_files" in codes(second, "第0工会_慰问名单.xlsx")
    assert "duplicate_across_files" not in codes(second, "第1工会_慰问名单.xlsx")


def test_a_kept_checks_rows_are_read_back_only_when_used_and_equal_those_checked(tmp_path: Path) -> None:
    """A late file's run loads every kept check before the batch stages that decide its answer; the kept rows (a
    frame of Decimals) are built only when the outputs need them, and are those the check found."""
    import pickle

    from unionbatch.pipeline import check_file
    from unionbatch.policy import load_policy
    from unionbatch.spec import load_specs

    fill_template(tmp_path / "a.xlsx", "甲工会", make_people(5, seed=7))
    policy = load_policy(None, load_specs())
    parsed = check_file(tmp_path / "a.xlsx", policy.specs, policy).parsed
    kept = pickle.loads(pickle.dumps(parsed))
    assert "frame" not in vars(kept)
    again = pickle.loads(pickle.dumps(kept))  # kept as it was read: still not built, still the same rows
    assert kept.frame.equals(parsed.frame) and list(kept.frame.index) == list(parsed.frame.index)
    assert "frame" in vars(kept)
    assert again.frame.equals(parsed.frame)
    assert kept.keys == parsed.keys and kept.unit == "甲工会"


def copies_made(out: Path) -> dict[str, tuple[int, int]]:
    """Annotated copy → (inode, modification time): a copy made again is a new file (written beside, renamed)."""
    folder = out / PERIOD / "批注"
    return {path.name: (path.stat().st_ino, path.stat().st_mtime_ns) for path in sorted(folder.iterdir())}


def test_a_copy_is_made_again_only_for_a_new_file_new_findings_or_a_copy_altered_since(period) -> None:
    """A late file's run makes its own annotated copy, not again those of every file with findings; a copy the
    office altered or removed is made again, as is one whose file's findings changed."""
    inbox, out = period
    before = copies_made(out)
    assert len(before) >= 3
    fill_template(
        inbox / "新港街道工会_慰问名单.xlsx",
        "新港街道工会",
        [*make_people(5, 41), with_changes(make_people(1, 41)[0], phone="12")],
    )
    second = run(inbox, out)
    after = copies_made(out)
    assert {name: made for name, made in after.items() if name in before} == before
    assert "新港街道工会_慰问名单_批注.xlsx" in set(after) - set(before)
    copies = {result.path.name: result.annotated for result in second.files if result.findings}
    assert {path.name for path in copies.values() if path is not None} == set(after)  # reused copies reported too
    altered, removed, *kept = sorted(before)
    folder = out / PERIOD / "批注"
    (folder / altered).write_bytes((folder / altered).read_bytes() + b"\0")
    (folder / removed).unlink()
    run(inbox, out)
    again = copies_made(out)
    assert again[altered] != before[altered] and removed in again
    assert {name: again[name] for name in kept} == {name: before[name] for name in kept}


def test_a_kept_files_copy_is_made_again_when_a_late_file_changes_its_findings(small_period) -> None:
    """A file with a mistake, then a late file repeating one of its people: the first file's copy is made again,
    with the duplicate marked, as a cold run makes it."""
    inbox, out = small_period
    people = make_people(3, 60)
    fill_template(inbox / "甲工会_慰问名单.xlsx", "甲工会", [with_changes(people[0], phone="12"), *people[1:]])
    run(inbox, out, None)
    before = copies_made(out)["甲工会_慰问名单_批注.xlsx"]
    fill_template(inbox / "乙工会_慰问名单.xlsx", "乙工会", [people[2], *make_people(2, 61)])
    second = run(inbox, out, None)
    assert "duplicate_across_files" in codes(second, "甲工会_慰问名单.xlsx")
    assert copies_made(out)["甲工会_慰问名单_批注.xlsx"] != before
    from openpyxl import load_workbook

    from tests.annotated import listed

    workbook = load_workbook(out / PERIOD / "批注" / "甲工会_慰问名单_批注.xlsx")
    assert any("乙工会" in str(row) for row in listed(workbook["错误清单"]))


def test_watch_loads_what_checks_and_copies_need_once_so_each_runs_workers_start_ready() -> None:
    """watch forks each run's workers from its own process: pandera (with its backends) and openpyxl are loaded
    there once, not by every worker of every run after a file lands."""
    probe = (
        "import sys\n"
        "from unionbatch import watch\n"
        "before = {name in sys.modules for name in ('pandera', 'openpyxl', 'pandera.backends.pandas.builtin_checks')}\n"
        "watch.prepare_workers()\n"
        "after = all(name in sys.modules for name in ('pandera', 'openpyxl', 'pandera.backends.pandas.builtin_checks'))\n"
        "print(before == {False}, after)\n"
    )
    shown = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert shown.stdout.split() == ["True", "True"]


def aside_temporaries(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.rglob("*.aside.tmp*"))


def test_a_run_killed_while_its_child_writes_a_workbook_leaves_it_to_the_next_run(tmp_path: Path) -> None:
    """The consolidated workbook is written by a forked child beside the report (two cores): killed with the
    workbook written at its temporary but not yet renamed into place, the run leaves no workbook a reader could
    take for this run's; the next run clears the temporary and writes the workbook a cold run writes."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    small_inbox(inbox, 3)
    shutil.copytree(inbox, tmp_path / "same")
    command = [sys.executable, str(ROOT / "process.py"), "run", "--inbox", str(inbox), "--out", str(out)]
    command += ["--period", PERIOD, "--keep-inbox"]
    environment = {**os.environ, "UNIONBATCH_KILL_AT": "written_aside"}
    killed = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    folder = out / PERIOD
    assert not (folder / "慰问名单汇总.xlsx").exists()
    [temporary] = aside_temporaries(folder)
    assert temporary.startswith(".慰问名单汇总.")
    (folder / f".{Path(temporary).stem}.tmp.xlsx").write_bytes(b"PK cut short")  # a child killed mid-write
    resumed = run(inbox, out, None)
    assert resumed.checks_reused == 3
    assert aside_temporaries(folder) == []
    cold = tmp_path / "cold"
    run(tmp_path / "same", cold, None)
    assert workbook_cells(folder / "慰问名单汇总.xlsx") == workbook_cells(cold / PERIOD / "慰问名单汇总.xlsx")


def test_a_child_that_fails_to_write_leaves_no_temporary_and_says_so_to_the_run(tmp_path: Path) -> None:
    """A child that fails (here: its write raises) leaves its temporary removed, nothing in place, and `finish`
    false: the run then writes the workbook itself."""
    from unionbatch.pipeline import _WrittenAside

    target = tmp_path / "汇总.xlsx"

    def failing(into: Path) -> None:
        into.write_bytes(b"half")
        raise OSError("disk full")

    aside = _WrittenAside(failing, target)
    assert not aside.finish()
    assert not target.exists() and aside_temporaries(tmp_path) == []

    def writing(into: Path) -> None:
        into.write_bytes(b"whole")

    assert _WrittenAside(writing, target).finish()
    assert target.read_bytes() == b"whole" and aside_temporaries(tmp_path) == []


def test_the_kept_checks_are_reused_however_the_output_folder_is_typed(tmp_path: Path, monkeypatch) -> None:
    """A cron job giving OUT as an absolute path, the office typing it relative to where it stands: one period,
    its checks kept under the same keys."""
    small_inbox(tmp_path / "inbox", 3)
    monkeypatch.chdir(tmp_path)
    assert run(Path("inbox"), Path("out"), None).checks_reused == 0
    monkeypatch.chdir(tmp_path / "inbox")
    assert run(tmp_path / "inbox", Path("../out"), None).checks_reused == 3
    assert run(tmp_path / "inbox", tmp_path / "out", None).checks_reused == 3


# ---- the relief lists summed file by file: what a run keeps of each file's rows ---------------------------------


def paid_by_unit(out: Path) -> dict[str, Decimal]:
    """按单位汇总 as written: unit → its 合计(元) (慰问金 + 物资折款)."""
    grid = read_values(out / PERIOD / "慰问名单汇总.xlsx")["按单位汇总"]
    return {row[0]: Decimal(str(row[4])) for row in grid if str(row[0]).startswith("第")}


def paid(people: list) -> Decimal:
    return sum((Decimal(person.amount) + Decimal(person.goods) for person in people), Decimal(0))


def test_a_late_file_s_run_sums_the_lists_from_what_it_kept_reading_no_other_file_s_rows(small_period) -> None:
    inbox, out = small_period
    late = make_people(5, 70)
    fill_template(inbox / "第9工会_慰问名单.xlsx", "第9工会", late)  # after the others in office order
    report = run(inbox, out, None)
    others = [result for result in report.files if result.path.name != "第9工会_慰问名单.xlsx"]
    assert len(others) == 3 and all(result.parsed is not None for result in others)
    assert all("frame" not in vars(result.parsed) for result in others)  # their rows were never read back
    people = {**relief_people(), "第9工会": late}
    assert paid_by_unit(out) == {unit: paid(group) for unit, group in people.items()}
    everyone = [person for group in people.values() for person in group]
    assert report.totals["慰问名单"]["total"] == f"{paid(everyone):.2f}"
    assert report.totals["慰问名单"]["households"] == 17


def test_a_kept_sum_is_made_again_when_its_file_s_rows_change(small_period) -> None:
    inbox, out = small_period
    target = next(path for path in archived(out) if path.name == "第0工会_慰问名单.xlsx")
    changed = make_people(4, 90)  # as many people, other amounts
    fill_template(target, "第0工会", changed)
    report = run(inbox, out, None)
    people = {**relief_people(), "第0工会": changed}
    assert paid_by_unit(out) == {unit: paid(group) for unit, group in people.items()}
    assert report.totals["慰问名单"]["total"] == f"{paid([p for group in people.values() for p in group]):.2f}"


@pytest.mark.parametrize("damage", ["truncated", "garbage", "not_a_mapping", "entries_not_mappings"])
def test_damaged_kept_sums_are_made_again_and_the_workbook_equals_a_cold_run_s(small_period, tmp_path, damage) -> None:
    inbox, out = small_period
    kept = out / ".cache" / "sums" / f"{PERIOD}.pickle"
    data = kept.read_bytes()
    if damage == "truncated":
        kept.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        kept.write_bytes(b"not a pickle at all")
    elif damage == "not_a_mapping":  # whole, checksum and all, but not what a run keeps there
        save_pickle(kept, ["a list"])
    else:
        save_pickle(kept, dict.fromkeys(load_pickle(kept), "not the sums"))
    fill_template(inbox / "第9工会_慰问名单.xlsx", "第9工会", make_people(5, 70))
    run(inbox, out, None)
    cold = tmp_path / "cold"
    shutil.copytree(out, cold)
    shutil.rmtree(cold / ".cache")
    run(inbox, cold, None)
    assert outputs(out, SMALL_OUTPUTS) == outputs(cold, SMALL_OUTPUTS)
    assert load_pickle(kept) is not None  # written again, whole


def test_a_late_file_s_run_under_a_register_equals_a_cold_run_even_with_blank_archive_numbers(tmp_path: Path) -> None:
    """The 建档编号 the register gives is derived per read of rows: a late list whose people have no number, read
    alone, shows the same cells as when read with every file (blank, not a NaN)."""
    import dataclasses

    early = make_people(6, seed=31)
    late = [dataclasses.replace(person, archive_no="") for person in make_people(3, seed=32)]
    write_register(tmp_path / "档案.xlsx", register_of(early) + register_of(late))
    policy = registry_policy(tmp_path)
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    fill_template(inbox / "第1工会_慰问名单.xlsx", "第1工会", early[:3])
    fill_template(inbox / "第2工会_慰问名单.xlsx", "第2工会", early[3:])
    run(inbox, out, policy)
    fill_template(inbox / "第9工会_慰问名单.xlsx", "第9工会", late)
    report = run(inbox, out, policy)
    assert all(result.accepted for result in report.files)
    cold = tmp_path / "cold"
    shutil.copytree(out, cold)
    shutil.rmtree(cold / ".cache")
    run(inbox, cold, policy)
    assert outputs(out, SMALL_OUTPUTS) == outputs(cold, SMALL_OUTPUTS)
    signoff = read_values(out / PERIOD / "慰问名单汇总.xlsx")["实名制发放表"]
    numbers = [row[4] for row in signoff if row[1] == "第9工会"]
    assert len(numbers) == 3 and all(number in ("", None) for number in numbers)


def test_a_late_rejected_list_leaves_the_workbook_as_a_cold_run_writes_it(small_period, tmp_path) -> None:
    """The units left out of a roll-up (their lists all sent back) are named in the same order whether a list
    arrived late or every file is read at once: a late file's run writes the workbook a cold run writes."""
    inbox, out = small_period
    bad = [with_changes(person, id_number=person.id_number[:-1] + "X") for person in make_people(3, 80)]
    fill_template(inbox / "第8工会_慰问名单.xlsx", "第8工会", bad)
    first = run(inbox, out, None)
    fill_template(inbox / "第1甲工会_慰问名单.xlsx", "第1甲工会", bad)  # arrives later, sorts before 第8
    late = run(inbox, out, None)
    assert [result.accepted for result in first.files].count(False) == 1
    assert [result.accepted for result in late.files].count(False) == 2
    cold = tmp_path / "cold"
    shutil.copytree(out, cold)
    shutil.rmtree(cold / ".cache")
    run(inbox, cold, None)
    assert outputs(out, ("慰问名单汇总.xlsx",)) == outputs(cold, ("慰问名单汇总.xlsx",))
    notes = [row[0] for row in read_values(out / PERIOD / "慰问名单汇总.xlsx")["按单位汇总"] if "未计入" in str(row[0])]
    assert len(notes) == 1 and notes[0].index("第1甲工会") < notes[0].index("第8工会")
