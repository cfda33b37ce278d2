"""Turn a located sheet into clean values: the rows as units really fill them.

Skips blank rows, reads 合计/小计 rows as totals to check, stops at the footer, takes 填报单位 from
the header block, and normalises values (full-width characters, `800元`, `1,000.00`, numbers stored
as text). A value that cannot be normalised becomes `Invalid(code)` for the validator to report.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd

from .findings import Finding, make_finding
from .recognise import match_row
from .records import Invalid, Location, ParsedSheet, SheetData, SheetFigures, TotalRow, display
from .spec import ROW_BASE, Column, FormSpec, header_key, sheet_row

TOTAL_LABELS = ("合计", "总计", "小计")
GRAND_TOTAL_LABELS = ("合计", "总计")
FOOTER_LABELS = ("填表人", "审核人", "负责人", "制表人", "制表", "经办人", "单位盖章", "盖章", "联系电话")
# notes typed under the table (注:…, 说明:…, 备注:…) end it too; a person's name never begins so
NOTE_LABELS = ("注", "说明", "备注", "附注", "填表说明", "注意事项")


def value_key(value: Any) -> Hashable:
    """A memo's key for a cell's value: equal for two values exactly when they are the same value as written, so a
    rule's verdict on one holds for the other (1000 and 1000.00 differ as written; 1, 1.0 and True by type)."""
    kind = type(value)
    return (kind, str(value)) if kind is Decimal else (kind, value)


def parse_sheet(file: str, location: Location) -> ParsedSheet:
    return parse_sheets(file, (location,))


def parse_sheets(file: str, locations: Sequence[Location], summaries: Sequence[SheetData] = ()) -> ParsedSheet:
    """The rows of every sheet holding the form, as one submission; row numbers per ROW_BASE (sheet k, row r)."""
    spec = locations[0].spec
    parts = [_read_part(location, position * ROW_BASE) for position, location in enumerate(locations)]
    taken = [row for part in parts for row in part.taken]
    keys = {key for location in locations for key in location.columns}
    raw = {key: [cell for part in parts for cell in part.raw.get(key, [""] * len(part.taken))] for key in keys}
    share = _Sharer()
    columns = {
        column.key: share.column(column, raw[column.key]) if column.key in raw else [None] * len(taken)
        for column in spec.columns
    }
    frame = pd.DataFrame(columns, index=pd.Index(taken, dtype="int64", name="excel_row"), dtype=object)
    header = next((part.header for part in parts if part.header.get("填报单位")), parts[0].header)
    unit = _clean_text(header.get("填报单位"))
    report_date = next((part.header["填报日期"] for part in parts if part.header.get("填报日期")), None)
    totals = [total for part in parts for total in part.totals]
    parsed = ParsedSheet(file, locations[0], unit, report_date, frame, raw, totals, parts=tuple(locations))
    parsed.summaries = tuple(_figures(sheet, spec) for sheet in summaries)
    _fill_unit(parsed)
    parsed.findings.extend(_structure_findings(parsed))
    parsed.findings.extend(_unit_conflict(file, parts, locations))
    return parsed


def _unit_conflict(file: str, parts: list[_Part], locations: Sequence[Location]) -> list[Finding]:
    """Sheets naming different 填报单位 (a county's workbook of its 镇): whose submission it is cannot be told."""
    stated: dict[str, str] = {}  # unit as compared → its first sheet
    for part, location in zip(parts, locations, strict=True):
        unit = _clean_text(part.header.get("填报单位"))
        if unit is not None:
            stated.setdefault(header_key(unit), f"工作表“{location.sheet.name}”为“{unit}”")
    if len(stated) < 2:
        return []
    return [make_finding("unit_conflict", file, units=",".join(stated.values()))]


@dataclass
class _Part:
    taken: list[int]  # the file's row numbers of the data
    totals: list[TotalRow]
    raw: dict[str, list[Any]]
    header: dict[str, Any]


