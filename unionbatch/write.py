"""Write any list of OutSheets as one workbook with xlsxwriter: titled, print-ready, totals as live
SUM formulas carrying their computed values, optional chart. Written to a temporary name, then renamed.

Text from submissions is always written as text (never a formula, number or link), and every
xlsxwriter return code is checked: -1 / -2 mean data was silently dropped.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import unicodedata
import zipfile
import zlib
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
import xlsxwriter.workbook
from xlsxwriter.utility import _preserve_whitespace, xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet
from xlsxwriter.xmlwriter import XMLwriter

from .compute import MARKS, OutSheet

MAX_TEXT = 32767  # Excel's limit for one cell
MAX_ROWS = 1_048_576
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}


class WriteError(Exception):
    """xlsxwriter refused data: a processor bug, never a user's mistake."""


def _ok(code: int | None) -> None:
    if code not in (None, 0):
        raise WriteError(f"xlsxwriter returned {code}")


def write_workbook(path: Path, sheets: list[OutSheet], created: dt.datetime) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.tmp.xlsx")
    workbook = xlsxwriter.Workbook(str(temporary), {**WORKBOOK_OPTIONS, "constant_memory": True})
    workbook.set_properties({"created": created, "author": "工会表格处理", "title": path.stem})
    formats = _formats(workbook)
    for sheet in sheets:
        _write_sheet(workbook, sheet, formats)
    workbook.close()
    temporary.replace(path)
    return path


class _ZipFile(zipfile.ZipFile):
    """The zip xlsxwriter packs a workbook into, with its big members (a city's 明细 is ~100 MB of XML) deflated
    on every core: deflating them was a third of writing the workbook, on one core."""

    def _open_to_write(self, zinfo: zipfile.ZipInfo, force_zip64: bool = False) -> Any:
        member = super()._open_to_write(zinfo, force_zip64)
        if zinfo.compress_type == zipfile.ZIP_DEFLATED and zinfo.file_size > 2 * _ParallelDeflate.BLOCK:
            member._compressor = _ParallelDeflate(zinfo._compresslevel)
        return member


xlsxwriter.workbook.ZipFile = _ZipFile  # type: ignore[misc]  # the name its Workbook._store_workbook uses


class _ParallelDeflate:
    """A compressor for zipfile (`compress`, `flush`) that deflates 1 MB blocks on threads (zlib lets go of the
    GIL), as pigz does: each block a raw deflate stream ended by a sync flush, the last by an empty final block,
    which together are one valid deflate stream. At most two blocks a core are in flight (memory)."""

    BLOCK = 1 << 20

    def __init__(self, level: int | None) -> None:
        self.level = zlib.Z_DEFAULT_COMPRESSION if level is None else level
        self.pending = bytearray()
        self.threads = ThreadPoolExecutor(os.cpu_count() or 1)
        self.blocks: deque[Future[bytes]] = deque()

    def compress(self, data: bytes) -> bytes:
        self.pending += data
        if len(self.pending) >= self.BLOCK:
            if len(self.blocks) >= 2 * (os.cpu_count() or 1):
                self.blocks[0].result()
            self.blocks.append(self.threads.submit(_deflate_block, bytes(self.pending), self.level))
            self.pending.clear()
        done = []
        while self.blocks and self.blocks[0].done():
            done.append(self.blocks.popleft().result())
        return b"".join(done)

    def flush(self) -> bytes:
        done = [block.result() for block in self.blocks]
        done.append(_deflate_block(bytes(self.pending), self.level))
        done.append(zlib.compressobj(self.level, zlib.DEFLATED, -zlib.MAX_WBITS).flush())  # the final block
        self.threads.shutdown()
        return b"".join(done)


def _deflate_block(data: bytes, level: int) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


def _formats(workbook: Workbook) -> dict[str, Any]:
    base = {"font_name": "宋体", "font_size": 11, "border": 1, "valign": "vcenter"}
    formats = _cell_formats(workbook, base)
    return formats | {
        f"{name}:wrap": workbook.add_format({**look, "text_wrap": True}) for name, look in _looks(base).items()
    }


