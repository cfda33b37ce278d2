"""Write any list of OutSheets as one workbook with xlsxwriter: titled, print-ready, totals as live
SUM formulas carrying their computed values, optional chart. Written to a temporary name, then renamed.

Text from submissions is always written as text (never a formula, number or link), and every
xlsxwriter return code is checked: -1 / -2 mean data was silently dropped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import os
import unicodedata
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from . import fastrows
from .atomic import replacing
from .compute import MARKS
from .fastrows import MAX_TEXT
from .records import OutSheet
from .segments import SegmentLost, SegmentStore

MAX_ROWS = 1_048_576
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}


class WriteError(Exception):
    """xlsxwriter refused data: a processor bug, never a user's mistake."""


def _ok(code: int | None) -> None:
    if code not in (None, 0):
        raise WriteError(f"xlsxwriter returned {code}")


def write_workbook(
    path: Path,
    sheets: list[OutSheet],
    created: dt.datetime,
    xlsxwriter_version: str = xlsxwriter.__version__,
    segments: SegmentStore | None = None,
    helper: Callable[[], bool] | None = None,
    title: str | None = None,
) -> Path:
    """`xlsxwriter_version` picks how data rows are written: by the fast renderer when it was proven against that
    version (unionbatch/fastrows.py), through xlsxwriter's public API otherwise. With the fast renderer and
    `segments`, the sheets' row blocks are kept there and those kept before spliced in (unionbatch/segments.py);
    `helper` says whether a process is rendering them ahead of this one (`keep_rows_ahead`). `title`: the
    workbook's title property (default: the file's name without its suffix)."""
    named = title or path.stem
    try:
        return _write_workbook(path, sheets, created, xlsxwriter_version, segments, helper, named)
    except SegmentLost as lost:  # a kept segment damaged since it was looked up: every row rendered afresh
        if lost.path is not None:
            lost.path.unlink(missing_ok=True)
        return _write_workbook(path, _fresh(sheets), created, xlsxwriter_version, None, None, named)


def _fresh(sheets: list[OutSheet]) -> list[OutSheet]:
    """The sheets again, their kept blocks' rows to be read from the start (a block's rows are read once)."""
    return [dataclasses.replace(sheet, blocks=None) for sheet in sheets]


