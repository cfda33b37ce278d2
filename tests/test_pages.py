"""The outputs as printed: page setup, wrapped texts with room for them, charts inside the print area, the 制表 line,
no green "number stored as text" triangles. Read from the workbooks' own XML and from openpyxl."""

from __future__ import annotations

import math
import re
import unicodedata
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string
from stdnum.cn import ric

from tests.conftest import run_samples
from unionbatch.validate import valid_id


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pages")
    assert run_samples(out).exit_code == 1
    return out / "2026-11"


def column_width(sheet, letter: str) -> float:
    """A column's width as written: xlsxwriter writes neighbours of equal width as one <col min max> range, which
    openpyxl files under the range's first letter only."""
    index = column_index_from_string(letter)
    for dimension in sheet.column_dimensions.values():
        if dimension.min and dimension.max and dimension.min <= index <= dimension.max:
            return dimension.width
    return sheet.column_dimensions[letter].width


def _sheet_xml(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as book:
        names = re.findall(r'<sheet name="([^"]+)" sheetId="(\d+)"', book.read("xl/workbook.xml").decode())
        number = next(sheet_id for sheet_name, sheet_id in names if sheet_name == name)
        return book.read(f"xl/worksheets/sheet{number}.xml").decode()


def test_problem_list_wraps_its_messages_with_rows_tall_enough(folder: Path) -> None:
    sheet = load_workbook(folder / "处理报告.xlsx")["问题清单"]
    headers = {cell.value: cell.column_letter for cell in sheet[2]}
    assert sheet.page_setup.orientation == "landscape" and sheet.sheet_properties.pageSetUpPr.fitToPage
    for name in ("问题", "修改方法", "文件"):
        assert sheet[f"{headers[name]}3"].alignment.wrap_text, name
    assert not sheet[f"{headers['代码']}3"].alignment.wrap_text
    width = column_width(sheet, headers["问题"])
    tall = 0
    for row in range(3, sheet.max_row + 1):
        problem = sheet[f"{headers['问题']}{row}"].value or ""
        columns = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in problem)
        lines = math.ceil(columns / (width - 1))  # a Chinese character is two columns wide
        assert (sheet.row_dimensions[row].height or 15) >= 15 * lines, (row, problem)
        tall += lines > 1
    assert tall > 10  # the samples' messages do need the room


def test_wrapped_headers_get_the_height_they_need(folder: Path) -> None:
    book = load_workbook(folder / "处理报告.xlsx")
    files = book["文件"]
    header = {cell.value: cell.column_letter for cell in files[2]}
    assert column_width(files, header["计入汇总行数"]) < 12 + 1  # six characters: two lines
    assert files.row_dimensions[2].height >= 30
    assert book["未报送"].row_dimensions[2].height is None  # headers that fit keep the default height


def test_charts_print_under_their_table(folder: Path) -> None:
    path = folder / "慰问名单汇总.xlsx"
    with zipfile.ZipFile(path) as book:
        workbook = book.read("xl/workbook.xml").decode()
        anchor = re.search(
            r"<xdr:from><xdr:col>(\d+)</xdr:col>.*?<xdr:row>(\d+)</xdr:row>",
            book.read("xl/drawings/drawing1.xml").decode(),
        )
    area = re.search(r'Print_Area" localSheetId="0">按单位汇总!\$A\$1:\$([A-Z]+)\$(\d+)<', workbook)
    column, row = int(anchor.group(1)), int(anchor.group(2))
    sheet = load_workbook(path)["按单位汇总"]
    table_end = max(cell.row for cell in sheet["A"] if cell.value)  # the table and its notes
    assert column == 0 and row >= table_end  # under the notes, not beside the table
    assert int(area.group(2)) >= row + 18  # the chart's rows are printed


def test_every_page_names_the_issuer_date_and_unit(folder: Path) -> None:
    xml = _sheet_xml(folder / "慰问名单汇总.xlsx", "实名制发放表")
    header = re.search(r"<oddHeader>(.*?)</oddHeader>", xml).group(1)
    assert "制表单位:工会办公室" in header and "制表日期:&amp;D" in header and "单位:元" in header
    counts = _sheet_xml(folder / "报名汇总.xlsx", "各部门人数")
    assert "单位:元" not in re.search(r"<oddHeader>(.*?)</oddHeader>", counts).group(1)  # no amounts on it


