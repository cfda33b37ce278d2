"""Validate one parsed sheet: pandera (lazy) for every cell, then the form's row rules.

The pandera schema is derived from the spec's columns; each check is named by the finding code it
raises, and the DataFrame index is the Excel row, so a failure case maps straight to a cell.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Hashable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd
from stdnum.cn import ric

from .findings import Finding, make_finding
from .history import History
from .money import FEN
from .normalise import canonical_phone, parse_number, value_key
from .records import Invalid, ParsedSheet, column_lists, display
from .spec import Column, FormSpec, cell_ref, header_key, ordered, sheet_row

if TYPE_CHECKING:
    import pandera.pandas as pa

Predicate = Callable[[Any], bool]

_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
_FIRST_GENERATION = re.compile(r"^\d{15}$")


def validate_sheet(parsed: ParsedSheet, policy: Any) -> list[Finding]:
    """Every finding for one sheet: structure, cells, totals, duplicates and the form's rules."""
    findings = list(parsed.findings) + cell_findings(parsed)
    use_current_names(parsed)
    findings += total_findings(parsed) + summary_findings(parsed) + duplicate_findings(parsed)
    for rule in parsed.spec.row_rules:
        findings += rule(parsed, policy)
    return sorted(findings, key=reading_order)


def history_findings(parsed: ParsedSheet, policy: Any, history: History) -> list[Finding]:
    """The form's rules that look at earlier periods (the ledger); run where the ledger is open."""
    key = parsed.spec.key_column
    if parsed.spec.history_rules and key and parsed.has_column(key):
        history.prefetch(parsed.frame[key].tolist())
    return [finding for rule in parsed.spec.history_rules for finding in rule(parsed, policy, history)]


def reading_order(finding: Finding) -> tuple[int, str, int, str]:
    """File-level findings first, then sheet by sheet, top to bottom, left to right."""
    if finding.cell is None:
        return (0, "", 0, "")
    letters = finding.cell.rstrip("0123456789")
    return (1, finding.sheet or "", int(finding.cell[len(letters) :]), letters.rjust(3))


# ---- cells (pandera) ------------------------------------------------------------------------


def prepare_checks() -> None:
    """Load what the first cell check of a process would (pandera, and the backends it registers at its first
    validation, which import hypothesis where it is installed; the division list; the phone metadata): ~0.9 s."""
    import pandera.pandas as pa

    pa.DataFrameSchema({"cell": pa.Column(nullable=True)}).validate(pd.DataFrame({"cell": [None]}, dtype=object))
    known_area("110105")
    valid_phone("13800138000")


def cell_findings(parsed: ParsedSheet) -> list[Finding]:
    import pandera.pandas as pa  # here, not at the top: a run's main process never checks cells (16 MB, 0.3 s)

    present = tuple(column.key for column in parsed.spec.columns if parsed.has_column(column.key))
    try:
        pandera_schema(parsed.spec, present).validate(parsed.frame, lazy=True, inplace=True)  # coerces nothing: no copy
    except pa.errors.SchemaErrors as errors:
        checked = {key for key, _, _ in _cell_rules(parsed.spec, present)}
        return [
            _cell_finding(parsed, code, int(case.index), str(case.column))
            for case in errors.failure_cases.itertuples()
            if case.index is not None and case.column in checked
            for code in failed_codes(parsed.spec.column(str(case.column)), parsed.frame.at[case.index, case.column])
        ]
    return []


@functools.cache
def pandera_schema(spec: FormSpec, present: tuple[str, ...]) -> pa.DataFrameSchema:
    """The form's pandera schema for the columns a file has; built once per form and column set.

    One check over the frame, every cell rule of every column at once: which rows hold a cell that fails (pandera
    then lists each cell of those rows). A check per column cost pandera ~0.4 ms each a file, a check per rule
    more, either more than the rules themselves. The codes of a cell that fails are found by `failed_codes`."""
    import pandera.pandas as pa

    rows_hold = functools.partial(_rows_hold, _cell_rules(spec, present))
    return pa.DataFrameSchema(checks=[pa.Check(rows_hold, name="cells", ignore_na=False)])


