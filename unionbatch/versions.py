"""Resubmissions: a unit that sends a corrected file replaces its earlier one for that form.

The newest accepted file per (form, unit) is the current one: newest by 填报日期, then by arrival (the mail's
Date, or when the run first saw it), then by modification time.
Every other file of that unit and form is marked replaced, so totals never count a unit twice, and
the current file carries what changed against the version it replaces.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from .money import format_yuan
from .normalise import parse_date
from .records import Change, Changes, FileResult, Invalid, ParsedSheet
from .spec import FormSpec, unit_key
from .validate import valid_id


def arrival_order(result: FileResult) -> tuple[dt.date, dt.datetime, dt.datetime, str]:
    """Newer is later 填报日期, then later arrival (the mail's Date, or when the run first saw the file in the
    inbox), then later modification time, then the name."""
    filed = parse_date(result.parsed.report_date) if result.parsed else None
    return (filed or dt.date.min, result.arrived, result.modified, result.path.name)


def choose_current(results: Sequence[FileResult]) -> None:
    """Mark every accepted file but the newest of its (form, unit) as replaced; diff the newest against
    the latest accepted file before it. Safe to call again: it starts from scratch."""
    for result in results:
        result.replaced_by, result.changes = None, None
    groups: dict[tuple[str, str], list[FileResult]] = defaultdict(list)
    for result in results:
        if result.kind and result.unit and result.parsed is not None:
            groups[(result.kind, unit_key(result.unit))].append(result)
    for versions in groups.values():
        if len(versions) < 2:
            continue
        versions.sort(key=arrival_order)
        accepted = [result for result in versions if result.accepted]
        if not accepted:
            continue
        current = accepted[-1]
        for result in versions:
            if result is not current and arrival_order(result) < arrival_order(current):
                result.replaced_by = current.path.name
        earlier = [result for result in accepted if result is not current and result.replaced_by]
        if earlier and earlier[-1].parsed is not None and current.parsed is not None:
            current.changes = diff(earlier[-1].parsed, current.parsed, earlier[-1].path.name)


def diff(old: ParsedSheet, new: ParsedSheet, old_file: str) -> Changes:
    """Rows added, removed and figures changed, rows matched by the form's identity columns (身份证号, a unit,
    部门 + 姓名, 项目 + 名次)."""
    spec = new.spec
    identity = spec.row_identity
    changes = Changes(previous_file=old_file)
    if not identity:
        return changes
    before, after = _rows_by_identity(old, identity), _rows_by_identity(new, identity)
    for subject in after.keys() - before.keys():
        changes.items.append(Change("新增", _describe(spec, after[subject], subject)))
    for subject in before.keys() - after.keys():
        changes.items.append(Change("删除", _describe(spec, before[subject], subject)))
    for subject in after.keys() & before.keys():
        for column in spec.compared or spec.total_columns:
            was, now = before[subject].get(column), after[subject].get(column)
            if _differs(was, now):
                kind = spec.column(column).kind
                changes.items.append(
                    Change(
                        "修改",
                        _describe(spec, after[subject], subject),
                        spec.column(column).header,
                        _text(was, kind),
                        _text(now, kind),
                    )
                )
    changes.items.sort(key=lambda change: (change.kind, change.subject, change.field))
    return changes


def _rows_by_identity(parsed: ParsedSheet, identity: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Rows by their identity; a row whose identity is missing, or names an invalid 身份证号, names nobody."""
    ids = [index for index, column in enumerate(identity) if parsed.spec.column(column).kind == "id"]
    rows = {}
    for record in parsed.frame.to_dict("records"):
        values = [record.get(column) for column in identity]
        if any(value is None or isinstance(value, Invalid) for value in values):
            continue
        if not all(valid_id(values[index]) for index in ids):
            continue
        rows.setdefault(" ".join(_text(value, "int") for value in values), record)
    return rows


def _describe(spec: FormSpec, record: dict[str, Any], subject: str) -> str:
    """A row by its person's name and its identity (王芳(110…)), or by its identity alone."""
    name = record.get(spec.person.name) if spec.person else None
    return f"{name}({subject})" if isinstance(name, str) and name not in subject else subject


def _differs(was: Any, now: Any) -> bool:
    if isinstance(was, Decimal) and isinstance(now, Decimal):
        return was != now
    return (was or None) != (now or None)


def _text(value: Any, kind: str) -> str:
    if isinstance(value, Decimal):
        return format_yuan(value) if kind == "money" else f"{value:,}"
    return "" if value is None else str(value)