def _cell_formats(workbook: Workbook, base: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": workbook.add_format({"font_name": "黑体", "font_size": 16, "bold": True, "align": "center"}),
        "header": workbook.add_format(
            {**base, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#D9E1F2"}
        ),
        "total_text": workbook.add_format({**base, "bold": True, "num_format": "@"}),
        "total_money": workbook.add_format({**base, "bold": True, "num_format": "#,##0.00"}),
        "total_int": workbook.add_format({**base, "bold": True, "num_format": "0"}),
        "note": workbook.add_format({"font_name": "宋体", "font_size": 11, "bold": True}),
        "note_wrap": workbook.add_format(
            {"font_name": "宋体", "font_size": 11, "bold": True, "text_wrap": True, "valign": "top"}
        ),
        **{name: workbook.add_format(look) for name, look in _looks(base).items()},
    }


def _looks(base: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The data cells' formats by name: text / money / int, each plain or highlighted by a mark (text:rejected)."""
    numbers = (("text", "@"), ("money", "#,##0.00"), ("int", "0"))
    looks = {kind: {**base, "num_format": number} for kind, number in numbers}
    for mark, look in MARKS.items():
        looks |= {f"{kind}:{mark}": {**base, "num_format": number, **look} for kind, number in numbers}
    return looks


def _write_sheet(workbook: Workbook, sheet: OutSheet, formats: dict[str, Any]) -> None:
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
    totals = _write_rows(worksheet, sheet, first, formats)
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


def _write_rows(worksheet: Worksheet, sheet: OutSheet, first: int, formats: dict[str, Any]) -> list[Decimal | None]:
    """The hot loop, 80 % of a big run when it went through xlsxwriter's write_* (~14 µs a cell): the rows are
    rendered here as the very XML xlsxwriter's constant-memory mode writes for them (tests/test_write.py
    compares the two byte for byte) and streamed into its row file. Rows are checked against Excel's limit
    once and strings cut to its cell limit, so xlsxwriter's per-cell -1/-2 cannot occur.

    Returns the sum of each `summed` column (None for the others), added up in the same pass."""
    if first + len(sheet.rows) + len(sheet.notes) + 2 > MAX_ROWS:
        raise WriteError(f"{sheet.name}:{len(sheet.rows)} 行,超过 Excel 每表 {MAX_ROWS} 行的上限")
    summed = [index for index, column in enumerate(sheet.columns) if column.summed]
    totals: list[Decimal | None] = [Decimal(0) if column.summed else None for column in sheet.columns]
    if not sheet.rows:
        return totals
    width = len(sheet.columns)
    last = first + len(sheet.rows) - 1
    worksheet._write_single_row(first)  # flush what xlsxwriter holds (the header) before our rows
    _ok(worksheet._check_dimensions(last, width - 1))
    row_tag = '<row r="{0}" ht="30" customHeight="1">' if sheet.tall_rows else '<row r="{0}">'
    cells = [
        (f'<c r="{xl_col_to_name(col)}', f'" s="{formats[column.style()]._get_xf_index()}"')
        for col, column in enumerate(sheet.columns)
    ]
    numbers_shown = [_NumberTexts() if column.kind in ("money", "int") else None for column in sheet.columns]
    if sheet.marks is not None or any(column.wrap for column in sheet.columns):
        return _write_marked_rows(worksheet, sheet, first, formats, totals, row_tag)
    rows = iter(sheet.rows)
    number = first + 1
    while chunk := list(itertools.islice(rows, 1000)):
        numbers = [str(n) for n in range(number, number + len(chunk))]  # formatted once, not once a cell
        number += len(chunk)
        if any(len(values) != width for values in chunk):
            worksheet.fh.write("".join(_rows_cell_by_cell(chunk, numbers, row_tag, cells)))
            by_column = {
                index: [values[index] if index < len(values) else None for values in chunk] for index in summed
            }
        else:
            by_column = list(zip(*chunk, strict=True))
            columns = [
                _column_xml(values, numbers, ref, style, shown)
                for values, (ref, style), shown in zip(by_column, cells, numbers_shown, strict=True)
            ]
            row_xml = [
                f"{row_tag.format(n)}{''.join(row)}</row>"
                for n, row in zip(numbers, zip(*columns, strict=True), strict=True)
            ]
            worksheet.fh.write("".join(row_xml))
        for index in summed:
            totals[index] += sum(  # type: ignore[operator]
                (value if type(value) is Decimal else Decimal(value or 0) for value in by_column[index]), Decimal(0)
            )
    worksheet.previous_row = last + 1
    return totals


def _write_marked_rows(
    worksheet: Worksheet,
    sheet: OutSheet,
    first: int,
    formats: dict[str, Any],
    totals: list[Decimal | None],
    row_tag: str,
) -> list[Decimal | None]:
    """Rows some of which are highlighted, or with wrapped texts (small sheets: 处理报告, 与名单核对), cell by cell.
    A row with wrapped texts is given the height they need: LibreOffice keeps the default height otherwise."""
    marks = sheet.marks if sheet.marks is not None else [""] * len(sheet.rows)
    assert len(marks) == len(sheet.rows)
    wrapped = [index for index, column in enumerate(sheet.columns) if column.wrap]
    xml = []
    for offset, (values, mark) in enumerate(zip(sheet.rows, marks, strict=True)):
        number = str(first + 1 + offset)
        lines = max(
            (_lines(values[index], sheet.columns[index].width) for index in wrapped if index < len(values)), default=1
        )
        tag = f'<row r="{{0}}" ht="{HEADER_LINE_HEIGHT * lines}" customHeight="1">' if lines > 1 else row_tag
        styles = [formats[column.style(mark)]._get_xf_index() for column in sheet.columns]
        cells = [
            _cell(value, f'<c r="{xl_col_to_name(col)}', f'" s="{style}"', number)
            for col, (value, style) in enumerate(zip(values, styles, strict=False))
        ]
        xml.append(f"{tag.format(number)}{''.join(cells)}</row>")
        for index, column in enumerate(sheet.columns):
            if column.summed and index < len(values):
                totals[index] += Decimal(values[index] or 0)  # type: ignore[operator]
    worksheet.fh.write("".join(xml))
    worksheet.previous_row = first + len(sheet.rows)
    return totals


def _rows_cell_by_cell(
    chunk: list[Sequence[Any]], numbers: list[str], row_tag: str, cells: list[tuple[str, str]]
) -> list[str]:
    return [
        f"{row_tag.format(n)}{''.join(_cell(value, ref, style, n) for value, (ref, style) in zip(values, cells, strict=False))}</row>"
        for n, values in zip(numbers, chunk, strict=True)
    ]


_NUMBERS = (Decimal, int, float)
_EXACT = 2**53  # ints up to this are exact as floats
_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$")
_ESCAPED = re.compile(r"[&<>\x00\x02-\x08\x0b-\x1f\ufffe\uffff]")  # \x01 joins a column's texts
_LITERAL_CODE = re.compile(r"_x[0-9a-fA-F]{4}_")


def _column_xml(
    values: Sequence[Any], numbers: list[str], ref: str, style: str, shown: _NumberTexts | None
) -> list[str]:
    """One column's cells for a run of rows, a comprehension per column rather than a call per cell (3× faster).
    `shown` formats a number column's amounts (None for text columns). Anything but a number in a number column,
    or a text needing escaping or cutting, goes through `_cell`."""
    if shown is not None:
        return [
            # an int as it is (what %.16G makes of it, when exact as a float); 0 == -0.0: zero is not memoised
            f"{ref}{n}{style}><v>{v if type(v) is int and -_EXACT <= v <= _EXACT else shown[v] if v else f'{float(v):.16G}'}</v></c>"
            if type(v) in _NUMBERS
            else _cell(v, ref, style, n)
            for n, v in zip(numbers, values, strict=True)
        ]
    if _plain_texts(values):
        return [
            f'{ref}{n}{style} t="inlineStr"><is><t>{v}</t></is></c>'
            if type(v) is str and v
            else _cell(v, ref, style, n)
            for n, v in zip(numbers, values, strict=True)
        ]
    return [_cell(v, ref, style, n) for n, v in zip(numbers, values, strict=True)]


class _NumberTexts(dict[Any, str]):
    """A number as xlsxwriter writes it, each distinct amount formatted once (amounts repeat; formatting is slow)."""

    def __missing__(self, number: Any) -> str:
        text = self[number] = f"{float(number):.16G}"
        return text


def _plain_texts(values: Sequence[Any]) -> bool:
    """Whether every text among `values` can be written as it is: one search over them all."""
    texts = [value for value in values if type(value) is str]
    joined = "\x01".join(texts)  # a text holding \x01 itself makes the count differ: not plain
    return (
        joined.count("\x01") == max(len(texts) - 1, 0)
        and max(map(len, texts), default=0) <= MAX_TEXT
        and not _ESCAPED.search(joined)
        and ("_x" not in joined or not _LITERAL_CODE.search(joined))
        and all(text == text.strip() for text in texts)  # str.strip and re's \s: the same Unicode spaces
    )


def _cell(value: object, ref: str, style: str, row: str) -> str:
    """One cell as xlsxwriter's Worksheet._write_cell writes it in constant-memory mode (the slow path: typical
    columns are rendered by `_column_xml`)."""
    if value is None or value == "":
        return f"{ref}{row}{style}/>"
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return f"{ref}{row}{style}><v>{float(value):.16G}</v></c>"
    text = str(value)[:MAX_TEXT]
    space = ""
    if _SPECIAL.search(text):
        text = XMLwriter._escape_control_characters(text)
        space = ' xml:space="preserve"' if _preserve_whitespace(text) else ""
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'{ref}{row}{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'


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
LANDSCAPE_WIDTH = 100  # characters across: wider sheets print landscape, or A4 portrait shrinks them unreadably
CHART_ROWS = 19  # a 360-pixel chart spans about this many default rows (20 pixels each)
ISSUER = "工会办公室"


def _header_lines(sheet: OutSheet) -> int:
    """Lines the widest-wrapping header needs in its column (a Chinese character is two characters wide)."""
    return max((_lines(column.header, column.width) for column in sheet.columns), default=1)


def _lines(value: Any, width: int) -> int:
    """Lines a text wraps to in a column `width` characters wide."""
    return max(1, -(-_display_width(str(value or "")) // max(width - 1, 1)))


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _print_setup(worksheet: Worksheet, sheet: OutSheet, header_row: int, last_row: int, width: int) -> None:
    worksheet.set_paper(9)  # A4
    if sheet.landscape or sum(column.width for column in sheet.columns) > LANDSCAPE_WIDTH:
        worksheet.set_landscape()
    worksheet.repeat_rows(0, header_row)
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
