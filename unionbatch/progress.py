"""How far a run is: a line in OUT/run.log every so many files or seconds, for whoever follows a cron run's log
(a terminal gets a progress bar from the command line besides)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from .report import append_lines

EVERY_FILES = 50
EVERY_SECONDS = 30.0


class ProgressLog:
    """progress(done, total): writes 进度:已核对 50/250 个文件 to the log at every `every_files`-th file, when
    `every_seconds` have passed since the last line, and at the last file; then tells `also`, if given."""

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

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or done % self.every_files == 0 or now - self.last_line >= self.every_seconds:
            append_lines(self.log, [f"进度:已核对 {done}/{total} 个文件"])
            self.last_line = now
        if self.also is not None:
            self.also(done, total)
