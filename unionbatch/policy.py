"""The policy: every number an office may change, and the roster of units, from one TOML file.

A bad policy stops the run before any file is touched, with a message naming the key.
"""

from __future__ import annotations

import codecs
import datetime as dt
import difflib
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .failures import os_reason
from .inbox import default_settle_seconds
from .mail import MailSettings, parse_settings
from .read import Limits
from .spec import FormSpec, configure, unit_key


class PolicyError(Exception):
    """The policy file is unusable; the message says which key and why (Chinese, one line)."""


@dataclass(frozen=True)
class RosterUnit:
    name: str
    forms: tuple[str, ...]
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReminderSchedule:
    """When `remind --due` writes to a unit: from `days_before` days before a form's deadline, every day up to and on
    the deadline, then every day for `overdue_days` days after it (never after a closing time: late files are not
    counted then)."""

    days_before: int = 3
    overdue_days: int = 7


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
    reminders: ReminderSchedule = field(default_factory=ReminderSchedule)

    def deadline(self, kind: str, period: str) -> dt.date | None:
        """The form's deadline for `period` (YYYY-MM): a fixed date, or day N of the month after the period."""
        rule = self.deadlines.get(kind)
        if rule is None or isinstance(rule, dt.date):
            return rule
        year, month = (int(part) for part in period.split("-"))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return dt.date(year, month, rule)

    def closing(self, kind: str, period: str) -> dt.datetime | None:
        """The moment after which a file is late: the end of the deadline day, or the form's closing time."""
        day = self.deadline(kind, period)
        if day is not None:
            return dt.datetime.combine(day, dt.time(23, 59, 59))
        spec = self.specs.get(kind)
        if spec is not None and spec.closes_at is not None:
            return spec.closes_at(self.for_form(kind))
        return None

    def refuses_late(self, kind: str) -> bool:
        """True when files of `kind` arriving after its closing time are rejected (报名截止): no use asking for them."""
        spec = self.specs.get(kind)
        return spec is not None and spec.closes_at is not None and spec.closes_at(self.for_form(kind)) is not None

    def roster_rank(self, unit: str) -> tuple[int, str]:
        """Where a unit's rows go in the consolidated workbooks: in the roster's order, the units not on it after,
        by name."""
        key = unit_key(unit)
        for position, listed in enumerate(self.roster):
            if unit_key(listed.name) == key:
                return position, ""
        return len(self.roster), key

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


GENERAL_SECTIONS = ("roster", "deadlines", "limits", "email", "inbox", "reminders")
MAXIMUM = Decimal(100_000_000)  # no amount, count or share an office sets comes near 1 亿: larger is a typo
LIMIT_MAXIMA = {"max_file_mb": 1024, "max_unzipped_mb": 4096, "max_rows": 1_048_576, "max_columns": 16_384}
MAX_SETTLE_SECONDS = 300
SQLITE_HEADER = b"SQLite format 3\x00"


def load_policy(path: Path | None, specs: Mapping[str, FormSpec]) -> Policy:
    """Read and check the policy file; with no path, each form's defaults and an empty roster."""
    data: dict[str, Any] = {}
    if path is not None:
        data = _read_toml(path)
        if not data:
            raise PolicyError(
                f"策略文件 {path} 是空的(没有任何设置);请检查文件是否保存完整。如要使用默认值,运行时不要加 --policy"
            )
        reject_unknown_sections(data, specs)
    forms = {}
    with _policy_folder(path.parent if path is not None else None):
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
        reminders=_reminders(data.get("reminders", {})),
        **_inbox(data.get("inbox", {}), path),
    )


_POLICY_FOLDER: ContextVar[Path | None] = ContextVar("policy_folder", default=None)


@contextmanager
def _policy_folder(folder: Path | None) -> Iterator[None]:
    """The folder of the policy file being read: paths a form's section names are relative to it."""
    token = _POLICY_FOLDER.set(folder)
    try:
        yield
    finally:
        _POLICY_FOLDER.reset(token)


def policy_path(section: Mapping[str, Any], key: str, where: str) -> Path | None:
    """A file a form's policy section names (`registry = "档案.xlsx"`), relative to the policy file's folder;
    None when the key is absent. For a form's parse_policy, called while load_policy reads the file."""
    if key not in section:
        return None
    value = section[key]
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(f"策略文件中 {where}.{key} 应为文件路径(用引号括起),现在是“{value}”")
    named = Path(value.strip())
    folder = _POLICY_FOLDER.get()
    return named if named.is_absolute() or folder is None else folder / named


