"""Every output workbook of two fixture batches recalculated independently (LibreOffice with recalculation
forced, and the SUM formulas added up by tests/recalc.py), each 合计 row and 大写 line against the rows of its sheet,
and every total against sums this test makes from the rows it put into the inputs.

- a relief batch of office-made workbooks (tests/workbooks.py: a sheet per 部门, a 汇总 sheet of formulas over the
  school sheets, last year's list in a hidden sheet, 工作单位 merged over its rows), a unit sent back, two
  统计表 and an 外出活动报名表;
- a sports day: a 报名表 on our template, one home-made with 部门 merged and events in one column, one with a
  sheet per 系 (tests/office_workbooks.py), a 成绩登记表 and a 签到表 with late, early, absent and unregistered people.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pytest

import tests.office_workbooks as office
from tests.factory import (
    Athlete,
    Person,
    fill_attendance,
    fill_outing,
    fill_registration,
    fill_results,
    fill_stats,
    fill_template,
    libreoffice_convert,
    make_people,
    make_team,
    stats_for,
    with_changes,
)
from tests.recalc import (
    WORDS_COLUMN,
    Grid,
    evaluate_sums,
    layout,
    libreoffice_recalculate,
    read_values,
    sheet_problems,
    totals_row,
    upper_lines,
)
from tests.workbooks import (
    department_book,
    hidden_last_year_book,
    merged_department_registration,
    merged_workplace_book,
    summed_book,
)
from unionbatch.money import rmb_upper
from unionbatch.pipeline import run_batch

# ---- the relief batch ------------------------------------------------------------------------------

COUNTED: dict[str, list[Person]] = {
    "机关工会": make_people(7, seed=201),
    "城东街道工会": make_people(5, seed=202),
    "城南街道工会": make_people(5, seed=203),
    "教育系统工会": make_people(6, seed=204),
}
SENT_BACK = make_people(3, seed=205)  # 交通系统工会: a bad phone number rejects it
LAST_YEAR = make_people(4, seed=206)  # 城东's hidden sheet: never read
OUTING = [  # (姓名, 身份, 随行职工, 联系电话) of 教务处
    ("陈静", "教职工", "", "13905910001"),
    ("林伟", "家属", "陈静", ""),
    ("王强", "教职工", "", "13905910002"),
    ("王小丫", "家属", "王强", ""),
    ("黄丽", "教职工", "", "13905910003"),
]
OUTING_COST, FAMILY_SHARE = Decimal(50), Decimal("0.5")  # the default policy's 外出活动: 50 a head, 家属 pay half


def relief_inbox(inbox: Path, made: Path) -> None:
    jg, cd, cn, jy = COUNTED.values()
    department_book(inbox / "机关工会慰问名单.xlsx", "机关工会", {"办公室": jg[:3], "财务科": jg[3:]})
    hidden_last_year_book(inbox / "城东名单.xlsx", "城东街道工会", cd, LAST_YEAR)
    merged_workplace_book(inbox / "城南名单.xlsx", "城南街道工会", {"一厂": cn[:2], "二厂": cn[2:]})
    summed = summed_book(made / "教育.xlsx", "教育系统工会", {"一中": jy[:3], "实验小学": jy[3:]})
    libreoffice_convert(summed, inbox / "教育系统工会慰问名单.xlsx", "Calc MS Excel 2007 XML")  # formulas computed
    fill_template(
        inbox / "交通系统工会.xlsx", "交通系统工会", [with_changes(SENT_BACK[0], phone="123"), *SENT_BACK[1:]]
    )
    fill_stats(inbox / "机关工会统计表.xlsx", "机关工会", [stats_for(jg)])
    fill_stats(inbox / "城南统计表.xlsx", "城南街道工会", [stats_for(cn)])
    fill_outing(inbox / "教务处踏青.xlsx", "教务处", OUTING)


# ---- the sports day --------------------------------------------------------------------------------

TUG, BALL_RUN, KNEE_BALL, STONES, ROPE, SHUTTLE, PINGPONG = (
    "拔河",
    "托球跑",
    "双腿夹球走",
    "摸石过河",
    "一分钟跳绳",
    "踢毽子",
    "乒乓球单打",
)
TEAMS: dict[str, list[Athlete]] = {
    "教务处": make_team("教务处", 301, [[TUG, BALL_RUN]] * 10 + [[PINGPONG, STONES]] * 2, women=4),
    "总务处": make_team("总务处", 302, [[TUG, KNEE_BALL]] * 10 + [[ROPE, STONES]] * 1, women=3),
    "数学系": make_team("数学系", 303, [[BALL_RUN, ROPE]] * 2 + [[STONES, SHUTTLE]] * 2),
    "物理系": make_team("物理系", 304, [[KNEE_BALL]] * 3),
}
JW, ZW, SX, WL = TEAMS.values()
RESULTS = [  # (项目, 名次, 代表队, 姓名)
    (TUG, 1, "总务处", ""),
    (TUG, 2, "教务处", ""),
    (BALL_RUN, 1, "数学系", SX[0].name),
    (BALL_RUN, 2, "教务处", JW[0].name),
    (BALL_RUN, 3, "数学系", SX[1].name),
    (KNEE_BALL, 1, "物理系", WL[0].name),
    (KNEE_BALL, 2, "总务处", ZW[0].name),
    (STONES, 1, "教务处", JW[10].name),
]
ATTENDANCE = {("教务处", 1): "迟到", ("总务处", 2): "早退", ("数学系", 3): "缺席"}  # (代表队, index) → 出勤情况
NEVER_SIGNED = ("物理系", 2)
VISITOR = ("教务处", "访客", "出勤")  # signed in, never registered
# the default policy's tables
TEAM_EVENTS = {TUG}
INDIVIDUAL_POINTS, TEAM_POINTS = (3, 2, 1), (5, 3, 1)
PLACE_PRIZES, TEAM_PRIZES = (Decimal(30), Decimal(20), Decimal(10)), (Decimal(300), Decimal(260), Decimal(200))
PARTICIPATION, PARTIAL = Decimal(50), Decimal(25)


def signed_in() -> list[tuple[str, str, str]]:
    """The 签到表's rows: every athlete but the one who never signed in, then the visitor."""
    signed = [
        (dept, athlete.name, ATTENDANCE.get((dept, index), "出勤"))
        for dept, athletes in TEAMS.items()
        for index, athlete in enumerate(athletes)
        if (dept, index) != NEVER_SIGNED
    ]
    return [*signed, VISITOR]


