"""The plain records the stages hand each other: a workbook's sheets as read, where the form is on them, the
parsed rows, the output tables, what changed against an earlier version, a reconciliation's row, a file's result
and the run's report. Every stage imports them from here; this module imports no stage.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import os
import pickle
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from .findings import ERROR, WARNING, Finding, make_finding
from .privacy import mask_text
from .spec import FormSpec, Reference, cell_ref, sheet_row

META_SHEET = "_表单信息"  # the template's hidden sheet: its kind and version

ACCEPTED = "accepted"
ACCEPTED_WITH_WARNINGS = "accepted_with_warnings"
REJECTED = "rejected"
REPLACED = "replaced"  # a newer version of the unit's form is counted instead: this file counts nowhere


@dataclass(frozen=True)
class SheetData:
    name: str
    rows: list[list[Any]]
    hidden: bool = False
    hidden_rows: frozenset[int] = frozenset()  # Excel row numbers
    uncalculated: tuple[str, ...] = ()  # cells holding a formula with no saved value
    # a merged range's value is in every cell it spans, as a person sees it; each such cell (0-based row, column)
    # maps to the range's first cell, the one the sender can edit, and the range's A1 reference
    merged: dict[tuple[int, int], tuple[int, int, str]] = field(default_factory=dict)
    formula_refs: frozenset[str] = frozenset()  # names of other sheets its formulas refer to (.xlsx)

    @property
    def visible(self) -> bool:
        return not self.hidden

    def is_empty(self) -> bool:
        return not any(cell not in ("", None) for cells in self.rows for cell in cells)


@dataclass(frozen=True)
class Book:
    path: Path
    sheets: list[SheetData]
    meta: dict[str, str] = field(default_factory=dict)

    def form_sheets(self) -> list[SheetData]:
        """Every sheet that may hold a form: all but the template's metadata sheet."""
        return [sheet for sheet in self.sheets if sheet.name != META_SHEET]


@dataclass(frozen=True)
class Location:
    spec: FormSpec
    sheet: SheetData
    header_row: int  # 0-based index of the (last) header row
    columns: dict[str, int]  # column key → 0-based column index
    stored_version: str | None

    @property
    def first_data_row(self) -> int:
        return self.header_row + 1


@dataclass(frozen=True)
class Recognition:
    """What a workbook holds, sheet by sheet, as a person reading it would say."""

    locations: tuple[Location, ...] = ()  # the visible sheets holding the form, in workbook order: all are read
    summaries: tuple[SheetData, ...] = ()  # 汇总 sheets over them (formulas, or their rows again): checked, not added
    hidden: tuple[SheetData, ...] = ()  # hidden sheets with anything in them: never read
    hidden_form: Location | None = None  # the form, found only on a hidden sheet
    near_miss: tuple[FormSpec, tuple[str, ...]] | None = None  # the form it resembles and the columns it lacks
    earlier_years: tuple[tuple[Location, int, int], ...] = ()  # last year's list beside this year's: not read


@dataclass(frozen=True)
class Invalid:
    """A value that could not be normalised; `code` is the finding to raise for it."""

    code: str

    def __bool__(self) -> bool:
        return False


@dataclass(frozen=True)
class TotalRow:
    row: int  # Excel row number
    label: str
    covers: tuple[int, ...]  # Excel row numbers of the data rows it sums
    values: dict[str, Any]  # column key → raw value as found


_FRAME_PICKLE = "_frame_pickle"
_FRAME_ROWS = "_frame_rows"  # beside the frame's pickle: its row count, which every run reads of every file


