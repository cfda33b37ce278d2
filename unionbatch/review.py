"""Sheets for the office built from the report's findings: a form's `finding_list` (the 慰问名单's 建档核对)."""

from __future__ import annotations

from .records import OutColumn, OutSheet, Report
from .report import SEVERITY_TEXT, STATUS_TEXT
from .spec import FormSpec, Reference


def finding_list_sheet(report: Report, spec: FormSpec, reference: Reference | None) -> OutSheet | None:
    """Every finding of the spec's listed codes in the period's files of the form that are not replaced by a newer
    version, file by file in reading order; None when the form lists none."""
    listing = spec.finding_list
    if listing is None:
        return None
    codes = set(listing.codes)
    rows = [
        [
            result.unit or "",
            result.path.name,
            STATUS_TEXT[result.outcome],
            finding.sheet or "",
            finding.cell or "",
            SEVERITY_TEXT[finding.severity],
            finding.value,
            finding.problem,
        ]
        for result in report.files
        if result.kind == spec.kind and not result.replaced_by
        for finding in result.findings
        if finding.code in codes
    ]
    if not rows and reference is None:  # nothing was checked against: the sheet would only be noise
        return None
    notes = [] if reference is None else [reference_note(reference)]
    if not rows:
        notes.append("本期各文件没有与档案不符的行。")
    return OutSheet(
        listing.sheet,
        [
            OutColumn("单位", "text", 20),
            OutColumn("文件", "text", 28),
            OutColumn("文件结果", "text", 14),
            OutColumn("工作表", "text", 12),
            OutColumn("单元格", "text", 8),
            OutColumn("级别", "text", 6),
            OutColumn("填写内容", "text", 21),
            OutColumn("问题", "text", 60),
        ],
        rows,
        title=listing.title,
        notes=notes,
        landscape=True,
    )


def reference_note(reference: Reference) -> str:
    return f"核对依据:{reference.label} {reference.path.name}(SHA-256 {reference.sha256[:16]}…,{reference.entries} 户)"


def reference_of(policy: object) -> Reference | None:
    """The reference file a form's policy object holds, if it has one (see spec.Reference)."""
    reference = getattr(policy, "reference", None)
    return reference if isinstance(reference, Reference) else None
