"""A sports day (运动会) as the policy describes it: its events, caps, age groups, points and prize tables.

Shared by the 报名表, 成绩登记表 and 签到表 specs: they all read the policy's [activity] section.
Defaults are the 教职工趣味运动会 of the seeds: `000` 篇二 (events, team sizes, points, prizes) and 篇九 /
`001` 篇1 (starred events, 每人限报 3 项), `001` 篇4 (age groups split at 40 周岁).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

from schemas._columns import PERSON
from unionbatch.policy import PolicyError, amount, reject_unknown
from unionbatch.records import ParsedSheet
from unionbatch.spec import header_key
from unionbatch.validate import birth_date, id_gender, valid_id

SECTION = "activity"
REGISTRATION = "运动会报名表"
LIST_COLUMN = "event_list"  # the 报名表's 报名项目 column, when a unit lists events in one cell


@dataclass(frozen=True)
class Event:
    name: str
    team: bool = False  # placed as a team (团体名次): scored with the team points table, no 单项奖
    starred: bool = False  # a * event: everyone must enter at least one
    size: int | None = None  # a team event's team size (exactly this many per department)
    per_team: int | None = None  # at most this many entries per department
    min_women: int = 0
    aliases: tuple[str, ...] = ()
    staff: tuple[str, ...] = ()  # 工会 staff who run this event and may not enter it (`000` 篇七 4)

    @property
    def key(self) -> str:
        return f"event:{self.name}"

    @property
    def label(self) -> str:
        return f"{self.name}*" if self.starred else self.name


@dataclass(frozen=True)
class Activity:
    name: str
    date: dt.date
    events: tuple[Event, ...]
    registration_closes: dt.datetime | None = None
    max_events: int = 3
    min_starred: int = 1
    age_split: int = 40
    individual_points: tuple[int, ...] = (3, 2, 1)
    team_points: tuple[int, ...] = (5, 3, 1)
    place_prizes: tuple[Decimal, ...] = (Decimal(30), Decimal(20), Decimal(10))
    team_prizes: tuple[Decimal, ...] = (Decimal(300), Decimal(260), Decimal(200))
    participation: Decimal = Decimal(50)
    partial_share: Decimal = Decimal("0.5")  # 迟到 / 早退 get this share of 参与奖
    budget: Decimal | None = None  # a stated 奖金合计 / budget to compare the computed total with

    def event(self, text: Any) -> Event | None:
        """The event a name (or an alias, with or without its *) stands for."""
        return _event_lookup(self.events).get(header_key(text))

    @property
    def age_groups(self) -> tuple[str, str]:
        return (f"{self.age_split}周岁以下", f"{self.age_split}周岁以上")

    def age_group(self, born: dt.date) -> str:
        """Age on the activity date in whole years; 40 周岁以上 includes 40 (以上 includes the number)."""
        age = self.date.year - born.year - ((self.date.month, self.date.day) < (born.month, born.day))
        return self.age_groups[age >= self.age_split]

    def points(self, event: Event, place: int) -> int:
        table = self.team_points if event.team else self.individual_points
        return table[place - 1] if 1 <= place <= len(table) else 0

    def place_prize(self, event: Event, place: int) -> Decimal:
        if event.team:
            return Decimal(0)
        return self.place_prizes[place - 1] if 1 <= place <= len(self.place_prizes) else Decimal(0)

    def team_prize(self, rank: int) -> Decimal:
        return self.team_prizes[rank - 1] if 1 <= rank <= len(self.team_prizes) else Decimal(0)


def _event_lookup(events: Sequence[Event]) -> dict[str, Event]:
    return {header_key(name): event for event in events for name in (event.name, *event.aliases)}


DEFAULT_EVENTS = (
    Event("拔河", team=True, size=10, min_women=2),
    Event("迎面接力", team=True, size=10, min_women=2, aliases=("迎面接力(50m)", "50米迎面接力")),
    Event("乒乓球单打", per_team=3, aliases=("乒乓球",)),
    Event("羽毛球单打", per_team=3, aliases=("羽毛球",)),
    Event("定点投篮", team=True, per_team=5, aliases=("投篮",)),
    Event("托球跑", starred=True),
    Event("双腿夹球走", starred=True, aliases=("夹球走",)),
    Event("摸石过河", starred=True),
    Event("一分钟跳绳", aliases=("跳绳",)),
    Event("踢毽子", aliases=("踢毽",)),
    Event(
        "金豆搬家",
    ),
)
EVENT_KEYS = {"name", "team", "starred", "size", "per_team", "min_women", "aliases", "staff"}
KNOWN = {
    "name",
    "date",
    "registration_closes",
    "max_events_per_person",
    "min_starred_events",
    "age_split",
    "points",
    "prizes",
    "budget",
    "events",
}


def parse_activity(section: Mapping[str, Any]) -> Activity:
    reject_unknown(section, KNOWN, SECTION)
    points = _table(section, "points", {"individual", "team"})
    prizes = _table(section, "prizes", {"individual", "team", "participation", "late_or_early_share"})
    share = amount(prizes, "late_or_early_share", "0.5", f"{SECTION}.prizes", allow_zero=True)
    if share > 1:
        raise PolicyError(f"策略文件中 {SECTION}.prizes.late_or_early_share 应在 0 至 1 之间,现在是“{share}”")
    closes = section.get("registration_closes")
    if closes is not None and not isinstance(closes, dt.datetime):
        raise PolicyError(f"策略文件中 {SECTION}.registration_closes 应为日期时间,如 2026-11-20T17:00:00")
    return Activity(
        name=str(section.get("name", "教职工趣味运动会")),
        date=_date(section.get("date", dt.date(2026, 11, 28))),
        events=_events(section.get("events")),
        registration_closes=closes,
        max_events=_whole(section, "max_events_per_person", 3),
        min_starred=_whole(section, "min_starred_events", 1, allow_zero=True),
        age_split=_whole(section, "age_split", 40),
        individual_points=tuple(int(n) for n in _numbers(points, "individual", (3, 2, 1), "points")),
        team_points=tuple(int(n) for n in _numbers(points, "team", (5, 3, 1), "points")),
        place_prizes=_numbers(prizes, "individual", (30, 20, 10), "prizes"),
        team_prizes=_numbers(prizes, "team", (300, 260, 200), "prizes"),
        participation=amount(prizes, "participation", "50", f"{SECTION}.prizes", allow_zero=True),
        partial_share=share,
        budget=amount(section, "budget", "0", SECTION) if "budget" in section else None,
    )


def _table(section: Mapping[str, Any], key: str, known: set[str]) -> Mapping[str, Any]:
    table = section.get(key, {})
    if not isinstance(table, dict):
        raise PolicyError(f"策略文件中 {SECTION}.{key} 应为一个表")
    reject_unknown(table, known, f"{SECTION}.{key}")
    return table


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raise PolicyError(f"策略文件中 {SECTION}.date 应为日期,如 2026-11-28,现在是“{value}”")


def _whole(
    section: Mapping[str, Any], key: str, default: int, *, allow_zero: bool = False, where: str = SECTION
) -> int:
    value = amount(section, key, str(default), where, allow_zero=allow_zero)
    if value != value.to_integral_value():
        raise PolicyError(f"策略文件中 {where}.{key} 应为整数,现在是“{section[key]}”")
    return int(value)


def _numbers(table: Mapping[str, Any], key: str, default: Sequence[int], where: str) -> tuple[Decimal, ...]:
    values = table.get(key, list(default))
    if not isinstance(values, list) or not values:
        raise PolicyError(f"策略文件中 {SECTION}.{where}.{key} 应为数字列表,按名次排列,如 [3, 2, 1]")
    return tuple(amount({key: value}, key, "0", f"{SECTION}.{where}", allow_zero=True) for value in values)


def _events(entries: Any) -> tuple[Event, ...]:
    if entries is None:
        return DEFAULT_EVENTS
    if not isinstance(entries, list) or not entries:
        raise PolicyError(f"策略文件中 {SECTION}.events 应为 [[activity.events]] 列表")
    events = []
    for number, entry in enumerate(entries, start=1):
        where = f"{SECTION}.events 第 {number} 项"
        if not isinstance(entry, dict) or not str(entry.get("name", "")).strip():
            raise PolicyError(f"策略文件中 {where} 缺少 name(项目名称)")
        reject_unknown(entry, EVENT_KEYS, where)
        aliases, staff = entry.get("aliases", []), entry.get("staff", [])
        if not isinstance(aliases, list) or not isinstance(staff, list):
            raise PolicyError(f'策略文件中 {where}.aliases 和 staff 应为列表,如 staff = ["张三"]')
        events.append(
            Event(
                name=str(entry["name"]).strip(),
                team=bool(entry.get("team", False)),
                starred=bool(entry.get("starred", False)),
                size=_whole(entry, "size", 1, where=where) if "size" in entry else None,
                per_team=_whole(entry, "per_team", 1, where=where) if "per_team" in entry else None,
                min_women=_whole(entry, "min_women", 0, allow_zero=True, where=where),
                aliases=tuple(str(alias) for alias in aliases),
                staff=tuple(header_key(name) for name in staff),
            )
        )
    names = [header_key(name) for event in events for name in (event.name, *event.aliases)]
    if len(names) != len(set(names)):
        raise PolicyError(f"策略文件中 {SECTION}.events 有重名的项目或别名")
    return tuple(events)


_SEPARATORS = re.compile(r"[、,，/;；\s]+")


def split_events(text: str) -> list[str]:
    """报名项目 written in one cell: 托球跑*、跳绳, 托球跑/踢毽子 …"""
    return [part for part in _SEPARATORS.split(unicodedata.normalize("NFKC", text)) if part]


def team_key(name: Any) -> str:
    """A department's name for matching across forms: no spaces, full-width folded."""
    return header_key(name or "")


