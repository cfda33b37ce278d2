"""促进就业目标完成情况统计表 (seed 001 篇8): targets per union in the policy, monthly cumulative reports.

A fixture per code at its cell; three months of reports from three unions (one lagging at 三季度末, one with a
cumulative figure lower than the month before), and the consolidated figures counted here independently.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import python_calamine as calamine

from tests.factory import fill_form, write_own_layout
from unionbatch.findings import ERROR
from unionbatch.pipeline import check_batch, run_batch
from unionbatch.policy import PolicyError, load_policy
from unionbatch.records import ACCEPTED_WITH_WARNINGS, REJECTED
from unionbatch.spec import finding_codes, load_specs

ALL_CODES = finding_codes(load_specs())  # the engine's codes and every form's own

KIND = "促进就业统计表"
KEYS = ("classes", "trained_laid_off", "trained_migrant", "leaders", "reemployed", "referrals", "loans")
NAMES = ("举办培训班", "培训下岗失业人员", "培训农民工", "帮扶创业带头人", "带动再就业", "职业介绍", "小额借贷款")
# the seed's province targets (300 期, 2.6 万, 1.2 万, 220, 1.6 万, 2 万人次, 300 万元) split over three unions
TARGETS = {
    "甲市总工会": (120, 10000, 5000, 90, 6000, 8000, 120),
    "乙市总工会": (100, 9000, 4000, 70, 5000, 7000, 100),
    "丙市总工会": (80, 7000, 3000, 60, 5000, 5000, 80),
}
PACE = {"甲市总工会": Decimal("1.1"), "乙市总工会": Decimal("0.9"), "丙市总工会": Decimal("0.6")}
TRANSFER_SHARE = {"甲市总工会": Decimal("0.7"), "乙市总工会": Decimal("0.66"), "丙市总工会": Decimal("0.5")}
CENT = Decimal("0.01")


def policy_text(province: bool = True, roster: tuple[str, ...] = ()) -> str:
    lines = ["[employment]", "rate_target = 0.65", 'checkpoints = { "9" = 0.75, "12" = 1 }']
    for unit, targets in TARGETS.items():
        lines.append(f'[employment.targets."{unit}"]')
        lines += [f'"{name}" = {value}' for name, value in zip(NAMES, targets, strict=True)]
    if province:
        lines.append("[employment.province]")
        lines += [f'"{name}" = {sum(t[i] for t in TARGETS.values())}' for i, name in enumerate(NAMES)]
    for unit in roster:
        lines += ["[[roster]]", f'unit = "{unit}"', f'forms = ["{KIND}"]']
    return "\n".join(lines) + "\n"


def write_policy(folder: Path, **options: object) -> Path:
    path = folder / "policy.toml"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(policy_text(**options), encoding="utf-8")  # type: ignore[arg-type]
    return path


def figures(unit: str, month: int) -> dict[str, object]:
    """The unit's cumulative figures at the end of `month`: its pace × the share of the year gone by."""
    share = PACE[unit] * month / 12
    record: dict[str, object] = {}
    for key, target in zip(KEYS, TARGETS[unit], strict=True):
        value = Decimal(target) * share
        record[key] = value.quantize(CENT, ROUND_HALF_UP) if key == "loans" else int(value)
    trained = int(record["trained_laid_off"]) + int(record["trained_migrant"])  # type: ignore[call-overload]
    record["transferred"] = int(trained * TRANSFER_SHARE[unit])
    record["loans"] = float(record["loans"])  # type: ignore[arg-type]
    return record


def report_file(path: Path, unit: str, record: dict[str, object], date: str = "2026-09-30") -> Path:
    header = {"填报单位": unit, "填表人": "李华", "联系电话": "0731-84001234", "填报日期": date}
    return fill_form(path, KIND, header, [record])


def on_template(unit: str, like: str | None = None, **changes: object) -> Callable[[Path], list[Path]]:
    """A June report of `unit` with the figures of `like` (default: its own), changed as given."""

    def build(folder: Path) -> list[Path]:
        return [report_file(folder / "统计表.xlsx", unit, {**figures(like or unit, 6), **changes})]

    return build


