"""Reading an annotated copy's 错误清单 as a person does: by its header row, not by fixed cells."""

from __future__ import annotations

from typing import Any

from openpyxl.worksheet.worksheet import Worksheet

LIST_HEADER = ["位置", "姓名", "字段", "填写内容", "级别", "问题", "修改方法"]


def header_row(sheet: Worksheet) -> int:
    """The 1-based row of the 错误清单's column headers."""
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        if list(row[: len(LIST_HEADER)]) == LIST_HEADER:
            return number
    raise AssertionError("错误清单 has no header row")


def listed(sheet: Worksheet) -> list[dict[str, Any]]:
    """One dict per finding row of a 错误清单, keyed by its headers."""
    first = header_row(sheet) + 1
    return [dict(zip(LIST_HEADER, row, strict=False)) for row in sheet.iter_rows(min_row=first, values_only=True)]
