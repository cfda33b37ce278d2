"""The annotated copy keeps what the sender made: pictures (WPS's in-cell ones too), charts, comments, macros
dropped; marked cells and the 错误清单 open in openpyxl and in LibreOffice."""

from __future__ import annotations

import base64
import re
import zipfile
from pathlib import Path

import xlsxwriter
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import MergedCell

from tests.annotated import LIST_HEADER, header_row, listed
from tests.conftest import CORPUS
from tests.factory import libreoffice_convert, make_people
from tests.test_mail import drop_eml, parse, unit_mail, write_policy
from unionbatch.annotate import _add_list_sheet, list_sheet
from unionbatch.findings import make_finding
from unionbatch.mark import CellMark, mark_package, xml_text
from unionbatch.pipeline import run_batch

PEOPLE = make_people(6, seed=71)
HEADER = ["姓名", "身份证号", "联系电话", "困难类别", "致困原因", "家庭人口", "家庭年收入", "刚性支出", "慰问金额"]
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)
WPS_IMAGE_ID = "ID_6F1D0C2B9A8E4C7DB3A1"
# The parts marking may change; every other part of the sender's package must come back byte for byte.
MAY_CHANGE = re.compile(
    r"\[Content_Types\]\.xml|xl/workbook\.xml|xl/_rels/workbook\.xml\.rels|xl/styles\.xml"
    r"|xl/worksheets/sheet1\.xml|xl/worksheets/_rels/sheet1\.xml\.rels|xl/comments\d*\.xml|xl/drawings/vmlDrawing\d+\.vml"
)


def own_list(path: Path, picture: bool = False, chart: bool = False, wps_image: bool = False) -> Path:
    """A unit's list (xlsxwriter, as a program or Excel writes it) with 联系电话 wrong in C3 and 困难类别 wrong in D5."""
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    sheet = workbook.add_worksheet("Sheet1")
    sheet.write(0, 0, "填报单位:甲工会", workbook.add_format({"bold": True, "font_size": 14}))
    sheet.write_row(1, 0, HEADER, workbook.add_format({"bold": True, "border": 1}))
    money = workbook.add_format({"num_format": "#,##0.00", "font_color": "#1F4E79", "border": 1})
    for row, p in enumerate(PEOPLE, start=2):
        values = [p.name, p.id_number, p.phone, p.tier, p.cause, p.household, p.income, p.expense]
        sheet.write_row(row, 0, values)
        sheet.write_number(row, 8, p.amount, money)
    sheet.write(2, 2, "12345")
    sheet.write(4, 3, "深度困难\x02")  # a control character pasted from another system
    sheet.write_comment("A4", "单位自己的批注:此人已调岗")
    if picture:
        image = path.parent.parent / "照片.png"  # beside the inbox, not in it
        image.write_bytes(PNG)
        sheet.insert_image("K2", str(image), {"x_scale": 40, "y_scale": 40})
    if picture:
        sheet.insert_textbox("K20", "材料已另附", {"width": 160, "height": 40})  # a shape
    if chart:
        bars = workbook.add_chart({"type": "column"})
        bars.add_series({"categories": "=Sheet1!$A$3:$A$8", "values": "=Sheet1!$I$3:$I$8"})
        sheet.insert_chart("K8", bars)
    if wps_image:
        sheet.write_formula(
            "J3", f'=_xlfn.DISPIMG("{WPS_IMAGE_ID}",1)', None, f'=DISPIMG("{WPS_IMAGE_ID}",1)'
        )  # a photo in the cell, as WPS writes it
    workbook.close()
    return with_wps_cell_images(path) if wps_image else path