def _read_part(location: Location, offset: int) -> _Part:
    spec = location.spec
    rows = location.sheet.rows
    merged = location.sheet.merged
    content = [col for key, col in location.columns.items() if not spec.column(key).row_number]
    header_values = _header_block(rows[: location.header_row], spec.header_fields)
    taken: list[int] = []
    totals: list[TotalRow] = []
    segment: list[int] = []
    for index in range(location.first_data_row, len(rows)):
        cells = rows[index]
        if _is_footer(cells):
            break
        label = _total_label(cells)
        if label:
            values = {key: _at(cells, col) for key, col in location.columns.items()}
            row = offset + index + 1
            totals.append(TotalRow(row, label, tuple(segment) if label == "小计" else tuple(taken), values))
            segment = []
            continue
        # blank, or only a pre-filled 序号, or only what a merged cell above spreads into it
        if all(_blank(_at(cells, col)) or (index, col) in merged for col in content):
            continue
        taken.append(offset + index + 1)
        segment.append(offset + index + 1)
    data = [rows[row - offset - 1] for row in taken]
    raw = {
        key: [cells[col] if col < len(cells) else "" for cells in data] for key, col in location.columns.items()
    }  # _at, written out: a call per cell cost a tenth of the parse
    return _Part(taken, totals, raw, header_values)


_COUNT_HEADERS = ("户数", "人数", "人次", "名单人数")


def _person_keys(spec: FormSpec) -> tuple[str, ...]:
    """The columns whose being filled in makes a row a person's (or a subject's), not a labelled figure."""
    return tuple(key for key in (spec.key_column, spec.person.name if spec.person else None) if key)


def _figures(sheet: SheetData, spec: FormSpec) -> SheetFigures:
    """The rows of a 汇总 sheet under its header: each row's label (its first text) and the form's totals it
    states (the form's total columns, and a 户数 / 人数 column as the row count under the key `rows`)."""
    best: tuple[int, dict[str, int], list[int]] = (-1, {}, [])
    for index, cells in enumerate(sheet.rows[:30]):
        matched = match_row(cells, spec)
        columns = {key: col for key, col in matched.items() if key in spec.total_columns}
        count = next(
            (col for col, cell in enumerate(cells) if isinstance(cell, str) and header_key(cell) in _COUNT_HEADERS),
            None,
        )
        if count is not None:
            columns["rows"] = count
        if len(columns) > len(best[1]):
            best = (index, columns, [matched[key] for key in _person_keys(spec) if key in matched])
    header_row, columns, person_columns = best
    rows = []
    for index in range(header_row + 1, len(sheet.rows) if columns else 0):
        cells = sheet.rows[index]
        # a 总表 of people: a person's row is one of the rows it adds up, whatever its 部门 column says
        is_person = any(not _blank(_at(cells, col)) for col in person_columns) and not _total_label(cells)
        label = "" if is_person else next((str(cell) for cell in cells if isinstance(cell, str) and cell.strip()), "")
        values = {key: (col, _at(cells, col)) for key, col in columns.items() if not _blank(_at(cells, col))}
        if values:
            rows.append((index + 1, label, values))
    return SheetFigures(sheet.name, tuple(rows))