def typed_rate(folder: Path) -> list[Path]:
    """A union's own sheet with a 转岗就业率 column typed by hand (65 %), its figures giving 70 %."""
    record = figures("甲市总工会", 6)
    order = ("classes", "trained_laid_off", "trained_migrant", "transferred", "leaders", "reemployed", "referrals")
    header = [
        "单位名称",
        "举办培训班(期)",
        "培训下岗失业人员(人)",
        "培训农民工(人)",
        "转岗就业(人)",
        "帮扶创业带头人(人)",
    ]
    header += ["带动再就业(人)", "职业介绍(人次)", "小额借(贷)款(万元)", "转岗就业率(%)"]
    row = ["甲市总工会", *(record[key] for key in order), record["loans"], "65%"]
    title = [["促进就业目标完成情况统计表"], ["填报单位:甲市总工会"]]
    return [write_own_layout(folder / "自制.xlsx", title, header, [row])]


def check_june(paths: list[Path], specs, policy) -> list:
    """Checked as June's reports (no checkpoint month: the quarter-end rule has nothing to say)."""
    return check_batch(paths, specs, policy, period="2026-06")[0]


# code → (fixture builder, expected cell). Template columns: A 单位名称, B 培训班, C 下岗失业, D 农民工, E 转岗就业 …
CHECK_CASES: dict[str, tuple[Callable[[Path], list[Path]], str]] = {
    "transfer_exceeds_trained": (on_template("甲市总工会", transferred=999_999), "E4"),
    "rate_mismatch": (typed_rate, "J4"),
    "no_target": (on_template("丁县总工会", like="甲市总工会"), "A4"),
}


@pytest.mark.parametrize("code", sorted(CHECK_CASES))
def test_fixture_triggers_code_at_cell(code: str, tmp_path: Path, specs) -> None:
    build, cell = CHECK_CASES[code]
    policy = load_policy(write_policy(tmp_path / "p"), specs)
    [result] = check_june(build(tmp_path), specs, policy)
    assert [(f.code, f.cell) for f in result.findings] == [(code, cell)]
    assert result.status == (REJECTED if ALL_CODES[code].severity == ERROR else ACCEPTED_WITH_WARNINGS)


def test_a_correct_report_has_no_findings_and_its_rate_is_computed(tmp_path: Path, specs) -> None:
    policy = load_policy(write_policy(tmp_path / "p"), specs)
    [result] = check_june(on_template("甲市总工会")(tmp_path), specs, policy)
    assert result.findings == [] and result.kind == KIND


def test_counts_are_whole_non_negative_and_money_has_two_decimals(tmp_path: Path, specs) -> None:
    policy = load_policy(write_policy(tmp_path / "p"), specs)
    build = on_template("甲市总工会", classes=2.5, leaders=-1, loans=10.123)
    [result] = check_june(build(tmp_path), specs, policy)
    assert sorted((f.code, f.cell) for f in result.findings) == [
        ("money_precision", "I4"),
        ("negative_value", "F4"),
        ("not_integer", "B4"),
    ]


def test_province_total_must_equal_the_units_targets(tmp_path: Path, specs) -> None:
    path = write_policy(tmp_path)
    path.write_text(
        path.read_text(encoding="utf-8").replace('"举办培训班" = 300', '"举办培训班" = 310'), encoding="utf-8"
    )
    with pytest.raises(PolicyError, match="各单位的举办培训班目标之和为 300"):
        load_policy(path, specs)


def test_checkpoints_are_months_with_shares(tmp_path: Path, specs) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[employment]\ncheckpoints = { "13" = 0.5 }\n', encoding="utf-8")
    with pytest.raises(PolicyError, match="月份 1 至 12"):
        load_policy(path, specs)


