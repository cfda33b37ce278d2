"""The registration family (#3): 运动会报名表, 成绩登记表, 签到表, 外出活动报名表.

Each rule has a fixture at a known cell (SPORTS_CASES, part of the every-code meta-test); the money is
checked against sums computed here, by hand, from the policy's tables, not by the module under test.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from tests.factory import (
    Athlete,
    fill_attendance,
    fill_outing,
    fill_registration,
    fill_results,
    make_team,
    write_own_layout,
)
from unionbatch.findings import ERROR
from unionbatch.pipeline import check_files, run_batch
from unionbatch.policy import Policy, load_policy
from unionbatch.records import ACCEPTED, ACCEPTED_WITH_WARNINGS, REJECTED
from unionbatch.spec import finding_codes, load_specs

ALL_CODES = finding_codes(load_specs())  # the engine's codes and every form's own

TUG, RELAY, PINGPONG, SHOT = "拔河", "迎面接力", "乒乓球单打", "定点投篮"
BALL_RUN, KNEE_BALL, STONES, ROPE, SHUTTLE = "托球跑", "双腿夹球走", "摸石过河", "一分钟跳绳", "踢毽子"
CLEAN = [[TUG, BALL_RUN]] * 10 + [[PINGPONG, STONES]] * 2  # rows 4..15 of the template


def team(events: list[list[str]] = CLEAN, women: int = 4, dept: str = "教务处", seed: int = 31) -> list[Athlete]:
    return make_team(dept, seed, events, women=women)


def changed(index: int, events: list[str], base: list[list[str]] = CLEAN) -> list[list[str]]:
    chosen = [list(item) for item in base]
    chosen[index] = events
    return chosen


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(None, load_specs())


def registration(athletes: list[Athlete], **options: object) -> Callable[[Path], list[Path]]:
    def build(folder: Path) -> list[Path]:
        return [fill_registration(folder / "报名表.xlsx", athletes[0].dept, athletes, **options)]

    return build


def listed(athletes: list[Athlete], lists: dict[int, str] | None = None, age_groups: dict[int, str] | None = None):
    """A unit's own sheet (data from row 3): events in one 报名项目 column (F), an optional 年龄组 column (G)."""

    def build(folder: Path) -> list[Path]:
        header = ["序号", "部门", "姓名", "性别", "身份证号", "报名项目", *(["年龄组"] if age_groups else [])]
        rows = [
            [n + 1, a.dept, a.name, a.gender, a.id_number, (lists or {}).get(n, "、".join(a.events))]
            + ([(age_groups or {}).get(n, "")] if age_groups else [])
            for n, a in enumerate(athletes)
        ]
        return [write_own_layout(folder / "自制报名表.xlsx", [["填报单位:教务处"]], header, rows)]

    return build


def with_registration(make: Callable[[Path, list[Athlete]], Path]) -> Callable[[Path], list[Path]]:
    """A clean 报名表 of 教务处, then the file under test (made from the same athletes)."""

    def build(folder: Path) -> list[Path]:
        athletes = team()
        return [fill_registration(folder / "报名表.xlsx", "教务处", athletes), make(folder, athletes)]

    return build


def outing(rows: list[tuple[str, str, str, str]]) -> Callable[[Path], list[Path]]:
    def build(folder: Path) -> list[Path]:
        return [fill_outing(folder / "踏青.xlsx", "教务处", rows)]

    return build


def late(folder: Path) -> list[Path]:
    path = fill_registration(folder / "报名表.xlsx", "教务处", team())
    arrived = dt.datetime(2026, 11, 20, 17, 1).timestamp()  # one minute after registration_closes
    os.utime(path, (arrived, arrived))
    return [path]