def _read_toml(path: Path) -> dict[str, Any]:
    """The policy as TOML, whatever Windows Notepad saved it as: UTF-8 (with or without BOM), UTF-16, GBK/GB18030."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as error:
        raise PolicyError(f"找不到策略文件 {path}") from error
    except IsADirectoryError as error:
        raise PolicyError(f"策略文件 {path} 是一个文件夹,应为 .toml 文件") from error
    except OSError as error:
        raise PolicyError(f"无法读取策略文件 {path}:{os_reason(error)}") from error
    try:
        text = _decode(raw)
    except UnicodeDecodeError as error:
        raise PolicyError(f"策略文件 {path} 的文字编码无法识别;请用记事本另存为 UTF-8 编码") from error
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"策略文件 {path} 格式错误:{_toml_reason(error)}") from error


def _decode(raw: bytes) -> str:
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if raw.startswith(bom):
            return raw[len(bom) :].decode(encoding)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030")  # a superset of GBK, what Chinese Windows saves as "ANSI"


TOML_REASONS = (
    ("Invalid value", '值写得不对(文字要用英文双引号括起,如 name = "机关工会")'),
    ("Expected '=' after a key", "键后面缺少等号 ="),
    ("Cannot overwrite a value", "同一个键或表写了两次"),
    ("Cannot declare", "同一个表写了两次"),
    ("Unclosed array", "方括号 [ ] 没有配对"),
    ("Illegal character", "有不允许的字符(请检查引号是否为英文引号)"),
)


def _toml_reason(error: tomllib.TOMLDecodeError) -> str:
    """The parser's English message in Chinese where we know it, always with the line and column it gives."""
    message = str(error)
    where = message[message.find("(at line") :] if "(at line" in message else ""
    place = where.replace("(at line ", "第 ").replace(", column ", " 行第 ").replace(")", " 列") if where else ""
    for english, chinese in TOML_REASONS:
        if message.startswith(english):
            return f"{place}{chinese}" if place else chinese
    return f"{place}不符合 TOML 格式" if place else f"不符合 TOML 格式({message})"


def reject_unknown_sections(data: Mapping[str, Any], specs: Mapping[str, FormSpec]) -> None:
    """A misspelt section ([releif], [[rooster]]) or a key outside any section must not fall back to defaults."""
    known = {spec.policy_section for spec in specs.values()} | set(GENERAL_SECTIONS)
    for name, value in data.items():
        if name in known:
            continue
        sections = "、".join(f"[{section}]" for section in sorted(known - {"roster"})) + "、[[roster]]"
        if not isinstance(value, dict) and not _is_table_list(value):
            raise PolicyError(
                f"策略文件中的键 {name} 写在了所有 [表] 之前,不属于任何表;请把它移到所属的表之下(可用的表:{sections})"
            )
        shown = f"[{name}]" if isinstance(value, dict) else f"[[{name}]]"
        guess = nearest(name, known)
        hint = (
            "" if guess is None else f";你是不是想写 [[{guess}]]" if guess == "roster" else f";你是不是想写 [{guess}]"
        )
        raise PolicyError(f"策略文件中有无法识别的表 {shown}{hint}?可用的表:{sections}")


def _is_table_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) for item in value)


