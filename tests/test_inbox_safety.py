"""Nothing lost, nothing overwritten (issue 13): archive names that cannot collide, identical bytes in one batch,
files and mails still being copied, arrival times, runs killed at exact steps (UNIONBATCH_KILL_AT) and at random
moments, and inbox entries that are not regular files."""

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
import tempfile
import threading
import time
from collections import Counter
from contextlib import closing
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.factory import fill_outing, fill_stats, fill_template, make_people, stats_for
from unionbatch.inbox import copies_ahead, place, scan_inbox
from unionbatch.pipeline import run_batch

PERIOD = "2026-11"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stored(out: Path) -> list[Path]:
    """Every file kept under 原件/ (重复/ and 邮件/ included)."""
    archive = out / PERIOD / "原件"
    return sorted(path for path in archive.rglob("*") if path.is_file()) if archive.exists() else []


def where_bytes_are(inbox: Path, out: Path) -> Counter[str]:
    """How many times each content is kept: in the inbox or under 原件/."""
    return Counter(digest(path) for path in [*stored(out), *(p for p in inbox.iterdir() if p.is_file())])


def settle_policy(folder: Path, seconds: float, extra: str = "") -> Path:
    path = folder / "policy.toml"
    path.write_text(f"[inbox]\nsettle_seconds = {seconds}\n{extra}", encoding="utf-8")
    return path


