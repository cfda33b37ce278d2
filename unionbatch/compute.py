"""Compute: merge accepted rows and sum them up into plain output tables (no Excel here).

A form's spec builds its output sheets from these helpers; the writer renders any OutSheet.
"""

from __future__ import annotations

import itertools
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from .checkcache import digest
from .money import rmb_upper
from .records import OutColumn, OutSheet, RowBlock
from .spec import ROW_BASE, FormSpec

SOURCE_UNIT = "source_unit"
SOURCE_FILE = "source_file"
SOURCE_SHEET = "source_sheet"
SOURCE_ROW = "source_row"
SOURCE_ORDER = "source_order"  # the file's row number (sheet by sheet): the order rows were sent in
SOURCE_KEY = "source_key"  # a digest of the file's rows as checked, its unit and name (see merge_rows)
SOURCE_COLUMNS = (
    (SOURCE_UNIT, "来源单位"),
    (SOURCE_FILE, "来源文件"),
    (SOURCE_SHEET, "来源工作表"),
    (SOURCE_ROW, "来源行"),
)

Sheet = tuple["pd.DataFrame", str, str, Sequence[str]]  # a file's rows, its unit, its name, the names of its sheets


def _listed(rows: Iterable[list[Any]], index: int | slice) -> Any:
    """A row (or rows) of a sheet's rows made as they are read: all of them made to find it (tests, small sheets)."""
    return list(rows)[index]


class FrameRows(Sequence[list[Any]]):
    """A sheet's rows made from a frame as they are written, not held: the 100,000 rows of a city's 明细 would
    otherwise sit in memory a second time, as lists. `make(number, values)` builds the row numbered `number`
    (from 1) from the frame's row `values` (a tuple of `columns`, or a named tuple when `named`), in the order
    of `sort_by` when given; the frame is read a thousand rows at a time."""

    CHUNK = 1000

    def __init__(
        self,
        frame: pd.DataFrame,
        make: Callable[[int, Any], list[Any]],
        named: bool = False,
        columns: Sequence[str] | None = None,
        sort_by: Sequence[str] = (),
        local: bool = False,
    ) -> None:
        self.frame, self.make, self.named = frame, make, named
        self.columns = list(frame.columns if columns is None else columns)
        self.sort_by = list(sort_by)
        self.local = local
        self._column_arrays: list[Any] | None = None

    def __len__(self) -> int:
        return len(self.frame)

    def __iter__(self) -> Iterator[list[Any]]:
        return self.rows_between(0, len(self.frame))

    def rows_between(self, start: int, stop: int, number: int | None = None) -> Iterator[list[Any]]:
        """Rows `start` … `stop - 1` (in order), numbered from `number` (default `start + 1`)."""
        shift = 0 if number is None else number - start - 1
        Row = namedtuple("Row", self.columns) if self.named else None  # type: ignore[misc]
        arrays = self._arrays()
        order: Any = None
        if self.sort_by:  # the key columns sorted, not the frame: no copy of every column
            order = self.frame.index.get_indexer(self.frame[self.sort_by].sort_values(self.sort_by).index)
        for begin in range(start, stop, self.CHUNK):
            end = min(begin + self.CHUNK, stop)
            rows = slice(begin, end) if order is None else order[begin:end]
            tuples: Iterable[Any] = zip(*(array[rows].tolist() for array in arrays), strict=True)
            if Row is not None:
                tuples = map(Row._make, tuples)
            for row_number, values in enumerate(tuples, start=begin + 1 + shift):
                yield self.make(row_number, values)

    def _arrays(self) -> list[Any]:
        """The columns, taken once (a sheet's blocks read them in turn): as numpy arrays where their values read the
        same from one (objects, numbers: not copied, and sliced faster than a Series), else as the Series."""
        if self._column_arrays is None:
            series = [self.frame[key] for key in self.columns]
            self._column_arrays = [
                column.to_numpy() if column.dtype.kind in "Oifb" else column.iloc for column in series
            ]
        return self._column_arrays

    def blocks(self) -> list[RowBlock] | None:
        """The rows cut into each file's run (SOURCE_KEY, set by merge_rows), each known by that file's key, this
        sheet's columns and the function making its rows; None unless `local` (each row made from its own frame row
        and the policy alone, never from another file's rows) and in the frame's order."""
        if not self.local or self.sort_by or SOURCE_KEY not in self.frame.columns or self.frame.empty:
            return None
        keys = self.frame[SOURCE_KEY].to_numpy()
        starts = [0, *(np.flatnonzero(keys[1:] != keys[:-1]) + 1).tolist()]
        stops = [*starts[1:], len(keys)]
        shape = _shape(self.columns, self.make, self.named)
        return [
            RowBlock(digest(keys[start], shape), start, stop - start, self.rows_between(start, stop))
            for start, stop in zip(starts, stops, strict=True)
        ]

    __getitem__ = _listed