def own_sheet_with_rate(folder: Path, rate: object) -> Path:
    """甲's June figures (转岗就业率 70 %) on a union's own sheet with a 转岗就业率 column holding `rate`."""
    record = figures("甲市总工会", 6)
    order = ("classes", "trained_laid_off", "trained_migrant", "transferred", "leaders", "reemployed", "referrals")
    header = ["单位名称", "举办培训班(期)", "培训下岗失业人员(人)", "培训农民工(人)", "转岗就业(人)"]
    header += ["帮扶创业带头人(人)", "带动再就业(人)", "职业介绍(人次)", "小额借(贷)款(万元)", "转岗就业率(%)"]
    row = ["甲市总工会", *(record[key] for key in order), record["loans"], rate]
    return write_own_layout(
        folder / "自制.xlsx", [["促进就业目标完成情况统计表"], ["填报单位:甲市总工会"]], header, [row]
    )


@pytest.mark.parametrize("rate", ["70%", "70.0", 0.7, "70.05%"], ids=["percent", "number", "excel_share", "close"])
def test_a_typed_rate_that_agrees_with_the_figures_is_no_finding(tmp_path: Path, specs, rate: object) -> None:
    record = figures("甲市总工会", 6)
    trained = Decimal(record["trained_laid_off"]) + Decimal(record["trained_migrant"])  # type: ignore[arg-type]
    assert completion(Decimal(record["transferred"]), trained) == Decimal("70.00")  # type: ignore[arg-type]
    policy = load_policy(write_policy(tmp_path / "p"), specs)
    [result] = check_june([own_sheet_with_rate(tmp_path, rate)], specs, policy)
    assert result.findings == []


def test_without_a_stated_province_total_it_is_the_units_sum(tmp_path: Path, specs) -> None:
    policy = load_policy(write_policy(tmp_path, province=False), specs).for_form(KIND)
    for index, key in enumerate(KEYS):
        assert policy.province[key] == sum(targets[index] for targets in TARGETS.values())


def test_cumulative_figures_are_compared_with_the_last_accepted_month(tmp_path: Path) -> None:
    """甲's July is accepted; its August, sent back (转岗就业 above the trained), had higher figures; its September,
    above July but below the rejected August, is accepted, and its 比上月增加 is blank (no accepted August)."""
    policy = write_policy(tmp_path / "p")
    july, september = figures("甲市总工会", 7), figures("甲市总工会", 9)
    august = {**figures("甲市总工会", 10), "transferred": 999_999}
    reports = {}
    for month, record in ((7, july), (8, august), (9, september)):
        report_file(tmp_path / f"inbox{month}" / "甲.xlsx", "甲市总工会", record, date=f"2026-{month:02d}-28")
        reports[month] = run_batch(tmp_path / f"inbox{month}", tmp_path / "out", f"2026-{month:02d}", policy)
    assert [r.status for r in reports[8].files] == [REJECTED]
    [result] = reports[9].files
    assert [f.code for f in result.findings] == [] and result.accepted
    assert all(Decimal(str(september[key])) < Decimal(str(august[key])) for key in KEYS)
    rows = sheet(tmp_path / "out" / "2026-09" / "促进就业汇总.xlsx", "完成情况")
    changes = {row[1]: row[rows[1].index("比上月增加")] for row in rows[2:] if row[0] == "甲市总工会"}
    assert len(changes) == 9 and set(changes.values()) == {""}


# ---- three months: the ledger's earlier months, the quarter-end check and the consolidated workbook ---------

MONTHS = (7, 8, 9)


@pytest.fixture(scope="module")
def three_months(tmp_path_factory: pytest.TempPathFactory):
    """甲 and 乙 report July to September; 丙 July and September (nothing in August); in September 乙's 职业介绍 is
    lower than its August figure (rejected: its August file stays its latest accepted), and 丙 lags."""
    folder = tmp_path_factory.mktemp("employment")
    policy = write_policy(folder, roster=(*TARGETS, "丁县总工会"))
    sent: dict[tuple[str, int], dict[str, object]] = {}
    reports = {}
    for month in MONTHS:
        inbox = folder / f"inbox{month}"
        for number, unit in enumerate(TARGETS):
            if unit == "丙市总工会" and month == 8:
                continue
            record = figures(unit, month)
            if unit == "乙市总工会" and month == 9:
                record["referrals"] = int(sent[unit, 8]["referrals"]) - 1  # type: ignore[call-overload]
            sent[unit, month] = record
            report_file(inbox / f"{number}_{month}.xlsx", unit, record, date=f"2026-{month:02d}-28")
        reports[month] = run_batch(inbox, folder / "out", f"2026-{month:02d}", policy)
    return folder, reports, sent


