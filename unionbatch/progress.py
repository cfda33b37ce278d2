"""How far a run is: a line in OUT/run.log every so many files or seconds, for whoever follows a cron run's log
(a terminal gets a progress bar from the command line besides)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from .report import append_lines

EVERY_FILES = 50
EVERY_SECONDS = 30.0


class ProgressLog:
    """progress(done, total): writes 进度:已核对 50/250 个文件 to the log at every `every_files`-th file, when
    `every_seconds` have passed since the last line, and at the last file; then tells `also`, if given.

    progress(0, total) says the checking has started: from then on a heartbeat thread writes a line whenever
    `every_seconds` pass with none written, so a single file that takes minutes still shows the run is alive.
    The heartbeat stops at the last file or at `close()`."""

    def __init__(
        self,
        log: Path,
        every_files: int = EVERY_FILES,
        every_seconds: float = EVERY_SECONDS,
        also: Callable[[int, int], None] | None = None,
    ) -> None:
        self.log = log
        self.every_files = every_files
        self.every_seconds = every_seconds
        self.also = also
        self.last_line = time.monotonic()
        self.started = self.last_line
        self.done, self.total = 0, 0
        self._lock = threading.Lock()  # the heartbeat and the run write the same log
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    def __call__(self, done: int, total: int) -> None:
        with self._lock:
            now = time.monotonic()
            self.done, self.total = done, total
            if done == 0:
                self._start(now)
            elif done == total or done % self.every_files == 0 or now - self.last_line >= self.every_seconds:
                self._write(f"进度:已核对 {done}/{total} 个文件", now)
            if done == total:
                self._stop.set()
        if self.also is not None:
            self.also(done, total)

    def close(self) -> None:
        """Stop the heartbeat (the run is over, finished or not)."""
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join()

    def _start(self, now: float) -> None:
        self.started = self.last_line = now
        if self._heartbeat is None and not self._stop.is_set():
            self._heartbeat = threading.Thread(target=self._beat, name="progress-heartbeat", daemon=True)
            self._heartbeat.start()

    def _beat(self) -> None:
        while not self._stop.wait(self._until_due()):
            with self._lock:
                now = time.monotonic()
                if not self._stop.is_set() and now - self.last_line >= self.every_seconds:
                    elapsed = duration_text(now - self.started)
                    self._write(f"进度:已核对 {self.done}/{self.total} 个文件,仍在核对(已用时 {elapsed})", now)

    def _until_due(self) -> float:
        with self._lock:
            return max(self.every_seconds - (time.monotonic() - self.last_line), 0.01)

    def _write(self, line: str, now: float) -> None:
        append_lines(self.log, [line])
        self.last_line = now


def duration_text(seconds: float) -> str:
    """2 分 5 秒, 40 秒: how long the checking has taken, as a clerk says it."""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} 分 {rest} 秒" if minutes else f"{rest} 秒"
