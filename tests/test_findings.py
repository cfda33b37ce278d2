"""Every finding code, triggered by a fixture workbook at a known cell.

Each fixture is a real workbook written by openpyxl into our template (as a unit filling it in would)
or by xlsxwriter in a unit's own layout, with exactly one planted mistake.
"""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
import zipfile
from collections.abc import Callable
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

import pytest
from openpyxl import load_workbook
from stdnum.cn import ric

from tests.conftest import CORPUS
from tests.factory import fill_stats, fill_template, make_people, stats_for, with_changes, write_own_layout
from tests.office_workbooks import stats_per_town, two_years_visible
from tests.workbooks import hidden_last_year_book, list_without_amounts
from unionbatch.findings import ERROR, mask_text
from unionbatch.ledger import Ledger
from unionbatch.pipeline import check_files, run_batch
from unionbatch.policy import load_policy
from unionbatch.records import ACCEPTED_WITH_WARNINGS, REJECTED
from unionbatch.spec import finding_codes, load_specs

ALL_CODES = finding_codes(load_specs())  # the engine's codes and every form's own

PEOPLE = make_people(6, seed=11)  # rows 4..9 of the template; tiers cycle 相对, 意外, 深度, 相对, 意外, 深度
DEEP, RELATIVE, ACCIDENT = 2, 0, 1  # indexes of one person of each tier


def changed(index: int, **changes: object) -> list:
    people = list(PEOPLE)
    people[index] = with_changes(people[index], **changes)
    return people


def on_template(people: list, **options: object) -> Callable[[Path], list[Path]]:
    def build(folder: Path) -> list[Path]:
        return [fill_template(folder / "名单.xlsx", "测试工会", people, **options)]

    return build


def old_template(folder: Path) -> list[Path]:
    path = fill_template(folder / "旧模板.xlsx", "测试工会", PEOPLE)
    workbook = load_workbook(path)
    workbook["_表单信息"]["B2"] = "2019.1"
    workbook.save(path)
    return [path]


def two_units(folder: Path) -> list[Path]:
    other = [*make_people(3, seed=12), PEOPLE[3]]  # PEOPLE[3] is row 7 here, row 7 there too
    return [
        fill_template(folder / "甲.xlsx", "甲工会", PEOPLE),
        fill_template(folder / "乙.xlsx", "乙工会", other),
    ]


def own_layout(header: list[str], rows: list[list]) -> Callable[[Path], list[Path]]:
    def build(folder: Path) -> list[Path]:
        return [write_own_layout(folder / "自制表.xlsx", [["填报单位:测试工会"]], header, rows)]

    return build


def raw_file(name: str, content: bytes) -> Callable[[Path], list[Path]]:
    def build(folder: Path) -> list[Path]:
        path = folder / name
        path.write_bytes(content)
        return [path]

    return build


def stats(**changes: object) -> Callable[[Path], list[Path]]:
    def build(folder: Path) -> list[Path]:
        return [fill_stats(folder / "统计表.xlsx", "测试工会", [stats_for(PEOPLE, **changes)])]

    return build


def stats_and_list(list_edits: dict[str, object], **changes: object) -> Callable[[Path], list[Path]]:
    def build(folder: Path) -> list[Path]:
        return [
            fill_stats(folder / "统计表.xlsx", "测试工会", [stats_for(PEOPLE, **changes)]),
            fill_template(folder / "名单.xlsx", "测试工会", PEOPLE, edits=list_edits),
        ]

    return build


def zip_bomb(folder: Path) -> list[Path]:
    """201 MB of spaces in 200 KB: more than the default 200 MB limit once expanded."""
    path = folder / "炸弹.xlsx"
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member,
    ):
        for _ in range(201):
            member.write(b" " * (1024 * 1024))
    return [path]


def doctype(folder: Path) -> list[Path]:
    """Our template with an external entity declared in its sheet XML (an XXE attempt)."""
    source = fill_template(folder / "原.xlsx", "测试工会", PEOPLE)
    path = folder / "实体.xlsx"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w") as crafted:
        for item in original.infolist():
            data = original.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + data
            crafted.writestr(item, data)
    return [path]


def hidden(sheet: bool = False, row: int | None = None) -> Callable[[Path], list[Path]]:
    def build(folder: Path) -> list[Path]:
        path = fill_template(folder / "隐藏.xlsx", "测试工会", PEOPLE)
        workbook = load_workbook(path)
        if sheet:
            old = workbook.create_sheet("旧名单")
            old.append(["姓名", "身份证号"])
            old.append(["去年的人", "110105194912310021"])
            old.sheet_state = "hidden"
        if row:
            workbook["慰问名单"].row_dimensions[row].hidden = True
        workbook.save(path)
        return [path]

    return build


