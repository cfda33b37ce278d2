"""A .csv exported from another system, read as a one-sheet workbook (the same Book / SheetData as read.py).

Its encoding is detected: UTF-8 with a byte-order mark, UTF-8, else GB18030 (the superset of GBK and GB2312 that
Excel and WPS on Chinese Windows write); UTF-16 with its mark (Excel's 'Unicode text', tab-separated) too. Every
cell is text, so an 18-digit ID keeps all its digits; `="…"`, the wrapper systems use to stop Excel turning such
an ID into a number, is taken off. The sheet is named after the file, as Excel names it on opening.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path

from .read import Limits, ReadFailure
from .records import Book, SheetData

SHEET_NAME_LIMIT = 31  # what Excel allows a sheet's name
_DELIMITERS = ",\t;|"
_EXCEL_TEXT = re.compile(r'^="(.*)"$', re.DOTALL)


def read_csv_book(path: Path, limits: Limits) -> Book:
    """The file's rows as one sheet; ReadFailure when it is not text or is larger than the limits allow."""
    text = decode(path.read_bytes())
    rows = [[_cell(value) for value in row] for row in csv.reader(io.StringIO(text, newline=""), _dialect(text))]
    while rows and not any(rows[-1]):
        rows.pop()
    columns = max((len(row) for row in rows), default=0)
    if len(rows) > limits.max_rows or columns > limits.max_columns:
        raise ReadFailure(
            f"文件有 {len(rows)} 行、{columns} 列,超过上限 {limits.max_rows} 行、{limits.max_columns} 列",
            code="too_large",
        )
    if not rows:
        raise ReadFailure("CSV 文件中没有任何内容")
    grid = [row + [""] * (columns - len(row)) for row in rows]
    return Book(path=path, sheets=[SheetData(name=path.stem[:SHEET_NAME_LIMIT] or "Sheet1", rows=grid)])


def decode(data: bytes) -> str:
    """The text of a CSV in any encoding Chinese offices' systems write."""
    for mark, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(mark):
            return _decoded(data, encoding)
    if b"\x00" in data[:4096]:
        raise ReadFailure("不是文本格式的 CSV 文件(含有二进制内容)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return _decoded(data, "gb18030")


def _decoded(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise ReadFailure("CSV 文件的文字编码无法识别(应为 UTF-8 或 GBK/GB18030)") from error


def _dialect(text: str) -> type[csv.Dialect]:
    """Quoting as Excel writes it, with the delimiter the file uses most in its first lines (a comma; a tab in
    Excel's text export; a semicolon where the system's locale writes decimal commas)."""
    sample = "\n".join(text.splitlines()[:20])
    delimiter = max(_DELIMITERS, key=sample.count) if any(mark in sample for mark in _DELIMITERS) else ","

    class Exported(csv.excel):
        pass

    Exported.delimiter = delimiter
    return Exported


def _cell(value: str) -> str:
    wrapped = _EXCEL_TEXT.match(value.strip())
    return wrapped[1] if wrapped else value
