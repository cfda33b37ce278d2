"""Workbooks made independently, the way union offices make them in Excel, WPS or LibreOffice: each 部门 sheet
typed by a different person (its own column order and words), 填表说明 and 下拉选项 sheets, a 汇总 typed by hand,
合计 / 小计 rows, footers and labels merged across, two-row headers, merged 部门 / 困难类别 columns, last year's
list left visible, and files that are lists of people but none of our forms.

Written with openpyxl and xlsxwriter (not with tests/workbooks.py), each builder returning what it put in, so a
test compares what reaches the outputs with the builder's own data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.worksheet import Worksheet

from tests.factory import Athlete, Person

# A header word per column, as different people write it; value picks the person's field.
Field = Callable[[Person], Any]
FIELDS: dict[str, Field] = {
    "name": lambda p: p.name,
    "gender": lambda p: p.gender,
    "id": lambda p: p.id_number,
    "phone": lambda p: p.phone,
    "tier": lambda p: p.tier,
    "cause": lambda p: p.cause,
    "household": lambda p: p.household,
    "income": lambda p: p.income,
    "expense": lambda p: p.expense,
    "amount": lambda p: p.amount,
    "goods": lambda p: p.goods,
    "remark": lambda p: p.remark,
}

# three 部门 clerks' headers: (header text, field), each in their own order and words
LAYOUT_OFFICE = (
    ("序号", None),
    ("姓名", "name"),
    ("性别", "gender"),
    ("身份证号码", "id"),
    ("手机号", "phone"),
    ("困难程度", "tier"),
    ("致困原因", "cause"),
    ("家庭人口数", "household"),
    ("家庭年收入", "income"),
    ("刚性支出", "expense"),
    ("慰问金(元)", "amount"),
    ("备注", "remark"),
)
LAYOUT_FINANCE = (
    ("身份证号", "id"),
    ("职工姓名", "name"),
    ("联系方式", "phone"),
    ("困难类别", "tier"),
    ("困难原因", "cause"),
    ("家庭人数", "household"),
    ("年收入", "income"),
    ("刚性支出(元)", "expense"),
    ("慰问品折款", "goods"),
    ("慰问金额", "amount"),
)
LAYOUT_LOGISTICS = (
    ("序 号", None),
    ("困难职工姓名", "name"),
    ("证件号码", "id"),
    ("电话", "phone"),
    ("帮扶类别", "tier"),
    ("困难原因", "cause"),
    ("人口", "household"),
    ("家庭年总收入(元)", "income"),
    ("医疗教育等刚性支出", "expense"),
    ("发放金额(元)", "amount"),
    ("物资折款(元)", "goods"),
)
LAYOUTS = (LAYOUT_OFFICE, LAYOUT_FINANCE, LAYOUT_LOGISTICS)


def row_of(layout: Sequence[tuple[str, str | None]], number: int, person: Person) -> list[Any]:
    return [number if key is None else FIELDS[key](person) for _, key in layout]


def header_of(layout: Sequence[tuple[str, str | None]]) -> list[str]:
    return [text for text, _ in layout]


def column_of(layout: Sequence[tuple[str, str | None]], key: str) -> int:
    """1-based column of `key` in `layout`."""
    return next(index for index, (_, field_key) in enumerate(layout, start=1) if field_key == key)


def letter(column: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(column)


def amount_sum(people: Sequence[Person]) -> Decimal:
    return sum((Decimal(str(person.amount)) for person in people), Decimal(0))


def goods_sum(people: Sequence[Person]) -> Decimal:
    return sum((Decimal(str(person.goods)) for person in people), Decimal(0))


THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


@dataclass
class Sheet:
    """Where one 部门's rows went: the sheet, the Excel row of its first person, the layout."""

    name: str
    people: list[Person]
    first_row: int
    layout: Sequence[tuple[str, str | None]]


