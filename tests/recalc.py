"""Output workbooks recalculated independently of our writer, and checked against the sheet's own rows.

Two recalculations, neither trusting the values our writer caches beside its formulas:
- `libreoffice_recalculate`: LibreOffice headless with recalculation on load forced (OOXMLRecalcMode = 0, "always";
  by default it shows the cached values, so a SUM with a wrong cached value would pass);
- `evaluate_sums`: the SUM formulas read from the file and added up here, cell by cell (fast enough for
  hypothesis; our writer writes no other formula).
`sheet_problems` then compares every 合计 row with the sum of the rows above it, and every 大写 line with the
total it names.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import python_calamine as calamine
from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string

from unionbatch.money import rmb_upper

FORCE_RECALC = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""
SUM_RE = re.compile(r"^=SUM\(([A-Z]+)(\d+):([A-Z]+)(\d+)\)$")
UPPER_RE = re.compile(r"^(?P<what>.+)\(大写\):人民币(?P<words>\S+)$")

Grid = list[list[Any]]


def soffice_convert(sources: Sequence[Path], convert_to: str, work: Path, recalculate: bool = False) -> None:
    """LibreOffice headless saves each source as `convert_to` (e.g. "xlsx:Calc MS Excel 2007 XML") into `work`,
    with a throwaway profile there; `recalculate` makes it recompute every formula on load (it shows the cached
    values otherwise)."""
    profile = work / "profile"
    if recalculate:
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(FORCE_RECALC, encoding="utf-8")
    command = ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", convert_to]
    subprocess.run([*command, "--outdir", str(work), *map(str, sources)], check=True, capture_output=True, timeout=300)


def libreoffice_recalculate(paths: Sequence[Path], folder: Path) -> dict[str, dict[str, Grid]]:
    """Each workbook opened by LibreOffice with every formula recomputed, saved again as .xlsx into `folder`,
    and read back: file name → sheet → rows of values."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        soffice_convert(paths, "xlsx:Calc MS Excel 2007 XML", Path(work), recalculate=True)
        for path in paths:
            shutil.move(Path(work) / path.name, folder / path.name)
    return {path.name: read_values(folder / path.name) for path in paths}


def read_values(path: Path) -> dict[str, Grid]:
    """Every sheet's cached values, as Excel (or whoever saved it last) computed them."""
    book = calamine.CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in book.sheet_names}


def evaluate_sums(path: Path) -> dict[str, Grid]:
    """The workbook's values with each SUM formula replaced by the sum of the cells its range names (our own
    arithmetic, not the cached value); any other formula but =0 is refused."""
    book = load_workbook(path)
    grids = {}
    for sheet in book.worksheets:
        rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
        for row in rows:
            for c, value in enumerate(row):
                if isinstance(value, str) and value.startswith("="):
                    row[c] = _sum_of(rows, value)
        grids[sheet.title] = rows
    return grids


def _sum_of(rows: Grid, formula: str) -> Decimal:
    if formula == "=0":
        return Decimal(0)
    match = SUM_RE.match(formula)
    assert match, f"a formula our writer should not write: {formula}"
    first_col, first_row, last_col, last_row = match.groups()
    assert first_col == last_col, formula
    column = column_index_from_string(first_col) - 1
    cells = [rows[r][column] for r in range(int(first_row) - 1, int(last_row))]
    assert not any(isinstance(v, str) and v.startswith("=") for v in cells), formula
    return sum((_number(v) for v in cells), Decimal(0))


def _number(value: Any) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    assert isinstance(value, int | float | Decimal) and not isinstance(value, bool), value
    return Decimal(str(value))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def layout(grid: Grid) -> tuple[int, int | None]:
    """(header row, 合计 row or None) of one of our sheets: a title row above the header when the first row holds
    a single text; the totals row is the first row labelled 合计 below the header."""
    filled = [v for v in grid[0] if _text(v)] if grid else []
    header = 1 if len(filled) == 1 and len(grid) > 1 and len([v for v in grid[1] if _text(v)]) > 1 else 0
    total = next((r for r in range(header + 1, len(grid)) if _text(grid[r][0]) == "合计"), None)
    return header, total


def column_totals(grid: Grid) -> dict[str, Decimal]:
    """header → the sum of the data rows of each numeric column (the test's own sum of what the sheet shows)."""
    header, total = layout(grid)
    end = total if total is not None else len(grid)
    sums: dict[str, Decimal] = {}
    for c, name in enumerate(grid[header]):
        values = [grid[r][c] for r in range(header + 1, end) if c < len(grid[r])]
        if values and all(isinstance(v, int | float | Decimal) or v in (None, "") for v in values):
            sums[_text(name)] = sum((_number(v) for v in values), Decimal(0))
    return sums


def totals_row(grid: Grid) -> dict[str, Decimal]:
    """header → the value the sheet's 合计 row shows (numeric cells only)."""
    header, total = layout(grid)
    if total is None:
        return {}
    return {
        _text(name): Decimal(str(value))
        for name, value in zip(grid[header], grid[total], strict=False)
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    }


def upper_lines(grid: Grid) -> list[tuple[str, str]]:
    """(what it says it sums, the words) of each 大写 line on the sheet."""
    lines = []
    for row in grid:
        match = UPPER_RE.match(_text(row[0]) if row else "")
        if match:
            lines.append((match["what"], match["words"]))
    return lines


def sheet_problems(shown: Grid, recalculated: Grid, words_column: Mapping[str, tuple[str, ...]]) -> list[str]:
    """Every way the sheet contradicts itself: a 合计 cell (as recalculated) that is not the sum of the rows
    above it, a cached value that differs from the recalculated one, a 大写 line whose words are not the total of
    the column its label names (`words_column`: label prefix → the headers it may sum; an unknown label is a problem)."""
    problems = []
    sums = column_totals(recalculated)
    recalculated_totals, cached_totals = totals_row(recalculated), totals_row(shown)
    for column, value in recalculated_totals.items():
        if value != sums.get(column):
            problems.append(f"合计 {column}: 重算为 {value},各行之和为 {sums.get(column)}")
        if cached_totals.get(column) != value:
            problems.append(f"合计 {column}: 文件中为 {cached_totals.get(column)},重算为 {value}")
    for what, words in upper_lines(shown):
        headers = next((headers for prefix, headers in words_column.items() if what.startswith(prefix)), ())
        column = next((header for header in headers if header in sums), None)
        if column is None:
            problems.append(f"大写“{what}”没有对应的列")
        elif words != rmb_upper(sums[column]):
            problems.append(f"大写“{what}”为 {words},该列合计为 {sums[column]}({rmb_upper(sums[column])})")
    return problems


# What each 大写 line sums, by the start of its label: the column of its sheet whose total it must be.
WORDS_COLUMN = {
    "慰问金合计": ("慰问金额(元)",),
    "慰问物资折款合计": ("慰问物资折款(元)",),
    "合计(慰问金 + 物资折款)": ("合计(元)",),
    "合计(四项慰问金额 + 物资折款)": ("合计(元)",),
    "个人奖金合计": ("合计(元)",),
    "奖金合计(参与奖 + 单项奖 + 团体奖)": ("合计(元)",),
    "应收费用合计": ("应收费用(元)", "应交费用(元)"),
    "工会补贴合计": ("工会补贴(元)",),
}