# ---- who entered what (the 报名表) ---------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    row: int
    event: Event
    key: str  # the column the entry was read from: the event's √ column or the 报名项目 list


def row_entries(row: int, record: Mapping[str, Any], activity: Activity) -> list[Entry]:
    """A person's events: the √ columns, then the names in the 报名项目 cell (unknown names left out)."""
    found = [Entry(row, event, event.key) for event in activity.events if record.get(event.key) == "√"]
    listed = record.get(LIST_COLUMN)
    for name in split_events(listed) if isinstance(listed, str) else []:
        event = activity.event(name)
        if event is not None and all(entry.event != event for entry in found):
            found.append(Entry(row, event, LIST_COLUMN))
    return found


def entries(sheet: ParsedSheet, activity: Activity) -> dict[int, list[Entry]]:
    return {row: row_entries(row, record, activity) for row, record in sheet.records()}


def gender_of(record: Mapping[str, Any]) -> str:
    """The gender the ID says, else the one written (the 报名表's person columns)."""
    id_number = record.get(PERSON.id_number or "")
    return id_gender(id_number) if valid_id(id_number) else str(record.get(PERSON.gender or "") or "")


@dataclass(frozen=True)
class Registered:
    dept: str
    name: str
    gender: str
    age_group: str
    events: tuple[Event, ...]


def registrations(frame: pd.DataFrame, activity: Activity) -> list[Registered]:
    """Every accepted 报名表 row of the period (merged frame) as a person with their events."""
    people = []
    for number, record in enumerate(frame.to_dict("records")):
        id_number = record.get(PERSON.id_number or "")
        born = birth_date(id_number) if valid_id(id_number) else None
        people.append(
            Registered(
                dept=str(record.get("dept") or record.get("source_unit") or ""),
                name=str(record.get(PERSON.name) or ""),
                gender=gender_of(record),
                age_group=activity.age_group(born) if born else "",
                events=tuple(entry.event for entry in row_entries(number, record, activity)),
            )
        )
    return people


def registered_sheets(sheets: Sequence[ParsedSheet], activity: Activity) -> list[Registered]:
    return [person for sheet in sheets for person in registrations(sheet.frame, activity)]
