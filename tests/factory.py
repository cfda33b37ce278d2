"""Make realistic 慰问名单 workbooks: fake people with valid IDs, filled into our template (openpyxl,
as a unit filling it in Excel would) or into a unit's own home-made layout (xlsxwriter).

Used by the tests (fixtures with one planted mistake at a known cell) and by samples/make_samples.py.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import xlsxwriter
from openpyxl import load_workbook
from stdnum.cn import ric

from unionbatch.policy import load_policy
from unionbatch.spec import FormSpec, column_letter, load_specs

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
AREAS = ("350102", "350103", "350104", "350105", "350111", "350121", "440103", "110105")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑"
GIVEN = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "桂兰",
    "建国",
    "海燕",
    "志强",
)

FIRST_ROW = 4  # generated templates: title, header block, header, then data


@dataclass(frozen=True)
class Person:
    name: str
    gender: str
    id_number: Any
    phone: Any
    tier: str
    cause: str
    household: Any
    income: Any
    expense: Any
    amount: Any
    goods: Any
    archive_no: str
    workplace: str = ""
    remark: str = ""


def mobile(digits: str) -> str:
    """11 random digits made a number in use: 154 and 194 are not allocated (python-phonenumbers), 158 and 198 are."""
    return digits[:2] + "8" + digits[3:] if digits[:3] in ("154", "194") else digits


def make_id(rng: random.Random, gender: str, born: dt.date | None = None) -> str:
    born = born or dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(0, 35 * 365))
    digit17 = rng.choice("13579" if gender == "男" else "02468")  # odd for men, even for women
    body = f"{rng.choice(AREAS)}{born:%Y%m%d}{rng.randrange(100):02d}{digit17}"
    return body + ric.calc_check_digit(body + "0")


def make_people(count: int, seed: int, prefix: str = "FZ") -> list[Person]:
    """`count` eligible people, tiers and amounts meeting the default policy."""
    rng = random.Random(seed)
    people = []
    for number in range(1, count + 1):
        gender = rng.choice("男女")
        tier = ("深度困难", "相对困难", "意外致困")[number % 3]
        household = rng.randint(2, 5)
        if tier == "深度困难":
            income, expense = 500 * household * 12, rng.choice((0, 3000, 6000))
        elif tier == "相对困难":
            income, expense = 1200 * household * 12, rng.choice((0, 2000))
        else:
            income = rng.randint(30, 80) * 1000
            expense = int(income * rng.choice((0.6, 0.8, 1.2)))
        amount = {"深度困难": 1000, "相对困难": 800, "意外致困": 1000}[tier] + rng.choice((0, 200, 500))
        people.append(
            Person(
                name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                gender=gender,
                id_number=make_id(rng, gender),
                phone=mobile(f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"),
                tier=tier,
                cause=rng.choice(("因病", "因学", "因业", "因灾", "因残", "其他")),
                household=household,
                income=income,
                expense=expense,
                amount=amount,
                goods=rng.choice((0, 200, 300)),
                archive_no=f"{prefix}{seed:02d}-{number:03d}",
            )
        )
    return people


def fill_form(
    path: Path,
    kind: str,
    header: dict[str, Any],
    records: Sequence[dict[str, Any]],
    *,
    total_row: dict[str, Any] | None = None,
    edits: dict[str, Any] | None = None,
    skip_rows: Sequence[int] = (),
) -> Path:
    """Fill a form's generated template as a unit would, with openpyxl: the header block (填报单位 …),
    one record per row from row 4 (leaving `skip_rows` blank), an optional 合计 row and raw cell edits."""
    spec = load_policy(None, load_specs()).specs[kind]  # the committed templates use the default policy
    return fill_spec_template(
        TEMPLATES / f"{kind}.xlsx", spec, path, header, records, total_row=total_row, edits=edits, skip_rows=skip_rows
    )


def fill_spec_template(
    template: Path,
    spec: FormSpec,
    path: Path,
    header: dict[str, Any],
    records: Sequence[dict[str, Any]],
    *,
    total_row: dict[str, Any] | None = None,
    edits: dict[str, Any] | None = None,
    skip_rows: Sequence[int] = (),
) -> Path:
    """`fill_form` for any spec's template (one written by `unionbatch.template.write_template`)."""
    columns = [column for column in spec.columns if column.in_template]
    letters = {column.key: column_letter(index) for index, column in enumerate(columns)}
    workbook = load_workbook(template)
    sheet = workbook[spec.kind]
    span = len(columns) // len(spec.header_fields)
    for number, name in enumerate(spec.header_fields):
        if header.get(name):
            sheet.cell(row=2, column=number * span + 2, value=header[name])
    rows = [row for row in range(FIRST_ROW, FIRST_ROW + len(records) + len(skip_rows)) if row not in skip_rows]
    for row, record in zip(rows, records, strict=False):
        for key, value in record.items():
            if value != "" and value is not None:
                sheet[f"{letters[key]}{row}"] = value
    if total_row is not None:
        row = (rows[len(records) - 1] if records else FIRST_ROW - 1) + 1
        sheet[f"A{row}"] = "合计"
        for key, value in total_row.items():
            sheet[f"{letters[key]}{row}"] = value
    for cell, value in (edits or {}).items():
        sheet[cell] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def fill_template(
    path: Path,
    unit: str,
    people: Sequence[Person],
    *,
    date: str = "2026-11-15",
    total_row: dict[str, Any] | None = None,
    edits: dict[str, Any] | None = None,
    skip_rows: Sequence[int] = (),
) -> Path:
    """A 慰问名单 on our template, numbered 1, 2, 3 … in 序号."""
    records = [{"seq": number, **asdict(person)} for number, person in enumerate(people, start=1)]
    return fill_form(
        path,
        "慰问名单",
        {"填报单位": unit, "填报日期": date},
        records,
        total_row=total_row,
        edits=edits,
        skip_rows=skip_rows,
    )