def sports_inbox(inbox: Path, _made: Path) -> None:
    fill_registration(inbox / "教务处报名.xlsx", "教务处", JW)
    merged_department_registration(inbox / "总务处报名.xlsx", "总务处", {"总务处": ZW})
    office.registration_sheet_per_department(
        inbox / "理学院报名.xlsx", "理学院分工会", {"数学系": SX, "物理系": WL}, ""
    )
    fill_results(inbox / "成绩.xlsx", RESULTS)
    fill_attendance(inbox / "签到.xlsx", "校工会", signed_in())


# ---- the runs --------------------------------------------------------------------------------------

Books = dict[str, dict[str, Grid]]
Batch = tuple[Books, Books, Books]


def _run(name: str, tmp_path_factory: pytest.TempPathFactory) -> Batch:
    """(every output workbook as written, as LibreOffice recomputes it, with our SUMs added up again)."""
    work = tmp_path_factory.mktemp(name)
    inbox, made = work / "inbox", work / "made"
    inbox.mkdir()
    made.mkdir()
    {"relief": relief_inbox, "sports": sports_inbox}[name](inbox, made)
    report = run_batch(inbox, work / "out", "2026-11")
    paths = sorted(report.folder.glob("*.xlsx"))
    shown = {path.name: read_values(path) for path in paths}
    again = libreoffice_recalculate(paths, work / "recalculated")
    ours = {path.name: evaluate_sums(path) for path in paths}
    return shown, again, ours


