"""Watch the inbox and process files as they land, so a unit gets its answer in seconds.

Each burst of file events is followed by one run (after `debounce` quiet seconds); the run itself
leaves files still being copied for the next event. Runs happen only when the inbox holds candidates,
so the moves out of the inbox do not trigger a run of their own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from .inbox import is_candidate
from .pipeline import RunError, run_batch
from .policy import PolicyError
from .report import Report


class _Nudge(FileSystemEventHandler):
    def __init__(self, pending: threading.Event) -> None:
        self.pending = pending

    def on_any_event(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.pending.set()


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
    pending = threading.Event()
    observer = Observer()
    observer.schedule(_Nudge(pending), str(inbox), recursive=False)
    observer.start()
    pending.set()  # whatever is already there
    try:
        while not stop.is_set():
            if not pending.wait(timeout=0.2):
                continue
            while pending.is_set():  # quiet for `debounce` seconds before running
                pending.clear()
                if stop.wait(debounce):
                    return
            if any(is_candidate(path) for path in inbox.iterdir()):
                try:
                    on_report(run_batch(inbox, out, period, policy_path))
                except (RunError, PolicyError) as error:
                    on_error(str(error))
    finally:
        observer.stop()
        observer.join()