def _shape(columns: Sequence[str], make: Callable[[int, Any], list[Any]], named: bool) -> str:
    """What a sheet's row blocks show beyond their rows' file: its columns and how a row is made (a function by its
    name: its code is the processor's)."""
    return digest(columns, make, named)


@dataclass(frozen=True)
class FilePart:
    """One counted file of a form, as `Files` holds it: its rows read only when `load()` is called (a kept check's
    frame is read back from its pickle then), its unit, name and sheets, its row count, and `key`: a digest of all
    its rows can show (see merge_rows' file_keys; None: not known by its bytes, nothing of it kept)."""

    load: Callable[[], pd.DataFrame]
    unit: str
    name: str
    sheets: Sequence[str]
    size: int
    key: str | None

    def sheet(self) -> Sheet:
        """Its rows as merge_rows takes them (read now)."""
        return self.load(), self.unit, self.name, self.sheets


class Files:
    """A form's counted files in office order, for a summary made file by file: each file's rows tagged as
    merge_rows tags them (with the columns `with_columns` adds), read only when some result or row of that file is
    not kept. `each(function)` is a function of one file's rows per file, kept in `kept` (a mapping the run stores
    between runs) under the file's key and the functions' names: a late file costs its own rows, not the month's.
    What the functions compute must come from the file's own rows, the arguments given with them and the form's
    policy alone: the key covers the file's rows, the policy, the processor's code and `each`'s arguments, nothing
    else (plain functions: a function is known by its name; `with_columns`' arguments are not in the key, they
    must come from the policy)."""

    def __init__(
        self,
        parts: Sequence[FilePart],
        spec: FormSpec,
        kept: dict[str, dict[str, Any]] | None = None,
        derive: tuple[Callable[..., pd.DataFrame], tuple[Any, ...]] | None = None,
    ) -> None:
        self.parts = list(parts)
        self.spec = spec
        self.kept = {} if kept is None else kept  # a file's key → what was made of its rows, by a digest of how
        self._derive = derive  # see with_columns
        self._chunks: list[pd.DataFrame] = []  # the files' rows as read, several files to a frame
        self._placed: dict[int, tuple[int, int, int]] = {}  # a file read → its chunk, the rows' start and stop there

    def __len__(self) -> int:
        return sum(part.size for part in self.parts)

    def with_columns(self, derive: Callable[..., pd.DataFrame], *arguments: Any) -> Files:
        """The same files, each one's rows as `derive(rows, *arguments)` makes them (from those rows alone)."""
        return Files(self.parts, self.spec, self.kept, (derive, arguments))

    def read(self, indices: Iterable[int]) -> None:
        """The rows of the files `indices` not read yet, merged into one frame (a frame per file cost ~2 ms) and
        derived."""
        todo = [index for index in indices if index not in self._placed]
        if not todo:
            return
        sheets = [self.parts[index].sheet() for index in todo]
        frame = merge_rows(sheets, self.spec)
        if self._derive is not None:
            derive, arguments = self._derive
            frame = derive(frame, *arguments)  # a function of each row's own file: the same as file by file
        self._chunks.append(frame)
        start = 0
        for index, (rows, *_) in zip(todo, sheets, strict=True):
            self._placed[index] = (len(self._chunks) - 1, start, start + len(rows))
            start += len(rows)

    def located(self, index: int, then: bool = False) -> tuple[int, pd.DataFrame, int, int]:
        """Where file `index`'s rows are: (its chunk's number, the chunk, their start and stop in it); read now if
        not yet, `then` with the files after it not read yet."""
        self.read(range(index, len(self.parts)) if then else (index,))
        chunk, start, stop = self._placed[index]
        return chunk, self._chunks[chunk], start, stop

    def frame_of(self, index: int) -> pd.DataFrame:
        """The rows of file `index`, tagged and derived."""
        _, frame, start, stop = self.located(index)
        return frame.iloc[start:stop]

    def each(self, function: Callable[..., Any], *arguments: Any) -> list[Any]:
        """`function(rows, *arguments)` of each file's rows, in order; those kept taken as they are (`arguments`:
        a few plain values, part of the key)."""
        made_by = digest(function, arguments, self._derive[0] if self._derive is not None else None)
        made = [self.kept.setdefault(part.key, {}) if part.key is not None else {} for part in self.parts]
        self.read(index for index, known in enumerate(made) if made_by not in known)
        for index, known in enumerate(made):
            if made_by not in known:
                known[made_by] = function(self.frame_of(index), *arguments)
        return [known[made_by] for known in made]

    def rows(self, make: Callable[[int, Any], list[Any]], columns: Sequence[str], named: bool = False) -> FilesRows:
        return FilesRows(self, make, columns, named)