@dataclass
class Made:
    path: Path
    sheets: list[Sheet] = field(default_factory=list)

    @property
    def people(self) -> list[Person]:
        return [person for sheet in self.sheets for person in sheet.people]


def _title_block(sheet: Worksheet, title: str, unit: str, width: int, date: str = "2026年11月18日") -> None:
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet["A1"].font = Font(name="宋体", size=16, bold=True)
    sheet["A1"].alignment = Alignment(horizontal="center")
    line = [f"填报单位(盖章):{unit}"] + [None] * (width - 3) + [f"填报日期:{date}"]
    sheet.append(line)


def _body(sheet: Worksheet, layout: Sequence[tuple[str, str | None]], people: Sequence[Person]) -> int:
    """Header and people, boxed, IDs and phones as text; returns the Excel row of the first person."""
    sheet.append(header_of(layout))
    first = sheet.max_row + 1
    for number, person in enumerate(people, start=1):
        sheet.append(row_of(layout, number, person))
    for row in sheet.iter_rows(min_row=first - 1, max_row=sheet.max_row, max_col=len(layout)):
        for cell in row:
            cell.border = BOX
            if isinstance(cell.value, str) and cell.value.isdigit():
                cell.number_format = "@"
    return first


def _footer(sheet: Worksheet, width: int) -> None:
    """填表人 / 审核人 / 联系电话 on one line merged across the table, as offices print it."""
    sheet.append([])
    sheet.append(["填表人:张敏      审核人:李强      联系电话:0591-83001234"])
    row = sheet.max_row
    sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)


def department_sheets(path: Path, unit: str, departments: dict[str, Sequence[Person]], *, footer: bool = True) -> Made:
    """One sheet per 部门, each typed by a different clerk: its own layout, title and footer."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    made = Made(path)
    for index, (name, people) in enumerate(departments.items()):
        layout = LAYOUTS[index % len(LAYOUTS)]
        sheet = workbook.create_sheet(name)
        _title_block(sheet, f"{name}2026年困难职工送温暖慰问名单", unit, len(layout))
        first = _body(sheet, layout, people)
        if footer:
            _footer(sheet, len(layout))
        made.sheets.append(Sheet(name, list(people), first, layout))
    workbook.save(path)
    return made


def with_instructions_and_dropdowns(path: Path, unit: str, departments: dict[str, Sequence[Person]]) -> Made:
    """xlsxwriter, as a unit's IT-minded clerk builds it: a 填表说明 first sheet, a sheet per 部门 whose 困难类别 /
    致困原因 cells are dropdowns fed from a hidden 下拉选项 sheet."""
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    text = workbook.add_format({"num_format": "@"})
    notes = workbook.add_worksheet("填表说明")
    for row, line in enumerate(
        (
            "填表说明",
            "1. 每个部门一张工作表,姓名、身份证号码、联系电话必填。",
            "2. 困难类别:深度困难 / 相对困难 / 意外致困。",
            "3. 慰问金额单位为元。",
        )
    ):
        notes.write(row, 0, line)
    made = Made(path)
    layout = LAYOUT_OFFICE
    for name, people in departments.items():
        sheet = workbook.add_worksheet(name)
        sheet.merge_range(0, 0, 0, len(layout) - 1, f"{unit}{name}困难职工慰问名单")
        sheet.write(1, 0, f"填报单位:{unit}")
        sheet.write_row(2, 0, header_of(layout))
        for offset, person in enumerate(people):
            values = row_of(layout, offset + 1, person)
            for column, value in enumerate(values):
                sheet.write_string(3 + offset, column, value, text) if isinstance(value, str) else sheet.write(
                    3 + offset, column, value
                )
        tier_column = column_of(layout, "tier") - 1
        sheet.data_validation(3, tier_column, 200, tier_column, {"validate": "list", "source": "=下拉选项!$A$1:$A$3"})
        made.sheets.append(Sheet(name, list(people), 4, layout))
    options = workbook.add_worksheet("下拉选项")
    for row, value in enumerate(("深度困难", "相对困难", "意外致困")):
        options.write(row, 0, value)
    for row, value in enumerate(("因病", "因学", "因业", "因灾", "因残", "其他")):
        options.write(row, 1, value)
    options.hide()
    workbook.close()
    return made


def typed_summary_first(
    path: Path, unit: str, departments: dict[str, Sequence[Person]], wrong: tuple[str, Decimal] | None = None
) -> Made:
    """A first sheet 汇总表 whose per-部门 户数 / 金额 rows were typed by hand (no formulas), then the 部门 sheets.
    `wrong` (部门, amount) types that 部门's amount wrong."""
    workbook = Workbook()
    summary = workbook.active
    summary.title = "汇总表"
    summary.append([f"{unit}2026年送温暖慰问汇总表"])
    summary.merge_cells("A1:D1")
    summary.append(["序号", "部门", "慰问户数", "慰问金额(元)"])
    for number, (name, people) in enumerate(departments.items(), start=1):
        stated = wrong[1] if wrong and wrong[0] == name else amount_sum(people)
        summary.append([number, name, len(people), float(stated)])
    total_people = sum(len(people) for people in departments.values())
    total = sum((amount_sum(people) for people in departments.values()), Decimal(0))
    summary.append(["合计", None, total_people, float(total)])
    summary.merge_cells(start_row=summary.max_row, start_column=1, end_row=summary.max_row, end_column=2)
    made = Made(path)
    for name, people in departments.items():
        sheet = workbook.create_sheet(name)
        _title_block(sheet, f"{name}困难职工慰问名单", unit, len(LAYOUT_OFFICE))
        first = _body(sheet, LAYOUT_OFFICE, people)
        made.sheets.append(Sheet(name, list(people), first, LAYOUT_OFFICE))
    workbook.save(path)
    return made


