"""One batch run: every file through read → recognise → normalise → validate, then the batch through
cross-check → compute → write. The CLI calls `check_files` and `run_batch`; nothing here knows click.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import gc
import logging
import os
import pickle
import re
import sqlite3
import sys
import threading
import traceback
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .checkcache import (
    CACHE_DIR,
    CheckCache,
    KeptHistory,
    digest,
    engine_digest,
    file_digest,
    file_identity,
    load_pickle,
    policy_digest,
    save_pickle,
    write_entry,
)
from .compute import FilePart, Files, merge_rows, titled_for
from .crosscheck import (
    check_senders,
    counted_reconciliations,
    cross_form_findings,
    late_files,
    reconcile_forms,
    settle_versions,
)
from .failures import ledger_failure, os_failure, remove_temporaries, wrapped_os_error
from .findings import Finding, make_finding, mask_text
from .history import History
from .inbox import (
    ARCHIVE_DIR,
    REFUSED_UNREADABLE,
    REPEAT_DIR,
    STAGING_DIR,
    Busy,
    Scan,
    copies_ahead,
    finish_moves,
    free_path,
    is_candidate,
    kill_point,
    remove_leftovers,
    run_lock,
    safe_name,
    scan_inbox,
)
from .isolate import JOB_SECONDS, MEMORY_MB, Forked, JobError, Lost, WorkerPool, forked, memory_cap_mb
from .ledger import Ledger, Submission, file_hash, row_texts
from .money import prepare_upper
from .normalise import parse_sheets
from .policy import Policy, load_policy
from .privacy import make_private
from .read import ReadFailure, is_spreadsheet, read_book
from .recognise import recognise_book, sheet_findings, unrecognised_finding
from .records import REJECTED, FileResult, MailOrigin, MissingUnit, OutSheet, Reconciliation, Report
from .report import append_lines, append_log, form_report_sheets, left_out_note, report_sheets, write_json
from .review import finding_list_sheet, reference_of
from .segments import SegmentStore
from .spec import FormSpec, load_specs, share_specs, unit_key
from .unzip import is_zip, unpack_zip_files
from .validate import (
    history_findings,
    prepare_checks,
    reading_order,
    take_dates_after_today,
    unique_keys,
    valid_id,
    validate_sheet,
)
from .versions import choose_current

if TYPE_CHECKING:
    import pandas as pd

    from .mail import Delivery, Fetched

log = logging.getLogger("unionbatch")

ANNOTATED_DIR = "批注"
OUTBOX_DIR = "outbox"
RUN_LOG = "run.log"
LEDGER = "ledger.sqlite"
PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class RunError(Exception):
    """The run itself cannot proceed (bad policy, unwritable output); a one-line Chinese reason."""


def check_file(source: Path, specs: Mapping[str, FormSpec], policy: Policy, name: Path | None = None) -> FileResult:
    """Read, recognise, normalise and validate one file; every problem becomes a finding.

    `name` is where the file will be kept (its archive path) when it is read from elsewhere (the inbox).
    The sheet grids are dropped once parsed: what is kept is the parsed rows, and the cells as found where they
    read differently from them (for findings made later, across files)."""
    result = _placed(_check_file(source, str(name or source), specs, policy), source, name)
    if result.parsed is not None:
        result.parsed = result.parsed.for_batch()
        # found here, in the worker, and kept with the check: the batch's duplicate check across files (on the way
        # to a new file's answer) then reads them instead of finding them again in every reused file (~0.3 ms each)
        result.parsed.keys = unique_keys(result.parsed)
    return result


def _placed(result: FileResult, source: Path, name: Path | None) -> FileResult:
    result.path, result.source = name or source, source if name else None
    # checked in place (validate) a file arrived when it was last written; a run sets when it reached the inbox
    result.modified = dt.datetime.fromtimestamp(source.stat().st_mtime).replace(microsecond=0)
    result.received = result.modified
    return result


def _check_file(source: Path, name: str, specs: Mapping[str, FormSpec], policy: Policy) -> FileResult:
    suffix = Path(name).suffix
    if not is_spreadsheet(Path(name)):
        return FileResult(source, findings=[make_finding("file_type", name, ext=suffix or "无")])
    try:
        book = read_book(source, policy.limits)
        found = recognise_book(book, specs)
        if not found.locations:
            return FileResult(source, findings=[unrecognised_finding(found, name), *sheet_findings(found, name)])
        parsed = parse_sheets(name, found.locations, found.summaries)
        parsed.findings.extend(sheet_findings(found, name))
        location = parsed.location
        findings = validate_sheet(parsed, policy.for_form(location.spec.kind))
    except ReadFailure as failure:
        return FileResult(source, findings=[make_finding(failure.code, name, ext=suffix, **failure.params)])
    except MemoryError:  # the worker's cap (RLIMIT_AS): what this file needs, not a bug
        return FileResult(source, findings=[make_finding("too_large", name, reason=_memory_reason())])
    except BaseException as error:  # a processor bug must not sink the batch; the log keeps the traceback
        if not isinstance(error, Exception) and not is_panic(error):
            raise
        if is_panic(error):  # a Rust reader's panic: calamine met bytes it cannot make sense of
            return FileResult(source, findings=[make_finding("file_unreadable", name, reason=_PANIC_REASON)])
        log.error("处理 %s 时程序出错:\n%s", name, mask_text(traceback.format_exc()))  # masked: cells in messages
        return FileResult(source, findings=[make_finding("processing_failed", name, reason=type(error).__name__)])
    return FileResult(source, kind=location.spec.kind, unit=parsed.unit, findings=findings, parsed=parsed)


_PANIC_REASON = "文件已损坏,读取程序无法解析其中的数据"


def _memory_reason(memory_mb: int | None = None) -> str:
    return f"读取所需内存超过上限 {memory_mb or memory_cap_mb()} MB"


def is_panic(error: BaseException) -> bool:
    """pyo3 turns a Rust panic into PanicException, which derives from BaseException, not Exception."""
    return type(error).__name__ == "PanicException" and type(error).__module__ == "pyo3_runtime"


def check_files(paths: Sequence[Path], specs: Mapping[str, FormSpec], policy: Policy) -> list[FileResult]:
    return check_batch(paths, specs, policy)[0]


_WORKER: tuple[Mapping[str, FormSpec], Policy] | None = None  # what a run's forked workers check against


def _worker_check(source: Path, name: Path | None) -> FileResult:
    assert _WORKER is not None, "set by worker_pool before its workers are forked"
    return check_file(source, *_WORKER, name)


@contextmanager
def worker_pool(
    specs: Mapping[str, FormSpec], policy: Policy, memory_mb: int = MEMORY_MB, seconds: float = JOB_SECONDS
) -> Iterator[WorkerPool]:
    """One process per core for a run's independent jobs: checking files, then annotating copies. Forked
    (the specs loaded from schemas/ are inherited, not re-imported) at its first job, before the batch is held.
    Each job is isolated: a file that kills its worker, or overruns `seconds`, costs only itself."""
    global _WORKER
    share_specs(specs)
    _WORKER = (specs, policy)
    pool = WorkerPool(_cores(), memory_mb, seconds, prepare=WORKER_STEPS)
    try:
        yield pool
    finally:
        pool.close()


def prepare_copies() -> None:
    from . import annotate  # noqa: F401  # openpyxl and the marking code (~0.25 s)


def _prepare_outputs(reused: Sequence[FileResult], checking: Callable[[], bool]) -> None:
    """What the run's outputs need, loaded while its new files are checked, if this process would wait for them:
    cn2an for the summaries' 大写, then the reused checks' rows (read back from their pickles at first use) while
    `checking()`, no later: the new files' copies wait for this process. Not those of a form summed file by file:
    its summary reads the rows of a file only if what it keeps of it does not do."""
    prepare_upper()
    for result in reused:
        if not checking():
            return
        if result.parsed is not None and not result.parsed.spec.summary_by_file:
            result.parsed.frame  # noqa: B018  # the attribute read is what loads it


WORKER_STEPS = (prepare_checks,)
"""An opened worker's head start: what checks need (~0.5 s) before its first job. What annotated copies need
(openpyxl, ~0.1 s) the worker making one loads itself: loaded here, this process (the late file's run's longest
chain) would pay for it, and the run's peak memory would hold it (~10 MB)."""


