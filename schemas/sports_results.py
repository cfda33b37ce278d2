"""成绩登记表 and 签到表 of a sports day → points, standings and prize money (积分与奖金.xlsx).

DOMAIN.md Form 3 (竞赛成绩 / 积分), seed `000` 篇二 五: individual places score 3/2/1, team places
5/3/1; 团体奖 300/260/200, 单项奖 30/20/10, 参与奖 50 per participant, half for 迟到 or 早退, none for
缺席 or for someone not registered. Every figure comes from the policy's [activity].
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from schemas._activity import REGISTRATION, Activity, Registered, parse_activity, registered_sheets, registrations
from schemas._activity import team_key as key
from schemas._columns import NAMED, REMARK, SEQ
from unionbatch.compute import UPPER_AS_OF_RUN, decimal_sum, upper_line
from unionbatch.findings import ERROR, WARNING, Code, Finding, make_finding
from unionbatch.money import format_yuan, rmb_upper, to_fen
from unionbatch.records import Chart, OutColumn, OutSheet, ParsedSheet, Summary
from unionbatch.spec import Column, FormSpec

RESULTS, ATTENDANCE = "成绩登记表", "签到表"
STATUSES = ("出勤", "迟到", "早退", "缺席")
OUTPUT = "积分与奖金.xlsx"

DEPT = Column(
    "dept",
    "代表队",
    "text",
    synonyms=("部门", "部门(代表队)", "队名", "参赛队", "单位"),
    help="代表队(部门)名称,与报名表一致",
    example="教务处",
    width=16,
)
NAME = Column("name", "姓名", "name", synonyms=("运动员", "获奖人", "参赛人员"), help="填写本人姓名", width=10)

RESULT_COLUMNS = (
    SEQ,
    Column(
        "event",
        "项目",
        "choice",
        synonyms=("比赛项目", "项目名称"),
        help="从下拉列表选择比赛项目",
        example="拔河",
        width=14,
    ),
    Column(
        "place",
        "名次",
        "int",
        minimum=Decimal(1),
        synonyms=("获奖名次", "排名"),
        help="填数字:第一名填 1",
        example="1",
        width=6,
    ),
    DEPT,
    dataclasses.replace(NAME, required=False, help="个人项目填写获奖人姓名;集体项目可不填"),
    Column("score", "成绩", "text", required=False, synonyms=("比赛成绩",), help="可不填,如 15 秒、86 个", width=10),
    REMARK,
)
ATTENDANCE_COLUMNS = (
    SEQ,
    dataclasses.replace(DEPT, header="部门", synonyms=("代表队", "部门(代表队)", "队名", "单位"), required=False),
    NAME,
    Column(
        "status",
        "出勤情况",
        "choice",
        choices=STATUSES,
        synonyms=("出勤", "签到情况", "签到", "考勤"),
        help="出勤 / 迟到 / 早退 / 缺席",
        example="出勤",
        width=10,
    ),
    REMARK,
)


SIGN_OFF = "经办人:              审核人:              负责人:              (盖章)"  # signed on paper


def specialise_results(spec: FormSpec, activity: Activity) -> FormSpec:
    event = dataclasses.replace(RESULT_COLUMNS[1], choices=tuple(event.name for event in activity.events))
    return dataclasses.replace(
        spec,
        title=f"{activity.name}成绩登记表",
        columns=(RESULT_COLUMNS[0], event, *RESULT_COLUMNS[2:]),
        specialise=None,
    )


def specialise_attendance(spec: FormSpec, activity: Activity) -> FormSpec:
    return dataclasses.replace(spec, title=f"{activity.name}签到表", specialise=None)


# ---- rules -------------------------------------------------------------------------------------


def names_for_individual_events(sheet: ParsedSheet, activity: Activity) -> list[Finding]:
    findings = []
    for row, record in sheet.records():
        event = activity.event(record["event"]) if record["event"] else None
        if event is not None and not event.team and not record["name"]:
            findings.append(sheet.finding("result_name_missing", row, "name", event=event.name))
    return findings


def _registered(activity: Activity, current: Mapping[str, Sequence[ParsedSheet]]) -> list[Registered] | None:
    """Everyone on the batch's accepted 报名表; None when there is none to check against."""
    return registered_sheets(current[REGISTRATION], activity) if current.get(REGISTRATION) else None