def master_and_departments(
    path: Path, unit: str, departments: dict[str, Sequence[Person]], master_amounts: dict[int, Any] | None = None
) -> Made:
    """A 总表 listing everyone (with a 部门 column) first, then one sheet per 部门 copied out of it.
    `master_amounts` {index in the 总表: amount} types those people's amounts differently on the 总表."""
    workbook = Workbook()
    master = workbook.active
    master.title = "总表"
    layout = (("序号", None), ("部门", "dept"), *LAYOUT_OFFICE[1:])
    _title_block(master, f"{unit}困难职工慰问名单(总表)", unit, len(layout))
    master.append(header_of(layout))
    number = 0
    for name, people in departments.items():
        for person in people:
            number += 1
            amount = (master_amounts or {}).get(number - 1, person.amount)
            master.append([number, name, *row_of(LAYOUT_OFFICE[1:], 0, replace(person, amount=amount))])
    made = Made(path)
    for name, people in departments.items():
        sheet = workbook.create_sheet(name)
        _title_block(sheet, f"{name}困难职工慰问名单", unit, len(LAYOUT_OFFICE))
        first = _body(sheet, LAYOUT_OFFICE, people)
        made.sheets.append(Sheet(name, list(people), first, LAYOUT_OFFICE))
    workbook.save(path)
    return made


