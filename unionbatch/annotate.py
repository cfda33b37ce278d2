"""The sender's own workbook, returned with every problem marked.

Bad cells are filled red (warnings yellow) and carry a comment with the message; a first sheet 错误清单 lists
every finding, printable on landscape A4. The original file is never touched: we write a copy.

An .xlsx/.xlsm is marked at the XML level (mark.py): every part the sender made (pictures in cells, shapes,
charts) stays as it was. Other formats (.xls, .ods, .xlsb, .csv), and a package the XML path cannot edit, go
through openpyxl; such a copy says on its 错误清单 what it could not keep, and the reply says so too. Macros
are never carried into the copy.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
import warnings
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

from .atomic import replacing
from .findings import ERROR, Finding
from .mark import AUTHOR, FILL_COLORS, CellMark, ListCell, ListSheet, mark_package, xml_text
from .read import ReadFailure, read_book
from .records import META_SHEET

log = logging.getLogger(__name__)

__all__ = ["AUTHOR", "Annotated", "annotate_copy", "sheet_title"]

FILLS = {severity: PatternFill("solid", start_color=color, end_color=color) for severity, color in FILL_COLORS.items()}
LIST_SHEET = "错误清单"
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")
LIST_HEADERS = ("位置", "姓名", "字段", "填写内容", "级别", "问题", "修改方法")
LIST_WIDTHS = (11, 10, 12, 20, 7, 42, 42)
LINE_HEIGHT = 14.5  # points per line of 11-point 宋体
XML_SUFFIXES = (".xlsx", ".xlsm")
_NAME_HEADER = re.compile(r"^(职工|会员|人员|运动员|队员|参赛人员|困难职工)?姓名$")


@dataclass(frozen=True)
class Annotated:
    """Where the copy went, and the sentence telling the sender what it could not keep (None: it kept all)."""

    path: Path
    note: str | None = None


def annotate_copy(readable: Path, findings: list[Finding], target: Path) -> Annotated | None:
    """Write the copy of `readable` with `findings` marked to `target`; None when it cannot be opened at all.

    A file we cannot annotate still has its findings in the report and the email; it never stops the run.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.stem}.tmp.xlsx")
    try:
        book = read_book(readable)
    except (ReadFailure, OSError):
        book = None
    order = [sheet.name for sheet in book.sheets] if book else []
    names = _names(book, findings) if book else {}
    ordered = sorted(findings, key=lambda finding: _position(finding, order))
    if readable.suffix.lower() in XML_SUFFIXES:
        try:
            with replacing(target, temporary):
                mark_package(readable, temporary, _marks(findings), list_sheet(ordered, names, None))
            return Annotated(target)
        except Exception:  # any surprise in a sender's package: the round trip below still marks it
            log.warning("cannot mark %s in place; copying it through openpyxl", readable.name, exc_info=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's notes on extensions it drops
            opened = _open_copy(readable, book)
        if opened is None:
            return None
        workbook, lost = opened
        note = lost_note(lost)
        with replacing(target, temporary):
            _mark_cells(workbook, findings)
            _add_list_sheet(workbook, list_sheet(ordered, names, note))
            workbook.save(temporary)
    except Exception:
        log.exception("无法生成批注副本:%s", readable.name)
        return None
    return Annotated(target, note)


# ---- what goes on the copy -----------------------------------------------------------------


def _marks(findings: list[Finding]) -> dict[tuple[str, str], CellMark]:
    """Per (sheet, cell): the worse severity and the messages, one a line."""
    by_cell: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.cell and finding.sheet:
            by_cell[(finding.sheet, finding.cell.replace("$", "").upper())].append(finding)
    return {
        place: CellMark(
            ERROR if any(f.severity == ERROR for f in cell_findings) else "warning",
            "\n".join(f"{f.problem}。{f.fix}。" for f in cell_findings),
        )
        for place, cell_findings in by_cell.items()
    }


def _position(finding: Finding, order: list[str]) -> tuple[int, int, int, int]:
    """File-level findings first, then sheet by sheet in the workbook's order, row by row, column by column."""
    if not finding.cell:
        return (0, 0, 0, 0)
    sheet = order.index(finding.sheet) if finding.sheet in order else len(order)
    row, column = _cell_numbers(finding.cell)
    return (1, sheet, row, column)


def _cell_numbers(ref: str) -> tuple[int, int]:
    match = re.fullmatch(r"\$?([A-Za-z]{1,3})\$?(\d+)", ref)
    if not match:
        return (0, 0)
    column = 0
    for letter in match[1].upper():
        column = column * 26 + ord(letter) - 64
    return int(match[2]), column


def _names(book: Any, findings: list[Finding]) -> dict[tuple[str, int], str]:
    """Per (sheet, Excel row): the person's 姓名 in that row, found under the sheet's 姓名 header."""
    wanted = {(f.sheet, _cell_numbers(f.cell)[0]) for f in findings if f.cell and f.sheet}
    names: dict[tuple[str, int], str] = {}
    for sheet in book.sheets:
        rows = [row for name, row in wanted if name == sheet.name]
        if not rows:
            continue
        header = _name_column(sheet.rows)
        if header is None:
            continue
        header_row, column = header
        for row in rows:
            if row - 1 > header_row and row - 1 < len(sheet.rows) and column < len(sheet.rows[row - 1]):
                value = sheet.rows[row - 1][column]
                if isinstance(value, str) and value.strip():
                    names[(sheet.name, row)] = value.strip()
    return names


def _name_column(rows: list[list[Any]]) -> tuple[int, int] | None:
    """(row, column), 0-based, of the first cell in the top rows that heads a 姓名 column."""
    for row_index, row in enumerate(rows[:20]):
        for column, value in enumerate(row):
            if isinstance(value, str) and _NAME_HEADER.match(re.sub(r"[\s*＊:：]", "", value)):
                return row_index, column
    return None


def list_sheet(findings: Sequence[Finding], names: dict[tuple[str, int], str], note: str | None) -> ListSheet:
    """The 错误清单: a title with the counts, how to read the colours, what the copy lost, then one row a finding."""
    errors = sum(f.severity == ERROR for f in findings)
    warnings_count = len(findings) - errors
    file = Path(findings[0].file).name if findings else ""
    listing = ListSheet(LIST_SHEET, LIST_WIDTHS)
    width = sum(LIST_WIDTHS)
    title = f"错误清单:共 {len(findings)} 个问题(错误 {errors} 个,警告 {warnings_count} 个)"
    _add_line(listing, title, "title", width, line_height=24)
    legend = (
        f"文件:{file}。标红的单元格有错误,必须修改后重新提交;标黄的是警告,请核实。"
        "单元格上的批注不会打印,每个问题的原因和修改方法都在下表。"
    )
    _add_line(listing, legend, "note", width)
    if note:
        _add_line(listing, note, "note", width)
    listing.rows.append([ListCell(text, "header") for text in LIST_HEADERS])
    listing.heights.append(LINE_HEIGHT + 6)
    listing.header_row = len(listing.rows)
    for finding in findings:
        place = f"{finding.sheet}!{finding.cell}" if finding.cell else "整个文件"
        name = names.get((finding.sheet or "", _cell_numbers(finding.cell)[0]), "") if finding.cell else ""
        level = "错误" if finding.severity == ERROR else "警告"
        texts = (place, name, finding.field or "", finding.value or "", level, finding.problem, finding.fix)
        cells = [ListCell(xml_text(text)) for text in texts]
        cells[4] = ListCell(level, finding.severity if finding.severity == ERROR else "warning")
        listing.rows.append(cells)
        listing.heights.append(_height(texts, LIST_WIDTHS))
    return listing


def _add_line(listing: ListSheet, text: str, style: str, width: float, line_height: float = LINE_HEIGHT) -> None:
    listing.rows.append([ListCell(xml_text(text), style)] + [ListCell("", style)] * (len(listing.widths) - 1))
    listing.heights.append(max(line_height, _lines(text, width) * LINE_HEIGHT + 4))
    listing.merged_rows.add(len(listing.rows))


def _height(texts: Sequence[str], widths: Sequence[float]) -> float:
    """Row height for wrapped text (neither Excel nor LibreOffice grows a row on its own when printing)."""
    return max(_lines(text, width) for text, width in zip(texts, widths, strict=True)) * LINE_HEIGHT + 4


def _lines(text: str, width: float) -> int:
    lines = 0
    for part in text.split("\n"):
        shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in part)
        lines += max(1, math.ceil(shown / max(width - 1.5, 1)))
    return lines


