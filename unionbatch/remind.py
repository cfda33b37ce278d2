"""催报: who has not sent an accepted file for the period, and the reminder each of them gets.

Works from the last run's report.json for the period; before any run, every unit on the roster is due.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .failures import os_reason
from .mail import reminder_message, send_messages, write_eml
from .policy import Policy


@dataclass(frozen=True)
class Reminder:
    unit: str
    kind: str
    status: str  # 未报送 | 被退回待重报
    deadline: str | None

    def text(self, period: str) -> str:
        due = f"截止日期为 {self.deadline}," if self.deadline else ""
        if self.status == "被退回待重报":
            return (
                f"【重报】{self.unit}:贵单位报送的 {period}《{self.kind}》已被退回,请按批注修改后重新报送,{due}谢谢。"
            )
        return f"【催报】{self.unit}:贵单位尚未报送 {period}《{self.kind}》,{due}请尽快报送,谢谢。"


class ReminderError(Exception):
    """The period's report.json exists but cannot be read."""


def due_reminders(policy: Policy, period: str, report_path: Path) -> list[Reminder]:
    if report_path.is_file():
        try:
            missing = json.loads(report_path.read_text(encoding="utf-8")).get("missing", {})
        except OSError as error:
            raise ReminderError(f"无法读取 {report_path}:{os_reason(error)}") from error
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError) as error:
            raise ReminderError(f"无法读取 {report_path}:内容不完整或已损坏,请重新运行 run 生成") from error
        return [
            Reminder(entry["name"], kind, entry["status"], entry.get("deadline"))
            for kind, entries in missing.items()
            for entry in entries
        ]
    return [
        Reminder(unit.name, kind, "未报送", _iso(policy, kind, period))
        for kind in policy.forms
        for unit in policy.roster
        if kind in unit.forms
    ]


def _iso(policy: Policy, kind: str, period: str) -> str | None:
    deadline = policy.deadline(kind, period)
    return deadline.isoformat() if deadline else None


def deliver_reminders(reminders: list[Reminder], policy: Policy, period: str, outbox: Path) -> str:
    """Email each reminder to the unit's roster addresses: over SMTP, or as .eml files in `outbox`."""
    emails = {unit.name: unit.emails for unit in policy.roster}
    messages = [
        reminder_message(policy.email, ", ".join(emails[r.unit]), f"【催报】{r.kind} {r.unit} {period}", r.text(period))
        for r in reminders
        if emails.get(r.unit)
    ]
    missing = sorted({r.unit for r in reminders if not emails.get(r.unit)})
    note = f";未登记邮箱:{'、'.join(missing)}" if missing else ""
    if policy.email.can_send:
        return f"已发送催报邮件 {send_messages(policy.email, messages)} 封{note}"
    for number, message in enumerate(messages, start=1):
        write_eml(message, outbox / f"催报_{number:03d}.eml")
    return f"未设置 SMTP:{len(messages)} 封催报邮件保存在 {outbox}{note}"