CellRules = tuple[tuple[str, tuple[Predicate, ...], Predicate | None], ...]  # (column key, predicates, shortcut)


@functools.cache
def _cell_rules(spec: FormSpec, present: tuple[str, ...]) -> CellRules:
    """The present columns that have cell rules: each one's predicates, and the shortcut that may spare them."""
    rules = []
    for key in present:
        column = spec.column(key)
        predicates = tuple(predicate for _, predicate in column_predicates(column))
        if predicates:
            rules.append((key, predicates, passes_all(column)))
    return tuple(rules)


def _rows_hold(rules: CellRules, frame: pd.DataFrame) -> pd.Series:
    """Whether every checked cell of each row passes its column's rules."""
    values = column_lists(frame)
    columns = [_all_hold(predicates, shortcut, values[key]) for key, predicates, shortcut in rules]
    holds = list(map(all, zip(*columns, strict=True))) if columns else [True] * len(frame)
    return pd.Series(holds, index=frame.index, dtype=bool)


def _all_hold(predicates: tuple[Predicate, ...], shortcut: Predicate | None, column: list[Any]) -> list[bool]:
    """Whether each value passes every predicate. A column repeats its values: each distinct one is checked once
    (texts are their own memo key: no other key equals a text). A value `shortcut` accepts passes them all."""
    verdicts: dict[Hashable, bool] = {}
    holds = []
    for value in column:
        key = value if type(value) is str else value_key(value)
        verdict = verdicts.get(key)
        if verdict is None:
            # every predicate is asked (no short cut through all()): birth_date notes a date after today
            verdict = verdicts[key] = bool(shortcut and shortcut(value)) or all([rule(value) for rule in predicates])
        holds.append(verdict)
    return holds


def passes_all(column: Column) -> Predicate | None:
    """A cheaper test that implies every one of `column_predicates(column)` holds, where there is one: a valid ID
    from a known area passes each ID rule (which would each read its digits again). None: ask every rule."""
    if column.kind == "id":
        return lambda value: valid_id(value) and known_area(value[:6])
    return None


def failed_codes(column: Column, value: Any) -> list[str]:
    """The finding codes of one cell's value, in the order a sender should fix them."""
    return [code for code, predicate in column_predicates(column) if not predicate(value)]


def column_predicates(column: Column) -> list[tuple[str, Predicate]]:
    """(finding code, value is acceptable) pairs in the order a sender should fix them."""
    rules: list[tuple[str, Predicate]] = []
    if column.required:
        rules.append(("required_missing", lambda value: value is not None))
    if column.kind in ("money", "int"):
        rules.append(("not_a_number", _not_invalid("not_a_number")))
        rules.append(("negative_value", lambda value: not _decimal(value) or value >= 0))
    if column.kind == "int":
        rules.append(("not_integer", lambda value: not _decimal(value) or value == value.to_integral_value()))
    if column.kind == "money":
        rules.append(("money_precision", lambda value: not _decimal(value) or value == value.quantize(FEN)))
    if column.minimum is not None:
        minimum = column.minimum
        rules.append(("below_minimum", lambda value: not _decimal(value) or value < 0 or value >= minimum))
    if column.kind == "choice":
        allowed = set(column.choices) | set(column.legacy_map)
        rules.append(("invalid_choice", lambda value: value is None or value in allowed))
        legacy = column.legacy_map
        rules.append(("legacy_choice", lambda value: value not in legacy))
    if column.kind == "id":
        rules += [
            ("id_as_number", _not_invalid("id_as_number")),
            ("id_first_generation", lambda value: first_generation_upgrade(value) is None),
            (
                "id_format",
                lambda value: (
                    not isinstance(value, str) or _id_shaped(value) or first_generation_upgrade(value) is not None
                ),
            ),
            ("id_birthdate", lambda value: not _id_shaped(value) or birth_date(value) is not None),
            ("id_checksum", lambda value: not _id_dated(value) or ric.calc_check_digit(value) == value[-1]),
            ("id_area_unknown", lambda value: not valid_id(value) or known_area(value[:6])),
        ]
    if column.kind == "mark":
        rules.append(("invalid_mark", _not_invalid("invalid_mark")))
    if column.kind == "phone":
        rules.append(("phone_invalid", lambda value: value is None or valid_phone(value)))
    return rules


