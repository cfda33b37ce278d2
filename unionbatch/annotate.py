"""The sender's own workbook, returned with every problem marked (openpyxl).

Bad cells are filled red (warnings yellow) and carry a comment with the message; a first sheet
错误清单 lists every finding. The original file is never touched: we load it and save a copy. Files
openpyxl cannot open (.xls, .ods, .xlsb) are rebuilt from the values we read, cell for cell. Macros
are never carried into the copy.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from .findings import ERROR, Finding
from .read import META_SHEET, ReadFailure, read_book

log = logging.getLogger(__name__)

FILLS = {
    ERROR: PatternFill("solid", start_color="FFC7CE", end_color="FFC7CE"),
    "warning": PatternFill("solid", start_color="FFEB9C", end_color="FFEB9C"),
}
LIST_SHEET = "错误清单"
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")
LIST_HEADERS = ("位置", "字段", "填写内容", "级别", "问题", "修改方法")
LIST_WIDTHS = (14, 16, 22, 8, 60, 60)
AUTHOR = "工会表格处理"


def annotate_copy(readable: Path, findings: list[Finding], target: Path) -> Path | None:
    """Write the copy of `readable` with `findings` marked to `target`; None when it cannot be opened at all.

    A file we cannot annotate still has its findings in the report and the email; it never stops the run.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's notes on extensions it drops
            workbook = _open_copy(readable)
    except Exception:
        log.exception("cannot open %s for annotation", readable.name)
        return None
    if workbook is None:
        return None
    _mark_cells(workbook, findings)
    _add_list_sheet(workbook, findings)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.stem}.tmp.xlsx")
    workbook.save(temporary)
    temporary.replace(target)
    return target


def _open_copy(path: Path) -> Workbook | None:
    """The sender's workbook with its formatting if openpyxl can read it, else rebuilt from values."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            return load_workbook(path, keep_vba=False, rich_text=False)
        except Exception:  # noqa: BLE001 - openpyxl raises many kinds on odd files; fall back to the values
            pass
    try:
        book = read_book(path)
    except (ReadFailure, OSError):
        return None
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in book.sheets:
        if sheet.name == META_SHEET:
            continue
        worksheet = workbook.create_sheet(sheet_title(sheet.name))
        for cells in sheet.rows:
            worksheet.append([_cell_value(value) for value in cells])
            _keep_text(worksheet[worksheet.max_row])
    return workbook


def _cell_value(value: Any) -> Any:
    if value == "":
        return None
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _keep_text(cells: Any) -> None:
    """openpyxl takes a string starting with '=' for a formula; a sender's text stays text."""
    for cell in cells:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def sheet_title(name: str) -> str:
    """A sheet name .xlsx accepts (an .ods sheet may hold []:*?/\\ or run past 31 characters)."""
    return _BAD_TITLE.sub("_", name)[:31] or "Sheet"


def _mark_cells(workbook: Workbook, findings: list[Finding]) -> None:
    by_cell: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding in findings:
        sheet = finding.sheet if finding.sheet in workbook.sheetnames else sheet_title(finding.sheet or "")
        if finding.cell and sheet in workbook.sheetnames:
            by_cell[(sheet, finding.cell)].append(finding)
    for (sheet, cell), cell_findings in by_cell.items():
        target = workbook[sheet][cell]
        worst = ERROR if any(f.severity == ERROR for f in cell_findings) else "warning"
        target.fill = FILLS[worst]
        text = "\n".join(f"{f.problem}。{f.fix}。" for f in cell_findings)
        target.comment = Comment(text, AUTHOR, width=320, height=40 + 40 * len(cell_findings))


def _add_list_sheet(workbook: Workbook, findings: list[Finding]) -> None:
    if LIST_SHEET in workbook.sheetnames:
        del workbook[LIST_SHEET]
    sheet: Worksheet = workbook.create_sheet(LIST_SHEET, 0)
    sheet.append(LIST_HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for finding in findings:
        place = f"{finding.sheet}!{finding.cell}" if finding.cell else "整个文件"
        level = "错误" if finding.severity == ERROR else "警告"
        sheet.append([place, finding.field or "", finding.value or "", level, finding.problem, finding.fix])
        _keep_text(sheet[sheet.max_row])
        for cell in sheet[sheet.max_row]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.cell(sheet.max_row, 4).fill = FILLS[finding.severity]
    for index, width in enumerate(LIST_WIDTHS, start=1):
        sheet.column_dimensions[chr(64 + index)].width = width
    sheet.freeze_panes = "A2"
    workbook.active = 0
    for worksheet in workbook.worksheets:
        worksheet.sheet_view.tabSelected = worksheet is sheet