def lost_note(lost: Sequence[str]) -> str | None:
    if not lost:
        return None
    return (
        f"注意:批注副本由程序重新生成,没能保留原文件中的{'、'.join(lost)}。"
        "请对照“错误清单”在您自己的原文件上修改后重新提交。"
    )


# ---- the openpyxl round trip ---------------------------------------------------------------


def _open_copy(path: Path, book: Any) -> tuple[Workbook, list[str]] | None:
    """The sender's workbook with its formatting if openpyxl can read it, else rebuilt from values; and what the
    copy loses of the original."""
    if path.suffix.lower() in XML_SUFFIXES:
        try:
            return load_workbook(path, keep_vba=False, rich_text=False), _unmodelled(path)
        except Exception:  # noqa: BLE001 - openpyxl raises many kinds on odd files; fall back to the values
            pass
    if book is None:
        return None
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in book.sheets:
        if sheet.name == META_SHEET:
            continue
        worksheet = workbook.create_sheet(sheet_title(sheet.name))
        for number, cells in enumerate(sheet.rows, start=1):
            worksheet.append([_cell_value(value) for value in cells])
            # cell() and not worksheet[number]: that scans every cell for max_column, each row
            _keep_text(worksheet.cell(number, column) for column in range(1, len(cells) + 1))
    rebuilt = [] if path.suffix.lower() == ".csv" else ["字体、颜色、边框、列宽等格式", "公式(只保留了计算结果)"]
    return workbook, rebuilt + _unmodelled(path)