def nearest(name: str, known: set[str]) -> str | None:
    """The known name closest to a misspelt one, if any is close."""
    matches = difflib.get_close_matches(name.lower(), sorted(known), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _email(section: Any) -> MailSettings:
    if not isinstance(section, dict):
        raise PolicyError("策略文件中 [email] 应为一个表")
    reject_unknown(section, set(vars(MailSettings())), "email")
    try:
        return parse_settings(section)
    except ValueError as error:
        raise PolicyError(f"策略文件中 {error}") from error


MAX_REMINDER_DAYS = 60


def _reminders(section: Any) -> ReminderSchedule:
    """[reminders]: days_before and overdue_days, whole numbers of days from 0 to 60."""
    if not isinstance(section, dict):
        raise PolicyError("策略文件中 [reminders] 应为一个表")
    defaults = ReminderSchedule()
    reject_unknown(section, set(vars(defaults)), "reminders")
    values = {}
    for key, default in vars(defaults).items():
        value = section.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_REMINDER_DAYS:
            raise PolicyError(f"策略文件中 reminders.{key} 应为 0 至 {MAX_REMINDER_DAYS} 的整数(天数),现在是“{value}”")
        values[key] = value
    return ReminderSchedule(**values)


def _inbox(section: Any, policy_path: Path | None) -> dict[str, Any]:
    """[inbox]: ledger (a path, relative to the policy file) and settle_seconds."""
    if not isinstance(section, dict):
        raise PolicyError("策略文件中 [inbox] 应为一个表")
    reject_unknown(section, {"ledger", "settle_seconds"}, "inbox")
    settle = amount(
        section,
        "settle_seconds",
        str(default_settle_seconds()),
        "inbox",
        allow_zero=True,
        maximum=Decimal(MAX_SETTLE_SECONDS),
    )
    values: dict[str, Any] = {"settle_seconds": float(settle)}
    if "ledger" in section:
        if not isinstance(section["ledger"], str) or not section["ledger"].strip():
            raise PolicyError(f"策略文件中 inbox.ledger 应为文件路径(用引号括起),现在是“{section['ledger']}”")
        ledger = Path(section["ledger"])
        values["ledger_path"] = ledger if ledger.is_absolute() or policy_path is None else policy_path.parent / ledger
        check_ledger_path(values["ledger_path"])
    return values


def check_ledger_path(path: Path) -> None:
    """The ledger must be an SQLite database or not exist yet: a folder or another file there is the user's slip."""
    if path.is_dir():
        raise PolicyError(f"策略文件中 inbox.ledger 指向的 {path} 是一个文件夹;请写台账文件的路径,如 ledger.sqlite")
    if path.exists():
        try:
            with path.open("rb") as stream:
                header = stream.read(len(SQLITE_HEADER))
        except OSError as error:
            raise PolicyError(f"无法读取台账 {path}:{os_reason(error)}") from error
        if header and header != SQLITE_HEADER:
            raise PolicyError(
                f"策略文件中 inbox.ledger 指向的 {path} 不是台账数据库(SQLite);请检查路径,不要指向其他文件"
            )


def _limits(section: Any) -> Limits:
    if not isinstance(section, dict):
        raise PolicyError("策略文件中 [limits] 应为一个表")
    defaults = Limits()
    reject_unknown(section, set(vars(defaults)), "limits")
    values = {}
    for key, default in vars(defaults).items():
        value = amount(section, key, str(default), "limits", maximum=Decimal(LIMIT_MAXIMA[key]))
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
            raise PolicyError(
                f"策略文件中 {where}.forms 含有未知表单:{'、'.join(map(str, unknown))};可选:{'、'.join(specs)}"
            )
        emails = entry.get("emails", [])
        if not isinstance(emails, list):
            raise PolicyError(f"策略文件中 {where}.emails 应为列表")
        units.append(RosterUnit(name.strip(), tuple(forms), tuple(str(email) for email in emails)))
    return tuple(units)


def amount(
    section: Mapping[str, Any],
    key: str,
    default: str,
    where: str,
    *,
    allow_zero: bool = False,
    maximum: Decimal = MAXIMUM,
) -> Decimal:
    """A non-negative (or positive) number up to `maximum` from a policy section, as Decimal; PolicyError names
    the key. NaN and infinity are refused like any other non-number."""
    value = section.get(key, default)
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        number = Decimal(str(value))
        if not number.is_finite():  # nan, inf: NaN would even raise on the comparisons below
            raise InvalidOperation
    except InvalidOperation as error:
        raise PolicyError(f"策略文件中 {where}.{key} 应为数字,现在是“{value}”") from error
    if number < 0 or (number == 0 and not allow_zero):
        raise PolicyError(f"策略文件中 {where}.{key} 应为{'非负' if allow_zero else '正'}数,现在是“{value}”")
    if number > maximum:
        raise PolicyError(f"策略文件中 {where}.{key} 应不大于 {maximum},现在是“{value}”,请检查是否多写了 0")
    return number


def reject_unknown(section: Mapping[str, Any], known: set[str], where: str) -> None:
    """A misspelt key must not silently fall back to a default."""
    unknown = sorted(set(section) - known)
    if unknown:
        guesses = {key: guess for key in unknown if (guess := nearest(key, known)) is not None}
        if len(unknown) == 1 and guesses:
            hint = f"你是不是想写 {guesses[unknown[0]]}?"
        else:
            hint = "".join(f"{key} 是不是 {guess}?" for key, guess in guesses.items())
        raise PolicyError(
            f"策略文件中 [{where}] 有无法识别的键:{'、'.join(unknown)};{hint}可用的键:{'、'.join(sorted(known))}"
        )
