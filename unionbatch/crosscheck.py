"""Checks across files of one batch: the same person listed by two units (不重复、不交叉), and figures
one form states that another form of the same unit must add up to (统计表 against 慰问名单), in the words and
codes the stating form's spec gives its reconciliation.

Hashing by key, never by comparing pairs of files: one pass over all rows.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from .compute import decimal_sum
from .findings import make_finding
from .money import format_figure
from .records import FileResult, ParsedSheet, Reconciliation, missing_status, rejected_status
from .spec import FormSpec, Reconcile, unit_key
from .validate import reading_order, unique_keys, usable_key, wording
from .versions import arrival_order, choose_current


def check_senders(results: Sequence[FileResult], units_of_sender: Callable[[str], list[str]]) -> None:
    """A file that came by email is merged only if its sender is on the roster, for the unit in the file."""
    for result in results:
        if result.origin is None:
            continue
        sender = result.origin.sender
        units = units_of_sender(sender)
        if not units:
            result.findings.insert(0, make_finding("unknown_sender", str(result.path), value=sender))
        elif result.unit and unit_key(result.unit) not in {unit_key(unit) for unit in units}:
            result.findings.insert(
                0,
                make_finding(
                    "sender_unit_mismatch", str(result.path), value=sender, units="、".join(units), unit=result.unit
                ),
            )


def settle_versions(results: Sequence[FileResult]) -> None:
    """Choose each unit's current version of each form and check people listed by two units, together, until
    neither changes: a duplicate error can reject a unit's newest file, which makes an older version current, and
    that version is then checked too (against every file checked before), so no counted version escapes the check.

    The files compared are those that were ever not replaced (the current ones, and rejected newer ones still
    awaiting correction); a unit's own versions never count as duplicates of each other."""
    compared: dict[int, FileResult] = {}  # by position in `results`
    flagged: set[tuple[int, int]] = set()  # (file's position, row) already given the error
    while True:
        choose_current(results)
        newly = {at: result for at, result in enumerate(results) if not result.replaced_by and at not in compared}
        if not newly:
            return
        compared |= newly
        _flag_duplicates(compared, flagged)


def _flag_duplicates(results: dict[int, FileResult], flagged: set[tuple[int, int]]) -> None:
    """Add an error to each row whose key (the spec's `unique` columns: 身份证号) also appears in another unit's
    file of the same form, once; `results` by their position in the batch, which `flagged` records with the row."""
    forms: dict[str, FormSpec] = {}
    files: dict[str, list[tuple[int, list[tuple[int, str]]]]] = defaultdict(list)  # form → (position, its keys)
    for at, result in results.items():
        parsed = result.parsed
        if parsed is not None:
            forms[parsed.spec.kind] = parsed.spec
            files[parsed.spec.kind].append((at, parsed.keys if parsed.keys is not None else unique_keys(parsed)))
    seen: dict[tuple[str, str], list[tuple[int, int]]] = {}  # only the keys seen more than once
    for kind, keyed in files.items():
        for value, places in _repeated_keys(keyed).items():
            seen[kind, value] = places
    for (kind, value), places in seen.items():
        units = {unit_key(results[at].unit or "") for at, _ in places}
        if len(units) < 2 or not usable_key(forms[kind], value):
            continue  # one unit's own versions are resubmissions, not duplicates
        for at, row in places:
            result = results[at]
            parsed = result.parsed
            if parsed is None or parsed.spec.unique is None or (at, row) in flagged:
                continue
            flagged.add((at, row))
            other, other_row = next(
                (results[o], r) for o, r in places if unit_key(results[o].unit or "") != unit_key(result.unit or "")
            )
            result.findings.append(
                parsed.finding(
                    "duplicate_across_files",
                    row,
                    parsed.spec.unique.columns[0],
                    other_unit=other.unit or "未知单位",
                    other_file=other.path.name,
                    other_place=other.parsed.place(other_row) if other.parsed else f"第 {other_row} 行",
                    **wording(parsed.spec),
                )
            )