def first_generation(id_number: str) -> str:
    """The 15-digit first-generation number an 18-digit ID of someone born in the 1900s was upgraded from."""
    return id_number[:6] + id_number[8:17]


def with_area(id_number: str, area: str) -> str:
    body = area + id_number[6:17]
    return body + ric.calc_check_digit(body + "0")


TOTALS = {"amount": sum(p.amount for p in PEOPLE), "goods": sum(p.goods for p in PEOPLE)}
P = PEOPLE[0]

# code → (fixture builder, expected cell (None: whole file))
CASES: dict[str, tuple[Callable[[Path], list[Path]], str | None]] = {
    "file_type": (raw_file("总结.docx", b"PK\x03\x04 word"), None),
    "file_unreadable": (raw_file("坏文件.xlsx", b"this is not a spreadsheet at all"), None),
    "file_encrypted": (lambda folder: [CORPUS / "password_2002_40_basecrypto.xls"], None),
    "file_disguised": (raw_file("名单.xlsx", b"%PDF-1.7 a report"), None),
    "too_large": (zip_bomb, None),
    "file_unsafe": (doctype, None),
    "formulas_not_calculated": (on_template(PEOPLE, total_row={"amount": "=SUM(L4:L9)"}), None),
    "hidden_sheet": (hidden(sheet=True), None),
    "hidden_rows": (hidden(row=6), "A6"),
    "not_a_form": (own_layout(["照片编号", "地点", "拍摄人"], [["P1", "操场", "小王"]]), None),
    "form_incomplete": (lambda folder: [list_without_amounts(folder / "无金额.xlsx", "测试工会", PEOPLE)], None),
    "form_in_hidden_sheet": (
        lambda folder: [hidden_last_year_book(folder / "隐藏名单.xlsx", "测试工会", [], PEOPLE, only_hidden=True)],
        None,
    ),
    "earlier_year_sheet": (
        lambda folder: [two_years_visible(folder / "两年.xlsx", "测试工会", make_people(3, seed=12), PEOPLE).path],
        None,
    ),
    "unit_conflict": (
        lambda folder: [
            stats_per_town(folder / "各镇.xlsx", {"城关镇": stats_for(PEOPLE), "江南镇": stats_for(PEOPLE)}).path
        ],
        None,
    ),
    "column_missing": (
        own_layout(
            ["姓名", "性别", "联系电话", "困难类别", "致困原因", "家庭人口", "家庭年收入", "慰问金额"],
            [[P.name, P.gender, P.phone, P.tier, P.cause, P.household, P.income, P.amount]],
        ),
        None,
    ),
    "unit_missing": (lambda folder: [fill_template(folder / "无单位.xlsx", "", PEOPLE)], None),
    "no_rows": (on_template([]), None),
    "old_template": (old_template, None),
    "required_missing": (on_template(changed(1, name="")), "B5"),
    "not_a_number": (on_template(changed(2, income="三万")), "J6"),
    "not_integer": (on_template(changed(3, household=2.5)), "I7"),
    "money_precision": (on_template(changed(4, amount=1000.123)), "L8"),
    "negative_value": (on_template(changed(5, goods=-100)), "M9"),
    "below_minimum": (on_template(changed(0, household=0)), "I4"),
    "invalid_choice": (on_template(changed(1, cause="因穷")), "H5"),
    "legacy_choice": (on_template(changed(DEEP, tier="特困")), "G6"),
    "id_as_number": (on_template(changed(3, id_number=float(PEOPLE[3].id_number[:15] + "000"))), "D7"),
    "id_format": (on_template(changed(4, id_number=PEOPLE[4].id_number[:17])), "D8"),
    "id_birthdate": (
        on_template(changed(5, id_number=PEOPLE[5].id_number[:10] + "0230" + PEOPLE[5].id_number[14:])),
        "D9",
    ),
    "id_checksum": (
        on_template(changed(0, id_number=PEOPLE[0].id_number[:-1] + ("1" if PEOPLE[0].id_number[-1] == "0" else "0"))),
        "D4",
    ),
    "id_first_generation": (on_template(changed(1, id_number=first_generation(PEOPLE[1].id_number))), "D5"),
    "id_area_unknown": (on_template(changed(2, id_number=with_area(PEOPLE[2].id_number, "359999"))), "D6"),
    "gender_mismatch": (on_template(changed(1, gender="女" if PEOPLE[1].gender == "男" else "男")), "C5"),
    "phone_invalid": (on_template(changed(2, phone="12345")), "E6"),
    "income_not_eligible": (on_template(changed(DEEP, income=120000, expense=0)), "G6"),
    "expense_not_eligible": (on_template(changed(ACCIDENT, income=50000, expense=25000)), "G5"),
    "below_standard": (on_template(changed(RELATIVE, amount=799.99)), "L4"),
    "archive_missing": (on_template(changed(3, archive_no="")), "N7"),
    "duplicate_in_file": (on_template([*PEOPLE, PEOPLE[2]]), "D10"),
    "duplicate_across_files": (two_units, "D7"),
    "total_mismatch": (on_template(PEOPLE, total_row={**TOTALS, "amount": TOTALS["amount"] + 100}), "L10"),
    # 送温暖统计表 (template columns: A 单位名称, B 困难职工户数, C 金额 … K 合计, L 工会经费 …)
    "parts_mismatch": (stats(total=99999), "K4"),
    "sources_mismatch": (stats(union_funds=0), "L4"),
    "count_amount_mismatch": (stats(model_count=0), "F4"),
    "per_household_below_standard": (stats(hard_amount=700 * len(PEOPLE)), "C4"),
    "reconcile_mismatch": (stats_and_list({}, hard_count=len(PEOPLE) + 1), "B4"),
    "reconcile_list_rejected": (stats_and_list({"E5": "12345"}), None),
}


