"""The run's report: every file's findings and status. Console lines, report.json and 处理报告.xlsx
are renderings of this one object; personal data is masked in all of them.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import os
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .compute import OutColumn, OutSheet
from .findings import ERROR, WARNING, Finding, mask_text

if TYPE_CHECKING:
    from .crosscheck import Reconciliation
    from .ledger import MailOrigin
    from .normalise import ParsedSheet
    from .versions import Changes

ACCEPTED = "accepted"
ACCEPTED_WITH_WARNINGS = "accepted_with_warnings"
REJECTED = "rejected"
STATUS_TEXT = {ACCEPTED: "已受理", ACCEPTED_WITH_WARNINGS: "已受理(有警告)", REJECTED: "退回修改"}
SEVERITY_TEXT = {ERROR: "错误", WARNING: "警告"}


@dataclass
class FileResult:
    path: Path
    received: dt.datetime = dt.datetime.min  # when the file arrived (its modification time in the inbox)
    kind: str | None = None
    unit: str | None = None
    findings: list[Finding] = field(default_factory=list)
    parsed: ParsedSheet | None = None
    annotated: Path | None = None
    replaced_by: str | None = None  # a newer file of the same unit and form
    changes: Changes | None = None  # what this file changed against the version it replaces
    source: Path | None = None  # where the bytes are read from, when not yet at `path` (the inbox)
    sha256: str | None = None
    origin: MailOrigin | None = None  # the email it came in, if any

    @property
    def arrived(self) -> dt.datetime:
        """When the file arrived: its email's Date if it came by email, else when it reached the inbox.

        The Date is taken at the sender's own clock (its UTC offset kept, not converted to the server's zone):
        units and office share a time zone, and a deadline such as 17:00 is meant on that clock."""
        if self.origin is not None and self.origin.date:
            try:
                return email.utils.parsedate_to_datetime(self.origin.date).replace(tzinfo=None)
            except (TypeError, ValueError):
                return self.received
        return self.received

    @property
    def readable(self) -> Path:
        return self.source or self.path

    @property
    def current(self) -> bool:
        """Counted in this period's totals: accepted and not replaced by a newer version."""
        return self.accepted and self.replaced_by is None

    @property
    def errors(self) -> int:
        return sum(finding.severity == ERROR for finding in self.findings)

    @property
    def warnings(self) -> int:
        return sum(finding.severity == WARNING for finding in self.findings)

    @property
    def status(self) -> str:
        if self.errors:
            return REJECTED
        return ACCEPTED_WITH_WARNINGS if self.warnings else ACCEPTED

    @property
    def accepted(self) -> bool:
        return self.status != REJECTED

    @property
    def rows(self) -> int:
        return 0 if self.parsed is None else self.parsed.row_count


@dataclass(frozen=True)
class MissingUnit:
    name: str
    status: str  # 未报送 | 被退回待重报
    deadline: dt.date | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "deadline": self.deadline and self.deadline.isoformat()}


@dataclass
class Report:
    period: str
    folder: Path
    files: list[FileResult]
    totals: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: dict[str, list[MissingUnit]] = field(default_factory=dict)
    outputs: list[Path] = field(default_factory=list)
    reconciliations: list[Reconciliation] = field(default_factory=list)
    repeats: list[tuple[str, str]] = field(default_factory=list)  # (file, the earlier identical file)
    arriving: list[str] = field(default_factory=list)  # still being copied: left for the next run
    mail_sent: int = 0
    mail_failed: int = 0
    mail_error: str | None = None

    @property
    def exit_code(self) -> int:
        """2 when a file hit a processor bug (the office must look), 1 when files were sent back, else 0."""
        if any(finding.code == "processing_failed" for result in self.files for finding in result.findings):
            return 2
        return 1 if any(not result.accepted for result in self.files) else 0

    def to_json(self, full_ids: bool = False) -> dict[str, Any]:
        return {
            "period": self.period,
            "files": [
                {
                    "path": _relative(result.path, self.folder)
                    if result.path.is_relative_to(self.folder)
                    else str(result.path),
                    "kind": result.kind,
                    "unit": result.unit,
                    "status": result.status,
                    "rows": result.rows,
                    "annotated": _relative(result.annotated, self.folder),
                    "received": result.received.isoformat(timespec="seconds"),
                    "arrived": result.arrived.isoformat(timespec="seconds"),
                    "replaced_by": result.replaced_by,
                    "replaces": _changes_json(result.changes, full_ids),
                    "findings": [finding.to_dict(full_ids) for finding in result.findings],
                }
                for result in self.files
            ],
            "totals": self.totals,
            "missing": {kind: [unit.to_json() for unit in units] for kind, units in self.missing.items()},
            "repeats": [{"path": name, "same_as": same} for name, same in self.repeats],
            "arriving": self.arriving,
            "reconciliation": [
                {**vars(row), "stated": str(row.stated), "other": None if row.other is None else str(row.other)}
                for row in self.reconciliations
            ],
        }


def _changes_json(changes: Changes | None, full_ids: bool) -> dict[str, Any] | None:
    if changes is None:
        return None
    show = (lambda text: text) if full_ids else mask_text
    return {
        "file": changes.previous_file,
        "added": changes.count("新增"),
        "removed": changes.count("删除"),
        "changed": changes.count("修改"),
        "items": [{**vars(item), "subject": show(item.subject)} for item in changes.items],
    }


