"""One file cannot block the others (issue 13, case 7): files that make the reader allocate absurd amounts, panic,
abort or hang get a finding each, and the batch and later runs go on."""

from __future__ import annotations

import io
import os
import random
import signal
import struct
import time
import zipfile
from pathlib import Path

from openpyxl import load_workbook

from tests.conftest import CORPUS, SAMPLES, policy_without_register
from tests.factory import fill_template, make_people
from unionbatch.annotate import annotate_copy
from unionbatch.isolate import Lost, WorkerPool
from unionbatch.ledger import Ledger
from unionbatch.pipeline import LEDGER, check_all, check_file, check_files, run_batch, worker_pool

PEOPLE = make_people(4, seed=1313)
RK = b"\x7e\x02\x0a\x00"  # an RK cell record (type 0x027E, 10 bytes): row, column, format, value


def good_list(folder: Path, name: str = "名单.xlsx") -> Path:
    return fill_template(folder / name, "甲工会", PEOPLE)


def with_sheet_xml(source: Path, target: Path, edit) -> Path:
    """A copy of an .xlsx with its first sheet's XML (and sharedStrings, if given) rewritten by `edit`."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for item in original.infolist():
            copy.writestr(item, edit(item.filename, original.read(item)))
    return target


def far_cell(cell: bytes) -> callable:
    def edit(name: str, data: bytes) -> bytes:
        return data.replace(b"</sheetData>", cell + b"</sheetData>") if name == "xl/worksheets/sheet1.xml" else data

    return edit


def xls_with_cell_at(folder: Path, name: str, row: int, column: int) -> Path:
    """A real .xls (SheetJS's RkNumber.xls) whose first number cell is moved to (row, column), 0-based: calamine
    allocates every cell from A1 to it."""
    data = bytearray((CORPUS / "RkNumber.xls").read_bytes())
    record = data.find(RK)
    data[record + 4 : record + 8] = struct.pack("<HH", row, column)
    path = folder / name
    path.write_bytes(data)
    return path


def codes_and_messages(results) -> dict[str, tuple[str, str]]:
    return {result.path.name: (result.findings[0].code, result.findings[0].message) for result in results}


def test_a_cell_at_xfd1048576_is_refused_before_it_is_read(tmp_path: Path, specs, policy) -> None:
    source = good_list(tmp_path)
    hostile = with_sheet_xml(
        source, tmp_path / "远格.xlsx", far_cell(b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    )
    assert hostile.stat().st_size < 12_000
    lower = with_sheet_xml(
        source, tmp_path / "小写.xlsx", far_cell(b'<row r="300000"><c s="0" r="a300000"><v>1</v></c></row>')
    )
    styled = with_sheet_xml(
        source, tmp_path / "格式.xlsx", far_cell(b'<row r="1048576"><c r="XFD1048576" s="1"/></row>')
    )
    results = codes_and_messages(check_files([hostile, lower], specs, policy))
    code, message = results["远格.xlsx"]
    assert (
        code == "too_large"
        and "单元格 XFD1048576 中有内容(第 1048576 行、第 16384 列),超过上限 20000 行、200 列" in message
    )
    assert results["小写.xlsx"][1].startswith("文件超过处理上限:单元格 A300000 中有内容(第 300000 行、第 1 列)")
    [result] = check_files([styled], specs, policy)  # formatting alone far out places no cell: read as usual
    assert result.accepted


def test_an_absurd_shared_string_count_is_refused_before_it_is_read(tmp_path: Path, specs, policy) -> None:
    def huge_count(name: str, data: bytes) -> bytes:
        if name != "xl/sharedStrings.xml":
            return data
        return data.replace(b'uniqueCount="', b'uniqueCount="4294967295" x="', 1)

    source = SAMPLES / "inbox" / "园区工会送温暖名单.xlsx"  # saved with a shared-string table, as Excel does
    with zipfile.ZipFile(source) as archive:
        assert b"uniqueCount=" in archive.read("xl/sharedStrings.xml")
    hostile = with_sheet_xml(source, tmp_path / "计数.xlsx", huge_count)
    [result] = check_files([hostile], specs, policy)
    assert [(f.code, f.message.split("。")[0]) for f in result.findings] == [
        (
            "file_unreadable",
            "文件无法读取:文件内容与其声明不符(共享字符串表声明有 4294967295 项),文件可能已损坏或被改动",
        )
    ]


def test_a_file_that_kills_its_worker_costs_only_itself_and_later_runs_go_on(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    xls_with_cell_at(inbox, "崩溃.xls", 65535, 65535)  # 137 GB: the allocation fails and the worker aborts
    good_list(inbox, "甲.xlsx")
    fill_template(inbox / "乙.xlsx", "乙工会", make_people(3, seed=1314))
    started = time.monotonic()
    report = run_batch(inbox, out, "2026-05", policy_without_register(tmp_path / "p"))
    assert time.monotonic() - started < 60
    statuses = {result.path.name: result.status for result in report.files}
    assert statuses == {"崩溃.xls": "rejected", "甲.xlsx": "accepted", "乙.xlsx": "accepted"}
    [crashed] = [result for result in report.files if result.path.name == "崩溃.xls"]
    assert crashed.findings[0].code == "too_large" and "读取所需内存超过上限 2048 MB" in crashed.findings[0].message
    assert report.totals["慰问名单"]["files"] == 2
    (inbox / "丙.xlsx").write_bytes(b"")  # something new arrives: the next run checks the archived crasher again
    again = run_batch(inbox, out, "2026-05", policy_without_register(tmp_path / "p"))
    assert sorted(result.status for result in again.files) == ["accepted", "accepted", "rejected", "rejected"]
    ledger = Ledger(out / LEDGER)
    try:
        assert ledger.by_hash(crashed.sha256).status == "rejected"
    finally:
        ledger.close()


def test_the_memory_cap_is_real(tmp_path: Path, specs, policy) -> None:
    """65536 × 256 cells: calamine asks for 512 MB. Under a 256 MB cap the worker aborts and the file gets the cap's
    finding; under the default cap it is read, and refused by the row limit."""
    path = xls_with_cell_at(tmp_path, "宽表.xls", 65535, 255)
    with worker_pool(specs, policy, memory_mb=256) as pool:
        [capped] = check_all([(path, None)], specs, policy, pool)
    assert capped.findings[0].code == "too_large"
    assert "读取所需内存超过上限 256 MB" in capped.findings[0].message
    [read] = check_files([path], specs, policy)
    assert (
        read.findings[0].code == "too_large"
        and "有 65536 行、256 列,超过上限 20000 行、200 列" in read.findings[0].message
    )


def test_a_file_over_the_time_limit_is_stopped_and_the_others_are_checked(tmp_path: Path, specs, policy) -> None:
    good = good_list(tmp_path)
    with worker_pool(specs, policy, seconds=0.001) as pool:
        [slow] = check_all([(good, None)], specs, policy, pool)
    assert slow.findings[0].code == "too_large" and "处理时间超过 0 秒,已停止处理" in slow.findings[0].message
    started = time.monotonic()
    pool = WorkerPool(2, seconds=1)
    try:
        assert pool.run(time.sleep, [(30,), (0,), (0,)]) == [Lost(timed_out=True, signal=signal.SIGKILL), None, None]
    finally:
        pool.close()
    assert time.monotonic() - started < 10


def die_the_first_time(marker: Path) -> str:
    if not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer does
    return "done"


def test_a_worker_killed_once_is_retried_alone_and_twice_is_given_up(tmp_path: Path) -> None:
    pool = WorkerPool(2)
    try:
        outcomes = pool.run(die_the_first_time, [(tmp_path / "a",), (tmp_path / "b",)])
        assert outcomes == ["done", "done"]
        assert pool.run(os.abort, [(), ()]) == [Lost(timed_out=False, signal=signal.SIGABRT, exit_code=-6)] * 2
        assert pool.run(abs, [(-3,)]) == [3]  # the pool goes on after its workers died
    finally:
        pool.close()


PREPARED = "UNIONBATCH_TEST_PREPARED"


def mark_prepared() -> None:
    os.environ[PREPARED] = str(os.getpid())


def prepared_here() -> bool:
    return os.environ.get(PREPARED) == str(os.getpid())


def test_a_worker_opened_early_prepares_before_its_first_job_and_one_started_for_a_job_does_not() -> None:
    pool = WorkerPool(2, prepare=mark_prepared)
    try:
        pool.open(1)
        assert sorted(pool.run(prepared_here, [(), ()])) == [False, True]  # the second job started the other
    finally:
        pool.close()
    assert PREPARED not in os.environ


LATER = "UNIONBATCH_TEST_PREPARED_LATER"


def prepare_slowly() -> None:
    time.sleep(0.3)  # the first job is waiting by the time this is done
    mark_prepared()


def mark_later() -> None:
    os.environ[LATER] = str(os.getpid())


def steps_taken() -> tuple[bool, bool]:
    return prepared_here(), os.environ.get(LATER) == str(os.getpid())


def test_a_workers_later_preparation_waits_while_a_job_is_waiting_and_is_taken_when_it_is_idle() -> None:
    """The annotated copies' imports (the later step) never delay a new file's check (the first job)."""
    pool = WorkerPool(1, prepare=(prepare_slowly, mark_later))
    try:
        pool.open(1)
        assert pool.run(steps_taken, [()]) == [(True, False)]
        time.sleep(0.5)  # idle: the later step is taken now
        assert pool.run(steps_taken, [()]) == [(True, True)]
    finally:
        pool.close()
    assert LATER not in os.environ


def test_a_worker_still_preparing_for_nothing_is_not_waited_for_at_close() -> None:
    """A run with nothing to check closes its pool at once: the worker it opened is stopped, mid-preparation."""
    pool = WorkerPool(1, prepare=lambda: time.sleep(60))
    pool.open(1)
    started = time.monotonic()
    pool.close()
    assert time.monotonic() - started < 4  # a worker told to leave would be waited for 5 s, then killed


def corrupted_xls(folder: Path, count: int, seed: int) -> list[Path]:
    """Real .xls files (a 慰问名单 saved by LibreOffice, two SheetJS files) with random bytes overwritten."""
    bases = [
        SAMPLES / "inbox" / "教育系统工会慰问名单.xls",
        CORPUS / "number_format.xls",
        CORPUS / "formulae_test_simple.xls",
    ]
    originals = [base.read_bytes() for base in bases]
    rng = random.Random(seed)
    paths = []
    for number in range(count):
        data = bytearray(originals[number % len(originals)])
        for _ in range(rng.randint(1, 30)):
            data[rng.randrange(512, len(data))] = rng.randrange(256)
        path = folder / f"损坏{number:03}.xls"
        path.write_bytes(data)
        paths.append(path)
    return paths


def test_a_hundred_corrupted_xls_files_each_get_a_verdict_and_the_batch_finishes(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    corrupted_xls(inbox, 100, seed=13)
    good_list(inbox, "完好.xlsx")
    report = run_batch(inbox, out, "2026-05", policy_without_register(tmp_path / "p"))
    assert len(report.files) == 101
    assert all(result.findings or result.accepted for result in report.files)
    [good] = [result for result in report.files if result.path.name == "完好.xlsx"]
    assert good.accepted
    messages = [finding.message for result in report.files for finding in result.findings]
    assert any("文件已损坏,读取程序无法解析其中的数据" in message for message in messages)  # a pyo3 PanicException
    assert any("读取所需内存超过上限" in message for message in messages)  # a worker that aborted
    assert not any(finding.code == "processing_failed" for result in report.files for finding in result.findings)
    assert (out / "2026-05" / "处理报告.xlsx").exists() and not list(inbox.iterdir())


def panics(path: Path) -> bool:
    """Whether calamine panics reading `path` (run in a worker: some corrupted files abort the process instead)."""
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        for name in workbook.sheet_names:
            workbook.get_sheet_by_name(name).to_python()
    except BaseException as error:  # noqa: BLE001  # looking for the panic, which is no Exception
        return type(error).__name__ == "PanicException"
    return False


def test_a_rust_panic_is_a_finding_even_outside_a_worker(tmp_path: Path, specs, policy) -> None:
    """pyo3's PanicException derives from BaseException: the per-file guard catches it all the same."""
    paths = corrupted_xls(tmp_path, 100, seed=13)
    pool = WorkerPool(2)
    try:
        panicking = [
            path
            for path, panicked in zip(paths, pool.run(panics, [(path,) for path in paths]), strict=True)
            if panicked is True
        ]
    finally:
        pool.close()
    assert panicking
    result = check_file(panicking[0], specs, policy)
    assert [f.code for f in result.findings] == ["file_unreadable"]
    assert "文件已损坏,读取程序无法解析其中的数据" in result.findings[0].message


def test_an_xls_holding_a_zip_end_record_is_left_to_the_reader(tmp_path: Path, specs, policy) -> None:
    """zipfile.is_zipfile looks for an end record anywhere near the end: random bytes can hold one."""
    whole = io.BytesIO()
    with zipfile.ZipFile(whole, "w") as archive:
        archive.writestr("x", "x")
    path = tmp_path / "假压缩.xls"
    path.write_bytes((CORPUS / "RkNumber.xls").read_bytes() + whole.getvalue()[-22:])
    assert zipfile.is_zipfile(path)
    [result] = check_files([path], specs, policy)
    assert result.findings[0].code in ("not_a_form", "file_unreadable")
    copy = annotate_copy(path, result.findings, tmp_path / "批注.xlsx")  # rebuilt from values, not opened as a zip
    assert copy is not None and load_workbook(copy.path).sheetnames[0] == "错误清单"
