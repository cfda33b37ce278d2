"""Blank templates generated from a form's spec (xlsxwriter), reproducible byte for byte.

Title, 填报单位/填报日期, header, dropdowns for choice columns, text format for IDs and phones (so
Excel cannot turn them into 4.40103E+17), input messages, frozen header, print set-up, a 填表说明
sheet, and the form kind and version in a hidden sheet so a renamed file is still recognised.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from .atomic import replacing
from .records import META_SHEET
from .spec import Column, FormSpec
from .write import WORKBOOK_OPTIONS

TEMPLATE_DATE = dt.datetime(2026, 1, 1)
TITLE_ROW, INFO_ROW, HEADER_ROW = 0, 1, 2
INPUT_ROWS = 500
NUMBER_FORMATS = {"money": "0.00", "int": "0"}


def template_name(spec: FormSpec) -> str:
    return f"{spec.kind}.xlsx"


def write_templates(specs: dict[str, FormSpec], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [write_template(spec, folder / template_name(spec)) for spec in specs.values()]


def write_template(spec: FormSpec, path: Path) -> Path:
    with replacing(path, path.with_name(f".{path.stem}.tmp.xlsx")) as temporary:
        _write_template(spec, temporary)
    return path


def _write_template(spec: FormSpec, path: Path) -> None:
    workbook = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    workbook.set_properties({"created": TEMPLATE_DATE, "title": spec.title, "author": "工会", "comments": spec.kind})
    workbook.set_custom_property("form_kind", spec.kind)
    workbook.set_custom_property("template_version", spec.version)
    sheet = workbook.add_worksheet(spec.kind)
    base = {"font_name": "宋体", "font_size": 11, "border": 1, "valign": "vcenter"}
    title = workbook.add_format({"font_name": "黑体", "font_size": 18, "bold": True, "align": "center"})
    label = workbook.add_format({"font_name": "宋体", "font_size": 11, "bold": True})
    entry = workbook.add_format({"font_name": "宋体", "font_size": 11, "bottom": 1, "num_format": "@", "locked": False})
    header = workbook.add_format({**base, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#D9E1F2"})
    cells = {
        kind: workbook.add_format({**base, "num_format": NUMBER_FORMATS.get(kind, "@"), "locked": False})
        for kind in ("text", "name", "choice", "id", "phone", "money", "int", "mark")
    }
    columns = [column for column in spec.columns if column.in_template]
    last_col = len(columns) - 1
    sheet.merge_range(TITLE_ROW, 0, TITLE_ROW, last_col, spec.title, title)
    sheet.set_row(TITLE_ROW, 32)
    _header_block(sheet, spec, len(columns), label, entry)
    for index, column in enumerate(columns):
        sheet.write_string(HEADER_ROW, index, column.header + ("*" if column.required else ""), header)
        sheet.set_column(index, index, column.width, cells[column.kind])
        _validation(sheet, index, column)
    sheet.set_row(HEADER_ROW, 30)
    sheet.freeze_panes(HEADER_ROW + 1, 0)
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(TITLE_ROW, HEADER_ROW)
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.8)
    sheet.set_footer("&L填表人:            联系电话:&C第 &P 页&R单位(盖章)")
    sheet.activate()
    _instructions(workbook, spec)
    meta = workbook.add_worksheet(META_SHEET)
    meta.write_row(0, 0, ["kind", spec.kind])
    meta.write_row(1, 0, ["version", spec.version])
    meta.very_hidden()
    workbook.close()


def _header_block(sheet: Worksheet, spec: FormSpec, width: int, label: object, entry: object) -> None:
    """填报单位:____ 填报日期:____ … spread evenly over the row above the header."""
    span = width // len(spec.header_fields)
    for col in range(width):
        sheet.write_blank(INFO_ROW, col, None, label)
    for number, name in enumerate(spec.header_fields):
        start = number * span
        sheet.write_string(INFO_ROW, start, f"{name}:", label)
        if span > 2:
            sheet.merge_range(INFO_ROW, start + 1, INFO_ROW, start + span - 1, "", entry)
        else:
            sheet.write_blank(INFO_ROW, start + 1, None, entry)


def _validation(sheet: Worksheet, index: int, column: Column) -> None:
    """Dropdown or number rule for a column, with an input message saying what to type."""
    rule: dict[str, object] = {"validate": "any"}
    if column.kind in ("choice", "mark"):
        rule = {"validate": "list", "source": list(column.choices) if column.kind == "choice" else ["√"]}
    elif column.kind == "money":
        rule = {"validate": "decimal", "criteria": ">=", "value": 0}
    elif column.kind == "int":
        rule = {"validate": "integer", "criteria": ">=", "value": int(column.minimum or 0)}
    elif column.kind == "id":
        rule = {"validate": "length", "criteria": "==", "value": 18}
    message = column.help or f"请填写{column.header}"
    if column.example:
        message += f"\n例:{column.example}"
    rule |= {
        "input_title": column.header[:32],
        "input_message": message[:255],
        "error_title": column.header[:32],
        "error_message": f"{column.header}填写不正确:{column.help}"[:255],
    }
    first = HEADER_ROW + 1
    sheet.data_validation(first, index, first + INPUT_ROWS - 1, index, rule)


def _instructions(workbook: xlsxwriter.Workbook, spec: FormSpec) -> None:
    sheet = workbook.add_worksheet("填表说明")
    wrap = workbook.add_format({"font_name": "宋体", "font_size": 11, "text_wrap": True, "valign": "top"})
    bold = workbook.add_format({"font_name": "宋体", "font_size": 11, "bold": True, "border": 1, "bg_color": "#D9E1F2"})
    cell = workbook.add_format({"font_name": "宋体", "font_size": 11, "border": 1, "text_wrap": True, "valign": "top"})
    sheet.set_column(0, 0, 18)
    sheet.set_column(1, 1, 10)
    sheet.set_column(2, 2, 50)
    sheet.set_column(3, 3, 22)
    sheet.merge_range(0, 0, 0, 3, f"{spec.title} 填表说明(模板版本 {spec.version})", bold)
    row = 1
    for line in spec.instructions:
        sheet.merge_range(row, 0, row, 3, line, wrap)
        sheet.set_row(row, LINE_HEIGHT * _lines(line, 18 + 10 + 50 + 22) + 4)
        row += 1
    row += 1
    sheet.write_row(row, 0, ["列名", "是否必填", "填写要求", "示例"], bold)
    header_row = row
    sheet.set_row(header_row, LINE_HEIGHT + 5)
    for column in (column for column in spec.columns if column.in_template):
        row += 1
        requirement = _requirement(column)
        sheet.write_row(
            row, 0, [column.header, "必填" if column.required else "选填", requirement, column.example], cell
        )
        sheet.set_row(row, LINE_HEIGHT * max(_lines(requirement, 50), _lines(column.example, 22)) + 4)
    sheet.set_paper(9)  # A4 portrait, one page wide, the column table's header on every page
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    sheet.repeat_rows(header_row)
    sheet.print_area(0, 0, row, 3)
    sheet.set_footer("&C第 &P 页,共 &N 页")


LINE_HEIGHT = 15  # points, a line of 11 pt 宋体


def _requirement(column: Column) -> str:
    """What to fill in: the choices, unless the help text already names every one of them."""
    if column.choices and not all(choice in column.help for choice in column.choices):
        return f"可选:{'、'.join(column.choices)}。{column.help}"
    return column.help


def _lines(text: str, width: int) -> int:
    """Lines `text` wraps to in `width` characters (a Chinese character is two wide)."""
    columns = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text or "")
    return max(1, -(-columns // (width - 1)))
