"""The README's main job on samples/inbox, end to end, checked against independently computed sums."""

from __future__ import annotations

import hashlib
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import python_calamine as calamine
from click.testing import CliRunner
from openpyxl import load_workbook

from process import cli
from tests.annotated import listed
from tests.conftest import SAMPLES, run_earlier_samples, run_samples
from tests.factory import make_people
from unionbatch.money import rmb_upper
from unionbatch.privacy import mask_text

EXPECTED_STATUS = {
    "机关工会_慰问名单.xlsx": "accepted",
    "城东街道工会 慰问名单(终稿).xlsx": "accepted_with_warnings",
    "园区工会送温暖名单.xlsx": "accepted",
    "教育系统工会慰问名单.xls": "accepted",
    "城南街道工会.ods": "accepted",
    "城西镇工会_慰问名单.xlsx": "rejected",
    "交通系统工会.xlsx": "rejected",
    "工作总结.docx": "rejected",
    "活动照片登记.xlsx": "rejected",
    "机关工会_送温暖统计表.xlsx": "accepted",
    "城东街道工会_统计表.xlsx": "rejected",
    "园区统计表(初稿).xlsx": "replaced",
    "园区统计表(更正).xlsx": "accepted",
    "城西镇工会_统计表.xlsx": "accepted_with_warnings",
    "教务处_运动会报名表.xlsx": "accepted",
    "总务处_运动会报名表.xlsx": "accepted_with_warnings",
    "学生处报名(初稿).xlsx": "replaced",
    "学生处报名(更正).xlsx": "accepted",
    "图书馆_运动会报名表.xlsx": "rejected",
    "运动会成绩登记表.xlsx": "accepted",
    "运动会签到表.xlsx": "accepted_with_warnings",
    "教务处踏青报名表.xlsx": "accepted",
    "学生处踏青报名表.xlsx": "rejected",
    "总务处踏青报名表.xlsx": "rejected",
    "卫健系统工会_慰问名单.xlsx": "accepted_with_warnings",
    "城北街道工会_慰问名单.xlsx": "rejected",
    "福州市总工会_促进就业11月.xlsx": "accepted",
    "厦门市总工会_促进就业11月.xlsx": "rejected",
    "泉州市总工会促进就业目标完成情况(11月).xlsx": "accepted_with_warnings",
}
# The accepted units and the factory seeds their people came from (samples/make_samples.py).
ACCEPTED_SEEDS = {
    "机关工会": (8, 1),
    "城东街道工会": (6, 2),
    "高新园区联合工会": (7, 3),
    "教育系统工会": (5, 4),
    "城南街道工会": (4, 5),
    "卫健系统工会": (5, 8),
}


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory) -> tuple[object, Path, dict[str, str], dict[str, str]]:
    out = tmp_path_factory.mktemp("out")
    before = digest(SAMPLES / "inbox")
    result = run_samples(out)
    return result, out / "2026-11", before, digest(SAMPLES / "inbox")


def test_exit_code_and_console_summary(sample_run) -> None:
    result, _, _, _ = sample_run
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0] == "期间 2026-11:共 29 个文件"
    assert "  退回修改  城西镇工会  城西镇工会_慰问名单.xlsx  (17 行,18 个错误,0 个警告)" in lines
    assert (
        "慰问名单 未报送/待重报:城西镇工会(被退回待重报)、交通系统工会(被退回待重报)、城北街道工会(被退回待重报)"
        in lines
    )
    assert "送温暖统计表 未报送/待重报:城东街道工会(被退回待重报)、教育系统工会(未报送)、卫健系统工会(未报送)" in lines
    people = [p for count, seed in ACCEPTED_SEEDS.values() for p in make_people(count, seed)]
    cash, goods = sum(Decimal(p.amount) for p in people), sum(Decimal(p.goods) for p in people)
    assert (
        f"慰问名单:{len(people)} 户,慰问金 {cash:,.2f} 元({rmb_upper(cash)}),"
        f"物资折款 {goods:,.2f} 元({rmb_upper(goods)}),合计 {cash + goods:,.2f} 元"
    ) in lines
    assert (
        "  已被新版替换  高新园区联合工会  园区统计表(初稿).xlsx  (1 行,0 个错误,0 个警告)"
        "  已被 园区统计表(更正).xlsx 替换,不计入汇总"
    ) in lines


def test_inputs_are_never_modified(sample_run) -> None:
    _, _, before, after = sample_run
    sent_as_files = {name for name in EXPECTED_STATUS if not name.endswith("踏青报名表.xlsx")}  # those came by .eml
    assert sent_as_files <= set(before)  # the run had the samples to read (not an empty inbox)
    assert before == after