def test_a_cumulative_figure_lower_than_last_month_is_an_error(three_months) -> None:
    _, reports, sent = three_months
    [result] = [r for r in reports[9].files if r.unit == "乙市总工会"]
    decreased = [f for f in result.findings if f.code == "cumulative_decreased"]
    assert [(f.cell, f.value) for f in decreased] == [("H4", str(sent["乙市总工会", 9]["referrals"]))]
    assert "2026 年 8 月" in decreased[0].message and str(sent["乙市总工会", 8]["referrals"]) in decreased[0].message
    assert result.status == REJECTED


def test_a_unit_behind_at_the_third_quarter_end_is_flagged(three_months) -> None:
    """丙 at 60 % of the pace: every indicator below 75 % of its year's target in September, and its rate below 65 %;
    甲 (ahead, rate 70 %) is not flagged; in August (no checkpoint) nobody is."""
    _, reports, _ = three_months
    [lagging] = [r for r in reports[9].files if r.unit == "丙市总工会"]
    flagged = sorted(f.cell for f in lagging.findings if f.code == "behind_schedule")
    assert flagged == sorted(["B4", "C4", "D4", "F4", "G4", "H4", "I4", "E4"])
    assert lagging.status == ACCEPTED_WITH_WARNINGS
    [ahead] = [r for r in reports[9].files if r.unit == "甲市总工会"]
    assert ahead.findings == []
    assert not [f for r in reports[8].files for f in r.findings]


def completion(done: Decimal, target: Decimal) -> Decimal:
    return (done * 100 / target).quantize(CENT, ROUND_HALF_UP)


def sheet(path: Path, name: str) -> list[list]:
    return calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def test_progress_per_unit_and_indicator(three_months) -> None:
    """September's figures of the counted reports (甲, 丙; 乙's was sent back), each against its target, and the
    change since the unit's August figure (丙 sent none in August: left blank)."""
    folder, _, sent = three_months
    rows = sheet(folder / "out" / "2026-09" / "促进就业汇总.xlsx", "完成情况")
    header = rows[1]
    got = {(row[0], row[1]): row for row in rows[2:] if row[0] in TARGETS}
    assert {unit for unit, _ in got} == {"甲市总工会", "丙市总工会"}
    for unit in ("甲市总工会", "丙市总工会"):
        for key, name, target in zip(KEYS, NAMES, TARGETS[unit], strict=True):
            label = next(label for u, label in got if u == unit and label.startswith(name))
            row = got[unit, label]
            done = Decimal(str(sent[unit, 9][key]))
            assert Decimal(str(row[header.index("累计完成")])) == done
            assert Decimal(str(row[header.index("完成率(%)")])) == completion(done, Decimal(target))
            change = row[header.index("比上月增加")]
            if unit == "甲市总工会":
                assert Decimal(str(change)).quantize(CENT) == (done - Decimal(str(sent[unit, 8][key]))).quantize(CENT)
            else:
                assert change == ""
        rate_row = got[unit, "转岗就业率(%)"]
        record = sent[unit, 9]
        trained = Decimal(record["trained_laid_off"]) + Decimal(record["trained_migrant"])  # type: ignore[arg-type]
        rate = completion(Decimal(record["transferred"]), trained)  # type: ignore[arg-type]
        assert Decimal(str(rate_row[header.index("累计完成")])) == rate
        assert rate_row[header.index("标记")] == ("绿" if rate >= 65 else "红")
    # 甲 runs at 110 % of the time gone by: green; 丙 at 60 %: red
    assert {got["甲市总工会", label][6] for u, label in got if u == "甲市总工会" and "转岗" not in label} == {"绿"}
    assert {got["丙市总工会", label][6] for u, label in got if u == "丙市总工会" and "转岗" not in label} == {"红"}