class FilesRows(Sequence[list[Any]]):
    """A sheet's rows made file by file (see FrameRows): `make(number, values)` over each file's rows in turn,
    numbered on from the files before; its blocks are the files' runs, a file's rows read only when the writer
    renders its block (the blocks it renders read at once: read_blocks)."""

    def __init__(
        self, files: Files, make: Callable[[int, Any], list[Any]], columns: Sequence[str], named: bool
    ) -> None:
        self.files, self.make, self.columns, self.named = files, make, list(columns), named
        self._chunk_rows: dict[int, FrameRows] = {}  # each chunk's rows, its columns taken once
        self._file_at: dict[int, int] = {}  # a block's start → its file

    def __len__(self) -> int:
        return len(self.files)

    def __iter__(self) -> Iterator[list[Any]]:
        first = 0
        for index, part in enumerate(self.files.parts):
            yield from self._rows_of(index, first)
            first += part.size

    def _rows_of(self, index: int, first: int) -> Iterator[list[Any]]:
        """File `index`'s rows, numbered from `first + 1`; read with the files after it if not read yet (rows
        iterated in order, or a block the writer was not told of)."""
        chunk, frame, start, stop = self.files.located(index, then=True)
        if chunk not in self._chunk_rows:
            self._chunk_rows[chunk] = FrameRows(frame, self.make, self.named, self.columns)
        yield from self._chunk_rows[chunk].rows_between(start, stop, first + 1)

    def blocks(self) -> list[RowBlock] | None:
        """Each file's rows, known by its key and this sheet's shape (as FrameRows.blocks); None if a file has no
        key."""
        parts = self.files.parts
        if not parts or any(part.key is None for part in parts):
            return None
        shape = _shape(self.columns, self.make, self.named)
        blocks, first = [], 0
        for index, part in enumerate(parts):
            if part.size:
                blocks.append(RowBlock(digest(part.key, shape), first, part.size, self._rows_of(index, first)))
                self._file_at[first] = index
            first += part.size
        return blocks

    def read_blocks(self, blocks: Sequence[RowBlock]) -> None:
        """The rows of these blocks' files read at once (see OutSheet.read_blocks)."""
        self.files.read(self._file_at[block.start] for block in blocks)

    __getitem__ = _listed


MARKS = {
    "rejected": {"bg_color": "#FFC7CE", "font_color": "#9C0006"},  # 退回修改: red, as in the annotated copies
    "mismatch": {"bg_color": "#FFEB9C", "font_color": "#9C5700"},  # figures that disagree: yellow
    "replaced": {"font_color": "#808080", "italic": True},  # counts nowhere: grey
}


def period_words(period: str) -> str:
    """2026-11 as a title says it: 2026年11月."""
    year, _, month = period.partition("-")
    return f"{year}年{int(month)}月" if month.isdigit() else period


def titled_for(sheet: OutSheet, period: str) -> OutSheet:
    """The sheet with the period in its title, for 本期 or leading it, unless the title names a year already (an
    activity's own name, 截至 2026 年 11 月): a printed table says which period it covers."""
    if sheet.title and "本期" in sheet.title:
        sheet.title = sheet.title.replace("本期", period_words(period))
    elif sheet.title and "年" not in sheet.title:
        sheet.title = f"{period_words(period)}{sheet.title}"
    return sheet