def test_id_and_phone_columns_show_no_number_as_text_triangle(folder: Path) -> None:
    xml = _sheet_xml(folder / "慰问名单汇总.xlsx", "实名制发放表")
    sheet = load_workbook(folder / "慰问名单汇总.xlsx")["实名制发放表"]
    id_column = next(cell.column_letter for cell in sheet[2] if cell.value and "身份证" in cell.value)
    [sqref] = re.findall(r'<ignoredError sqref="([A-Z]+\d+:[A-Z]+\d+)" numberStoredAsText="1"/>', xml)
    start, end = re.match(r"([A-Z]+)\d+:([A-Z]+)\d+", sqref).groups()
    assert start <= id_column <= end or len(start) < len(id_column) <= len(end)


def test_wide_detail_sheets_print_landscape(folder: Path) -> None:
    sheet = load_workbook(folder / "慰问名单汇总.xlsx")["明细"]
    assert sum(sheet.column_dimensions[letter].width for letter in sheet.column_dimensions) > 100
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.print_title_rows == "$1:$2"  # title and header on every page


def _across(sheet) -> float:
    return sum(column_width(sheet, sheet.cell(2, col).column_letter) for col in range(1, sheet.max_column + 1))


@pytest.mark.parametrize(
    "book, name, whose",
    [
        ("报名汇总.xlsx", "报名明细", "姓名"),
        ("慰问名单汇总.xlsx", "明细", "姓名"),
        ("送温暖统计汇总.xlsx", "明细", "单位名称"),
    ],
)
def test_the_widest_sheets_print_two_pages_across_with_the_person_on_each(
    folder: Path, book: str, name: str, whose: str
) -> None:
    wide = load_workbook(folder / book)[name]
    headers = [cell.value for cell in wide[2]]
    assert _across(wide) > 200  # one page across would print it at about 6 pt
    assert wide.page_setup.fitToWidth == 2 and wide.page_setup.fitToHeight == 0
    last = wide.cell(2, headers.index(whose) + 1).column_letter
    assert wide.print_title_cols == f"$A:${last}"  # 序号 … 姓名 on both pages


def test_a_sheet_that_fits_one_landscape_page_across_stays_one(folder: Path) -> None:
    sheet = load_workbook(folder / "慰问名单汇总.xlsx")["实名制发放表"]
    assert 100 < _across(sheet) <= 200
    assert (sheet.page_setup.fitToWidth or 1) == 1 and not sheet.print_title_cols


TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@pytest.mark.parametrize("name", sorted(path.name for path in TEMPLATES.glob("*.xlsx")))
def test_instructions_sheet_prints_on_a4_one_page_wide_without_repeating_itself(name: str) -> None:
    sheet = load_workbook(TEMPLATES / name)["填表说明"]
    assert sheet.page_setup.paperSize == 9 and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (sheet.page_setup.fitToWidth or 1) == 1 and sheet.page_setup.fitToHeight == 0  # 1 is the default
    assert sheet.print_title_rows
    for row in sheet.iter_rows(min_row=2):
        requirement = row[2].value if len(row) > 2 else None
        if requirement and requirement.startswith("可选:"):
            listed, _, rest = requirement.partition("。")
            assert not all(choice in rest for choice in listed.removeprefix("可选:").split("、")), requirement
        if row[0].value and any(cell.value for cell in row[1:]):
            assert (sheet.row_dimensions[row[0].row].height or 0) >= 15


@pytest.mark.parametrize("name", ["慰问名单.xlsx", "运动会报名表.xlsx"])
def test_template_example_id_passes_our_own_checks_and_agrees_with_the_example_gender(name: str) -> None:
    sheet = load_workbook(TEMPLATES / name)["填表说明"]
    examples = {row[0].value: row[3].value for row in sheet.iter_rows(min_row=2) if len(row) > 3}
    example = examples["身份证号"]
    assert ric.is_valid(example) and valid_id(example)
    assert ("男" if int(example[16]) % 2 else "女") == examples["性别"]


