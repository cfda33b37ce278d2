"""Cheap checks of what a workbook's XML claims, made before calamine allocates for it.

calamine sizes its memory from what a file says: one cell at XFD1048576 makes it allocate the whole rectangle from A1
(550 GB), and a sharedStrings `uniqueCount="4294967295"` makes it reserve 100 GB; either aborts the process. These
checks read the (already size-limited) XML parts of an .xlsx/.xlsm and refuse such a file with a finding first.
A declared `<dimension ref>` is not trusted either way: calamine does not allocate from it, and real files often
declare more than they hold. The other formats (.xls, .xlsb, .ods) rely on the worker's isolation and memory cap.
"""

from __future__ import annotations

import posixpath
import re
import string
import zipfile
import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .read import Limits

STRINGS_HEAD = 4096  # the <sst> start tag, with its counts, is at the top of the part
SMALLEST_STRING = 5  # bytes of the shortest shared string entry, <si/>
_UNIQUE_COUNT = re.compile(rb"<(?:\w+:)?sst\b[^>]*?\buniqueCount\s*=\s*[\"'](\d+)[\"']")
_VALUE = re.compile(rb"<(?:\w+:)?(?:v>\s*[^<\s]|is\b)")
_CELL_END = re.compile(rb"</(?:\w+:)?c>")


def precheck(archive: zipfile.ZipFile, limits: Limits) -> None:
    """Raise ReadFailure (too_large / file_unreadable) for an OOXML workbook whose cells lie beyond the row and
    column limits, or whose shared-string count is more than its part could hold. Other packages pass through."""
    try:
        sheets = _worksheet_parts(archive)
        for member in archive.infolist():
            if member.filename.lower().endswith("sharedstrings.xml"):
                _check_strings(archive, member)
            elif member.filename in sheets:
                _check_cells(archive.read(member), limits)
    except UNREADABLE_ZIP:
        return  # not a zip we can read after all (an .xls with a zip's end record in its bytes): calamine decides


UNREADABLE_ZIP = (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError, RuntimeError, ValueError)


_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
_TARGET = re.compile(rb"\bTarget\s*=\s*[\"']([^\"']*)[\"']")


def _worksheet_parts(archive: zipfile.ZipFile) -> set[str]:
    """The parts the workbook names as worksheets, and whatever lies under xl/worksheets/: only they hold cells."""
    parts = {name for name in archive.namelist() if name.startswith("xl/worksheets/") and name.endswith(".xml")}
    try:
        relations = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return parts
    for relation in _RELATIONSHIP.finditer(relations):
        target = _TARGET.search(relation.group())
        if target and b"/worksheet" in relation.group():
            name = target.group(1).decode("utf-8", "replace")
            parts.add(name.lstrip("/") if name.startswith("/") else posixpath.normpath(f"xl/{name}"))
    return parts


def _failure(reason: str, code: str = "file_unreadable") -> Exception:
    from .read import ReadFailure  # read.py calls precheck: imported when needed, not in a cycle

    return ReadFailure(reason, code=code)


def _check_strings(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
    with archive.open(member) as stream:
        head = stream.read(STRINGS_HEAD)
    declared = _UNIQUE_COUNT.search(head)
    if declared and int(declared.group(1)) > member.file_size // SMALLEST_STRING:
        raise _failure(f"文件内容与其声明不符(共享字符串表声明有 {int(declared.group(1))} 项),文件可能已损坏或被改动")


_SHAPE = bytes.maketrans(string.digits.encode() + string.ascii_letters.encode(), b"0" * 10 + b"A" * 52)


def _check_cells(xml: bytes, limits: Limits) -> None:
    """A cell with a value far beyond the limits: calamine would allocate every cell from A1 to it.

    Far means more column letters or more row digits than the limits have (XFD1048576 against GR20000): found by
    bytes.find on the XML's shape (letters as A, digits as 0), one pass in C, so a normal sheet costs next to
    nothing. A cell only just past a limit is refused by the reader after it is read, within the worker's cap."""
    shape = xml.translate(_SHAPE)
    letters, digits = len(_column_letters(limits.max_columns)), len(str(limits.max_rows))
    for needle in (b"A" * (letters + 1) + b"0", b"A" + b"0" * (digits + 1)):
        position = shape.find(needle)
        while position >= 0:
            position = shape.find(needle, _check_reference(xml, shape, position, limits))


def _check_reference(xml: bytes, shape: bytes, position: int, limits: Limits) -> int:
    """Refuse the file if the letters-and-digits run at `position` is the reference of a far cell with a value;
    return where to search on."""
    start, end = position, position
    while start and shape[start - 1] == _LETTER:
        start -= 1
    while end < len(shape) and shape[end] == _LETTER:
        end += 1
    split = end
    while end < len(shape) and shape[end] == _DIGIT:
        end += 1
    if not _is_cell_reference(xml, start, end):
        return end
    column, row = _column_number(xml[start:split]), int(xml[split:end])
    if (row > limits.max_rows or column > limits.max_columns) and _has_value(xml, end):
        reference = f"{xml[start:split].decode().upper()}{row}"
        raise _failure(
            f"单元格 {reference} 中有内容(第 {row} 行、第 {column} 列),"
            f"超过上限 {limits.max_rows} 行、{limits.max_columns} 列",
            "too_large",
        )
    return end


_LETTER, _DIGIT = ord("A"), ord("0")
_REFERENCE_ATTRIBUTE = re.compile(rb"<(?:\w+:)?c\s[^<>]*\br\s*=\s*[\"']$")


def _is_cell_reference(xml: bytes, start: int, end: int) -> bool:
    """`xml[start:end]` is the whole value of a <c> element's r attribute (not text, not another attribute)."""
    if xml[end : end + 1] not in (b'"', b"'"):
        return False
    tag = xml.rfind(b"<", 0, start)
    return tag >= 0 and _REFERENCE_ATTRIBUTE.search(xml, tag, start) is not None


def _has_value(xml: bytes, reference_end: int) -> bool:
    """calamine places a cell that holds a value (<v>, inline <is>); formatting alone (<c r=.. s="1"/>) is not."""
    start_tag_end = xml.find(b">", reference_end)
    if start_tag_end < 0 or xml[start_tag_end - 1 : start_tag_end] == b"/":
        return False
    closing = _CELL_END.search(xml, start_tag_end)
    return _VALUE.search(xml, start_tag_end, closing.start() if closing else len(xml)) is not None


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.decode().upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number