def broken_rule(sheet, policy):  # a spec bug, to show the batch survives its own failures
    raise ZeroDivisionError


@pytest.mark.parametrize("code", sorted(CASES))
def test_fixture_triggers_code_at_cell(code: str, tmp_path: Path, specs, policy) -> None:
    build, cell = CASES[code]
    results = check_files(build(tmp_path), specs, policy)
    first = results[0]
    matching = [f for f in first.findings if f.code == code]
    assert matching, f"{code} not raised; got {[f.code for f in first.findings]}"
    assert matching[0].cell == cell
    assert first.status == (REJECTED if ALL_CODES[code].severity == ERROR else ACCEPTED_WITH_WARNINGS)
    if cell is not None:  # the one planted mistake is the only problem in the file
        assert {f.code for f in first.findings} == {code}
        assert matching[0].sheet in ("慰问名单", "送温暖统计表")


def test_processing_failure_is_a_finding_and_the_batch_goes_on(tmp_path: Path, specs, policy) -> None:
    spec = specs["慰问名单"]
    broken = {spec.kind: dataclasses.replace(spec, row_rules=(broken_rule,))}
    good = fill_template(tmp_path / "a.xlsx", "甲工会", PEOPLE)
    results = check_files([good, good], broken, policy)
    assert [f.code for r in results for f in r.findings] == ["processing_failed", "processing_failed"]


def test_every_code_has_a_fixture(specs) -> None:
    """Codes of every form (the engine's and those the schemas register) each have a fixture."""
    from tests.test_employment import EMPLOYMENT_CASES
    from tests.test_registry import REGISTRY_CASES
    from tests.test_sports import SPORTS_CASES

    form_cases = set(SPORTS_CASES) | set(REGISTRY_CASES) | set(EMPLOYMENT_CASES)
    assert set(CASES) | set(RUN_CASES) | set(ARCHIVE_CASES) | form_cases | {"processing_failed"} == set(ALL_CODES)


def test_report_json_keeps_each_findings_parameters_beside_its_message(tmp_path: Path) -> None:
    """A reader of report.json gets the other file, the computed sum and the difference as data, not prose."""
    inbox = tmp_path / "inbox"
    two_units(inbox)
    others = make_people(3, seed=13)
    stated = sum(p.amount for p in others) + 100
    fill_template(inbox / "丙.xlsx", "丙工会", others, total_row={"amount": stated})
    report = run_batch(inbox, tmp_path / "out", "2026-11", keep_inbox=True)
    files = json.loads((report.folder / "report.json").read_text(encoding="utf-8"))["files"]
    found = {(Path(entry["path"]).name, f["code"]): f for entry in files for f in entry["findings"]}
    duplicate = found[("甲.xlsx", "duplicate_across_files")]
    assert duplicate["params"] == {
        "other_unit": "乙工会",
        "other_file": "乙.xlsx",
        "other_place": "第 7 行",
        "key_name": "身份证号",
        "subject": "人",
    }
    assert found[("乙.xlsx", "duplicate_across_files")]["params"]["other_file"] == "甲.xlsx"
    total = found[("丙.xlsx", "total_mismatch")]
    computed = Decimal(total["params"]["computed"])
    assert computed == sum(p.amount for p in others)
    assert Decimal(total["params"]["difference"]) == 100
    assert f"各行相加为 {computed:,.2f}(相差 100.00)" in total["message"]