def with_wps_cell_images(path: Path) -> Path:
    """Add the parts WPS writes for a picture placed in a cell: xl/cellimages.xml, its rels and the image."""
    cell_images = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<etc:cellImages xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        'xmlns:etc="http://www.wps.cn/officeDocument/2017/etCustomData"><etc:cellImage><xdr:pic><xdr:nvPicPr>'
        f'<xdr:cNvPr id="2" name="{WPS_IMAGE_ID}" descr="照片"/><xdr:cNvPicPr><a:picLocks noChangeAspect="1"/>'
        '</xdr:cNvPicPr></xdr:nvPicPr><xdr:blipFill><a:blip r:embed="rId1"/><a:stretch><a:fillRect/></a:stretch>'
        '</xdr:blipFill><xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="952500" cy="1270000"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr></xdr:pic></etc:cellImage></etc:cellImages>'
    )
    image_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" '
        'Target="media/image1.png"/></Relationships>'
    )
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts["xl/cellimages.xml"] = cell_images.encode()
    parts["xl/_rels/cellimages.xml.rels"] = image_rels.encode()
    parts["xl/media/image1.png"] = PNG
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rId99" Type="http://www.wps.cn/officeDocument/2020/cellImage" '
        b'Target="cellimages.xml"/></Relationships>',
    )
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Default Extension="png" ContentType="image/png"/><Override PartName="/xl/cellimages.xml" '
        b'ContentType="application/vnd.wps-officedocument.cellimage+xml"/></Types>',
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return path


def annotate_via_run(tmp_path: Path, source: Path):
    report = run_batch(source.parent, tmp_path / "out", "2026-04")
    [result] = report.files
    assert result.annotated is not None
    return result


def assert_everything_kept(original: bytes, copy: Path) -> set[str]:
    """Every part of the original is in the copy; those marking must not touch are byte for byte the same."""
    original_path = copy.with_name("original.zip")
    original_path.write_bytes(original)
    with zipfile.ZipFile(original_path) as before, zipfile.ZipFile(copy) as after:
        assert after.testzip() is None
        kept = set(after.namelist())
        changed = set()
        for name in before.namelist():
            assert name in kept, f"{name} lost"
            if before.read(name) != after.read(name):
                changed.add(name)
    assert all(MAY_CHANGE.fullmatch(name) for name in changed), changed
    return changed


def libreoffice_view(copy: Path, work: Path) -> str:
    """content.xml of the copy as LibreOffice saves it again (.ods): what LibreOffice understood of it."""
    ods = libreoffice_convert(copy, work / f"{copy.stem}.ods", "calc8")
    with zipfile.ZipFile(ods) as archive:
        return archive.read("content.xml").decode()


def test_copy_of_a_workbook_with_a_picture_and_a_chart_keeps_them_and_marks_the_cells(tmp_path: Path) -> None:
    source = own_list(tmp_path / "inbox" / "名单.xlsx", picture=True, chart=True)
    original = source.read_bytes()
    result = annotate_via_run(tmp_path, source)
    changed = assert_everything_kept(original, result.annotated)
    assert {"xl/styles.xml", "xl/worksheets/sheet1.xml"} <= changed  # the marks really are in the package
    assert result.annotation_note is None
    copy = load_workbook(result.annotated)
    assert copy.sheetnames == ["错误清单", "Sheet1"]
    sheet = copy["Sheet1"]
    by_cell = {f.cell: f for f in result.findings}
    assert {"C3", "D5"} <= set(by_cell)
    for cell, finding in by_cell.items():
        assert sheet[cell].fill.start_color.rgb == ("FFFFC7CE" if finding.severity == "error" else "FFFFEB9C")
        assert xml_text(finding.problem) in sheet[cell].comment.text
    assert sheet["I3"].number_format == "#,##0.00" and sheet["I3"].font.color.rgb == "FF1F4E79"  # sender's style
    assert sheet["A4"].comment.text.startswith("单位自己的批注")  # the sender's comment, untouched
    assert sheet["B3"].fill.fill_type is None
    rows = listed(copy["错误清单"])
    assert [(row["位置"], row["姓名"]) for row in rows] == [
        (f"Sheet1!{c}", by_cell_name(c)) for c in sorted_cells(by_cell)
    ]
    content = libreoffice_view(result.annotated, tmp_path)
    assert content.index('table:name="错误清单"') < content.index('table:name="Sheet1"')
    assert content.count("<draw:frame") >= 2 and "<draw:custom-shape" in content  # picture, chart; the text box
    assert "材料已另附" in content
    assert content.count("<office:annotation") == len(by_cell) + 1
    assert by_cell["C3"].problem in content