def _repeated_keys(files: list[tuple[int, list[tuple[int, str]]]]) -> dict[str, list[tuple[int, int]]]:
    """Each key found more than once among `files` (position, its keys), with its places in the order of `files`,
    the keys in the order of their second sighting. Which keys repeat is found in one vectorised pass (a late
    file's run looks at every kept file's keys: W10, 1 M of them), and only those are walked here."""
    values = [value for _, keys in files for _, value in keys]
    repeated = np.flatnonzero(pd.Series(values, dtype=object).duplicated(keep=False).to_numpy())
    starts = np.cumsum([0] + [len(keys) for _, keys in files])
    places: dict[str, list[tuple[int, int]]] = {}
    second: dict[str, int] = {}  # key → where it was seen the second time
    for index in repeated.tolist():
        file = int(np.searchsorted(starts, index, side="right")) - 1
        at, keys = files[file]
        row, value = keys[index - int(starts[file])]
        found = places.setdefault(value, [])
        found.append((at, row))
        if len(found) == 2:
            second[value] = index
    return {value: places[value] for value in sorted(second, key=second.__getitem__)}


def _words(kind: str, rule: Reconcile) -> dict[str, str]:
    """The Reconciliation fields naming the two forms, from the rule (by default the forms' kinds)."""
    return {"other_kind": rule.other_kind, "ours": rule.ours or kind, "theirs": rule.theirs or rule.other_kind}


def reconcile_forms(results: Sequence[FileResult]) -> list[Reconciliation]:
    """Check each form's declared figures against the same unit's current file of the other form (settled before:
    the other form has no reconciliation of its own). Every version is checked, not only the newest: if the newest
    is rejected here, the older one that becomes current has been checked too."""
    current = {(r.kind, unit_key(r.unit)): r for r in results if r.current and r.unit}
    rows = []
    for result in results:
        parsed = result.parsed
        if parsed is None or result.unit is None:
            continue
        unit = unit_key(result.unit)
        for rule in parsed.spec.reconcile:
            if not parsed.has_column(rule.column):
                continue
            stated = decimal_sum(parsed.frame[rule.column])
            other = current.get((rule.other_kind, unit))
            if other is None or other.parsed is None:
                rows.append(_unmatched(result, parsed, rule, stated, results))
                continue
            figure = _figure(other.parsed, rule)
            rows.append(
                Reconciliation(
                    parsed.spec.kind,
                    result.unit,
                    rule.label,
                    stated,
                    figure,
                    "一致" if stated == figure else "不一致",
                    result.path.name,
                    is_count=rule.other_column is None,
                    **_words(parsed.spec.kind, rule),
                )
            )
            if stated != figure:
                result.findings.append(
                    parsed.finding(
                        rule.mismatch_code,
                        _figure_row(parsed),
                        rule.column,
                        value=format_figure(stated),
                        other_kind=rule.other_kind,
                        other_file=other.path.name,
                        other=format_figure(figure),
                        difference=format_figure(stated - figure),
                    )
                )
    return rows + _only_other_form(results, current)


def _figure(parsed: ParsedSheet, rule: Reconcile) -> Decimal:
    frame = parsed.frame
    return Decimal(len(frame)) if rule.other_column is None else decimal_sum(frame[rule.other_column])


def _only_other_form(
    results: Sequence[FileResult], current: dict[tuple[str | None, str], FileResult]
) -> list[Reconciliation]:
    """Units whose other form is counted but which sent none of the stating form: their figures are in the other
    form's roll-up only, and the reconciliation says so."""
    rules = {r.parsed.spec.kind: r.parsed.spec.reconcile for r in results if r.parsed and r.parsed.spec.reconcile}
    stating = {(r.kind, unit_key(r.unit)) for r in results if r.unit and r.kind in rules}
    rows = []
    for kind, kind_rules in rules.items():
        for (other_kind, unit), other in current.items():
            for rule in kind_rules:
                if other_kind == rule.other_kind and (kind, unit) not in stating and other.parsed is not None:
                    figure = _figure(other.parsed, rule)
                    rows.append(
                        Reconciliation(
                            kind,
                            other.unit or "",
                            rule.label,
                            None,
                            figure,
                            f"未收到{kind}",
                            other.path.name,
                            is_count=rule.other_column is None,
                            **_words(kind, rule),
                        )
                    )
    return rows


