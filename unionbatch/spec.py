"""The declarative description of a form, and the loader of `schemas/`.

A form spec says everything the engine needs: columns (canonical header, synonyms, type, choices,
help text), the rules across a row, what is totalled, how the form's policy section is read and how
accepted rows are summed up. Reader, writer and CLI know nothing about any particular form.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import importlib
import pkgutil
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .findings import CODES, Code

if TYPE_CHECKING:
    import pandas as pd

    from .findings import Finding
    from .history import History
    from .records import ParsedSheet, Summary

COLUMN_KINDS = ("text", "name", "int", "money", "choice", "id", "phone", "mark")  # mark: a √ box, ticked or not

SCHEMAS_PACKAGE = "schemas"  # the forms: a package imported by name (the project root is on sys.path)


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str = "text"
    required: bool = True
    synonyms: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    legacy: tuple[tuple[str, str], ...] = ()
    minimum: Decimal | None = None
    help: str = ""
    example: str = ""
    width: int = 12
    row_number: bool = False  # the unit's own 序号: a row holding only this is blank; not carried into outputs
    in_template: bool = True  # False: read when a unit's sheet has it, but not offered in the blank template

    def __post_init__(self) -> None:
        if self.kind not in COLUMN_KINDS:
            raise ValueError(f"column {self.key}: unknown kind {self.kind!r}")

    @property
    def legacy_map(self) -> dict[str, str]:
        return dict(self.legacy)

    def header_names(self) -> set[str]:
        """Normalised header texts this column answers to, with and without a unit suffix like (元)."""
        names = {header_key(name) for name in (self.header, *self.synonyms)}
        return names | {strip_unit(name) for name in names}


@dataclass(frozen=True)
class Reconcile:
    """A figure on this form that must equal what the same unit's accepted `other_kind` adds up to:
    the sum of `other_column`, or its number of rows when `other_column` is None.

    The reconciliation speaks the form's own words: `ours` and `theirs` name the two forms in the office's
    与{theirs}核对 sheet (统计表 / 名单; by default the forms' kinds), and the findings it raises are the form's own
    codes (its spec's `codes=`): `mismatch_code` when the figures differ, filled with field, value, other_kind,
    other_file, other and difference; `rejected_code` when the unit's other form was sent back, with other_kind
    and other_file."""

    column: str
    other_kind: str
    other_column: str | None
    label: str
    mismatch_code: str
    rejected_code: str
    ours: str = ""
    theirs: str = ""


@dataclass(frozen=True)
class Unique:
    """Columns whose values together name what one row stands for (a person by 身份证号): listed once in a file,
    and by one unit only across the batch. A column of kind "id" counts only valid 身份证号 (an invalid one has
    its own finding); any other counts every filled-in value, compared without spaces and full-width folded.
    `subject` is what a row stands for in the duplicate messages (人: 此人也在…, 同一人…)."""

    columns: tuple[str, ...]
    subject: str


@dataclass(frozen=True)
class Person:
    """The columns that name a person on a form: 姓名 (a resubmission's changes name the person), and where the
    form has them 身份证号 and 性别 (`gender_matches_id` checks one against the other)."""

    name: str
    id_number: str | None = None
    gender: str | None = None


@dataclass(frozen=True)
class Reference:
    """A file the office keeps that a form's rows are checked against (the 困难职工档案), named in the policy and
    read at start-up. A form's policy object that has one exposes it as its `reference` attribute; every result
    of the form then names it (file and SHA-256), in the ledger and in report.json."""

    label: str  # what it is, in Chinese: 困难职工档案
    path: Path
    sha256: str
    entries: int  # the rows it holds that rules can use (households with a valid 身份证号)


@dataclass(frozen=True)
class FindingList:
    """A sheet of the form's consolidated workbook listing every finding of `codes` in this period's files
    (accepted or sent back), for the office: the 慰问名单's 建档核对."""

    sheet: str
    title: str
    codes: tuple[str, ...]


RowRule = Callable[["ParsedSheet", Any], "list[Finding]"]
HistoryRule = Callable[["ParsedSheet", Any, "History"], "list[Finding]"]
BatchRule = Callable[["ParsedSheet", Any, "Mapping[str, Sequence[ParsedSheet]]"], "list[Finding]"]
# (frame, policy, batch) → Summary; a spec with summary_needs_history is also given its History (earlier periods)
Summarise = Callable[..., "Summary"]
PolicyParser = Callable[[Mapping[str, Any]], Any]
Specialise = Callable[["FormSpec", Any], "FormSpec"]
ClosingTime = Callable[[Any], "dt.datetime | None"]


@dataclass(frozen=True)
class FormSpec:
    kind: str
    version: str
    title: str
    title_keywords: tuple[str, ...]
    columns: tuple[Column, ...]
    parse_policy: PolicyParser
    summarise: Summarise | None  # None: its rows are summed up by the form that shares its output workbook
    policy_section: str
    instructions: tuple[str, ...] = ()
    row_rules: tuple[RowRule, ...] = ()
    history_rules: tuple[HistoryRule, ...] = ()  # rules that look at earlier periods (the ledger)
    batch_rules: tuple[BatchRule, ...] = ()  # rules that look at other forms' accepted sheets of this batch
    unit_column: str | None = None
    key_column: str | None = None  # what names a row across periods: the ledger's person key, history rules, versions
    total_columns: tuple[str, ...] = ()
    header_fields: tuple[str, ...] = ("填报单位", "填报日期")
    min_header_matches: int = 4
    output_file: str | None = None  # the consolidated workbook's name; default 《kind》汇总.xlsx
    reconcile: tuple[Reconcile, ...] = ()
    unique: Unique | None = None  # what may be listed only once (None: no duplicate check)
    person: Person | None = None  # the columns naming a person, on a form that lists people
    identity: tuple[str, ...] = ()  # columns naming a row across two versions (default: key or unit column)
    compared: tuple[str, ...] = ()  # columns whose changes a resubmission reports (default: total_columns)
    roster_default: bool = True  # expected from a roster unit that lists no forms (not so for one activity's forms)
    specialise: Specialise | None = None  # the form as the policy configures it (columns from the activity)
    closes_at: ClosingTime | None = None  # a file arriving after this time is rejected as late
    codes: Mapping[str, Code] = dataclasses.field(default_factory=dict, hash=False, compare=False)
    finding_list: FindingList | None = None  # a sheet of the workbook listing every finding of some codes
    summary_needs_history: bool = False  # summarise(frame, policy, batch, history): earlier periods (month on month)
    summary_by_file: bool = False  # summarise is given a compute.Files (file by file, sums kept), not the frame
    # what the reply to a counted file tells its unit beyond the counts (the fee it owes): (its rows, policy) → lines
    reply_lines: Callable[[pd.DataFrame, Any], list[str]] | None = None
    # what makes a sheet this form and not any list of people: of each group, at least one column (a key ending
    # in ":" stands for every key it begins, as the sports day's event columns)
    distinctive: tuple[tuple[str, ...], ...] = ()

    def __hash__(self) -> int:
        # the dataclass's own hash walks every column and rule (~12 µs), and specs key the caches that recognising
        # and checking a file ask ~80 times; equal specs still hash equal
        return hash((self.kind, self.version, self.title, len(self.columns)))

    def column(self, key: str) -> Column:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(key)

    def is_distinctive(self, columns: Mapping[str, int]) -> bool:
        return not self.distinctive_missing(columns)

    def distinctive_groups_met(self, columns: Mapping[str, int]) -> int:
        return sum(1 for group in self.distinctive if _group_met(group, columns))

    def distinctive_missing(self, columns: Mapping[str, int]) -> tuple[str, ...]:
        """The header of each distinctive group the columns lack (its first column's, or 报名项目 for a prefix)."""
        return tuple(self._group_header(group) for group in self.distinctive if not _group_met(group, columns))

    def _group_header(self, group: tuple[str, ...]) -> str:
        return "或".join(self.column(key).header for key in group if not key.endswith(":") and self.has_key(key))

    def has_key(self, key: str) -> bool:
        return any(column.key == key for column in self.columns)

    @property
    def row_identity(self) -> tuple[str, ...]:
        if self.identity:
            return self.identity
        key = self.key_column or self.unit_column
        return (key,) if key else ()

    @property
    def output_name(self) -> str:
        return self.output_file or f"{self.kind}汇总.xlsx"

    def __reduce_ex__(self, protocol: Any) -> Any:
        if _SHARED.get(self.kind) is self:  # by name between a run's processes: 4.6 KB and 28 KB of objects a file
            return (shared_spec, (self.kind,))
        return super().__reduce_ex__(protocol)


def _group_met(group: tuple[str, ...], columns: Mapping[str, int]) -> bool:
    return any(key in columns or (key.endswith(":") and any(c.startswith(key) for c in columns)) for key in group)


_SHARED: dict[str, FormSpec] = {}


def share_specs(specs: Mapping[str, FormSpec]) -> None:
    """The specs of a run whose worker processes inherit them (forked): a result sent back names its spec."""
    _SHARED.clear()
    _SHARED.update({spec.kind: spec for spec in specs.values()})


def shared_spec(kind: str) -> FormSpec:
    return _SHARED[kind]


_UNIT_SUFFIX = re.compile(r"\((元|人|户|个|岁|周岁|元/月|元/人)\)$")
_DROP = re.compile(r"[\s*※:]")


def header_key(text: Any) -> str:
    """Normalise header text for matching: full-width → half-width, no spaces, no * markers."""
    return _DROP.sub("", unicodedata.normalize("NFKC", str(text)))


def unit_key(name: str) -> str:
    """Unit names compare without spaces and with full-width characters folded."""
    return "".join(unicodedata.normalize("NFKC", name).split())


def strip_unit(text: str) -> str:
    return _UNIT_SUFFIX.sub("", text)


def configure(specs: Mapping[str, FormSpec], form_policies: Mapping[str, Any]) -> dict[str, FormSpec]:
    """Each form as its policy section shapes it (a sports day's events become columns)."""
    return {
        kind: spec.specialise(spec, form_policies[kind]) if spec.specialise else spec for kind, spec in specs.items()
    }


@functools.cache
def load_specs(package: str = SCHEMAS_PACKAGE) -> dict[str, FormSpec]:
    """Import every module of the `schemas` package (by name) that defines SPEC (or SPECS); key the specs by form
    kind. Modules named _*.py are helpers, not forms. Importing `schemas.relief_list` yourself gives the same
    module, so the same SPEC object. The specs are checked (`check_specs`)."""
    specs: dict[str, FormSpec] = {}
    for name in _form_modules(package):
        module = importlib.import_module(f"{package}.{name}")
        for spec in getattr(module, "SPECS", (getattr(module, "SPEC", None),)):
            if isinstance(spec, FormSpec):
                specs[spec.kind] = spec
    check_specs(specs)
    return specs


def check_specs(specs: Mapping[str, FormSpec]) -> None:
    """ValueError when the specs' finding codes clash (`finding_codes`), a spec's `unique` or `person` names a
    column it does not have, or a reconciliation names a code its form does not define: a spec's mistake, found
    when the specs are loaded, not when a file needs it."""
    finding_codes(specs)
    for spec in specs.values():
        named = [
            *(spec.unique.columns if spec.unique else ()),
            *(dataclasses.astuple(spec.person) if spec.person else ()),
        ]
        for key in named:
            if key is not None and not spec.has_key(key):
                raise ValueError(f"form {spec.kind}: its unique or person column {key} is not among its columns")
        for rule in spec.reconcile:
            for code in (rule.mismatch_code, rule.rejected_code):
                if code not in spec.codes:
                    raise ValueError(f"form {spec.kind}: reconciliation code {code} is not among the form's codes")


def _form_modules(package: str) -> list[str]:
    found = importlib.import_module(package)
    return sorted(info.name for info in pkgutil.iter_modules(found.__path__) if not info.name.startswith("_"))


def finding_codes(specs: Mapping[str, FormSpec]) -> dict[str, Code]:
    """Every finding code a run can raise: the engine's general ones and each form's own, built from the specs
    (nothing global is changed). A form's code may not reuse a general code's name, nor another form's with a
    different definition (ValueError)."""
    codes = dict(CODES)
    for spec in specs.values():
        for code, definition in spec.codes.items():
            if code in CODES:
                raise ValueError(f"form {spec.kind}: finding code {code} is one of the engine's general codes")
            if codes.get(code, definition) != definition:
                raise ValueError(f"finding code {code} defined twice, differently")
            codes[code] = definition
    return codes


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


ROW_BASE = 10_000_000  # a file's rows are numbered sheet by sheet: sheet k's Excel row r is k * ROW_BASE + r


def sheet_row(row: int) -> tuple[int, int]:
    """A file's row number → (its sheet's position among the sheets read, its Excel row)."""
    return divmod(row, ROW_BASE)


def cell_ref(row_number: int, column_index: int) -> str:
    """Excel row number (1-based) and column index (0-based) → A1 reference."""
    return f"{column_letter(column_index)}{row_number}"


def ordered(values: Sequence[str]) -> str:
    return "、".join(values)