A = team()
SPORTS_CASES: dict[str, tuple[Callable[[Path], list[Path]], str | None]] = {
    "invalid_mark": (registration(A, edits={"J14": "好"}), "J14"),
    "no_event": (registration(team(changed(11, []))), "C15"),
    "too_many_events": (registration(team(changed(10, [PINGPONG, STONES, ROPE, SHUTTLE]))), "C14"),
    "no_starred_event": (registration(team(changed(11, [PINGPONG, ROPE]))), "C15"),
    "repeated_team_events": (registration(team(changed(0, [TUG, SHOT, BALL_RUN]))), "C4"),
    "team_short": (registration(team(changed(9, [BALL_RUN]))), "G4"),
    "team_women_short": (registration(team(women=1)), "G4"),
    "team_over_limit": (
        registration(team([[TUG, BALL_RUN, PINGPONG]] * 3 + [[TUG, BALL_RUN]] * 7 + [[PINGPONG, STONES]] * 2)),
        "I14",
    ),
    "unknown_event": (listed(A, {0: "拔河、托球跑、跳远"}), "F3"),
    "age_group_mismatch": (listed(A, age_groups={0: "40周岁以上", 1: "40周岁以下"}), None),
    "late_submission": (late, None),
    "staff_in_own_event": (registration(A), "L7"),
    "result_name_missing": (
        with_registration(lambda f, a: fill_results(f / "成绩.xlsx", [(BALL_RUN, 1, "教务处", "")])),
        "E4",
    ),
    "team_not_registered": (
        with_registration(lambda f, a: fill_results(f / "成绩.xlsx", [(RELAY, 1, "教务处", "")])),
        "D4",
    ),
    "result_not_registered": (
        with_registration(lambda f, a: fill_results(f / "成绩.xlsx", [(BALL_RUN, 1, "教务处", a[10].name)])),
        "E4",
    ),
    "no_registration": (lambda f: [fill_results(f / "成绩.xlsx", [(TUG, 1, "教务处", "")])], None),
    "attendance_not_registered": (
        with_registration(lambda f, a: fill_attendance(f / "签到.xlsx", "校工会", [("教务处", "无名氏", "出勤")])),
        "C4",
    ),
    "companion_missing": (outing([("陈静", "教职工", "", "13905910001"), ("林伟", "家属", "", "")]), "E5"),
    "companion_not_listed": (outing([("陈静", "教职工", "", "13905910001"), ("林伟", "家属", "陈敬", "")]), "E5"),
}


STAFF_EVENTS = "\n".join(
    f'[[activity.events]]\nname = "{event.name}"\nteam = {str(event.team).lower()}\nstarred = {str(event.starred).lower()}'
    + (f'\nstaff = ["{A[3].name}"]' if event.name == BALL_RUN else "")
    for event in load_policy(None, load_specs()).for_form("运动会报名表").events
)
POLICIES = {  # codes whose fixture needs a policy of its own
    "late_submission": "[activity]\nregistration_closes = 2026-11-20T17:00:00\n",
    "staff_in_own_event": STAFF_EVENTS,  # A[3] (row 7) runs 托球跑 (column L) and entered it
}


def age_case_cell(athletes: list[Athlete]) -> str:
    """The planted 年龄组 is wrong on exactly one of rows 3 and 4, whichever the birth dates make wrong."""
    activity = load_policy(None, load_specs()).for_form("运动会报名表")
    for row, (athlete, stated) in enumerate(zip(athletes[:2], ("40周岁以上", "40周岁以下"), strict=True), start=3):
        born = dt.date(int(athlete.id_number[6:10]), int(athlete.id_number[10:12]), int(athlete.id_number[12:14]))
        if activity.age_group(born) != stated:
            return f"G{row}"
    raise AssertionError("fixture plants no wrong age group")


@pytest.mark.parametrize("code", sorted(SPORTS_CASES))
def test_fixture_triggers_code_at_cell(code: str, tmp_path: Path, policy: Policy) -> None:
    build, cell = SPORTS_CASES[code]
    if code == "age_group_mismatch":
        cell = age_case_cell(A)
    if code in POLICIES:
        policy_file = tmp_path / "p.toml"
        policy_file.write_text(POLICIES[code], encoding="utf-8")
        policy = load_policy(policy_file, load_specs())
    results = check_files(build(tmp_path), policy.specs, policy)
    under_test = results[-1]
    matching = [f for f in under_test.findings if f.code == code]
    assert matching, f"{code} not raised; got {[(f.code, f.cell) for f in under_test.findings]}"
    assert matching[0].cell == cell
    assert {f.code for f in under_test.findings} == {code}, [(f.code, f.cell) for f in under_test.findings]
    assert under_test.status == (REJECTED if ALL_CODES[code].severity == ERROR else ACCEPTED_WITH_WARNINGS)
    assert all(result.accepted for result in results[:-1])


