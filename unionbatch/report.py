"""The run's report: every file's findings and status. Console lines, report.json and 处理报告.xlsx
are renderings of this one object; personal data is masked in all of them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from .atomic import write_atomically
from .compute import period_words
from .findings import ERROR, WARNING, Finding
from .money import format_yuan
from .privacy import console_line, mask_text
from .records import (
    ACCEPTED,
    ACCEPTED_WITH_WARNINGS,
    REJECTED,
    REPLACED,
    FileResult,
    OutColumn,
    OutSheet,
    Reconciliation,
    Report,
    relative_path,
)
from .spec import unit_key

STATUS_TEXT = {
    ACCEPTED: "已受理",
    ACCEPTED_WITH_WARNINGS: "已受理(有警告)",
    REJECTED: "退回修改",
    REPLACED: "已被新版替换",
}
SEVERITY_TEXT = {ERROR: "错误", WARNING: "警告"}


def write_json(path: Path, data: dict[str, Any]) -> None:
    write_atomically(path, json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"))


def status_text(result: FileResult) -> str:
    return STATUS_TEXT[result.outcome]


def note_text(result: FileResult) -> str:
    """What a file replaced or was replaced by, in one phrase."""
    if result.replaced_by:
        return f"已被 {result.replaced_by} 替换,不计入汇总"
    if result.changes:
        c = result.changes
        return f"替换 {c.previous_file}:新增 {c.count('新增')} 行,删除 {c.count('删除')} 行,修改 {c.count('修改')} 处"
    return ""


def append_log(path: Path, report: Report) -> None:
    """One masked line per file in OUT/run.log: when, period, status, unit, file, counts (control characters
    dropped: a name cannot split a line or send escapes to whoever reads the log in a terminal)."""
    stamp = dt.datetime.now().isoformat(timespec="seconds")
    lines = [
        console_line(
            f"{stamp} {report.period} {status_text(result)} {result.unit or '未知单位'} {result.path.name} "
            f"{result.rows} 行 {result.errors} 个错误 {result.warnings} 个警告"
        )
        for result in report.files
    ]
    lines += [console_line(f"{stamp} {report.period} 未处理 {name} ({reason})") for name, reason in report.refused]
    lines += [console_line(f"{stamp} {report.period} {notice}") for notice in report.notices]
    with path.open("a", encoding="utf-8") as log:
        log.writelines(f"{line}\n" for line in lines)


def append_lines(path: Path, lines: Sequence[str]) -> None:
    """Lines into OUT/run.log, each stamped, masked and cleaned."""
    if not lines:
        return
    stamp = dt.datetime.now().isoformat(timespec="seconds")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as log:
        log.writelines(f"{console_line(f'{stamp} {line}')}\n" for line in lines)


def append_traceback(path: Path, text: str) -> None:
    """A processor bug in OUT/run.log: a line saying when, then its traceback, masked."""
    stamp = dt.datetime.now().isoformat(timespec="seconds")
    lines = [f"{stamp} 程序内部出错,本次处理未完成:", *(mask_text(line) for line in text.rstrip().splitlines())]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as log:
        log.writelines(f"{line}\n" for line in lines)


def finding_lines(results: Sequence[FileResult]) -> list[str]:
    """One masked line per finding: file, sheet!cell, level, code, message."""
    lines = []
    for result in results:
        for finding in result.findings:
            place = f"{finding.sheet}!{finding.cell}" if finding.cell else "整个文件"
            level = SEVERITY_TEXT[finding.severity]
            lines.append(console_line(f"{result.path.name} {place} [{level} {finding.code}] {finding.message}"))
    return lines


def summary_lines(report: Report) -> list[str]:
    """The console summary of a run (masked, control characters dropped)."""
    lines = [f"期间 {report.period}:共 {len(report.files)} 个文件"]
    for result in report.files:
        counts = f"{result.rows} 行,{result.errors} 个错误,{result.warnings} 个警告"
        note = f"  {note_text(result)}" if note_text(result) else ""
        lines.append(f"  {status_text(result)}  {result.unit or '未知单位'}  {result.path.name}  ({counts}){note}")
    lines += [f"  已处理过  {name}  (与 {same} 内容相同,未重复计入)" for name, same in report.repeats]
    lines += [f"  稍后处理  {name}  (文件仍在复制中)" for name in report.arriving]
    lines += [f"  未处理    {name}  ({reason})" for name, reason in report.refused]
    received = {result.kind for result in report.files}
    for kind, totals in report.totals.items():  # a form nobody sent this period: no line of zeros
        lines.append(f"{kind}:{totals['summary']}" if kind in received else f"{kind}:本期没有收到文件")
    for kind, units in report.missing.items():
        if units:
            lines.append(f"{kind} 未报送/待重报:" + "、".join(f"{unit.name}({unit.status})" for unit in units))
    if report.mail_sent or report.mail_failed:
        lines.append(f"回信:已发送 {report.mail_sent} 封,失败 {report.mail_failed} 封(失败的下次运行时重试)")
    if report.mail_error:
        lines.append(f"回信未发送(下次运行时重试):{report.mail_error}")
    lines += report.notices
    if report.deferred:
        lines.append("还有文件正在到达:各单位的批注和回信已生成,汇总表和处理报告在这批文件处理完后更新")
    lines.append(f"输出:{report.folder}")
    return [console_line(line) for line in lines]


def left_out_note(report: Report, kind: str) -> str | None:
    """The units that sent `kind` but none of whose files is counted (all rejected): a roll-up without them says so,
    by name (not by when each file arrived: a late file's run and a run over the same files agree)."""
    sent: dict[str, str] = {}
    counted: set[str] = set()
    for result in report.files:
        if result.kind == kind and result.unit:
            sent.setdefault(unit_key(result.unit), result.unit)
            if result.current:
                counted.add(unit_key(result.unit))
    left_out = [name for key, name in sorted(sent.items()) if key not in counted]
    return f"未计入本表的单位(报送的{kind}被退回修改):{'、'.join(left_out)}。" if left_out else None


def missing_sheet(report: Report, kinds: Sequence[str]) -> OutSheet:
    return OutSheet(
        "未报送",
        [
            OutColumn("表单", "text", 14),
            OutColumn("单位", "text", 28),
            OutColumn("状态", "text", 14),
            OutColumn("截止日期", "text", 12),
        ],
        [
            [kind, unit.name, unit.status, unit.deadline.isoformat() if unit.deadline else ""]
            for kind in kinds
            for unit in report.missing.get(kind, [])
        ],
        title=f"{period_words(report.period)}未报送或被退回的单位",
    )


def reconciliation_sheet(checks: Sequence[Reconciliation]) -> OutSheet:
    """与{theirs}核对 (与名单核对): one row per unit, each figure as its form states it, as the other form adds up,
    and the difference; disagreements highlighted; a unit left out of either roll-up says so; the notes reconcile
    the two roll-ups' totals from what the sheet prints. The forms are named as the spec's Reconcile names them."""
    labels = list(dict.fromkeys(row.label for row in checks))
    counts = {row.label: row.is_count for row in checks}
    units: dict[str, list[Reconciliation]] = {}
    for row in checks:
        units.setdefault(row.unit, []).append(row)
    kind, other_kind, ours, theirs = checks[0].kind, checks[0].other_kind, checks[0].ours, checks[0].theirs
    columns = [OutColumn("单位", "text", 20)]
    for label in labels:
        number = "int" if counts[label] else "money"
        name = label.removesuffix("(元)")
        columns += [
            OutColumn(f"{name}·{ours}", number, 12, True),
            OutColumn(f"{name}·{theirs}", number, 12, True),
            OutColumn(f"{name}·差额", number, 10),
        ]
    columns += [OutColumn("结果", "text", 10), OutColumn("说明", "text", 40)]
    rows, marks = [], []
    for unit, found in units.items():
        by_label = {row.label: row for row in found}
        line: list[Any] = [unit]
        for label in labels:
            row = by_label.get(label)
            stated = _shown(row.stated if row and row.counted else None, counts[label])
            other = _shown(row.other if row else None, counts[label])
            shown = row is not None and row.counted and row.stated is not None and row.other is not None
            difference = row.stated - row.other if shown else None  # type: ignore[operator, union-attr]
            line += [stated, other, _shown(difference, counts[label])]
        result, note, mark = _verdict(found, kind, other_kind, ours, theirs)
        rows.append([*line, result, note])
        marks.append(mark)
    notes = [
        f"“{ours}”列只计入本汇总的{ours},“{theirs}”列只计入{other_kind}汇总的{theirs}:两列的合计分别等于两份汇总的数字。",
        *_reconcile_notes(checks, labels, counts, kind, other_kind),
    ]
    return OutSheet(
        f"与{theirs}核对",
        columns,
        rows,
        title=f"{kind}与{other_kind}核对",
        total_label="合计",
        notes=notes,
        marks=marks,
        landscape=True,
    )


def _plain_number(value: Decimal | None, is_count: bool) -> str:
    if value is None:
        return ""
    return f"{int(value)}" if is_count else format_yuan(value)


def _shown(value: Any, is_count: bool) -> Any:
    return int(value) if is_count and value is not None else value


def _verdict(
    found: Sequence[Reconciliation], kind: str, other_kind: str, ours: str, theirs: str
) -> tuple[str, str, str]:
    """(结果, 说明, highlight) of one unit's rows."""
    first = found[0]
    if first.stated is None:
        return first.status, f"未收到{kind},{theirs}已计入{other_kind}汇总", ""
    if not first.counted:
        worst = "不一致" if any(row.status == "不一致" for row in found) else first.status
        stated = "、".join(f"{row.label} {_plain_number(row.stated, row.is_count)}" for row in found)
        return worst, f"{kind}被退回修改,未计入本汇总(表中填报 {stated})", "rejected"
    if first.other_rejected:
        return first.status, f"{other_kind}被退回修改,未计入{other_kind}汇总;本汇总计入了{ours}的数字", "mismatch"
    if first.other_missing:
        return first.status, f"未收到{other_kind}", "mismatch"
    if any(row.status == "不一致" for row in found):
        return "不一致", "", "mismatch"
    return "一致", "", ""


def _reconcile_notes(
    checks: Sequence[Reconciliation], labels: Sequence[str], counts: dict[str, bool], kind: str, other_kind: str
) -> list[str]:
    """Per figure: this roll-up's total and the other's, and the units that make the difference."""
    notes = []
    for label in labels:
        rows = [row for row in checks if row.label == label]
        ours = sum((row.stated for row in rows if row.counted and row.stated is not None), Decimal(0))
        theirs = sum((row.other for row in rows if row.other is not None), Decimal(0))

        def text(number: Decimal | None, is_count: bool = counts[label]) -> str:
            return _plain_number(number, is_count)

        only_ours = [f"{row.unit} {text(row.stated)}" for row in rows if row.counted and row.other is None]
        only_theirs = [f"{row.unit} {text(row.other)}" for row in rows if row.other is not None and not row.counted]
        differing = [
            f"{row.unit} {text(row.stated)} 对 {text(row.other)}"
            for row in rows
            if row.counted and row.other is not None and row.stated != row.other
        ]
        parts = [f"{label}:本汇总 {text(ours)},{other_kind}汇总 {text(theirs)}"]
        if only_ours:
            parts.append(f"只计入本汇总的 {'、'.join(only_ours)}")
        if only_theirs:
            parts.append(f"只计入{other_kind}汇总的 {'、'.join(only_theirs)}")
        if differing:
            parts.append(f"两边数字不同的 {'、'.join(differing)}")
        notes.append(";".join(parts) + "。")
    return notes


def form_report_sheets(report: Report, kinds: Sequence[str]) -> list[OutSheet]:
    """Sheets the engine adds to a consolidated workbook for its forms: reconciliation, resubmissions, 未报送."""
    sheets = []
    checks = [row for row in report.reconciliations if row.kind in kinds]
    if checks:
        sheets.append(reconciliation_sheet(checks))
    changed = [result for result in report.files if result.kind in kinds and result.changes]
    if changed:
        sheets.append(
            OutSheet(
                "重报变更",
                [
                    OutColumn("单位", "text", 20),
                    OutColumn("新文件", "text", 28),
                    OutColumn("原文件", "text", 28),
                    OutColumn("变更", "text", 8),
                    OutColumn("对象", "text", 30),
                    OutColumn("字段", "text", 16),
                    OutColumn("原值", "text", 14),
                    OutColumn("新值", "text", 14),
                ],
                [
                    [
                        r.unit or "",
                        r.path.name,
                        r.changes.previous_file,
                        item.kind,
                        item.subject,
                        item.field,
                        item.old,
                        item.new,
                    ]
                    for r in changed
                    if r.changes
                    for item in r.changes.items
                ],
                title="重报文件与原文件的差异",
                landscape=True,
            )
        )
    return [*sheets, missing_sheet(report, kinds)]


def _mark(result: FileResult) -> str:
    return {REPLACED: "replaced", REJECTED: "rejected"}.get(result.outcome, "")


def code_with_title(finding: Finding) -> str:
    """The 代码 cell of 问题清单: the Chinese title, the code beside it (身份证号校验位不对(id_checksum))."""
    return f"{finding.title}({finding.code})" if finding.title else finding.code


def office_order(results: Sequence[FileResult], rank: Callable[[str], tuple[int, str]] | None) -> list[FileResult]:
    """The files as the office reads them: by unit in the roster's order (`rank`, the policy's roster_rank), units
    off the roster by name, files of no known unit last; a unit's files by name."""
    if rank is None:
        return list(results)

    def key(result: FileResult) -> tuple[bool, tuple[int, str], str]:
        return not result.unit, rank(result.unit or ""), result.path.name

    return sorted(results, key=key)


def report_sheets(report: Report, rank: Callable[[str], tuple[int, str]] | None = None) -> list[OutSheet]:
    """The office's 处理报告: files and findings (in the office's order, see `office_order`), units not reported."""
    ordered = office_order(report.files, rank)
    files = OutSheet(
        "文件",
        [
            OutColumn("单位", "text", 20),
            OutColumn("表单", "text", 16),
            OutColumn("文件", "text", 40, wrap=True),
            OutColumn("状态", "text", 16),
            OutColumn("行数", "int", 8),
            OutColumn("计入汇总行数", "int", 10, True),
            OutColumn("错误数", "int", 8, True),
            OutColumn("警告数", "int", 8, True),
            OutColumn("批注文件", "text", 46, wrap=True),
        ],
        [
            [
                mask_text(result.unit or ""),
                result.kind or "未识别",
                mask_text(result.path.name),
                status_text(result),
                result.rows,
                result.rows if result.current else 0,
                result.errors,
                result.warnings,
                mask_text(relative_path(result.annotated, report.folder) or ""),
            ]
            for result in ordered
        ],
        title=f"{period_words(report.period)}处理报告",
        total_label="合计",
        notes=[
            "“计入汇总行数”只算计入汇总的文件(已受理且未被新版替换);退回修改的文件标红,已被新版替换的文件为灰色,"
            "二者都不计入任何汇总。错误数、警告数的合计与“问题清单”的条数相同。"
        ],
        marks=[_mark(result) for result in ordered],
    )
    findings = OutSheet(
        "问题清单",
        [
            OutColumn("文件", "text", 30),
            OutColumn("工作表", "text", 12),
            OutColumn("位置", "text", 8),
            OutColumn("字段", "text", 14),
            OutColumn("填写内容", "text", 20),
            OutColumn("级别", "text", 6),
            OutColumn("代码", "text", 34),
            OutColumn("问题", "text", 50),
            OutColumn("修改方法", "text", 50),
        ],
        [
            [
                mask_text(result.path.name),
                mask_text(finding.sheet or ""),
                finding.cell or "整个文件",
                mask_text(finding.field or ""),
                mask_text(finding.value or ""),
                SEVERITY_TEXT[finding.severity],
                code_with_title(finding),
                mask_text(finding.problem),
                mask_text(finding.fix),
            ]
            for result in ordered
            for finding in result.findings
        ],
        title="全部问题",
        landscape=True,
    )
    findings.columns = [_wrapped(column) for column in findings.columns]
    return [files, findings, missing_sheet(report, list(report.missing))]


WRAPPED_WIDTHS = {"文件": 22, "填写内容": 16, "问题": 34, "修改方法": 34}  # long texts: wrapped, read whole on paper


def _wrapped(column: OutColumn) -> OutColumn:
    width = WRAPPED_WIDTHS.get(column.header)
    return column if width is None else dataclasses.replace(column, width=width, wrap=True)