@pytest.mark.parametrize("name", ["个人奖金", "部门奖金"])
def test_prize_sheets_end_with_sign_off_lines_and_notes_span_the_table(folder: Path, name: str) -> None:
    sheet = load_workbook(folder / "积分与奖金.xlsx")[name]
    notes = {cell.row: cell.value for cell in sheet["A"] if isinstance(cell.value, str) and "(盖章)" in cell.value}
    [(row, line)] = notes.items()
    assert line.startswith("经办人:") and "审核人:" in line and "负责人:" in line
    width = max(cell.column for cell in sheet[2] if cell.value)
    spans = {(merged.min_row, merged.min_col, merged.max_col) for merged in sheet.merged_cells.ranges}
    assert (row, 1, width) in spans  # across the table: the print area does not cut it
    budget = [cell.row for cell in sheet["A"] if isinstance(cell.value, str) and "预算" in cell.value]
    assert all((line, 1, width) in spans for line in budget)


def title(path: Path, sheet: str) -> str:
    return load_workbook(path)[sheet]["A1"].value


def test_titles_say_which_period_they_cover(folder: Path) -> None:
    relief = folder / "慰问名单汇总.xlsx"
    assert title(relief, "实名制发放表") == "2026年11月困难职工慰问金实名制发放表"
    assert title(relief, "按单位汇总") == "2026年11月慰问名单按单位汇总"
    assert title(relief, "档案走访") == "困难职工档案2026年11月走访情况(按所属工会)"  # 本期 said as the period
    assert title(folder / "处理报告.xlsx", "文件") == "2026年11月处理报告"
    assert title(folder / "处理报告.xlsx", "未报送") == "2026年11月未报送或被退回的单位"
    assert title(folder / "积分与奖金.xlsx", "个人奖金") == "2026年教职工趣味运动会个人奖金发放表"  # names its year


def test_numbers_keep_a_gap_before_the_next_column(folder: Path) -> None:
    sheet = load_workbook(folder / "慰问名单汇总.xlsx")["实名制发放表"]
    headers = {cell.value: cell.column_letter for cell in sheet[2]}
    assert sheet[f"{headers['合计(元)']}3"].number_format == "#,##0.00_ "  # `_ `: a space's width after the figure
    assert sheet[f"{headers['序号']}3"].number_format == "0_ "


def test_the_report_s_file_list_shows_whole_form_and_file_names(folder: Path) -> None:
    sheet = load_workbook(folder / "处理报告.xlsx")["文件"]
    headers = {cell.value: cell.column_letter for cell in sheet[2]}
    forms = [sheet[f"{headers['表单']}{row}"].value or "" for row in range(3, sheet.max_row + 1)]
    assert "外出活动报名表" in forms  # the longest form name the samples have
    assert column_width(sheet, headers["表单"]) >= 2 * max(len(form) for form in forms) + 1
    for name in ("文件", "批注文件"):
        assert sheet[f"{headers[name]}3"].alignment.wrap_text, name
        width = column_width(sheet, headers[name])
        for row in range(3, sheet.max_row + 1):
            text = sheet[f"{headers[name]}{row}"].value or ""
            columns = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
            assert (sheet.row_dimensions[row].height or 15) >= 15 * math.ceil(columns / (width - 1)), (row, text)


def test_detail_sheets_put_the_total_beside_its_amounts_and_wrap_the_source_file(folder: Path) -> None:
    sheet = load_workbook(folder / "慰问名单汇总.xlsx")["明细"]
    headers = [cell.value for cell in sheet[2]]
    assert headers.index("合计(元)") == headers.index("慰问物资折款(元)") + 1  # not after 备注
    assert headers[-4:] == ["来源单位", "来源文件", "来源工作表", "来源行"]
    letters = {cell.value: cell.column_letter for cell in sheet[2]}
    assert sheet[f"{letters['来源文件']}3"].alignment.wrap_text
    assert column_width(sheet, letters["来源行"]) < 10