def merge_rows(frames: Iterable[Sheet], spec: FormSpec, file_keys: Sequence[str] | None = None) -> pd.DataFrame:
    """Concatenate accepted files' rows, each tagged with its unit, file, sheet and Excel row, and with the file's
    `file_keys` entry when given (SOURCE_KEY: a digest of all the file's rows can show, which lets the writer keep them
    rendered). A unit's own 序号 is not carried over (outputs number their rows). Built column by column, each its
    own block: pd.concat made a frame per sheet, then copied every column into one block (W1: +21 MB at the run's
    peak, now +15)."""
    keys = [column.key for column in spec.columns if not column.row_number]
    sheets = list(frames)
    if not sheets:
        return pd.DataFrame(columns=keys + [key for key, _ in SOURCE_COLUMNS] + [SOURCE_ORDER], dtype=object)
    lengths = [len(frame) for frame, _, _, _ in sheets]
    # each frame as one array (a column at a time cost a Series each: 0.2 ms, 7,000 of them for a city's lists)
    matrices = [_matrix(frame, keys) for frame, _, _, _ in sheets]
    arrays = {key: np.concatenate([matrix[:, index] for matrix in matrices]) for index, key in enumerate(keys)}
    arrays[SOURCE_UNIT] = np.repeat(np.array([unit for _, unit, _, _ in sheets], dtype=object), lengths)
    arrays[SOURCE_FILE] = np.repeat(np.array([file for _, _, file, _ in sheets], dtype=object), lengths)
    order = np.concatenate([frame.index.to_numpy(dtype=np.int64) for frame, _, _, _ in sheets])
    positions, excel_rows = np.divmod(order, ROW_BASE)
    names = np.concatenate([np.array(list(names) or [""], dtype=object) for _, _, _, names in sheets])
    starts = np.repeat(np.cumsum([0] + [max(1, len(names)) for _, _, _, names in sheets])[:-1], lengths)
    arrays[SOURCE_SHEET] = names[starts + positions]
    # values as they are: a frame made of bare arrays would turn texts into pandas strings, and None into NaN
    columns = {key: pd.Series(array, dtype=object, copy=False) for key, array in arrays.items()}
    columns[SOURCE_ROW] = pd.Series(excel_rows)
    columns[SOURCE_ORDER] = pd.Series(order)
    if file_keys is not None:
        source_keys = np.repeat(np.array(file_keys, dtype=object), lengths)
        columns[SOURCE_KEY] = pd.Series(source_keys, dtype=object, copy=False)
    return pd.DataFrame(columns, copy=False)


def _matrix(frame: pd.DataFrame, keys: Sequence[str]) -> Any:
    """The frame's `keys` columns, in that order, as one array of objects (KeyError for a column it lacks)."""
    positions = frame.columns.get_indexer(keys)
    if (positions < 0).any():
        raise KeyError([key for key, position in zip(keys, positions, strict=True) if position < 0])
    return frame.to_numpy(dtype=object)[:, positions].reshape(len(frame), len(keys))


UPPER_AS_OF_RUN = "注:大写金额是本次处理时算出的;在表中改动数字后合计公式会重新计算,大写不会随之改变,请重新核对。"


def upper_line(what: str, amount: Decimal) -> str:
    """One total in words, saying what it sums: `what` names the figure (慰问金合计(不含物资折款))."""
    return f"{what}(大写):人民币{rmb_upper(amount)}"


def decimal_sum(values: Iterable[Any]) -> Decimal:
    listed = values.tolist() if isinstance(values, pd.Series) else values  # a Series' cells one by one: ~3 x slower
    return sum([value for value in listed if isinstance(value, Decimal)], Decimal(0))


def group_rows(
    frame: pd.DataFrame, by: Sequence[str], sums: Sequence[str], order: Sequence[Sequence[str]] | None = None
) -> list[list[Any]]:
    """One row per group, in order of first appearance: the group's values, its row count, then the Decimal sum
    of each column (what is not an amount adds nothing). Groups are numbered once; where each group's rows are
    together (a 明细 by unit: each file's rows in one run) a group's amounts are added by the builtin sum over its
    run, else row by row into the group's number: over a city's 1 M rows the loop by label took ~0.6 s a column,
    a groupby made a frame per group."""
    if frame.empty:
        return []
    labels = zip(*(frame[column].tolist() for column in by), strict=True)
    numbers: dict[tuple[Any, ...], int] = {}
    groups = np.fromiter((numbers.setdefault(label, len(numbers)) for label in labels), np.intp, len(frame))
    counts = np.bincount(groups, minlength=len(numbers)).tolist()
    together = bool(np.all(groups[1:] >= groups[:-1]))  # numbered as first met: together iff never decreasing
    add = _run_sums(np.cumsum([0, *counts]).tolist()) if together else _row_sums(groups.tolist(), len(numbers))
    totals = [add(frame[column].tolist()) for column in sums]
    rows = [[*label, counts[number], *(total[number] for total in totals)] for label, number in numbers.items()]
    return _in_order(rows, order)