def by_cell_name(cell: str) -> str:
    return PEOPLE[int(cell[1:]) - 3].name


def sorted_cells(cells) -> list[str]:
    return sorted(cells, key=lambda cell: (int(cell[1:]), cell[0]))


def test_copy_of_a_wps_workbook_keeps_its_pictures_in_cells(tmp_path: Path) -> None:
    source = own_list(tmp_path / "inbox" / "名单.xlsx", wps_image=True)
    original = source.read_bytes()
    result = annotate_via_run(tmp_path, source)
    assert_everything_kept(original, result.annotated)
    with zipfile.ZipFile(result.annotated) as copy:
        rels = copy.read("xl/_rels/workbook.xml.rels").decode()
        sheet = copy.read("xl/worksheets/sheet1.xml").decode()
        types = copy.read("[Content_Types].xml").decode()
    assert 'Target="cellimages.xml"' in rels and "wps.cn/officeDocument/2020/cellImage" in rels
    assert "application/vnd.wps-officedocument.cellimage+xml" in types
    assert (
        f"<f>_xlfn.DISPIMG(&quot;{WPS_IMAGE_ID}&quot;,1)</f>" in sheet or f'_xlfn.DISPIMG("{WPS_IMAGE_ID}",1)' in sheet
    )
    copy = load_workbook(result.annotated)
    assert copy["Sheet1"]["C3"].comment is not None
    assert "C3" in " ".join(row["位置"] for row in listed(copy["错误清单"]))
    assert 'table:name="错误清单"' in libreoffice_view(result.annotated, tmp_path)


def test_copy_of_a_workbook_saved_by_libreoffice_keeps_it(tmp_path: Path) -> None:
    made = own_list(tmp_path / "made" / "名单.xlsx", picture=True)
    (tmp_path / "inbox").mkdir()
    source = libreoffice_convert(made, tmp_path / "inbox" / "名单.xlsx", "Calc MS Excel 2007 XML")
    original = source.read_bytes()
    with zipfile.ZipFile(source) as package:
        assert b"LibreOffice" in package.read("docProps/app.xml")
    result = annotate_via_run(tmp_path, source)
    assert_everything_kept(original, result.annotated)
    copy = load_workbook(result.annotated)
    assert copy["Sheet1"]["C3"].fill.start_color.rgb == "FFFFC7CE"
    assert "此人已调岗" in copy["Sheet1"]["A4"].comment.text
    content = libreoffice_view(result.annotated, tmp_path)
    assert "<draw:frame" in content and content.count("<office:annotation") >= 3


def test_macros_are_dropped_and_the_copy_is_a_plain_xlsx(tmp_path: Path) -> None:
    source = tmp_path / "inbox" / "带宏.xlsm"
    source.parent.mkdir()
    source.write_bytes((CORPUS / "number_format.xlsm").read_bytes())
    findings = [make_finding("unit_missing", source.name)]
    target = tmp_path / "带宏_批注.xlsx"
    from unionbatch.annotate import annotate_copy

    copy = annotate_copy(source, findings, target)
    assert copy is not None and copy.note is None
    with zipfile.ZipFile(target) as package:
        assert not any("vba" in name.lower() for name in package.namelist())
        assert b"macroEnabled" not in package.read("[Content_Types].xml")
    assert load_workbook(target).sheetnames[0] == "错误清单"


def test_a_copy_that_is_rebuilt_says_what_it_lost_on_its_list_and_in_the_reply(tmp_path: Path) -> None:
    made = own_list(tmp_path / "made" / "名单.xlsx", picture=True)
    inbox = tmp_path / "inbox"
    (tmp_path / "made").mkdir(exist_ok=True)
    ods = libreoffice_convert(made, tmp_path / "made" / "名单.ods", "calc8")
    drop_eml(inbox, unit_mail("jia@units.example", {"名单.ods": ods.read_bytes()}), "甲.eml")
    report = run_batch(inbox, tmp_path / "out", "2026-04", write_policy(tmp_path))
    [result] = report.files
    note = result.annotation_note
    assert note and "图片 1 个" in note and "形状或文本框 1 个" in note and "格式" in note
    copy = load_workbook(result.annotated)["错误清单"]
    assert result.annotation_note in [row[0] for row in copy.iter_rows(max_row=header_row(copy), values_only=True)]
    [reply] = [parse(path) for path in (report.folder / "outbox").iterdir()]
    assert result.annotation_note in reply.get_body(("plain",)).get_content()