def run_process(
    inbox: Path, out: Path, kill_at: str | None = None, *options: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`process.py run` as its own process; with `kill_at` it kills itself with SIGKILL at that step."""
    command = [sys.executable, str(ROOT / "process.py"), "run", "--inbox", str(inbox), "--out", str(out)]
    command += ["--period", PERIOD, *options]
    environment = {**os.environ, "UNIONBATCH_KILL_AT": kill_at or ""}
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=environment)


def ledger_stored(out: Path) -> list[tuple[str, str, str]]:
    with closing(sqlite3.connect(out / "ledger.sqlite")) as db:  # closed: a connection is freed only by the cyclic GC
        return db.execute("SELECT sha256, original_name, stored_path FROM submissions ORDER BY id").fetchall()


def report_json(out: Path) -> dict:
    return json.loads((out / PERIOD / "report.json").read_text(encoding="utf-8"))


def unit_mail(unit: str, attachment: bytes, name: str, date: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "unit@units.example", "gonghui@example.org", unit
    if date:
        message["Date"] = date
    message.set_content("请查收附件。")
    message.add_attachment(attachment, maintype="application", subtype="octet-stream", filename=name)
    return bytes(message)


# ---- case 1: a name promised to a recorded file is never given to another -----------------------------


def test_a_name_promised_to_a_file_recorded_before_a_kill_is_not_given_to_a_new_one(tmp_path: Path) -> None:
    inbox, out, make = tmp_path / "inbox", tmp_path / "out", tmp_path / "make"
    lists = {
        unit: make_people(3, seed=300 + number) for number, unit in enumerate(["甲工会", "乙工会", "丙工会", "丁工会"])
    }
    fill_template(inbox / "名单.xlsx", "甲工会", lists["甲工会"])
    assert run_process(inbox, out).returncode == 0
    fill_template(inbox / "名单.xlsx", "乙工会", lists["乙工会"])  # a second 名单.xlsx: promised 原件/名单(2).xlsx
    killed = run_process(inbox, out, "recorded")
    assert killed.returncode == -signal.SIGKILL
    assert (inbox / "名单.xlsx").exists() and not (out / PERIOD / "原件" / "名单(2).xlsx").exists()
    inputs = {
        "名单.xlsx": inbox / "名单.xlsx",
        "名单(2).xlsx": fill_template(make / "名单(2).xlsx", "丙工会", lists["丙工会"]),  # a browser's second download
        " 名单.xlsx": fill_template(make / " 名单.xlsx", "丁工会", lists["丁工会"]),  # cleaned to 名单.xlsx
    }
    for name, path in inputs.items():
        if path.parent != inbox:
            shutil.copy2(path, inbox / name)
    expected = Counter(digest(path) for path in [*inputs.values(), out / PERIOD / "原件" / "名单.xlsx"])
    assert run_process(inbox, out).returncode == 0
    assert list(inbox.iterdir()) == []
    assert where_bytes_are(inbox, out) == expected  # each list once: none overwritten
    for sha, _, stored_path in ledger_stored(out):
        assert digest(out / stored_path) == sha  # the ledger's path holds the bytes it recorded
    report = report_json(out)
    people = sum(len(people) for people in lists.values())
    assert report["totals"]["慰问名单"]["households"] == people
    assert Decimal(report["totals"]["慰问名单"]["amount"]) == sum(p.amount for ps in lists.values() for p in ps)


# ---- case 2: identical bytes in one batch are one submission ------------------------------------------


def test_identical_files_in_one_batch_are_one_submission_and_the_copy_goes_to_repeats(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    original = fill_template(inbox / "名单.xlsx", "甲工会", make_people(4, seed=310))
    shutil.copy2(original, inbox / "名单 - 副本.xlsx")
    report = run_batch(inbox, out, PERIOD)
    assert [r.path.name for r in report.files] == ["名单 - 副本.xlsx"]  # the first by name
    assert report.repeats == [("名单.xlsx", f"{PERIOD}/原件/名单 - 副本.xlsx")]
    assert report.totals["慰问名单"]["households"] == 4
    assert [(name, path) for _, name, path in ledger_stored(out)] == [
        ("名单 - 副本.xlsx", f"{PERIOD}/原件/名单 - 副本.xlsx")
    ]
    assert sorted(str(p.relative_to(out / PERIOD / "原件")) for p in stored(out)) == [
        "名单 - 副本.xlsx",
        "重复/名单.xlsx",
    ]


@pytest.mark.parametrize("kill_at", ["recorded", "moves_planned", "linked:1", "moved:1", "linked:2"])
def test_identical_files_killed_while_archived_are_both_kept(tmp_path: Path, kill_at: str) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    original = fill_template(inbox / "名单.xlsx", "甲工会", make_people(4, seed=311))
    shutil.copy2(original, inbox / "名单 - 副本.xlsx")
    content = original.read_bytes()
    assert run_process(inbox, out, kill_at).returncode == -signal.SIGKILL
    assert where_bytes_are(inbox, out)[digest(original)] >= 2  # nothing lost at the kill
    assert run_process(inbox, out).returncode == 0
    assert list(inbox.iterdir()) == [] and [p.read_bytes() == content for p in stored(out)] == [True, True]
    assert report_json(out)["totals"]["慰问名单"]["households"] == 4
    [(_, name, path)] = ledger_stored(out)
    assert (out / path).read_bytes() == content and name == Path(path).name


@pytest.mark.parametrize("kill_at", ["recorded", "outputs_written", "copied:1"])
def test_a_kept_inbox_killed_while_its_copies_are_made_ahead_is_archived_once_by_the_next_run(
    tmp_path: Path, kill_at: str
) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    files = [
        fill_template(inbox / f"{unit}.xlsx", unit, make_people(3, seed=seed)) for seed, unit in enumerate("甲乙丙")
    ]
    contents = {path.name: path.read_bytes() for path in files}
    assert run_process(inbox, out, kill_at, "--keep-inbox").returncode == -signal.SIGKILL
    assert {path.name: path.read_bytes() for path in inbox.iterdir()} == contents  # the inbox as it was
    assert run_process(inbox, out, None, "--keep-inbox").returncode == 0
    archive = out / PERIOD / "原件"
    assert {path.name: path.read_bytes() for path in archive.iterdir()} == contents  # once each, no temporary left
    assert {path.name: path.read_bytes() for path in inbox.iterdir()} == contents
    assert all(path.stat().st_mode & 0o077 == 0 for path in archive.iterdir())


def test_copies_made_ahead_for_a_run_that_fails_are_removed_and_the_source_kept(tmp_path: Path) -> None:
    source = tmp_path / "inbox" / "名单.xlsx"
    source.parent.mkdir()
    source.write_bytes(b"the unit's list")
    target = tmp_path / "原件" / "名单.xlsx"
    with pytest.raises(RuntimeError), copies_ahead([(source, target, "sha", True)]) as ahead:
        assert [copy.read_bytes() for copy in ahead.taken().values()] == [b"the unit's list"]
        raise RuntimeError("a stage failed")
    assert list(target.parent.iterdir()) == [] and source.read_bytes() == b"the unit's list"


# ---- the settle rule: every entry unchanged for settle_seconds -----------------------------------------


def test_an_entry_whose_old_modification_time_was_just_set_is_still_watched(tmp_path: Path) -> None:
    """A Windows copy puts the old modification time back; the change time shows the copy just happened."""
    (tmp_path / "inbox").mkdir()
    copied = tmp_path / "inbox" / "名单.xlsx"
    copied.write_bytes(b"PK whole")
    os.utime(copied, (1_600_000_000, 1_600_000_000))
    started = time.monotonic()
    scan = scan_inbox(tmp_path / "inbox", 1.0)
    waited = time.monotonic() - started
    assert 0.9 <= waited < 6  # watched for the settle time (not taken by its old mtime), and not much longer
    assert [entry.path for entry in scan.ready] == [copied]


def test_the_settle_time_is_five_seconds_unless_the_policy_says_otherwise(tmp_path: Path) -> None:
    environment = {key: value for key, value in os.environ.items() if key != "UNIONBATCH_SETTLE_SECONDS"}
    script = "from unionbatch.policy import load_policy; from unionbatch.spec import load_specs; import sys; "
    script += "print(load_policy(None, load_specs()).settle_seconds, load_policy(__import__('pathlib').Path(sys.argv[1]), load_specs()).settle_seconds)"
    policy = settle_policy(tmp_path, 12)
    shown = subprocess.run(
        [sys.executable, "-c", script, str(policy)], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert shown.stdout.split() == ["5.0", "12.0"], shown.stderr


def test_a_file_that_changes_within_the_settle_time_waits_and_is_never_read_half_written(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    growing = inbox / "名单.xlsx"
    growing.write_bytes(b"PK" + b"x" * 100)
    final_size = 102 + 100 * 5

    def copy_pausing() -> None:  # a copy that pauses 0.3 s between blocks
        for _ in range(5):
            time.sleep(0.3)
            with growing.open("ab") as handle:
                handle.write(b"x" * 100)

    writer = threading.Thread(target=copy_pausing)
    writer.start()
    scan = scan_inbox(inbox, 1.0)
    writer.join()
    assert all(entry.size == final_size for entry in scan.ready)  # ready only if seen whole
    assert scan.arriving == [growing] or [entry.size for entry in scan.ready] == [final_size]
    later = scan_inbox(inbox, 1.0)
    assert [(entry.path, entry.size) for entry in later.ready] == [(growing, final_size)]


def test_an_eml_still_being_copied_is_left_whole_for_the_next_run(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    policy = settle_policy(tmp_path, 1.0)
    data = unit_mail(
        "甲工会",
        fill_template(tmp_path / "make" / "甲.xlsx", "甲工会", make_people(3, seed=320)).read_bytes(),
        "甲.xlsx",
    )
    eml = inbox / "甲.eml"
    eml.write_bytes(data[: len(data) // 3])
    cut = len(data) // 3

    def copy_pausing() -> None:  # the rest in four blocks, 0.5 s apart (each pause shorter than the settle time)
        blocks = [data[cut + i * (len(data) - cut) // 4 : cut + (i + 1) * (len(data) - cut) // 4] for i in range(4)]
        for block in blocks:
            time.sleep(0.5)
            with eml.open("ab") as handle:
                handle.write(block)

    writer = threading.Thread(target=copy_pausing)
    writer.start()
    first = run_batch(inbox, out, PERIOD, policy)
    writer.join()
    assert eml.read_bytes() == data
    if first.files:  # it was seen only once whole
        assert [r.path.name for r in first.files] == ["甲.xlsx"] and first.files[0].accepted
    else:
        assert first.arriving == ["甲.eml"] and not (out / PERIOD / "原件" / "邮件").exists()
        second = run_batch(inbox, out, PERIOD, policy)
        assert [(r.path.name, r.status) for r in second.files] == [("甲.xlsx", "accepted")]
    assert [digest(p) for p in (out / PERIOD / "原件" / "邮件").iterdir()] == [hashlib.sha256(data).hexdigest()]
    assert list(inbox.iterdir()) == []


# ---- cases 4 and 5: arrival --------------------------------------------------------------------------


def test_emailed_versions_with_the_same_date_are_ordered_by_the_mails_date(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    make = tmp_path / "make"
    people = make_people(3, seed=330)
    older = fill_stats(make / "a.xlsx", "甲工会", [stats_for(people, frontline_count=9, frontline_amount=4500)])
    newer = fill_stats(make / "b.xlsx", "甲工会", [stats_for(people)])  # the 12:00 correction, same 填报日期
    # by name and by when the attachments were saved, the 10:00 mail would look newer
    (inbox / "b.eml").write_bytes(
        unit_mail("甲工会", newer.read_bytes(), "统计表(1).xlsx", "Mon, 30 Nov 2026 12:00:00 +0800")
    )
    (inbox / "a.eml").write_bytes(
        unit_mail("甲工会", older.read_bytes(), "统计表(2).xlsx", "Mon, 30 Nov 2026 10:00:00 +0800")
    )
    os.utime(inbox / "b.eml", (1_600_000_000, 1_600_000_000))
    report = run_batch(inbox, out, PERIOD)
    versions = {r.path.name: r.replaced_by for r in report.files}
    assert versions == {"统计表(1).xlsx": None, "统计表(2).xlsx": "统计表(1).xlsx"}
    assert Decimal(report.totals["送温暖统计表"]["total"]) == stats_for(people)["total"]


def test_a_copy_keeping_an_old_modification_time_arrives_when_first_seen(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    closed = dt.datetime.now().replace(microsecond=0) - dt.timedelta(hours=1)
    policy = settle_policy(tmp_path, 0.05, f"[outing]\ncloses = {closed.isoformat()}\n")
    late = fill_outing(inbox / "踏青.xlsx", "教务处", [("陈静", "教职工", "", "13905910001")])
    written = (closed - dt.timedelta(days=2)).timestamp()
    os.utime(late, (written, written))  # as a Windows copy keeps it: before the closing time
    report = run_batch(inbox, out, PERIOD, policy)
    [result] = report.files
    assert [f.code for f in result.findings] == ["late_submission"]
    assert result.received >= closed and result.modified == dt.datetime.fromtimestamp(written)
    again = run_batch(inbox, out, PERIOD, policy)  # re-checked from 原件/: the same arrival
    assert again.files[0].received == result.received


# ---- case 6: killed while opening an .eml --------------------------------------------------------------


@pytest.mark.parametrize("keep", [False, True], ids=["moved", "keep-inbox"])
@pytest.mark.parametrize("kill_at", ["attachment_staged:1", "attachment_staged:2", "eml_recorded", "moved:1"])
def test_a_run_killed_while_opening_an_eml_keeps_each_attachment_once(tmp_path: Path, kill_at: str, keep: bool) -> None:
    inbox, out, make = tmp_path / "inbox", tmp_path / "out", tmp_path / "make"
    inbox.mkdir()
    first = fill_template(make / "甲.xlsx", "甲工会", make_people(3, seed=340)).read_bytes()
    second = fill_template(make / "乙.xlsx", "乙工会", make_people(2, seed=341)).read_bytes()
    message = EmailMessage()
    message["From"], message["Subject"] = "unit@units.example", "两个名单"
    message.set_content("附件")
    for name, data in (("甲.xlsx", first), ("乙.xlsx", second)):
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    (inbox / "两个名单.eml").write_bytes(bytes(message))
    options = ("--keep-inbox",) if keep else ()
    assert run_process(inbox, out, kill_at, *options).returncode == -signal.SIGKILL
    if keep:
        assert [p.name for p in inbox.iterdir()] == ["两个名单.eml"]  # the inbox as it was, even when stopped
    assert run_process(inbox, out, None, *options).returncode == 0
    assert run_process(inbox, out, None, *options).returncode == 0  # and once more: nothing new
    kept = Counter(digest(path) for path in stored(out))
    sha = hashlib.sha256
    assert kept == Counter([sha(first).hexdigest(), sha(second).hexdigest(), sha(bytes(message)).hexdigest()])
    assert [p.name for p in inbox.iterdir()] == (["两个名单.eml"] if keep else [])
    report = report_json(out)
    assert report["repeats"] == [] and report["totals"]["慰问名单"]["households"] == 5
    assert sorted(Path(f["path"]).name for f in report["files"]) == ["乙.xlsx", "甲.xlsx"]
    assert not (out / ".邮件附件").exists() or list((out / ".邮件附件").iterdir()) == []


# ---- case 10: entries that are not regular files ---------------------------------------------------------


def test_links_folders_pipes_and_devices_in_the_inbox_are_refused_and_block_nothing(tmp_path: Path) -> None:
    inbox, out, elsewhere = tmp_path / "inbox", tmp_path / "out", tmp_path / "elsewhere"
    people = make_people(3, seed=350)
    fill_template(inbox / "甲.xlsx", "甲工会", people)
    os.mkfifo(inbox / "pipe.eml")
    (inbox / "x.eml").symlink_to("/dev/zero")
    (inbox / "存档.eml").mkdir()
    outside = fill_template(elsewhere / "乙.xlsx", "乙工会", make_people(2, seed=351))
    (inbox / "乙.xlsx").symlink_to(outside)
    mail = unit_mail(
        "丙工会",
        fill_template(tmp_path / "make" / "丙.xlsx", "丙工会", make_people(2, seed=352)).read_bytes(),
        "丙.xlsx",
    )
    (inbox / "丙.EML").write_bytes(mail)
    (inbox / "大.eml").write_bytes(b"Subject: x\r\n\r\n" + b"A" * (2 * 1024 * 1024))  # over the 1 MB limit set
    policy = tmp_path / "policy.toml"
    policy.write_text("[email]\nmax_message_mb = 1\n", encoding="utf-8")
    result = run_process(inbox, out, None, "--policy", str(policy), timeout=120)
    assert result.returncode == 0, result.stderr
    refused = {entry["path"]: entry["reason"] for entry in report_json(out)["refused"]}
    assert refused == {
        "大.eml": "邮件文件 2 MB,超过上限 1 MB,未拆开",
        "pipe.eml": "不是普通文件(管道、设备或套接字),未读取",
        "x.eml": "是快捷方式(符号链接),未读取:请放入文件本身",
        "乙.xlsx": "是快捷方式(符号链接),未读取:请放入文件本身",
        "存档.eml": "是文件夹,未处理:请把其中的文件直接放入收件箱",
    }
    assert "  未处理    pipe.eml  (不是普通文件(管道、设备或套接字),未读取)" in result.stdout
    assert sorted(Path(f["path"]).name for f in report_json(out)["files"]) == ["丙.xlsx", "甲.xlsx"]  # 丙.EML opened
    assert sorted(p.name for p in inbox.iterdir()) == ["pipe.eml", "x.eml", "乙.xlsx", "大.eml", "存档.eml"]
    assert all(not p.is_symlink() for p in (out / PERIOD / "原件").rglob("*")) and outside.exists()
    log = (out / "run.log").read_text(encoding="utf-8")
    assert f"{PERIOD} 未处理 大.eml (邮件文件 2 MB,超过上限 1 MB,未拆开)" in log and " 未处理 pipe.eml " in log


# ---- moving: never over another file, across file systems too --------------------------------------------


def test_place_never_overwrites_and_moves_across_file_systems(tmp_path: Path) -> None:
    taken = tmp_path / "原件" / "名单.xlsx"
    taken.parent.mkdir()
    taken.write_bytes(b"another unit")
    source = tmp_path / "名单.xlsx"
    source.write_bytes(b"this unit")
    assert place(source, taken) == tmp_path / "原件" / "名单(2).xlsx"
    assert taken.read_bytes() == b"another unit" and not source.exists()
    with tempfile.TemporaryDirectory(dir="/dev/shm") as other:  # tmpfs: another file system than tmp_path
        far = Path(other) / "名单.xlsx"
        far.write_bytes(b"from afar")
        assert os.stat(other).st_dev != os.stat(tmp_path).st_dev
        assert place(far, taken) == tmp_path / "原件" / "名单(3).xlsx"
        assert not far.exists() and (tmp_path / "原件" / "名单(3).xlsx").read_bytes() == b"from afar"
    assert sorted(p.name for p in taken.parent.iterdir()) == ["名单(2).xlsx", "名单(3).xlsx", "名单.xlsx"]


# ---- done when: ten random kills over a 60-file batch --------------------------------------------------


def _write_batch(make: Path) -> tuple[list[Path], list[Path]]:
    """Two waves of inbox files (40 + 20) with names that clean to the same archive name, identical bytes within
    a wave and across waves, and .eml files whose attachments are all called 名单.xlsx."""
    waves: tuple[list[Path], list[Path]] = ([], [])

    def add(wave: int, name: str, unit: str | None = None, copy_of: Path | None = None, seed: int = 0) -> Path:
        path = make / f"wave{wave}" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if copy_of is not None:
            shutil.copy2(copy_of, path)
        elif unit is not None:
            edits = {"E5": "123"} if seed % 7 == 3 else None  # some lists are rejected
            fill_template(path, unit, make_people(3, seed=2000 + seed), edits=edits)
        waves[wave].append(path)
        return path

    def add_mail(wave: int, name: str, unit: str, seed: int, same_as: Path | None = None) -> None:
        attachment = same_as or fill_template(
            make / "attachments" / f"{unit}.xlsx", unit, make_people(3, seed=2500 + seed)
        )
        path = make / f"wave{wave}" / name
        path.write_bytes(unit_mail(unit, attachment.read_bytes(), "名单.xlsx"))
        waves[wave].append(path)

    units = [add(0, f"单位{n:02d}工会.xlsx", f"单位{n:02d}工会", seed=n) for n in range(30)]
    first = add(0, "名单.xlsx", "名单甲工会", seed=100)
    add(0, "名单 - 副本.xlsx", copy_of=first)
    add(0, "名单(2).xlsx", "名单乙工会", seed=101)
    for n in (0, 1, 2, 4):
        add(0, f"单位{n:02d}工会 - 副本.xlsx", copy_of=units[n])
    for n in range(3):
        add_mail(0, f"邮件{n}.eml", f"邮件{n}工会", seed=n)
    for n in range(30, 42):
        add(1, f"单位{n:02d}工会.xlsx", f"单位{n:02d}工会", seed=n)
    add(1, " 名单.xlsx", "名单丙工会", seed=102)
    add(1, "名单(3).xlsx", "名单丁工会", seed=103)
    late_copy = add(1, "  名单(2).xlsx", "名单戊工会", seed=104)
    add(1, "名单(2) - 副本.xlsx", copy_of=late_copy)
    add(1, "单位05工会(再次发送).xlsx", copy_of=units[5])
    add(1, "名单(再次发送).xlsx", copy_of=first)
    add_mail(1, "邮件3.eml", "邮件3工会", seed=3)
    add_mail(1, "邮件4.eml", "邮件4工会", seed=4, same_as=units[6])  # emailed again: a repeat
    assert (len(waves[0]), len(waves[1])) == (40, 20)
    return waves


def _deliver(wave: list[Path], inbox: Path) -> None:
    inbox.mkdir(parents=True, exist_ok=True)
    for path in wave:
        shutil.copy2(path, inbox / path.name)


def _settled(out: Path) -> tuple[dict, set[tuple[str, str]]]:
    with closing(sqlite3.connect(out / "ledger.sqlite")) as db:  # closed: a connection is freed only by the cyclic GC
        submissions = set(db.execute("SELECT sha256, status FROM submissions").fetchall())
    return report_json(out)["totals"], submissions


KILL_POINTS = ["scanned", "attachment_staged", "eml_recorded", "recorded", "outputs_written", "moves_planned"]


def _random_kill(rng: random.Random) -> str:
    point = rng.choice([*KILL_POINTS, "linked", "moved", "linked", "moved"])
    most = {"attachment_staged": 3, "eml_recorded": 3, "linked": 45, "moved": 45}.get(point, 1)
    return f"{point}:{rng.randint(1, most)}"


def _killed_at_random_moment(inbox: Path, out: Path, seconds: float) -> bool:
    """A run killed `seconds` after it started; False if it had finished by then."""
    command = [sys.executable, str(ROOT / "process.py"), "run", "--inbox", str(inbox), "--out", str(out)]
    process = subprocess.Popen(
        [*command, "--period", PERIOD], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        process.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return True


@pytest.mark.parametrize("seed", [13])
def test_ten_random_kills_over_a_60_file_batch_lose_and_overwrite_nothing(tmp_path: Path, seed: int) -> None:
    waves = _write_batch(tmp_path / "make")
    inputs = Counter(digest(path) for wave in waves for path in wave)

    reference_inbox, reference = tmp_path / "reference" / "inbox", tmp_path / "reference" / "out"
    for wave in waves:
        _deliver(wave, reference_inbox)
        assert run_process(reference_inbox, reference).returncode == 1  # some lists are rejected
    expected, expected_kept = _settled(reference), where_bytes_are(reference_inbox, reference)
    assert expected_kept - inputs  # the attachments of the .eml files are kept too (one is a list sent again)

    inbox, out = tmp_path / "work" / "inbox", tmp_path / "work" / "out"
    rng = random.Random(seed)
    delivered = Counter(digest(path) for path in waves[0])
    _deliver(waves[0], inbox)
    kills = []
    for number in range(10):
        if number == 5:
            _deliver(waves[1], inbox)
            delivered = inputs
        if number % 3 == 2:
            delay = rng.uniform(0.3, 4.0)
            kills.append(
                f"after {delay:.1f} s: {'killed' if _killed_at_random_moment(inbox, out, delay) else 'finished'}"
            )
        else:
            point = _random_kill(rng)
            kills.append(f"{point}: {run_process(inbox, out, point).returncode}")
        kept = where_bytes_are(inbox, out)
        assert all(kept[sha] >= 1 for sha in delivered), kills  # nothing lost at any kill
    assert run_process(inbox, out).returncode == 1, kills
    assert list(inbox.iterdir()) == [], kills
    kept = where_bytes_are(inbox, out)
    assert kept == expected_kept, kills  # each input (and attachment) as often as uninterrupted: none overwritten
    assert all(kept[sha] >= count for sha, count in inputs.items()), kills
    assert _settled(out) == expected, kills  # the totals and verdicts of an uninterrupted run
    for sha, _, stored_path in ledger_stored(out):
        assert digest(out / stored_path) == sha, kills
    assert sum(" -9" in kill or "killed" in kill for kill in kills) >= 5, kills  # most runs were stopped