def placed_were_registered(
    sheet: ParsedSheet, activity: Activity, current: Mapping[str, Sequence[ParsedSheet]]
) -> list[Finding]:
    """A placed person (or team) must have entered that event on an accepted 报名表 of the period."""
    people = _registered(activity, current)
    if people is None:
        return [make_finding("no_registration", sheet.file, codes=CODES, sheet=sheet.sheet_name, kind=REGISTRATION)]
    entered = {(key(p.dept), p.name, event.name) for p in people for event in p.events}
    teams = {(key(p.dept), event.name) for p in people for event in p.events}
    findings = []
    for row, record in sheet.records():
        event = activity.event(record["event"]) if record["event"] else None
        if event is None or not record["dept"]:
            continue
        if (key(record["dept"]), event.name) not in teams:
            findings.append(sheet.finding("team_not_registered", row, "dept", event=event.name))
        elif record["name"] and (key(record["dept"]), record["name"], event.name) not in entered:
            findings.append(sheet.finding("result_not_registered", row, "name", event=event.name, dept=record["dept"]))
    return findings


def attendees_were_registered(
    sheet: ParsedSheet, activity: Activity, current: Mapping[str, Sequence[ParsedSheet]]
) -> list[Finding]:
    people = _registered(activity, current)
    if people is None:
        return [make_finding("no_registration", sheet.file, codes=CODES, sheet=sheet.sheet_name, kind=REGISTRATION)]
    known = {(key(p.dept), p.name) for p in people}
    return [
        sheet.finding("attendance_not_registered", row, "name", dept=record["dept"])
        for row, record in sheet.records()
        if record["name"] and record["status"] != "缺席" and (key(record["dept"]), record["name"]) not in known
    ]


CODES = {
    "result_name_missing": Code(
        ERROR, "个人项目“{event}”的获奖人姓名未填写", "请填写获奖人姓名", title="获奖人姓名未填写"
    ),
    "team_not_registered": Code(
        ERROR, "代表队“{value}”没有报名“{event}”", "请核对项目和代表队名称(应与报名表一致)", title="代表队未报名该项目"
    ),
    "result_not_registered": Code(
        ERROR,
        "“{value}”没有在“{dept}”的报名表中报名“{event}”",
        "请核对姓名、代表队和项目;未报名者不计名次和奖金",
        title="获奖人未报名该项目",
    ),
    "attendance_not_registered": Code(
        WARNING,
        "“{value}”不在“{dept}”的报名名单中,不计发参与奖",
        "请核对姓名和部门(应与报名表一致)",
        title="签到者未报名",
    ),
    "no_registration": Code(
        WARNING,
        "本期没有已受理的{kind},无法核对是否报名",
        "请先报送并通过{kind};名次和奖金待报名表受理后重新计算",
        title="没有已受理的报名表",
    ),
}


# ---- points and money ----------------------------------------------------------------------------


@dataclass
class Payout:
    dept: str
    name: str
    attendance: str
    participation: Decimal = Decimal(0)
    places: Decimal = Decimal(0)
    reasons: list[str] = dataclasses.field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return self.participation + self.places


def standings(results: pd.DataFrame, activity: Activity, departments: Sequence[str]) -> list[tuple[str, int, int]]:
    """(department, 团体总分, rank) best first; equal totals share a rank and the next rank is skipped."""
    points: dict[str, int] = dict.fromkeys(departments, 0)
    for record in results.to_dict("records"):
        event = activity.event(record["event"])
        if event is not None:
            points[record["dept"]] = points.get(record["dept"], 0) + activity.points(event, int(record["place"]))
    ordered = sorted(points.items(), key=lambda item: -item[1])
    return [(dept, total, 1 + sum(other > total for other in points.values())) for dept, total in ordered]


def payouts(
    results: pd.DataFrame, attendance: pd.DataFrame, people: Sequence[Registered], activity: Activity
) -> list[Payout]:
    """Every person's money with its reasons: 参与奖 by attendance, 单项奖 by place."""
    status = {(key(r["dept"]), r["name"]): r["status"] for r in attendance.to_dict("records")}
    paid: dict[tuple[str, str], Payout] = {}
    for person in people:
        seen = status.get((key(person.dept), person.name), "未签到")
        payout = paid.setdefault((key(person.dept), person.name), Payout(person.dept, person.name, seen))
        if seen == "出勤":
            payout.participation = activity.participation
        elif seen in ("迟到", "早退"):
            payout.participation = to_fen(activity.participation * activity.partial_share)
        payout.reasons.append(f"参与奖({seen}){format_yuan(payout.participation)} 元")
    for record in attendance.to_dict("records"):
        found = (key(record["dept"]), record["name"])
        if found not in paid:
            paid[found] = Payout(record["dept"], record["name"], record["status"], reasons=["未报名,不计参与奖"])
    for record in results.to_dict("records"):
        event = activity.event(record["event"])
        if event is None or event.team or not record["name"]:
            continue
        prize = activity.place_prize(event, int(record["place"]))
        payout = paid.setdefault(
            (key(record["dept"]), record["name"]), Payout(record["dept"], record["name"], "未签到")
        )
        payout.places += prize
        payout.reasons.append(f"{event.name}第 {int(record['place'])} 名 {format_yuan(prize)} 元")
    return list(paid.values())


