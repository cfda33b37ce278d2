"""Read any spreadsheet a unit sends (.xlsx .xlsm .xls .xlsb .ods) into plain grids, via calamine.

Every file is untrusted: its size, its uncompressed size (a zip bomb is refused before anything is
expanded), its rows and columns are held to the policy's limits; a file whose content is not what its
name says (a PDF or Word document renamed .xlsx) is named for what it is. For .xlsx/.xlsm the sheet
XML is also scanned (with defusedxml) for hidden rows and for formulas that were never calculated.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import python_calamine as calamine
from defusedxml import ElementTree as SafeTree
from defusedxml.common import DefusedXmlException

from .precheck import UNREADABLE_ZIP, precheck
from .records import META_SHEET, Book, SheetData
from .spec import cell_ref

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".et", ".ett", ".csv")  # .et/.ett: WPS (BIFF)
MB = 1024 * 1024
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELATIONSHIP = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


@dataclass(frozen=True)
class Limits:
    """What one submission may be; refusals say which limit. Set in the policy's [limits]."""

    max_file_mb: int = 20
    max_unzipped_mb: int = 200
    max_rows: int = 20000
    max_columns: int = 200


class ReadFailure(Exception):
    """The file cannot be read as a spreadsheet: the finding `code` and the parameters of its message."""

    def __init__(self, reason: str, code: str = "file_unreadable", **params: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.params = {"reason": reason, **params}


def is_spreadsheet(path: Path) -> bool:
    return path.suffix.lower() in SPREADSHEET_SUFFIXES


def read_book(path: Path, limits: Limits = Limits()) -> Book:
    """All sheets as grids anchored at A1 (row 0 is Excel row 1), plus the hidden form metadata."""
    size = path.stat().st_size
    if size == 0:
        raise ReadFailure("文件是空的(0 字节)")
    if size > limits.max_file_mb * MB:
        raise ReadFailure(f"文件大小 {size / MB:.1f} MB,超过上限 {limits.max_file_mb} MB", code="too_large")
    with _checked_package(path, limits) as package:
        if path.suffix.lower() == ".csv":
            from .csvbook import read_csv_book  # csvbook builds on this module's records

            return read_csv_book(path, limits)
        extras: dict[str, SheetExtras] = {}
        merged_ranges = None
        if package is not None:
            precheck(package, limits)
            extras = _ooxml_extras(package)
            merged_ranges = ods_merged_ranges(package) if _is_ods(package) else None
    try:
        workbook = calamine.CalamineWorkbook.from_path(str(path))
        sheets = [
            _read_sheet(workbook, meta, limits, extras.get(meta.name), merged_ranges)
            for meta in workbook.sheets_metadata
        ]
    except calamine.PasswordError as error:
        raise ReadFailure("文件设有密码", code="file_encrypted") from error
    except (calamine.CalamineError, calamine.ZipError, calamine.XmlError, ValueError, OSError) as error:
        raise ReadFailure(f"文件已损坏、不完整或不是有效的表格文件({type(error).__name__})") from error
    if not sheets:
        raise ReadFailure("工作簿中没有任何工作表")
    return Book(path=path, sheets=sheets, meta=_read_meta(sheets))


class Package(zipfile.ZipFile):
    """A zipped workbook opened once for every look taken before calamine reads it (its members, the DOCTYPE
    refusal, the precheck, hidden rows and formulas, ODS merges): each part read is inflated once."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._parts: dict[str, bytes] = {}

    def read(self, name: str | zipfile.ZipInfo, pwd: bytes | None = None) -> bytes:
        key = name.filename if isinstance(name, zipfile.ZipInfo) else name
        if key not in self._parts:
            self._parts[key] = super().read(name, pwd)
        return self._parts[key]


def _read_sheet(
    workbook: calamine.CalamineWorkbook,
    meta: calamine.SheetMetadata,
    limits: Limits,
    extras: SheetExtras | None,
    merged_ranges: dict[str, list[Range]] | None,
) -> SheetData:
    sheet = workbook.get_sheet_by_name(meta.name)
    rows, columns = (sheet.end[0] + 1, sheet.end[1] + 1) if sheet.end else (0, 0)
    if rows > limits.max_rows or columns > limits.max_columns:
        raise ReadFailure(
            f"工作表“{meta.name}”有 {rows} 行、{columns} 列,超过上限 {limits.max_rows} 行、{limits.max_columns} 列",
            code="too_large",
        )
    hidden_rows, uncalculated, formula_refs = extras or (frozenset(), (), frozenset())
    grid = sheet.to_python(skip_empty_area=False)
    ranges = sheet.merged_cell_ranges if merged_ranges is None else merged_ranges.get(meta.name, [])
    return SheetData(
        name=meta.name,
        rows=grid,
        hidden=meta.visible != calamine.SheetVisibleEnum.Visible,
        hidden_rows=hidden_rows,
        uncalculated=uncalculated,
        merged=spread_merged(grid, ranges or [], limits),
        formula_refs=formula_refs,
    )


Range = tuple[tuple[int, int], tuple[int, int]]  # (first row, first column), (last row, last column); 0-based


def spread_merged(
    grid: list[list[Any]], ranges: list[Range], limits: Limits
) -> dict[tuple[int, int], tuple[int, int, str]]:
    """Copy each merged range's value into every cell it spans (in place), as Excel shows it; return where each
    copied cell's value came from. Ranges are clipped to the grid (a merge over empty cells beyond it adds no rows)."""
    origins: dict[tuple[int, int], tuple[int, int, str]] = {}
    width = max(map(len, grid), default=0)
    for (top, left), (last_row, last_column) in ranges:
        bottom, right = min(last_row, len(grid) - 1), min(last_column, width - 1, left + limits.max_columns)
        if top > bottom or left > right:
            continue
        row = grid[top]
        value = row[left] if left < len(row) else ""
        if value in ("", None):
            continue
        reference = f"{cell_ref(top + 1, left)}:{cell_ref(last_row + 1, last_column)}"
        for index in range(top, bottom + 1):
            cells = grid[index]
            for column in range(left, right + 1):
                if (index, column) == (top, left):
                    continue
                if column >= len(cells):
                    cells.extend([""] * (column + 1 - len(cells)))
                cells[column] = value
                origins[index, column] = (top, left, reference)
    return origins


def _read_meta(sheets: list[SheetData]) -> dict[str, str]:
    """Key/value pairs from the template's hidden sheet (kind, version), if the file has one."""
    for sheet in sheets:
        if sheet.name == META_SHEET:
            return {str(row[0]): str(row[1]) for row in sheet.rows if len(row) >= 2 and row[0] != ""}
    return {}


# ---- what the bytes really are ------------------------------------------------------------

_MAGIC = (
    (b"%PDF", "PDF 文档"),
    (b"{\\rtf", "RTF 文档"),
    (b"\x89PNG", "PNG 图片"),
    (b"\xff\xd8\xff", "JPEG 图片"),
    (b"<html", "网页(HTML)文件"),
    (b"<!doctype html", "网页(HTML)文件"),
    (b"<?xml", "XML 文件"),
)
_ZIPPED = (("word/document.xml", "Word 文档(.docx)"), ("ppt/presentation.xml", "PowerPoint 演示文稿(.pptx)"))


@contextmanager
def _checked_package(path: Path, limits: Limits) -> Iterator[Package | None]:
    """The file's zip package, its content checked (what it really is, its unzipped size, no DOCTYPE); None when
    it is not one. A file that begins as no zip does yet may end like one (an .xls with a zip's end record in its
    bytes): opened if it can be, else left to calamine."""
    with path.open("rb") as stream:
        head = stream.read(512).lstrip(b"\xef\xbb\xbf \r\n\t").lower()
    for magic, what in _MAGIC:
        if head.startswith(magic.lower()):
            raise ReadFailure(what, code="file_disguised", real=what)
    zip_head = head.startswith(b"pk\x03\x04")
    if not zip_head:
        package = _quietly_opened(path) if zipfile.is_zipfile(path) else None
    else:
        try:
            package = Package(path)
        except (zipfile.BadZipFile, OSError) as error:
            raise ReadFailure("文件已损坏或不完整(压缩包无法打开)") from error
    if package is None:
        yield None
        return
    with package:
        if zip_head:
            _check_members(package, limits)
        yield package


def _quietly_opened(path: Path) -> Package | None:
    try:
        return Package(path)
    except UNREADABLE_ZIP:
        return None


def _check_members(package: zipfile.ZipFile, limits: Limits) -> None:
    members = package.infolist()
    names = {member.filename for member in members}
    for marker, what in _ZIPPED:
        if marker in names:
            raise ReadFailure(what, code="file_disguised", real=what)
    unzipped = sum(member.file_size for member in members)
    if unzipped > limits.max_unzipped_mb * MB:
        raise ReadFailure(
            f"解压后 {unzipped / MB:.0f} MB,超过上限 {limits.max_unzipped_mb} MB(疑似压缩炸弹,未解压)", code="too_large"
        )
    _refuse_doctype(package, members)


def _refuse_doctype(package: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> None:
    """Spreadsheet XML never declares a DOCTYPE; one that does is an entity attack (billion laughs, XXE).
    A DOCTYPE must precede the root element, so the first few kilobytes of each part tell."""
    for member in members:
        if member.filename.endswith((".xml", ".rels")):
            with package.open(member) as stream:
                if b"<!DOCTYPE" in stream.read(4096).upper():
                    raise ReadFailure(f"{member.filename} 含有 DOCTYPE/实体声明", code="file_unsafe")


SheetExtras = tuple[frozenset[int], tuple[str, ...], frozenset[str]]


def _ooxml_extras(package: zipfile.ZipFile) -> dict[str, SheetExtras]:
    """Per sheet name: hidden rows, formula cells without a saved value, and the sheets its formulas refer to.
    Empty when not OOXML."""
    try:
        return {name: _scan_sheet(package, part) for name, part in _sheet_parts(package).items()}
    except (KeyError, *UNREADABLE_ZIP, SafeTree.ParseError, DefusedXmlException):
        return {}  # calamine gives the verdict on a broken or hostile file


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    workbook = SafeTree.fromstring(archive.read("xl/workbook.xml"))
    relations = SafeTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in relations}
    parts = {}
    for sheet in workbook.iter(f"{MAIN}sheet"):
        target = targets.get(sheet.get(RELATIONSHIP), "")
        parts[sheet.get("name", "")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return parts


# two searches, not one alternation: each starts with a literal, which `re` finds at C speed (the alternation is
# tried at every byte: 2 ms on a 125 KB sheet)
_HIDDEN_ROW = re.compile(rb'hidden="(?:1|true)"')
_FORMULA = re.compile(rb"<f[ >/]")


_SHEET_IN_FORMULA = re.compile(r"(?:'((?:[^']|'')+)'|([^\s!'=(),:;+\-*/&<>^\"]+))!")


def _scan_sheet(archive: zipfile.ZipFile, part: str) -> SheetExtras:
    hidden: set[int] = set()
    uncalculated: list[str] = []
    refers: set[str] = set()
    xml = archive.read(part)
    if not _HIDDEN_ROW.search(xml) and not _FORMULA.search(xml):  # most sheets: no hidden rows, no formulas
        return frozenset(), (), frozenset()
    with archive.open(part) as stream:
        for _, element in SafeTree.iterparse(stream, events=("end",)):
            if element.tag == f"{MAIN}c":
                formula, value = element.find(f"{MAIN}f"), element.find(f"{MAIN}v")
                if formula is not None and (value is None or not (value.text or "").strip()):
                    uncalculated.append(element.get("r", ""))
                if formula is not None and formula.text and "!" in formula.text:
                    refers.update(
                        (quoted or bare).replace("''", "'") for quoted, bare in _SHEET_IN_FORMULA.findall(formula.text)
                    )
                element.clear()
            elif element.tag == f"{MAIN}row":
                if element.get("hidden") in ("1", "true"):
                    hidden.add(int(element.get("r", "0")))
                element.clear()
    return frozenset(hidden), tuple(uncalculated), frozenset(refers)


# ---- merged cells of OpenDocument (calamine reports them for .xlsx and .xls only) ----------------

TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"


def _is_ods(package: zipfile.ZipFile) -> bool:
    names = package.namelist()
    return "content.xml" in names and "xl/workbook.xml" not in names


def ods_merged_ranges(package: zipfile.ZipFile) -> dict[str, list[Range]] | None:
    """Per table name, its merged ranges from content.xml (table:number-rows/columns-spanned); None when the
    file cannot be scanned (calamine then gives the verdict)."""
    ranges: dict[str, list[Range]] = {}
    try:
        with package.open("content.xml") as stream:
            table, row, column = "", 0, 0
            for event, element in SafeTree.iterparse(stream, events=("start", "end")):
                tag = element.tag
                if event == "start":
                    if tag == f"{TABLE}table":
                        table, row = element.get(f"{TABLE}name", ""), 0
                        ranges[table] = []
                    elif tag == f"{TABLE}table-row":
                        column = 0
                    elif tag in (f"{TABLE}table-cell", f"{TABLE}covered-table-cell"):
                        rows_spanned = int(element.get(f"{TABLE}number-rows-spanned", "1"))
                        columns_spanned = int(element.get(f"{TABLE}number-columns-spanned", "1"))
                        if rows_spanned > 1 or columns_spanned > 1:
                            ranges[table].append(
                                ((row, column), (row + rows_spanned - 1, column + columns_spanned - 1))
                            )
                        column += int(element.get(f"{TABLE}number-columns-repeated", "1"))
                elif tag == f"{TABLE}table-row":
                    row += int(element.get(f"{TABLE}number-rows-repeated", "1"))
                    element.clear()
    except (KeyError, *UNREADABLE_ZIP, SafeTree.ParseError, DefusedXmlException):
        return None
    return ranges
