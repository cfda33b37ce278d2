"""The blank template, generated from the spec: reproducible, protective, and recognised when renamed."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from tests.conftest import ROOT
from tests.factory import fill_template, make_people
from unionbatch.pipeline import check_files
from unionbatch.read import read_book
from unionbatch.recognise import recognise
from unionbatch.records import META_SHEET
from unionbatch.template import write_template

COMMITTED = ROOT / "templates" / "慰问名单.xlsx"


def test_generation_is_reproducible_and_matches_the_committed_template(tmp_path: Path, specs) -> None:
    first = write_template(specs["慰问名单"], tmp_path / "a.xlsx").read_bytes()
    second = write_template(specs["慰问名单"], tmp_path / "b.xlsx").read_bytes()
    assert first == second
    assert first == COMMITTED.read_bytes(), "templates/ is stale: run python process.py templates --out templates"


def test_template_layout_dropdowns_and_text_columns() -> None:
    workbook = load_workbook(COMMITTED)
    assert workbook.sheetnames == ["慰问名单", "填表说明", META_SHEET]
    sheet = workbook["慰问名单"]
    assert sheet["A1"].value == "困难职工慰问名单"
    assert (sheet["A2"].value, sheet["H2"].value) == ("填报单位:", "填报日期:")
    assert [c.value for c in sheet[3]][:5] == ["序号", "姓名*", "性别", "身份证号*", "联系电话*"]
    assert sheet.freeze_panes == "A4"
    assert sheet.column_dimensions["D"].number_format == "@"  # IDs stay text: no 4.40103E+17
    assert sheet.column_dimensions["E"].number_format == "@"
    lists = {str(v.sqref).split(":")[0]: v.formula1 for v in sheet.data_validations.dataValidation if v.type == "list"}
    assert lists == {"C4": '"男,女"', "G4": '"深度困难,相对困难,意外致困"', "H4": '"因病,因学,因业,因灾,因残,其他"'}
    prompts = {str(v.sqref).split(":")[0]: v.prompt for v in sheet.data_validations.dataValidation}
    assert "18 位身份证号" in prompts["D4"]
    assert sheet.print_title_rows == "$1:$3" and sheet.page_setup.orientation == "landscape"
    meta = workbook[META_SHEET]
    assert meta.sheet_state == "veryHidden"
    assert [[c.value for c in row] for row in meta.iter_rows()] == [["kind", "慰问名单"], ["version", "2026.1"]]
    assert "身份证号" in " ".join(str(c.value) for row in workbook["填表说明"].iter_rows() for c in row)


def test_renamed_file_with_changed_title_is_still_recognised(tmp_path: Path, specs, policy) -> None:
    path = fill_template(
        tmp_path / "新建 Microsoft Excel 工作表.xlsx",
        "机关工会",
        make_people(3, seed=31),
        edits={"A1": "2026年12月名单", "B3": "职工", "J3": "收入", "L3": "钱"},
    )
    location = recognise(read_book(path), specs)
    assert location is not None and location.spec.kind == "慰问名单"
    [result] = check_files([path], specs, policy)
    assert {f.code for f in result.findings} == {"column_missing"}  # renamed headers are named, not guessed


def test_unit_built_sheet_without_stored_kind_is_recognised_by_headers(specs) -> None:
    book = read_book(ROOT / "samples" / "inbox" / "园区工会送温暖名单.xlsx")
    assert book.meta == {}
    location = recognise(book, specs)
    assert location is not None and location.sheet.name == "Sheet1" and location.header_row == 2


def test_every_committed_template_is_current(tmp_path: Path) -> None:
    """Every form's template, as the default policy configures it, matches templates/ byte for byte."""
    from unionbatch.policy import load_policy
    from unionbatch.spec import load_specs
    from unionbatch.template import template_name, write_templates

    specs = load_policy(None, load_specs()).specs
    for path in write_templates(specs, tmp_path):
        committed = ROOT / "templates" / path.name
        assert path.read_bytes() == committed.read_bytes(), f"templates/{path.name} is stale"
    assert {template_name(spec) for spec in specs.values()} == {path.name for path in (ROOT / "templates").iterdir()}
