"""Two .xlsx files compared at XML level, the way XlsxWriter's own test suite compares its output with files made
by Excel (xlsxwriter/test/helperfunctions.py, `_compare_xlsx_files`): both unzipped, the same members required,
each XML member split into its elements, the relationship and content-type lists sorted (their order means
nothing), the dates in docProps/core.xml left out.

Unlike a bare element list, each element here is one line that says where it is: a worksheet member is named by
its sheet, a cell is one line led by its reference with its text or formula and value on it, and attributes are
sorted. A difference then reads as: workbook › sheet (member): the cell lines that moved.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
DATES = re.compile(r"^(\s*<dcterms:(?:created|modified)\b[^>]*>)\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
MAX_LINES = 40  # of one member's diff in a report


def _unordered(member: str) -> bool:
    return member == "[Content_Types].xml" or member.endswith(".rels")


class _Names:
    """Namespace URI → the prefix the document itself declares (the default namespace has none)."""

    def __init__(self) -> None:
        self.prefixes: dict[str, str] = {}

    def short(self, name: str) -> str:
        if not name.startswith("{"):
            return name
        uri, local = name[1:].split("}", 1)
        prefix = self.prefixes.get(uri, uri)
        return f"{prefix}:{local}" if prefix else local


def _attributes(element: ElementTree.Element, names: _Names, leave_out: tuple[str, ...] = ()) -> str:
    pairs = sorted((names.short(key), value) for key, value in element.attrib.items())
    return "".join(f' {key}="{value}"' for key, value in pairs if key not in leave_out)


def _inline(element: ElementTree.Element, names: _Names) -> str:
    """An element and all it holds on one line: <tag attrs>text<child …/></tag>."""
    tag = names.short(element.tag)
    inner = (element.text or "") + "".join(_inline(child, names) + (child.tail or "") for child in element)
    return f"<{tag}{_attributes(element, names)}>{inner}</{tag}>" if inner else f"<{tag}{_attributes(element, names)}/>"


def element_lines(xml: bytes) -> list[str]:
    """One line an element, indented by depth, attributes sorted; a worksheet cell (<c r="B5">) is a single line
    led by its reference, with what it holds (inline text, formula, value) on the same line."""
    names = _Names()
    lines: list[str] = []
    depth = 0
    inside_cell: ElementTree.Element | None = None
    for event, item in ElementTree.iterparse(io.BytesIO(xml), events=("start-ns", "start", "end")):
        if event == "start-ns":
            prefix, uri = item
            names.prefixes.setdefault(uri, prefix)
            continue
        element = item
        if inside_cell is not None:
            if event == "end" and element is inside_cell:
                reference = element.get("r", "?")
                held = "".join(_inline(child, names) for child in element)
                lines.append(f"{'  ' * depth}{reference}: <c{_attributes(element, names, ('r',))}>{held}")
                inside_cell = None
            continue
        if event == "start":
            if element.tag == f"{{{MAIN}}}c":
                inside_cell = element
                continue
            depth += 1
            lines.append(f"{'  ' * (depth - 1)}<{names.short(element.tag)}{_attributes(element, names)}>")
        else:
            depth -= 1
            text = (element.text or "") if len(element) == 0 else ""
            if text:
                lines[-1] += text
    return lines


def sheet_labels(book: zipfile.ZipFile) -> dict[str, str]:
    """xl/worksheets/sheetN.xml → the sheet's name, from workbook.xml and its relationships."""
    if "xl/workbook.xml" not in book.namelist() or "xl/_rels/workbook.xml.rels" not in book.namelist():
        return {}
    targets = {
        rel.get("Id"): rel.get("Target", "")
        for rel in ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
        if rel.tag == f"{{{PACKAGE_RELATIONSHIPS}}}Relationship"
    }
    labels = {}
    for sheet in ElementTree.fromstring(book.read("xl/workbook.xml")).iter(f"{{{MAIN}}}sheet"):
        target = targets.get(sheet.get(f"{{{RELATIONSHIPS}}}id"), "")
        member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        labels[member] = sheet.get("name", "")
    return labels


def normalised(path: Path) -> dict[str, list[str]]:
    """Each member of the workbook → its element lines, ready to compare (binary members as a length and hash)."""
    with zipfile.ZipFile(path) as book:
        members = {}
        for member in sorted(book.namelist()):
            data = book.read(member)
            if not member.endswith((".xml", ".rels", ".vml")):
                members[member] = [f"{len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}"]
                continue
            lines = element_lines(data)
            if member == "docProps/core.xml":
                lines = [DATES.sub(r"\1", line) for line in lines]
            if _unordered(member):
                lines = lines[:1] + sorted(lines[1:])
            members[member] = lines
        return members


def label(book: Path, member: str, sheets: dict[str, str]) -> str:
    sheet = sheets.get(member)
    return f"{book.name} › {sheet} ({member})" if sheet else f"{book.name} › {member}"


def differences(got: Path, expected: Path) -> list[str]:
    """What differs between the two workbooks, as readable lines (empty when they are the same): members only in
    one of them, then for each member that differs its name (with the sheet's), the cells that moved, and a
    unified diff of its element lines, expected → got."""
    ours, theirs = normalised(got), normalised(expected)
    with zipfile.ZipFile(expected) as book:
        sheets = sheet_labels(book)
    report = []
    for member in sorted(set(theirs) - set(ours)):
        report.append(f"{label(expected, member, sheets)}: missing from {got}")
    for member in sorted(set(ours) - set(theirs)):
        report.append(f"{label(expected, member, sheets)}: not in the expected file {expected}")
    for member in sorted(set(ours) & set(theirs)):
        if ours[member] == theirs[member]:
            continue
        diff = list(difflib.unified_diff(theirs[member], ours[member], "expected", "got", n=1, lineterm=""))
        cells = sorted(
            {match[1] for line in diff[2:] if (match := re.match(r"^[-+]\s*([A-Z]+\d+): <c", line))},
            key=_cell_order,
        )
        where = f": cells {', '.join(cells[:20])}{' …' if len(cells) > 20 else ''}" if cells else ""
        report.append(f"{label(expected, member, sheets)} differs{where}")
        report.extend(diff[:MAX_LINES])
        if len(diff) > MAX_LINES:
            report.append(f"… {len(diff) - MAX_LINES} more diff lines")
    return report


def _cell_order(reference: str) -> tuple[int, int, str]:
    column, row = re.match(r"([A-Z]+)(\d+)", reference).groups()  # type: ignore[union-attr]
    return int(row), len(column), column