def _not_invalid(code: str) -> Predicate:
    invalid = Invalid(code)
    return lambda value: value != invalid


def use_current_names(parsed: ParsedSheet) -> None:
    """Replace old choice names (特困 → 深度困难) once they have been reported, so rules and sums see one name."""
    for column in parsed.spec.columns:
        if column.legacy and len(parsed.frame):
            legacy = column.legacy_map
            if legacy.keys().isdisjoint(parsed.frame[column.key].tolist()):
                continue  # no old name in the column (most files)
            parsed.frame[column.key] = parsed.frame[column.key].map(lambda value, old=legacy: old.get(value, value))


def _cell_finding(parsed: ParsedSheet, code: str, row: int, key: str) -> Finding:
    column = parsed.spec.column(key)
    value = parsed.frame.at[row, key]
    params: dict[str, Any] = {}
    if code in ("invalid_choice", "legacy_choice"):
        params["choices"] = ordered(column.choices)
        params["mapped"] = column.legacy_map.get(value, "")
    elif code == "below_minimum":
        params["minimum"] = column.minimum
    elif code == "id_birthdate":
        params["birth"] = f"{value[6:10]}年{value[10:12]}月{value[12:14]}日"
    elif code == "id_first_generation":
        params["upgraded"] = first_generation_upgrade(value)
    elif code == "id_area_unknown":
        params["area"] = value[:6]
    return parsed.finding(code, row, key, **params)


def _decimal(value: Any) -> bool:
    return isinstance(value, Decimal)


_EARLIEST = dt.date(1900, 1, 1)
_LOADED_ON = dt.date.today()  # never after today (the day goes on)


_AFTER_TODAY: set[dt.date] = set()  # birth dates met after today since take_dates_after_today() (see checkcache)


def birth_date(id_number: str) -> dt.date | None:
    """Digits 7–14 of an 18-character ID as a date between 1900 and today (GB 11643), else None."""
    try:
        born = dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:  # an impossible date such as 1993-13-32
        return None
    # today's date (`watch` runs past midnight), asked only of a date after the day this module was loaded on:
    # asking the clock cost more than the rest of the check of an ID
    if born > _LOADED_ON and born > dt.date.today():
        _AFTER_TODAY.add(born)
        return None
    return born if born >= _EARLIEST else None


def take_dates_after_today() -> set[dt.date]:
    """The birth dates after today met since the last call: a check that met one reads differently on that day."""
    met = set(_AFTER_TODAY)
    _AFTER_TODAY.clear()
    return met


def _upgraded_body(first_generation: str) -> str:
    """A 15-digit first-generation ID's 17 digits in the 18-digit layout (GB 11643): area, 19yymmdd, sequence."""
    return f"{first_generation[:6]}19{first_generation[6:]}"


def first_generation_upgrade(value: Any) -> str | None:
    """The 18-digit number a 15-digit first-generation ID converts to (area + 19 + yymmdd + sequence + check
    digit), for the sender to confirm; None when `value` is not a 15-digit ID with a real birth date."""
    if not isinstance(value, str) or not _FIRST_GENERATION.match(value):
        return None
    body = _upgraded_body(value)
    if birth_date(body) is None:
        return None
    return body + ric.calc_check_digit(body + "0")


# 港澳台居民居住证 (810000 / 820000 / 830000) and the 2023 foreigners' permanent residence ID (9…) use
# numbers no division list holds
_AREAS_WITHOUT_DIVISION = ("81", "82", "83", "9")


@functools.lru_cache(maxsize=4096)
def known_area(area: str) -> bool:
    """The first 6 digits of an ID are a division code in python-stdnum's list (including abolished ones:
    a number keeps the code it was issued under)."""
    if area.startswith(_AREAS_WITHOUT_DIVISION):
        return True
    from stdnum import numdb

    return any("county" in properties for _, properties in numdb.get("cn/loc").info(area))


def _id_shaped(value: Any) -> bool:
    return isinstance(value, str) and bool(_ID_SHAPE.match(value))