@dataclass
class ParsedSheet:
    file: str
    location: Location
    unit: str | None
    report_date: Any  # 填报日期 as found in the header block
    frame: pd.DataFrame  # index: Excel row number; columns: column keys; normalised values
    raw: dict[str, list[Any]]  # column key → its cells as found, one per row of `frame`
    totals: list[TotalRow] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    found: dict[tuple[int, str], Any] = field(default_factory=dict)  # what `raw` leaves: see for_batch
    parts: tuple[Location, ...] = ()  # every sheet read, in workbook order (`location` is the first)
    summaries: tuple[SheetFigures, ...] = ()  # 汇总 sheets over the parts: their figures, to check
    keys: list[tuple[int, str]] | None = None  # validate.unique_keys of the checked rows (pipeline.check_file)

    # Pickled, the frame is kept as its own pickle and read back only when first used: a run loads the period's
    # kept checks (500 files: ~0.45 s of frames, their Decimals built one by one) before the batch stages that
    # decide a new file's answer, and those read the frames of few files (versions, figures across forms); the
    # rest are read when the outputs are written, after the unit's copy and reply.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if "frame" in state:
            state[_FRAME_ROWS] = len(state["frame"])
            state[_FRAME_PICKLE] = pickle.dumps(state.pop("frame"), protocol=pickle.HIGHEST_PROTOCOL)
        return state

    def __getattr__(self, name: str) -> Any:  # only for what the instance lacks: the frame not yet read back
        if name == "frame" and _FRAME_PICKLE in self.__dict__:
            self.frame = pickle.loads(self.__dict__.pop(_FRAME_PICKLE))
            self.__dict__.pop(_FRAME_ROWS, None)
            return self.frame
        raise AttributeError(name)

    @property
    def spec(self) -> FormSpec:
        return self.location.spec

    @property
    def sheet_name(self) -> str:
        return self.location.sheet.name

    @property
    def locations(self) -> tuple[Location, ...]:
        return self.parts or (self.location,)

    @property
    def sheet_names(self) -> tuple[str, ...]:
        return tuple(location.sheet.name for location in self.locations)

    def part(self, row: int) -> Location:
        return self.locations[sheet_row(row)[0]]

    def sheet_of(self, row: int) -> str:
        return self.part(row).sheet.name

    def place(self, row: int) -> str:
        """Where a row is, as the sender finds it: 第 5 行, or 工作表“财务科”第 5 行 in a file of several sheets."""
        part, excel_row = sheet_row(row)
        if len(self.locations) == 1:
            return f"第 {excel_row} 行"
        return f"工作表“{self.locations[part].sheet.name}”第 {excel_row} 行"

    def records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(Excel row, {column key: value}) for every data row; much faster than DataFrame.iterrows."""
        keys = list(self.frame.columns)
        columns = [self.frame[key].tolist() for key in keys]
        for row, values in zip(self.frame.index, zip(*columns, strict=True), strict=True):
            yield int(row), dict(zip(keys, values, strict=True))

    def rows_of(self, *keys: str) -> Iterator[tuple[Any, ...]]:
        """(Excel row, the value of each of `keys`) for every data row: `records` for the few columns a rule reads."""
        return zip(self.frame.index.tolist(), *(self.frame[key].tolist() for key in keys), strict=True)

    @property
    def row_count(self) -> int:
        kept = self.__dict__.get(_FRAME_ROWS)  # the frame not read back yet
        return kept if kept is not None else len(self.frame)

    def has_column(self, key: str) -> bool:
        return any(key in location.columns for location in self.locations)

    def cell(self, row: int, key: str) -> str | None:
        """The cell of column `key` in `row`; for a cell inside a merged range, the range's first cell."""
        location = self.part(row)
        index = location.columns.get(key)
        if index is None:
            return None
        excel_row = sheet_row(row)[1]
        origin = location.sheet.merged.get((excel_row - 1, index))
        return cell_ref(origin[0] + 1, origin[1]) if origin else cell_ref(excel_row, index)

    def merged_range(self, row: int, key: str) -> str | None:
        location = self.part(row)
        index = location.columns.get(key)
        origin = None if index is None else location.sheet.merged.get((sheet_row(row)[1] - 1, index))
        return origin[2] if origin else None

    def shown(self, row: int, key: str) -> str:
        if not self.has_column(key):
            return ""
        if key in self.raw and row in self.frame.index:
            return display(self.raw[key][self.frame.index.get_loc(row)])
        if (row, key) in self.found:
            return display(self.found[row, key])
        return display(self.frame.at[row, key]) if row in self.frame.index else ""

    def for_batch(self) -> ParsedSheet:
        """What the batch keeps of the sheet once it is parsed and checked, as a new record: the parsed rows, the
        merged cells' origins (findings made later need them), but not the sheets' grids; and of the cells as found
        only those that read differently from their parsed value (a typo, a full-width digit, a blank filled in):
        elsewhere the parsed value shows what the sender sees. A city's batch holds far less."""
        parts = tuple(replace(part, sheet=replace(part.sheet, rows=[])) for part in self.locations)
        return replace(self, location=parts[0], parts=parts, raw={}, found=self._differing_cells())

    def _differing_cells(self) -> dict[tuple[int, str], Any]:
        rows = self.frame.index.tolist()
        columns = column_lists(self.frame)
        found: dict[tuple[int, str], Any] = {}
        for key, cells in self.raw.items():
            values = columns[key]
            unlike = [
                index
                for index, (cell, value) in enumerate(zip(cells, values, strict=True))
                if cell is not value and not (type(cell) is str and cell == value)
            ]
            # a column repeats its values: each distinct (cell, value) is compared once; 1 == 1.0 == True yet
            # they read differently, hence the types
            pairs = {index: (type(cells[index]), cells[index], type(values[index]), values[index]) for index in unlike}
            misread = {pair for pair in set(pairs.values()) if display(pair[1]) != display(pair[3])}
            found.update(((rows[index], key), pair[1]) for index, pair in pairs.items() if pair in misread)
        return found

    def finding(self, code: str, row: int, key: str, **params: Any) -> Finding:
        """A finding at the cell of column `key` in Excel row `row`, with the value as found."""
        params.setdefault("value", self.shown(row, key))
        finding = make_finding(
            code,
            self.file,
            codes=self.spec.codes,
            sheet=self.sheet_of(row),
            cell=self.cell(row, key),
            field=self.spec.column(key).header,
            **params,
        )
        merged = self.merged_range(row, key)
        if merged:  # the sender edits the range's first cell, which the finding points at
            finding = replace(
                finding, problem=f"{finding.problem}(第 {sheet_row(row)[1]} 行的值来自合并单元格 {merged})"
            )
        return finding