def _worker_check_kept(source: Path, name: Path | None, entry: Path | None) -> FileResult | bytes:
    """check_file; with `entry`, the result pickled once, kept there as (valid_until, result) (unless it is the
    machine's verdict of the moment: a memory cap or a bug) and sent back as those bytes. `valid_until`: the
    first day the check would read differently (a birth date after today met), or None."""
    take_dates_after_today()
    result = _worker_check(source, name)
    _freeze_once()
    if entry is None:
        return result
    valid_until = min(take_dates_after_today(), default=None)
    payload = pickle.dumps((valid_until, result), protocol=pickle.HIGHEST_PROTOCOL)
    if not any(finding.code in UNKEPT_CODES for finding in result.findings):
        with suppress(OSError):  # a full disk costs the reuse next time, not this file's check
            write_entry(entry, payload)
    return payload


UNKEPT_CODES = frozenset({"processing_failed", "too_large"})

_FROZEN_IN: set[int] = set()  # the worker processes that froze what their first check loaded


def _freeze_once() -> None:
    """After a worker's first check: what it loaded by then (pandas, pandera, the checks' caches) lives as long as
    the worker, so the cyclic collector stops walking it at each of its full collections (~2 ms a file)."""
    if os.getpid() not in _FROZEN_IN:
        _FROZEN_IN.add(os.getpid())
        gc.freeze()


def check_all(
    jobs: Sequence[tuple[Path, Path | None]],
    specs: Mapping[str, FormSpec],
    policy: Policy,
    pool: WorkerPool | None = None,
    kept: tuple[CheckCache, Sequence[str]] | None = None,
    meanwhile: Callable[[Sequence[FileResult], Callable[[], bool]], None] | None = None,
) -> list[FileResult]:
    """check_file for every (source, name), each in a worker process, on every core: files are independent, and
    a file that crashes or exhausts its worker gets a finding instead of stopping the batch.
    Uses `pool` (the run's) if given, else a pool of its own. With `kept` (the period's cache and each file's
    SHA-256), a file checked before under the same policy and processor is not checked again; while the other
    files are checked (this process would only wait), `meanwhile` is called with the results taken from the
    cache and a function that tells whether files are still being checked."""
    if pool is None:
        with worker_pool(specs, policy) as own:
            return _check_in(jobs, own, kept, meanwhile)
    return _check_in(jobs, pool, kept, meanwhile)


def _check_in(
    jobs: Sequence[tuple[Path, Path | None]],
    pool: WorkerPool,
    kept: tuple[CheckCache, Sequence[str]] | None,
    meanwhile: Callable[[Sequence[FileResult], Callable[[], bool]], None] | None = None,
) -> list[FileResult]:
    """Files with no cache entry first, in the workers (forked before the cached results are held), while the
    entries are loaded here; an entry that does not load (damaged, cut short, out of date) is checked after all.
    `pool.progress` hears (done, total) over all the files, reused ones included."""
    entries: list[Path | None] = [None] * len(jobs)
    if kept is not None:
        cache, shas = kept
        entries = [cache.entry(sha, str(name or source)) for (source, name), sha in zip(jobs, shas, strict=True)]
    results: list[FileResult | None] = [None] * len(jobs)
    told = _Told(pool.progress, len(jobs))
    first = [index for index, entry in enumerate(entries) if entry is None or not entry.exists()]
    checked = _start_checking(results, first, jobs, entries, pool, told)
    checking = set(first)  # their entries are being written meanwhile: not loaded
    reused = []
    for index, entry in enumerate(entries):
        if index not in checking and entry is not None and kept is not None:
            loaded = kept[0].load(entry)
            if isinstance(loaded, FileResult):
                results[index] = _placed(loaded, *jobs[index])
                reused.append(results[index])
                told.one_more()
    if first and meanwhile is not None:
        meanwhile(reused, told.unfinished)
    checked()
    unread = [index for index, result in enumerate(results) if result is None]  # an entry that could not be loaded
    _start_checking(results, unread, jobs, entries, pool, told)()
    for result, entry in zip(results, entries, strict=True):
        if result is not None and entry is not None:
            result.check_key = entry.stem
    return [result for result in results if result is not None]