class _Sharer:
    """One object per distinct text or amount of a sheet (its unit, 深度困难, 1000.00 repeat on every row), so a
    batch of 100,000 rows holds far fewer objects; pickling keeps the sharing when a worker returns the sheet.
    A value met again in the same column is normalised once."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}
        self.amounts: dict[str, Decimal] = {}  # by text: 1000 and 1000.00 are equal, not the same as written

    def column(self, column: Column, cells: list[Any]) -> list[Any]:
        """A column's cells normalised, a column at a time (a call per cell cost a third of a file's checks)."""
        done = _Normalised(self, column)
        # only text and float cells are looked up: 1 == 1.0 == True, yet they normalise differently
        return [done[cell] if type(cell) in _LOOKED_UP else self(normalise(column, cell)) for cell in cells]

    def __call__(self, value: Any) -> Any:
        kind = type(value)
        if kind is str:
            return self.texts.setdefault(value, value)
        if kind is Decimal:
            return self.amounts.setdefault(str(value), value)
        return value


_LOOKED_UP = (str, float)


class _Normalised(dict[Any, Any]):
    """Cell value → its normalised value in one column, each distinct value normalised once."""

    def __init__(self, share: _Sharer, column: Column) -> None:
        super().__init__()
        self.share, self.spec_column = share, column

    def __missing__(self, cell: Any) -> Any:
        value = self[cell] = self.share(normalise(self.spec_column, cell))
        return value


_GENERIC_SHEET = re.compile(r"^(sheet|工作表|表|页|sheet_)\s*\d*$", re.IGNORECASE)


def _fill_unit(parsed: ParsedSheet) -> None:
    """The file's unit from its header block, else the commonest 工作单位 / 部门; a row that leaves the column
    blank takes its sheet's name in a file of several sheets (one per 部门), else the file's unit."""
    column = parsed.spec.unit_column
    if column is None:
        return
    named = [value for value in parsed.frame[column] if isinstance(value, str)] if len(parsed.frame) else []
    if parsed.unit is None and named:
        parsed.unit = Counter(named).most_common(1)[0][0]
    if not len(parsed.frame):
        return
    by_sheet = [_sheet_unit(location.sheet.name, parsed) for location in parsed.locations]
    if len(by_sheet) == 1 or not any(by_sheet):
        if parsed.unit is not None:
            parsed.frame[column] = [value or parsed.unit for value in parsed.frame[column]]
        return
    rows = parsed.frame.index.tolist()
    parsed.frame[column] = [
        value or by_sheet[sheet_row(row)[0]] or parsed.unit
        for row, value in zip(rows, parsed.frame[column], strict=True)
    ]


# a year or month before or after the name, a note in brackets after it (终稿), separators
_SHEET_NOISE = re.compile(
    r"^(?:\d{4}\s*年度?|\d{1,2}\s*月份?|[\s\-_—])+|(?:\d{4}\s*年度?|[(（][^()（）]*[)）]|[\s\-_—])+$"
)
_FORM_WORDS = ("名单", "报名表", "报名", "统计表", "统计", "明细表", "明细", "花名册", "表", "趣味", "教职工", "职工")


def _sheet_unit(name: str, parsed: ParsedSheet) -> str | None:
    """A sheet's name as a 部门 / 工作单位, without the words naming the form (办公室名单, 数学系报名表 → 办公室,
    数学系); None for a default name (Sheet1) or a name that is only the form's (慰问名单, 2026年报名表)."""
    name = _clean_text(name) or ""
    if _GENERIC_SHEET.match(name):
        return None
    words = sorted({*parsed.spec.title_keywords, parsed.spec.kind, *_FORM_WORDS}, key=len, reverse=True)
    stripped = None
    while stripped != name:  # one word at a time, the longest first: 教职工报名表 → 教职工 → ""
        stripped = name = _SHEET_NOISE.sub("", name)
        name = next((name.removesuffix(word) for word in words if name.endswith(word)), name)
    return name or None


def _structure_findings(parsed: ParsedSheet) -> list[Finding]:
    findings = [
        make_finding("column_missing", parsed.file, sheet=location.sheet.name, field=column.header)
        for location in parsed.locations
        for column in parsed.spec.columns
        if column.required and column.key not in location.columns
    ]
    if parsed.unit is None:
        findings.append(make_finding("unit_missing", parsed.file, sheet=parsed.sheet_name))
    if parsed.frame.empty:
        findings.append(make_finding("no_rows", parsed.file, sheet=parsed.sheet_name))
    read_rows = set(parsed.frame.index) | {total.row for total in parsed.totals}
    for position, location in enumerate(parsed.locations):
        sheet = location.sheet
        if sheet.uncalculated:
            findings.append(
                make_finding(
                    "formulas_not_calculated",
                    parsed.file,
                    sheet=sheet.name,
                    value=sheet.uncalculated[0],
                    count=len(sheet.uncalculated),
                )
            )
        first_column = min(location.columns, key=location.columns.__getitem__)
        hidden = {position * ROW_BASE + row for row in sheet.hidden_rows} & read_rows
        findings += [parsed.finding("hidden_rows", row, first_column, line=row % ROW_BASE) for row in sorted(hidden)]
    version = parsed.location.stored_version
    if version is not None and version != parsed.spec.version:
        findings.append(
            make_finding(
                "old_template", parsed.file, sheet=parsed.sheet_name, value=version, current=parsed.spec.version
            )
        )
    return findings


def _at(cells: list[Any], index: int) -> Any:
    return cells[index] if index < len(cells) else ""


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_FOOTER_KEYS = tuple(header_key(label) for label in FOOTER_LABELS)
_NOTE = re.compile(rf"^\s*(?:{'|'.join(NOTE_LABELS)})\s*(?:[:：]|\d|[(（]?[一1][)）.、])")