def test_province_roll_up_and_units_not_reported(three_months) -> None:
    folder, _, sent = three_months
    workbook = folder / "out" / "2026-09" / "促进就业汇总.xlsx"
    rows = sheet(workbook, "全省汇总")
    header = rows[1]
    counted = ("甲市总工会", "丙市总工会")
    for index, (key, name) in enumerate(zip(KEYS, NAMES, strict=True)):
        row = next(row for row in rows[2:] if str(row[0]).startswith(name))
        target = sum(targets[index] for targets in TARGETS.values())
        done = sum(Decimal(str(sent[unit, 9][key])) for unit in counted)
        assert Decimal(str(row[header.index("全年目标")])) == target
        assert Decimal(str(row[header.index("累计完成")])) == done
        assert Decimal(str(row[header.index("完成率(%)")])) == completion(done, Decimal(target))
    missing = {row[1]: row[2] for row in sheet(workbook, "未报送")[2:] if row[0] == KIND}
    assert missing == {"乙市总工会": "被退回待重报", "丁县总工会": "未报送"}
    from openpyxl import load_workbook

    assert load_workbook(workbook)["各单位完成率"]._charts, "a chart of 完成率 by unit"


def test_completion_by_unit_and_overall(three_months) -> None:
    """各单位完成率: each indicator's 完成率 and the 转岗就业率 against its target, and their mean, counted here."""
    folder, _, sent = three_months
    rows = sheet(folder / "out" / "2026-09" / "促进就业汇总.xlsx", "各单位完成率")
    header = rows[1]
    got = {row[0]: row for row in rows[2:] if row[0] in TARGETS}
    assert set(got) == {"甲市总工会", "丙市总工会"}
    for unit, row in got.items():
        record = sent[unit, 9]
        rates = [
            completion(Decimal(str(record[key])), Decimal(target))
            for key, target in zip(KEYS, TARGETS[unit], strict=True)
        ]
        trained = Decimal(record["trained_laid_off"]) + Decimal(record["trained_migrant"])  # type: ignore[arg-type]
        rates.append(completion(completion(Decimal(record["transferred"]), trained), Decimal(65)))  # type: ignore[arg-type]
        for name, rate in zip([*NAMES, "转岗就业率"], rates, strict=True):
            column = next(i for i, title in enumerate(header) if str(title).startswith(name))
            assert Decimal(str(row[column])) == rate, (unit, name)
        assert row[header.index("转岗就业(人)完成率(%)")] == ""  # no target for 转岗就业 itself
        overall = (sum(rates, Decimal(0)) / len(rates)).quantize(CENT, ROUND_HALF_UP)
        assert Decimal(str(row[header.index("综合完成率(%)")])) == overall


def test_province_rate_and_change_since_last_month(three_months) -> None:
    """The province's 转岗就业率 is its summed 转岗就业 over its summed trained; its 比上月增加 is left blank when a
    counted unit (丙) sent nothing the month before, and is the sum of the units' changes in August."""
    folder, _, sent = three_months
    rows = sheet(folder / "out" / "2026-09" / "促进就业汇总.xlsx", "全省汇总")
    header = rows[1]
    counted = ("甲市总工会", "丙市总工会")
    moved = sum(Decimal(str(sent[unit, 9]["transferred"])) for unit in counted)
    trained = sum(Decimal(str(sent[u, 9][k])) for u in counted for k in ("trained_laid_off", "trained_migrant"))
    rate_row = next(row for row in rows[2:] if row[0] == "转岗就业率(%)")
    assert Decimal(str(rate_row[header.index("累计完成")])) == completion(moved, trained)
    assert {row[header.index("比上月增加")] for row in rows[2:] if str(row[0]).startswith(NAMES)} == {""}
    august = sheet(folder / "out" / "2026-08" / "促进就业汇总.xlsx", "全省汇总")
    both = ("甲市总工会", "乙市总工会")  # 丙 sent nothing in August
    for key, name in zip(KEYS, NAMES, strict=True):
        row = next(row for row in august[2:] if str(row[0]).startswith(name))
        change = sum(Decimal(str(sent[u, 8][key])) - Decimal(str(sent[u, 7][key])) for u in both)
        assert Decimal(str(row[august[1].index("比上月增加")])).quantize(CENT) == change.quantize(CENT), name


