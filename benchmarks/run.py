"""The benchmark: the floor, a naive pandas pipeline and `process.py run`, timed on the same files.

    python benchmarks/run.py                 # W1: 500 files × 200 rows, then W10: 500 files × 2,000 rows
    python benchmarks/run.py --only W1       # just W1
    python benchmarks/run.py --scale 0.1     # a quick look: 50 files per workload
    python benchmarks/run.py --only I1       # the independent workload's shape: 11 columns, wrong check digits

After `c` (a full run on a fresh ledger) each round measures the month's late files on the period `c` left:
`d` one new file (with a mistake: the time until its annotated copy exists is reported too), then `e` 50 more.
The new files land more than the inbox's settle time (5 s) before the run starts: a file that has just landed
waits that long on top (a copy still in progress must not be read).

Each measured job runs in its own process; wall time is measured around it and peak memory is the largest
resident set size of that process and of any process it started (from wait4: `run` forks a worker per core,
each smaller than the main process). The jobs run in rounds — a, b, c, validate, then again — and each job's
time is the median of its rounds, so a slow minute of a shared machine does not decide a ratio (W1: 3 rounds;
W10: 1, it takes half an hour). Results go to the console and to benchmarks/RESULTS.md.
Nothing here is asserted by the test suite: speed is measured, not tested.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.workload import make_workload  # noqa: E402
from unionbatch.inbox import DEFAULT_SETTLE_SECONDS, SETTLE_VARIABLE  # noqa: E402

FLOOR = """
import sys, pathlib, python_calamine, xlsxwriter
inbox, out = pathlib.Path(sys.argv[1]), sys.argv[2]
book = xlsxwriter.Workbook(out, {"constant_memory": True})
sheet = book.add_worksheet()
row = 0
for path in sorted(inbox.glob("*.xlsx")):
    for values in python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()[3:]:
        sheet.write_row(row, 0, values)
        row += 1
book.close()
"""

NAIVE = """
import sys, pathlib, pandas as pd
inbox, out = pathlib.Path(sys.argv[1]), sys.argv[2]
frames = [pd.read_excel(path, header=2, engine="openpyxl").assign(单位=path.stem) for path in sorted(inbox.glob("*.xlsx"))]
merged = pd.concat(frames, ignore_index=True)
totals = merged.groupby("单位")[["慰问金额(元)", "慰问物资折款(元)"]].sum()
with pd.ExcelWriter(out) as writer:
    merged.to_excel(writer, sheet_name="明细", index=False)
    totals.to_excel(writer, sheet_name="按单位汇总")
"""

WORKLOADS = {"W1": (500, 200), "W10": (500, 2000), "I1": (500, 200)}
ROUNDS = {"W1": 3, "W10": 1, "I1": 3}
INDEPENDENT = {"I1"}  # the independent workload's shape: 11 columns, a wrong check digit as the mistake
LATE = 50  # the burst: files landing late in the month, after the one


@dataclass
class Measure:
    seconds: float
    peak_mb: float
    rounds: tuple[float, ...] = ()  # each round's seconds, when there were several
    answered: float | None = None  # incremental runs: the median seconds until the first new file's copy existed


def _median(values: list[float]) -> float:
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def median_of(measures: list[Measure]) -> Measure:
    rounds = tuple(measure.seconds for measure in measures) if len(measures) > 1 else ()
    answers = [measure.rounds[0] for measure in measures if measure.rounds]
    return Measure(
        _median([measure.seconds for measure in measures]),
        max(measure.peak_mb for measure in measures),
        rounds,
        _median(answers) if answers else None,
    )


def measure(command: list[str], answer: list[Path] | None = None) -> Measure:
    """Wall time and peak memory; with `answer`, the seconds until one of those files exists (polled every 10 ms)
    are returned as the first of `rounds`."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    answered = None
    while True:
        if answer is not None and answered is None and any(path.exists() for path in answer):
            answered = time.perf_counter() - started
        pid, status, usage = os.wait4(process.pid, os.WNOHANG if answer is not None else 0)
        if pid:
            break
        time.sleep(0.01)
    seconds = time.perf_counter() - started
    if answer is not None:
        return Measure(seconds, usage.ru_maxrss / 1024, (answered if answered is not None else seconds,))
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # run exits 1 when some files are rejected, as planned in the workload
        raise SystemExit(f"{command[:3]} failed ({code}): {process.stderr.read().decode() if process.stderr else ''}")
    return Measure(seconds, usage.ru_maxrss / 1024)


