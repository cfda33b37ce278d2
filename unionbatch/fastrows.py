"""The fast row renderer, and the one module that touches xlsxwriter's internals.

Writing a big sheet through xlsxwriter's write_* costs ~14 µs a cell (a city's consolidated workbooks: 41 s, against
7 s here). The rows are rendered here as the very XML xlsxwriter's constant-memory mode writes for them and streamed
into its row file, through its private `_write_single_row`, `_check_dimensions`, `previous_row`, `fh`, `index` (and
the packager's naming of sheet parts by it), `Format._get_xf_index`, `XMLwriter._escape_control_characters` and
`utility._preserve_whitespace`. Those can change in
any release, so this renderer is used only with the xlsxwriter version it was proven against (tests/test_write.py
writes the same workbooks both ways and compares them); on any other, unionbatch/write.py writes the rows through
xlsxwriter's public API.

With that version the workbook is also packed by our own zip writer (unionbatch/segments.py): `FastWorkbook` runs
xlsxwriter's own `Workbook._store_workbook` code with `SplicingZip` in place of ZipFile, which deflates the parts
at zlib's level 1 instead of the default 6 (a W1 consolidated workbook holds ~150 MB of sheet XML: ~1.2 s instead of
~3.7 s, a third more bytes) and splices in the row segments kept from an earlier run (a file that arrives late in
the month: the other files' rows are not rendered or deflated again). Nothing of xlsxwriter's module is changed, and
any other Workbook packs as before.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import types
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import xlsxwriter.workbook
from xlsxwriter.utility import _preserve_whitespace, xl_col_to_name
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet
from xlsxwriter.xmlwriter import XMLwriter

from .checkcache import digest
from .isolate import forked
from .records import OutSheet, RowBlock
from .segments import Segment, SegmentStore, SplicingZip, marker, segment_of

PROVEN_XLSXWRITER = "3.3.1"  # requirements.txt pins it
MAX_TEXT = 32767  # Excel's limit for one cell

# a row's values → its height in points (None: the default), from the values of the sheet's wrapped columns alone
RowHeight = Callable[[Sequence[Any]], float | None]


def proven(version: str) -> bool:
    """Whether this renderer was proven against this xlsxwriter version (and may be used with it)."""
    return version == PROVEN_XLSXWRITER


def _packing_with(zip_class: Callable[..., Any]) -> Callable[[Workbook], None]:
    """xlsxwriter's `Workbook._store_workbook` (which opens its ZipFile with no level) run with `zip_class` for
    `ZipFile`: the same code, its module's names looked up in a copy of them."""
    original = Workbook._store_workbook
    names = {**vars(xlsxwriter.workbook), "ZipFile": zip_class}
    return types.FunctionType(original.__code__, names, original.__name__, original.__defaults__, original.__closure__)


