"""The run itself failing (issue 13, cases 11 and 14): a full disk, a folder it may not write, a processor bug — exit 2,
one Chinese line naming what failed, no temporary files left, and the inputs where they were."""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from click.testing import CliRunner

from process import cli
from tests.conftest import ROOT, SAMPLES
from tests.factory import make_people
from unionbatch.failures import TEMPORARY_PATTERNS
from unionbatch.report import append_traceback

NOBODY = 65534
LISTS = ("交通系统工会.xlsx", "机关工会_慰问名单.xlsx", "城西镇工会_慰问名单.xlsx")


def leftovers(folder: Path) -> list[Path]:
    return [path for pattern in TEMPORARY_PATTERNS for path in folder.rglob(pattern)]


def run_cli(inbox: Path, out: Path, policy: Path, preexec=None) -> subprocess.CompletedProcess[str]:
    """`process.py run` as cron runs it: a process of its own, its exit code and its stderr."""
    arguments = [sys.executable, str(ROOT / "process.py"), "run", "--inbox", str(inbox), "--out", str(out)]
    arguments += ["--period", "2026-05", "--policy", str(policy)]
    return subprocess.run(arguments, capture_output=True, text=True, cwd=ROOT, preexec_fn=preexec, timeout=300)


@contextlib.contextmanager
def full_disk(folder: Path) -> Iterator[tuple[object, str]]:
    """`folder` on a file system with no space left: a 1 MB tmpfs filled up where mounting is allowed (root);
    elsewhere the run is held to the sizes its files have now (RLIMIT_FSIZE: writing more fails with EFBIG, which
    SQLite reports as an I/O error). Yields the preexec_fn for the run and the reason the run must give."""
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        yield _hold_file_sizes, "磁盘读写出错"  # SQLite's words for EFBIG on its WAL file
        return
    try:
        yield None, "磁盘已满"
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def _hold_file_sizes() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_HELD, FILE_SIZE_HELD))


FILE_SIZE_HELD = 4096  # less than a WAL frame: the ledger commit is the first write past it


def fill(folder: Path) -> None:
    with contextlib.suppress(OSError), (folder / "filler").open("wb") as filler:
        while True:
            filler.write(b"\0" * 4096)
            filler.flush()


def test_a_full_disk_at_the_ledger_commit_exits_2_with_one_line_and_leaves_nothing_behind(tmp_path: Path) -> None:
    inbox, out, disk = tmp_path / "inbox", tmp_path / "out", tmp_path / "disk"
    inbox.mkdir()
    disk.mkdir()
    policy = tmp_path / "policy.toml"
    policy.write_text('[inbox]\nledger = "disk/ledger.sqlite"\nsettle_seconds = 0\n', encoding="utf-8")
    with full_disk(disk) as (preexec, reason):
        shutil.copy(SAMPLES / "inbox" / LISTS[0], inbox)
        first = run_cli(inbox, out, policy)
        assert first.returncode == 0, first.stderr
        for name in LISTS[1:]:
            shutil.copy(SAMPLES / "inbox" / name, inbox)
        if preexec is None:
            fill(disk)
        failed = run_cli(inbox, out, policy, preexec)
        assert failed.returncode == 2
        [line] = failed.stderr.strip().splitlines()
        assert f"台账 {disk / 'ledger.sqlite'} 无法使用:{reason}(本次处理未完成" in line, line
        assert "Traceback" not in failed.stdout + failed.stderr
        assert sorted(path.name for path in inbox.iterdir()) == sorted(LISTS[1:])  # not archived, not lost
        assert not leftovers(out)


@contextlib.contextmanager
def unwritable(folder: Path) -> Iterator[None]:
    """A folder this process may not write in: immutable (chattr +i) for root, whom permissions do not stop;
    read-only permissions for anyone else."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(folder)], check=True)
    else:
        folder.chmod(0o555)
    try:
        yield
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


def test_a_period_folder_that_cannot_be_written_exits_2_with_one_line(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    for name in LISTS:
        shutil.copy(SAMPLES / "inbox" / name, inbox)
    period = out / "2026-05"
    period.mkdir(parents=True)
    arguments = ["run", "--inbox", str(inbox), "--out", str(out), "--period", "2026-05"]
    with unwritable(period):
        result = CliRunner().invoke(cli, arguments, catch_exceptions=False)
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line == f"错误:没有读写权限:{period}(本次处理未完成,问题解决后重新运行即可)"
    assert sorted(path.name for path in inbox.iterdir()) == sorted(LISTS)
    assert not leftovers(out)
    rerun = CliRunner().invoke(cli, arguments, catch_exceptions=False)  # the folder fixed: the run completes
    assert rerun.exit_code == 1 and "期间 2026-05:共 3 个文件" in rerun.output  # two samples are sent back
    assert not list(inbox.iterdir()) and len(list((period / "原件").iterdir())) == 3


def test_a_processor_bug_exits_2_with_one_line_and_its_traceback_in_run_log(tmp_path: Path) -> None:
    """A ledger that is no database, met by `bar` (which expects none of it): a failure nobody planned for."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "ledger.sqlite").write_bytes(b"this is not a database" * 100)
    arguments = ["bar", str(make_people(1, seed=11)[0].id_number), "--reason", "虚报", "--out", str(out)]
    result = CliRunner().invoke(cli, arguments, catch_exceptions=False)
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line == f"错误:程序内部出错(DatabaseError),本次处理未完成;请把 {out / 'run.log'} 的最后一段转给系统管理员"
    log = (out / "run.log").read_text(encoding="utf-8")
    assert "程序内部出错,本次处理未完成:" in log and "Traceback (most recent call last):" in log
    assert log.rstrip().endswith("sqlite3.DatabaseError: file is not a database")


def test_a_traceback_in_run_log_is_masked(tmp_path: Path) -> None:
    text = 'Traceback (most recent call last):\n  File "x.py", line 1\nValueError: 110105199001011234 13800138000\n'
    append_traceback(tmp_path / "run.log", text)
    log = (tmp_path / "run.log").read_text(encoding="utf-8")
    assert "110105199001011234" not in log and "13800138000" not in log
    assert "ValueError: 110105********1234 138****8000" in log
