"""运动会报名表: who enters which events of a sports day, one row per person, one √ column per event.

DOMAIN.md Form 2 (seeds `000` 篇二/篇七/篇九, `001` 篇1/篇4). The events come from the policy's
[activity]: `specialise` turns them into columns, so the template and the reader follow the policy.
A unit's sheet that lists the events in one 报名项目 column is read too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from schemas._activity import (
    LIST_COLUMN,
    Activity,
    Entry,
    Event,
    Registered,
    entries,
    gender_of,
    parse_activity,
    registrations,
    split_events,
    team_key,
)
from schemas._columns import GENDER, ID_NUMBER, ONCE_PER_PERSON, PERSON, PHONE, SEQ
from unionbatch.compute import detail_sheet
from unionbatch.findings import ERROR, WARNING, Code, Finding
from unionbatch.records import Chart, OutColumn, OutSheet, ParsedSheet, Summary
from unionbatch.spec import Column, FormSpec, header_key
from unionbatch.validate import birth_date, gender_matches_id, valid_id

KIND = "运动会报名表"

BASE_COLUMNS = (
    SEQ,
    Column(
        "dept",
        "部门",
        "text",
        required=False,
        synonyms=("代表队", "部门(代表队)", "队名", "参赛队", "年级组", "办公室", "所在部门"),
        help="代表队(部门)名称;不填则为填报单位",
        example="教务处",
        width=14,
    ),
    Column("name", "姓名", "name", synonyms=("运动员姓名", "参赛人员"), help="填写本人姓名", example="张三", width=10),
    dataclasses.replace(GENDER, example="女"),
    dataclasses.replace(
        ID_NUMBER,
        help="18 位身份证号,用于核对性别和年龄组;本列已设为文本格式",
        example="110105198503151249",  # the 17th digit even: a woman, as the 性别 example says
    ),
    PHONE,
    Column(
        "age_group",
        "年龄组",
        "choice",
        required=False,
        synonyms=("组别", "年龄组别"),
        in_template=False,
        help="系统按身份证号和比赛日期自动分组,可不填",
        width=12,
    ),
    Column(
        LIST_COLUMN,
        "报名项目",
        "text",
        required=False,
        synonyms=("参赛项目", "比赛项目", "项目", "报项"),
        in_template=False,
        help="项目名称之间用顿号、逗号或斜杠分开",
        width=30,
    ),
)


def _limits_text(event: Event) -> str:
    limits = []
    if event.size:
        limits.append(f"每队 {event.size} 人")
    if event.per_team:
        limits.append(f"每队限 {event.per_team} 人")
    if event.min_women:
        limits.append(f"女队员至少 {event.min_women} 人")
    return ",".join(limits)


def event_column(event: Event) -> Column:
    starred = "带 * 的必选项目之一;" if event.starred else ""
    return Column(
        event.key,
        event.label,
        "mark",
        required=False,
        synonyms=event.aliases,
        help=f"{starred}报名的打 √。{_limits_text(event)}",
        width=max(6, len(event.label) * 2 + 2),
    )


def specialise(spec: FormSpec, activity: Activity) -> FormSpec:
    """The 报名表 for this activity: one √ column per event, age groups from its split."""
    base = tuple(
        dataclasses.replace(column, choices=activity.age_groups) if column.key == "age_group" else column
        for column in BASE_COLUMNS
    )
    columns = (*base, *(event_column(event) for event in activity.events))
    limits = "、".join(f"{event.name}{_limits_text(event)}" for event in activity.events if _limits_text(event))
    starred = "、".join(event.name for event in activity.events if event.starred)
    return dataclasses.replace(
        spec,
        title=f"{activity.name}报名表",
        title_keywords=(*spec.title_keywords, activity.name),
        columns=columns,
        compared=("dept", *(event.key for event in activity.events)),
        specialise=None,
        instructions=(
            f"一、本表用于{activity.name}({activity.date:%Y年%m月%d日})报名,以部门为代表队,每人一行。",
            "二、请先填写表格上方的填报单位和填报日期;“部门”列不填则为填报单位。",
            f"三、每人限报 {activity.max_events} 项,其中至少 {activity.min_starred} 项为带 * 的项目({starred})。"
            "报名的项目在该列打 √。",
            f"四、各队名额:{limits or '不限'}。每个项目的参加人员尽量不要重复。",
            f"五、身份证号用于核对性别和年龄组({'、'.join(activity.age_groups)},按比赛当日计算)。",
            "六、同一人只能代表一个部门参赛。如需更正,请重新报送整张表,系统以填报日期最新的一份为准。",
        ),
    )


# ---- rules ---------------------------------------------------------------------------------------


def per_person(sheet: ParsedSheet, activity: Activity) -> list[Finding]:
    """Unknown event names, no event, more than the cap, no starred event, several team events, age group."""
    findings = []
    registered = entries(sheet, activity)
    for row, record in sheet.records():
        listed = record.get(LIST_COLUMN)
        for name in split_events(listed) if isinstance(listed, str) else []:
            if activity.event(name) is None:
                names = "、".join(event.label for event in activity.events)
                findings.append(sheet.finding("unknown_event", row, LIST_COLUMN, event=name, events=names))
        chosen = registered.get(row, [])
        shown = "、".join(entry.event.name for entry in chosen)
        if not chosen:
            findings.append(sheet.finding("no_event", row, "name"))
        elif len(chosen) > activity.max_events:
            findings.append(
                sheet.finding(
                    "too_many_events", row, "name", count=len(chosen), maximum=activity.max_events, events=shown
                )
            )
        if chosen and sum(entry.event.starred for entry in chosen) < activity.min_starred:
            starred = "、".join(event.name for event in activity.events if event.starred)
            findings.append(
                sheet.finding("no_starred_event", row, "name", minimum=activity.min_starred, starred=starred)
            )
        for entry in chosen:
            if record["name"] and header_key(record["name"]) in entry.event.staff:
                findings.append(sheet.finding("staff_in_own_event", row, entry.key, event=entry.event.name))
        team_events = [entry.event.name for entry in chosen if entry.event.team]
        if len(team_events) > 1:
            findings.append(sheet.finding("repeated_team_events", row, "name", events="、".join(team_events)))
        findings += _age_group(sheet, activity, row, record)
    return findings


def _age_group(sheet: ParsedSheet, activity: Activity, row: int, record: Mapping[str, Any]) -> list[Finding]:
    stated, id_number = record.get("age_group"), record.get("id_number")
    if stated not in activity.age_groups or not valid_id(id_number):
        return []
    born = birth_date(id_number)
    expected = activity.age_group(born) if born else stated
    if stated == expected:
        return []
    return [sheet.finding("age_group_mismatch", row, "age_group", expected=expected, date=f"{activity.date:%Y-%m-%d}")]


def per_team(sheet: ParsedSheet, activity: Activity) -> list[Finding]:
    """Per department (a team): team size, minimum women, per-team caps."""
    records = dict(sheet.records())
    teams: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for row, chosen in entries(sheet, activity).items():
        for entry in chosen:
            teams[(team_key(records[row].get("dept")), entry.event.name)].append(entry)
    findings = []
    for team in teams.values():
        event, first = team[0].event, team[0]
        where = {"dept": records[first.row].get("dept") or sheet.unit or "", "event": event.name, "count": len(team)}
        cap = event.size or event.per_team
        if cap is not None and len(team) > cap:
            findings += [sheet.finding("team_over_limit", e.row, e.key, limit=cap, **where) for e in team[cap:]]
        elif event.size is not None and len(team) < event.size:
            findings.append(sheet.finding("team_short", first.row, first.key, size=event.size, **where))
        women = sum(gender_of(records[entry.row]) == "女" for entry in team)
        if women < event.min_women:
            where["count"] = women
            findings.append(sheet.finding("team_women_short", first.row, first.key, minimum=event.min_women, **where))
    return findings


CODES = {
    "unknown_event": Code(
        ERROR,
        "报名项目中的“{event}”不是本次活动的项目",
        "请从以下项目中选择,名称照写:{events}",
        title="不是本次活动的项目",
    ),
    "no_event": Code(ERROR, "此人没有报任何项目", "请在要参加的项目列打 √;不参加的人请整行删除", title="没有报项目"),
    "too_many_events": Code(
        ERROR,
        "此人报了 {count} 项({events}),超过每人限报的 {maximum} 项",
        "请删去多报的项目,最多保留 {maximum} 项",
        title="报名项目超过限额",
    ),
    "no_starred_event": Code(
        ERROR,
        "此人没有报带 * 的项目",
        "每人至少要报 {minimum} 项带 * 的项目({starred}),请调整",
        title="没有报带 * 的项目",
    ),
    "repeated_team_events": Code(
        WARNING,
        "此人同时报了多个集体项目({events})",
        "每个项目的参加人员尽量不要重复,让更多人有机会参与;确需重复可保留",
        title="重复报集体项目",
    ),
    "staff_in_own_event": Code(
        ERROR,
        "此人是“{event}”的工作人员,不能参加该项目",
        "工会工作人员不参与自己负责的项目,请改报其他项目",
        title="工作人员报了自己负责的项目",
    ),
    "age_group_mismatch": Code(
        ERROR,
        "年龄组填写为“{value}”,按身份证号算,比赛当日({date})应为“{expected}”",
        "请核对身份证号,或把年龄组改为“{expected}”(也可不填,系统自动分组)",
        title="年龄组不对",
    ),
    "team_over_limit": Code(
        ERROR,
        "“{dept}”报“{event}”{count} 人,超过每队 {limit} 人",
        "本行及以下的报名超出名额,请只保留 {limit} 人",
        title="代表队超员",
    ),
    "team_short": Code(
        ERROR,
        "“{dept}”的“{event}”只报了 {count} 人,该项目每队 {size} 人",
        "请补足 {size} 人,或不报此项目",
        title="代表队人数不足",
    ),
    "team_women_short": Code(
        ERROR,
        "“{dept}”的“{event}”队中女队员 {count} 人,少于规定的 {minimum} 人",
        "请调整队员,女队员至少 {minimum} 人(按身份证号核定性别)",
        title="女队员人数不足",
    ),
}


# ---- summary ------------------------------------------------------------------------------------


def _as_entered_everywhere(frame: pd.DataFrame, people: Sequence[Registered], activity: Activity) -> pd.DataFrame:
    """The rows as 报名明细 shows them: every event a person entered has its √, whether it was ticked or named in a
    报名项目 cell, and the 年龄组 left blank is the one computed from the ID (people: the frame's rows, in order)."""

    def column(values: list[str | None]) -> pd.Series:
        return pd.Series(values, index=frame.index, dtype=object)  # None stays a blank cell, never NaN

    ticks = {event.key: column(["√" if event in p.events else None for p in people]) for event in activity.events}
    stated = frame["age_group"].tolist() if "age_group" in frame.columns else [None] * len(frame)
    groups = [group or person.age_group or None for group, person in zip(stated, people, strict=True)]
    return frame.assign(**ticks, age_group=column(groups))


def summarise(frame: pd.DataFrame, activity: Activity, _batch: Mapping[str, pd.DataFrame]) -> Summary:
    people = registrations(frame, activity)
    departments = list(dict.fromkeys(person.dept for person in people))
    checkin = OutSheet(
        "检录表",
        [
            OutColumn("项目", "text", 14),
            OutColumn("代表队", "text", 16),
            OutColumn("序号", "int", 6),
            OutColumn("姓名", "text", 10),
            OutColumn("性别", "text", 6),
            OutColumn("年龄组", "text", 12),
            OutColumn("检录签到", "text", 12),
        ],
        [
            [event.label, dept, number, person.name, person.gender, person.age_group, ""]
            for event in activity.events
            for dept in departments
            for number, person in enumerate((p for p in people if p.dept == dept and event in p.events), start=1)
        ],
        title=f"{activity.name}检录表(按项目、代表队)",
        tall_rows=True,
    )
    count_columns = [OutColumn(event.label, "int", max(6, len(event.label) * 2)) for event in activity.events]
    by_dept = OutSheet(
        "各部门人数",
        [
            OutColumn("代表队", "text", 16),
            OutColumn("报名人数", "int", 9, summed=True),
            OutColumn("男", "int", 6, summed=True),
            OutColumn("女", "int", 6, summed=True),
            *(dataclasses.replace(column, summed=True) for column in count_columns),
        ],
        [
            [
                dept,
                len(team := [p for p in people if p.dept == dept]),
                sum(p.gender == "男" for p in team),
                sum(p.gender == "女" for p in team),
                *(sum(event in p.events for p in team) for event in activity.events),
            ]
            for dept in departments
        ],
        title=f"{activity.name}各部门报名人数",
        total_label="合计",
        chart=Chart("各部门报名人数", category_column=0, value_column=1),
        landscape=True,
    )
    groups = activity.age_groups
    by_age = OutSheet(
        "年龄组",
        [
            OutColumn("代表队", "text", 16),
            *(OutColumn(f"{group}{gender}", "int", 12, summed=True) for group in groups for gender in ("男", "女")),
            OutColumn("合计", "int", 8, summed=True),
        ],
        [
            [
                dept,
                *(
                    sum(p.dept == dept and p.age_group == group and p.gender == gender for p in people)
                    for group in groups
                    for gender in ("男", "女")
                ),
                sum(p.dept == dept for p in people),
            ]
            for dept in departments
        ],
        title=f"年龄组(按 {activity.date:%Y年%m月%d日} 计算)",
        total_label="合计",
    )
    detail = detail_sheet(specialise(SPEC, activity), _as_entered_everywhere(frame, people, activity), name="报名明细")
    totals = {
        "people": len(people),
        "departments": len(departments),
        "entries": sum(len(p.events) for p in people),
        "summary": f"{len(departments)} 个代表队,{len(people)} 人报名,共 {sum(len(p.events) for p in people)} 项次",
    }
    return Summary([checkin, by_dept, by_age, detail], totals)


def closes_at(activity: Activity) -> dt.datetime | None:
    return activity.registration_closes


SPEC = FormSpec(
    kind=KIND,
    version="2026.1",
    title="运动会报名表",
    title_keywords=("报名", "运动会", "比赛", "竞赛"),
    columns=BASE_COLUMNS,
    parse_policy=parse_activity,
    summarise=summarise,
    policy_section="activity",
    row_rules=(gender_matches_id, per_person, per_team),
    unit_column="dept",
    key_column="id_number",
    unique=ONCE_PER_PERSON,
    person=PERSON,
    distinctive=(("event_list", "event:"),),
    min_header_matches=4,
    output_file="报名汇总.xlsx",
    specialise=specialise,
    roster_default=False,
    closes_at=closes_at,
    codes=CODES,
)