def test_duplicate_across_files_is_an_error_in_both_naming_the_other(tmp_path: Path, specs, policy) -> None:
    first, second = check_files(two_units(tmp_path), specs, policy)
    [a] = [f for f in first.findings if f.code == "duplicate_across_files"]
    [b] = [f for f in second.findings if f.code == "duplicate_across_files"]
    assert "乙工会" in a.message and "乙.xlsx 第 7 行" in a.message
    assert "甲工会" in b.message and "甲.xlsx 第 7 行" in b.message


def test_findings_made_across_files_show_the_cell_as_found(tmp_path: Path, specs, policy) -> None:
    """A worker keeps the cells as found only for rows that read differently from their parsed values; a finding
    made later, across files, still quotes what the sender typed."""
    typed = " " + PEOPLE[3].id_number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    other = [*make_people(3, seed=12), with_changes(PEOPLE[3], id_number=typed)]
    first, second = check_files(
        [fill_template(tmp_path / "甲.xlsx", "甲工会", PEOPLE), fill_template(tmp_path / "乙.xlsx", "乙工会", other)],
        specs,
        policy,
    )
    [clean] = [f for f in first.findings if f.code == "duplicate_across_files"]
    [odd] = [f for f in second.findings if f.code == "duplicate_across_files"]
    assert (clean.cell, clean.value) == ("D7", PEOPLE[3].id_number)
    assert (odd.cell, odd.value) == ("D7", typed)
    assert first.parsed is not None and second.parsed is not None
    assert first.parsed.found == {(row, "workplace"): "" for row in range(4, 10)}  # blank, filled with the unit
    assert set(second.parsed.found) - set(first.parsed.found) == {(7, "id_number")}


def test_eligibility_message_shows_the_computed_figure(tmp_path: Path, specs, policy) -> None:
    people = changed(DEEP, income=36000, expense=6000, household=2)  # (36000-6000)/12/2 = 1250.00
    [result] = check_files(on_template(people)(tmp_path), specs, policy)
    [finding] = result.findings
    assert "1,250.00 元" in finding.message and "800.00 元" in finding.message


def test_per_extra_person_increment_raises_the_standard(tmp_path: Path, specs) -> None:
    policy_file = tmp_path / "p.toml"
    policy_file.write_text("[relief]\nper_extra_person = 100\n", encoding="utf-8")
    policy = load_policy(policy_file, specs)
    household = PEOPLE[RELATIVE].household  # standard = 800 + 100 × (household − 1)
    people = changed(RELATIVE, amount=800 + 100 * (household - 1) - 1)
    [result] = check_files(on_template(people)(tmp_path), specs, policy)
    at_row_4 = [f for f in result.findings if f.cell == "L4"]
    assert [f.code for f in at_row_4] == ["below_standard"]
    assert f"{800 + 100 * (household - 1):,}.00 元" in at_row_4[0].message


def test_messages_mask_personal_data_when_rendered() -> None:
    person = PEOPLE[0]
    text = mask_text(f"{person.id_number} {person.phone} 0591-87654321")
    assert person.id_number not in text and person.phone not in text
    assert text.startswith(person.id_number[:6] + "********" + person.id_number[-4:])
    assert f"{person.phone[:3]}****{person.phone[-4:]}" in text
    assert "0591-****4321" in text


# ---- codes that need the ledger: earlier periods are run first, then the file under test -------------


def earlier_runs(folder: Path, periods: list[str], people: list) -> Path:
    out = folder / "out"
    for period in periods:
        fill_template(folder / "inbox" / f"{period}.xlsx", "测试工会", people, date=f"{period}-15")
        run_batch(folder / "inbox", out, period)
    return out


def below_last_year(folder: Path) -> tuple[Path, Path | None]:
    out = earlier_runs(folder, ["2025-11"], PEOPLE)
    fill_template(folder / "inbox" / "名单.xlsx", "测试工会", changed(0, amount=PEOPLE[0].amount - 100))
    return out, None


def third_visit(folder: Path) -> tuple[Path, Path | None]:
    out = earlier_runs(folder, ["2026-03", "2026-07"], PEOPLE)
    fill_template(folder / "inbox" / "名单.xlsx", "测试工会", PEOPLE)
    return out, None


