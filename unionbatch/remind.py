"""催报 and 重报: who has not sent an accepted file for the period, and the reminder each of them gets.

Works from the last run's report.json for the period; before any run, every unit on the roster is due. A unit whose
file came after a form's closing time (报名截止), or any unit once that time has passed, is not asked: such a file
can no longer be counted. `due_today` keeps what a daily (cron) run sends on a given day: from the policy's
`[reminders] days_before` days before the deadline, on the day, and for `overdue_days` after it, once a day per
unit and form (the ledger remembers what was sent).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .compute import period_words
from .failures import os_reason
from .ledger import Ledger
from .mail import letter, reminder_message, send_messages, unset_sender_warning, write_eml
from .policy import Policy
from .spec import unit_key

NOT_SENT = "未报送"
SENT_BACK = "被退回待重报"


@dataclass(frozen=True)
class Reminder:
    unit: str
    kind: str
    status: str  # 未报送 | 被退回待重报
    deadline: dt.datetime | None  # the moment after which a file is late

    @property
    def label(self) -> str:
        """重报 for a unit whose file was sent back, 催报 for one that sent nothing: subject and text agree."""
        return "重报" if self.status == SENT_BACK else "催报"

    def text(self, period: str, now: dt.datetime | None = None) -> str:
        """One line: what is asked of the unit, with the deadline (and, given `now`, how far it is)."""
        return f"【{self.label}】{self.unit}:{self._request(period, now)}谢谢。"

    def subject(self, period: str, now: dt.datetime) -> str:
        when = f"({self._countdown(now)})" if self.deadline else ""
        return f"【{self.label}】{self.kind} {self.unit} {period}{when}"

    def body(self, period: str, now: dt.datetime, policy: Policy) -> str:
        closing = "" if self.status == SENT_BACK else "如已报送,请忽略本邮件;"
        paragraphs = [self._request(period, now).rstrip(",") + "。", f"{closing}如有疑问,请直接回复本邮件或来电。"]
        return letter(policy.email, self.unit, paragraphs, now.date())

    def _request(self, period: str, now: dt.datetime | None) -> str:
        due = f"{_deadline_word(self.deadline)}为 {_shown(self.deadline)}" if self.deadline else ""
        if due and now is not None:
            due += f"({self._countdown(now)})"
        due = f"{due}," if due else ""
        when = period_words(period)
        if self.status == SENT_BACK:
            return f"贵单位报送的{when}《{self.kind}》已被退回,请按回信和批注修改后重新报送,{due}"
        return f"贵单位尚未报送{when}《{self.kind}》,{due}请尽快报送,"

    def _countdown(self, now: dt.datetime) -> str:
        if self.deadline is None:
            return "未设截止时间"
        days = (self.deadline.date() - now.date()).days
        if days > 0:
            return f"还有 {days} 天截止"
        return "今天截止" if days == 0 else f"已逾期 {-days} 天"


class ReminderError(Exception):
    """The period's report.json exists but cannot be read."""


@dataclass(frozen=True)
class Reminders:
    due: list[Reminder]
    closed: list[str]  # one line per form or unit no longer asked, and why


def due_reminders(policy: Policy, period: str, report_path: Path, now: dt.datetime) -> Reminders:
    """Every unit still to send (or resend) a form of `period` at `now`, and who is not asked because a late file
    could not be counted any more."""
    report = _read_report(report_path)
    if report is None:
        candidates = [
            Reminder(unit.name, kind, NOT_SENT, policy.closing(kind, period))
            for kind in policy.forms
            for unit in policy.roster
            if kind in unit.forms
        ]
        late: set[tuple[str, str]] = set()
    else:
        candidates = [
            Reminder(entry["name"], kind, entry["status"], policy.closing(kind, period))
            for kind, entries in report.get("missing", {}).items()
            for entry in entries
        ]
        late = _late_units(report)
    due, closed = [], []
    for kind in dict.fromkeys(reminder.kind for reminder in candidates):
        of_kind = [reminder for reminder in candidates if reminder.kind == kind]
        deadline = of_kind[0].deadline
        if deadline is not None and now > deadline and policy.refuses_late(kind):
            closed.append(f"《{kind}》已于 {_shown(deadline)} 截止,之后报送的不能计入,不再催报")
            continue
        for reminder in of_kind:
            if (unit_key(reminder.unit), kind) in late:
                closed.append(f"{reminder.unit}《{kind}》逾期报送,不能计入,不再催报")
            else:
                due.append(reminder)
    return Reminders(due, closed)