def test_clean_registration_and_list_layout_are_accepted(tmp_path: Path, policy: Policy) -> None:
    on_template = fill_registration(tmp_path / "a.xlsx", "教务处", A)
    own = listed(team(dept="总务处", seed=41), {0: "拔河、托球跑*", 1: "拔河 托球跑", 2: "拔河/托球跑"})(tmp_path)[0]
    results = check_files([on_template, own], policy.specs, policy)
    assert [(r.status, r.findings) for r in results] == [(ACCEPTED, []), (ACCEPTED, [])]


def test_same_person_in_two_departments_is_an_error_in_both(tmp_path: Path, policy: Policy) -> None:
    ours = team()
    theirs = team(dept="总务处", seed=42)
    theirs[11] = replace(ours[11], dept="总务处")
    paths = [
        fill_registration(tmp_path / "甲.xlsx", "教务处", ours),
        fill_registration(tmp_path / "乙.xlsx", "总务处", theirs),
    ]
    first, second = check_files(paths, policy.specs, policy)
    assert [(f.code, f.cell) for f in first.findings] == [("duplicate_across_files", "E15")]
    assert [(f.code, f.cell) for f in second.findings] == [("duplicate_across_files", "E15")]


def test_template_columns_follow_the_policy_events(tmp_path: Path) -> None:
    policy_file = tmp_path / "p.toml"
    policy_file.write_text(
        '[activity]\nname = "春季健身走"\n[[activity.events]]\nname = "健步走"\nstarred = true\n'
        '[[activity.events]]\nname = "滚铁环接力"\nteam = true\nsize = 10\nmin_women = 2\n',
        encoding="utf-8",
    )
    from click.testing import CliRunner

    from process import cli

    result = CliRunner().invoke(
        cli, ["templates", "--out", str(tmp_path / "t"), "--policy", str(policy_file)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    rows = CalamineWorkbook.from_path(str(tmp_path / "t" / "运动会报名表.xlsx")).get_sheet_by_name("运动会报名表")
    grid = rows.to_python()
    assert grid[0][0] == "春季健身走报名表"
    assert grid[2] == ["序号", "部门", "姓名*", "性别*", "身份证号*", "联系电话", "健步走*", "滚铁环接力"]


# ---- money: a sports day computed by hand -----------------------------------------------------------


def sports_day(folder: Path) -> dict[str, list[Athlete]]:
    """Three departments; 总务处 and 学生处 tie on points (the tie is stated and both get 一等奖)."""
    teams = {
        "教务处": team(dept="教务处", seed=51),
        "总务处": team([[TUG, KNEE_BALL]] * 10 + [[PINGPONG, STONES]] * 2, dept="总务处", seed=52),
        "学生处": team([[TUG, BALL_RUN]] * 10 + [[ROPE, STONES]] * 2, dept="学生处", seed=53),
    }
    for dept, athletes in teams.items():
        fill_registration(folder / f"{dept}.xlsx", dept, athletes)
    jw, zw, xs = teams["教务处"], teams["总务处"], teams["学生处"]
    fill_results(
        folder / "成绩.xlsx",
        [
            (TUG, 1, "总务处", ""),  # 5 points
            (TUG, 2, "学生处", ""),  # 3
            (TUG, 3, "教务处", ""),  # 1
            (BALL_RUN, 1, "学生处", xs[0].name),  # 3 points, 30 元
            (BALL_RUN, 2, "学生处", xs[1].name),  # 2 points, 20 元
            (BALL_RUN, 3, "教务处", jw[0].name),  # 1 point, 10 元
            (STONES, 1, "教务处", jw[10].name),  # 3 points, 30 元
            (STONES, 2, "总务处", zw[10].name),  # 2 points, 20 元
        ],
    )
    late = {("教务处", 1): "迟到", ("总务处", 2): "早退", ("学生处", 3): "缺席"}
    signed = [(a.dept, a.name, late.get((a.dept, n), "出勤")) for ts in teams.values() for n, a in enumerate(ts)]
    signed = [row for row in signed if row[1] != zw[11].name]  # one registered person never signed in
    fill_attendance(folder / "签到.xlsx", "校工会", [*signed, ("教务处", "访客", "出勤")])
    return teams


def sheet(path: Path, name: str) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def test_points_standings_and_money_match_a_hand_count(tmp_path: Path) -> None:
    policy_file = tmp_path / "p.toml"
    policy_file.write_text("[activity]\nbudget = 2500\n", encoding="utf-8")
    sports_day(tmp_path / "inbox")
    report = run_batch(tmp_path / "inbox", tmp_path / "out", "2026-11", policy_file)
    assert {r.path.name: r.status for r in report.files}["签到.xlsx"] == ACCEPTED_WITH_WARNINGS  # the 访客
    # points: 总务处 5 + 2 = 7; 学生处 3 + 3 + 2 = 8; 教务处 1 + 1 + 3 = 5 → 学生处 1st, 总务处 2nd, 教务处 3rd
    # 参与奖: 36 registered; 1 迟到 and 1 早退 at 25, 1 缺席 and 1 never signed in at 0, 32 at 50
    participation = Decimal(32 * 50 + 2 * 25)
    places = Decimal(30 + 20 + 10 + 30 + 20)
    team_prizes = Decimal(300 + 260 + 200)
    total = participation + places + team_prizes
    workbook = tmp_path / "out" / "2026-11" / "积分与奖金.xlsx"
    standings = sheet(workbook, "团体总分")
    assert [row[:4] for row in standings[2:5]] == [
        ["第 1 名", "学生处", 8, 300],
        ["第 2 名", "总务处", 7, 260],
        ["第 3 名", "教务处", 5, 200],
    ]
    by_dept = {row[0]: row[1:5] for row in sheet(workbook, "部门奖金")[2:5]}
    assert by_dept["学生处"] == [11 * 50, 50, 300, 11 * 50 + 50 + 300]  # 缺席 gets nothing
    assert by_dept["总务处"] == [10 * 50 + 25, 20, 260, 10 * 50 + 25 + 20 + 260]
    assert by_dept["教务处"] == [11 * 50 + 25, 40, 200, 11 * 50 + 25 + 40 + 200]
    totals = report.totals["成绩登记表"]
    assert Decimal(totals["total"]) == total
    assert Decimal(totals["budget_difference"]) == Decimal(2500) - total
    people = {row[2]: row for row in sheet(workbook, "个人奖金")[2:] if row and isinstance(row[0], float | int)}
    assert people["访客"][4:7] == [0, 0, 0]
    assert "未报名" in people["访客"][7]


def test_tied_departments_share_a_rank_and_its_prize(tmp_path: Path) -> None:
    teams = sports_day(tmp_path / "inbox")
    xs = teams["学生处"]
    fill_results(  # 总务处 5; 学生处 3 + 2 = 5; 教务处 0
        tmp_path / "inbox" / "成绩.xlsx",
        [(TUG, 1, "总务处", ""), (BALL_RUN, 1, "学生处", xs[0].name), (BALL_RUN, 2, "学生处", xs[1].name)],
    )
    run_batch(tmp_path / "inbox", tmp_path / "out", "2026-11")
    standings = sheet(tmp_path / "out" / "2026-11" / "积分与奖金.xlsx", "团体总分")
    assert sorted(row[:4] for row in standings[2:5]) == sorted(
        [["并列第 1 名", "总务处", 5, 300], ["并列第 1 名", "学生处", 5, 300], ["第 3 名", "教务处", 0, 200]]
    )


def test_outing_fees_and_subsidy(tmp_path: Path) -> None:
    rows = [("陈静", "教职工", "", "13905910001"), ("林伟", "家属", "陈静", ""), ("林小雨", "家属", "陈静", "")]
    fill_outing(tmp_path / "inbox" / "踏青.xlsx", "教务处", rows)
    report = run_batch(tmp_path / "inbox", tmp_path / "out", "2026-11")
    totals = report.totals["外出活动报名表"]
    assert (totals["members"], totals["family"]) == (1, 2)
    assert Decimal(totals["fees"]) == 2 * Decimal(50) / 2  # 家属 half of 50, 教职工 free
    assert Decimal(totals["subsidy"]) == 3 * Decimal(50) - Decimal(totals["fees"])
    summary = sheet(tmp_path / "out" / "2026-11" / "报名汇总.xlsx", "外出活动汇总")
    assert summary[2][:7] == ["教务处", 1, 2, 3, 50, 100, 150]


def test_emailed_after_the_deadline_is_late_by_its_date(tmp_path: Path) -> None:
    policy_file = tmp_path / "p.toml"
    policy_file.write_text("[outing]\ncloses = 2027-03-20T17:00:00\n", encoding="utf-8")
    rows = [("陈静", "教职工", "", "13905910001")]
    for name, date in (("准时", "Sat, 20 Mar 2027 16:59:00 +0800"), ("逾期", "Sat, 20 Mar 2027 17:01:00 +0800")):
        data = fill_outing(tmp_path / "make" / f"{name}.xlsx", f"{name}部门", rows).read_bytes()
        message = EmailMessage()
        message["From"], message["Subject"], message["Date"] = "unit@school.example.org", name, date
        message.set_content("附件")
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=f"{name}.xlsx")
        (tmp_path / "inbox").mkdir(exist_ok=True)
        (tmp_path / "inbox" / f"{name}.eml").write_bytes(bytes(message))
    report = run_batch(tmp_path / "inbox", tmp_path / "out", "2026-11", policy_file)
    verdicts = {r.path.name: [f.code for f in r.findings] for r in report.files}
    assert verdicts == {"准时.xlsx": [], "逾期.xlsx": ["late_submission"]}
    [late_file] = [r for r in report.files if r.path.name == "逾期.xlsx"]
    assert late_file.arrived == dt.datetime(2027, 3, 20, 17, 1)
    eml = (tmp_path / "out" / "2026-11" / "outbox" / "回信_逾期.eml").read_bytes()
    reply = BytesParser(policy=email_policy.default).parsebytes(eml).get_body(("plain",)).get_content()
    assert "已过截止时间 2027-03-20 17:00" in reply
    assert "报送已截止" in reply and "修改后请回复" not in reply  # sending it again would not help


def test_resubmissions_show_what_changed(tmp_path: Path) -> None:
    athletes = team()
    moved = [replace(athletes[0], events=(TUG, STONES)), *athletes[1:]]
    fill_registration(tmp_path / "inbox" / "报名.xlsx", "教务处", athletes, date="2026-11-01")
    fill_registration(tmp_path / "inbox" / "报名(更正).xlsx", "教务处", moved, date="2026-11-02")
    signed = [("教务处", a.name, "出勤") for a in athletes]
    fill_attendance(tmp_path / "inbox" / "签到.xlsx", "校工会", signed)
    late_one = [(dept, name, "迟到" if name == athletes[3].name else status) for dept, name, status in signed]
    fill_attendance(tmp_path / "inbox" / "签到(更正).xlsx", "校工会", late_one)
    os.utime(tmp_path / "inbox" / "签到.xlsx", (1, 1))  # same 填报日期: the later arrival wins
    report = run_batch(tmp_path / "inbox", tmp_path / "out", "2026-11")
    changes = {
        r.path.name: [(c.kind, c.field, c.old, c.new) for c in r.changes.items] for r in report.files if r.changes
    }
    assert changes == {
        "报名(更正).xlsx": [("修改", "托球跑*", "√", ""), ("修改", "摸石过河*", "", "√")],
        "签到(更正).xlsx": [("修改", "出勤情况", "出勤", "迟到")],
    }
    assert report.totals["运动会报名表"]["people"] == len(athletes)  # counted once


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[activity]\ncolour = 1\n", "colour"),
        ('[activity]\ndate = "下周六"\n', "activity.date"),
        ("[activity.prizes]\nteam = 300\n", "activity.prizes.team"),
        ('[[activity.events]]\nname = "拔河"\nsize = "十"\n', "activity.events 第 1 项.size"),
        ('[[activity.events]]\nname = "拔河"\n[[activity.events]]\nname = "拔河"\n', "重名"),
        ("[outing]\nfamily_share = 2\n", "outing.family_share"),
        ('[outing]\ncloses = "3月20日"\n', "outing.closes"),
    ],
)
def test_a_bad_activity_policy_names_the_key(tmp_path: Path, text: str, named: str) -> None:
    from unionbatch.policy import PolicyError

    policy_file = tmp_path / "p.toml"
    policy_file.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError, match=named):
        load_policy(policy_file, load_specs())