@dataclass(frozen=True)
class SheetFigures:
    """A 汇总 sheet's figures over the sheets read: per row, its label and the totals it states."""

    sheet: str
    rows: tuple[tuple[int, str, dict[str, tuple[int, Any]]], ...]  # Excel row, label, key → (column index, value)


def column_lists(frame: pd.DataFrame) -> dict[str, list[Any]]:
    """Each column's values as a list; read in one go where every column holds objects, as a sheet's parsed rows
    do (read a column at a time, a frame costs ~7 µs a column)."""
    if frame.columns.is_unique and all(pd.api.types.is_object_dtype(dtype) for dtype in frame.dtypes):
        return dict(zip(frame.columns, frame.to_numpy(dtype=object).T.tolist(), strict=True))
    return {key: frame[key].tolist() for key in frame.columns}


def display(value: Any) -> str:
    """A cell's value as the sender sees it in Excel (General format)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e11:
            return str(int(value))
        if abs(value) >= 1e11:
            return f"{value:.5E}"
        return f"{value:.15g}"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class OutColumn:
    header: str
    kind: str = "text"  # text | money | int
    width: int = 12
    summed: bool = False  # the sheet's totals row adds this column up
    wrap: bool = False  # long texts (messages) wrap within the column's width instead of running past it

    def style(self, mark: str = "") -> str:
        """The writer's format for this column's cells (highlighted by `mark`, if any)."""
        name = f"{self.kind}:{mark}" if mark else self.kind
        return f"{name}:wrap" if self.wrap else name


@dataclass(frozen=True)
class Chart:
    title: str
    category_column: int
    value_column: int


@dataclass
class OutSheet:
    name: str
    columns: list[OutColumn]
    rows: Sequence[Sequence[Any]]
    title: str | None = None
    total_label: str | None = None  # add a totals row summing the columns marked `summed`
    notes: list[str] = field(default_factory=list)  # lines under the table
    chart: Chart | None = None
    landscape: bool = False
    tall_rows: bool = False  # room for a handwritten signature
    marks: Sequence[str] | None = None  # per row: "" or a MARKS key, the row's cells highlighted so
    leading: int | None = None  # the last column naming whose row it is: repeated on each page when printed two across
    blocks: Sequence[RowBlock] | None = None  # `rows` cut into runs the writer may keep rendered between runs
    # told which blocks the writer renders, before it renders any: their rows read at once, not block by block
    read_blocks: Callable[[Sequence[RowBlock]], None] | None = None

    def column_totals(self) -> list[Decimal | None]:
        return [
            sum((Decimal(row[index] or 0) for row in self.rows), Decimal(0)) if column.summed else None
            for index, column in enumerate(self.columns)
        ]


@dataclass(frozen=True)
class RowBlock:
    """Rows `start` … `start + size - 1` of a sheet (`rows`, iterable once), known by `key`: a digest of everything
    they show (the file they come from, its check, the policy, the processor). Equal keys at the same place are the
    same XML, so the writer may splice in what it rendered for them before."""

    key: str
    start: int
    size: int
    rows: Iterable[Sequence[Any]]


@dataclass
class Summary:
    sheets: list[OutSheet]
    totals: dict[str, Any]


@dataclass(frozen=True)
class Change:
    kind: str  # 新增 | 删除 | 修改
    subject: str  # who or what: a person's name and ID, or a unit's row
    field: str = ""
    old: str = ""
    new: str = ""


@dataclass
class Changes:
    previous_file: str
    items: list[Change] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(item.kind == kind for item in self.items)


@dataclass(frozen=True)
class MailOrigin:
    sender: str
    subject: str | None
    date: str | None
    message_id: str | None


@dataclass(frozen=True)
class Reconciliation:
    kind: str  # the form that states the figure (统计表)
    unit: str
    label: str
    stated: Decimal | None  # None: the unit sent the other form only (未收到{kind})
    other: Decimal | None  # what the unit's accepted other form adds up to; None when there is none
    status: str  # 一致 | 不一致 | {theirs}被退回 | 未收到{theirs} | 未收到{kind}
    file: str = ""  # the file that states the figure (the other form's file when the unit sent only that)
    counted: bool = True  # whether the stating file is counted (current), set once the batch has settled
    is_count: bool = False  # a number of rows (户数), not an amount
    other_kind: str = ""  # the form the figure is checked against (慰问名单)
    ours: str = ""  # the two forms as the reconciliation names them (统计表 / 名单): the spec's Reconcile says
    theirs: str = ""

    @property
    def other_rejected(self) -> bool:
        return self.status == rejected_status(self.theirs)

    @property
    def other_missing(self) -> bool:
        return self.status == missing_status(self.theirs)


def rejected_status(theirs: str) -> str:
    return f"{theirs}被退回"


def missing_status(theirs: str) -> str:
    return f"未收到{theirs}"


@dataclass
class FileResult:
    path: Path
    received: dt.datetime = dt.datetime.min  # when the run first saw it in the inbox (in place: its modification time)
    modified: dt.datetime = dt.datetime.min  # its modification time
    kind: str | None = None
    unit: str | None = None
    findings: list[Finding] = field(default_factory=list)
    parsed: ParsedSheet | None = None
    annotated: Path | None = None
    annotation_note: str | None = None  # what the annotated copy could not keep of the original, if anything
    replaced_by: str | None = None  # a newer file of the same unit and form
    changes: Changes | None = None  # what this file changed against the version it replaces
    source: Path | None = None  # where the bytes are read from, when not yet at `path` (the inbox)
    sha256: str | None = None
    origin: MailOrigin | None = None  # the email it came in, if any
    checked_against: Reference | None = None  # the office's file its rows were checked against (困难职工档案)
    reply_lines: list[str] = field(default_factory=list)  # what its form adds to the reply (the fee owed)
    check_key: str | None = None  # the check cache's entry for it this run (pipeline._record compares it)

    @property
    def arrived(self) -> dt.datetime:
        """When the file arrived: its email's Date if it came by email, else when it reached the inbox.

        The Date is taken at the sender's own clock (its UTC offset kept, not converted to the server's zone):
        units and office share a time zone, and a deadline such as 17:00 is meant on that clock."""
        if self.origin is not None and self.origin.date:
            try:
                return email.utils.parsedate_to_datetime(self.origin.date).replace(tzinfo=None)
            except (TypeError, ValueError):
                return self.received
        return self.received

    @property
    def readable(self) -> Path:
        return self.source or self.path

    @property
    def current(self) -> bool:
        """Counted in this period's totals: accepted and not replaced by a newer version."""
        return self.accepted and self.replaced_by is None

    @property
    def errors(self) -> int:
        return sum(finding.severity == ERROR for finding in self.findings)

    @property
    def warnings(self) -> int:
        return sum(finding.severity == WARNING for finding in self.findings)

    @property
    def status(self) -> str:
        if self.errors:
            return REJECTED
        return ACCEPTED_WITH_WARNINGS if self.warnings else ACCEPTED

    @property
    def accepted(self) -> bool:
        return self.status != REJECTED

    @property
    def outcome(self) -> str:
        """What became of the file, in the one vocabulary every rendering uses: replaced files say so whatever
        their findings (they count nowhere), the others their status."""
        return REPLACED if self.replaced_by else self.status

    @property
    def rows(self) -> int:
        return 0 if self.parsed is None else self.parsed.row_count