def unit_key(name: str) -> str:
    """Unit names compare without spaces and with full-width characters folded."""
    return "".join(unicodedata.normalize("NFKC", name).split())


def _relative(path: Path | None, folder: Path) -> str | None:
    return None if path is None else os.path.relpath(path, folder)


def write_json(path: Path, data: dict[str, Any]) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    temporary.replace(path)


def status_text(result: FileResult) -> str:
    if result.replaced_by:
        return f"{STATUS_TEXT[result.status]},已被新版替换"
    return STATUS_TEXT[result.status]


def note_text(result: FileResult) -> str:
    """What a file replaced or was replaced by, in one phrase."""
    if result.replaced_by:
        return f"已被 {result.replaced_by} 替换,不计入汇总"
    if result.changes:
        c = result.changes
        return f"替换 {c.previous_file}:新增 {c.count('新增')} 行,删除 {c.count('删除')} 行,修改 {c.count('修改')} 处"
    return ""


def append_log(path: Path, report: Report) -> None:
    """One masked line per file in OUT/run.log: when, period, status, unit, file, counts."""
    stamp = dt.datetime.now().isoformat(timespec="seconds")
    lines = [
        mask_text(
            f"{stamp} {report.period} {result.status} {result.unit or '-'} {result.path.name} "
            f"rows={result.rows} errors={result.errors} warnings={result.warnings}"
        )
        for result in report.files
    ]
    with path.open("a", encoding="utf-8") as log:
        log.writelines(f"{line}\n" for line in lines)


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
            lines.append(mask_text(f"{result.path.name} {place} [{level} {finding.code}] {finding.message}"))
    return lines


def summary_lines(report: Report) -> list[str]:
    """The console summary of a run (masked)."""
    lines = [f"期间 {report.period}:共 {len(report.files)} 个文件"]
    for result in report.files:
        counts = f"{result.rows} 行,{result.errors} 个错误,{result.warnings} 个警告"
        note = f"  {note_text(result)}" if note_text(result) else ""
        lines.append(f"  {status_text(result)}  {result.unit or '未知单位'}  {result.path.name}  ({counts}){note}")
    lines += [f"  已处理过  {name}  (与 {same} 内容相同,未重复计入)" for name, same in report.repeats]
    lines += [f"  稍后处理  {name}  (文件仍在复制中)" for name in report.arriving]
    for kind, totals in report.totals.items():
        lines.append(f"{kind}:{totals['summary']}")
    for kind, units in report.missing.items():
        if units:
            lines.append(f"{kind} 未报送/待重报:" + "、".join(f"{unit.name}({unit.status})" for unit in units))
    if report.mail_sent or report.mail_failed:
        lines.append(f"回信:已发送 {report.mail_sent} 封,失败 {report.mail_failed} 封(失败的下次运行时重试)")
    if report.mail_error:
        lines.append(f"回信未发送(下次运行时重试):{report.mail_error}")
    lines.append(f"输出:{report.folder}")
    return lines


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
        title=f"{report.period} 未报送或被退回的单位",
    )


def form_report_sheets(report: Report, kinds: Sequence[str]) -> list[OutSheet]:
    """Sheets the engine adds to a consolidated workbook for its forms: reconciliation, resubmissions, 未报送."""
    sheets = []
    checks = [row for row in report.reconciliations if row.kind in kinds]
    if checks:
        sheets.append(
            OutSheet(
                "与名单核对",
                [
                    OutColumn("单位", "text", 22),
                    OutColumn("项目", "text", 20),
                    OutColumn("统计表", "money", 14),
                    OutColumn("名单", "money", 14),
                    OutColumn("差额", "money", 14),
                    OutColumn("结果", "text", 12),
                ],
                [
                    [
                        row.unit,
                        row.label,
                        row.stated,
                        row.other,
                        None if row.other is None else row.stated - row.other,
                        row.status,
                    ]
                    for row in checks
                ],
                title="统计表与慰问名单核对",
            )
        )
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


def report_sheets(report: Report) -> list[OutSheet]:
    """The office's 处理报告: files, findings, units not reported."""
    files = OutSheet(
        "文件",
        [
            OutColumn("单位", "text", 24),
            OutColumn("表单", "text", 10),
            OutColumn("文件", "text", 36),
            OutColumn("状态", "text", 14),
            OutColumn("行数", "int", 8, True),
            OutColumn("错误数", "int", 8, True),
            OutColumn("警告数", "int", 8, True),
            OutColumn("批注文件", "text", 40),
        ],
        [
            [
                result.unit or "",
                result.kind or "未识别",
                result.path.name,
                STATUS_TEXT[result.status],
                result.rows,
                result.errors,
                result.warnings,
                _relative(result.annotated, report.folder) or "",
            ]
            for result in report.files
        ],
        title=f"{report.period} 处理报告",
        total_label="合计",
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
            OutColumn("代码", "text", 18),
            OutColumn("问题", "text", 50),
            OutColumn("修改方法", "text", 50),
        ],
        [
            [
                result.path.name,
                finding.sheet or "",
                finding.cell or "整个文件",
                finding.field or "",
                mask_text(finding.value or ""),
                SEVERITY_TEXT[finding.severity],
                finding.code,
                mask_text(finding.problem),
                mask_text(finding.fix),
            ]
            for result in report.files
            for finding in result.findings
        ],
        title="全部问题",
        landscape=True,
    )
    return [files, findings, missing_sheet(report, list(report.missing))]
