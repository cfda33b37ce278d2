"""依档帮扶: the 慰问名单 checked against the 困难职工档案 the policy names (`[relief] registry`).

The register is written as a 帮扶 system exports it (title rows, its own header words); every 依档 code has a
fixture at a known cell, and the consolidated figures are counted here from the test's own data.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import closing
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import python_calamine as calamine
from click.testing import CliRunner

from process import cli
from tests.factory import Person, fill_template, libreoffice_convert, make_people, with_changes, write_own_layout
from unionbatch.findings import ERROR
from unionbatch.pipeline import check_files, run_batch
from unionbatch.policy import PolicyError, load_policy
from unionbatch.records import ACCEPTED_WITH_WARNINGS, REJECTED
from unionbatch.spec import finding_codes, load_specs

ALL_CODES = finding_codes(load_specs())  # the engine's codes and every form's own

PEOPLE = make_people(6, seed=11)  # template rows 4..9; tiers cycle 相对, 意外, 深度, 相对, 意外, 深度
REGISTER_HEADER = ["档案编号", "户主姓名", "身份证号码", "困难程度", "建档时间", "档案状态", "所属工会"]


def entry(person: Person, union: str = "测试工会", status: str = "在档", tier: str | None = None) -> list[str]:
    return [person.archive_no, person.name, person.id_number, tier or person.tier, "2025-03-01", status, union]


def write_register(path: Path, rows: Sequence[Sequence[str]], header: Sequence[str] = REGISTER_HEADER) -> Path:
    """The register as a 帮扶 system exports it: a title, an export date, then its own header words."""
    return write_own_layout(path, [["困难职工档案(帮扶系统导出)"], ["导出日期:2026-11-01"]], header, rows)


def registry_policy(folder: Path, register: str = "档案.xlsx") -> Path:
    policy = folder / "policy.toml"
    policy.write_text(f'[relief]\nregistry = "{register}"\n', encoding="utf-8")
    return policy


def register_of(people: Sequence[Person], **overrides: dict[str, str]) -> list[list[str]]:
    """Every person registered with 测试工会, in their tier; overrides: person index → entry() options."""
    return [entry(person, **overrides.get(str(index), {})) for index, person in enumerate(people)]


Build = Callable[[Path], tuple[Path, list[Path]]]


def case(register: list[list[str]], people: list[Person]) -> Build:
    def build(folder: Path) -> tuple[Path, list[Path]]:
        write_register(folder / "档案.xlsx", register)
        return registry_policy(folder), [fill_template(folder / "名单.xlsx", "测试工会", people)]

    return build


def listed_but(index: int, **changes: object) -> list[Person]:
    people = list(PEOPLE)
    people[index] = with_changes(people[index], **changes)
    return people


# code → (fixture builder, expected cell); the template's columns: D 身份证号, G 困难类别, N 建档编号
REGISTRY_CASES: dict[str, tuple[Build, str]] = {
    "not_registered": (case(register_of(PEOPLE[:1] + PEOPLE[2:]), PEOPLE), "D5"),
    "registry_exited": (case(register_of(PEOPLE, **{"2": {"status": "已脱困"}}), PEOPLE), "D6"),
    "archive_no_mismatch": (case(register_of(PEOPLE), listed_but(3, archive_no=PEOPLE[4].archive_no)), "N7"),
    "registry_tier_differs": (case(register_of(PEOPLE, **{"0": {"tier": "深度困难"}}), PEOPLE), "G4"),
    "registry_union_differs": (case(register_of(PEOPLE, **{"5": {"union": "其他工会"}}), PEOPLE), "D9"),
}


@pytest.mark.parametrize("code", sorted(REGISTRY_CASES))
def test_register_fixture_triggers_code_at_cell(code: str, tmp_path: Path, specs) -> None:
    build, cell = REGISTRY_CASES[code]
    policy_file, files = build(tmp_path)
    [result] = check_files(files, specs, load_policy(policy_file, specs))
    assert [(f.code, f.cell) for f in result.findings] == [(code, cell)]
    assert result.status == (REJECTED if ALL_CODES[code].severity == ERROR else ACCEPTED_WITH_WARNINGS)


def test_messages_say_what_the_register_holds(tmp_path: Path, specs) -> None:
    other = PEOPLE[4]
    register = register_of(PEOPLE, **{"0": {"tier": "深度困难"}, "5": {"union": "其他工会"}})
    policy_file, files = case(register, listed_but(3, archive_no=other.archive_no))(tmp_path)
    [result] = check_files(files, specs, load_policy(policy_file, specs))
    messages = {f.code: f.message for f in result.findings}
    assert "“相对困难”" in messages["registry_tier_differs"] and "“深度困难”" in messages["registry_tier_differs"]
    assert other.name in messages["archive_no_mismatch"] and PEOPLE[3].archive_no in messages["archive_no_mismatch"]
    assert "“其他工会”" in messages["registry_union_differs"] and "“测试工会”" in messages["registry_union_differs"]


def test_not_registered_says_register_first_or_explain(tmp_path: Path, specs) -> None:
    policy_file, files = REGISTRY_CASES["not_registered"][0](tmp_path)
    [result] = check_files(files, specs, load_policy(policy_file, specs))
    assert "未建档,请先建档或说明" in result.findings[0].message
    assert PEOPLE[1].name in result.findings[0].message


def test_a_number_typed_that_the_register_lacks_is_an_error(tmp_path: Path, specs) -> None:
    policy_file, files = case(register_of(PEOPLE), listed_but(2, archive_no="FZ99-999"))(tmp_path)
    [result] = check_files(files, specs, load_policy(policy_file, specs))
    [finding] = result.findings
    assert (finding.code, finding.cell) == ("archive_no_mismatch", "N6") and "在档案中不存在" in finding.message


def test_without_a_register_the_list_is_checked_as_before(tmp_path: Path, specs) -> None:
    """Nobody here is in any register: without `registry` that is no finding; a blank 建档编号 warns as before."""
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text("[relief]\ndibao = 800\n", encoding="utf-8")
    path = fill_template(tmp_path / "名单.xlsx", "测试工会", listed_but(3, archive_no=""))
    [result] = check_files([path], specs, load_policy(policy_file, specs))
    assert [(f.code, f.cell) for f in result.findings] == [("archive_missing", "N7")]


def test_with_a_register_a_blank_number_is_taken_from_it(tmp_path: Path, specs) -> None:
    policy_file, files = case(register_of(PEOPLE), listed_but(3, archive_no=""))(tmp_path)
    [result] = check_files(files, specs, load_policy(policy_file, specs))
    assert result.findings == []


def test_register_in_an_xls_export_with_legacy_tier_names(tmp_path: Path, specs) -> None:
    """An .xls export calling 深度困难 特困 reads like the .xlsx one."""
    rows = register_of(PEOPLE[:1] + PEOPLE[2:])
    rows = [[*row[:3], "特困" if row[3] == "深度困难" else row[3], *row[4:]] for row in rows]
    libreoffice_convert(write_register(tmp_path / "源.xlsx", rows), tmp_path / "档案.xls", "MS Excel 97")
    policy = load_policy(registry_policy(tmp_path, "档案.xls"), specs)
    [result] = check_files([fill_template(tmp_path / "名单.xlsx", "测试工会", PEOPLE)], specs, policy)
    assert [(f.code, f.cell) for f in result.findings] == [("not_registered", "D5")]


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda folder: None, "找不到困难职工档案"),
        (
            lambda folder: write_register(folder / "档案.xlsx", [["FZ-1", "张三"]], ["建档编号", "姓名"]),
            "找不到“身份证号”列",
        ),
        (lambda folder: (folder / "档案.xlsx").write_bytes(b"not a workbook"), "无法读取"),
        (
            lambda folder: write_register(folder / "档案.xlsx", [["FZ-1", "张三", "12345"]], REGISTER_HEADER[:3]),
            "没有一户填写了有效的 18 位身份证号",
        ),
    ],
    ids=["missing", "no_id_column", "unreadable", "no_valid_id"],
)
def test_an_unusable_register_stops_the_run_with_exit_2(tmp_path: Path, make, reason: str) -> None:
    make(tmp_path)
    policy_file = registry_policy(tmp_path)
    (tmp_path / "inbox").mkdir()
    out = tmp_path / "out"
    arguments = ["run", "--inbox", str(tmp_path / "inbox"), "--out", str(out), "--policy", str(policy_file)]
    result = CliRunner().invoke(cli, arguments, catch_exceptions=False)
    assert result.exit_code == 2
    assert reason in result.output and "relief.registry" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not out.exists()


def test_register_path_is_relative_to_the_policy_file(tmp_path: Path, specs) -> None:
    (tmp_path / "office").mkdir()
    write_register(tmp_path / "office" / "档案.xlsx", register_of(PEOPLE))
    policy = load_policy(registry_policy(tmp_path / "office"), specs)
    assert policy.for_form("慰问名单").register.reference.path == tmp_path / "office" / "档案.xlsx"
    with pytest.raises(PolicyError, match="registry 应为文件路径"):
        (tmp_path / "bad.toml").write_text("[relief]\nregistry = 3\n", encoding="utf-8")
        load_policy(tmp_path / "bad.toml", specs)


# ---- a run: the ledger, report.json and the consolidated workbook ------------------------------------------


def sheet(path: Path, name: str) -> list[list]:
    return calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def table(path: Path, name: str) -> list[dict]:
    """A consolidated sheet's rows under its header (row 2), the totals row and notes left out."""
    rows = sheet(path, name)
    header = rows[1]
    return [dict(zip(header, row, strict=False)) for row in rows[2:] if isinstance(row[0], int | float)]


