"""Read any spreadsheet a unit sends (.xlsx .xlsm .xls .xlsb .ods) into plain grids, via calamine."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import python_calamine as calamine

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
META_SHEET = "_表单信息"


@dataclass(frozen=True)
class SheetData:
    name: str
    rows: list[list[Any]]
    hidden: bool = False


@dataclass(frozen=True)
class Book:
    path: Path
    sheets: list[SheetData]
    meta: dict[str, str] = field(default_factory=dict)

    def form_sheets(self) -> list[SheetData]:
        """Every sheet that may hold a form: all but the template's metadata sheet."""
        return [sheet for sheet in self.sheets if sheet.name != META_SHEET]


class ReadFailure(Exception):
    """The file cannot be read as a spreadsheet: the finding `code` and a Chinese `reason` for it."""

    def __init__(self, reason: str, code: str = "file_unreadable") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


def is_spreadsheet(path: Path) -> bool:
    return path.suffix.lower() in SPREADSHEET_SUFFIXES


def read_book(path: Path) -> Book:
    """All sheets as grids anchored at A1 (row 0 is Excel row 1), plus the hidden form metadata."""
    if path.stat().st_size == 0:
        raise ReadFailure("文件是空的(0 字节)")
    try:
        workbook = calamine.CalamineWorkbook.from_path(str(path))
        sheets = [_read_sheet(workbook, meta) for meta in workbook.sheets_metadata]
    except calamine.PasswordError as error:
        raise ReadFailure("文件设有密码", code="file_encrypted") from error
    except (calamine.CalamineError, calamine.ZipError, calamine.XmlError, ValueError, OSError) as error:
        raise ReadFailure(f"文件已损坏或不是有效的表格文件({type(error).__name__})") from error
    if not sheets:
        raise ReadFailure("工作簿中没有任何工作表")
    return Book(path=path, sheets=sheets, meta=_read_meta(sheets))


def _read_sheet(workbook: calamine.CalamineWorkbook, meta: calamine.SheetMetadata) -> SheetData:
    sheet = workbook.get_sheet_by_name(meta.name)
    rows = sheet.to_python(skip_empty_area=False)
    hidden = meta.visible != calamine.SheetVisibleEnum.Visible
    return SheetData(name=meta.name, rows=rows, hidden=hidden)


def _read_meta(sheets: list[SheetData]) -> dict[str, str]:
    """Key/value pairs from the template's hidden sheet (kind, version), if the file has one."""
    for sheet in sheets:
        if sheet.name == META_SHEET:
            return {str(row[0]): str(row[1]) for row in sheet.rows if len(row) >= 2 and row[0] != ""}
    return {}
