"""Worker processes that one file cannot take down: each job runs in a forked worker with a memory cap; a worker that
dies (abort, SIGKILL, a Rust allocation failure) or overruns its time costs only its own job, and is replaced.

A job whose worker died is tried once more, alone (nothing else running, so neither the machine's load nor the
kernel's choice of an OOM victim decides it); dying again, it is given up as `Lost`. A job that overruns its time
is given up at once: its worker is killed.
"""

from __future__ import annotations

import functools
import gc
import multiprocessing
import os
import resource
import signal
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

MB = 1024 * 1024
MEMORY_MB = 2048  # address space a worker may take beyond what it inherits when forked
JOB_SECONDS = 180.0  # a 20,000-row sheet is checked in a few seconds; a job still running after this is stuck
ATTEMPTS = 2  # a job whose worker died is run once more, alone


@dataclass(frozen=True)
class Lost:
    """A job given up: its worker died on it twice (`signal` says how, when a signal) or it ran out of time."""

    timed_out: bool
    signal: int | None = None
    exit_code: int | None = None

    @property
    def out_of_memory(self) -> bool:
        """SIGABRT: a Rust allocation that failed (the cap, or absurd sizes); SIGKILL: the kernel's OOM killer."""
        return not self.timed_out and self.signal in (signal.SIGABRT, signal.SIGKILL)


class JobError(Exception):
    """A job raised: the worker sends the formatted traceback and goes on with its next job."""

    def __init__(self, text: str) -> None:
        super().__init__(text.strip().splitlines()[-1] if text.strip() else "error")
        self.text = text


def _worker_main(connection: Connection, memory_mb: int, prepare: Sequence[Callable[[], None]]) -> None:
    """Run jobs until told to stop. The first `prepare` step is taken before the first job; the others whenever no
    job is waiting, before or between jobs (a job that comes waits only for the step under way)."""
    _cap_memory(memory_mb)
    gc.freeze()  # what it inherits lives as long as it does: its collections need not walk the parent's objects
    os.environ["RUST_BACKTRACE"] = "0"  # a panic's message is enough on the console; the job gets a finding
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    steps = list(prepare)
    while True:
        while steps and (len(steps) == len(prepare) or not connection.poll()):
            with suppress(Exception):  # only a head start: what failed here fails again in the job that needs it
                steps.pop(0)()
        try:
            job = connection.recv()
        except EOFError:
            return
        if job is None:
            return
        function, arguments = job
        try:
            reply: tuple[bool, Any] = (True, function(*arguments))
        except BaseException as error:  # pyo3's PanicException is a BaseException
            if isinstance(error, (SystemExit, KeyboardInterrupt)):
                raise
            reply = (False, traceback.format_exc())
        connection.send(reply)


_cap_mb = MEMORY_MB


def memory_cap_mb() -> int:
    """The memory a worker may take (as set in this process when it is one), for messages."""
    return _cap_mb