@pytest.fixture
def registry_run(tmp_path: Path):
    """Three units and a register of 12 households: 甲 sends 4 of its 5 (one with a blank 建档编号, one whose tier
    differs), 乙 sends 2 of its 4 and a person nobody registered (sent back), 丙 sends nothing; one 乙 household
    has 已脱困."""
    jia, yi, bing = make_people(5, seed=21, prefix="JA"), make_people(4, seed=22, prefix="YI"), make_people(3, 23)
    stranger = make_people(1, seed=24)[0]
    register = [entry(p, "甲工会") for p in jia] + [entry(p, "乙工会") for p in yi] + [entry(p, "丙工会") for p in bing]
    register[0][3] = "意外致困" if jia[0].tier != "意外致困" else "相对困难"  # 甲's first: tier differs (warning)
    register[8][5] = "已脱困"  # 乙's last, not listed
    write_register(tmp_path / "档案.xlsx", register)
    inbox = tmp_path / "inbox"
    fill_template(inbox / "甲.xlsx", "甲工会", [jia[0], with_changes(jia[1], archive_no=""), jia[2], jia[3]])
    fill_template(inbox / "乙.xlsx", "乙工会", [yi[0], yi[1], stranger])
    report = run_batch(inbox, tmp_path / "out", "2026-11", registry_policy(tmp_path))
    return tmp_path, report, {"甲": jia, "乙": yi, "丙": bing, "stranger": [stranger]}, register


