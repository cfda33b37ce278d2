"""Workbooks made the way units make them: one list per 部门 sheet, a 汇总 sheet of formulas over them,
last year's list kept in a hidden sheet, a 部门 column merged over each department's rows, a payroll slip.

Written with openpyxl as a person would in Excel (titles merged across the table, 填报单位 lines), and where
formulas need their values saved, passed through LibreOffice as an office using it would.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from tests.factory import Person

LIST_HEADER = (
    "序号",
    "姓名",
    "性别",
    "身份证号",
    "联系电话",
    "工作单位",
    "困难类别",
    "致困原因",
    "家庭人口",
    "家庭年收入(元)",
    "刚性支出(元)",
    "慰问金额(元)",
    "慰问物资折款(元)",
    "备注",
)
AMOUNT_COLUMN = "L"  # 慰问金额 in LIST_HEADER
TITLE_ROWS = 3  # title, 填报单位 line, header: people from row 4


def list_row(number: int, person: Person, workplace: str = "") -> list[Any]:
    return [
        number,
        person.name,
        person.gender,
        person.id_number,
        person.phone,
        workplace or person.workplace,
        person.tier,
        person.cause,
        person.household,
        person.income,
        person.expense,
        person.amount,
        person.goods,
        person.remark,
    ]


def write_list_sheet(sheet: Worksheet, unit: str, people: Sequence[Person], title: str = "困难职工慰问名单") -> None:
    """A unit's own 慰问名单 sheet: a title merged across the table, 填报单位, the header, a row a person."""
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(LIST_HEADER))
    sheet.append([f"填报单位:{unit}", None, None, None, None, None, None, None, None, "填报日期:2026年11月15日"])
    sheet.append(list(LIST_HEADER))
    for number, person in enumerate(people, start=1):
        sheet.append(list_row(number, person))
    for row in sheet.iter_rows(min_row=TITLE_ROWS + 1, min_col=4, max_col=5):
        for cell in row:
            cell.number_format = "@"