def stats_for(people: Sequence[Person], **changes: Any) -> dict[str, Any]:
    """A 送温暖统计表 row that agrees with a unit's 慰问名单 `people` and adds up."""
    record: dict[str, Any] = {
        "hard_count": len(people),
        "hard_amount": sum(p.amount for p in people),
        "migrant_count": 2,
        "migrant_amount": 1600,
        "model_count": 1,
        "model_amount": 2000,
        "frontline_count": 10,
        "frontline_amount": 5000,
        "goods": sum(p.goods for p in people) + 1000,
    }
    record.update(changes)
    parts = ("hard_amount", "migrant_amount", "model_amount", "frontline_amount", "goods")
    record.setdefault("total", sum(record[key] for key in parts))
    record.setdefault("fiscal", 3000)
    record.setdefault("donations", 2000)
    record.setdefault("other_sources", 0)
    record.setdefault("union_funds", record["total"] - record["fiscal"] - record["donations"] - record["other_sources"])
    return record


def fill_stats(
    path: Path, unit: str, records: Sequence[dict[str, Any]], *, date: str = "2026-11-20", **options: Any
) -> Path:
    header = {"填报单位": unit, "填表人": "张敏", "联系电话": "0591-83001234", "填报日期": date}
    return fill_form(path, "送温暖统计表", header, records, **options)