class _Told:
    """The run's progress over every file: checked in a worker or taken from the cache (told from two threads)."""

    def __init__(self, progress: Callable[[int, int], None] | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0
        self.lock = threading.Lock()
        if progress is not None and total:
            progress(0, total)  # the checking starts: a progress bar is drawn, run.log's heartbeat begins

    def unfinished(self) -> bool:
        return self.done < self.total

    def one_more(self) -> None:
        with self.lock:
            self.done += 1
            if self.progress is not None:
                self.progress(self.done, self.total)


def _start_checking(
    results: list[FileResult | None],
    indices: Sequence[int],
    jobs: Sequence[tuple[Path, Path | None]],
    entries: Sequence[Path | None],
    pool: WorkerPool,
    told: _Told,
) -> Callable[[], None]:
    """The jobs at `indices` checked by the workers (forked before this returns) while this process goes on; the
    returned function waits for them and puts each result in `results`."""
    if not indices:
        return lambda: None
    waiting = pool.start(
        _worker_check_kept, [(*jobs[index], entries[index]) for index in indices], lambda *_: told.one_more()
    )

    def finish() -> None:
        for index, outcome in zip(indices, waiting(), strict=True):
            source, name = jobs[index]
            if isinstance(outcome, bytes):
                outcome = pickle.loads(outcome)[1]
            if not isinstance(outcome, FileResult):
                outcome = _placed(_given_up(source, name, outcome, pool), source, name)
            results[index] = outcome

    return finish


def _given_up(source: Path, name: Path | None, outcome: Lost | JobError, pool: WorkerPool) -> FileResult:
    """The finding for a file whose check never came back: its worker died twice, ran out of time, or failed."""
    shown = str(name or source)
    if isinstance(outcome, JobError):
        log.error("处理 %s 时程序出错:\n%s", shown, mask_text(outcome.text))
        finding = make_finding("processing_failed", shown, reason=str(outcome))
    elif outcome.timed_out:
        finding = make_finding("too_large", shown, reason=f"处理时间超过 {pool.seconds:.0f} 秒,已停止处理")
    elif outcome.out_of_memory:
        finding = make_finding("too_large", shown, reason=_memory_reason(pool.memory_mb))
    else:
        finding = make_finding("file_unreadable", shown, reason="读取时处理程序异常退出,文件可能已损坏")
    return FileResult(source, findings=[finding])


def check_batch(
    paths: Sequence[Path],
    specs: Mapping[str, FormSpec],
    policy: Policy,
    names: Sequence[Path] | None = None,
    period: str | None = None,
    ledger: Ledger | None = None,
    origins: Sequence[MailOrigin | None] | None = None,
    pool: WorkerPool | None = None,
    arrivals: Sequence[dt.datetime] | None = None,
    kept: tuple[CheckCache, Sequence[str]] | None = None,
    meanwhile: Callable[[Sequence[FileResult], Callable[[], bool]], None] | None = None,
) -> tuple[list[FileResult], list[Reconciliation]]:
    """Check each file, then the batch: earlier periods, senders, then versions and duplicates across units together
    (settle_versions), then figures across forms. Each batch check runs on every version of the forms it judges,
    against forms settled before it, so the versions chosen at the end were all checked."""
    period = period or resolve_period(None)
    barred = ledger.barred() if ledger else {}
    histories = {kind: History(kind, period, ledger, barred) for kind in specs}
    targets = names or [None] * len(paths)
    results = check_all(list(zip(paths, targets, strict=True)), specs, policy, pool, kept, meanwhile)
    for result, origin in zip(results, origins or [None] * len(results), strict=True):
        result.origin = origin
    for result, arrival in zip(results, arrivals or (), strict=False):
        result.received = arrival
    known = _kept_history(kept, ledger, period, specs, barred)
    for result in results:
        if result.kind:
            result.checked_against = reference_of(policy.for_form(result.kind))
        if result.parsed is not None and result.kind:
            found = _history_of(result, policy, histories[result.kind], known, kept)
            result.findings = sorted(result.findings + found, key=reading_order)
    if known is not None:
        known.save()
    if policy.checks_senders:
        check_senders(results, policy.units_of_sender)
    late_files(results, policy)
    settle_versions(results)
    reconciliations = reconcile_forms(results)
    cross_form_findings(results, policy)
    choose_current(results)
    return results, counted_reconciliations(reconciliations, results)


def _kept_history(
    kept: tuple[CheckCache, Sequence[str]] | None,
    ledger: Ledger | None,
    period: str,
    specs: Mapping[str, FormSpec],
    barred: Mapping[str, str],
) -> KeptHistory | None:
    """The history findings kept by the last run of the period, with each form's witness of what its history rules
    read now: the earlier periods' submissions of the form (their rows' last recording) and the barred IDs."""
    if kept is None or ledger is None:
        return None
    witnesses = {
        kind: digest(kind, period, ledger.earlier_submissions(kind, period), barred)
        for kind, spec in specs.items()
        if spec.history_rules
    }
    return KeptHistory(kept[0].folder.parent.parent / "history" / f"{period}.pickle", witnesses)


def _history_of(
    result: FileResult,
    policy: Policy,
    history: History,
    known: KeptHistory | None,
    kept: tuple[CheckCache, Sequence[str]] | None,
) -> list[Finding]:
    """The file's history findings: those kept for its check when the check was reused (the same parsed rows) and
    its form's witness is unchanged, else found again (and kept)."""
    assert result.parsed is not None and result.kind is not None
    key = result.check_key
    reused = kept is not None and key is not None and key in kept[0].reused
    if known is not None and key is not None and reused and (found := known.get(result.kind, key)) is not None:
        return found
    found = history_findings(result.parsed, policy.for_form(result.kind), history)
    if known is not None and key is not None:
        known.put(result.kind, key, found)
    return found


def resolve_period(period: str | None, today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    if period in (None, "", "this-month"):
        return f"{today:%Y-%m}"
    if period == "last-month":
        return f"{today.replace(day=1) - dt.timedelta(days=1):%Y-%m}"
    if not PERIOD_RE.match(period):
        raise RunError(f"期间“{period}”格式不对,应为 YYYY-MM,如 2026-01")
    return period


def period_start(period: str) -> dt.datetime:
    year, month = period.split("-")
    return dt.datetime(int(year), int(month), 1)


def run_batch(
    inbox: Path,
    out: Path,
    period: str | None = None,
    policy_path: Path | None = None,
    specs: Mapping[str, FormSpec] | None = None,
    full_ids: bool = False,
    keep_inbox: bool = False,
    progress: Callable[[int, int], None] | None = None,
    coalesce: bool = False,
) -> Report:
    """Process the inbox into `out/PERIOD/`: the period's archived files and the inbox's new ones are
    checked together, the ledger updated, the new files' annotated copies and replies made first, then the
    outputs written, and only then the new files archived. With `coalesce` (watch), a run that finds more files
    landing in the inbox meanwhile leaves the period's outputs to the run that takes them (`report.deferred`).

    A run killed at any point leaves a state the next run completes: a file is either still in the inbox
    (not yet recorded, or recorded and waiting to be moved) or in 原件/, never lost, never counted twice."""
    out = Path(os.path.abspath(out))  # the kept checks are keyed by their files' paths: the same however typed
    policy = load_policy(policy_path, specs if specs is not None else load_specs())
    specs = policy.specs
    period = resolve_period(period)
    if not inbox.is_dir():
        raise RunError(f"收件箱文件夹不存在:{inbox}")
    folder = out / period
    ledger_path = policy.ledger_path or out / LEDGER
    try:
        folder.mkdir(parents=True, exist_ok=True)
        make_private(out, folder, out / RUN_LOG)  # made 0755 / 0644 by an earlier version
        with run_lock(out):
            try:
                # what is loaded by now (the libraries, specs, policy) lives through the run: frozen, the
                # collector's full collections do not walk it (~0.07 s of a late file's run)
                gc.freeze()
                try:
                    with Ledger(ledger_path) as ledger, worker_pool(specs, policy) as pool:
                        # a worker loads what checks need (~0.9 s: pandera) while the inbox is scanned and the work
                        # planned; one, as the others would slow this process down on two cores
                        pool.open(1)
                        pool.progress = progress  # told as each file is checked (`progress(done, total)`)
                        options = (full_ids, keep_inbox, coalesce)
                        return _run(inbox, out, folder, policy, specs, ledger, options, pool)
                finally:
                    gc.unfreeze()  # what the run froze can be collected again (watch runs batch after batch)
            except BaseException:
                remove_temporaries(folder)  # under the lock: nobody else's
                raise
    except Busy as busy:
        raise RunError(f"另一个处理正在运行(锁文件 {busy}),本次未运行") from busy
    except sqlite3.Error as error:
        raise RunError(ledger_failure(error, ledger_path)) from error
    except OSError as error:
        raise RunError(os_failure(error, folder)) from error
    except Exception as error:
        cause = wrapped_os_error(error)
        if cause is None:
            raise
        raise RunError(os_failure(cause, folder)) from error


def _run(
    inbox: Path,
    out: Path,
    folder: Path,
    policy: Policy,
    specs: Mapping[str, FormSpec],
    ledger: Ledger,
    options: tuple[bool, bool, bool],
    pool: WorkerPool | None,
) -> Report:
    # mail only where used: `validate` starts faster
    from .mail import send_pending, unpack_eml_files, unset_sender_warning

    full_ids, keep_inbox, coalesce = options
    period = folder.name
    archive = folder / ARCHIVE_DIR
    finish_moves(ledger, out)  # what a run stopped half-way had planned
    _remove_asides(folder)
    scan = scan_inbox(inbox, policy.settle_seconds)
    first_seen = ledger.sightings(inbox, [entry.key for entry in scan.ready], dt.datetime.now().replace(microsecond=0))
    kill_point("scanned")
    emls = [entry.path for entry in scan.ready if entry.path.suffix.lower() == ".eml"]
    emls = _within_mail_limit(emls, policy.email.max_message_mb, scan.refused)
    unpack_eml_files(emls, out, archive, ledger, first_seen, keep_inbox, policy.email.require_authentication)
    # zips dropped in the inbox, then those attached to the mails just opened (archived, never kept in staging)
    zips = [entry.path for entry in scan.ready if is_zip(entry.path)]
    unzipped = unpack_zip_files(zips, out, archive, ledger, policy.limits, first_seen, keep_inbox)
    attached = sorted(path for path in (out / STAGING_DIR).glob("*/*") if is_zip(path))
    mailed = unpack_zip_files(attached, out, archive, ledger, policy.limits, first_seen)
    files = [entry.path for entry in scan.ready if entry.path.suffix.lower() != ".eml" and not is_zip(entry.path)]
    work, repeats = _plan(files, first_seen, out, archive, ledger, keep_inbox, scan.refused)
    moves = [(job.source, job.target, job.sha256, job.keep_source) for job in work if job.source != job.target]
    moves += [(repeat.source, repeat.target, repeat.sha256, repeat.keep_source) for repeat in repeats]
    # the archive's copies of the files the inbox keeps are made while the batch is checked and answered
    with copies_ahead(moves) as archiving:
        cache = CheckCache(
            out / CACHE_DIR / "checks" / period, policy_digest(policy.forms, policy.limits), engine_digest(specs)
        )
        results, reconciliations = check_batch(
            [job.source for job in work],
            specs,
            policy,
            [job.target for job in work],
            period,
            ledger,
            [ledger.mail_origin(job.sha256) for job in work],
            pool,
            [job.received for job in work],
            (cache, [job.sha256 for job in work]),
            _prepare_outputs,
        )
        cache.prune()
        for result, job in zip(results, work, strict=True):
            result.source = job.source if job.source != job.target else None
            result.sha256 = job.sha256
        # zips with members refused: their findings, for the report and reply
        results += unzipped.results + mailed.results
        by_roster = sorted(reconciliations, key=lambda row: policy.roster_rank(row.unit))  # 与名单核对 in office order
        report = Report(period=period, folder=folder, files=results, reconciliations=by_roster)
        report.checks_reused = cache.hits
        report.repeats = [(repeat.source.name, repeat.same_as) for repeat in repeats]
        report.arriving = [path.name for path in scan.arriving]
        report.refused = scan.refused
        for result in results:
            parsed = result.parsed
            if parsed is not None and parsed.spec.reply_lines is not None and result.current:  # e.g. the fee owed
                result.reply_lines = parsed.spec.reply_lines(parsed.frame, policy.for_form(result.kind))
        told = told_statuses(ledger, results)
        # the units first: the copies of new files and of files due a reply (made by the workers while this process
        # records the batch), then the replies, then the office's outputs
        annotations = _annotation_jobs(report.files, folder / ANNOTATED_DIR)
        answered_now = [
            job[0].source is not None or _reply_due(job[0], ledger, told) is not None for job in annotations
        ]
        first = [job for job, now in zip(annotations, answered_now, strict=True) if now]
        rest = [job for job, now in zip(annotations, answered_now, strict=True) if not now]
        if first:
            _make_folder_in(folder, ANNOTATED_DIR)  # a period folder that cannot be written stops the run here
        copies = KeptCopies(out / CACHE_DIR / "copies" / f"{period}.pickle", engine_digest(specs))
        annotated_first = _start_annotating(first, pool, copies)
        prerendering = None if coalesce else _start_prerendering(report, specs, policy, cache.reused)
        try:
            _record(ledger, report, out, cache)
            kill_point("recorded")
        except BaseException:
            if prerendering is not None:  # no workbook will be written: it ends (at its next block) before the run
                prerendering.stop()
                prerendering.wait()
            raise
        finally:
            annotated_first()  # also when recording failed: no copy is still being written once the run ends
        # the checked batch is held to the end of the run: frozen, the collector need not walk it again at its full
        # collections (not collected first: that walk alone took ~0.05 s, and what little of it is garbage is collected
        # once the run unfreezes it)
        gc.freeze()
        written = queue_replies(report, policy, ledger, out, told)
        if policy.email.can_send:
            delivery = send_pending(policy.email, ledger, out)
            report.mail_sent, report.mail_failed, report.mail_error = delivery.sent, delivery.failed, delivery.reason
        elif warning := unset_sender_warning(policy.email, written, "回信"):
            report.notices.append(warning)
        kill_point("replied")
        report.deferred = coalesce and _more_landing(inbox, scan)
        if not report.deferred:
            _write_outputs(
                report, specs, policy, period_start(period), full_ids, pool, ledger, (rest, copies), prerendering
            )
        kill_point("outputs_written")
        ledger.plan_moves(moves)
        kill_point("moves_planned")
        finish_moves(ledger, out, verify=False, copied=archiving.taken())
    _remove_empty_folders(out / STAGING_DIR)
    append_log(out / RUN_LOG, report)
    return report


def _within_mail_limit(emls: Sequence[Path], limit_mb: int, refused: list[tuple[str, str]]) -> list[Path]:
    """.eml files no larger than a fetched mail may be ([email] max_message_mb); a larger one is left in the inbox
    unopened, with a line in the report, so that it cannot exhaust the run's memory."""
    kept = []
    for eml in emls:
        size = eml.stat().st_size
        if size > limit_mb * 1024 * 1024:
            refused.append((eml.name, f"邮件文件 {size / 1024 / 1024:.0f} MB,超过上限 {limit_mb} MB,未拆开"))
        else:
            kept.append(eml)
    return kept


def _make_folder_in(parent: Path, name: str) -> None:
    """parent/name made if missing; the OSError names `parent`, the folder that could not be written in."""
    try:
        (parent / name).mkdir(exist_ok=True)
    except OSError as error:
        raise OSError(error.errno, error.strerror, str(parent)) from error


def _more_landing(inbox: Path, scan: Scan) -> bool:
    """Files in the inbox this run neither took nor refused: landed since its scan, or still being copied then."""
    seen = {entry.path.name for entry in scan.ready} | {name for name, _ in scan.refused}
    return any(is_candidate(path) and path.name not in seen for path in inbox.iterdir())


class Job(NamedTuple):
    source: Path  # read from: the inbox, the attachments of .eml files, or 原件/
    target: Path  # kept at, once the run's outputs are written
    sha256: str
    received: dt.datetime  # when it reached the inbox
    keep_source: bool = False  # archive a copy (run --keep-inbox)


class Repeat(NamedTuple):
    source: Path
    target: Path  # in 原件/重复/
    sha256: str
    same_as: str  # the submission with these bytes, relative to OUT
    keep_source: bool = False


def _plan(
    files: Sequence[Path],
    first_seen: Mapping[str, dt.datetime],
    out: Path,
    archive: Path,
    ledger: Ledger,
    keep_inbox: bool,
    refused: list[tuple[str, str]],
) -> tuple[list[Job], list[Repeat]]:
    """The period's work: its archived files, plus each ready inbox file (and .eml attachment) that is new, or
    was recorded by a run that stopped before moving it. Bytes seen before, in the ledger or earlier in this
    batch, are repeats. Each new file gets a name under 原件/ that no file has and no submission was promised."""
    for folder in (archive, archive / REPEAT_DIR):
        remove_leftovers(folder)
    archived: dict[str, Path] = {}
    for path in sorted(path for path in archive.iterdir() if is_candidate(path)) if archive.exists() else []:
        archived.setdefault(file_hash(path), path)
    work = [Job(path, path, sha, _arrived(ledger, sha, path)) for sha, path in archived.items()]
    repeats: list[Repeat] = []
    reserved = {out / stored for stored in ledger.stored_paths()} | ledger.planned_targets()
    batch: dict[str, str] = {}  # SHA-256 → where this batch keeps its first copy (relative to OUT)
    for source, received, from_inbox in _incoming(files, first_seen, out, ledger):
        try:
            sha = file_hash(source)
        except OSError:
            refused.append((source.name, REFUSED_UNREADABLE))
            continue
        keep = keep_inbox and from_inbox
        known = ledger.by_hash(sha)
        earlier = batch.get(sha) or (known.stored_path if known else None)
        if known and sha not in batch and not os.path.lexists(out / known.stored_path):
            job = Job(source, out / known.stored_path, sha, dt.datetime.fromisoformat(known.arrived), keep)
        elif earlier or sha in archived:
            if not (keep and sha not in batch):  # with --keep-inbox a processed file stays in the inbox, quietly
                same = earlier or str(archived[sha].relative_to(out))
                repeat_target = free_path(archive / REPEAT_DIR, safe_name(source.name), reserved)
                repeats.append(Repeat(source, repeat_target, sha, same, keep))
            continue
        else:
            job = Job(source, free_path(archive, safe_name(source.name), reserved), sha, received, keep)
        work.append(job)
        batch[sha] = str(job.target.relative_to(out))
    return work, repeats


def _incoming(
    files: Sequence[Path], first_seen: Mapping[str, dt.datetime], out: Path, ledger: Ledger
) -> Iterator[tuple[Path, dt.datetime, bool]]:
    """(file, when it reached the inbox, whether it is in the inbox): the inbox's files, then the attachments of
    the .eml files (arrived with their .eml)."""
    for path in files:
        yield path, first_seen[path.name], True
    staging = out / STAGING_DIR
    for folder in sorted(staging.iterdir()) if staging.is_dir() else []:
        unpacked = ledger.unpacked(folder.name)
        for path in sorted(path for path in folder.iterdir() if is_candidate(path)):
            yield path, unpacked or _modified(path), False


def _arrived(ledger: Ledger, sha: str, path: Path) -> dt.datetime:
    known = ledger.by_hash(sha)
    return dt.datetime.fromisoformat(known.arrived) if known else _modified(path)


def _modified(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime).replace(microsecond=0)


def _remove_empty_folders(staging: Path) -> None:
    for folder in staging.iterdir() if staging.is_dir() else []:
        with suppress(OSError):  # not empty: an attachment left for the next run
            folder.rmdir()


def told_statuses(ledger: Ledger, results: Sequence[FileResult]) -> dict[str, str]:
    """For each emailed file already answered: the status its latest reply told the unit (the first reply, or a
    later mail saying it changed), as the ledger's replies keep it: a run killed after recording its results and
    before queueing its mail leaves the change to be told by the next."""
    told = {}
    for result in results:
        if result.origin is not None and result.sha256 is not None:
            status = ledger.last_told(result.sha256)
            if status is not None:
                told[result.sha256] = status
    return told


def queue_replies(
    report: Report, policy: Policy, ledger: Ledger, out: Path, told: Mapping[str, str] | None = None
) -> int:
    """One reply per emailed submission, written to outbox/ and queued in the ledger; never twice (returns how many
    were written). When a file's
    result turns from accepted to rejected or back in a later run (a duplicate found, an ID barred), one more mail
    says so. Files from senders not on the roster get none: the office decides."""
    from .mail import outbox_name, reply_for, write_eml

    told = told or {}
    written = 0
    for result in report.files:
        due = _reply_due(result, ledger, told)
        if due is None:
            continue
        key, before = due
        message = reply_for(result, report, policy.email, before)
        if message is None:
            continue
        eml = write_eml(message, report.folder / OUTBOX_DIR / outbox_name(result, before))
        ledger.queue_reply(key, result.origin.sender, str(eml.relative_to(out)), result.status)
        written += 1
    return written


def _reply_due(result: FileResult, ledger: Ledger, told: Mapping[str, str]) -> tuple[str, str | None] | None:
    """(the reply's key in the ledger, the status told before when the reply says it changed), if one is due."""
    if result.origin is None or result.sha256 is None:
        return None
    if any(finding.code == "unknown_sender" for finding in result.findings):
        return None
    previous = told.get(result.sha256)
    if previous is None and not ledger.reply_queued(result.sha256):
        return result.sha256, None
    if previous is not None and (previous != REJECTED) != result.accepted:
        key = f"{result.sha256}:{result.status}"
        return None if ledger.reply_queued(key) else (key, previous)
    return None


def fetch_into_inbox(inbox: Path, out: Path, policy_path: Path | None) -> Fetched:
    """process.py fetch-mail: new IMAP messages' attachments into the inbox, origins into the ledger; each message
    refused is also a line in OUT/run.log."""
    from .mail import fetch_mail

    policy = load_policy(policy_path, load_specs())
    inbox.mkdir(parents=True, exist_ok=True)
    with Ledger(policy.ledger_path or out / LEDGER) as ledger:
        fetched = fetch_mail(policy.email, inbox, ledger)
    append_lines(out / RUN_LOG, [f"fetch-mail 未收取:{line}" for line in fetched.refused])
    return fetched


def send_queued(out: Path, policy_path: Path | None) -> tuple[Delivery | None, int]:
    """process.py send: what was sent (None when no SMTP server is set) and how many replies are still queued.
    Raises MailError when the server cannot be used at all (the replies stay queued)."""
    from .mail import MailError, send_pending

    policy = load_policy(policy_path, load_specs())
    with Ledger(existing_ledger(policy.ledger_path or out / LEDGER)) as ledger:
        if not policy.email.can_send:
            return None, len(ledger.pending_replies())
        delivery = send_pending(policy.email, ledger, out)
        if delivery.error:
            raise MailError(delivery.error)
        return delivery, len(ledger.pending_replies())


def existing_ledger(path: Path) -> Path:
    """The ledger a command other than run works on: never a new one made where --out was mistyped."""
    if not path.is_file():
        raise RunError(
            f"{path.parent} 中没有台账 {path.name}:请检查 --out 是否就是 run 用的输出文件夹(先运行一次 run 才有台账)"
        )
    return path


def bar_person(ledger_path: Path, id_number: str, reason: str) -> str:
    """Bar an ID from aid in the ledger (虚报 → 取消其次年补助资格); returns it masked for display."""
    id_number = id_number.strip().upper()
    if not valid_id(id_number):
        raise RunError(f"“{mask_text(id_number)}”不是有效的 18 位身份证号")
    with Ledger(existing_ledger(ledger_path)) as ledger:
        ledger.bar(id_number, reason)
    return mask_text(id_number)


def _record(ledger: Ledger, report: Report, out: Path, cache: CheckCache | None = None) -> None:
    """Every file of the period, its result and its accepted rows, in one transaction. With `cache`, a submission
    whose check was reused and whose ledger entry is still the one a run recorded from that check, with the same
    result, is left as it is (its rows are those of that check)."""
    recorded = load_pickle(_recorded_path(out, report.period)) if cache is not None else None
    processed = ledger.processed_times(report.period) if recorded else {}
    with ledger.transaction():
        for result in report.files:
            if result.sha256 is None:
                continue
            known = ledger.by_hash(result.sha256)
            submission = _submission_of(result, known, report.period, out)
            if cache is not None and isinstance(recorded, dict) and known is not None:
                witness = recorded.get(result.sha256)
                if (
                    result.check_key in cache.reused
                    and witness == (result.check_key, processed.get(result.sha256))
                    and dataclasses.replace(submission, arrived=known.arrived) == known
                ):
                    continue
            ledger.record(submission, _accepted_rows(result))
            if result.checked_against is not None:
                ledger.remember_reference(result.checked_against)
    if cache is not None:
        _remember_recorded(ledger, report, out)


def _recorded_path(out: Path, period: str) -> Path:
    return out / CACHE_DIR / "recorded" / f"{period}.pickle"


def _remember_recorded(ledger: Ledger, report: Report, out: Path) -> None:
    """Each submission's check key and the `processed` time the ledger holds for it now (committed): a later run
    that finds both the same knows the ledger still holds what was recorded from that check. Written after the
    commit: a kill between the two costs a re-recording, nothing worse."""
    processed = ledger.processed_times(report.period)
    kept = {
        result.sha256: (result.check_key, processed.get(result.sha256))
        for result in report.files
        if result.sha256 is not None and result.check_key is not None
    }
    with suppress(OSError):  # without it the next run records every submission again
        save_pickle(_recorded_path(out, report.period), kept)


def _accepted_rows(result: FileResult) -> Iterable[tuple[int, str | None, str]]:
    if result.parsed is None or not result.accepted:
        return ()
    key = result.parsed.spec.key_column
    frame = result.parsed.frame
    people = frame[key].tolist() if key in frame.columns else [None] * len(frame)
    return zip(frame.index.tolist(), people, row_texts(frame), strict=True)


def _submission_of(result: FileResult, known: Submission | None, period: str, out: Path) -> Submission:
    assert result.sha256 is not None
    origin = result.origin
    return Submission(
        sha256=result.sha256,
        original_name=known.original_name if known else (result.source or result.path).name,
        stored_path=str(result.path.relative_to(out)),
        period=period,
        arrived=result.received.isoformat(timespec="seconds"),
        sender=origin.sender if origin else None,
        subject=origin.subject if origin else None,
        message_id=origin.message_id if origin else None,
        unit=result.unit,
        kind=result.kind,
        status=result.status,
        replaced_by=result.replaced_by,
        errors=result.errors,
        warnings=result.warnings,
        checked_against=result.checked_against.sha256 if result.checked_against else None,
    )


def _write_outputs(
    report: Report,
    specs: Mapping[str, FormSpec],
    policy: Policy,
    created: dt.datetime,
    full_ids: bool,
    pool: WorkerPool | None,
    ledger: Ledger | None = None,
    annotations: tuple[Sequence[AnnotationJob], KeptCopies] | None = None,
    prerendering: Forked | None = None,
) -> None:
    """The period's outputs; the annotated copies `annotations` (default: every file's with findings, each made
    afresh), with the copies kept by earlier runs, are made by the workers meanwhile; `prerendering`, a helper
    rendering the consolidated workbooks' rows ahead."""
    from .status_page import write_status_page  # jinja2: after the workers are forked, not before (~0.04 s)
    from .write import write_workbook  # xlsxwriter only when outputs are written: `validate` starts faster

    folder = report.folder
    jobs, copies = annotations or (_annotation_jobs(report.files, folder / ANNOTATED_DIR), None)
    annotated = _start_annotating(jobs, pool, copies)
    for kind in specs:
        report.missing[kind] = _missing_units(kind, report.files, policy, report.period)
    shown = _shown(report, specs, policy, created, ledger)
    kept_path = folder.parent / CACHE_DIR / "outputs" / f"{report.period}.pickle"
    kept = load_pickle(kept_path) or {}
    stale = {
        output for output, digest in shown.items() if not _still_written(kept.get(output), digest, folder / output)
    }
    counted = _CountedRows(report, specs, policy)
    written: dict[str, tuple[str, str | None, dict[str, Any]]] = {}
    writing: list[tuple[str, Callable[[], None], _WrittenAside | None]] = []
    # a core is idle when no helper renders ahead: the largest workbook to write is written by a forked child while
    # this process writes the others and the report
    aside = _largest(stale, specs, report) if prerendering is None and _cores() > 1 else None
    try:
        for output, group in _outputs(specs).items():
            kinds = [spec.kind for spec in group]
            if not any(sum(r.rows for r in _current(report, kind)) or report.missing[kind] for kind in kinds):
                continue
            report.outputs.append(folder / output)
            if output not in stale:  # what it shows has not changed since it was written: its totals as they were
                written[output] = kept[output]
                report.totals.update(kept[output][2])
                continue
            sheets = _consolidated_sheets(report, group, counted, policy, ledger) + form_report_sheets(report, kinds)
            helper = prerendering.running if prerendering is not None else None
            write = functools.partial(_write_consolidated, folder / output, sheets, created, helper)
            writing.append((output, write, _WrittenAside(write, folder / output) if output == aside else None))
            if output != aside:
                write()
            written[output] = (shown[output], None, {kind: report.totals[kind] for kind in kinds})
        if prerendering is not None:
            prerendering.stop()  # the workbooks are written: it ends, nothing of it left, while the report is written
        annotated()
        write_workbook(folder / "处理报告.xlsx", report_sheets(report, policy.roster_rank), created)
        write_json(folder / "report.json", report.to_json(full_ids))
        report.outputs += [folder / "处理报告.xlsx", folder / "report.json"]
        report.outputs.append(write_status_page(report, policy, dt.datetime.now().replace(microsecond=0)))
        for output, write, child in writing:
            if child is not None and not child.finish():
                write()  # the child failed: written here, failing as it would
            written[output] = (written[output][0], file_identity(folder / output), written[output][2])
    finally:  # no workbook is still being written once the outputs are (or failed to be)
        for _, _, child in writing:
            if child is not None:
                child.drop()
    with suppress(OSError):  # without it the next run writes the workbooks again, nothing worse
        save_pickle(kept_path, written)
    if stale:
        with suppress(OSError):  # without them the next run sums the files again, nothing worse
            counted.save()
    if prerendering is not None:
        prerendering.wait()


def _write_consolidated(
    path: Path,
    sheets: list[OutSheet],
    created: dt.datetime,
    helper: Callable[[], bool] | None,
    into: Path | None = None,
) -> None:
    """The consolidated workbook `path`, its row blocks kept in its segment store; written at `into` if given."""
    from .write import write_workbook

    segments = _segment_store(path.parent, path.name)
    write_workbook(into or path, sheets, created, segments=segments, helper=helper, title=path.stem)
    segments.prune()  # the rows of files this workbook no longer shows, or at other places


ASIDE_MARK = ".aside.tmp"  # in the name of a workbook written aside, and of its own temporary


class _WrittenAside:
    """A workbook written by a forked child at a temporary of its own (a core is idle: no helper renders ahead),
    while this process writes the others and the report; `finish` waits and renames it into place. A run killed
    meanwhile leaves only the temporary (its child leaves within a second), which later runs clear."""

    def __init__(self, write: Callable[..., None], path: Path) -> None:
        self.path = path
        self.temporary = path.with_name(f".{path.stem}.{os.getpid()}{ASIDE_MARK}.xlsx")
        self.child = forked(functools.partial(_in_child, functools.partial(write, into=self.temporary)))

    def finish(self) -> bool:
        """True once the workbook is in place; False if the child failed (this process writes it instead)."""
        if self.child.wait() and self.temporary.is_file():
            self.temporary.replace(self.path)
            return True
        self.temporary.unlink(missing_ok=True)
        return False

    def drop(self) -> None:
        """Waited for and its temporary removed (nothing left once renamed)."""
        self.child.wait()
        self.temporary.unlink(missing_ok=True)


def _largest(stale: Collection[str], specs: Mapping[str, FormSpec], report: Report) -> str | None:
    """Of the consolidated workbooks to write, the one showing the most rows."""
    rows = {
        output: sum(r.rows for spec in group for r in _current(report, spec.kind))
        for output, group in _outputs(specs).items()
        if output in stale
    }
    return max(rows, key=rows.__getitem__) if rows else None


def _cores() -> int:
    return os.cpu_count() or 1


def _remove_asides(folder: Path) -> None:
    """A killed run's workbooks written aside, whole or cut short (under the run's lock: nobody else's)."""
    for stray in folder.glob(f"*{ASIDE_MARK}*"):
        stray.unlink(missing_ok=True)


def _in_child(function: Callable[[], None]) -> None:
    """What `function` raises ends the child with code 1 and no traceback printed: the parent does the work again
    and reports what fails."""
    try:
        function()
    except BaseException:  # noqa: BLE001  # Ctrl-C too: the run reports it once
        sys.exit(1)
    kill_point("written_aside")  # the run killed with its workbook written but not yet in place


def _consolidated_sheets(
    report: Report, group: Sequence[FormSpec], counted: _CountedRows, policy: Policy, ledger: Ledger | None
) -> list[OutSheet]:
    """A consolidated workbook's sheets but the report's: each form's summary and finding list (its totals into
    the report)."""
    sheets = []
    for spec in group:
        accepted = len(_current(report, spec.kind))
        report.totals[spec.kind] = {"files": accepted, "summary": f"已受理 {accepted} 个文件"}
        if spec.summarise is not None and _has_something_to_sum(spec, group, report):
            form_policy = policy.for_form(spec.kind)
            earlier = (History(spec.kind, report.period, ledger),) if spec.summary_needs_history else ()
            own = counted.files(spec.kind) if spec.summary_by_file else counted.frames[spec.kind]
            summary = spec.summarise(own, form_policy, counted.frames, *earlier)
            if summary.sheets and (note := left_out_note(report, spec.kind)):
                summary.sheets[0].notes.insert(0, note)
            report.totals[spec.kind] |= summary.totals
            sheets += [titled_for(sheet, report.period) for sheet in summary.sheets]
            listed = finding_list_sheet(report, spec, reference_of(form_policy))
            sheets += [titled_for(listed, report.period)] if listed is not None else []
    return sheets


def _segment_store(folder: Path, output: str) -> SegmentStore:
    return SegmentStore(folder.parent / CACHE_DIR / "segments" / folder.name / Path(output).stem)


def _start_prerendering(
    report: Report, specs: Mapping[str, FormSpec], policy: Policy, reused: Collection[str]
) -> Forked | None:
    """A forked helper that renders the row blocks of the consolidated workbooks to be written again while this
    process records the batch (a core is idle then), for `_write_outputs` to find kept (see
    write.keep_rows_ahead); None without the fast renderer or a second core, or when few rows are to be rendered
    again (a late file at the end of the office order: this process renders them sooner than a helper starts)."""
    import xlsxwriter

    from . import fastrows

    if not fastrows.proven(xlsxwriter.__version__) or _cores() < 2:
        return None
    if not any(_rows_to_render(report, kind, policy, reused) >= fastrows.SHARED_ROWS for kind in specs):
        return None
    return forked(functools.partial(_prerender, report, specs, policy), stoppable=True)


def _rows_to_render(report: Report, kind: str, policy: Policy, reused: Collection[str]) -> int:
    """About how many of a form's consolidated rows are rendered again: those of its files from the first one not
    checked before on, in office order (the rows after a new file move down; rows kept at their place are not)."""
    files = sorted(_current(report, kind), key=lambda r: policy.roster_rank(r.unit or ""))
    fresh = next((index for index, result in enumerate(files) if result.check_key not in reused), len(files))
    return sum(result.rows for result in files[fresh:])


def _prerender(report: Report, specs: Mapping[str, FormSpec], policy: Policy, stopped: Callable[[], bool]) -> None:
    """In the helper: each consolidated workbook `_write_outputs` will write again, written as it will be, for the
    row blocks it keeps (the ledger not used: a workbook whose summary reads it is left to the run), until
    `stopped()`: the run has written them."""
    from .write import keep_rows_ahead

    created = period_start(report.period)
    for kind in specs:
        report.missing[kind] = _missing_units(kind, report.files, policy, report.period)
    shown = _shown(report, specs, policy, created, None)
    kept = load_pickle(report.folder.parent / CACHE_DIR / "outputs" / f"{report.period}.pickle") or {}
    counted = _CountedRows(report, specs, policy)
    for output, group in _outputs(specs).items():
        if any(spec.summary_needs_history for spec in group) or not any(_current(report, s.kind) for s in group):
            continue
        if _still_written(kept.get(output), shown[output], report.folder / output):
            continue
        if stopped():
            return
        sheets = _consolidated_sheets(report, group, counted, policy, None)
        keep_rows_ahead(sheets, created, _segment_store(report.folder, output), stopped)


class _CountedRows:
    """The period's counted rows for the summaries, each form's read only when a summary asks: `frames[kind]`
    merged, `files(kind)` file by file, what is made of each file's rows kept between runs (see compute.Files) in
    OUT/.cache/sums/<period>.pickle."""

    def __init__(self, report: Report, specs: Mapping[str, FormSpec], policy: Policy) -> None:
        self.report, self.specs, self.policy = report, specs, policy
        self.path = report.folder.parent / CACHE_DIR / "sums" / f"{report.period}.pickle"
        self.processor = (engine_digest(specs), policy_digest(policy.forms, policy.limits))
        self.frames = _MergedFrames(self)
        self._parts: dict[str, list[FilePart]] = {}

    @functools.cached_property
    def kept(self) -> dict[str, dict[str, Any]]:
        """What earlier runs made of each file's rows, read when a summary first asks (a damaged or strange store:
        nothing)."""
        kept = load_pickle(self.path)
        return {key: made for key, made in kept.items() if isinstance(made, dict)} if isinstance(kept, dict) else {}

    def parts(self, kind: str) -> list[FilePart]:
        """The form's counted files in office order, each known by a digest of what its rows can show: the
        processor and the forms' policy (their digests), the file's bytes, name, unit and sheets."""
        if kind not in self._parts:
            self._parts[kind] = self._parts_of(kind)
        return self._parts[kind]

    def _parts_of(self, kind: str) -> list[FilePart]:
        files = sorted(_current(self.report, kind), key=lambda r: self.policy.roster_rank(r.unit or ""))
        return [
            FilePart(
                functools.partial(_frame_of, result),
                result.unit or "",
                result.path.name,
                result.parsed.sheet_names,
                result.rows,
                digest(
                    self.processor, result.sha256, result.path.name, result.unit, result.parsed.sheet_names, result.rows
                )
                if result.sha256
                else None,  # a file not known by its bytes: nothing of it kept
            )
            for result in files
            if result.parsed is not None
        ]

    def files(self, kind: str) -> Files:
        return Files(self.parts(kind), self.specs[kind], self.kept)

    def save(self) -> None:
        """The sums kept, for the next run: those of the files counted now."""
        counted = {part.key for kind in self.specs for part in self.parts(kind)}
        save_pickle(self.path, {key: made for key, made in self.kept.items() if key in counted})


def _frame_of(result: FileResult) -> pd.DataFrame:
    assert result.parsed is not None
    return result.parsed.frame


class _MergedFrames(Mapping[str, "pd.DataFrame"]):
    """Each form's counted rows merged in office order (merge_rows, each file's rows known by its key), made when
    first asked for."""

    def __init__(self, rows: _CountedRows) -> None:
        self.rows = rows
        self.made: dict[str, pd.DataFrame] = {}

    def __getitem__(self, kind: str) -> pd.DataFrame:
        if kind not in self.made:
            parts = self.rows.parts(kind)
            keys = [part.key for part in parts]
            known = all(key is not None for key in keys)  # a file not known by its bytes: rendered afresh
            sheets = (part.sheet() for part in parts)
            self.made[kind] = merge_rows(sheets, self.rows.specs[kind], keys if known else None)
        return self.made[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(self.rows.specs)

    def __len__(self) -> int:
        return len(self.rows.specs)


def _shown(
    report: Report, specs: Mapping[str, FormSpec], policy: Policy, created: dt.datetime, ledger: Ledger | None
) -> dict[str, str]:
    """For each consolidated workbook, a digest of everything it shows: the processor, the forms' policy, the rows
    of every counted file (known by its bytes and name: a summary may read other forms' rows), the earlier
    periods a summary reads, the findings it lists, and what the report adds to it (未报送, units left out,
    reconciliations, resubmissions)."""
    counted = [
        (kind, [(r.sha256, str(r.path), r.unit, r.parsed.sheet_names) for r in _current(report, kind) if r.parsed])
        for kind in specs
    ]
    base = (engine_digest(specs), policy_digest(policy.forms, policy.limits), created, counted)
    shown = {}
    for output, group in _outputs(specs).items():
        kinds = [spec.kind for spec in group]
        adds = [(report.missing[kind], left_out_note(report, kind)) for kind in kinds]
        earlier = [
            ledger.earlier_submissions(spec.kind, report.period)
            for spec in group
            if spec.summary_needs_history and ledger is not None
        ]
        listed = [finding_list_sheet(report, spec, reference_of(policy.for_form(spec.kind))) for spec in group]
        shown[output] = digest(base, output, adds, earlier, listed, form_report_sheets(report, kinds))
    return shown


def _still_written(kept: tuple[str, str | None, dict[str, Any]] | None, shown: str, path: Path) -> bool:
    """The workbook at `path` is the one written for what it shows now, unaltered since."""
    return kept is not None and kept[0] == shown and kept[1] is not None and file_identity(path) == kept[1]


AnnotationJob = tuple[FileResult, tuple[Path, list[Finding], Path]]


def _annotation_jobs(results: Sequence[FileResult], folder: Path) -> list[AnnotationJob]:
    """Each file with findings and its annotated copy's job; the copies named over the whole period at once."""
    used: set[str] = set()
    return [
        (result, (result.readable, result.findings, folder / _annotated_name(result.path, used)))
        for result in results
        if result.findings
    ]


def _start_annotating(
    jobs: Sequence[AnnotationJob], pool: WorkerPool | None, kept: KeptCopies | None = None
) -> Callable[[], None]:
    """Annotated copies of the files with findings (openpyxl, ~0.1 s a file), made by the run's worker processes
    while this one writes the consolidated workbooks. With `kept`, a copy made by an earlier run for the same file,
    findings and processor, and unaltered since, is kept, not made again. The returned function waits for them and
    records where each went."""
    if kept is not None:
        jobs = [job for job in jobs if not kept.reuse(*job)]
    if pool is None:
        for result, job in jobs:
            result.annotated, result.annotation_note = _annotate(*job)
        return kept.made(jobs) if kept is not None else lambda: None
    waiting = pool.start(_annotate, [job for _, job in jobs])

    def finish() -> None:
        for (result, _), outcome in zip(jobs, waiting(), strict=True):
            if isinstance(outcome, (Lost, JobError)):  # its findings are in the report and the reply all the same
                log.error("无法生成 %s 的批注副本:%s", result.path.name, mask_text(str(outcome)))
                outcome = (None, None)
            result.annotated, result.annotation_note = outcome
        if kept is not None:
            kept.made(jobs)()

    return finish


class KeptCopies:
    """The period's annotated copies as the runs made them: each copy's name → (a digest of what it was made from:
    the processor, the file's bytes, its findings; the copy's own digest; the note on what it could not keep).
    A late file's run then makes only its own copy, not again those of every file with findings (W10: 25 copies
    of 2,000 rows, ~1 s each)."""

    def __init__(self, path: Path, processor: str) -> None:
        self.path, self.processor = path, processor
        self.copies: dict[str, tuple[str, str | None, str | None]] = load_pickle(path) or {}

    def _made_from(self, result: FileResult, findings: list[Finding]) -> str | None:
        return digest(self.processor, result.sha256, findings) if result.sha256 else None

    def reuse(self, result: FileResult, job: tuple[Path, list[Finding], Path]) -> bool:
        """Whether the copy `job` would make is there already, as made (the result is then told where it is)."""
        _, findings, target = job
        made_from = self._made_from(result, findings)
        known = self.copies.get(target.name)
        if made_from is None or known is None or known[0] != made_from or file_digest(target) != known[1]:
            return False
        result.annotated, result.annotation_note = target, known[2]
        return True

    def made(self, jobs: Sequence[AnnotationJob]) -> Callable[[], None]:
        """Records the copies `jobs` made (once they are made) and keeps the record."""

        def record() -> None:
            for result, (_, findings, target) in jobs:
                made_from = self._made_from(result, findings)
                if made_from is None or result.annotated != target:
                    self.copies.pop(target.name, None)  # not made: the next run tries again
                else:
                    self.copies[target.name] = (made_from, file_digest(target), result.annotation_note)
            with suppress(OSError):  # without it the next run makes the copies again, nothing worse
                save_pickle(self.path, self.copies)

        return record


def _annotate(source: Path, findings: list[Finding], target: Path) -> tuple[Path | None, str | None]:
    """annotate_copy, imported where it runs: a run's main process need not hold openpyxl (5 MB). The copy's path
    and what it could not keep of the original."""
    from .annotate import annotate_copy

    copy = annotate_copy(source, findings, target)
    return (copy.path, copy.note) if copy else (None, None)


def _current(report: Report, kind: str) -> list[FileResult]:
    return [result for result in report.files if result.kind == kind and result.current and result.parsed]


def _has_something_to_sum(spec: FormSpec, group: Sequence[FormSpec], report: Report) -> bool:
    """A form's summary goes into its workbook when it has rows, when a form it sums up (one without a summarise of
    its own) has rows, or when no form of the workbook has any (the workbook is then the 未报送 list)."""
    fed = [other for other in group if any(result.rows for result in _current(report, other.kind))]
    return spec in fed or any(other.summarise is None for other in fed) or not fed


def _outputs(specs: Mapping[str, FormSpec]) -> dict[str, list[FormSpec]]:
    """Consolidated workbooks and the forms whose rows go into each (forms may share one, 报名汇总.xlsx)."""
    outputs: dict[str, list[FormSpec]] = {}
    for spec in specs.values():
        outputs.setdefault(spec.output_name, []).append(spec)
    return outputs


def _annotated_name(path: Path, used: set[str]) -> str:
    """名单_批注.xlsx; 名单.xls_批注.xlsx when 名单.xlsx is in the same batch. Always a safe name."""
    name = f"{safe_name(path.stem, 60)}_批注.xlsx"
    if name in used:
        name = f"{safe_name(path.name, 60)}_批注.xlsx"
    used.add(name)
    return name


def _missing_units(kind: str, results: Sequence[FileResult], policy: Policy, period: str) -> list[MissingUnit]:
    """Units on the roster for `kind` without an accepted file: 未报送, or 被退回待重报 if rejected."""
    sent: dict[str, bool] = {}
    for result in results:
        if result.kind == kind and result.unit:
            key = unit_key(result.unit)
            sent[key] = sent.get(key, False) or result.accepted
    deadline = policy.deadline(kind, period)
    missing = []
    for name in policy.expected_units(kind):
        status = sent.get(unit_key(name))
        if status is None:
            missing.append(MissingUnit(name, "未报送", deadline))
        elif not status:
            missing.append(MissingUnit(name, "被退回待重报", deadline))
    return missing