@dataclass(frozen=True)
class MissingUnit:
    name: str
    status: str  # 未报送 | 被退回待重报
    deadline: dt.date | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "deadline": self.deadline and self.deadline.isoformat()}


@dataclass
class Report:
    period: str
    folder: Path
    files: list[FileResult]
    totals: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: dict[str, list[MissingUnit]] = field(default_factory=dict)
    outputs: list[Path] = field(default_factory=list)
    reconciliations: list[Reconciliation] = field(default_factory=list)
    repeats: list[tuple[str, str]] = field(default_factory=list)  # (file, the earlier identical file)
    arriving: list[str] = field(default_factory=list)  # still being copied: left for the next run
    refused: list[tuple[str, str]] = field(default_factory=list)  # (inbox entry, why it was not read)
    mail_sent: int = 0
    mail_failed: int = 0
    mail_error: str | None = None
    notices: list[str] = field(default_factory=list)  # lines for the office at the end of the summary and in run.log
    deferred: bool = False  # outputs left to the next run: more files were landing (watch)
    checks_reused: int = 0  # files whose check was taken from the cache (not in report.json: a rerun's is the same)

    @property
    def exit_code(self) -> int:
        """2 when a file hit a processor bug (the office must look), 1 when files were sent back, else 0."""
        if any(finding.code == "processing_failed" for result in self.files for finding in result.findings):
            return 2
        return 1 if any(not result.accepted for result in self.files) else 0

    def to_json(self, full_ids: bool = False) -> dict[str, Any]:
        """The report as report.json holds it: every text masked (file and unit names too) unless `full_ids`."""
        data = self._json(full_ids)
        return data if full_ids else _masked(data)

    def _json(self, full_ids: bool) -> dict[str, Any]:
        return {
            "period": self.period,
            "files": [
                {
                    "path": relative_path(result.path, self.folder)
                    if result.path.is_relative_to(self.folder)
                    else str(result.path),
                    "kind": result.kind,
                    "unit": result.unit,
                    "status": result.outcome,
                    "rows": result.rows,
                    "annotated": relative_path(result.annotated, self.folder),
                    "received": result.received.isoformat(timespec="seconds"),
                    "arrived": result.arrived.isoformat(timespec="seconds"),
                    "replaced_by": result.replaced_by,
                    "replaces": _changes_json(result.changes, full_ids),
                    "findings": [finding.to_dict(full_ids) for finding in result.findings],
                    **_checked_against_json(result.checked_against),
                }
                for result in self.files
            ],
            "totals": self.totals,
            "missing": {kind: [unit.to_json() for unit in units] for kind, units in self.missing.items()},
            "repeats": [{"path": name, "same_as": same} for name, same in self.repeats],
            "arriving": self.arriving,
            "refused": [{"path": name, "reason": reason} for name, reason in self.refused],
            "reconciliation": [
                {
                    **vars(row),
                    "stated": None if row.stated is None else str(row.stated),
                    "other": None if row.other is None else str(row.other),
                }
                for row in self.reconciliations
            ],
        }


def _checked_against_json(reference: Reference | None) -> dict[str, Any]:
    """Which reference file the rows were checked against; nothing when the form has none (as before)."""
    if reference is None:
        return {}
    return {"checked_against": {"label": reference.label, "file": reference.path.name, "sha256": reference.sha256}}


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):  # a SHA-256 digest holds no personal data, though its digits may look like a phone's
        return {key: item if key == "sha256" else _masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


def _changes_json(changes: Changes | None, full_ids: bool) -> dict[str, Any] | None:
    if changes is None:
        return None
    show = (lambda text: text) if full_ids else mask_text
    return {
        "file": changes.previous_file,
        "added": changes.count("新增"),
        "removed": changes.count("删除"),
        "changed": changes.count("修改"),
        "items": [{**vars(item), "subject": show(item.subject)} for item in changes.items],
    }


def relative_path(path: Path | None, folder: Path) -> str | None:
    return None if path is None else os.path.relpath(path, folder)