def department_book(path: Path, unit: str, departments: dict[str, Sequence[Person]]) -> Path:
    """One sheet per 部门, each a whole list with its own title and header."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, people in departments.items():
        write_list_sheet(workbook.create_sheet(name), unit, people, title=f"{unit}{name}困难职工慰问名单")
    workbook.save(path)
    return path


def summed_book(
    path: Path, unit: str, schools: dict[str, Sequence[Person]], stated: dict[str, Any] | None = None
) -> Path:
    """A first sheet 汇总 with a row per school (=COUNTA / =SUM over the school's sheet) and a 合计 row, then the
    school sheets. `stated` replaces a formula by a typed figure: {"B4": 99} (B 户数, C 慰问金额)."""
    workbook = Workbook()
    summary = workbook.active
    summary.title = "汇总"
    summary.append([f"{unit}困难职工慰问汇总表"])
    summary.append([f"填报单位:{unit}"])
    summary.append(["学校", "户数", "慰问金额(元)"])
    for name, people in schools.items():
        last = TITLE_ROWS + len(people)
        summary.append(
            [name, f"=COUNTA('{name}'!B4:B{last})", f"=SUM('{name}'!{AMOUNT_COLUMN}4:{AMOUNT_COLUMN}{last})"]
        )
        write_list_sheet(workbook.create_sheet(name), unit, people, title=f"{name}困难职工慰问名单")
    rows = len(schools)
    summary.append(["合计", f"=SUM(B4:B{3 + rows})", f"=SUM(C4:C{3 + rows})"])
    for cell, value in (stated or {}).items():
        summary[cell] = value
    workbook.save(path)
    return path


def amount_sum(people: Sequence[Person]) -> Decimal:
    return sum((Decimal(str(person.amount)) for person in people), Decimal(0))


TWO_ROW_UPPER = (
    "序号",
    "姓名",
    "性别",
    "身份证号",
    "联系电话",
    "工作单位",
    "困难情况",
    None,
    None,
    None,
    None,
    "慰问金额(元)",
    "慰问物资折款(元)",
    "备注",
)
TWO_ROW_LOWER = (
    None,
    None,
    None,
    None,
    None,
    None,
    "困难类别",
    "致困原因",
    "家庭人口",
    "家庭年收入(元)",
    "刚性支出(元)",
    None,
    None,
    None,
)


def two_row_header_sheet(sheet: Worksheet, unit: str, people: Sequence[Person]) -> None:
    """A 慰问名单 whose header takes two rows: 困难情况 merged over its five sub-headers, the other headers merged
    down over both rows (as people lay it out by hand). People from row 5."""
    sheet.append([f"{unit}2026年困难职工慰问名单"])
    sheet.merge_cells("A1:N1")
    sheet.append([f"填报单位:{unit}"])
    sheet.append(list(TWO_ROW_UPPER))
    sheet.append(list(TWO_ROW_LOWER))
    sheet.merge_cells("G3:K3")
    for index, upper in enumerate(TWO_ROW_UPPER, start=1):
        if upper and TWO_ROW_LOWER[index - 1] is None:
            sheet.merge_cells(start_row=3, start_column=index, end_row=4, end_column=index)
    for number, person in enumerate(people, start=1):
        sheet.append(list_row(number, person))


def hidden_last_year_book(
    path: Path, unit: str, this_year: Sequence[Person], last_year: Sequence[Person], only_hidden: bool = False
) -> Path:
    """This year's list on a visible sheet with a two-row header; last year's list, on our plain one-row header
    (it matches more columns at once), kept in a hidden sheet."""
    workbook = Workbook()
    current = workbook.active
    current.title = "2026年"
    if only_hidden:
        current.append(["说明:名单见隐藏的工作表"])
    else:
        two_row_header_sheet(current, unit, this_year)
    old = workbook.create_sheet("2025年")
    write_list_sheet(old, unit, last_year, title=f"{unit}2025年困难职工慰问名单")
    old.sheet_state = "hidden"
    workbook.save(path)
    return path


def merged_workplace_book(
    path: Path, unit: str, groups: dict[str, Sequence[Person]], merged_tier: tuple[int, int, str] | None = None
) -> Path:
    """One sheet; the 工作单位 column merged over each workplace's rows, the value in the first cell only.
    `merged_tier` (first row, last row, value) merges 困难类别 over those rows too."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "慰问名单"
    people = [person for members in groups.values() for person in members]
    write_list_sheet(sheet, unit, people)
    row = TITLE_ROWS + 1
    for workplace, members in groups.items():
        sheet[f"F{row}"] = workplace
        for offset in range(1, len(members)):
            sheet[f"F{row + offset}"] = None
        if len(members) > 1:
            sheet.merge_cells(f"F{row}:F{row + len(members) - 1}")
        row += len(members)
    if merged_tier:
        first, last, value = merged_tier
        sheet[f"G{first}"] = value
        for number in range(first + 1, last + 1):
            sheet[f"G{number}"] = None
        sheet.merge_cells(f"G{first}:G{last}")
    workbook.save(path)
    return path


def merged_department_registration(path: Path, unit: str, teams: dict[str, Sequence[Any]]) -> Path:
    """A home-made 运动会报名表: 部门 merged over each department's rows, events in one 报名项目 column."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "报名表"
    sheet.append([f"{unit}教职工趣味运动会报名表"])
    sheet.merge_cells("A1:F1")
    sheet.append([f"填报单位:{unit}"])
    sheet.append(["部门", "姓名", "性别", "身份证号", "联系电话", "报名项目"])
    row = 4
    for dept, athletes in teams.items():
        for number, athlete in enumerate(athletes):
            sheet.append(
                [
                    dept if number == 0 else None,
                    athlete.name,
                    athlete.gender,
                    athlete.id_number,
                    athlete.phone,
                    "、".join(athlete.events),
                ]
            )
        sheet.merge_cells(f"A{row}:A{row + len(athletes) - 1}")
        row += len(athletes)
    workbook.save(path)
    return path


def payroll_slip(path: Path, people: Sequence[Person]) -> Path:
    """A 工资条: 姓名, 身份证号, 部门, 应发工资 — people, but none of our forms."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "11月工资"
    sheet.append(["2026年11月工资条"])
    sheet.append(["序号", "姓名", "身份证号", "部门", "联系电话", "应发工资", "实发工资"])
    for number, person in enumerate(people, start=1):
        sheet.append([number, person.name, person.id_number, "办公室", person.phone, 5000 + number, 4500 + number])
    workbook.save(path)
    return path


def list_without_amounts(path: Path, unit: str, people: Sequence[Person]) -> Path:
    """A 困难职工慰问名单 with everything but the amounts: it resembles the form and lacks 慰问金额."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([f"{unit}困难职工慰问名单"])
    sheet.append([f"填报单位:{unit}"])
    sheet.append(["序号", "姓名", "性别", "身份证号", "联系电话", "困难类别", "致困原因"])
    for number, person in enumerate(people, start=1):
        sheet.append([number, person.name, person.gender, person.id_number, person.phone, person.tier, person.cause])
    workbook.save(path)
    return path