def _write_workbook(
    path: Path,
    sheets: list[OutSheet],
    created: dt.datetime,
    xlsxwriter_version: str,
    segments: SegmentStore | None,
    helper: Callable[[], bool] | None,
    title: str,
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fast = fastrows.proven(xlsxwriter_version)
    with replacing(path, path.with_name(f".{path.stem}.tmp.xlsx")) as temporary:
        options = {**WORKBOOK_OPTIONS, "constant_memory": True}
        workbook = (
            fastrows.FastWorkbook(str(temporary), options) if fast else xlsxwriter.Workbook(str(temporary), options)
        )
        workbook.set_properties({"created": created, "author": "工会表格处理", "title": title})
        _write_sheets(workbook, sheets, rows_writer(xlsxwriter_version), segments, helper=helper)
        workbook.close()
    return path


def keep_rows_ahead(
    sheets: list[OutSheet], created: dt.datetime, segments: SegmentStore, stopped: Callable[[], bool] = bool
) -> None:
    """The row blocks `write_workbook(…, segments=segments)` of these sheets will look for, rendered and kept in
    `segments` now, in order, by a process working ahead of the one that will write the workbook, until
    `stopped()`: the same workbook written (the same formats numbered in the same order: the same XML), its
    package thrown away. Nothing without the fast renderer."""
    if not fastrows.proven(xlsxwriter.__version__):
        return
    workbook = fastrows.FastWorkbook(os.devnull, {**WORKBOOK_OPTIONS, "constant_memory": True}, discard=True)
    workbook.set_properties({"created": created, "author": "工会表格处理"})
    _write_sheets(workbook, sheets, fastrows.write_rows, segments, ahead=stopped)
    workbook.close()  # its temporary files removed; nothing written


def _write_sheets(
    workbook: Workbook,
    sheets: list[OutSheet],
    write_rows: RowsWriter,
    segments: SegmentStore | None,
    ahead: Callable[[], bool] | None = None,
    helper: Callable[[], bool] | None = None,
) -> None:
    formats = _formats(workbook)
    if isinstance(workbook, fastrows.FastWorkbook) and segments is not None:
        splicing = fastrows.Splicing(segments, workbook, ahead, helper)
        write_rows = functools.partial(write_rows, splicing=splicing)
    for sheet in sheets:
        _write_sheet(workbook, sheet, formats, write_rows)


def _formats(workbook: Workbook) -> dict[str, Any]:
    base = {"font_name": "宋体", "font_size": 11, "border": 1, "valign": "vcenter"}
    formats = _cell_formats(workbook, base)
    return formats | {
        f"{name}:wrap": workbook.add_format({**look, "text_wrap": True}) for name, look in _looks(base).items()
    }


# Numbers end with a space's width of padding (Excel's `_ `): a right-aligned figure does not butt the left-aligned
# text of the next column.
MONEY_FORMAT, INT_FORMAT = "#,##0.00_ ", "0_ "


def _cell_formats(workbook: Workbook, base: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": workbook.add_format({"font_name": "黑体", "font_size": 16, "bold": True, "align": "center"}),
        "header": workbook.add_format(
            {**base, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#D9E1F2"}
        ),
        "total_text": workbook.add_format({**base, "bold": True, "num_format": "@"}),
        "total_money": workbook.add_format({**base, "bold": True, "num_format": MONEY_FORMAT}),
        "total_int": workbook.add_format({**base, "bold": True, "num_format": INT_FORMAT}),
        "note": workbook.add_format({"font_name": "宋体", "font_size": 11, "bold": True}),
        "note_wrap": workbook.add_format(
            {"font_name": "宋体", "font_size": 11, "bold": True, "text_wrap": True, "valign": "top"}
        ),
        **{name: workbook.add_format(look) for name, look in _looks(base).items()},
    }


def _looks(base: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The data cells' formats by name: text / money / int, each plain or highlighted by a mark (text:rejected)."""
    numbers = (("text", "@"), ("money", MONEY_FORMAT), ("int", INT_FORMAT))
    looks = {kind: {**base, "num_format": number} for kind, number in numbers}
    for mark, look in MARKS.items():
        looks |= {f"{kind}:{mark}": {**base, "num_format": number, **look} for kind, number in numbers}
    return looks


def _write_sheet(workbook: Workbook, sheet: OutSheet, formats: dict[str, Any], write_rows: RowsWriter) -> None:
    worksheet = workbook.add_worksheet(sheet.name)
    width = len(sheet.columns)
    row = 0
    if sheet.title:
        if width > 1:
            _ok(worksheet.merge_range(0, 0, 0, width - 1, sheet.title, formats["title"]))
        else:
            _ok(worksheet.write_string(0, 0, sheet.title, formats["title"]))
        worksheet.set_row(0, 28)
        row = 1
    header_row = row
    for index, column in enumerate(sheet.columns):
        worksheet.set_column(index, index, column.width)
        _ok(worksheet.write_string(header_row, index, column.header, formats["header"]))
    if (lines := _header_lines(sheet)) > 1:  # room for the wrapped header, or it overlaps the rows around it
        worksheet.set_row(header_row, HEADER_LINE_HEIGHT * lines + 4)
    first = header_row + 1
    if first + len(sheet.rows) + len(sheet.notes) + 2 > MAX_ROWS:
        raise WriteError(f"{sheet.name}:{len(sheet.rows)} 行,超过 Excel 每表 {MAX_ROWS} 行的上限")
    totals = write_rows(worksheet, sheet, first, formats, functools.partial(_row_height, sheet))
    last = first + len(sheet.rows) - 1
    row = first + len(sheet.rows)
    if sheet.total_label:
        _write_totals(worksheet, sheet, totals, row, first, formats)
        row += 1
    table_width = sum(column.width for column in sheet.columns)
    for note in sheet.notes:
        row += 1
        if width > 1:  # across the table, wrapped: a long line is not cut at the print area's edge
            _ok(worksheet.merge_range(row, 0, row, width - 1, note[:MAX_TEXT], formats["note_wrap"]))
            if (lines := _lines(note, table_width)) > 1:
                worksheet.set_row(row, HEADER_LINE_HEIGHT * lines + 2)
        else:
            _ok(worksheet.write_string(row, 0, note[:MAX_TEXT], formats["note"]))
    worksheet.freeze_panes(first, 0)
    if sheet.rows:
        worksheet.autofilter(header_row, 0, last, width - 1)
    text_columns = [index for index, column in enumerate(sheet.columns) if column.kind == "text"]
    if sheet.rows and text_columns:  # 身份证号 and phones are text on purpose: no green "number as text" triangle
        worksheet.ignore_errors(
            {
                "number_stored_as_text": f"{xl_col_to_name(min(text_columns))}{first + 1}:{xl_col_to_name(max(text_columns))}{last + 1}"
            }
        )
    if sheet.chart and sheet.rows:
        row = _add_chart(workbook, worksheet, sheet, first, last, row + 2)
    _print_setup(worksheet, sheet, header_row, row, width)


RowsWriter = Callable[[Worksheet, OutSheet, int, dict[str, Any], fastrows.RowHeight], list[Decimal | None]]


def rows_writer(xlsxwriter_version: str) -> RowsWriter:
    """How data rows are written with this xlsxwriter: by the fast renderer if it was proven against that version,
    else through the public API. Either returns the sum of each `summed` column (None for the others)."""
    return fastrows.write_rows if fastrows.proven(xlsxwriter_version) else write_rows_public


def write_rows_public(
    worksheet: Worksheet, sheet: OutSheet, first: int, formats: dict[str, Any], row_height: fastrows.RowHeight
) -> list[Decimal | None]:
    """One write_* call a cell: what the fast renderer stands in for, used with any xlsxwriter it was not proven on."""
    marks = sheet.marks if sheet.marks is not None else [""] * len(sheet.rows)
    for row, (values, mark) in enumerate(zip(sheet.rows, marks, strict=True), start=first):
        if (height := row_height(values)) is not None:
            worksheet.set_row(row, height)
        for col, (value, column) in enumerate(zip(values, sheet.columns, strict=False)):
            cell_format = formats[column.style(mark)]
            if value is None or value == "":
                _ok(worksheet.write_blank(row, col, None, cell_format))
            elif isinstance(value, Decimal | int | float) and not isinstance(value, bool):
                _ok(worksheet.write_number(row, col, float(value), cell_format))
            else:
                _ok(worksheet.write_string(row, col, str(value)[:MAX_TEXT], cell_format))
    return [
        sum((Decimal(values[index] or 0) for values in sheet.rows if index < len(values)), Decimal(0))
        if column.summed
        else None
        for index, column in enumerate(sheet.columns)
    ]


def _row_height(sheet: OutSheet, values: Sequence[Any]) -> int | None:
    """A data row's height in points: room for its wrapped texts (LibreOffice keeps the default height otherwise),
    or for a handwritten signature (`tall_rows`); None for the default."""
    lines = max(
        (
            _lines(values[index], column.width)
            for index, column in enumerate(sheet.columns)
            if column.wrap and index < len(values)
        ),
        default=1,
    )
    if lines > 1:
        return HEADER_LINE_HEIGHT * lines
    return TALL_ROW_HEIGHT if sheet.tall_rows else None


def _write_totals(
    worksheet: Worksheet, sheet: OutSheet, totals: list[Decimal | None], row: int, first: int, formats: dict[str, Any]
) -> None:
    last = first + len(sheet.rows) - 1
    for index, column in enumerate(sheet.columns):
        total = totals[index]
        if index == 0 and total is None:
            _ok(worksheet.write_string(row, 0, sheet.total_label or "", formats["total_text"]))
        elif total is None:
            _ok(worksheet.write_blank(row, index, None, formats["total_text"]))
        else:
            letter = xl_col_to_name(index)
            formula = f"=SUM({letter}{first + 1}:{letter}{last + 1})" if sheet.rows else "=0"
            _ok(worksheet.write_formula(row, index, formula, formats[f"total_{column.kind}"], float(total)))


HEADER_LINE_HEIGHT = 15  # points, one line of 11 pt 宋体
TALL_ROW_HEIGHT = 30  # points: room for a handwritten signature
LANDSCAPE_WIDTH = 100  # characters across: wider sheets print landscape, or A4 portrait shrinks them unreadably
TWO_PAGES_WIDTH = 200  # wider still: two landscape pages across (one would shrink the text to about 6 pt)
CHART_ROWS = 19  # a 360-pixel chart spans about this many default rows (20 pixels each)
ISSUER = "工会办公室"


def _header_lines(sheet: OutSheet) -> int:
    """Lines the widest-wrapping header needs in its column (a Chinese character is two characters wide)."""
    return max((_lines(column.header, column.width) for column in sheet.columns), default=1)


def _lines(value: Any, width: int) -> int:
    """Lines a text wraps to in a column `width` characters wide."""
    return _text_lines(str(value or ""), width)


@functools.lru_cache(maxsize=4096)
def _text_lines(text: str, width: int) -> int:
    """Each distinct text measured once: a 明细's wrapped columns (unit, file, sheet) repeat a file's name on every
    one of its rows."""
    return max(1, -(-_display_width(text) // max(width - 1, 1)))


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _print_setup(worksheet: Worksheet, sheet: OutSheet, header_row: int, last_row: int, width: int) -> None:
    worksheet.set_paper(9)  # A4
    if sheet.landscape or sum(column.width for column in sheet.columns) > LANDSCAPE_WIDTH:
        worksheet.set_landscape()
    worksheet.repeat_rows(0, header_row)
    across = sum(column.width for column in sheet.columns)
    if across > TWO_PAGES_WIDTH and sheet.leading is not None:
        worksheet.fit_to_pages(2, 0)  # one page across would print it at 6 pt: two, the person's columns on each
        worksheet.repeat_columns(0, sheet.leading)
    else:
        worksheet.fit_to_pages(1, 0)
    worksheet.center_horizontally()
    worksheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    worksheet.print_area(0, 0, max(last_row, header_row), width - 1)
    worksheet.set_footer("&C第 &P 页,共 &N 页")
    # on every printed page: who made the table, when it was printed (&D, so the file stays reproducible), the unit
    unit = "    单位:元" if any(column.kind == "money" for column in sheet.columns) else ""
    worksheet.set_header(f'&L&"宋体"制表单位:{ISSUER}&R&"宋体"制表日期:&D{unit}')


def _add_chart(workbook: Workbook, worksheet: Worksheet, sheet: OutSheet, first: int, last: int, at: int) -> int:
    """The chart under the table and its notes, inside the print area (beside the table it never printed); returns
    the last row it covers."""
    assert sheet.chart is not None
    chart = workbook.add_chart({"type": "column"})
    name = sheet.name
    chart.add_series(
        {
            "name": sheet.columns[sheet.chart.value_column].header,
            "categories": [name, first, sheet.chart.category_column, last, sheet.chart.category_column],
            "values": [name, first, sheet.chart.value_column, last, sheet.chart.value_column],
            "data_labels": {"value": True, "num_format": "#,##0"},
        }
    )
    chart.set_title({"name": sheet.chart.title})
    chart.set_legend({"none": True})
    table_pixels = sum(column.width * 7 + 5 for column in sheet.columns)  # xlsxwriter's width → pixels
    chart.set_size({"width": min(720, table_pixels), "height": 360})  # within the printed columns
    worksheet.insert_chart(xl_rowcol_to_cell(at, 0), chart)
    return at + CHART_ROWS