def _read_report(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ReminderError(f"无法读取 {path}:{os_reason(error)}") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ReminderError(f"无法读取 {path}:内容不完整或已损坏,请重新运行 run 生成") from error
    if not isinstance(report, dict):
        raise ReminderError(f"无法读取 {path}:内容不完整或已损坏,请重新运行 run 生成")
    return report


def _late_units(report: dict[str, Any]) -> set[tuple[str, str]]:
    """(unit key, form) of the files rejected as late (late_submission): resending cannot make them count."""
    return {
        (unit_key(entry["unit"]), entry["kind"])
        for entry in report.get("files", [])
        if entry.get("unit") and entry.get("kind")
        if any(finding.get("code") == "late_submission" for finding in entry.get("findings", []))
    }


def due_today(
    reminders: Sequence[Reminder], policy: Policy, period: str, now: dt.datetime, ledger: Ledger | None
) -> list[Reminder]:
    """What a daily run sends at `now`: reminders inside the policy's window around their deadline, not yet sent
    today (by the ledger; none was without one). A form without a deadline is never reminded on schedule."""
    schedule = policy.reminders
    chosen = []
    for reminder in reminders:
        if reminder.deadline is None:
            continue
        days_left = (reminder.deadline.date() - now.date()).days
        if days_left > schedule.days_before or -days_left > schedule.overdue_days:
            continue
        if ledger is not None and ledger.reminded(period, reminder.kind, reminder.unit, now.date()):
            continue
        chosen.append(reminder)
    return chosen


def deliver_reminders(
    reminders: Sequence[Reminder], policy: Policy, period: str, outbox: Path, now: dt.datetime, ledger: Ledger
) -> str:
    """Email each reminder to the unit's roster addresses: over SMTP, or as .eml files in `outbox`. Each one sent
    (or saved) is remembered in the ledger for the day."""
    emails = {unit.name: unit.emails for unit in policy.roster}
    addressed = [reminder for reminder in reminders if emails.get(reminder.unit)]
    messages = [
        reminder_message(
            policy.email,
            ", ".join(emails[reminder.unit]),
            reminder.subject(period, now),
            reminder.body(period, now, policy),
        )
        for reminder in addressed
    ]

    def remember(index: int) -> None:
        reminder = addressed[index]
        ledger.remember_reminder(period, reminder.kind, reminder.unit, reminder.status, now)

    missing = sorted({reminder.unit for reminder in reminders if not emails.get(reminder.unit)})
    note = f";未登记邮箱:{'、'.join(missing)}" if missing else ""
    if policy.email.can_send:
        return f"已发送催报邮件 {send_messages(policy.email, messages, remember)} 封{note}"
    number = _next_number(outbox, now)
    for index, message in enumerate(messages):
        write_eml(message, outbox / f"催报_{now:%Y%m%d}_{number + index:03d}.eml")
        remember(index)
    warning = unset_sender_warning(policy.email, len(messages), "催报邮件")
    return f"未设置 SMTP:{len(messages)} 封催报邮件保存在 {outbox}{note}" + (f"\n{warning}" if warning else "")


def _next_number(outbox: Path, now: dt.datetime) -> int:
    """The first free number for today's reminder files: a second run the same day adds, never overwrites."""
    taken = [path.stem.rpartition("_")[2] for path in outbox.glob(f"催报_{now:%Y%m%d}_*.eml")]
    return max((int(number) for number in taken if number.isdigit()), default=0) + 1


def _deadline_word(deadline: dt.datetime) -> str:
    return "截止日期" if deadline.time() == dt.time(23, 59, 59) else "截止时间"


def _shown(deadline: dt.datetime) -> str:
    """2026年12月20日, or 2027年3月20日 17:00 when the deadline is a time of day: as a notice writes it."""
    day = f"{deadline.year}年{deadline.month}月{deadline.day}日"
    return day if deadline.time() == dt.time(23, 59, 59) else f"{day} {deadline:%H:%M}"
