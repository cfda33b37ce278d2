"""The declarative description of a form, and the loader of `schemas/`.

A form spec says everything the engine needs: columns (canonical header, synonyms, type, choices,
help text), the rules across a row, what is totalled, how the form's policy section is read and how
accepted rows are summed up. Reader, writer and CLI know nothing about any particular form.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import importlib.util
import re
import sys
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .findings import CODES, Code

if TYPE_CHECKING:
    import pandas as pd

    from .compute import Summary
    from .findings import Finding
    from .history import History
    from .normalise import ParsedSheet

COLUMN_KINDS = ("text", "name", "int", "money", "choice", "id", "phone", "mark")  # mark: a √ box, ticked or not

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"


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
    the sum of `other_column`, or its number of rows when `other_column` is None."""

    column: str
    other_kind: str
    other_column: str | None
    label: str


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
    key_column: str | None = None
    total_columns: tuple[str, ...] = ()
    header_fields: tuple[str, ...] = ("填报单位", "填报日期")
    min_header_matches: int = 4
    output_file: str | None = None  # the consolidated workbook's name; default 《kind》汇总.xlsx
    reconcile: tuple[Reconcile, ...] = ()
    identity: tuple[str, ...] = ()  # columns naming a row across two versions (default: key or unit column)
    compared: tuple[str, ...] = ()  # columns whose changes a resubmission reports (default: total_columns)
    roster_default: bool = True  # expected from a roster unit that lists no forms (not so for one activity's forms)
    specialise: Specialise | None = None  # the form as the policy configures it (columns from the activity)
    closes_at: ClosingTime | None = None  # a file arriving after this time is rejected as late
    codes: Mapping[str, Code] = dataclasses.field(default_factory=dict, hash=False, compare=False)
    finding_list: FindingList | None = None  # a sheet of the workbook listing every finding of some codes
    summary_needs_history: bool = False  # summarise(frame, policy, batch, history): earlier periods (month on month)
    # what the reply to a counted file tells its unit beyond the counts (the fee it owes): (its rows, policy) → lines
    reply_lines: Callable[[pd.DataFrame, Any], list[str]] | None = None
    # what makes a sheet this form and not any list of people: of each group, at least one column (a key ending
    # in ":" stands for every key it begins, as the sports day's event columns)
    distinctive: tuple[tuple[str, ...], ...] = ()

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


def strip_unit(text: str) -> str:
    return _UNIT_SUFFIX.sub("", text)


def configure(specs: Mapping[str, FormSpec], form_policies: Mapping[str, Any]) -> dict[str, FormSpec]:
    """Each form as its policy section shapes it (a sports day's events become columns)."""
    return {
        kind: spec.specialise(spec, form_policies[kind]) if spec.specialise else spec for kind, spec in specs.items()
    }


@functools.cache
def load_specs(directory: Path = SCHEMAS_DIR) -> dict[str, FormSpec]:
    """Import every `schemas/*.py` that defines SPEC (or SPECS), once per process; key the specs by form kind.
    Codes a spec brings are registered with the findings. Files named _*.py are helpers, not forms.

    Loaded once so that every spec's functions stay the module's own (worker processes pickle them by name)."""
    specs: dict[str, FormSpec] = {}
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        module_spec = importlib.util.spec_from_file_location(f"schemas.{path.stem}", path)
        assert module_spec and module_spec.loader
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_spec.name] = module  # dataclasses in the spec look their module up here
        module_spec.loader.exec_module(module)
        for spec in getattr(module, "SPECS", (getattr(module, "SPEC", None),)):
            if isinstance(spec, FormSpec):
                specs[spec.kind] = spec
                register_codes(spec.codes)
    return specs


def register_codes(codes: Mapping[str, Code]) -> None:
    for code, definition in codes.items():
        if CODES.get(code, definition) != definition:
            raise ValueError(f"finding code {code} defined twice, differently")
        CODES[code] = definition


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