def test_every_result_names_the_register_it_was_checked_against(registry_run) -> None:
    folder, _, _, _ = registry_run
    sha = hashlib.sha256((folder / "档案.xlsx").read_bytes()).hexdigest()
    data = json.loads((folder / "out" / "2026-11" / "report.json").read_text(encoding="utf-8"))
    assert [f["checked_against"] for f in data["files"]] == [
        {"label": "困难职工档案", "file": "档案.xlsx", "sha256": sha}
    ] * 2
    with closing(
        sqlite3.connect(folder / "out" / "ledger.sqlite")
    ) as db:  # closed: a connection is freed only by the cyclic GC
        assert db.execute("SELECT checked_against FROM submissions").fetchall() == [(sha,), (sha,)]
        assert db.execute("SELECT sha256, label, entries FROM reference_files").fetchall() == [
            (sha, "困难职工档案", 12)
        ]


def test_a_form_without_a_register_names_none(tmp_path: Path) -> None:
    fill_template(tmp_path / "inbox" / "名单.xlsx", "测试工会", PEOPLE)
    run_batch(tmp_path / "inbox", tmp_path / "out", "2026-11")
    data = json.loads((tmp_path / "out" / "2026-11" / "report.json").read_text(encoding="utf-8"))
    assert "checked_against" not in data["files"][0]
    with closing(
        sqlite3.connect(tmp_path / "out" / "ledger.sqlite")
    ) as db:  # closed: a connection is freed only by the cyclic GC
        assert db.execute("SELECT checked_against FROM submissions").fetchall() == [(None,)]


