"""Watch the inbox and process files as they land, so a unit gets its answer in seconds.

Each burst of file events is followed by one run (after `debounce` quiet seconds); the run itself
leaves files still being copied for the next event. Runs happen only when the inbox holds candidates,
so the moves out of the inbox do not trigger a run of their own.

A burst that goes on while a run works (files landing after its scan, or still being copied) is coalesced:
that run answers the files it took (annotated copies, replies) and leaves the consolidated workbooks and
the report to the run that takes the last of them, so a burst of 50 files rebuilds them once.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from .inbox import is_candidate
from .pipeline import RunError, prepare_copies, run_batch
from .policy import PolicyError
from .records import Report
from .validate import prepare_checks


def prepare_workers() -> None:
    """What a file's check and its annotated copy load at first use (pandera and its backends, the division list,
    the phone metadata, openpyxl: ~0.8 s), loaded once in this process: each run's workers are forked from it,
    so a file that lands is checked and answered without waiting for them (+35 MB here)."""
    prepare_checks()
    prepare_copies()


class _Nudge(FileSystemEventHandler):
    def __init__(self, pending: threading.Event) -> None:
        self.pending = pending
        self.last = 0.0  # time.monotonic() of the latest event

    def on_any_event(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.last = time.monotonic()
            self.pending.set()


def _quiet_for(seconds: float, nudge: _Nudge, stop: threading.Event) -> bool:
    """Until `seconds` have passed since the latest event `nudge` saw; False if `stop` was set meanwhile."""
    while (left := nudge.last + seconds - time.monotonic()) > 0:
        if stop.wait(left):
            return False
    return True


def watch_inbox(
    inbox: Path,
    out: Path,
    on_report: Callable[[Report], None],
    on_error: Callable[[str], None],
    stop: threading.Event,
    policy_path: Path | None = None,
    period: str | None = None,
    debounce: float = 1.0,
) -> None:
    """Process the inbox now and after every burst of changes, until `stop` is set."""
    prepare_workers()
    pending = threading.Event()
    observer = Observer()
    nudge = _Nudge(pending)
    observer.schedule(nudge, str(inbox), recursive=False)
    observer.start()
    pending.set()  # whatever is already there
    owed = False  # a run left the period's outputs to the next one
    try:
        while not stop.is_set():
            if not pending.wait(timeout=0.2):
                continue
            # quiet for `debounce` seconds since the latest event before running (restarting a whole wait at each
            # event seen after the first took a copy's own trailing events for a second burst: 2 s, not 1); an event
            # after the clear sets `pending` again, for the next round
            pending.clear()
            if not _quiet_for(debounce, nudge, stop):
                return
            if owed or any(is_candidate(path) for path in inbox.iterdir()):
                try:
                    report = run_batch(inbox, out, period, policy_path, coalesce=True)
                except (RunError, PolicyError) as error:
                    on_error(str(error))
                    continue
                owed = report.deferred
                if owed:
                    pending.set()
                on_report(report)
                # what the run left is collected while nothing arrives: the next run freezes what it finds
                del report
                gc.collect()
    finally:
        observer.stop()
        observer.join()