def test_a_control_character_in_a_value_is_shown_not_fatal(tmp_path: Path) -> None:
    source = own_list(tmp_path / "inbox" / "名单.xlsx")
    result = annotate_via_run(tmp_path, source)
    [finding] = [f for f in result.findings if f.cell == "D5"]
    assert "\x02" in finding.value
    row = next(row for row in listed(load_workbook(result.annotated)["错误清单"]) if row["位置"] == "Sheet1!D5")
    assert row["填写内容"] == "深度困难\ufffd"
    workbook = Workbook()  # the openpyxl fallback writes the same list
    _add_list_sheet(workbook, list_sheet([finding], {}, None))
    assert "深度困难\ufffd" in [row[3] for row in workbook["错误清单"].iter_rows(values_only=True)]
    marked = tmp_path / "marked.xlsx"
    mark_package(
        result.path, marked, {("Sheet1", "D5"): CellMark("error", finding.message)}, list_sheet([finding], {}, None)
    )
    assert "“深度困难\ufffd”" in load_workbook(marked)["Sheet1"]["D5"].comment.text


def test_error_list_prints_on_landscape_a4_in_song_ordered_by_row(tmp_path: Path) -> None:
    source = own_list(tmp_path / "inbox" / "名单.xlsx")
    result = annotate_via_run(tmp_path, source)
    sheet = load_workbook(result.annotated)["错误清单"]
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize in (9, "9")
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth in (1, "1")
    assert sheet.page_setup.fitToHeight in (0, "0")
    title = sheet["A1"].value
    errors = sum(f.severity == "error" for f in result.findings)
    assert f"共 {len(result.findings)} 个问题" in title and f"错误 {errors} 个" in title
    top = header_row(sheet)
    assert [c.value for c in sheet[top]] == LIST_HEADER
    cells = [cell for row in sheet.iter_rows() for cell in row if not isinstance(cell, MergedCell)]
    assert all(cell.font.name == "宋体" for cell in cells)  # openpyxl gives merged-over cells no style
    places = [row["位置"] for row in listed(sheet)]
    cells = [place.partition("!")[2] for place in places]
    assert cells == sorted_cells(cells) and len(cells) >= 2


def test_blank_cells_and_rows_are_marked_and_a_returned_copy_gets_one_fresh_list(tmp_path: Path) -> None:
    source = own_list(tmp_path / "名单.xlsx")
    findings = [
        make_finding("unit_missing", source.name, sheet="Sheet1", cell="J4"),  # a cell the row does not hold
        make_finding("unit_missing", source.name, sheet="Sheet1", cell="B12"),  # a row the sheet does not hold
    ]
    marks = {("Sheet1", f.cell): CellMark("error", f.message) for f in findings}
    first, second = tmp_path / "第一次.xlsx", tmp_path / "第二次.xlsx"
    mark_package(source, first, marks, list_sheet(findings, {}, None))
    mark_package(first, second, {("Sheet1", "C3"): CellMark("warning", "再次提交")}, list_sheet(findings[:1], {}, None))
    copy = load_workbook(second)
    assert copy.sheetnames == ["错误清单", "Sheet1"]
    assert len(listed(copy["错误清单"])) == 1
    sheet = copy["Sheet1"]
    assert [sheet[c].fill.start_color.rgb for c in ("J4", "B12", "C3")] == ["FFFFC7CE", "FFFFC7CE", "FFFFEB9C"]
    assert findings[0].problem in sheet["B12"].comment.text and sheet["C3"].comment.text == "再次提交"
    assert sheet["A3"].value == PEOPLE[0].name
    content = libreoffice_view(second, tmp_path)
    assert content.count('table:name="错误清单"') == 1 and content.count("<office:annotation") == 4