def _id_dated(value: Any) -> bool:
    return _id_shaped(value) and birth_date(value) is not None


@functools.lru_cache(maxsize=4096)  # a file's rules ask about each of its IDs more than once
def valid_id(value: Any) -> bool:
    return _id_dated(value) and ric.calc_check_digit(value) == value[-1]


def id_gender(id_number: str) -> str:
    """身份证号 17th digit: odd for men, even for women."""
    return "男" if int(id_number[16]) % 2 else "女"


def gender_matches_id(sheet: ParsedSheet, _policy: Any) -> list[Finding]:
    """A row rule for any form whose `person` names a gender and an ID column: 性别 must agree with the ID."""
    person = sheet.spec.person
    if person is None or person.gender is None or person.id_number is None:
        raise ValueError(f"form {sheet.spec.kind}: gender_matches_id needs the spec's person gender and id_number")
    findings = []
    frame = sheet.frame
    rows = zip(frame.index, frame[person.gender].tolist(), frame[person.id_number].tolist(), strict=True)
    for row, gender, id_number in rows:
        if gender in ("男", "女") and valid_id(id_number) and gender != id_gender(id_number):
            findings.append(sheet.finding("gender_mismatch", int(row), person.gender, expected=id_gender(id_number)))
    return findings


def valid_phone(value: str) -> bool:
    """A mobile, or a landline with its area code, by python-phonenumbers' metadata for China."""
    return canonical_phone(value) is not None


# ---- across rows ----------------------------------------------------------------------------


def duplicate_findings(parsed: ParsedSheet) -> list[Finding]:
    """The same key (the spec's `unique` columns: 身份证号) twice in one file: an error on every repeat, naming
    the first row."""
    unique = parsed.spec.unique
    if unique is None:
        return []
    first_seen: dict[str, int] = {}
    findings = []
    for row, key in unique_keys(parsed):
        first = first_seen.setdefault(key, row)
        if first != row and usable_key(parsed.spec, key):
            place = f"{'本表' if len(parsed.locations) == 1 else '本文件'}{parsed.place(first)}"
            words = wording(parsed.spec)
            findings.append(parsed.finding("duplicate_in_file", row, unique.columns[0], other_place=place, **words))
    return findings


KEY_SEPARATOR = "\x1f"  # between the parts of a key of several columns


def unique_keys(parsed: ParsedSheet) -> list[tuple[int, str]]:
    """(Excel row, key) of every row with all of the spec's `unique` columns filled in. A key is compared as is;
    whether it counts (a valid 身份证号) is `usable_key`'s to say, asked only of keys seen twice."""
    unique = parsed.spec.unique
    if unique is None or not all(parsed.has_column(key) for key in unique.columns):
        return []
    ids = [parsed.spec.column(key).kind == "id" for key in unique.columns]
    rows = parsed.frame.index.tolist()
    parts = [
        [_key_part(value, is_id) for value in parsed.frame[key].tolist()]
        for key, is_id in zip(unique.columns, ids, strict=True)
    ]
    keys = []
    for row, values in zip(rows, zip(*parts, strict=True), strict=True):
        if all(value is not None for value in values):
            keys.append((int(row), KEY_SEPARATOR.join(values)))
    return keys


def _key_part(value: Any, is_id: bool) -> str | None:
    if is_id:
        return value if isinstance(value, str) else None
    if value is None or isinstance(value, Invalid):
        return None
    text = header_key(value)
    return text or None


def usable_key(spec: FormSpec, key: str) -> bool:
    """A key counts when each of its 身份证号 parts is valid (an invalid one has its own finding already)."""
    unique = spec.unique
    if unique is None:
        return False
    parts = key.split(KEY_SEPARATOR)
    return all(
        valid_id(part) for column, part in zip(unique.columns, parts, strict=True) if spec.column(column).kind == "id"
    )


def wording(spec: FormSpec) -> dict[str, str]:
    """The duplicate messages' words: what the key is (身份证号) and what a row stands for (人)."""
    assert spec.unique is not None
    return {
        "key_name": "、".join(spec.column(key).header for key in spec.unique.columns),
        "subject": spec.unique.subject,
    }