def test_report_json_shape_and_statuses(sample_run) -> None:
    _, folder, _, _ = sample_run
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert report["period"] == "2026-11"
    statuses = {Path(f["path"]).name: f["status"] for f in report["files"]}
    assert statuses == EXPECTED_STATUS
    for entry in report["files"]:
        assert set(entry) >= {"path", "kind", "status", "annotated", "findings"}
        for finding in entry["findings"]:
            assert set(finding) == {"code", "severity", "sheet", "cell", "field", "value", "message", "params"}
            assert finding["severity"] in ("error", "warning")
        if entry["annotated"]:
            assert (folder / entry["annotated"]).is_file()
    by_name = {Path(f["path"]).name: f for f in report["files"]}
    assert by_name["工作总结.docx"]["annotated"] is None  # nothing of the sender's to annotate
    assert by_name["机关工会_慰问名单.xlsx"]["annotated"] is None  # nothing to mark


def test_report_json_masks_ids(sample_run) -> None:
    _, folder, _, _ = sample_run
    text = (folder / "report.json").read_text(encoding="utf-8")
    people = make_people(16, seed=6, prefix="CX")  # 城西镇工会's (samples/make_samples.py): its findings quote IDs
    for person in people:
        assert person.id_number not in text
    assert any(mask_text(person.id_number) in text for person in people)  # they are there, masked


def test_consolidated_totals_match_independent_sums(sample_run) -> None:
    _, folder, _, _ = sample_run
    expected = {
        unit: sum(Decimal(p.amount) + Decimal(p.goods) for p in make_people(count, seed))
        for unit, (count, seed) in ACCEPTED_SEEDS.items()
    }
    workbook = calamine.CalamineWorkbook.from_path(str(folder / "慰问名单汇总.xlsx"))
    rows = workbook.get_sheet_by_name("按单位汇总").to_python()
    header = rows[1]
    by_unit = {row[0]: row for row in rows[2:] if row[0] in expected}
    assert {unit: Decimal(str(row[header.index("合计(元)")])) for unit, row in by_unit.items()} == expected
    assert {unit: int(row[header.index("户数")]) for unit, row in by_unit.items()} == {
        unit: count for unit, (count, _) in ACCEPTED_SEEDS.items()
    }
    total_row = next(row for row in rows if row[0] == "合计")
    grand = sum(expected.values())
    assert Decimal(str(total_row[header.index("合计(元)")])) == grand
    assert any(f"人民币{rmb_upper(grand)}" in str(row[0]) for row in rows)
    detail = workbook.get_sheet_by_name("明细").to_python()
    assert len([row for row in detail[2:] if isinstance(row[0], float)]) == sum(c for c, _ in ACCEPTED_SEEDS.values())


def test_consolidated_workbook_has_every_sheet(sample_run) -> None:
    _, folder, _, _ = sample_run
    workbook = load_workbook(folder / "慰问名单汇总.xlsx")
    assert workbook.sheetnames == [
        "按单位汇总",
        "按类别汇总",
        "明细",
        "实名制发放表",
        "档案走访",
        "深度困难未慰问",
        "建档核对",
        "未报送",
    ]
    assert workbook["按单位汇总"]._charts, "chart of amounts by unit"
    signoff = workbook["实名制发放表"]
    assert [c.value for c in signoff[2]][-2:] == ["领取人签字", "领取日期"]
    ids = [row[3] for row in signoff.iter_rows(min_row=3, values_only=True) if isinstance(row[0], int)]
    assert ids and all(isinstance(value, str) and len(value) == 18 for value in ids)  # IDs as text, whole
    missing = [row for row in workbook["未报送"].iter_rows(min_row=3, values_only=True)]
    assert ("慰问名单", "城北街道工会", "被退回待重报", "2026-12-20") in missing
    tiers = {row[0] for row in workbook["按类别汇总"].iter_rows(min_row=3, values_only=True)}
    assert "特困" not in tiers and "深度困难" in tiers  # old names merged under the current one


def test_annotated_copy_marks_each_bad_cell(sample_run) -> None:
    _, folder, _, _ = sample_run
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    entry = next(f for f in report["files"] if f["path"].endswith("城西镇工会_慰问名单.xlsx"))
    workbook = load_workbook(folder / entry["annotated"])
    assert workbook.sheetnames[0] == "错误清单"
    assert len(listed(workbook["错误清单"])) == len(entry["findings"])
    sheet = workbook["慰问名单"]
    for finding in entry["findings"]:
        cell = sheet[finding["cell"]]
        assert cell.fill.start_color.rgb.endswith("FFC7CE"), finding["cell"]
        assert finding["message"].split("。")[0] in cell.comment.text
    assert sheet["B4"].fill.start_color.rgb in (None, "00000000")  # good cells untouched


def test_warning_cells_are_yellow(sample_run) -> None:
    _, folder, _, _ = sample_run
    workbook = load_workbook(folder / "批注" / "城东街道工会 慰问名单(终稿)_批注.xlsx")
    assert workbook["慰问名单"]["G6"].fill.start_color.rgb.endswith("FFEB9C")