def _is_footer(cells: list[Any]) -> bool:
    first = next((cell for cell in cells if not _blank(cell)), None)
    # a footer's label is a text (填表人:…): a row led by a number or a date (its 序号) is not normalised to tell
    labelled = type(first) is str and header_key(first).startswith(_FOOTER_KEYS)
    return labelled or bool(_NOTE.match(_first_raw_text(cells)))


def _first_raw_text(cells: list[Any]) -> str:
    return next((cell for cell in cells if isinstance(cell, str) and cell.strip()), "")


def _total_label(cells: list[Any]) -> str | None:
    for cell in cells[:4]:
        if not isinstance(cell, str) or "计" not in cell:  # every label ends in 计; most rows have none
            continue
        text = header_key(cell)
        for label in TOTAL_LABELS:
            if text.startswith(label):
                return "合计" if label in GRAND_TOTAL_LABELS else label
    return None


_PARENTHESIS = re.compile(r"^\([^)]*\)")


def _header_block(rows: list[list[Any]], fields: tuple[str, ...]) -> dict[str, Any]:
    """Values like 填报单位:XX工会 above the table, in the same cell or the next filled one."""
    found: dict[str, Any] = {}
    for cells in rows:
        for index, cell in enumerate(cells):
            if not isinstance(cell, str):
                continue
            text = header_key(cell)
            for name in fields:
                if name in found or not text.startswith(name):
                    continue
                rest = _PARENTHESIS.sub("", text[len(name) :])
                if rest:
                    found[name] = rest
                else:
                    following = [value for value in cells[index + 1 :] if not _blank(value)]
                    if following and not _is_label(following[0], fields):
                        found[name] = following[0]
    return found


def _is_label(value: Any, fields: tuple[str, ...]) -> bool:
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return text.endswith(":") or any(header_key(text).startswith(name) for name in fields)


# ---- values -------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+?\d+$")
_NUMBER_NOISE = re.compile(r"[,\s元¥￥]|RMB|人民币|[人口户]$")


def normalise(column: Column, value: Any) -> Any:
    """Clean value for `column`, None when blank, Invalid(code) when it cannot be read."""
    if _blank(value):
        return None
    match column.kind:
        case "money" | "int":
            return parse_number(value)
        case "id":
            return _normalise_id(value)
        case "phone":
            return _normalise_phone(value)
        case "mark":
            return _normalise_mark(value)
        case "name" | "choice":
            return (_clean_text(value) or "").replace(" ", "")  # the only space _clean_text leaves is " "
        case _:
            return _clean_text(value)


def parse_number(value: Any) -> Decimal | Invalid:
    if isinstance(value, bool):
        return Invalid("not_a_number")
    if isinstance(value, int | float):
        return Decimal(f"{value:.15g}")
    text = _NUMBER_NOISE.sub("", unicodedata.normalize("NFKC", str(value)).upper())
    if not _NUMBER.match(text):
        return Invalid("not_a_number")
    try:
        return Decimal(text)
    except InvalidOperation:
        return Invalid("not_a_number")


TICKS = frozenset({"√", "✓", "✔", "☑", "✅", "V", "Y", "YES", "1", "是", "报", "报名", "参加", "○", "●"})
NOT_TICKED = frozenset({"×", "✗", "✘", "X", "N", "NO", "0", "否", "不", "不参加", "-", "/", "无"})


def _normalise_mark(value: Any) -> str | Invalid | None:
    """A √ box as units tick it (√, ✓, 1, 是, V…): "√" when ticked, None when not, Invalid when unclear."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = f"{value:g}"
    text = _SPACES.sub("", unicodedata.normalize("NFKC", str(value))).upper()
    if text in TICKS:
        return "√"
    return None if text in NOT_TICKED else Invalid("invalid_mark")


def _normalise_id(value: Any) -> str | Invalid:
    """An ID as typed: invisible characters, spaces, a leading apostrophe dropped; × and x read as X. A 15-digit
    first-generation ID stored as a number is kept whole (Excel holds 15 digits exactly); a longer one is lost."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _id_from_number(value)
    if type(value) is str and value.isascii() and value.isalnum():  # most IDs: nothing below would change
        text = value.upper()
    else:
        text = _SPACES.sub("", visible(unicodedata.normalize("NFKC", str(value)))).upper().lstrip(_QUOTES)
        text = text.replace("×", "X")
    return Invalid("id_as_number") if _SCIENTIFIC.match(text) else text