def subtotals_and_merged_total(
    path: Path, unit: str, groups: dict[str, Sequence[Person]], typed_first_subtotal: float | None = None
) -> Made:
    """One sheet, people grouped by 工作单位 with a 小计 row after each group, a 合计 label merged across A:E,
    =SUM formulas (no cached values: saved by openpyxl, so pass it through LibreOffice), a merged footer."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "慰问名单"
    layout = (("序号", None), ("工作单位", "workplace"), *LAYOUT_OFFICE[1:])
    width = len(layout)
    _title_block(sheet, f"{unit}困难职工慰问名单", unit, width)
    sheet.append(header_of(layout))
    amount = letter(column_of(layout, "amount"))
    made = Made(path)
    subtotal_rows = []
    number = 0
    for workplace, people in groups.items():
        first = sheet.max_row + 1
        for person in people:
            number += 1
            sheet.append([number, workplace, *row_of(LAYOUT_OFFICE[1:], 0, person)])
        last = sheet.max_row
        sheet.append(["小计", None, None, None, None])
        row = sheet.max_row
        sheet.merge_cells(f"A{row}:E{row}")
        sheet[f"{amount}{row}"] = f"=SUM({amount}{first}:{amount}{last})"
        if typed_first_subtotal is not None and not subtotal_rows:
            sheet[f"{amount}{row}"] = typed_first_subtotal
        subtotal_rows.append(row)
        made.sheets.append(Sheet(workplace, list(people), first, layout))
    sheet.append(["合计"])
    row = sheet.max_row
    sheet.merge_cells(f"A{row}:E{row}")
    sheet[f"{amount}{row}"] = "=" + "+".join(f"{amount}{r}" for r in subtotal_rows)
    _footer(sheet, width)
    workbook.save(path)
    return made


def merged_department_ticks(path: Path, unit: str, teams: dict[str, Sequence[Athlete]], events: Sequence[str]) -> Made:
    """A 运动会报名表 typed by a 学院: 部门 merged over each department's rows, one √ column per event under a
    merged 报名项目 group title (a two-row header), the other headers merged down over both rows."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "报名表"
    base = ["序号", "部门", "姓名", "性别", "身份证号", "联系电话"]
    width = len(base) + len(events)
    sheet.append([f"{unit}2026年教职工趣味运动会报名表"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.append([f"填报单位:{unit}"])
    sheet.append([*base, "报名项目(打√)"])
    sheet.append([None] * len(base) + list(events))
    sheet.merge_cells(start_row=3, start_column=len(base) + 1, end_row=3, end_column=width)
    for column in range(1, len(base) + 1):
        sheet.merge_cells(start_row=3, start_column=column, end_row=4, end_column=column)
    row = 5
    number = 0
    for dept, athletes in teams.items():
        for index, athlete in enumerate(athletes):
            number += 1
            ticks = ["√" if event in athlete.events else None for event in events]
            sheet.append(
                [
                    number,
                    dept if index == 0 else None,
                    athlete.name,
                    athlete.gender,
                    athlete.id_number,
                    athlete.phone,
                    *ticks,
                ]
            )
        if len(athletes) > 1:
            sheet.merge_cells(f"B{row}:B{row + len(athletes) - 1}")
        row += len(athletes)
    _footer(sheet, width)
    workbook.save(path)
    return Made(path)


def _plain_list(
    sheet: Worksheet, unit: str, people: Sequence[Person], title: str, workplace_of: Callable[[int], Any]
) -> None:
    """A one-row-header list with a 工作单位 column (F): title, 填报单位, header, a row a person."""
    layout = (
        ("序号", None),
        ("姓名", "name"),
        ("性别", "gender"),
        ("身份证号", "id"),
        ("联系电话", "phone"),
        ("工作单位", None),
        *LAYOUT_OFFICE[5:11],
    )
    _title_block(sheet, title, unit, len(layout))
    sheet.append(header_of(layout))
    for number, person in enumerate(people, start=1):
        values = row_of(layout, number, person)
        values[5] = workplace_of(number - 1)
        sheet.append(values)


def merged_workplace_with_gaps(path: Path, unit: str, groups: dict[str, Sequence[Person]], *, overrun: int = 0) -> Made:
    """工作单位 (F) merged over each group's rows and over the blank row typed between groups; the last merge runs
    `overrun` rows past the last person (into the empty rows and the 合计 row below), as a merge dragged too far."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "名单"
    layout_width = 12
    _title_block(sheet, f"{unit}困难职工慰问名单", unit, layout_width)
    sheet.append(
        [
            "序号",
            "姓名",
            "性别",
            "身份证号",
            "联系电话",
            "工作单位",
            "困难类别",
            "致困原因",
            "家庭人口",
            "家庭年收入",
            "刚性支出",
            "慰问金额",
        ]
    )
    made = Made(path)
    number = 0
    names = list(groups)
    for position, (workplace, people) in enumerate(groups.items()):
        first = sheet.max_row + 1
        for index, person in enumerate(people):
            number += 1
            sheet.append(
                [
                    number,
                    person.name,
                    person.gender,
                    person.id_number,
                    person.phone,
                    workplace if index == 0 else None,
                    person.tier,
                    person.cause,
                    person.household,
                    person.income,
                    person.expense,
                    person.amount,
                ]
            )
        last = sheet.max_row
        if position < len(names) - 1:
            sheet.append([])  # a blank row between groups, inside the merge
            last += 1
            sheet.merge_cells(f"F{first}:F{last}")
        else:
            sheet.merge_cells(f"F{first}:F{last + overrun}")
        made.sheets.append(Sheet(workplace, list(people), first, ()))
    total_row = sheet.max_row + 1 + max(0, overrun - 2)
    sheet.cell(total_row, 1, "合计")
    sheet.cell(total_row, 12, float(sum(amount_sum(people) for people in groups.values())))
    workbook.save(path)
    return made


def with_extra_sheets(path: Path, unit: str, people: Sequence[Person]) -> Made:
    """A list plus what a copied-around workbook carries: an empty copy of the template (title and header only),
    an empty Sheet2, and last year's list in a very hidden sheet."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "慰问名单"
    _plain_list(sheet, unit, people, f"{unit}困难职工慰问名单", lambda _: "")
    blank = workbook.create_sheet("空白模板")
    _plain_list(blank, "", [], "困难职工慰问名单", lambda _: "")
    workbook.create_sheet("Sheet2")
    old = workbook.create_sheet("去年")
    _plain_list(old, unit, list(people)[:2], f"{unit}2025年困难职工慰问名单", lambda _: "")
    old.sheet_state = "veryHidden"
    workbook.save(path)
    return Made(path, [Sheet("慰问名单", list(people), 4, ())])


def two_years_visible(path: Path, unit: str, last_year: Sequence[Person], this_year: Sequence[Person]) -> Made:
    """Sheets 2025年 and 2026年, both visible: the clerk copied last year's sheet and typed this year's beside it."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for year, people in (("2025", last_year), ("2026", this_year)):
        _plain_list(workbook.create_sheet(f"{year}年"), unit, people, f"{unit}{year}年困难职工慰问名单", lambda _: "")
    workbook.save(path)
    return Made(path, [Sheet("2026年", list(this_year), 4, ())])


def stats_per_town(path: Path, towns: dict[str, dict[str, Any]]) -> Made:
    """A county 统计表 workbook, one sheet per 镇, each the 镇's own two-row-header 统计表 row."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for town, figures in towns.items():
        sheet = workbook.create_sheet(town)
        sheet.append([f"{town}工会送温暖活动统计表"])
        sheet.merge_cells("A1:L1")
        sheet.append([f"填报单位:{town}工会"])
        sheet.append(
            [
                "单位名称",
                "慰问困难职工",
                None,
                "慰问困难农民工",
                None,
                "慰问劳模",
                None,
                "慰问一线职工",
                None,
                "物资折款(元)",
                "合计(元)",
            ]
        )
        sheet.append([None, "户数", "金额(元)", "人数", "金额(元)", "人数", "金额(元)", "人数", "金额(元)"])
        for first in ("B", "D", "F", "H"):
            second = chr(ord(first) + 1)
            sheet.merge_cells(f"{first}3:{second}3")
        for column in ("A", "J", "K"):
            sheet.merge_cells(f"{column}3:{column}4")
        sheet.append(
            [
                f"{town}工会",
                figures["hard_count"],
                figures["hard_amount"],
                figures["migrant_count"],
                figures["migrant_amount"],
                figures["model_count"],
                figures["model_amount"],
                figures["frontline_count"],
                figures["frontline_amount"],
                figures["goods"],
                figures["total"],
            ]
        )
    workbook.save(path)
    return Made(path)


def payroll(path: Path, people: Sequence[Person]) -> Made:
    """An 11月 payroll: 工号 / 姓名 / 部门 / 岗位工资 / 绩效 / 应发 / 扣款 / 实发."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "工资表"
    sheet.append(["2026年11月职工工资发放表"])
    sheet.append(["单位:机关事务中心"])
    sheet.append(
        ["工号", "姓名", "部门", "岗位工资", "薪级工资", "绩效工资", "应发合计", "代扣社保", "实发金额", "签名"]
    )
    for number, person in enumerate(people, start=1):
        sheet.append([f"G{number:03d}", person.name, "办公室", 3000, 1200, 1500, 5700, 600, 5100, None])
    sheet.append(["合计", None, None, 3000 * len(people)])
    workbook.save(path)
    return Made(path)


def address_book(path: Path, people: Sequence[Person]) -> Made:
    """xlsxwriter: 通讯录 with 姓名 / 部门 / 职务 / 手机 / 办公电话 / 邮箱."""
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("通讯录")
    sheet.merge_range(0, 0, 0, 5, "机关工会委员通讯录")
    sheet.write_row(1, 0, ["姓名", "部门", "职务", "手机", "办公电话", "邮箱"])
    for row, person in enumerate(people, start=2):
        sheet.write_row(row, 0, [person.name, "办公室", "委员", person.phone, "0591-83001234", "a@b.cn"])
    workbook.close()
    return Made(path)


def payslip_with_ids(path: Path, people: Sequence[Person]) -> Made:
    """工资条: each person's own header line above their row (as printed to be cut into slips), with 身份证号码."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "工资条"
    header = ["序号", "姓名", "身份证号码", "部门", "联系电话", "基本工资", "津贴补贴", "应发工资", "个税", "实发工资"]
    for number, person in enumerate(people, start=1):
        sheet.append(header)
        sheet.append([number, person.name, person.id_number, "财务科", person.phone, 4000, 800, 4800, 30, 4770])
        sheet.append([])
    workbook.save(path)
    return Made(path)


def list_lacking_amount(path: Path, unit: str, people: Sequence[Person]) -> Made:
    """A 慰问名单 sent before the amounts were decided: every column but 慰问金额."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"
    sheet.append([f"{unit}2026年困难职工慰问对象名单"])
    sheet.append(
        [
            "序号",
            "姓名",
            "性别",
            "身份证号码",
            "联系电话",
            "工作单位",
            "困难类别",
            "致困原因",
            "家庭人口",
            "家庭年收入(元)",
            "备注",
        ]
    )
    for number, person in enumerate(people, start=1):
        sheet.append(
            [
                number,
                person.name,
                person.gender,
                person.id_number,
                person.phone,
                unit,
                person.tier,
                person.cause,
                person.household,
                person.income,
                None,
            ]
        )
    workbook.save(path)
    return Made(path)


def sheets_named_for_the_form(path: Path, unit: str, departments: dict[str, Sequence[Person]], suffix: str) -> Made:
    """A sheet per 部门 named 部门 + the form's word (办公室名单, 财务科名单), no 工作单位 column."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    made = Made(path)
    for name, people in departments.items():
        sheet = workbook.create_sheet(f"{name}{suffix}")
        _title_block(sheet, f"{name}困难职工慰问名单", unit, len(LAYOUT_OFFICE))
        first = _body(sheet, LAYOUT_OFFICE, people)
        made.sheets.append(Sheet(sheet.title, list(people), first, LAYOUT_OFFICE))
    workbook.save(path)
    return made


def registration_sheet_per_department(path: Path, unit: str, teams: dict[str, Sequence[Athlete]], suffix: str) -> Made:
    """xlsxwriter: a 报名表 per 系, sheets named 系 + `suffix` (数学系报名表), no 部门 column, events in one column."""
    workbook = xlsxwriter.Workbook(str(path))
    for dept, athletes in teams.items():
        sheet = workbook.add_worksheet(f"{dept}{suffix}")
        sheet.merge_range(0, 0, 0, 5, f"{dept}教职工趣味运动会报名表")
        sheet.write(1, 0, f"填报单位:{unit}")
        sheet.write_row(2, 0, ["序号", "姓名", "性别", "身份证号", "手机号码", "参赛项目"])
        for row, athlete in enumerate(athletes, start=3):
            sheet.write_row(row, 0, [row - 2, athlete.name, athlete.gender])
            sheet.write_string(row, 3, athlete.id_number)
            sheet.write_string(row, 4, athlete.phone)
            sheet.write_string(row, 5, "、".join(athlete.events))
    workbook.close()
    return Made(path)


def list_with_notes_below(path: Path, unit: str, people: Sequence[Person]) -> Made:
    """A list whose last rows are notes typed in the 姓名 column and a 制表 line, no 合计: 注:… / 说明:…"""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"
    layout = LAYOUT_OFFICE
    _title_block(sheet, f"{unit}困难职工慰问名单", unit, len(layout))
    first = _body(sheet, layout, people)
    sheet.append([None, "注:1. 困难类别按市总工会2026年标准认定;2. 慰问金由工会经费列支。"])
    sheet.append([None, "说明:身份证号码须与本人身份证一致。"])
    sheet.append([None, "制表:张敏", None, None, None, "2026年11月18日"])
    workbook.save(path)
    return Made(path, [Sheet("Sheet1", list(people), first, layout)])


def two_row_header_xlsxwriter(path: Path, unit: str, people: Sequence[Person]) -> Made:
    """xlsxwriter: a header over two rows, 基本情况 / 困难情况 / 慰问情况 group titles merged over their columns,
    序号 merged down; a 合计 row with its label merged across the first four columns."""
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("2026年")
    text = workbook.add_format({"num_format": "@"})
    sheet.merge_range(0, 0, 0, 11, f"{unit}2026年“两节”送温暖困难职工名单")
    sheet.write(1, 0, f"填报单位:{unit}")
    sheet.merge_range(2, 0, 3, 0, "序号")
    sheet.merge_range(2, 1, 2, 4, "基本情况")
    sheet.merge_range(2, 5, 2, 9, "困难情况")
    sheet.merge_range(2, 10, 2, 11, "慰问情况")
    sheet.write_row(
        3,
        1,
        [
            "姓名",
            "性别",
            "身份证号",
            "联系电话",
            "困难类别",
            "致困原因",
            "家庭人口",
            "家庭年收入",
            "刚性支出",
            "慰问金",
            "物资折款",
        ],
    )
    for offset, person in enumerate(people):
        row = 4 + offset
        sheet.write_number(row, 0, offset + 1)
        sheet.write_string(row, 1, person.name)
        sheet.write_string(row, 2, person.gender)
        sheet.write_string(row, 3, person.id_number, text)
        sheet.write_string(row, 4, person.phone, text)
        sheet.write_row(
            row,
            5,
            [person.tier, person.cause, person.household, person.income, person.expense, person.amount, person.goods],
        )
    total = 4 + len(people)
    sheet.merge_range(total, 0, total, 3, "合  计")
    sheet.write_number(total, 10, float(amount_sum(people)))
    sheet.write_number(total, 11, float(goods_sum(people)))
    workbook.close()
    return Made(path, [Sheet("2026年", list(people), 5, ())])