def merge_groups(
    parts: Iterable[Sequence[Sequence[Any]]], labels: int, order: Sequence[Sequence[str]] | None = None
) -> list[list[Any]]:
    """Rows of group_rows made over parts of a frame (its files, in order), as group_rows makes them over the whole:
    the groups of equal `labels` leading values in order of first appearance, their counts and sums added (Decimal
    addition is exact: the same sums as over every row)."""
    merged: dict[tuple[Any, ...], list[Any]] = {}
    for rows in parts:
        for row in rows:
            label = tuple(row[:labels])
            known = merged.get(label)
            if known is None:
                merged[label] = list(row)
            else:
                known[labels:] = [a + b for a, b in zip(known[labels:], row[labels:], strict=True)]
    return _in_order(list(merged.values()), order)


def _in_order(rows: list[list[Any]], order: Sequence[Sequence[str]] | None) -> list[list[Any]]:
    """Group rows sorted by where their labels stand in `order` (one sequence per label; those not listed last, in
    their order); as they are without `order`."""
    if order:
        rank = [{value: position for position, value in enumerate(values)} for values in order]
        rows.sort(key=lambda row: tuple(r.get(row[i], len(r)) for i, r in enumerate(rank)))
    return rows


def _run_sums(bounds: list[int]) -> Callable[[list[Any]], list[Decimal]]:
    """The Decimal sum of each group's values, the groups one after another between `bounds`."""

    def add(values: list[Any]) -> list[Decimal]:
        return [
            sum([value for value in values[start:end] if isinstance(value, Decimal)], Decimal(0))
            for start, end in itertools.pairwise(bounds)
        ]

    return add


def _row_sums(groups: list[int], count: int) -> Callable[[list[Any]], list[Decimal]]:
    """The Decimal sum of each of `count` groups' values, each row's group number in `groups`."""

    def add(values: list[Any]) -> list[Decimal]:
        totals = [Decimal(0)] * count
        for group, value in zip(groups, values, strict=True):
            if isinstance(value, Decimal):
                totals[group] += value
        return totals

    return add


SOURCE_LOOKS = {  # the source columns of a 明细: unit and file names wrapped, the sheet and row narrow
    SOURCE_UNIT: lambda header: OutColumn(header, "text", 16, wrap=True),
    SOURCE_FILE: lambda header: OutColumn(header, "text", 24, wrap=True),
    SOURCE_SHEET: lambda header: OutColumn(header, "text", 10, wrap=True),
    SOURCE_ROW: lambda header: OutColumn(header, "int", 7),
}


def out_column(kind: str, header: str, width: int, summed: bool = False) -> OutColumn:
    return OutColumn(header, kind if kind in ("money", "int") else "text", width, summed)


def detail_sheet(
    spec: FormSpec,
    frame: pd.DataFrame | Files,
    computed: Sequence[tuple[OutColumn, str]] = (),
    name: str = "明细",
    local: bool = False,
) -> OutSheet:
    """Every accepted row: a new 序号, the spec's columns with the computed ones right after the last amount (合计
    beside the amounts it adds, not after 备注), then its source, file names wrapped in their column. `local`: every
    column of `frame` is made from its own row and the policy alone (see FrameRows.blocks; Files always are)."""
    kept = [column for column in spec.columns if not column.row_number]
    amounts = [index for index, column in enumerate(kept) if column.kind == "money"]
    at = amounts[-1] + 1 if amounts else len(kept)
    own = [out_column(c.kind, c.header, c.width, c.key in spec.total_columns) for c in kept]
    columns = [OutColumn("序号", "int", 6), *own[:at], *(column for column, _ in computed), *own[at:]]
    columns += [SOURCE_LOOKS[key](header) for key, header in SOURCE_COLUMNS]
    own_keys = [column.key for column in kept]
    keys = [*own_keys[:at], *(key for _, key in computed), *own_keys[at:]] + [key for key, _ in SOURCE_COLUMNS]
    rows = (
        frame.rows(_numbered, keys)
        if isinstance(frame, Files)
        else FrameRows(frame, _numbered, columns=keys, local=local)
    )
    whose = spec.person.name if spec.person is not None else spec.unit_column  # 序号 … 姓名, or … 单位名称
    leading = keys.index(whose) + 1 if whose in keys[:3] else None
    return OutSheet(
        name,
        columns,
        rows,
        title=f"{spec.kind}明细",
        total_label="合计",
        landscape=True,
        leading=leading,
        blocks=rows.blocks(),
        read_blocks=rows.read_blocks if isinstance(rows, FilesRows) else None,
    )


def _numbered(number: int, values: Sequence[Any]) -> list[Any]:
    return [number, *values]
