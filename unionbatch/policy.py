"""The policy: every number an office may change, and the roster of units, from one TOML file.

A bad policy stops the run before any file is touched, with a message naming the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .spec import FormSpec


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
    return Policy(roster=_roster(data.get("roster", []), specs), forms=forms)


def _roster(entries: Any, specs: Mapping[str, FormSpec]) -> tuple[RosterUnit, ...]:
    if not isinstance(entries, list):
        raise PolicyError("策略文件中 roster 应为 [[roster]] 列表")
    units = []
    for number, entry in enumerate(entries, start=1):
        where = f"roster 第 {number} 项"
        name = entry.get("unit") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise PolicyError(f"策略文件中 {where} 缺少 unit(单位名称)")
        forms = entry.get("forms", list(specs))
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