def test_signoff_and_detail_carry_the_registers_number(registry_run) -> None:
    folder, _, people, register = registry_run
    numbers = {row[2]: row[0] for row in register}
    workbook = folder / "out" / "2026-11" / "慰问名单汇总.xlsx"
    listed = people["甲"][:4]  # 乙 was sent back
    for name in ("实名制发放表", "明细"):
        rows = table(workbook, name)
        assert {row["身份证号"]: row["建档编号"] for row in rows} == {p.id_number: numbers[p.id_number] for p in listed}


def test_register_check_lists_every_mismatch(registry_run) -> None:
    """Both files' mismatches, the sent-back one's error and the accepted one's warning, each at its cell."""
    folder, _, people, _ = registry_run
    rows = sheet(folder / "out" / "2026-11" / "慰问名单汇总.xlsx", "建档核对")
    assert rows[1][:7] == ["单位", "文件", "文件结果", "工作表", "单元格", "级别", "填写内容"]
    listed = [tuple(row[:7]) for row in rows[2:] if row[1]]
    stranger = people["stranger"][0]
    assert sorted(listed) == [
        ("乙工会", "乙.xlsx", "退回修改", "慰问名单", "D6", "错误", stranger.id_number),
        ("甲工会", "甲.xlsx", "已受理(有警告)", "慰问名单", "G4", "警告", people["甲"][0].tier),
    ]
    assert any("SHA-256" in str(row[0]) for row in rows)


def test_coverage_per_union_and_deep_households_nobody_visited(registry_run) -> None:
    folder, _, people, register = registry_run
    workbook = folder / "out" / "2026-11" / "慰问名单汇总.xlsx"
    visited = {p.id_number for p in people["甲"][:4]}  # the only counted list
    in_care = [row for row in register if row[5] == "在档"]
    expected = {}
    for union in ("甲工会", "乙工会", "丙工会"):
        mine = [row for row in in_care if row[6] == union]
        deep = [row for row in mine if row[3] == "深度困难"]
        seen, deep_seen = sum(row[2] in visited for row in mine), sum(row[2] in visited for row in deep)
        rate = (Decimal(seen * 100) / len(mine)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        expected[union] = (len(mine), seen, rate, len(deep), deep_seen, len(deep) - deep_seen)
    coverage = sheet(workbook, "档案走访")
    header = coverage[1]
    columns = ("在档户数", "本期已慰问户数", "慰问覆盖率(%)", "深度困难户数", "深度困难已慰问", "深度困难未慰问")
    got = {
        row[0]: tuple(Decimal(str(row[header.index(column)])) for column in columns)
        for row in coverage[2:]
        if row[0] in expected
    }
    assert got == expected
    assert expected["甲工会"][1] == 4 and expected["丙工会"][1] == 0  # the check is not vacuous
    unvisited = {row["身份证号"] for row in table(workbook, "深度困难未慰问")}
    assert unvisited == {row[2] for row in in_care if row[3] == "深度困难" and row[2] not in visited}


def test_the_registers_digest_is_never_masked(tmp_path: Path) -> None:
    """report.json masks phone-like digits everywhere, but a SHA-256 is kept whole even when it holds such a run."""
    from unionbatch.records import FileResult, Report
    from unionbatch.spec import Reference

    digest = "ab13812345678" + "0" * 51
    result = FileResult(
        tmp_path / "名单.xlsx", checked_against=Reference("困难职工档案", tmp_path / "档案.xlsx", digest, 1)
    )
    data = Report("2026-11", tmp_path, [result]).to_json()
    assert data["files"][0]["checked_against"]["sha256"] == digest