def write_own_layout(
    path: Path,
    title_rows: Sequence[Sequence[Any]],
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    footer: Sequence[Sequence[Any]] = (),
    extra_sheets: dict[str, list[list[Any]]] | None = None,
    vba_project: Path | None = None,
) -> Path:
    """A unit's home-made sheet: its own title rows, headers in its own words and order, a footer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    workbook.set_properties({"created": dt.datetime(2026, 11, 1)})
    if vba_project is not None:
        workbook.add_vba_project(str(vba_project))
    sheet = workbook.add_worksheet("Sheet1")
    row = 0
    for block in (title_rows, [header], rows, footer):
        for values in block:
            for col, value in enumerate(values):
                if value is not None:
                    sheet.write(row, col, value)
            row += 1
    for name, grid in (extra_sheets or {}).items():
        extra = workbook.add_worksheet(name)
        for r, values in enumerate(grid):
            extra.write_row(r, 0, values)
    workbook.close()
    return path


def with_changes(person: Person, **changes: Any) -> Person:
    return replace(person, **changes)


def libreoffice_convert(source: Path, target: Path, filter_name: str, recalculate: bool = False) -> Path:
    """Save `source` in another format with LibreOffice (as an office using WPS or LibreOffice would). LibreOffice
    shows the values cached in an .xlsx unless told to recompute on load: `recalculate` tells it to."""
    from tests.recalc import soffice_convert

    with tempfile.TemporaryDirectory() as work:
        soffice_convert([source], f"{target.suffix[1:]}:{filter_name}", Path(work), recalculate)
        shutil.move(Path(work) / f"{source.stem}{target.suffix}", target)
    return target


# ---- a sports day: registrations, results, attendance; an outing -------------------------------------


@dataclass(frozen=True)
class Athlete:
    dept: str
    name: str
    gender: str
    id_number: str
    phone: str
    events: tuple[str, ...]


def make_team(dept: str, seed: int, events: Sequence[Sequence[str]], women: int | None = None) -> list[Athlete]:
    """One department's entrants, one per item of `events`; the first `women` are women (default: every other)."""
    rng = random.Random(seed)
    team = []
    for number, chosen in enumerate(events):
        gender = ("女" if number < women else "男") if women is not None else "女男"[number % 2]
        born = dt.date(1970, 1, 1) + dt.timedelta(days=rng.randrange(0, 30 * 365))
        team.append(
            Athlete(
                dept=dept,
                name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                gender=gender,
                id_number=make_id(rng, gender, born),
                phone=mobile(f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"),
                events=tuple(chosen),
            )
        )
    return _unique_names(team)


def _unique_names(team: list[Athlete]) -> list[Athlete]:
    seen: dict[str, int] = {}
    named = []
    for athlete in team:
        count = seen.get(athlete.name, 0)
        seen[athlete.name] = count + 1
        named.append(replace(athlete, name=athlete.name + "甲乙丙丁戊己庚辛"[count - 1]) if count else athlete)
    return named


def fill_registration(
    path: Path, unit: str, athletes: Sequence[Athlete], *, date: str = "2026-11-10", **options: Any
) -> Path:
    """A 运动会报名表 on our template: a √ in each chosen event's column."""
    records = [
        {
            "seq": number,
            "dept": a.dept,
            "name": a.name,
            "gender": a.gender,
            "id_number": a.id_number,
            "phone": a.phone,
            **{f"event:{event}": "√" for event in a.events},
        }
        for number, a in enumerate(athletes, start=1)
    ]
    return fill_form(path, "运动会报名表", {"填报单位": unit, "填报日期": date}, records, **options)


def fill_results(path: Path, rows: Sequence[tuple[str, int, str, str]], **options: Any) -> Path:
    """A 成绩登记表: (项目, 名次, 代表队, 姓名) per row."""
    records = [
        {"seq": n, "event": event, "place": place, "dept": dept, "name": name}
        for n, (event, place, dept, name) in enumerate(rows, start=1)
    ]
    return fill_form(path, "成绩登记表", {"填报单位": "校工会裁判组", "填报日期": "2026-11-28"}, records, **options)


def fill_attendance(path: Path, unit: str, rows: Sequence[tuple[str, str, str]], **options: Any) -> Path:
    """A 签到表: (部门, 姓名, 出勤情况) per row."""
    records = [
        {"seq": n, "dept": dept, "name": name, "status": status} for n, (dept, name, status) in enumerate(rows, start=1)
    ]
    return fill_form(path, "签到表", {"填报单位": unit, "填报日期": "2026-11-28"}, records, **options)


def fill_outing(path: Path, unit: str, rows: Sequence[tuple[str, str, str, str]], **options: Any) -> Path:
    """An 外出活动报名表: (姓名, 身份, 随行职工, 联系电话) per row, all of `unit`."""
    records = [
        {"seq": n, "dept": unit, "name": name, "role": role, "companion": companion, "phone": phone}
        for n, (name, role, companion, phone) in enumerate(rows, start=1)
    ]
    return fill_form(path, "外出活动报名表", {"填报单位": unit, "填报日期": "2027-03-15"}, records, **options)
