"""The policy: every number an office may change, and the roster of units, from one TOML file.

A bad policy stops the run before any file is touched, with a message naming the key.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .inbox import default_settle_seconds
from .mail import MailSettings, parse_settings
from .read import Limits
from .spec import FormSpec, configure


class PolicyError(Exception):
    """The policy file is unusable; the message says which key and why (Chinese, one line)."""


@dataclass(frozen=True)
class RosterUnit:
    name: str
    forms: tuple[str, ...]
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class Policy:
    roster: tuple[RosterUnit, ...]
    forms: dict[str, Any]  # form kind → the object its spec's parse_policy returned
    specs: dict[str, FormSpec] = field(default_factory=dict)  # the forms as this policy configures them
    deadlines: dict[str, dt.date | int] = field(default_factory=dict)  # a date, or day N of the next month
    limits: Limits = field(default_factory=Limits)
    ledger_path: Path | None = None
    email: MailSettings = field(default_factory=MailSettings)
    settle_seconds: float = field(default_factory=default_settle_seconds)  # unchanged this long before it is read

    def deadline(self, kind: str, period: str) -> dt.date | None:
        """The form's deadline for `period` (YYYY-MM): a fixed date, or day N of the month after the period."""
        rule = self.deadlines.get(kind)
        if rule is None or isinstance(rule, dt.date):
            return rule
        year, month = (int(part) for part in period.split("-"))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return dt.date(year, month, rule)

    def units_of_sender(self, address: str) -> list[str]:
        """Roster units that list this email address."""
        address = address.lower()
        return [unit.name for unit in self.roster if address in (email.lower() for email in unit.emails)]

    @property
    def checks_senders(self) -> bool:
        return any(unit.emails for unit in self.roster)

    def expected_units(self, kind: str) -> list[str]:
        return [unit.name for unit in self.roster if kind in unit.forms]

    def for_form(self, kind: str) -> Any:
        return self.forms[kind]


def load_policy(path: Path | None, specs: Mapping[str, FormSpec]) -> Policy:
    """Read and check the policy file; with no path, each form's defaults and an empty roster."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as error:
            raise PolicyError(f"找不到策略文件 {path}") from error
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise PolicyError(f"策略文件 {path} 格式错误:{error}") from error
    forms = {}
    for kind, spec in specs.items():
        section = data.get(spec.policy_section, {})
        if not isinstance(section, dict):
            raise PolicyError(f"策略文件中 [{spec.policy_section}] 应为一个表(section)")
        forms[kind] = spec.parse_policy(section)
    return Policy(
        roster=_roster(data.get("roster", []), specs),
        forms=forms,
        specs=configure(specs, forms),
        deadlines=_deadlines(data.get("deadlines", {}), specs),
        limits=_limits(data.get("limits", {})),
        email=_email(data.get("email", {})),
        **_inbox(data.get("inbox", {}), path),
    )


def _email(section: Any) -> MailSettings:
    if not isinstance(section, dict):
        raise PolicyError("策略文件中 [email] 应为一个表")
    try:
        return parse_settings(section)
    except ValueError as error:
        raise PolicyError(f"策略文件中 {error}") from error


def _inbox(section: Any, policy_path: Path | None) -> dict[str, Any]:
    """[inbox]: ledger (a path, relative to the policy file) and settle_seconds."""
    if not isinstance(section, dict):
        raise PolicyError("策略文件中 [inbox] 应为一个表")
    reject_unknown(section, {"ledger", "settle_seconds"}, "inbox")
    values: dict[str, Any] = {
        "settle_seconds": float(
            amount(section, "settle_seconds", str(default_settle_seconds()), "inbox", allow_zero=True)
        )
    }
    if "ledger" in section:
        ledger = Path(str(section["ledger"]))
        values["ledger_path"] = ledger if ledger.is_absolute() or policy_path is None else policy_path.parent / ledger
    return values


def _limits(section: Any) -> Limits:
    if not isinstance(section, dict):
        raise PolicyError("策略文件中 [limits] 应为一个表")
    defaults = Limits()
    reject_unknown(section, set(vars(defaults)), "limits")
    values = {}
    for key, default in vars(defaults).items():
        value = amount(section, key, str(default), "limits")
        if value != value.to_integral_value():
            raise PolicyError(f"策略文件中 limits.{key} 应为正整数,现在是“{section[key]}”")
        values[key] = int(value)
    return Limits(**values)


def _deadlines(section: Any, specs: Mapping[str, FormSpec]) -> dict[str, dt.date | int]:
    if not isinstance(section, dict):
        raise PolicyError('策略文件中 [deadlines] 应为一个表,如 "慰问名单" = 2026-12-20')
    reject_unknown(section, set(specs), "deadlines")
    for kind, value in section.items():
        valid_day = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 28
        if not (valid_day or (isinstance(value, dt.date) and not isinstance(value, dt.datetime))):
            raise PolicyError(
                f"策略文件中 deadlines.{kind} 应为日期(如 2026-12-20)或次月的日(1 至 28 的整数),现在是“{value}”"
            )
    return dict(section)


def _roster(entries: Any, specs: Mapping[str, FormSpec]) -> tuple[RosterUnit, ...]:
    if not isinstance(entries, list):
        raise PolicyError("策略文件中 roster 应为 [[roster]] 列表")
    units = []
    for number, entry in enumerate(entries, start=1):
        where = f"roster 第 {number} 项"
        name = entry.get("unit") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise PolicyError(f"策略文件中 {where} 缺少 unit(单位名称)")
        forms = entry.get("forms", [kind for kind, spec in specs.items() if spec.roster_default])
        unknown = [kind for kind in forms if kind not in specs] if isinstance(forms, list) else [forms]
        if unknown:
            raise PolicyError(f"策略文件中 {where}.forms 含有未知表单:{unknown},可选:{list(specs)}")
        emails = entry.get("emails", [])
        if not isinstance(emails, list):
            raise PolicyError(f"策略文件中 {where}.emails 应为列表")
        units.append(RosterUnit(name.strip(), tuple(forms), tuple(str(email) for email in emails)))
    return tuple(units)


def amount(section: Mapping[str, Any], key: str, default: str, where: str, *, allow_zero: bool = False) -> Decimal:
    """A non-negative (or positive) number from a policy section, as Decimal; PolicyError names the key."""
    value = section.get(key, default)
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        number = Decimal(str(value))
    except InvalidOperation as error:
        raise PolicyError(f"策略文件中 {where}.{key} 应为数字,现在是“{value}”") from error
    if number < 0 or (number == 0 and not allow_zero) or not number.is_finite():
        raise PolicyError(f"策略文件中 {where}.{key} 应为{'非负' if allow_zero else '正'}数,现在是“{value}”")
    return number


def reject_unknown(section: Mapping[str, Any], known: set[str], where: str) -> None:
    """A misspelt key must not silently fall back to a default."""
    unknown = sorted(set(section) - known)
    if unknown:
        raise PolicyError(
            f"策略文件中 [{where}] 有无法识别的键:{'、'.join(unknown)};可用的键:{'、'.join(sorted(known))}"
        )
