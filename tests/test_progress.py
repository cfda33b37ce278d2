"""How far a run is: a progress bar on a terminal (the real program in a pseudo-terminal), none under cron, and
progress lines in run.log every so many files, told by the worker processes as they finish."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

from tests.factory import fill_template, make_people
from unionbatch.pipeline import run_batch
from unionbatch.progress import ProgressLog

ROOT = Path(__file__).resolve().parent.parent
BAR_LABEL = "正在核对文件"


def inbox_of(folder: Path, count: int) -> Path:
    inbox = folder / "inbox"
    for number in range(count):
        fill_template(inbox / f"单位{number}.xlsx", f"单位{number}工会", make_people(1, seed=700 + number))
    return inbox


def run_command(inbox: Path, out: Path) -> list[str]:
    return [sys.executable, str(ROOT / "process.py"), "run", "--inbox", str(inbox), "--out", str(out)]


def read_all(descriptor: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(descriptor, 65536)
        except OSError:  # EIO: the program has closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_a_terminal_shows_a_progress_bar_up_to_the_last_file(tmp_path: Path) -> None:
    inbox = inbox_of(tmp_path, 3)
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        run_command(inbox, tmp_path / "out"),
        stdout=subprocess.PIPE,
        stderr=terminal,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "100", "TERM": "xterm"},
    )
    os.close(terminal)
    shown = read_all(controller).decode("utf-8", "replace")
    os.close(controller)
    summary = process.stdout.read().decode("utf-8")  # type: ignore[union-attr]
    assert process.wait(timeout=120) == 0, summary
    assert BAR_LABEL in shown
    assert "3/3" in shown.rpartition(BAR_LABEL)[2]  # the bar's last drawing counts every file
    assert BAR_LABEL not in summary  # drawn on the terminal (stderr), never into the summary


def test_without_a_terminal_no_bar_is_drawn_and_run_log_has_the_progress(tmp_path: Path) -> None:
    inbox, out = inbox_of(tmp_path, 3), tmp_path / "out"
    done = subprocess.run(run_command(inbox, out), capture_output=True, stdin=subprocess.DEVNULL, timeout=120)
    assert done.returncode == 0, done.stdout.decode("utf-8")
    assert BAR_LABEL not in (done.stdout + done.stderr).decode("utf-8")
    progress = [line for line in (out / "run.log").read_text(encoding="utf-8").splitlines() if "进度" in line]
    assert [line.split(" ", 1)[1] for line in progress] == ["进度:已核对 3/3 个文件"]


def test_run_log_has_a_line_every_n_files_as_the_workers_finish(tmp_path: Path) -> None:
    inbox, out = inbox_of(tmp_path, 5), tmp_path / "out"
    log = tmp_path / "progress.log"
    run_batch(inbox, out, "2026-11", progress=ProgressLog(log, every_files=2, every_seconds=3600))
    counts = [line.split("已核对 ")[1] for line in log.read_text(encoding="utf-8").splitlines()]
    assert counts == ["2/5 个文件", "4/5 个文件", "5/5 个文件"]


def progress_lines(log: Path) -> list[str]:
    return [line.split(" ", 1)[1] for line in log.read_text(encoding="utf-8").splitlines()]


def test_a_file_that_takes_long_still_gets_a_progress_line_every_few_seconds(tmp_path: Path) -> None:
    inbox, log = tmp_path / "inbox", tmp_path / "progress.log"
    fill_template(inbox / "大单位.xlsx", "大单位工会", make_people(1500, seed=710))  # seconds to check
    progress = ProgressLog(log, every_files=50, every_seconds=0.2)
    try:
        run_batch(inbox, tmp_path / "out", "2026-11", progress=progress)
    finally:
        progress.close()
    *beats, last = progress_lines(log)
    assert last == "进度:已核对 1/1 个文件"
    assert beats and all(beat.startswith("进度:已核对 0/1 个文件,仍在核对(已用时 ") for beat in beats)


def test_the_heartbeat_stops_at_the_last_file(tmp_path: Path) -> None:
    log = tmp_path / "progress.log"
    progress = ProgressLog(log, every_files=50, every_seconds=0.1)
    progress(0, 2)
    time.sleep(0.5)  # no file finishes meanwhile
    progress(1, 2)
    progress(2, 2)
    written = progress_lines(log)
    time.sleep(0.5)
    assert progress_lines(log) == written  # nothing after the last file
    assert written[-1] == "进度:已核对 2/2 个文件"
    assert "进度:已核对 0/2 个文件,仍在核对(已用时 0 秒)" in written
    progress.close()