_QUOTES = "'’‘`"


def _id_from_number(value: float) -> str | Invalid:
    if float(value).is_integer() and 10**14 <= value < 10**15:
        return str(int(value))
    return Invalid("id_as_number")


def visible(text: str) -> str:
    """`text` without the invisible format characters (Unicode category Cf) pasted from WeChat or web pages:
    zero-width spaces, byte-order marks, direction marks, soft hyphens."""
    if text.isascii():
        return text
    return "".join(char for char in text if unicodedata.category(char) != "Cf")


_PHONE_NOISE = re.compile(r"[\s()\-.]")
_EXTENSION = re.compile(r"^(.*\d)(?:-|转|分机|EXT\.?|#)(\d{1,6})$")
_COUNTRY = re.compile(r"^(?:\+|00)?86(?=1\d{10}$|0?[2-9]\d{8,10}$)")


def _normalise_phone(value: Any) -> str:
    """A phone as written (138 1234 5678, 172-5817-4798, +86 138…, (0591)87654321) in the form outputs show:
    13812345678, 0591-87654321, 0591-87654321-8001; the text without spaces when it is no phone number."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if len(text) == 11 and text.isascii() and text.isdigit() and _phone_pattern("mobile").fullmatch(text):
        return text  # most cells: a mobile as it should be written
    text = _SPACES.sub("", visible(unicodedata.normalize("NFKC", text))).upper()
    text = re.sub("[—–―‐‑]", "-", text).replace("（", "(").replace("）", ")")
    return canonical_phone(text) or text


def canonical_phone(text: str) -> str | None:
    """13812345678 / 0591-87654321 / 0591-87654321-8001 for a mobile or a landline with its area code, by
    python-phonenumbers' metadata for China; None for anything else."""
    if len(text) == 11 and text.isascii() and text.isdigit() and _phone_pattern("mobile").fullmatch(text):
        return text
    number = _phone_number(text)
    if number is not None:
        return number
    extension = _EXTENSION.match(text)
    if extension:
        number = _phone_number(extension[1])
        if number is not None and "-" in number:  # only a landline has an extension
            return f"{number}-{extension[2]}"
    return None


def _phone_number(text: str) -> str | None:
    written = _PHONE_NOISE.sub("", text.lstrip(_QUOTES))
    digits = _COUNTRY.sub("", written)
    if not digits.isdigit() or not digits.isascii():
        return None
    if digits.startswith("1") and _phone_pattern("mobile").fullmatch(digits):
        return digits
    if digits != written and not digits.startswith("0"):
        digits = "0" + digits  # +86 591 8765 4321: the area code without its trunk 0
    if digits.startswith("0") and _phone_pattern("fixed_line").fullmatch(digits[1:]):
        area = _area_code_length(digits)
        return f"{digits[: area + 1]}-{digits[area + 1 :]}"
    return None


@functools.cache
def _phone_pattern(kind: str) -> re.Pattern[str]:
    from phonenumbers import PhoneMetadata  # its metadata loads only when a phone is checked

    metadata = PhoneMetadata.metadata_for_region("CN")
    return re.compile(getattr(metadata, kind).national_number_pattern)


def _area_code_length(digits: str) -> int:
    import phonenumbers

    return phonenumbers.length_of_geographical_area_code(phonenumbers.parse(digits, "CN"))


def _clean_text(value: Any) -> str | None:
    if _blank(value):
        return None
    if isinstance(value, dt.date | dt.datetime | float | int):
        return display(value)
    text = unicodedata.normalize("NFKC", str(value))
    # printable: no whitespace but " " (isprintable refuses the others); with no run of it and none at either end,
    # the collapse below would leave the text as it is (most cells)
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return collapsed_spaces(text)


def collapsed_spaces(text: str) -> str:
    """Every run of whitespace one space; none at either end."""
    return _SPACES.sub(" ", text).strip()


_DATE = re.compile(r"^(\d{4})\D{1,2}(\d{1,2})\D{1,2}(\d{1,2})")


def parse_date(value: Any) -> dt.date | None:
    """A date as units write it: a real date cell, 2026-11-15, 2026年11月15日, 2026.11.15, 2026/11/15."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    match = _DATE.match(unicodedata.normalize("NFKC", str(value or "")).strip())
    if not match:
        return None
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None