def barred_person(folder: Path) -> tuple[Path, Path | None]:
    out = folder / "out"
    ledger = Ledger(out / "ledger.sqlite")
    ledger.bar(PEOPLE[1].id_number, "2025 年虚报家庭收入")
    ledger.close()
    fill_template(folder / "inbox" / "名单.xlsx", "测试工会", PEOPLE)
    return out, None


def emailed(sender: str) -> Callable[[Path], tuple[Path, Path | None]]:
    """名单.xlsx of 测试工会 arriving as an .eml from `sender`; the roster knows 测试工会 by unit@test.example."""

    def build(folder: Path) -> tuple[Path, Path | None]:
        policy = folder / "policy.toml"
        policy.write_text(
            '[[roster]]\nunit = "测试工会"\nemails = ["unit@test.example"]\n'
            '[[roster]]\nunit = "其他工会"\nemails = ["other@test.example"]\n',
            encoding="utf-8",
        )
        message = EmailMessage()
        message["From"], message["Subject"] = sender, "名单"
        message.set_content("附件")
        data = fill_template(folder / "make" / "名单.xlsx", "测试工会", PEOPLE).read_bytes()
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename="名单.xlsx")
        (folder / "inbox").mkdir(parents=True, exist_ok=True)
        (folder / "inbox" / "邮件.eml").write_bytes(bytes(message))
        return folder / "out", policy

    return build


RUN_CASES: dict[str, tuple[Callable[[Path], tuple[Path, Path | None]], str | None]] = {
    "below_last_year": (below_last_year, "L4"),
    "too_many_visits": (third_visit, "D4"),
    "barred": (barred_person, "D5"),
    "unknown_sender": (emailed("nobody@else.example"), None),
    "sender_unit_mismatch": (emailed("other@test.example"), None),
}


@pytest.mark.parametrize("code", sorted(RUN_CASES))
def test_run_fixture_triggers_code_at_cell(code: str, tmp_path: Path) -> None:
    """Codes that need a run: earlier periods in the ledger, or the email a file came in."""
    build, cell = RUN_CASES[code]
    out, policy = build(tmp_path)
    report = run_batch(tmp_path / "inbox", out, "2026-11", policy)
    [result] = [r for r in report.files if r.path.name == "名单.xlsx"]
    matching = [f for f in result.findings if f.code == code]
    assert matching and matching[0].cell == cell, [(f.code, f.cell) for f in result.findings]
    assert result.status == (REJECTED if ALL_CODES[code].severity == ERROR else ACCEPTED_WITH_WARNINGS)


def nested_zip(folder: Path) -> Path:
    """名单.zip holding 名单.xlsx and, beside it, 旧名单.zip (an archive in the archive)."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("旧名单.xlsx", b"old")
    (folder / "inbox").mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(folder / "inbox" / "名单.zip", "w") as archive:
        archive.writestr("名单.xlsx", fill_template(folder / "make" / "名单.xlsx", "测试工会", PEOPLE).read_bytes())
        archive.writestr("旧名单.zip", inner.getvalue())
    return folder / "inbox" / "名单.zip"


def encrypted_member(folder: Path) -> Path:
    """A zip (Info-ZIP, tests/test_unzip.py) whose 甲工会名单.xlsx has a password and 乙工会名单.xlsx none."""
    (folder / "inbox").mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(CORPUS.parent / "zips" / "部分加密.zip", folder / "inbox" / "名单.zip"))


# code → (fixture builder, the member named); the finding belongs to the zip's own result, for the whole file
ARCHIVE_CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "archive_nested": (nested_zip, "旧名单.zip"),
    "archive_encrypted": (encrypted_member, "甲工会名单.xlsx"),
}


@pytest.mark.parametrize("code", sorted(ARCHIVE_CASES))
def test_archive_fixture_triggers_code_naming_the_member(code: str, tmp_path: Path) -> None:
    build, member = ARCHIVE_CASES[code]
    zipped = build(tmp_path)
    report = run_batch(tmp_path / "inbox", tmp_path / "out", "2026-11")
    [result] = [r for r in report.files if r.path.name == zipped.name]
    assert [(f.code, f.cell, f.value) for f in result.findings] == [(code, None, member)]
    assert result.status == REJECTED and member in result.findings[0].message


def test_barred_ids_from_the_policy(tmp_path: Path, specs) -> None:
    policy_file = tmp_path / "p.toml"
    policy_file.write_text(f'[relief]\nbarred_ids = ["{PEOPLE[2].id_number}"]\n', encoding="utf-8")
    policy = load_policy(policy_file, specs)
    [result] = check_files(on_template(PEOPLE)(tmp_path), specs, policy)
    assert [(f.code, f.cell) for f in result.findings] == [("barred", "D6")]