@pytest.fixture(scope="module")
def relief(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    return _run("relief", tmp_path_factory)


@pytest.fixture(scope="module")
def sports(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    return _run("sports", tmp_path_factory)


@pytest.mark.parametrize(
    ("name", "books", "sums"),
    [
        ("relief", {"慰问名单汇总.xlsx", "送温暖统计汇总.xlsx", "报名汇总.xlsx", "处理报告.xlsx"}, 9),
        ("sports", {"报名汇总.xlsx", "积分与奖金.xlsx", "处理报告.xlsx"}, 6),
    ],
)
def test_every_output_workbook_agrees_with_itself_after_recalculation(
    name: str, books: set[str], sums: int, request: pytest.FixtureRequest
) -> None:
    shown, again, ours = request.getfixturevalue(name)
    assert set(shown) == books
    problems = {
        f"{book} › {sheet} ({how})": found
        for book, sheets in shown.items()
        for sheet, grid in sheets.items()
        for how, recalculated in (("LibreOffice", again), ("SUM", ours))
        if (found := sheet_problems(grid, recalculated[book][sheet], WORDS_COLUMN))
    }
    assert problems == {}
    totals = sum(layout(grid)[1] is not None for sheets in shown.values() for grid in sheets.values())
    assert totals >= sums  # the 合计 rows were found (the check is not vacuous)


def _rows(grid: Grid) -> dict[str, dict[str, object]]:
    """The data rows of a sheet above its 合计 row, by the text of their first column."""
    header, total = layout(grid)
    end = total if total is not None else len(grid)
    return {str(row[0]): dict(zip(grid[header], row, strict=False)) for row in grid[header + 1 : end] if row[0] != ""}


def _money(people: Sequence[Person], field: str) -> Decimal:
    return sum((Decimal(str(getattr(person, field))) for person in people), Decimal(0))


def _words(grid: Grid) -> list[str]:
    return [words for _, words in upper_lines(grid)]


def test_relief_batch_totals_and_words_are_the_tests_own_sums(relief: Batch) -> None:
    shown, again, _ = relief
    people = [person for members in COUNTED.values() for person in members]
    cash, goods = _money(people, "amount"), _money(people, "goods")
    relief = again["慰问名单汇总.xlsx"]
    by_unit = _rows(relief["按单位汇总"])
    assert {unit: (row["户数"], row["慰问金额(元)"], row["慰问物资折款(元)"]) for unit, row in by_unit.items()} == {
        unit: (len(members), _money(members, "amount"), _money(members, "goods")) for unit, members in COUNTED.items()
    }
    for sheet in ("按单位汇总", "按类别汇总", "明细", "实名制发放表"):
        totals = totals_row(relief[sheet])
        assert (totals["慰问金额(元)"], totals["慰问物资折款(元)"], totals["合计(元)"]) == (cash, goods, cash + goods)
    assert totals_row(relief["按单位汇总"])["户数"] == len(people)
    assert _words(shown["慰问名单汇总.xlsx"]["按单位汇总"]) == [
        rmb_upper(cash),
        rmb_upper(goods),
        rmb_upper(cash + goods),
    ]
    assert _words(shown["慰问名单汇总.xlsx"]["实名制发放表"]) == [rmb_upper(cash), rmb_upper(goods)]
    # 送温暖统计汇总: the two 统计表 rows as stats_for made them
    records = [stats_for(COUNTED["机关工会"]), stats_for(COUNTED["城南街道工会"])]
    stats = totals_row(again["送温暖统计汇总.xlsx"]["按单位汇总"])
    assert stats["困难职工户数"] == sum(record["hard_count"] for record in records)
    assert stats["困难职工金额(元)"] == sum(record["hard_amount"] for record in records)
    assert stats["物资折款(元)"] == sum(record["goods"] for record in records)
    stated = sum(Decimal(record["total"]) for record in records)
    assert stats["合计(元)"] == stated
    assert totals_row(again["送温暖统计汇总.xlsx"]["资金来源"])["工会经费(元)"] == sum(
        record["union_funds"] for record in records
    )
    assert _words(shown["送温暖统计汇总.xlsx"]["按单位汇总"]) == [rmb_upper(stated)]
    # 外出活动: 教职工 pay nothing, 家属 half the cost
    family = sum(role == "家属" for _, role, _, _ in OUTING)
    fees = family * OUTING_COST * FAMILY_SHARE
    outing = totals_row(again["报名汇总.xlsx"]["外出活动汇总"])
    assert (outing["教职工"], outing["家属"], outing["合计人数"]) == (len(OUTING) - family, family, len(OUTING))
    assert (outing["应收费用(元)"], outing["工会补贴(元)"]) == (fees, len(OUTING) * OUTING_COST - fees)
    assert _words(shown["报名汇总.xlsx"]["外出活动汇总"]) == [
        rmb_upper(fees),
        rmb_upper(len(OUTING) * OUTING_COST - fees),
    ]
    # 处理报告: the rows of the counted files only (the sent-back list counts nowhere)
    counted_rows = len(people) + len(records) + len(OUTING)
    assert totals_row(again["处理报告.xlsx"]["文件"])["计入汇总行数"] == counted_rows


def _prizes() -> tuple[dict[str, int], dict[str, Decimal], dict[str, Decimal]]:
    """(points, place prizes, participation) by 代表队, counted here from RESULTS, TEAMS and ATTENDANCE."""
    points = dict.fromkeys(TEAMS, 0)
    places = dict.fromkeys(TEAMS, Decimal(0))
    for event, place, dept, _ in RESULTS:
        if event in TEAM_EVENTS:
            points[dept] += TEAM_POINTS[place - 1]
        else:
            points[dept] += INDIVIDUAL_POINTS[place - 1]
            places[dept] += PLACE_PRIZES[place - 1]
    share = {"出勤": PARTICIPATION, "迟到": PARTIAL, "早退": PARTIAL, "缺席": Decimal(0)}
    participation = {
        dept: sum(
            (
                Decimal(0) if (dept, index) == NEVER_SIGNED else share[ATTENDANCE.get((dept, index), "出勤")]
                for index in range(len(athletes))
            ),
            Decimal(0),
        )
        for dept, athletes in TEAMS.items()
    }
    return points, places, participation


def test_sports_day_totals_and_words_are_the_tests_own_sums(sports: Batch) -> None:
    shown, again, _ = sports
    athletes = [athlete for members in TEAMS.values() for athlete in members]
    entries = totals_row(again["报名汇总.xlsx"]["各部门人数"])
    assert (entries["报名人数"], entries["男"], entries["女"]) == (
        len(athletes),
        sum(a.gender == "男" for a in athletes),
        sum(a.gender == "女" for a in athletes),
    )
    for event in (TUG, BALL_RUN, KNEE_BALL, STONES, ROPE, SHUTTLE, PINGPONG):
        column = next(header for header in entries if header.rstrip("*") == event)
        assert entries[column] == sum(event in a.events for a in athletes), event
    assert totals_row(again["报名汇总.xlsx"]["年龄组"])["合计"] == len(athletes)
    points, places, participation = _prizes()
    ranked = sorted(points, key=points.__getitem__, reverse=True)
    assert len(set(points.values())) == len(points)  # no tie: the prizes go by rank
    team_prizes = {
        dept: TEAM_PRIZES[rank] if rank < len(TEAM_PRIZES) else Decimal(0) for rank, dept in enumerate(ranked)
    }
    prizes = again["积分与奖金.xlsx"]
    standing = totals_row(prizes["团体总分"])
    assert (standing["团体总分"], standing["团体奖(元)"]) == (sum(points.values()), sum(team_prizes.values()))
    assert totals_row(prizes["各项目名次"])["单项奖(元)"] == sum(places.values())
    personal_total = sum(participation.values()) + sum(places.values())
    personal = totals_row(prizes["个人奖金"])
    assert (personal["参与奖(元)"], personal["单项奖(元)"], personal["合计(元)"]) == (
        sum(participation.values()),
        sum(places.values()),
        personal_total,
    )
    by_dept = _rows(prizes["部门奖金"])
    assert {dept: (row["参与奖(元)"], row["单项奖(元)"], row["团体奖(元)"]) for dept, row in by_dept.items()} == {
        dept: (participation[dept], places[dept], team_prizes[dept]) for dept in TEAMS
    }
    everything = personal_total + sum(team_prizes.values())
    assert totals_row(prizes["部门奖金"])["合计(元)"] == everything
    assert _words(shown["积分与奖金.xlsx"]["个人奖金"]) == [rmb_upper(personal_total)]
    assert _words(shown["积分与奖金.xlsx"]["部门奖金"]) == [rmb_upper(everything)]
    counted_rows = len(athletes) + len(RESULTS) + len(signed_in())
    assert totals_row(again["处理报告.xlsx"]["文件"])["计入汇总行数"] == counted_rows