def _cap_memory(memory_mb: int) -> None:
    """RLIMIT_AS: what the worker inherited plus `memory_mb`. Past it, Python raises MemoryError and Rust aborts."""
    global _cap_mb
    _cap_mb = memory_mb
    inherited = _address_space()
    limit = inherited + memory_mb * MB
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))  # no core dumps


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def _exit_with_parent(parent: int) -> None:
    """A worker waits on its pipe forever if its run is killed: it leaves within a second instead."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)


class _Worker:
    def __init__(self, context: Any, memory_mb: int, prepare: Sequence[Callable[[], None]]) -> None:
        ours, theirs = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(theirs, memory_mb, prepare), daemon=True)
        self.process.start()
        theirs.close()
        self.connection: Connection = ours
        self.job: int | None = None
        self.deadline = 0.0
        self.used = False  # given a job once

    def give(self, index: int, job: tuple[Callable[..., Any], tuple[Any, ...]], seconds: float) -> None:
        self.job, self.deadline, self.used = index, time.monotonic() + seconds, True
        self.connection.send(job)

    def end(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            with _quietly():
                self.connection.send(None)
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.connection.close()


class _quietly:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> bool:
        return kind is not None and issubclass(kind, OSError)


class WorkerPool:
    """`size` forked workers, started at the first job or by `open` (so they inherit what is loaded by then, not
    the batch held later) and replaced when one dies. `run` is synchronous; `start` runs in a thread and returns
    its waiter."""

    def __init__(
        self,
        size: int,
        memory_mb: int = MEMORY_MB,
        seconds: float = JOB_SECONDS,
        prepare: Callable[[], None] | Sequence[Callable[[], None]] = (),
    ) -> None:
        self.size = max(1, size)
        self.memory_mb = memory_mb
        self.seconds = seconds
        self.prepare = (prepare,) if callable(prepare) else tuple(prepare)  # steps: see _worker_main
        self._context = multiprocessing.get_context("fork")
        self._idle: list[_Worker] = []
        self._all: list[_Worker] = []
        self.progress: Callable[[int, int], None] | None = None  # told (done, total) as a run's files are checked

    def _spawn(self, prepare: Sequence[Callable[[], None]] = ()) -> _Worker:
        worker = _Worker(self._context, self.memory_mb, prepare)
        self._all = [known for known in self._all if known.process.is_alive()] + [worker]
        return worker

    def open(self, count: int) -> None:
        """Start `count` workers now, each running `prepare` while this process goes on; the others start with
        the jobs (theirs load what they need: a worker started for annotated copies needs no pandera)."""
        while len(self._idle) < min(count, self.size):
            self._idle.append(self._spawn(self.prepare))

    def run(
        self,
        function: Callable[..., Any],
        jobs: Sequence[tuple[Any, ...]],
        progress: Callable[[int, int], None] | None = None,
    ) -> list[Any]:
        """function(*job) for every job, in worker processes; each result in the order of the jobs, or `Lost`,
        or a `JobError` when the job raised. `progress(done, total)` after each job that is finished."""
        results: list[Any] = [None] * len(jobs)
        finished = 0
        waiting = deque(range(len(jobs)))
        alone: deque[int] = deque()
        attempts = [0] * len(jobs)
        busy: dict[Connection, _Worker] = {}
        while waiting or alone or busy:
            self._hand_out(function, jobs, waiting, alone, busy, attempts)
            if not busy:
                break
            timeout = max(0.0, min(worker.deadline for worker in busy.values()) - time.monotonic())
            ready = set(wait([*busy, *(worker.process.sentinel for worker in busy.values())], timeout))
            for connection, worker in list(busy.items()):
                index = worker.job
                assert index is not None
                outcome = self._outcome(worker, connection in ready or worker.process.sentinel in ready)
                if outcome is _RUNNING:
                    continue
                del busy[connection]
                if isinstance(outcome, Lost) and not outcome.timed_out and attempts[index] < ATTEMPTS:
                    alone.append(index)
                else:
                    results[index] = outcome
                    finished += 1
                    if progress is not None:
                        progress(finished, len(jobs))
        return results

    def start(
        self,
        function: Callable[..., Any],
        jobs: Sequence[tuple[Any, ...]],
        progress: Callable[[int, int], None] | None = None,
    ) -> Callable[[], list[Any]]:
        """`run` in a thread, for jobs that go on while this process does other work; call the result to wait.
        The workers it needs are forked here, before it returns (before this process goes on to hold more, and
        not from the thread, but to replace one that dies)."""
        while len(self._idle) < min(self.size, len(jobs)):
            self._idle.append(self._spawn())
        done: list[list[Any]] = []
        failed: list[BaseException] = []

        def work() -> None:
            try:
                done.append(self.run(function, jobs, progress))
            except BaseException as error:  # noqa: BLE001  # handed to the waiter, raised in its thread
                failed.append(error)

        thread = threading.Thread(target=work, name="unionbatch-jobs", daemon=True)
        thread.start()

        def finish() -> list[Any]:
            thread.join()
            if failed:
                raise failed[0]
            return done[0]

        return finish

    def _hand_out(
        self,
        function: Callable[..., Any],
        jobs: Sequence[tuple[Any, ...]],
        waiting: deque[int],
        alone: deque[int],
        busy: dict[Connection, _Worker],
        attempts: list[int],
    ) -> None:
        solo = any(worker.job is not None and attempts[worker.job] > 1 for worker in busy.values())
        while len(busy) < self.size and not solo:
            if waiting:
                index = waiting.popleft()
            elif alone and not busy:
                index, solo = alone.popleft(), True
            else:
                return
            worker = self._idle.pop() if self._idle else self._spawn()  # the latest forked or freed
            attempts[index] += 1
            worker.give(index, (function, jobs[index]), self.seconds)
            busy[worker.connection] = worker

    def _outcome(self, worker: _Worker, signalled: bool) -> Any:
        if signalled and worker.connection.poll():
            try:
                ok, value = worker.connection.recv()
            except (EOFError, OSError):
                return self._died(worker)
            worker.job = None
            self._idle.append(worker)
            return value if ok else JobError(value)
        if signalled and not worker.process.is_alive():
            return self._died(worker)
        if time.monotonic() >= worker.deadline:
            worker.end(kill=True)
            return Lost(timed_out=True, signal=signal.SIGKILL)
        return _RUNNING

    def _died(self, worker: _Worker) -> Lost:
        worker.process.join()
        worker.connection.close()
        code = worker.process.exitcode
        return Lost(timed_out=False, signal=-code if code is not None and code < 0 else None, exit_code=code)

    def close(self) -> None:
        """Idle workers leave when told; one still on a job (the run failed meanwhile), or never given one (it may
        still be preparing, for nothing), is killed."""
        for worker in self._all:
            if worker.process.is_alive():
                worker.end(kill=worker not in self._idle or not worker.used)
        self._idle.clear()
        self._all.clear()


_RUNNING = object()


@dataclass(frozen=True)
class Forked:
    """A forked child at work (see `forked`)."""

    process: Any
    stop_event: Any = None

    def running(self) -> bool:
        return bool(self.process.is_alive())

    def stop(self) -> None:
        """Tell a child started `stoppable` that its work is no longer needed."""
        if self.stop_event is not None:
            self.stop_event.set()

    def wait(self) -> bool:
        """Until it ends; True when it finished (or stopped) without failing."""
        self.process.join()
        return self.process.exitcode == 0


def _ending_with_parent(function: Callable[[], None], parent: int) -> None:
    """function() in a forked child that leaves within a second of its run being killed, as a worker does."""
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    function()


def forked(function: Callable[..., None], stoppable: bool = False) -> Forked:
    """function() in a forked child process, which sees this process's memory as it is at the fork (nothing is
    pickled either way: it leaves what it makes on disk). For a share of work on data too large to send to the
    workers (a consolidated sheet's rows). A child that fails or is killed leaves its share undone, for this
    process to do. `stoppable`: function(stopped) is given a function saying whether `Forked.stop` was called."""
    for stream in (sys.stdout, sys.stderr):  # what is buffered is this process's to write, not the child's too
        with suppress(Exception):
            stream.flush()
    context = multiprocessing.get_context("fork")
    stop = context.Event() if stoppable else None
    target = functools.partial(function, stop.is_set) if stop is not None else function
    child = context.Process(target=_ending_with_parent, args=(target, os.getpid()), daemon=True)
    child.start()
    return Forked(child, stop)