def total_findings(parsed: ParsedSheet) -> list[Finding]:
    """A hand-typed 合计/小计 row must equal the sum of the rows it covers."""
    findings = []
    for total in parsed.totals:
        for key in parsed.spec.total_columns:
            stated = parse_number(total.values.get(key)) if parsed.has_column(key) else None
            if not isinstance(stated, Decimal):
                continue
            computed = sum(
                (parsed.frame.at[row, key] for row in total.covers if _decimal(parsed.frame.at[row, key])), Decimal(0)
            )
            if stated != computed:
                findings.append(
                    make_finding(
                        "total_mismatch",
                        parsed.file,
                        sheet=parsed.sheet_of(total.row),
                        cell=parsed.cell(total.row, key),
                        field=parsed.spec.column(key).header,
                        value=display(total.values.get(key)),
                        computed=computed.quantize(FEN),
                        difference=(stated - computed).quantize(FEN),
                    )
                )
    return findings


def summary_findings(parsed: ParsedSheet) -> list[Finding]:
    """A 汇总 sheet's figures must equal what the sheets read add up to: a row labelled with a sheet's name that
    sheet's sums, a 合计 row (or, without one, the rows together) all of them. It is checked, never added."""
    findings = []
    for figures in parsed.summaries:
        sums = _sheet_sums(parsed)
        everything = {key: sum((sheet[key] for sheet in sums.values()), Decimal(0)) for key in _summed_keys(parsed)}
        named = {header_key(name): name for name in parsed.sheet_names}
        unlabelled: dict[str, Decimal] = {}
        last: dict[str, tuple[int, int]] = {}
        has_grand_total = False
        for row, label, values in figures.rows:
            label_key = header_key(label)
            if label_key in named:
                expected = sums[named[label_key]]
            elif label_key.startswith(("合计", "总计")):
                expected, has_grand_total = everything, True
            else:
                for key, (column, value) in values.items():
                    number = parse_number(value)
                    if isinstance(number, Decimal):
                        unlabelled[key] = unlabelled.get(key, Decimal(0)) + number
                        last[key] = (row, column)
                continue
            findings += _figure_mismatches(parsed, figures.sheet, row, values, expected)
        if (
            not has_grand_total
            and len(unlabelled)
            and not any(header_key(text) in named for _, text, _ in figures.rows)
        ):
            for key, total in unlabelled.items():
                row, column = last[key]
                values = {key: (column, total)}
                findings += _figure_mismatches(parsed, figures.sheet, row, values, everything)
    return findings


def _summed_keys(parsed: ParsedSheet) -> tuple[str, ...]:
    return (*parsed.spec.total_columns, "rows")


def _sheet_sums(parsed: ParsedSheet) -> dict[str, dict[str, Decimal]]:
    """Per sheet read: each total column's sum, and its row count under `rows`."""
    names = parsed.sheet_names
    sums = {name: dict.fromkeys(_summed_keys(parsed), Decimal(0)) for name in names}
    for row, record in parsed.records():
        sheet = sums[names[sheet_row(row)[0]]]
        sheet["rows"] += 1
        for key in parsed.spec.total_columns:
            if _decimal(record.get(key)):
                sheet[key] += record[key]
    return sums


def _figure_mismatches(
    parsed: ParsedSheet,
    sheet: str,
    row: int,
    values: dict[str, tuple[int, Any]],
    expected: dict[str, Decimal],
) -> list[Finding]:
    findings = []
    for key, (column, value) in values.items():
        stated = value if isinstance(value, Decimal) else parse_number(value)
        if not isinstance(stated, Decimal) or key not in expected or stated == expected[key]:
            continue
        exponent = Decimal(1) if key == "rows" else FEN  # a number of rows, else an amount to the fen
        findings.append(
            make_finding(
                "total_mismatch",
                parsed.file,
                sheet=sheet,
                cell=cell_ref(row, column),
                field="人数" if key == "rows" else parsed.spec.column(key).header,
                value=display(value),
                computed=expected[key].quantize(exponent),
                difference=(stated - expected[key]).quantize(exponent),
            )
        )
    return findings
