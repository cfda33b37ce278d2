"""Compute: merge accepted rows and sum them up into plain output tables (no Excel here).

A form's spec builds its output sheets from these helpers; the writer renders any OutSheet.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd

from .spec import FormSpec

SOURCE_UNIT = "source_unit"
SOURCE_FILE = "source_file"
SOURCE_ROW = "source_row"
SOURCE_COLUMNS = ((SOURCE_UNIT, "来源单位"), (SOURCE_FILE, "来源文件"), (SOURCE_ROW, "来源行"))


@dataclass(frozen=True)
class OutColumn:
    header: str
    kind: str = "text"  # text | money | int
    width: int = 12
    summed: bool = False  # the sheet's totals row adds this column up


@dataclass(frozen=True)
class Chart:
    title: str
    category_column: int
    value_column: int


class FrameRows(Sequence[list[Any]]):
    """A sheet's rows made from a frame as they are written, not held: the 100,000 rows of a city's 明细 would
    otherwise sit in memory a second time, as lists. `make(number, values)` builds the row numbered `number`
    (from 1) from the frame's row `values` (a tuple in column order, or a named tuple when `named`)."""

    def __init__(self, frame: pd.DataFrame, make: Callable[[int, Any], list[Any]], named: bool = False) -> None:
        self.frame, self.make, self.named = frame, make, named

    def __len__(self) -> int:
        return len(self.frame)

    def __iter__(self) -> Iterator[list[Any]]:
        columns = [self.frame[key].tolist() for key in self.frame.columns]  # itertuples boxes cell by cell: slow
        tuples: Iterable[Any] = zip(*columns, strict=True)
        if self.named:
            Row = namedtuple("Row", self.frame.columns)  # type: ignore[misc]
            tuples = map(Row._make, tuples)
        for number, values in enumerate(tuples, start=1):
            yield self.make(number, values)

    def __getitem__(self, index: int | slice) -> Any:
        rows = list(self)
        return rows[index]


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

    def column_totals(self) -> list[Decimal | None]:
        return [
            sum((Decimal(row[index] or 0) for row in self.rows), Decimal(0)) if column.summed else None
            for index, column in enumerate(self.columns)
        ]


@dataclass
class Summary:
    sheets: list[OutSheet]
    totals: dict[str, Any]


def merge_rows(frames: Iterable[tuple[pd.DataFrame, str, str]], spec: FormSpec) -> pd.DataFrame:
    """Concatenate accepted sheets' rows, each tagged with its unit, file and Excel row."""
    parts = []
    for frame, unit, file in frames:
        part = frame.assign(**{SOURCE_UNIT: unit, SOURCE_FILE: file, SOURCE_ROW: frame.index.astype(int)})
        parts.append(part.reset_index(drop=True))
    columns = [column.key for column in spec.columns] + [key for key, _ in SOURCE_COLUMNS]
    if not parts:
        return pd.DataFrame(columns=columns, dtype=object)
    return pd.concat(parts, ignore_index=True)[columns]


def decimal_sum(values: Iterable[Any]) -> Decimal:
    return sum((value for value in values if isinstance(value, Decimal)), Decimal(0))


def group_rows(
    frame: pd.DataFrame, by: Sequence[str], sums: Sequence[str], order: Sequence[Sequence[str]] | None = None
) -> list[list[Any]]:
    """One row per group: the group's values, its row count, then the Decimal sum of each column."""
    if frame.empty:
        return []
    rows = []
    for keys, group in frame.groupby(list(by), sort=False, dropna=False):
        keys = keys if isinstance(keys, tuple) else (keys,)
        rows.append([*keys, len(group), *(decimal_sum(group[column]) for column in sums)])
    if order:
        rank = [{value: position for position, value in enumerate(values)} for values in order]
        rows.sort(key=lambda row: tuple(r.get(row[i], len(r)) for i, r in enumerate(rank)))
    return rows


def out_column(kind: str, header: str, width: int, summed: bool = False) -> OutColumn:
    return OutColumn(header, kind if kind in ("money", "int") else "text", width, summed)


def detail_sheet(
    spec: FormSpec, frame: pd.DataFrame, computed: Sequence[tuple[OutColumn, str]] = (), name: str = "明细"
) -> OutSheet:
    """Every accepted row: a new 序号, the spec's columns, computed columns, then its source."""
    kept = [column for column in spec.columns if not column.row_number]
    columns = [OutColumn("序号", "int", 6)]
    columns += [out_column(c.kind, c.header, c.width, c.key in spec.total_columns) for c in kept]
    columns += [column for column, _ in computed]
    columns += [OutColumn(header, "int" if key == SOURCE_ROW else "text", 14) for key, header in SOURCE_COLUMNS]
    keys = [column.key for column in kept] + [key for _, key in computed] + [key for key, _ in SOURCE_COLUMNS]
    rows = FrameRows(frame[keys], lambda number, values: [number, *values])
    return OutSheet(name, columns, rows, title=f"{spec.kind}明细", total_label="合计", landscape=True)
