"""The run's report: every file's findings and status. Console lines, report.json and 处理报告.xlsx
are renderings of this one object; personal data is masked in all of them.
"""

from __future__ import annotations

import json
import os
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .compute import OutColumn, OutSheet
from .findings import ERROR, WARNING, Finding, mask_text
from .money import format_yuan

if TYPE_CHECKING:
    from .normalise import ParsedSheet

ACCEPTED = "accepted"
ACCEPTED_WITH_WARNINGS = "accepted_with_warnings"
REJECTED = "rejected"
STATUS_TEXT = {ACCEPTED: "已受理", ACCEPTED_WITH_WARNINGS: "已受理(有警告)", REJECTED: "退回修改"}
SEVERITY_TEXT = {ERROR: "错误", WARNING: "警告"}


@dataclass
class FileResult:
    path: Path
    kind: str | None = None
    unit: str | None = None
    findings: list[Finding] = field(default_factory=list)
    parsed: ParsedSheet | None = None
    annotated: Path | None = None

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
        return 0 if self.parsed is None else len(self.parsed.frame)


@dataclass(frozen=True)
class MissingUnit:
    name: str
    status: str  # 未报送 | 被退回待重报


@dataclass
class Report:
    period: str
    folder: Path
    files: list[FileResult]
    totals: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: dict[str, list[MissingUnit]] = field(default_factory=dict)
    outputs: list[Path] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if any(not result.accepted for result in self.files) else 0

    def to_json(self, full_ids: bool = False) -> dict[str, Any]:
        return {
            "period": self.period,
            "files": [
                {
                    "path": str(result.path),
                    "kind": result.kind,
                    "unit": result.unit,
                    "status": result.status,
                    "rows": result.rows,
                    "annotated": _relative(result.annotated, self.folder),
                    "findings": [finding.to_dict(full_ids) for finding in result.findings],
                }
                for result in self.files
            ],
            "totals": self.totals,
            "missing": {kind: [vars(unit) for unit in units] for kind, units in self.missing.items()},
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
        lines.append(f"  {STATUS_TEXT[result.status]}  {result.unit or '未知单位'}  {result.path.name}  ({counts})")
    for kind, totals in report.totals.items():
        if "total" in totals:
            total = format_yuan(Decimal(totals["total"]))
            lines.append(f"{kind}:{totals.get('households', 0)} 户,合计 {total} 元({totals['total_upper']})")
    for kind, units in report.missing.items():
        if units:
            lines.append(f"{kind} 未报送/待重报:" + "、".join(f"{unit.name}({unit.status})" for unit in units))
    lines.append(f"输出:{report.folder}")
    return lines


def report_sheets(report: Report, kinds: Sequence[str] | None = None, missing_only: bool = False) -> list[OutSheet]:
    """The office's 处理报告 (files, findings, units not reported); with missing_only just the last."""
    missing_rows = [
        [kind, unit.name, unit.status]
        for kind, units in report.missing.items()
        if kinds is None or kind in kinds
        for unit in units
    ]
    missing = OutSheet(
        "未报送",
        [OutColumn("表单", "text", 12), OutColumn("单位", "text", 28), OutColumn("状态", "text", 14)],
        missing_rows,
        title=f"{report.period} 未报送或被退回的单位",
    )
    if missing_only:
        return [missing]
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
    return [files, findings, missing]