WATCHED = "f watch, +1 file"


def measure_watch(command: list[str], landing: Path, work: Path) -> Measure:
    """`watch` over the period (its own, empty inbox: the period's files are in its archive), then one new file
    dropped in: seconds from the drop until its annotated copy exists, watch's 1 s debounce included (a run starts
    after 1 s without events). The inbox's settle wait is not measured, as in `d` and `e` (the file is whole when
    it lands: no settle time is set for this watch)."""
    inbox = work / "watched_inbox"
    inbox.mkdir(exist_ok=True)
    copy = Path(command[command.index("--out") + 1]) / "2026-11" / "批注" / f"{landing.stem}_批注.xlsx"
    settled = {**os.environ, SETTLE_VARIABLE: "0"}
    process = subprocess.Popen([*command, "--inbox", str(inbox)], cwd=ROOT, stdout=subprocess.DEVNULL, env=settled)
    try:
        time.sleep(8)  # started, and its first look at the (empty) inbox over
        started = time.perf_counter()
        shutil.copy(landing, inbox / landing.name)
        while not copy.exists() and time.perf_counter() - started < 120:
            time.sleep(0.01)
        seconds = time.perf_counter() - started
        time.sleep(3)  # its run finished
    finally:
        process.send_signal(signal.SIGTERM)  # as a service manager stops it (SIGINT is ignored in a background job)
        process.wait(30)
    return Measure(seconds, 0.0)


def run_workload(name: str, files: int, rows: int, work: Path, rounds: int) -> dict[str, Measure]:
    inbox = work / name / "inbox"
    started = time.perf_counter()
    independent = name in INDEPENDENT
    make_workload(inbox, files, rows, independent=independent)
    # the late files: one with a mistake (so that it has an annotated copy to wait for), then a burst of LATE
    late_one = make_workload(work / name / "late1", 1, rows, 1.0, 11, files, independent)
    late_burst = make_workload(work / name / "late50", LATE, rows, 0.05, 13, files + 1, independent)
    late_watched = make_workload(work / name / "late_watched", 1, rows, 1.0, 17, files + 1 + LATE, independent)[0]
    print(f"{name}: {files} files × {rows} rows generated in {time.perf_counter() - started:.0f} s", flush=True)
    python = sys.executable
    process = [python, str(ROOT / "process.py")]
    one_file = sorted(inbox.glob("*.xlsx"))[0]
    measured: dict[str, list[Measure]] = {}
    for round_number in range(1, rounds + 1):
        out = work / name / f"out{round_number}"  # a fresh ledger each round: every file is new
        run = ["run", "--inbox", str(inbox), "--out", str(out), "--period", "2026-11", "--keep-inbox"]
        jobs = {
            "a floor": [python, "-c", FLOOR, str(inbox), str(work / name / "floor.xlsx")],
            "b naive pandas": [python, "-c", NAIVE, str(inbox), str(work / name / "naive.xlsx")],
            "c process.py run": [*process, *run],
            "validate one file": [*process, "validate", str(one_file)],
        }
        for label, command in jobs.items():
            result = measure(command)
            measured.setdefault(label, []).append(result)
            print(f"  round {round_number}: {label:<20} {result.seconds:8.1f} s  {result.peak_mb:8.0f} MB", flush=True)
        # late in the month: the period `c` left, then one new file, then a burst of LATE more
        for label, landing in (("d +1 file", late_one), (f"e +{LATE} files", late_burst)):
            for path in landing:
                shutil.copy(path, inbox / path.name)
            time.sleep(DEFAULT_SETTLE_SECONDS + 0.5)  # landed a while ago: the inbox's settle wait is not measured
            copies = [out / "2026-11" / "批注" / f"{path.stem}_批注.xlsx" for path in landing]
            result = measure([*process, *run], copies)
            measured.setdefault(label, []).append(result)
            print(
                f"  round {round_number}: {label:<20} {result.seconds:8.1f} s  {result.peak_mb:8.0f} MB  "
                f"first copy after {result.rounds[0]:.2f} s",
                flush=True,
            )
        result = measure_watch([*process, "watch", "--out", str(out), "--period", "2026-11"], late_watched, work / name)
        measured.setdefault(WATCHED, []).append(result)
        print(f"  round {round_number}: {WATCHED:<20} copy {result.seconds:.2f} s after the file landed", flush=True)
        for path in [*late_one, *late_burst]:
            (inbox / path.name).unlink()
        shutil.rmtree(out, ignore_errors=True)
    return {label: median_of(results) for label, results in measured.items()}