def _unmatched(
    result: FileResult,
    parsed: ParsedSheet,
    rule: Reconcile,
    stated: Decimal,
    results: Sequence[FileResult],
) -> Reconciliation:
    """No current file of the other form: rejected (a warning on this file, once) or never sent."""
    unit = result.unit or ""
    rejected = [r for r in results if r.kind == rule.other_kind and unit_key(r.unit or "") == unit_key(unit)]
    if rejected and not any(f.code == rule.rejected_code for f in result.findings):
        result.findings.append(
            make_finding(
                rule.rejected_code,
                parsed.file,
                codes=parsed.spec.codes,
                sheet=parsed.sheet_name,
                other_kind=rule.other_kind,
                other_file=rejected[-1].path.name,
            )
        )
    words = _words(parsed.spec.kind, rule)
    status = rejected_status(words["theirs"]) if rejected else missing_status(words["theirs"])
    return Reconciliation(
        parsed.spec.kind,
        unit,
        rule.label,
        stated,
        None,
        status,
        result.path.name,
        is_count=rule.other_column is None,
        **words,
    )


def counted_reconciliations(rows: Sequence[Reconciliation], results: Sequence[FileResult]) -> list[Reconciliation]:
    """Once versions are final: the rows of each unit's counted file, or, for a unit none of whose files is counted,
    those of its newest file, marked not counted (the roll-up leaves the unit out and the sheet says so)."""
    by_name = {result.path.name: result for result in results}
    files: dict[tuple[str, str], dict[str, FileResult]] = defaultdict(dict)  # by file name, as rows name files
    for row in rows:
        result = by_name.get(row.file)
        if result is not None:
            files[(row.kind, unit_key(row.unit))][row.file] = result
    shown: dict[tuple[str, str], FileResult] = {}
    for key, versions in files.items():
        counted = [result for result in versions.values() if result.current]
        shown[key] = counted[0] if counted else max(versions.values(), key=arrival_order)
    return [
        dataclasses.replace(row, counted=row.stated is not None and by_name[row.file].current)
        for row in rows
        if row.file in by_name and shown.get((row.kind, unit_key(row.unit))) is by_name[row.file]
    ]


def _figure_row(parsed: ParsedSheet) -> int:
    """Where a unit's figure stands: its 合计 row if it typed one, else its first row."""
    grand = [total.row for total in parsed.totals if total.label == "合计"]
    return grand[-1] if grand else int(parsed.frame.index[0])


def late_files(results: Sequence[FileResult], policy: Any) -> None:
    """A form with a closing time (报名截止) rejects files that arrived after it: the email's date, or when the
    file reached the inbox."""
    for result in results:
        spec = result.parsed.spec if result.parsed else None
        closes = spec.closes_at(policy.for_form(spec.kind)) if spec and spec.closes_at else None
        if closes is not None and result.arrived > closes:
            result.findings.insert(
                0,
                make_finding(
                    "late_submission",
                    str(result.path),
                    value=f"{result.arrived:%Y-%m-%d %H:%M}",
                    deadline=f"{closes:%Y-%m-%d %H:%M}",
                ),
            )


def cross_form_findings(results: Sequence[FileResult], policy: Any) -> None:
    """Each form's batch rules, given the current (accepted, newest) sheets of every form in the batch."""
    current: dict[str, list[ParsedSheet]] = defaultdict(list)
    for result in results:
        if result.current and result.parsed is not None and result.kind:
            current[result.kind].append(result.parsed)
    for result in results:
        parsed = result.parsed
        if parsed is None or not parsed.spec.batch_rules:
            continue  # every version, not only the newest: one that becomes current has been checked
        for rule in parsed.spec.batch_rules:
            result.findings += rule(parsed, policy.for_form(parsed.spec.kind), current)
        result.findings.sort(key=reading_order)