def test_office_report_lists_files_and_findings(sample_run) -> None:
    _, folder, _, _ = sample_run
    workbook = load_workbook(folder / "处理报告.xlsx")
    assert workbook.sheetnames == ["文件", "问题清单", "未报送"]
    files = list(workbook["文件"].iter_rows(min_row=3, values_only=True))
    row = next(f for f in files if f[2] == "城西镇工会_慰问名单.xlsx")
    assert row[:8] == ("城西镇工会", "慰问名单", "城西镇工会_慰问名单.xlsx", "退回修改", 17, 0, 18, 0)
    findings = list(workbook["问题清单"].iter_rows(min_row=3, values_only=True))
    assert len(findings) == sum(f[6] + f[7] for f in files if isinstance(f[6], int))


def test_rerun_gives_identical_workbooks(sample_run, tmp_path: Path) -> None:
    _, folder, _, _ = sample_run
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLES / "inbox", inbox)
    run_earlier_samples(tmp_path / "out")  # the 促进就业 reports of September and October in the ledger
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "--inbox",
            str(inbox),
            "--out",
            str(tmp_path / "out"),
            "--period",
            "2026-11",
            "--policy",
            str(SAMPLES / "policy.toml"),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 1
    again = tmp_path / "out" / "2026-11"
    for name in ("慰问名单汇总.xlsx", "处理报告.xlsx"):
        assert (again / name).read_bytes() == (folder / name).read_bytes(), name


def test_stats_roll_up_reconciliation_and_resubmission(sample_run) -> None:
    _, folder, _, _ = sample_run
    workbook = load_workbook(folder / "送温暖统计汇总.xlsx")
    assert workbook.sheetnames == ["按单位汇总", "资金来源", "明细", "与名单核对", "重报变更", "未报送"]
    units = [row[0] for row in workbook["按单位汇总"].iter_rows(min_row=3, values_only=True) if row[1] is not None]
    assert units[:-1] == [
        "机关工会",
        "高新园区联合工会",
        "城西镇工会",
    ]  # roster order; the 初稿 is not counted: one row per unit
    header = [c.value for c in workbook["与名单核对"][2]]
    checks = {r[0]: r[header.index("结果")] for r in workbook["与名单核对"].iter_rows(min_row=3, values_only=True)}
    assert checks["机关工会"] == "一致"
    assert checks["城东街道工会"] == "不一致"
    assert checks["城西镇工会"] == "名单被退回"
    changes = [r for r in workbook["重报变更"].iter_rows(min_row=3, values_only=True)]
    assert {(r[1], r[2]) for r in changes} == {("园区统计表(更正).xlsx", "园区统计表(初稿).xlsx")}
    assert ("修改", "一线职工人数", "8", "10") in {(r[3], r[5], r[6], r[7]) for r in changes}
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    draft = next(f for f in report["files"] if f["path"].endswith("园区统计表(初稿).xlsx"))
    assert draft["replaced_by"] == "园区统计表(更正).xlsx"


REGISTER_CODES = {
    "not_registered",
    "registry_exited",
    "archive_no_mismatch",
    "registry_tier_differs",
    "registry_union_differs",
}


def codes_of(report_json: Path) -> dict[str, set[str]]:
    """Each unit's finding codes in a period's report.json."""
    found: dict[str, set[str]] = {}
    for entry in json.loads(report_json.read_text(encoding="utf-8"))["files"]:
        found.setdefault(entry["unit"], set()).update(finding["code"] for finding in entry["findings"])
    return found


def test_the_samples_hit_every_register_finding(sample_run) -> None:
    """The quick-start checks the 慰问名单 against samples/困难职工档案.xlsx: 城北 (sent back) and 卫健 (accepted with
    warnings) hit every 依档 code between them."""
    _, folder, _, _ = sample_run
    found = codes_of(folder / "report.json")
    assert found["城北街道工会"] & REGISTER_CODES == {"not_registered", "registry_exited", "archive_no_mismatch"}
    assert found["卫健系统工会"] == {"registry_tier_differs", "registry_union_differs"}
    files = json.loads((folder / "report.json").read_text(encoding="utf-8"))["files"]
    registers = {Path(f["path"]).name: f["checked_against"]["file"] for f in files if f["kind"] == "慰问名单"}
    assert set(registers.values()) == {"困难职工档案.xlsx"} and len(registers) == 9


def test_the_samples_show_three_months_of_employment_reports(sample_run) -> None:
    """September (run first, from samples/earlier/): 泉州 lags at 三季度末, nobody else is flagged; October: no
    checkpoint, no findings; November: 厦门's cumulative 职业介绍 fell below October's, 泉州 typed a rate its figures
    do not give."""
    _, folder, _, _ = sample_run
    september = codes_of(folder.parent / "2026-09" / "report.json")
    assert september == {
        "泉州市总工会": {"behind_schedule"},
        "福州市总工会": set(),
        "厦门市总工会": set(),
        "漳州市总工会": set(),
    }
    assert set().union(*codes_of(folder.parent / "2026-10" / "report.json").values()) == set()
    november = codes_of(folder / "report.json")
    assert november["厦门市总工会"] == {"cumulative_decreased"}
    assert november["泉州市总工会"] == {"rate_mismatch"} and november["福州市总工会"] == set()