def _unmodelled(path: Path) -> list[str]:
    """What of the package openpyxl does not carry over: pictures in cells (WPS), pictures, shapes, charts."""
    if not zipfile.is_zipfile(path):
        return []
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:  # random bytes can look like a zip's end record (an .xls, a damaged file)
        return []
    with archive:
        names = archive.namelist()

        def text(name: str) -> bytes:
            return archive.read(name)

        drawings = b"".join(text(n) for n in names if re.match(r"xl/drawings/[^/]+\.xml$", n))
        sheets = [n for n in names if re.match(r"xl/worksheets/[^/]+\.xml$", n)]
        in_cells = sum(text(n).count(b"DISPIMG") for n in sheets)
        if "xl/cellimages.xml" in names:
            in_cells = max(in_cells, text("xl/cellimages.xml").count(b"cellImage>"))
        content = text("content.xml") if "content.xml" in names else b""
    lost = []
    if in_cells:
        lost.append(f"单元格中的图片 {in_cells} 张")
    pictures = len(re.findall(rb"<(\w+:)?pic>", drawings)) + content.count(b"<draw:image")
    charts = len([n for n in names if re.match(r"xl/charts/chart[^/]*\.xml$", n)])
    charts += len([n for n in names if re.match(r"Object \d+/content\.xml$", n)])
    shapes = len(re.findall(rb"<(\w+:)?sp>", drawings)) + content.count(b"<draw:custom-shape")
    for count, what in ((pictures, "图片"), (charts, "图表"), (shapes, "形状或文本框")):
        if count:
            lost.append(f"{what} {count} 个")
    return lost


def _cell_value(value: Any) -> Any:
    if value == "":
        return None
    return xml_text(value) if isinstance(value, str) else value


def _keep_text(cells: Any) -> None:
    """openpyxl takes a string starting with '=' for a formula; a sender's text stays text."""
    for cell in cells:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def sheet_title(name: str) -> str:
    """A sheet name .xlsx accepts (an .ods sheet may hold []:*?/\\ or run past 31 characters)."""
    return _BAD_TITLE.sub("_", name)[:31] or "Sheet"


def _mark_cells(workbook: Workbook, findings: list[Finding]) -> None:
    for (sheet_name, ref), mark in _marks(findings).items():
        sheet = sheet_name if sheet_name in workbook.sheetnames else sheet_title(sheet_name)
        if sheet not in workbook.sheetnames:
            continue
        target = workbook[sheet][ref]
        target.fill = FILLS[mark.severity]
        lines = mark.comment.count("\n") + 1
        target.comment = Comment(xml_text(mark.comment), AUTHOR, width=320, height=40 + 40 * lines)


_THIN = Side(style="thin")
_FONTS = {
    "title": Font(name="宋体", size=16, bold=True, charset=134),
    "header": Font(name="宋体", size=11, bold=True, charset=134),
}
_BODY_FONT = Font(name="宋体", size=11, charset=134)


def _add_list_sheet(workbook: Workbook, listing: ListSheet) -> None:
    if listing.name in workbook.sheetnames:
        del workbook[listing.name]
    sheet: Worksheet = workbook.create_sheet(listing.name, 0)
    for number, cells in enumerate(listing.rows, start=1):
        for column, cell in enumerate(cells, start=1):
            target = sheet.cell(number, column, cell.text or None)
            target.data_type = "s"
            target.font = _FONTS.get(cell.style, _BODY_FONT)
            centered = cell.style in ("title", "header", ERROR, "warning")
            target.alignment = Alignment(horizontal="center" if centered else "left", vertical="top", wrap_text=True)
            if cell.style not in ("title", "note"):
                target.border = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
            if cell.style in FILLS:
                target.fill = FILLS[cell.style]
        sheet.row_dimensions[number].height = listing.heights[number - 1]
    for number in listing.merged_rows:
        sheet.merge_cells(start_row=number, start_column=1, end_row=number, end_column=len(listing.widths))
    for index, width in enumerate(listing.widths, start=1):
        sheet.column_dimensions[chr(64 + index)].width = width
    sheet.freeze_panes = f"A{listing.header_row + 1}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.print_title_rows = f"{listing.header_row}:{listing.header_row}"
    sheet.oddFooter.center.text = "第 &P 页,共 &N 页"
    workbook.active = 0
    for worksheet in workbook.worksheets:
        worksheet.sheet_view.tabSelected = worksheet is sheet