# every code of the form, for tests/test_findings.py's meta-test (the two needing the ledger are tested above)
EMPLOYMENT_CASES = {**CHECK_CASES, "cumulative_decreased": None, "behind_schedule": None}


def test_red_and_yellow_marks_colour_their_rows(three_months) -> None:
    """丙 (60 % of the pace) is red on every indicator, 甲's rate of 70 % is green; a red row is filled red."""
    from openpyxl import load_workbook

    folder, _, _ = three_months
    sheet_ = load_workbook(folder / "out" / "2026-09" / "促进就业汇总.xlsx")["完成情况"]
    fills = {}
    for row in sheet_.iter_rows(min_row=3):
        if row[0].value in TARGETS:
            fills.setdefault(row[6].value, set()).update(cell.fill.start_color.rgb for cell in row[:7])
    assert fills["红"] == {"FFFFC7CE"}  # the whole row
    assert fills["绿"] == {"00000000"}


def test_in_january_the_change_is_the_months_figure(tmp_path: Path) -> None:
    report_file(tmp_path / "inbox" / "甲.xlsx", "甲市总工会", figures("甲市总工会", 1), date="2026-01-30")
    run_batch(tmp_path / "inbox", tmp_path / "out", "2026-01", write_policy(tmp_path / "p"))
    rows = sheet(tmp_path / "out" / "2026-01" / "促进就业汇总.xlsx", "完成情况")
    header = rows[1]
    got = {row[1]: row for row in rows[2:] if row[0] == "甲市总工会"}
    for key, name in zip(KEYS, NAMES, strict=True):
        row = next(row for label, row in got.items() if label.startswith(name))
        done = Decimal(str(figures("甲市总工会", 1)[key]))
        assert Decimal(str(row[header.index("比上月增加")])) == Decimal(str(row[header.index("累计完成")])) == done


def test_validate_checks_as_the_period_given(tmp_path: Path) -> None:
    """`validate --period`: a September report lagging at 三季度末 is flagged as September's, not as this month's."""
    from click.testing import CliRunner

    from process import cli

    path = report_file(tmp_path / "丙.xlsx", "丙市总工会", figures("丙市总工会", 9))
    policy = str(write_policy(tmp_path / "p"))

    def validate(*extra: str):
        arguments = ["validate", str(path), "--policy", policy, *extra]
        return CliRunner().invoke(cli, arguments, catch_exceptions=False)

    september = validate("--period", "2026-09")
    assert september.exit_code == 0
    assert (
        sum("behind_schedule" in line and "截至 9 月(三季度末)" in line for line in september.output.splitlines()) == 8
    )
    october = validate("--period", "2026-10")
    assert (october.exit_code, "behind_schedule" in october.output) == (0, False)
    wrong = validate("--period", "2026-13")
    assert (wrong.exit_code, wrong.output) == (2, "错误:期间“2026-13”格式不对,应为 YYYY-MM,如 2026-01\n")


def test_a_corrected_report_lists_the_figures_it_changed(tmp_path: Path, specs) -> None:
    """Rows are matched by 单位名称 (the form's key, not a 身份证号), so a resubmission's changes are listed."""
    policy = load_policy(write_policy(tmp_path / "p"), specs)
    first = report_file(tmp_path / "初稿.xlsx", "甲市总工会", figures("甲市总工会", 6), date="2026-06-28")
    corrected = {**figures("甲市总工会", 6), "classes": 70}
    second = report_file(tmp_path / "更正.xlsx", "甲市总工会", corrected, date="2026-06-30")
    results = check_batch([first, second], specs, policy, period="2026-06")[0]
    newest = next(result for result in results if result.path.name == "更正.xlsx")
    assert newest.changes is not None
    assert [(c.kind, c.subject, c.field, c.new) for c in newest.changes.items] == [
        ("修改", "甲市总工会", "举办培训班(期)", "70")
    ]