def report(all_results: dict[str, dict[str, Measure]], scale: float = 1.0, load: tuple[float, ...] = ()) -> str:
    command = " ".join(["python benchmarks/run.py", *sys.argv[1:]])
    shared = f" Load average (1 min) at the start {load[0]:.1f}, at the end {load[1]:.1f}." if load else ""
    lines = [
        "# Benchmark results",
        "",
        f"Taken {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.node() or 'this machine'}: "
        f"{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} cores. "
        f"Command: `{command}`.{shared}",
        "",
        "| workload | job | wall time (s), median | each round (s) | peak RSS (MB) |",
        "|---|---|---:|---:|---:|",
    ]
    for name, results in all_results.items():
        files, rows = WORKLOADS[name]
        files = max(1, int(files * scale))
        for label, result in results.items():
            each = ", ".join(f"{seconds:.1f}" for seconds in result.rounds) or "—"
            peak = f"{result.peak_mb:.0f}" if result.peak_mb else "—"  # watch: not measured
            lines.append(f"| {name} ({files} × {rows}) | {label} | {result.seconds:.1f} | {each} | {peak} |")
    lines.append("")
    for name, results in all_results.items():
        a, b, c = results["a floor"], results["b naive pandas"], results["c process.py run"]
        d, e = results["d +1 file"], results[f"e +{LATE} files"]
        lines.append(
            f"- {name}: c/a = {c.seconds / a.seconds:.2f} (target ≤ 1.25); b/c = {b.seconds / c.seconds:.2f} "
            f"(target ≥ 3.5); memory c/b = {c.peak_mb / b.peak_mb:.2f} (target ≤ 0.5); "
            f"validate one file {results['validate one file'].seconds:.2f} s (target < 1 s)"
        )
        lines.append(
            f"- {name} late in the month: +1 file d/c = {d.seconds / c.seconds:.2f} (target ≤ 0.2 for W1, ≤ 0.1 "
            f"for W10), its annotated copy after {d.answered or 0:.2f} s (target ≤ 1.5 s), memory d/c = "
            f"{d.peak_mb / c.peak_mb:.2f} (target ≤ 1); +{LATE} files e/c = {e.seconds / c.seconds:.2f}, "
            f"the first copy after {e.answered or 0:.2f} s; under `watch` (no start-up: its workers forked ready) "
            f"+1 file's copy {results[WATCHED].seconds:.2f} s after it landed, 1 s debounce included"
        )
    if {"W1", "W10"} <= all_results.keys():
        ratio = all_results["W10"]["c process.py run"].seconds / all_results["W1"]["c process.py run"].seconds
        lines.append(
            f"- W10/W1 time for `run` = {ratio:.1f} (target ≤ 11); W10 peak "
            f"{all_results['W10']['c process.py run'].peak_mb:.0f} MB (target < 2048)"
        )
    return "\n".join(lines) + "\n"


def byte_compile() -> None:
    """The project's modules compiled to __pycache__ once, as an installed package's are and as Python does at a
    first import unless PYTHONDONTWRITEBYTECODE is set (it is on the development machine): else every `process.py`
    compiles them again at its start (~0.1 s of a late file's run)."""
    sources = [str(ROOT / name) for name in ("unionbatch", "schemas", "chinese_click.py")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *sources], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(WORKLOADS), action="append")
    parser.add_argument("--write", action="store_true", help="write RESULTS.md even at a --scale below 1")
    parser.add_argument("--scale", type=float, default=1.0, help="share of the files to generate (quick looks)")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    parser.add_argument("--rounds", type=int, help="rounds of every job (default: W1 3, W10 1)")
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="unionbatch-bench-"))
    byte_compile()
    load_at_start = os.getloadavg()[0]
    try:
        all_results = {}
        for name in arguments.only or list(WORKLOADS):
            files, rows = WORKLOADS[name]
            rounds = arguments.rounds or ROUNDS[name]
            all_results[name] = run_workload(name, max(1, int(files * arguments.scale)), rows, work, rounds)
        text = report(all_results, arguments.scale, (load_at_start, os.getloadavg()[0]))
        print(text)
        if arguments.scale == 1.0 or arguments.write:
            measured = arguments.results.read_text(encoding="utf-8") if arguments.results.exists() else ""
            notes = measured.split("<!-- notes -->", 1)[1] if "<!-- notes -->" in measured else "\n"
            arguments.results.write_text(text + "\n<!-- notes -->" + notes, encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
