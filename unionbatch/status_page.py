"""OUT/期间/报送情况.html: who has sent what this period, on one self-contained page.

The page is a rendering of the run's report (like 处理报告.xlsx): the roster × forms grid, each form's totals with a
progress chart, and each form's deadline countdown. It needs no server and no network (styles and the one small
script are inline), opens by double-click and prints on A4. Every text from a submission is masked (身份证号,
手机号) and cleaned of control characters before jinja2 escapes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from .atomic import write_atomically
from .compute import period_words
from .policy import Policy
from .privacy import console_line
from .records import ACCEPTED_WITH_WARNINGS, FileResult, Report
from .spec import unit_key

STATUS_PAGE = "报送情况.html"
TEMPLATES = Path(__file__).parent / "page_templates"

# a cell's state: (css class, the word shown in the cell and the legend)
ACCEPTED_STATE = ("accepted", "已受理")
WARNED_STATE = ("warned", "有警告")
REJECTED_STATE = ("rejected", "退回待重报")
OVERDUE_STATE = ("overdue", "逾期")
MISSING_STATE = ("missing", "未报送")
STATES = (ACCEPTED_STATE, WARNED_STATE, REJECTED_STATE, OVERDUE_STATE, MISSING_STATE)
NOT_EXPECTED = ("none", "—")  # the roster does not ask this unit for this form


@dataclass(frozen=True)
class Cell:
    state: str
    label: str
    file: str = ""
    arrived: str = ""
    counts: str = ""
    note: str = ""


@dataclass(frozen=True)
class Row:
    unit: str
    on_roster: bool
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Bar:
    state: str
    label: str
    count: int
    x: float  # where the segment starts and how wide it is, in per cent of the chart's width
    width: float


@dataclass(frozen=True)
class FormColumn:
    kind: str
    deadline: str  # 2026-12-20, 2026-11-20 17:00, or "" when the policy sets none
    deadline_iso: str  # for the page's script, which recounts the days on the day the page is opened
    countdown: str
    countdown_state: str  # future | today | past | none
    summary: str
    bars: tuple[Bar, ...]
    units: int


def write_status_page(report: Report, policy: Policy, now: dt.datetime) -> Path:
    """Write the page into the report's folder (a temporary file renamed over the old page) and return its path."""
    path = report.folder / STATUS_PAGE
    return write_atomically(path, render_status_page(report, policy, now).encode("utf-8"))


def render_status_page(report: Report, policy: Policy, now: dt.datetime) -> str:
    kinds = _kinds(report, policy)
    rows = _rows(report, policy, kinds, now)
    forms = [_form_column(report, policy, kind, index, rows, now) for index, kind in enumerate(kinds)]
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("status.html.j2").render(
        period=period_words(report.period),
        generated=f"{now:%Y-%m-%d %H:%M}",
        today_iso=now.date().isoformat(),
        forms=forms,
        rows=rows,
        states=STATES,
        totals=_state_totals(rows),
        unrecognised=_unrecognised(report.files),
        others=_others(report),
    )


def _kinds(report: Report, policy: Policy) -> list[str]:
    """The forms the roster asks for or someone sent, in the order the policy's specs list them."""
    sent = {result.kind for result in report.files if result.kind}
    asked = {kind for unit in policy.roster for kind in unit.forms}
    return [kind for kind in policy.specs if kind in sent or kind in asked]


def _rows(report: Report, policy: Policy, kinds: Sequence[str], now: dt.datetime) -> list[Row]:
    """One row per roster unit in the roster's order, then the units that sent a form without being on it."""
    files_of: dict[tuple[str, str], list[FileResult]] = {}
    names: dict[str, str] = {}
    for result in report.files:
        if result.kind and result.unit:
            files_of.setdefault((unit_key(result.unit), result.kind), []).append(result)
            names.setdefault(unit_key(result.unit), result.unit)
    rows = []
    for unit in policy.roster:
        key = unit_key(unit.name)
        names.pop(key, None)
        cells = [
            _cell(files_of.get((key, kind), []), kind in unit.forms, _deadline(policy, kind, report.period), now)
            for kind in kinds
        ]
        rows.append(Row(console_line(unit.name), True, tuple(cells)))
    for key, name in names.items():
        cells = [_cell(files_of.get((key, kind), []), False, None, now) for kind in kinds]
        rows.append(Row(console_line(name), False, tuple(cells)))
    return rows