def summarise(results: pd.DataFrame, activity: Activity, batch: Mapping[str, pd.DataFrame]) -> Summary:
    attendance = batch.get(ATTENDANCE, pd.DataFrame(columns=["dept", "name", "status"]))
    people = registrations(batch[REGISTRATION], activity) if REGISTRATION in batch else []
    departments = list(dict.fromkeys([p.dept for p in people] + list(results["dept"])))
    ranked = standings(results, activity, departments)
    ties = Counter(rank for _, _, rank in ranked)
    team_money = {dept: activity.team_prize(rank) for dept, _, rank in ranked}
    money = payouts(results, attendance, people, activity)
    personal = decimal_sum(p.total for p in money)
    team_total = decimal_sum(team_money.values())
    grand = personal + team_total
    personal_notes = [upper_line("个人奖金合计(参与奖 + 单项奖,不含团体奖)", personal), UPPER_AS_OF_RUN]
    notes = [
        upper_line("奖金合计(参与奖 + 单项奖 + 团体奖)", grand),
        f"其中个人奖金 {format_yuan(personal)} 元(见“个人奖金”表,发给个人),团体奖 {format_yuan(team_total)} 元(发给代表队)。",
        UPPER_AS_OF_RUN,
    ]
    totals = {
        "teams": len(ranked),
        "personal": f"{to_fen(personal):.2f}",
        "personal_upper": rmb_upper(personal),
        "team": f"{to_fen(team_total):.2f}",
        "total": f"{to_fen(grand):.2f}",
        "total_upper": rmb_upper(grand),
    }
    totals["summary"] = (
        f"{len(ranked)} 个代表队,奖金合计 {format_yuan(grand)} 元({rmb_upper(grand)}),"
        f"其中个人奖金 {format_yuan(personal)} 元、团体奖 {format_yuan(team_total)} 元"
    )
    if activity.budget is not None:
        difference = activity.budget - grand
        verdict = (
            "与预算一致"
            if difference == 0
            else f"比预算{'结余' if difference > 0 else '超出'} {format_yuan(abs(difference))} 元"
        )
        notes.insert(
            -1,
            f"活动方案列明的奖金合计(预算)为 {format_yuan(activity.budget)} 元,按名次和签到计算为 {format_yuan(grand)} 元,{verdict}",
        )
        totals |= {"budget": f"{activity.budget:.2f}", "budget_difference": f"{difference:.2f}"}
        totals["summary"] += f";预算 {format_yuan(activity.budget)} 元,{verdict}"
    placed = OutSheet(
        "各项目名次",
        [
            OutColumn("项目", "text", 14),
            OutColumn("类别", "text", 8),
            OutColumn("名次", "int", 6),
            OutColumn("代表队", "text", 16),
            OutColumn("姓名", "text", 10),
            OutColumn("积分", "int", 6, summed=True),
            OutColumn("单项奖(元)", "money", 12, summed=True),
        ],
        [
            [
                event.name,
                "集体" if event.team else "个人",
                int(r["place"]),
                r["dept"],
                r["name"] or "",
                activity.points(event, int(r["place"])),
                activity.place_prize(event, int(r["place"])),
            ]
            for event in activity.events
            for r in sorted(
                (r for r in results.to_dict("records") if activity.event(r["event"]) == event),
                key=lambda r: int(r["place"]),
            )
        ],
        title=f"{activity.name}各项目名次与积分",
        total_label="合计",
    )
    table = OutSheet(
        "团体总分",
        [
            OutColumn("名次", "text", 10),
            OutColumn("代表队", "text", 16),
            OutColumn("团体总分", "int", 10, summed=True),
            OutColumn("团体奖(元)", "money", 12, summed=True),
        ],
        [
            [f"并列第 {rank} 名" if ties[rank] > 1 else f"第 {rank} 名", dept, total, team_money[dept]]
            for dept, total, rank in ranked
        ],
        title=f"{activity.name}团体总分排名",
        total_label="合计",
        notes=["总分相同的代表队名次并列,各得该名次的团体奖,其后名次顺延。"],
        chart=Chart("各代表队团体总分", category_column=1, value_column=2),
    )
    people_sheet = OutSheet(
        "个人奖金",
        [
            OutColumn("序号", "int", 6),
            OutColumn("部门", "text", 16),
            OutColumn("姓名", "text", 10),
            OutColumn("出勤情况", "text", 9),
            OutColumn("参与奖(元)", "money", 11, summed=True),
            OutColumn("单项奖(元)", "money", 11, summed=True),
            OutColumn("合计(元)", "money", 11, summed=True),
            OutColumn("说明", "text", 44),
            OutColumn("领取人签字", "text", 14),
        ],
        [
            [n, p.dept, p.name, p.attendance, p.participation, p.places, p.total, ";".join(p.reasons), ""]
            for n, p in enumerate(
                sorted(money, key=lambda p: departments.index(p.dept) if p.dept in departments else len(departments)),
                start=1,
            )
        ],
        title=f"{activity.name}个人奖金发放表",
        total_label="合计",
        notes=[*personal_notes, SIGN_OFF],
        landscape=True,
        tall_rows=True,
    )
    by_dept = OutSheet(
        "部门奖金",
        [
            OutColumn("代表队", "text", 16),
            OutColumn("参与奖(元)", "money", 12, summed=True),
            OutColumn("单项奖(元)", "money", 12, summed=True),
            OutColumn("团体奖(元)", "money", 12, summed=True),
            OutColumn("合计(元)", "money", 12, summed=True),
        ],
        [
            [
                dept,
                (joined := decimal_sum(p.participation for p in money if p.dept == dept)),
                (places := decimal_sum(p.places for p in money if p.dept == dept)),
                team_money.get(dept, Decimal(0)),
                joined + places + team_money.get(dept, Decimal(0)),
            ]
            for dept in dict.fromkeys([*departments, *(p.dept for p in money)])
        ],
        title=f"{activity.name}各部门奖金",
        total_label="合计",
        notes=[*notes, SIGN_OFF],
    )
    return Summary([table, placed, people_sheet, by_dept], totals)


