"""The benchmark: the floor, a naive pandas pipeline and `process.py run`, timed on the same files.

    python benchmarks/run.py                 # W1: 500 files × 200 rows, then W10: 500 files × 2,000 rows
    python benchmarks/run.py --only W1       # just W1
    python benchmarks/run.py --scale 0.1     # a quick look: 50 files per workload

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
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.workload import make_workload  # noqa: E402

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

WORKLOADS = {"W1": (500, 200), "W10": (500, 2000)}
ROUNDS = {"W1": 3, "W10": 1}


@dataclass
class Measure:
    seconds: float
    peak_mb: float
    rounds: tuple[float, ...] = ()  # each round's seconds, when there were several


def median_of(measures: list[Measure]) -> Measure:
    times = sorted(measure.seconds for measure in measures)
    middle = len(times) // 2
    median = times[middle] if len(times) % 2 else (times[middle - 1] + times[middle]) / 2
    rounds = tuple(measure.seconds for measure in measures) if len(measures) > 1 else ()
    return Measure(median, max(measure.peak_mb for measure in measures), rounds)


def measure(command: list[str]) -> Measure:
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # run exits 1 when some files are rejected, as planned in the workload
        raise SystemExit(f"{command[:3]} failed ({code}): {process.stderr.read().decode() if process.stderr else ''}")
    return Measure(seconds, usage.ru_maxrss / 1024)


def run_workload(name: str, files: int, rows: int, work: Path, rounds: int) -> dict[str, Measure]:
    inbox = work / name / "inbox"
    started = time.perf_counter()
    make_workload(inbox, files, rows)
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
        shutil.rmtree(out, ignore_errors=True)
    return {label: median_of(results) for label, results in measured.items()}


def report(all_results: dict[str, dict[str, Measure]], scale: float = 1.0) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Taken {time.strftime('%Y-%m-%d')} on {platform.node() or 'this machine'}: {platform.platform()}, "
        f"Python {platform.python_version()}, {os.cpu_count()} cores. Command: `python benchmarks/run.py`.",
        "",
        "| workload | job | wall time (s), median | each round (s) | peak RSS (MB) |",
        "|---|---|---:|---:|---:|",
    ]
    for name, results in all_results.items():
        files, rows = WORKLOADS[name]
        files = max(1, int(files * scale))
        for label, result in results.items():
            each = ", ".join(f"{seconds:.1f}" for seconds in result.rounds) or "—"
            lines.append(
                f"| {name} ({files} × {rows}) | {label} | {result.seconds:.1f} | {each} | {result.peak_mb:.0f} |"
            )
    lines.append("")
    for name, results in all_results.items():
        a, b, c = results["a floor"], results["b naive pandas"], results["c process.py run"]
        lines.append(
            f"- {name}: c/a = {c.seconds / a.seconds:.2f} (target ≤ 1.25); b/c = {b.seconds / c.seconds:.2f} "
            f"(target ≥ 3.5); memory c/b = {c.peak_mb / b.peak_mb:.2f} (target ≤ 0.5); "
            f"validate one file {results['validate one file'].seconds:.2f} s (target < 1 s)"
        )
    if {"W1", "W10"} <= all_results.keys():
        ratio = all_results["W10"]["c process.py run"].seconds / all_results["W1"]["c process.py run"].seconds
        lines.append(
            f"- W10/W1 time for `run` = {ratio:.1f} (target ≤ 11); W10 peak "
            f"{all_results['W10']['c process.py run'].peak_mb:.0f} MB (target < 2048)"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(WORKLOADS), action="append")
    parser.add_argument("--scale", type=float, default=1.0, help="share of the files to generate (quick looks)")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    parser.add_argument("--rounds", type=int, help="rounds of every job (default: W1 3, W10 1)")
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="unionbatch-bench-"))
    try:
        all_results = {}
        for name in arguments.only or list(WORKLOADS):
            files, rows = WORKLOADS[name]
            rounds = arguments.rounds or ROUNDS[name]
            all_results[name] = run_workload(name, max(1, int(files * arguments.scale)), rows, work, rounds)
        text = report(all_results, arguments.scale)
        print(text)
        if arguments.scale == 1.0:
            measured = arguments.results.read_text(encoding="utf-8") if arguments.results.exists() else ""
            notes = measured.split("<!-- notes -->", 1)[1] if "<!-- notes -->" in measured else "\n"
            arguments.results.write_text(text + "\n<!-- notes -->" + notes, encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