class FastWorkbook(Workbook):
    """xlsxwriter's Workbook packed by segments.SplicingZip (only with the proven xlsxwriter): its parts deflated at
    ZIP_LEVEL, and the kept row segments written by `write_rows` spliced into their sheets."""

    def __init__(self, *args: Any, discard: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pieces: dict[str, list[Segment]] = {}  # a sheet part's name → its spliced segments by marker number
        zip_class = _Discarding if discard else functools.partial(SplicingZip, pieces=self.pieces)
        self._store_workbook = types.MethodType(_packing_with(zip_class), self)  # type: ignore[method-assign]


class _Discarding:
    """A package written nowhere: a workbook written only for the segments its rows leave in their store."""

    def __init__(self, *_: Any, **__: Any) -> None:
        pass

    def write(self, *_: Any, **__: Any) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class Splicing:
    """Where `write_rows` keeps the segments it renders and finds those it rendered before, and the workbook whose
    packing splices them in. `ahead`: this process renders the blocks, in order, ahead of another that will write
    the same workbook (a run's helper, while the run records the batch); `helper`: whether such a process is still
    at work for this one, which then renders the blocks the helper has not reached yet, from the last one on."""

    store: SegmentStore
    workbook: FastWorkbook
    ahead: Callable[[], bool] | None = None  # rendering ahead, until this says the writer needs it no longer
    helper: Callable[[], bool] | None = None


RENDERER = 1  # raise when the XML rendered for the same rows changes: kept segments of another renderer are not used


def write_rows(
    worksheet: Worksheet,
    sheet: OutSheet,
    first: int,
    formats: dict[str, Any],
    row_height: RowHeight,
    splicing: Splicing | None = None,
) -> list[Decimal | None]:
    """The sheet's rows from row `first` on, streamed into the worksheet's row file; returns the sum of each
    `summed` column (None for the others), added up in the same pass. The caller has checked the rows fit in a
    sheet; strings are cut to Excel's cell limit, so xlsxwriter's per-cell -1/-2 cannot occur. With `splicing`, a
    sheet's `blocks` are kept as segments and those kept from an earlier run at the same place spliced in."""
    totals: list[Decimal | None] = [Decimal(0) if column.summed else None for column in sheet.columns]
    if not sheet.rows:
        return totals
    width = len(sheet.columns)
    last = first + len(sheet.rows) - 1
    worksheet._write_single_row(first)  # flush what xlsxwriter holds (the header) before our rows
    if worksheet._check_dimensions(last, width - 1) != 0:
        raise ValueError(f"{sheet.name}: rows {first}..{last} do not fit")
    height = row_height(())  # a row with no wrapped text: the same for every row of the sheet
    row_tag = f'<row r="{{0}}" ht="{height}" customHeight="1">' if height is not None else '<row r="{0}">'
    # numbered before the marked formats, whether or not a row uses them: the numbers every workbook was written with
    cells = [
        (f'<c r="{xl_col_to_name(col)}', f'" s="{formats[column.style()]._get_xf_index()}"')
        for col, column in enumerate(sheet.columns)
    ]
    if sheet.marks is not None:
        return _write_marked_rows(worksheet, sheet, first, formats, totals, row_tag, row_height)
    render = functools.partial(_rendered, sheet=sheet, cells=cells, row_tag=row_tag, row_height=row_height)
    if splicing is not None and sheet.blocks is not None:
        layout = digest(PROVEN_XLSXWRITER, RENDERER, sheet.columns, sheet.tall_rows, cells, row_tag)
        _write_blocks(worksheet, sheet, first, totals, splicing, (layout, render))
    else:
        for xml, chunk_totals in render(sheet.rows, first + 1):
            worksheet.fh.write(xml)
            _add(totals, chunk_totals)
    worksheet.previous_row = last + 1
    return totals


def _write_blocks(
    worksheet: Worksheet,
    sheet: OutSheet,
    first: int,
    totals: list[Decimal | None],
    splicing: Splicing,
    rendering: tuple[str, Render],
) -> None:
    """Each of the sheet's blocks as a segment: the one kept for it at this place (known by the sheet's `layout`
    digest, the block's key and its first row), else rendered and kept; a marker in the rows where the packing
    splices it in. `totals` gets each block's."""
    layout, render = rendering
    part = f"xl/worksheets/sheet{worksheet.index + 1}.xml"  # how xlsxwriter's packager names the sheet's part
    spliced = splicing.workbook.pieces.setdefault(part, [])
    keyed = [(digest(layout, block.key, first + block.start), block) for block in sheet.blocks or ()]
    found = {key: splicing.store.get(key) for key, _ in keyed}
    missing = [(key, block) for key, block in keyed if not _fits(found[key], block)]
    if missing and sheet.read_blocks is not None:
        sheet.read_blocks([block for _, block in missing])
    zeros = tuple(Decimal(0) if column.summed else None for column in sheet.columns)
    keeping = _Keeping(first, splicing.store, render, zeros)
    if splicing.ahead is not None:  # nothing to splice: the helper's package is thrown away
        _render_ahead(missing, keeping, splicing.ahead)
        return
    # a helper at work renders in order from the first missing block (the one it is at, or has yet to reach): on two
    # cores this process renders from the other end (a forked child would make three processes); on more, only once
    # the helper has kept that block, else the blocks are shared out with forked children
    at_work = bool(missing) and splicing.helper is not None and splicing.helper()
    if at_work and ((os.cpu_count() or 1) <= 2 or _made_elsewhere(missing[0], keeping)):
        found |= _rendered_behind(missing, keeping)
    else:
        found |= _rendered_blocks(missing, keeping)
    for key, _ in keyed:
        segment = found[key]
        assert segment is not None
        worksheet.fh.write(marker(len(spliced)))
        spliced.append(segment)
        _add(totals, segment.totals)


Render = Callable[[Iterable[Sequence[Any]], int], Iterator[tuple[str, list[Decimal | None]]]]  # rows, first number


@dataclass(frozen=True)
class _Keeping:
    """How a sheet's blocks are rendered and kept: the sheet's first data row, the store, the rendering, and the
    sheet's totals before any row (0 for a summed column, None for the others)."""

    first: int
    store: SegmentStore
    render: Render
    zeros: tuple[Decimal | None, ...]

    def kept(self, key: str, block: RowBlock) -> Segment:
        """The block rendered, deflated and kept in the store under `key`."""
        totals = list(self.zeros)
        parts = []
        for xml, chunk_totals in self.render(block.rows, self.first + block.start + 1):
            parts.append(xml)
            _add(totals, chunk_totals)
        return self.store.put(key, segment_of("".join(parts).encode(), totals, block.size))

    def keep(self, blocks: Sequence[tuple[str, RowBlock]]) -> None:
        for key, block in blocks:
            self.kept(key, block)


SHARED_ROWS = 10_000  # missing rows from which their rendering is shared with forked processes
MAX_PROCESSES = 4  # beyond that, reading back and packing the segments outweighs what more cores would render


def _rendered_blocks(blocks: Sequence[tuple[str, RowBlock]], keeping: _Keeping) -> dict[str, Segment]:
    """The blocks rendered and kept, by key. Many rows (a full run's 明细: a block a file) are shared out, one
    share a core: all but this process's rendered and kept by forked children (the rows are in this process's
    memory: too many to send), then read back from the store; a share a child left undone is rendered here."""
    processes = min(os.cpu_count() or 1, MAX_PROCESSES)
    if processes < 2 or sum(block.size for _, block in blocks) < SHARED_ROWS:
        return {key: keeping.kept(key, block) for key, block in blocks}
    shares = [blocks[index::processes] for index in range(processes)]
    children = [(share, forked(functools.partial(keeping.keep, share))) for share in shares[1:]]
    segments = {key: keeping.kept(key, block) for key, block in shares[0]}
    for share, child in children:
        done = child.wait()
        for key, block in share:
            segment = keeping.store.made_elsewhere(key) if done else None
            segments[key] = segment if segment is not None and _fits(segment, block) else keeping.kept(key, block)
    return segments


def _render_ahead(blocks: Sequence[tuple[str, RowBlock]], keeping: _Keeping, stopped: Callable[[], bool]) -> None:
    """The blocks rendered and kept in order, but for those the process writing the workbook has kept meanwhile,
    until it needs them no longer."""
    for key, block in blocks:
        if stopped():
            return
        if _made_elsewhere((key, block), keeping) is None:
            keeping.kept(key, block)


def _rendered_behind(blocks: Sequence[tuple[str, RowBlock]], keeping: _Keeping) -> dict[str, Segment]:
    """The blocks, while a helper renders them in order: rendered here from the last one back to the first the
    helper has kept; those before it kept by the helper (the ones it could not keep rendered here)."""
    segments = {}
    rest = list(blocks)
    while rest and _made_elsewhere(rest[-1], keeping) is None:
        key, block = rest.pop()
        segments[key] = keeping.kept(key, block)
    for key, block in rest:
        segments[key] = _made_elsewhere((key, block), keeping) or keeping.kept(key, block)
    return segments


def _made_elsewhere(keyed: tuple[str, RowBlock], keeping: _Keeping) -> Segment | None:
    """The block's segment if another process of this run has kept it."""
    key, block = keyed
    segment = keeping.store.made_elsewhere(key)
    return segment if segment is not None and _fits(segment, block) else None


def _fits(segment: Segment | None, block: RowBlock) -> bool:
    return segment is not None and segment.rows == block.size


def _add(totals: list[Decimal | None], more: Sequence[Decimal | None]) -> None:
    for index, value in enumerate(more):
        if value is not None:
            totals[index] += value  # type: ignore[operator]


def _rendered(
    rows: Iterable[Sequence[Any]],
    number: int,
    sheet: OutSheet,
    cells: list[tuple[str, str]],
    row_tag: str,
    row_height: RowHeight,
) -> Iterator[tuple[str, list[Decimal | None]]]:
    """The XML of `rows` from Excel row `number` (from 1) on, a thousand rows at a time, each with the sums of the
    sheet's summed columns over those rows."""
    width = len(sheet.columns)
    summed = [index for index, column in enumerate(sheet.columns) if column.summed]
    height = row_height(())
    wrapped = [index for index, column in enumerate(sheet.columns) if column.wrap]  # a row as high as they need
    numbers_shown = [_NumberTexts() if column.kind in ("money", "int") else None for column in sheet.columns]
    rows = iter(rows)
    while chunk := list(itertools.islice(rows, 1000)):
        numbers = [str(n) for n in range(number, number + len(chunk))]  # formatted once, not once a cell
        number += len(chunk)
        if any(len(values) != width for values in chunk):
            tags = [_row_tag(row_height(values), height, row_tag) if wrapped else row_tag for values in chunk]
            xml = "".join(_rows_cell_by_cell(chunk, numbers, tags, cells))
            by_column: Any = {
                index: [values[index] if index < len(values) else None for values in chunk] for index in summed
            }
        else:
            by_column = list(zip(*chunk, strict=True))
            tags = _row_tags(chunk, [by_column[index] for index in wrapped], (row_height, height, row_tag))
            columns = [
                _column_xml(values, numbers, ref, style, shown)
                for values, (ref, style), shown in zip(by_column, cells, numbers_shown, strict=True)
            ]
            xml = "".join(
                f"{tag.format(n)}{''.join(row)}</row>"
                for tag, n, row in zip(tags, numbers, zip(*columns, strict=True), strict=True)
            )
        chunk_totals: list[Decimal | None] = [None] * width
        for index in summed:
            chunk_totals[index] = _total(by_column[index])
        yield xml, chunk_totals


def _total(values: Sequence[Any]) -> Decimal:
    """The sum of a column's values, blanks as 0 (added in C when every value is an amount: a 明细's are)."""
    if set(map(type, values)) <= {Decimal}:
        return sum(values, Decimal(0))
    return sum((value if type(value) is Decimal else Decimal(value or 0) for value in values), Decimal(0))


def _row_tags(
    chunk: Sequence[Sequence[Any]],
    wrapped: Sequence[Sequence[Any]],
    heights: tuple[RowHeight, float | None, str],
) -> list[str]:
    """Each row's opening tag (its number to be filled in): as high as its wrapped columns' texts (`wrapped`: those
    columns' values) need. Rows whose wrapped texts are the same have the same height, asked for once (a 明细's
    wrapped columns are its file's unit and name, the same on all of the file's rows)."""
    row_height, plain_height, plain_tag = heights
    if not wrapped:
        return [plain_tag] * len(chunk)
    if not all(set(map(type, values)) <= {str, type(None)} for values in wrapped):  # a key must be what it shows
        return [_row_tag(row_height(values), plain_height, plain_tag) for values in chunk]
    keys = list(zip(*wrapped, strict=True))
    tag_of = {
        key: _row_tag(row_height(values), plain_height, plain_tag)
        for key, values in dict(zip(keys, chunk, strict=True)).items()
    }
    return [tag_of[key] for key in keys]


def _write_marked_rows(
    worksheet: Worksheet,
    sheet: OutSheet,
    first: int,
    formats: dict[str, Any],
    totals: list[Decimal | None],
    row_tag: str,
    row_height: RowHeight,
) -> list[Decimal | None]:
    """Rows some of which are highlighted, or with wrapped texts (small sheets: 处理报告, 与名单核对), cell by cell,
    each row as high as `row_height` says."""
    marks = sheet.marks if sheet.marks is not None else [""] * len(sheet.rows)
    assert len(marks) == len(sheet.rows)
    plain_height = row_height(())
    xml = []
    for offset, (values, mark) in enumerate(zip(sheet.rows, marks, strict=True)):
        number = str(first + 1 + offset)
        tag = _row_tag(row_height(values), plain_height, row_tag)
        styles = [formats[column.style(mark)]._get_xf_index() for column in sheet.columns]
        cells = [
            _cell(value, f'<c r="{xl_col_to_name(col)}', f'" s="{style}"', number)
            for col, (value, style) in enumerate(zip(values, styles, strict=False))
        ]
        xml.append(f"{tag.format(number)}{''.join(cells)}</row>")
        for index, column in enumerate(sheet.columns):
            if column.summed and index < len(values):
                totals[index] += Decimal(values[index] or 0)  # type: ignore[operator]
    worksheet.fh.write("".join(xml))
    worksheet.previous_row = first + len(sheet.rows)
    return totals


def _row_tag(height: float | None, plain_height: float | None, plain_tag: str) -> str:
    """A row's opening tag (its number to be filled in): the sheet's plain one unless the row is higher."""
    return f'<row r="{{0}}" ht="{height}" customHeight="1">' if height != plain_height else plain_tag


def _rows_cell_by_cell(
    chunk: list[Sequence[Any]], numbers: list[str], tags: list[str], cells: list[tuple[str, str]]
) -> list[str]:
    """Rows some of which are short (fewer values than columns), each with its opening tag."""
    return [
        f"{tag.format(n)}{''.join(_cell(value, ref, style, n) for value, (ref, style) in zip(values, cells, strict=False))}</row>"
        for tag, n, values in zip(tags, numbers, chunk, strict=True)
    ]


_NUMBERS = (Decimal, int, float)
_EXACT = 2**53  # ints up to this are exact as floats
_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$")
_ESCAPED = re.compile(r"[&<>\x00\x02-\x08\x0b-\x1f\ufffe\uffff]")  # \x01 joins a column's texts
_LITERAL_CODE = re.compile(r"_x[0-9a-fA-F]{4}_")
_SPACE = re.compile(r"\s")


def _column_xml(
    values: Sequence[Any], numbers: list[str], ref: str, style: str, shown: _NumberTexts | None
) -> list[str]:
    """One column's cells for a run of rows, a comprehension per column rather than a call per cell (3× faster).
    `shown` formats a number column's amounts (None for text columns). Anything but a number in a number column,
    or a text needing escaping or cutting, goes through `_cell`."""
    if all(value is None for value in values):  # a column the files leave empty (a 明细's 性别, 备注 …)
        return [f"{ref}{n}{style}/>" for n in numbers]
    if shown is not None:
        if set(map(type, values)) <= {int} and min(values) >= -_EXACT and max(values) <= _EXACT:  # 序号, 来源行
            return [f"{ref}{n}{style}><v>{v}</v></c>" for n, v in zip(numbers, values, strict=True)]
        return [
            # an int as it is (what %.16G makes of it, when exact as a float); 0 == -0.0: zero is not memoised
            f"{ref}{n}{style}><v>{v if type(v) is int and -_EXACT <= v <= _EXACT else shown[v] if v else f'{float(v):.16G}'}</v></c>"
            if type(v) in _NUMBERS
            else _cell(v, ref, style, n)
            for n, v in zip(numbers, values, strict=True)
        ]
    if _plain_texts(values):
        return [
            f'{ref}{n}{style} t="inlineStr"><is><t>{v}</t></is></c>'
            if type(v) is str and v
            else f"{ref}{n}{style}/>"
            if v is None
            else _cell(v, ref, style, n)
            for n, v in zip(numbers, values, strict=True)
        ]
    return [_cell(v, ref, style, n) for n, v in zip(numbers, values, strict=True)]


class _NumberTexts(dict[Any, str]):
    """A number as xlsxwriter writes it, each distinct amount formatted once (amounts repeat; formatting is slow)."""

    def __missing__(self, number: Any) -> str:
        text = self[number] = f"{float(number):.16G}"
        return text


def _plain_texts(values: Sequence[Any]) -> bool:
    """Whether every text among `values` can be written as it is: one search over them all."""
    texts = [value for value in values if type(value) is str]
    joined = "\x01".join(texts)  # a text holding \x01 itself makes the count differ: not plain
    return (
        joined.count("\x01") == max(len(texts) - 1, 0)
        and (len(joined) <= MAX_TEXT or max(map(len, texts), default=0) <= MAX_TEXT)
        and not _ESCAPED.search(joined)
        and ("_x" not in joined or not _LITERAL_CODE.search(joined))
        # no space at either end of a text (str.strip and re's \s: the same Unicode spaces): most columns have none
        and (_spaceless(joined) or all(text == text.strip() for text in texts))
    )


def _spaceless(text: str) -> bool:
    """No whitespace in `text` (of those re's \\s and str.strip know, the same): ASCII ones found by substring."""
    if text.isascii():  # the other ASCII spaces (\x1c-\x1f) are escaped: not plain anyway
        return not any(space in text for space in " \t\n\r\x0b\x0c")
    return not _SPACE.search(text)


def _cell(value: object, ref: str, style: str, row: str) -> str:
    """One cell as xlsxwriter's Worksheet._write_cell writes it in constant-memory mode (the slow path: typical
    columns are rendered by `_column_xml`)."""
    if value is None or value == "":
        return f"{ref}{row}{style}/>"
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return f"{ref}{row}{style}><v>{float(value):.16G}</v></c>"
    text = str(value)[:MAX_TEXT]
    space = ""
    if _SPECIAL.search(text):
        text = XMLwriter._escape_control_characters(text)
        space = ' xml:space="preserve"' if _preserve_whitespace(text) else ""
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'{ref}{row}{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'