SPECS = (
    FormSpec(
        kind=RESULTS,
        version="2026.1",
        title="运动会成绩登记表",
        title_keywords=("成绩", "名次", "成绩登记"),
        columns=RESULT_COLUMNS,
        parse_policy=parse_activity,
        summarise=summarise,
        policy_section="activity",
        row_rules=(names_for_individual_events,),
        batch_rules=(placed_were_registered,),
        identity=("event", "place", "dept"),
        person=NAMED,
        compared=("name",),
        unit_column=None,
        distinctive=(("place",),),
        min_header_matches=3,
        output_file=OUTPUT,
        specialise=specialise_results,
        roster_default=False,
        codes=CODES,
        instructions=(
            "一、本表由裁判组填写,每个项目的每个名次一行:项目、名次、代表队,个人项目还要填获奖人姓名。",
            "二、名次只填数字(第一名填 1);并列名次各填一行,名次相同。",
            "三、代表队和姓名应与报名表一致;未报名该项目者不计名次。",
            "四、积分和奖金由系统按活动方案计算,见“积分与奖金”汇总表。",
        ),
    ),
    FormSpec(
        kind=ATTENDANCE,
        version="2026.1",
        title="运动会签到表",
        title_keywords=("签到", "考勤", "出勤"),
        columns=ATTENDANCE_COLUMNS,
        parse_policy=parse_activity,
        summarise=None,  # counted in 积分与奖金.xlsx by the 成绩登记表's summary
        policy_section="activity",
        batch_rules=(attendees_were_registered,),
        identity=("dept", "name"),
        person=NAMED,
        compared=("status",),
        unit_column="dept",
        distinctive=(("status",),),
        min_header_matches=3,
        output_file=OUTPUT,
        specialise=specialise_attendance,
        roster_default=False,
        codes=CODES,
        instructions=(
            "一、活动当天按部门签到,每人一行;出勤情况从下拉列表选择:出勤、迟到、早退、缺席。",
            "二、参与奖:出勤全额,迟到或早退减半,缺席和未报名者不计发。",
            "三、部门和姓名应与报名表一致。",
        ),
    ),
)