def _cell(files: Sequence[FileResult], expected: bool, deadline: dt.datetime | None, now: dt.datetime) -> Cell:
    if not files:
        if not expected:
            return Cell(*NOT_EXPECTED)
        if deadline is not None and now > deadline:
            return Cell(*OVERDUE_STATE, note=f"截止 {_shown_deadline(deadline)}")
        return Cell(*MISSING_STATE)
    counted = [result for result in files if result.current]
    shown = max(counted or files, key=lambda result: result.arrived)
    state = REJECTED_STATE
    if counted:
        state = WARNED_STATE if shown.status == ACCEPTED_WITH_WARNINGS else ACCEPTED_STATE
    others = len(files) - 1
    note = f"另有 {others} 个文件(见处理报告)" if others else ""
    if not counted and deadline is not None and now > deadline:
        note = "已过截止时间;" + note if note else "已过截止时间"
    counts = f"{shown.rows} 行 · {shown.errors} 个错误 · {shown.warnings} 个警告"
    return Cell(*state, console_line(shown.path.name), f"{shown.arrived:%m-%d %H:%M}", counts, note)


def _deadline(policy: Policy, kind: str, period: str) -> dt.datetime | None:
    return policy.closing(kind, period)


def _shown_deadline(deadline: dt.datetime) -> str:
    return f"{deadline:%Y-%m-%d}" if deadline.time() == dt.time(23, 59, 59) else f"{deadline:%Y-%m-%d %H:%M}"


def countdown(deadline: dt.datetime | None, now: dt.datetime) -> tuple[str, str]:
    """How long until the deadline, in days (the same words as the page's script): the text and its state."""
    if deadline is None:
        return "未设截止时间", "none"
    days = (deadline.date() - now.date()).days
    if now > deadline:
        return (f"已逾期 {-days} 天" if days < 0 else "已截止"), "past"
    if days == 0:
        return "今天截止", "today"
    return f"还有 {days} 天", "future"


def _form_column(
    report: Report, policy: Policy, kind: str, index: int, rows: Sequence[Row], now: dt.datetime
) -> FormColumn:
    deadline = _deadline(policy, kind, report.period)
    text, state = countdown(deadline, now)
    cells = [row.cells[index] for row in rows if row.cells[index].state != NOT_EXPECTED[0]]
    totals = report.totals.get(kind, {})
    summary = totals["summary"] if totals.get("files") else "本期没有已受理的文件"
    return FormColumn(
        kind=kind,
        deadline=_shown_deadline(deadline) if deadline else "",
        deadline_iso=deadline.isoformat() if deadline else "",
        countdown=text,
        countdown_state=state,
        summary=console_line(summary),
        bars=_bars(cells),
        units=len(cells),
    )


def _bars(cells: Sequence[Cell]) -> tuple[Bar, ...]:
    bars = []
    start = 0.0
    for state, label in STATES:
        count = sum(cell.state == state for cell in cells)
        if count:
            width = 100 * count / len(cells)
            bars.append(Bar(state, label, count, round(start, 2), round(width, 2)))
            start += width
    return tuple(bars)


def _state_totals(rows: Sequence[Row]) -> list[tuple[str, str, int]]:
    cells = [cell for row in rows for cell in row.cells]
    return [(state, label, sum(cell.state == state for cell in cells)) for state, label in STATES]


def _unrecognised(results: Sequence[FileResult]) -> list[tuple[str, str]]:
    """Files that are no form, or whose unit could not be told: (file, the first problem found)."""
    listed = []
    for result in results:
        if result.kind and result.unit:
            continue
        reason = result.findings[0].message if result.findings else "无法判断是哪个单位、哪种表单"
        listed.append((console_line(result.path.name), console_line(reason)))
    return listed


def _others(report: Report) -> list[str]:
    lines = [f"{name}:与 {same} 内容相同,未重复计入" for name, same in report.repeats]
    lines += [f"{name}:文件仍在复制中,下次处理" for name in report.arriving]
    lines += [f"{name}:{reason}" for name, reason in report.refused]
    return [console_line(line) for line in lines]
