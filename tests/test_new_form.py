"""A new form is a new spec, not new plumbing: two throwaway forms, written here as a package of their own and
loaded the way `schemas/` is, get a template, cell and row checks, duplicates on a key that is not a 身份证号,
consolidated outputs and a reconciliation in their own words, with nothing under unionbatch/ knowing them."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.factory import fill_spec_template
from unionbatch.findings import ERROR, Code
from unionbatch.pipeline import run_batch
from unionbatch.spec import FormSpec, check_specs, finding_codes, load_specs
from unionbatch.template import template_name, write_templates

LENDING, COUNT = "器材借用登记表", "器材统计表"

PACKAGE = {
    "__init__.py": '"""Throwaway forms for tests/test_new_form.py."""\n',
    "lending.py": '''
        """器材借用登记表: every piece of equipment a unit lent, keyed by its 资产编号 (not a person)."""

        from __future__ import annotations

        from dataclasses import dataclass
        from decimal import Decimal

        from unionbatch.compute import decimal_sum, detail_sheet
        from unionbatch.findings import ERROR, Code
        from unionbatch.records import OutColumn, OutSheet, Summary
        from unionbatch.spec import Column, FormSpec, Person, Unique


        @dataclass(frozen=True)
        class LendingPolicy:
            deposit_per_piece: Decimal


        def parse_policy(section):
            return LendingPolicy(Decimal(str(section.get("deposit_per_piece", 100))))


        def deposit_enough(sheet, policy):
            findings = []
            for row, record in sheet.records():
                count, deposit = record["count"], record["deposit"]
                if isinstance(count, Decimal) and isinstance(deposit, Decimal):
                    minimum = count * policy.deposit_per_piece
                    if deposit < minimum:
                        findings.append(sheet.finding("deposit_too_low", row, "deposit", minimum=minimum))
            return findings


        def summarise(frame, policy, batch):
            units = list(dict.fromkeys(frame["source_unit"]))
            rows = [
                [unit, len(frame[frame["source_unit"] == unit]), decimal_sum(frame[frame["source_unit"] == unit]["deposit"])]
                for unit in units
            ]
            by_unit = OutSheet(
                "借用汇总",
                [OutColumn("单位", "text", 16), OutColumn("件次", "int", 8, True), OutColumn("押金(元)", "money", 12, True)],
                rows,
                title="器材借用汇总",
                total_label="合计",
            )
            return Summary([by_unit, detail_sheet(SPEC, frame)], {"pieces": len(frame)})


        SPEC = FormSpec(
            kind="器材借用登记表",
            version="2026.1",
            title="器材借用登记表",
            title_keywords=("器材", "借用"),
            columns=(
                Column("seq", "序号", "text", required=False, row_number=True, width=6),
                Column("asset_no", "资产编号", "text", synonyms=("编号",), example="QC-001"),
                Column("item", "器材名称", "text", example="投影仪"),
                Column("borrower", "借用人", "name", example="张三"),
                Column("count", "数量", "int", example="1"),
                Column("deposit", "押金", "money", example="100"),
            ),
            parse_policy=parse_policy,
            summarise=summarise,
            policy_section="lending",
            row_rules=(deposit_enough,),
            key_column="asset_no",
            unique=Unique(("asset_no",), subject="件器材"),
            person=Person(name="borrower"),
            total_columns=("count", "deposit"),
            min_header_matches=3,
            distinctive=(("asset_no",),),
            codes={
                "deposit_too_low": Code(
                    ERROR, "押金 {value} 元少于应收的 {minimum} 元", "请按每件器材收足押金", title="押金不足"
                ),
            },
        )
    ''',
    "counts.py": '''
        """器材统计表: the figures a unit reports, reconciled with its own 器材借用登记表."""

        from __future__ import annotations

        from unionbatch.compute import detail_sheet
        from unionbatch.findings import ERROR, WARNING, Code
        from unionbatch.records import Summary
        from unionbatch.spec import Column, FormSpec, Reconcile

        WORDS = {"mismatch_code": "lending_differs", "rejected_code": "lending_returned", "ours": "统计表", "theirs": "登记表"}


        def summarise(frame, policy, batch):
            return Summary([detail_sheet(SPEC, frame)], {"units": len(frame)})


        SPEC = FormSpec(
            kind="器材统计表",
            version="2026.1",
            title="器材借用统计表",
            title_keywords=("器材", "统计"),
            columns=(
                Column("unit_name", "单位名称", "text", required=False),
                Column("lent", "借出件次", "int"),
                Column("deposits", "押金合计", "money"),
            ),
            parse_policy=lambda section: None,
            summarise=summarise,
            policy_section="lending_counts",
            total_columns=("lent", "deposits"),
            min_header_matches=2,
            distinctive=(("lent",), ("deposits",)),
            reconcile=(
                Reconcile("lent", "器材借用登记表", None, "借出件次", **WORDS),
                Reconcile("deposits", "器材借用登记表", "deposit", "押金合计(元)", **WORDS),
            ),
            codes={
                "lending_differs": Code(
                    ERROR,
                    "统计的“{field}”为 {value},登记表({other_file})合计为 {other},相差 {difference}",
                    "请按登记表改正统计",
                    title="统计与登记不符",
                ),
                "lending_returned": Code(
                    WARNING, "本单位的{other_kind}({other_file})被退回,统计无法核对", "请重报登记表", title="登记表被退回"
                ),
            },
        )
    ''',
}


@pytest.fixture
def forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, FormSpec]:
    root = tmp_path / "forms"
    package = root / "equipment_forms"
    package.mkdir(parents=True)
    for name, source in PACKAGE.items():
        (package / name).write_text(textwrap.dedent(source), encoding="utf-8")
    monkeypatch.syspath_prepend(str(root))
    return load_specs("equipment_forms")


def lending(folder: Path, name: str, unit: str, rows: list[tuple[Any, ...]], templates: Path, specs) -> Path:
    records = [
        {"seq": number, "asset_no": asset, "item": item, "borrower": who, "count": count, "deposit": deposit}
        for number, (asset, item, who, count, deposit) in enumerate(rows, start=1)
    ]
    spec = specs[LENDING]
    header = {"填报单位": unit, "填报日期": "2026-11-15"}
    return fill_spec_template(templates / template_name(spec), spec, folder / name, header, records)


def counts(folder: Path, name: str, unit: str, lent: int, deposits: int, templates: Path, specs) -> Path:
    spec = specs[COUNT]
    header = {"填报单位": unit, "填报日期": "2026-11-16"}
    records = [{"lent": lent, "deposits": deposits}]
    return fill_spec_template(templates / template_name(spec), spec, folder / name, header, records)


def test_a_form_defined_only_by_its_spec_gets_the_whole_pipeline(tmp_path: Path, forms) -> None:
    assert set(forms) == {LENDING, COUNT}
    engine = Path(__file__).resolve().parent.parent / "unionbatch"
    assert [path.name for path in engine.rglob("*.py") if "器材" in path.read_text(encoding="utf-8")] == []
    write_templates(forms, tmp_path / "templates")
    template = load_workbook(tmp_path / "templates" / template_name(forms[LENDING]))[LENDING]
    header_row = [cell.value for cell in template[3]]
    assert [text for text in header_row if text] == ["序号", "资产编号*", "器材名称*", "借用人*", "数量*", "押金*"]

    inbox, folder = tmp_path / "inbox", tmp_path / "templates"
    lending(
        inbox,
        "甲登记.xlsx",
        "甲单位",
        [("QC-001", "投影仪", "张三", 1, 100), ("QC-002", "音箱", "李四", 2, 200)],
        folder,
        forms,
    )
    counts(inbox, "甲统计.xlsx", "甲单位", 2, 350, folder, forms)  # the 押金 differ by 50
    lending(
        inbox,
        "乙登记.xlsx",
        "乙单位",
        [("QC-101", "话筒", "王五", 1, 100), ("QC-101", "话筒", "王五", 1, 100)],
        folder,
        forms,
    )
    counts(inbox, "乙统计.xlsx", "乙单位", 2, 200, folder, forms)  # its 登记表 is sent back
    lending(
        inbox,
        "丙登记.xlsx",
        "丙单位",
        [("QC-201", "桌子", "赵六", 2, 100), ("QC-202", "椅子", "钱七", "两件", 50)],
        folder,
        forms,
    )
    lending(inbox, "丁登记.xlsx", "丁单位", [("QC-301", "帐篷", "孙八", 1, 100)], folder, forms)
    same_in_full_width = "ＱＣ－３０１"  # QC-301, as some input methods type it
    lending(inbox, "戊登记.xlsx", "戊单位", [(same_in_full_width, "帐篷", "周九", 1, 100)], folder, forms)

    report = run_batch(inbox, tmp_path / "out", "2026-11", specs=forms, keep_inbox=True)
    found = {result.path.name: [(f.code, f.cell, f.message) for f in result.findings] for result in report.files}

    assert found["甲登记.xlsx"] == []
    assert found["乙登记.xlsx"] == [
        (
            "duplicate_in_file",
            "B5",
            "此资产编号与本表第 4 行重复,同一件器材出现了两次。请删除重复的一行,或核对资产编号。",
        )
    ]
    assert found["丙登记.xlsx"] == [
        ("deposit_too_low", "F4", "押金 100 元少于应收的 200 元。请按每件器材收足押金。"),
        ("not_a_number", "E5", "“数量”应为数字,填写的是“两件”。请只填写数字,不要带文字,如 800 或 1200.50。"),
    ]
    assert found["丁登记.xlsx"] == [
        (
            "duplicate_across_files",
            "B4",
            "此件器材也在“戊单位”报送的表中(戊登记.xlsx 第 4 行)。同一件器材只能由一个单位报送(不重复、不交叉),请与对方单位核实后保留一处。",
        )
    ]
    assert [code for code, _, _ in found["戊登记.xlsx"]] == ["duplicate_across_files"]
    assert found["甲统计.xlsx"] == [
        ("lending_differs", "C4", "统计的“押金合计”为 350,登记表(甲登记.xlsx)合计为 300,相差 50。请按登记表改正统计。")
    ]
    assert found["乙统计.xlsx"] == [
        ("lending_returned", None, "本单位的器材借用登记表(乙登记.xlsx)被退回,统计无法核对。请重报登记表。")
    ]
    [title] = {f.title for result in report.files for f in result.findings if f.code == "lending_differs"}
    assert title == "统计与登记不符"

    period = tmp_path / "out" / "2026-11"
    listing = load_workbook(period / "器材借用登记表汇总.xlsx")
    assert [row[:3] for row in listing["借用汇总"].iter_rows(min_row=3, max_row=3, values_only=True)] == [
        ("甲单位", 2, 300)
    ]
    reconciled = load_workbook(period / "器材统计表汇总.xlsx")["与登记表核对"]
    rows = [list(row) for row in reconciled.iter_rows(values_only=True)]
    assert rows[0][0] == "器材统计表与器材借用登记表核对"
    assert rows[1][:7] == [
        "单位",
        "借出件次·统计表",
        "借出件次·登记表",
        "借出件次·差额",
        "押金合计·统计表",
        "押金合计·登记表",
        "押金合计·差额",
    ]
    by_unit = {row[0]: row[1:] for row in rows[2:4]}
    assert by_unit["甲单位"] == [
        None,  # its 统计表 was sent back: not counted here
        2,
        None,
        None,
        300,
        None,
        "不一致",
        "器材统计表被退回修改,未计入本汇总(表中填报 借出件次 2、押金合计(元) 350.00)",
    ]
    assert by_unit["乙单位"] == [
        2,
        None,
        None,
        200,
        None,
        None,
        "登记表被退回",
        "器材借用登记表被退回修改,未计入器材借用登记表汇总;本汇总计入了统计表的数字",
    ]
    assert (
        "“统计表”列只计入本汇总的统计表,“登记表”列只计入器材借用登记表汇总的登记表:两列的合计分别等于两份汇总的数字。"
        in [row[0] for row in rows]
    )

    data = json.loads((period / "report.json").read_text(encoding="utf-8"))
    [duplicate] = [f for entry in data["files"] if entry["path"].endswith("丁登记.xlsx") for f in entry["findings"]]
    assert duplicate["params"]["other_file"] == "戊登记.xlsx"


def test_schemas_is_a_package_whose_modules_are_the_loaded_forms() -> None:
    """Importing a form's module by name, before or after loading the specs, gives the module the specs came
    from: one SPEC object (the modules were once executed by path: a second SPEC, a second set of functions).
    In a fresh interpreter, so that nothing has loaded the specs yet."""
    script = (
        "import schemas.relief_list, schemas.sports_results\n"
        "from unionbatch.spec import load_specs\n"
        "specs = load_specs()\n"
        "import schemas.employment\n"
        "print(specs['慰问名单'] is schemas.relief_list.SPEC, specs['成绩登记表'] is schemas.sports_results.SPECS[0],"
        " specs['促进就业统计表'] is schemas.employment.SPEC, schemas.__file__.endswith('__init__.py'))\n"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "True", "True", "True"]


def test_a_forms_codes_may_not_take_a_general_codes_name_nor_another_forms(specs) -> None:
    relief = specs["慰问名单"]
    no_rows = Code(ERROR, "没有行", "请填写", title="没有行")
    with pytest.raises(ValueError, match="no_rows is one of the engine's general codes"):
        check_specs({"慰问名单": dataclasses.replace(relief, codes={"no_rows": no_rows})})
    other = dataclasses.replace(relief, kind="另一表", codes={"below_standard": no_rows})
    with pytest.raises(ValueError, match="below_standard defined twice, differently"):
        check_specs({"慰问名单": relief, "另一表": other})
    assert finding_codes(specs)["below_standard"] is relief.codes["below_standard"]


def test_a_reconciliation_must_name_codes_its_form_defines(specs) -> None:
    stats = specs["送温暖统计表"]
    rule = dataclasses.replace(stats.reconcile[0], mismatch_code="no_such_code")
    with pytest.raises(ValueError, match="reconciliation code no_such_code is not among the form's codes"):
        check_specs({stats.kind: dataclasses.replace(stats, reconcile=(rule,))})


def test_unique_and_person_columns_must_be_the_forms_own(specs) -> None:
    relief = specs["慰问名单"]
    unknown = dataclasses.replace(relief.unique, columns=("passport",))
    with pytest.raises(ValueError, match="column passport is not among its columns"):
        check_specs({relief.kind: dataclasses.replace(relief, unique=unknown)})
    with pytest.raises(ValueError, match="column sex is not among its columns"):
        check_specs({relief.kind: dataclasses.replace(relief, person=dataclasses.replace(relief.person, gender="sex"))})
