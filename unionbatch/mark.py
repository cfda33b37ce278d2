"""Mark the sender's own .xlsx/.xlsm in place, at the XML level: no round trip through a library.

Every part of the package is copied byte for byte except the few that must change: styles.xml gains one fill
per severity and, per affected cell style, a copy of that style with the fill (number format, font, border
kept); the affected sheets' cells get the new style index; comments (a comments part and its VML drawing,
merged with the sender's own comments) carry the messages; a 错误清单 sheet (strings inline) becomes the first
tab. Pictures in cells (WPS), shapes, charts, pivot tables, everything we do not model stays as it was.
Macros are dropped and the copy is an .xlsx.

Edits are splices at byte offsets that expat reports, so what is not edited keeps its exact bytes and its
namespace prefixes (a re-serialising parser renames them and breaks `mc:Ignorable`). Anything unexpected
raises MarkFailure; the caller then falls back to openpyxl.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

from defusedxml import ElementTree as SafeTree

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
OFFICE_DOCUMENT = f"{REL_NS}/officeDocument"
REL_WORKSHEET = f"{REL_NS}/worksheet"
REL_STYLES = f"{REL_NS}/styles"
REL_COMMENTS = f"{REL_NS}/comments"
REL_VML = f"{REL_NS}/vmlDrawing"
REL_VBA = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CT_WORKBOOK = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
CT_MACRO_WORKBOOK = "application/vnd.ms-excel.sheet.macroenabled.main+xml"
CT_RELS = "application/vnd.openxmlformats-package.relationships+xml"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
AUTHOR = "工会表格处理"
FILL_COLORS = {"error": "FFFFC7CE", "warning": "FFFFEB9C"}
_MACRO_PART = re.compile(r"(^|/)vba[^/]*\.(bin|xml)$", re.IGNORECASE)
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Worksheet children that come after legacyDrawing (CT_Worksheet is a sequence: order matters to Excel).
_AFTER_LEGACY_DRAWING = {
    "legacyDrawingHF",
    "drawingHF",
    "picture",
    "oleObjects",
    "controls",
    "webPublishItems",
    "tableParts",
    "extLst",
}
# Workbook children that come before definedNames.
_BEFORE_DEFINED_NAMES = (
    "fileVersion",
    "fileSharing",
    "workbookPr",
    "workbookProtection",
    "bookViews",
    "sheets",
    "functionGroups",
    "externalReferences",
)


class MarkFailure(Exception):
    """The package is not one we can edit safely; the caller falls back to a round trip."""


def xml_text(text: str) -> str:
    """A value as XML 1.0 can hold it: control characters (a pasted \\x02) shown as U+FFFD, so the sender sees
    where the invisible character was."""
    return _ILLEGAL_XML.sub("\ufffd", text)


# ---- what the caller hands us --------------------------------------------------------------


@dataclass(frozen=True)
class CellMark:
    severity: str  # "error" or "warning"
    comment: str


@dataclass(frozen=True)
class ListCell:
    text: str
    style: str = "body"  # title, note, header, body, error, warning


@dataclass
class ListSheet:
    """The 错误清单 as rows of text cells; rendered here as XML and by annotate.py with openpyxl."""

    name: str
    widths: Sequence[float]
    rows: list[list[ListCell]] = field(default_factory=list)
    heights: list[float] = field(default_factory=list)
    merged_rows: set[int] = field(default_factory=set)  # 1-based rows whose first cell spans the width
    header_row: int = 1


# ---- byte-offset view of an XML part -------------------------------------------------------


@dataclass
class Node:
    name: str  # qualified name as written (x:c or c)
    attrs: dict[str, str]
    start: int  # offset of '<'
    tag_end: int  # offset after the start tag's '>'
    end: int = 0  # offset after the element's last '>'
    children: list[Node] = field(default_factory=list)
    partial: bool = False  # a row whose cells row_cells has not read yet

    @property
    def local(self) -> str:
        return self.name.rpartition(":")[2]

    @property
    def empty(self) -> bool:
        return self.tag_end == self.end

    def child(self, local: str) -> Node | None:
        return next((node for node in self.children if node.local == local), None)

    def all(self, local: str) -> list[Node]:
        return [node for node in self.children if node.local == local]


def scan(data: bytes, max_depth: int = 99) -> Node:
    """The element tree of `data` down to `max_depth`, each element with its byte span."""
    if b"<!DOCTYPE" in data[:4096].upper():
        raise MarkFailure("DOCTYPE")
    parser = expat.ParserCreate()
    stack: list[Node] = []
    roots: list[Node] = []
    depth = 0

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth
        depth += 1
        if depth > max_depth + 1:
            return
        begin = parser.CurrentByteIndex
        tag_end = _start_tag_end(data, begin)
        node = Node(name, attrs, begin, tag_end)
        if data[tag_end - 2 : tag_end] == b"/>":
            node.end = tag_end
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)

    def end(name: str) -> None:
        nonlocal depth
        depth -= 1
        if depth > max_depth:
            return
        node = stack.pop()
        if not node.end:
            node.end = data.index(b">", parser.CurrentByteIndex) + 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise MarkFailure(f"XML: {error}") from error
    return roots[0]


_START_TAG = re.compile(rb"""<[^\s/>]+(?:[^>"']|"[^"]*"|'[^']*')*>""")
_ROW_TAG = re.compile(rb"<((?:[\w.-]+:)?row)[\s/>]")
_SHEET_DATA_TAG = re.compile(rb"<((?:[\w.-]+:)?sheetData)[\s/>]")
_ATTRIBUTE = re.compile(rb"""([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _start_tag_end(data: bytes, begin: int) -> int:
    """Offset after the '>' closing the start tag at `begin` ('>' may occur inside quoted attribute values)."""
    match = _START_TAG.match(data, begin)
    if match is None:
        raise MarkFailure("unterminated tag")
    return match.end()


def scan_sheet(data: bytes) -> Node:
    """A worksheet's elements with sheetData's rows (their cells loaded by row_cells, when needed): parsing every
    cell of a 20000-row sheet in Python takes seconds, a pattern finds the rows in milliseconds. Text can hold no
    '<', so a row tag is a row; a sheet with CDATA or XML comments is parsed in full instead."""
    opening = _SHEET_DATA_TAG.search(data)
    if b"<![CDATA[" in data or b"<!--" in data or opening is None:
        return scan(data, max_depth=3)
    content = _start_tag_end(data, opening.start())
    if data[content - 2 : content] == b"/>":
        return scan(data, max_depth=2)
    close = data.index(b"</" + opening[1], content)
    root = scan(data[:content] + data[close:], max_depth=2)
    shift = close - content
    for node in _walk(root):
        node.start, node.tag_end, node.end = (
            offset + shift if offset > content else offset for offset in (node.start, node.tag_end, node.end)
        )
    sheet_data = root.child("sheetData")
    assert sheet_data is not None
    for match in _ROW_TAG.finditer(data, content, close):
        begin = match.start()
        tag_end = _start_tag_end(data, begin)
        row = Node(match[1].decode(), _attributes(data[begin:tag_end]), begin, tag_end, partial=True)
        if data[tag_end - 2 : tag_end] == b"/>":
            row.end = tag_end
        else:
            row.end = data.index(b">", data.index(b"</" + match[1], tag_end)) + 1
        sheet_data.children.append(row)
    return root


def row_cells(data: bytes, row: Node) -> list[Node]:
    if row.partial and not row.empty:
        cells = scan(data[row.start : row.end], max_depth=1).children
        for node in _walk_all(cells):
            node.start, node.tag_end, node.end = node.start + row.start, node.tag_end + row.start, node.end + row.start
        row.children, row.partial = cells, False
    return row.children


def _walk(root: Node) -> list[Node]:
    return [root, *_walk_all(root.children)]


def _walk_all(nodes: list[Node]) -> list[Node]:
    found = []
    for node in nodes:
        found += _walk(node)
    return found


def _attributes(tag: bytes) -> dict[str, str]:
    return {
        match[1].decode(): (match[2] if match[2] is not None else match[3]).decode()
        for match in _ATTRIBUTE.finditer(tag)
    }


class Splicer:
    """Edits at byte offsets of one part, applied together (insertions at one offset keep their order)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.edits: list[tuple[int, int, int, bytes]] = []

    def replace(self, start: int, end: int, text: str | bytes) -> None:
        payload = text.encode() if isinstance(text, str) else text
        self.edits.append((start, end, len(self.edits), payload))

    def insert(self, at: int, text: str | bytes) -> None:
        self.replace(at, at, text)

    def set_attributes(self, node: Node, values: dict[str, str]) -> None:
        self.replace(node.start, node.tag_end, with_attributes(self.data[node.start : node.tag_end], values))

    def result(self) -> bytes:
        pieces, cursor = [], 0
        for start, end, _, payload in sorted(self.edits):
            if start < cursor:
                raise MarkFailure("overlapping edits")
            pieces += [self.data[cursor:start], payload]
            cursor = end
        pieces.append(self.data[cursor:])
        return b"".join(pieces)


def with_attributes(tag: bytes, values: dict[str, str]) -> bytes:
    """A start tag with attributes set (replaced where present, added before the closing '>' or '/>')."""
    for name, value in values.items():
        pattern = re.compile(rb"(\s)" + re.escape(name.encode()) + rb"""\s*=\s*("[^"]*"|'[^']*')""")
        encoded = quoteattr(value).encode()
        if pattern.search(tag):
            tag = pattern.sub(lambda match, encoded=encoded, name=name: match[1] + f"{name}=".encode() + encoded, tag)
        else:
            close = len(tag) - (2 if tag.endswith(b"/>") else 1)
            tag = tag[:close].rstrip() + f" {name}=".encode() + encoded + tag[close:]
    return tag


def without_attribute(tag: bytes, name: str) -> bytes:
    return re.sub(rb"\s" + re.escape(name.encode()) + rb"""\s*=\s*("[^"]*"|'[^']*')""", b"", tag)


def prefix_of(node: Node) -> str:
    """'x:' when the document writes its elements with a prefix, else ''."""
    return node.name[: -len(node.local)]


def cell_position(ref: str) -> tuple[int, int]:
    """'C12' -> (12, 3)."""
    match = re.fullmatch(r"\$?([A-Za-z]{1,3})\$?(\d+)", ref)
    if not match:
        raise MarkFailure(f"cell {ref}")
    column = 0
    for letter in match[1].upper():
        column = column * 26 + ord(letter) - 64
    return int(match[2]), column


def column_letters(column: int) -> str:
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# ---- package bookkeeping -------------------------------------------------------------------


@dataclass
class Relationship:
    id: str
    type: str
    target: str
    external: bool = False


def read_relationships(data: bytes | None) -> list[Relationship]:
    if data is None:
        return []
    root = SafeTree.fromstring(data)
    return [
        Relationship(rel.get("Id", ""), rel.get("Type", ""), rel.get("Target", ""), rel.get("TargetMode") == "External")
        for rel in root
        if rel.tag == f"{{{PKG_REL_NS}}}Relationship"
    ]


def write_relationships(relationships: Iterable[Relationship]) -> bytes:
    lines = [XML_DECLARATION, f'<Relationships xmlns="{PKG_REL_NS}">']
    for rel in relationships:
        mode = ' TargetMode="External"' if rel.external else ""
        lines.append(
            f"<Relationship Id={quoteattr(rel.id)} Type={quoteattr(rel.type)} Target={quoteattr(rel.target)}{mode}/>"
        )
    lines.append("</Relationships>")
    return "".join(lines).encode()


def rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def resolve(source_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def relative(source_part: str, target_part: str) -> str:
    return posixpath.relpath(target_part, posixpath.dirname(source_part) or ".")


def unused_id(relationships: Sequence[Relationship]) -> str:
    taken = {rel.id for rel in relationships}
    number = len(taken) + 1
    while f"rId{number}" in taken:
        number += 1
    return f"rId{number}"


@dataclass
class ContentTypes:
    defaults: dict[str, str]  # extension (lower case) -> type
    overrides: dict[str, str]  # part name without the leading '/' -> type

    @classmethod
    def parse(cls, data: bytes) -> ContentTypes:
        root = SafeTree.fromstring(data)
        defaults = {
            node.get("Extension", "").lower(): node.get("ContentType", "")
            for node in root
            if node.tag == f"{{{CT_NS}}}Default"
        }
        overrides = {
            node.get("PartName", "").lstrip("/"): node.get("ContentType", "")
            for node in root
            if node.tag == f"{{{CT_NS}}}Override"
        }
        return cls(defaults, overrides)

    def type_of(self, part: str) -> str | None:
        return self.overrides.get(part) or self.defaults.get(part.rpartition(".")[2].lower())

    def write(self) -> bytes:
        lines = [XML_DECLARATION, f'<Types xmlns="{CT_NS}">']
        lines += [
            f"<Default Extension={quoteattr(ext)} ContentType={quoteattr(ct)}/>" for ext, ct in self.defaults.items()
        ]
        lines += [
            f"<Override PartName={quoteattr('/' + p)} ContentType={quoteattr(ct)}/>" for p, ct in self.overrides.items()
        ]
        lines.append("</Types>")
        return "".join(lines).encode()


class Package:
    """The sender's zip: parts read on demand, changed parts and new parts kept aside until written."""

    def __init__(self, path: Path) -> None:
        self.archive = zipfile.ZipFile(path)
        self.names = [info.filename for info in self.archive.infolist()]
        self.changed: dict[str, bytes] = {}
        self.dropped: set[str] = set()

    def read(self, part: str) -> bytes | None:
        if part in self.changed:
            return self.changed[part]
        if part in self.dropped or part not in self.names:
            return None
        return self.archive.read(part)

    def require(self, part: str) -> bytes:
        data = self.read(part)
        if data is None:
            raise MarkFailure(f"missing {part}")
        return data

    def write_part(self, part: str, data: bytes) -> None:
        self.changed[part] = data
        self.dropped.discard(part)

    def drop(self, part: str) -> None:
        self.dropped.add(part)
        self.changed.pop(part, None)

    def exists(self, part: str) -> bool:
        return part in self.changed or (part in self.names and part not in self.dropped)

    def unused_name(self, pattern: str) -> str:
        number = 1
        while self.exists(pattern.format(number)):
            number += 1
        return pattern.format(number)

    def save(self, target: Path) -> None:
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
            for info in self.archive.infolist():
                if info.filename in self.dropped:
                    continue
                data = self.changed.pop(info.filename, None)
                if data is None:
                    data = self.archive.read(info)
                copy = zipfile.ZipInfo(info.filename, info.date_time)
                copy.compress_type = zipfile.ZIP_DEFLATED
                copy.external_attr = info.external_attr
                out.writestr(copy, data)
            for name, data in self.changed.items():
                out.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)

    def close(self) -> None:
        self.archive.close()


# ---- the marking ---------------------------------------------------------------------------


@dataclass
class Sheet:
    name: str
    part: str
    node: Node  # its <sheet> element in workbook.xml


def mark_package(source: Path, target: Path, marks: dict[tuple[str, str], CellMark], listing: ListSheet) -> None:
    """Write to `target` the package `source` with `marks` applied and `listing` as its first sheet."""
    package = Package(source)
    try:
        _mark(package, marks, listing)
        package.save(target)
    finally:
        package.close()


def _mark(package: Package, marks: dict[tuple[str, str], CellMark], listing: ListSheet) -> None:
    if any(name.startswith(("xl/macrosheets/", "xl/dialogsheets/")) for name in package.names):
        raise MarkFailure("Excel 4 macro sheets")
    types = ContentTypes.parse(package.require("[Content_Types].xml"))
    root_rels = read_relationships(package.require("_rels/.rels"))
    main = next((rel for rel in root_rels if rel.type == OFFICE_DOCUMENT), None)
    if main is None:
        raise MarkFailure("no workbook")
    workbook_part = resolve("", main.target)
    workbook_rels = read_relationships(package.read(rels_path(workbook_part)))
    _drop_macros(package, types, workbook_part, workbook_rels)
    workbook = scan(package.require(workbook_part), max_depth=2)
    sheets = _sheets(workbook, workbook_part, workbook_rels)
    styles = _Styles(package, workbook_part, workbook_rels, types)
    by_sheet: dict[str, dict[str, CellMark]] = {}
    for (sheet_name, ref), mark in marks.items():
        by_sheet.setdefault(sheet_name, {})[ref] = mark
    old_list = next((sheet for sheet in sheets if sheet.name == listing.name), None)
    for sheet in sheets:
        if sheet is old_list:
            continue
        cells = by_sheet.get(sheet.name, {})
        _mark_sheet(package, types, sheet, cells, styles)
    list_styles = styles.list_styles()
    styles.save()
    _add_list_sheet(package, types, workbook, workbook_part, workbook_rels, sheets, old_list, listing, list_styles)
    package.write_part(rels_path(workbook_part), write_relationships(workbook_rels))
    package.write_part("[Content_Types].xml", types.write())


def _drop_macros(package: Package, types: ContentTypes, workbook_part: str, rels: list[Relationship]) -> None:
    for rel in list(rels):
        if rel.type == REL_VBA:
            rels.remove(rel)
    for name in package.names:
        if _MACRO_PART.search(name):
            package.drop(name)
            package.drop(rels_path(name))
            types.overrides.pop(name, None)
    if types.overrides.get(workbook_part, "").lower() == CT_MACRO_WORKBOOK:
        types.overrides[workbook_part] = CT_WORKBOOK
    if "vbaproject" in types.defaults.get("bin", "").lower():
        untyped = [
            n for n in package.names if n.lower().endswith(".bin") and package.exists(n) and n not in types.overrides
        ]
        if not untyped:
            del types.defaults["bin"]


def _sheets(workbook: Node, workbook_part: str, rels: list[Relationship]) -> list[Sheet]:
    targets = {rel.id: resolve(workbook_part, rel.target) for rel in rels if rel.type == REL_WORKSHEET}
    sheets_node = workbook.child("sheets")
    if sheets_node is None:
        raise MarkFailure("no sheets")
    sheets = []
    for node in sheets_node.all("sheet"):
        rel_id = next((value for key, value in node.attrs.items() if key.endswith(":id")), None)
        if rel_id in targets:  # chart sheets and the like are left alone
            sheets.append(Sheet(node.attrs.get("name", ""), targets[rel_id], node))
    return sheets


class _Styles:
    """styles.xml, with fills and cell formats appended (never changed: other cells keep theirs)."""

    def __init__(self, package: Package, workbook_part: str, rels: list[Relationship], types: ContentTypes) -> None:
        rel = next((rel for rel in rels if rel.type == REL_STYLES), None)
        if rel is None:
            raise MarkFailure("no styles part")
        self.package = package
        self.part = resolve(workbook_part, rel.target)
        self.data = package.require(self.part)
        self.root = scan(self.data, max_depth=2)
        self.prefix = prefix_of(self.root)
        collections = {}
        for local in ("fonts", "fills", "borders", "cellXfs"):
            node = self.root.child(local)
            if node is None or node.empty:
                raise MarkFailure(f"styles without {local}")
            collections[local] = node
        self.collections = collections
        self.added: dict[str, list[str]] = {local: [] for local in collections}
        self.clones: dict[tuple[int, str], int] = {}
        self.fills = {severity: self._add("fills", self._fill(color)) for severity, color in FILL_COLORS.items()}

    def _count(self, local: str) -> int:
        return len(self.collections[local].children) + len(self.added[local])

    def _add(self, local: str, xml: str) -> int:
        index = self._count(local)
        self.added[local].append(xml)
        return index

    def _fill(self, color: str) -> str:
        p = self.prefix
        return (
            f'<{p}fill><{p}patternFill patternType="solid"><{p}fgColor rgb="{color}"/>'
            f'<{p}bgColor indexed="64"/></{p}patternFill></{p}fill>'
        )

    def marked(self, style: int, severity: str) -> int:
        """The cell format `style` with the severity's fill: a new cellXfs entry, one per (style, severity)."""
        key = (style, severity)
        if key not in self.clones:
            formats = self.collections["cellXfs"].children
            if not 0 <= style < len(formats):
                style = 0
            original = formats[style]
            xml = self.data[original.start : original.end]
            start = original.tag_end - original.start
            tag = with_attributes(xml[:start], {"fillId": str(self.fills[severity]), "applyFill": "1"})
            self.clones[key] = self._add("cellXfs", (tag + xml[start:]).decode())
        return self.clones[key]

    def list_styles(self) -> dict[str, int]:
        """Cell formats for the 错误清单: 宋体, wrapped, bordered; the level cell coloured."""
        p = self.prefix
        font = self._font(11, bold=False)
        bold = self._font(11, bold=True)
        title = self._font(16, bold=True)
        side = "".join(
            f'<{p}{edge} style="thin"><{p}color auto="1"/></{p}{edge}>' for edge in ("left", "right", "top", "bottom")
        )
        border = self._add("borders", f"<{p}border>{side}<{p}diagonal/></{p}border>")

        def xf(font_id: int, fill: int = 0, border_id: int = 0, horizontal: str = "left") -> int:
            alignment = f'<{p}alignment horizontal="{horizontal}" vertical="top" wrapText="1"/>'
            return self._add(
                "cellXfs",
                f'<{p}xf numFmtId="0" fontId="{font_id}" fillId="{fill}" borderId="{border_id}" xfId="0" '
                f'applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1">{alignment}</{p}xf>',
            )

        return {
            "title": xf(title, horizontal="center"),
            "note": xf(font),
            "header": xf(bold, border_id=border, horizontal="center"),
            "body": xf(font, border_id=border),
            "error": xf(font, self.fills["error"], border, "center"),
            "warning": xf(font, self.fills["warning"], border, "center"),
        }

    def _font(self, size: int, bold: bool) -> int:
        p = self.prefix
        weight = f"<{p}b/>" if bold else ""
        return self._add(
            "fonts", f'<{p}font>{weight}<{p}sz val="{size}"/><{p}name val="宋体"/><{p}charset val="134"/></{p}font>'
        )

    def save(self) -> None:
        splicer = Splicer(self.data)
        for local, node in self.collections.items():
            if not self.added[local]:
                continue
            close = self.data.rindex(b"</", node.start, node.end)
            splicer.insert(close, "".join(self.added[local]))
            splicer.set_attributes(node, {"count": str(self._count(local))})
        self.package.write_part(self.part, splicer.result())


# ---- one sheet -----------------------------------------------------------------------------


def _mark_sheet(
    package: Package, types: ContentTypes, sheet: Sheet, cells: dict[str, CellMark], styles: _Styles
) -> None:
    data = package.read(sheet.part)
    if data is None:
        return
    if not cells:
        _unselect(package, sheet.part, data)
        return
    root = scan_sheet(data)
    splicer = Splicer(data)
    _unselect_in(splicer, root)
    sheet_data = root.child("sheetData")
    if sheet_data is None:
        raise MarkFailure("no sheetData")
    _style_cells(splicer, root, sheet_data, cells, styles)
    rels_part = rels_path(sheet.part)
    rels = read_relationships(package.read(rels_part))
    _comment_cells(package, types, splicer, root, sheet.part, rels, cells)
    package.write_part(rels_part, write_relationships(rels))
    types.defaults.setdefault("rels", CT_RELS)
    package.write_part(sheet.part, splicer.result())


_TAB_SELECTED = re.compile(rb"""\stabSelected\s*=\s*("(1|true)"|'(1|true)')""")


def _unselect(package: Package, part: str, data: bytes) -> None:
    """Only the 错误清单 is the selected tab (two selected tabs are a group: edits would go to both)."""
    if _TAB_SELECTED.search(data):
        root = scan_sheet(data)
        splicer = Splicer(data)
        _unselect_in(splicer, root)
        package.write_part(part, splicer.result())


def _unselect_in(splicer: Splicer, root: Node) -> None:
    views = root.child("sheetViews")
    for view in views.all("sheetView") if views is not None else ():
        tag = splicer.data[view.start : view.tag_end]
        if _TAB_SELECTED.search(tag):
            splicer.replace(view.start, view.tag_end, without_attribute(tag, "tabSelected"))


def _style_cells(splicer: Splicer, root: Node, sheet_data: Node, cells: dict[str, CellMark], styles: _Styles) -> None:
    p = prefix_of(root)
    wanted: dict[int, dict[int, tuple[str, CellMark]]] = {}
    for ref, mark in cells.items():
        row, column = cell_position(ref)
        wanted.setdefault(row, {})[column] = (f"{column_letters(column)}{row}", mark)
    column_styles = _column_styles(root)
    rows = _numbered(sheet_data.children, "r", lambda value: int(value))
    for number, row in rows:
        targets = wanted.pop(number, None)
        if targets is None:
            continue
        row_style = int(row.attrs.get("s", "0")) if row.attrs.get("customFormat") in ("1", "true") else None
        present = _numbered(row_cells(splicer.data, row), "r", lambda value: cell_position(value)[1])
        inserts: dict[int, list[str]] = {}
        for column, (ref, mark) in sorted(targets.items()):
            cell = next((node for col, node in present if col == column), None)
            if cell is not None:
                style = styles.marked(int(cell.attrs.get("s", "0")), mark.severity)
                splicer.set_attributes(cell, {"s": str(style)})
                continue
            base = row_style if row_style is not None else column_styles.get(column, 0)
            after = next((node for col, node in present if col > column), None)
            at = after.start if after is not None else row.end  # row.end: an empty <row/> is rewritten below
            inserts.setdefault(at, []).append(f'<{p}c r="{ref}" s="{styles.marked(base, mark.severity)}"/>')
        if not inserts:
            continue
        tag = without_attribute(splicer.data[row.start : row.tag_end], "spans")  # spans: a hint we would falsify
        if row.empty:
            added = "".join(xml for group in inserts.values() for xml in group)
            splicer.replace(row.start, row.end, tag[:-2].rstrip() + b">" + added.encode() + f"</{p}row>".encode())
            continue
        splicer.replace(row.start, row.tag_end, tag)
        for at, pieces in inserts.items():
            splicer.insert(_content_end(splicer.data, row) if at == row.end else at, "".join(pieces))
    _add_rows(splicer, p, sheet_data, rows, wanted, column_styles, styles)


def _add_rows(
    splicer: Splicer,
    p: str,
    sheet_data: Node,
    rows: list[tuple[int, Node]],
    wanted: dict[int, dict[int, tuple[str, CellMark]]],
    column_styles: dict[int, int],
    styles: _Styles,
) -> None:
    """Rows the sheet does not have yet (a blank required cell below the last written row)."""
    inserts: dict[int, list[str]] = {}
    for number, targets in sorted(wanted.items()):
        cells = "".join(
            f'<{p}c r="{ref}" s="{styles.marked(column_styles.get(column, 0), mark.severity)}"/>'
            for column, (ref, mark) in sorted(targets.items())
        )
        after = next((row for row_number, row in rows if row_number > number), None)
        at = after.start if after is not None else -1
        inserts.setdefault(at, []).append(f'<{p}row r="{number}">{cells}</{p}row>')
    if sheet_data.empty and inserts:
        added = "".join(xml for group in inserts.values() for xml in group)
        splicer.replace(sheet_data.start, sheet_data.end, f"<{p}sheetData>{added}</{p}sheetData>")
        return
    if -1 in inserts:
        inserts[_content_end(splicer.data, sheet_data)] = inserts.pop(-1)
    for at, pieces in inserts.items():
        splicer.insert(at, "".join(pieces))


def _content_end(data: bytes, node: Node) -> int:
    """Where a last child goes: before the element's end tag."""
    return data.rindex(b"</", node.start, node.end)


def _numbered(nodes: list[Node], attribute: str, number: Callable[[str], int]) -> list[tuple[int, Node]]:
    """(index, node) for rows or cells; an element without r= follows the one before (the r= is optional)."""
    numbered, previous = [], 0
    for node in nodes:
        value = node.attrs.get(attribute)
        previous = number(value) if value else previous + 1
        numbered.append((previous, node))
    return numbered


def _column_styles(root: Node) -> dict[int, int]:
    styles: dict[int, int] = {}
    cols = root.child("cols")
    for col in cols.all("col") if cols is not None else ():
        if "style" in col.attrs:
            low, high = int(col.attrs.get("min", "1")), int(col.attrs.get("max", "1"))
            for column in range(low, min(high, 16384) + 1) if high - low < 1000 else ():
                styles[column] = int(col.attrs["style"])
    return styles


# ---- comments ------------------------------------------------------------------------------


def _comment_cells(
    package: Package,
    types: ContentTypes,
    splicer: Splicer,
    root: Node,
    sheet_part: str,
    rels: list[Relationship],
    cells: dict[str, CellMark],
) -> None:
    comments_rel = next((rel for rel in rels if rel.type == REL_COMMENTS), None)
    texts = {ref: xml_text(mark.comment) for ref, mark in cells.items()}
    if comments_rel is not None:
        part = resolve(sheet_part, comments_rel.target)
        package.write_part(part, _merge_comments(package.require(part), texts, AUTHOR))
    else:
        part = package.unused_name("xl/comments{}.xml")
        package.write_part(part, _new_comments(texts, AUTHOR))
        rels.append(Relationship(unused_id(rels), REL_COMMENTS, relative(sheet_part, part)))
        types.overrides[part] = CT_COMMENTS
    legacy = root.child("legacyDrawing")
    rel_id = next((v for k, v in legacy.attrs.items() if k.endswith(":id")), None) if legacy is not None else None
    vml_rel = next((rel for rel in rels if rel.id == rel_id and rel.type == REL_VML), None)
    if vml_rel is not None:
        vml_part = resolve(sheet_part, vml_rel.target)
        package.write_part(vml_part, _merge_vml(package.require(vml_part), list(cells), package))
        return
    if legacy is not None:
        raise MarkFailure("legacyDrawing without its VML")
    vml_part = package.unused_name("xl/drawings/vmlDrawing{}.vml")
    package.write_part(vml_part, _new_vml(list(cells), package))
    rel_id = unused_id(rels)
    rels.append(Relationship(rel_id, REL_VML, relative(sheet_part, vml_part)))
    if "vml" not in types.defaults and vml_part not in types.overrides:
        types.overrides[vml_part] = CT_VML
    following = next((node for node in root.children if node.local in _AFTER_LEGACY_DRAWING), None)
    at = following.start if following is not None else _content_end(splicer.data, root)
    p = prefix_of(root)
    splicer.insert(at, f'<{p}legacyDrawing xmlns:r="{REL_NS}" r:id="{rel_id}"/>')


def _comment_xml(ref: str, author: int, text: str, p: str = "") -> str:
    return f'<{p}comment ref="{ref}" authorId="{author}"><{p}text>{_run(text, p)}</{p}text></{p}comment>'


def _run(text: str, p: str = "") -> str:
    properties = f'<{p}rPr><{p}sz val="10"/><{p}rFont val="宋体"/><{p}charset val="134"/></{p}rPr>'
    return f'<{p}r>{properties}<{p}t xml:space="preserve">{escape(text)}</{p}t></{p}r>'


def _new_comments(texts: dict[str, str], author: str) -> bytes:
    ordered = sorted(texts.items(), key=lambda item: cell_position(item[0]))
    body = "".join(_comment_xml(ref, 0, text) for ref, text in ordered)
    return (
        f'{XML_DECLARATION}<comments xmlns="{MAIN_NS}"><authors><author>{escape(author)}</author></authors>'
        f"<commentList>{body}</commentList></comments>"
    ).encode()


def _merge_comments(data: bytes, texts: dict[str, str], author: str) -> bytes:
    """The sender's comments kept; ours appended to a cell's own comment, or added (a comment of ours from an
    earlier copy is replaced)."""
    root = scan(data, max_depth=3)
    p = prefix_of(root)
    authors, comment_list = root.child("authors"), root.child("commentList")
    if authors is None or comment_list is None:
        raise MarkFailure("comments part without authors or commentList")
    splicer = Splicer(data)
    names = [_element_text(data, node) for node in authors.all("author")]
    ours = names.index(author) if author in names else len(names)
    if author not in names:
        ours_xml = f"<{p}author>{escape(author)}</{p}author>"
        if authors.empty:
            splicer.replace(authors.start, authors.end, f"<{p}authors>{ours_xml}</{p}authors>")
        else:
            splicer.insert(_content_end(data, authors), ours_xml)
    remaining = dict(texts)
    for comment in comment_list.all("comment"):
        ref = comment.attrs.get("ref", "")
        if ref not in remaining:
            continue
        text = remaining.pop(ref)
        if comment.attrs.get("authorId") == str(ours):
            splicer.replace(comment.start, comment.end, _comment_xml(ref, ours, text, p))
        else:
            text_node = comment.child("text")
            if text_node is None or text_node.empty:
                raise MarkFailure("comment without text")
            splicer.insert(_content_end(data, text_node), _run("\n" + text, p))
    added = "".join(_comment_xml(ref, ours, text, p) for ref, text in remaining.items())
    if comment_list.empty:
        splicer.replace(comment_list.start, comment_list.end, f"<{p}commentList>{added}</{p}commentList>")
    elif added:
        splicer.insert(_content_end(data, comment_list), added)
    return splicer.result()


def _element_text(data: bytes, node: Node) -> str:
    if node.empty:
        return ""
    inner = data[node.tag_end : _content_end(data, node)].decode()
    return SafeTree.fromstring(f"<a>{inner}</a>").text or ""


_SHAPE_TYPE = (
    '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
    '<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
)


def _note_shapes(refs: list[str], first_id: int) -> str:
    shapes = []
    for offset, ref in enumerate(refs):
        row, column = cell_position(ref)
        anchor = f"{column}, 15, {max(row - 2, 0)}, 10, {column + 4}, 15, {row + 3}, 4"
        shapes.append(
            f'<v:shape id="_x0000_s{first_id + offset}" type="#_x0000_t202" '
            'style="position:absolute;margin-left:80pt;margin-top:2pt;width:240pt;height:90pt;z-index:1;'
            'visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/>'
            '<v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>'
            '<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div></v:textbox>'
            '<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f"<x:Anchor>{anchor}</x:Anchor><x:AutoFill>False</x:AutoFill>"
            f"<x:Row>{row - 1}</x:Row><x:Column>{column - 1}</x:Column></x:ClientData></v:shape>"
        )
    return "".join(shapes)


def _vml_blocks(package: Package) -> set[int]:
    """The shape-id blocks (o:idmap data) every VML part of the package already uses."""
    used = set()
    for name in package.names:
        if name.lower().endswith(".vml"):
            data = package.read(name) or b""
            for match in re.finditer(rb'data="([\d,\s]+)"', data):
                used |= {int(x) for x in re.findall(rb"\d+", match[1])}
    return used


def _new_vml(refs: list[str], package: Package) -> bytes:
    block = max(_vml_blocks(package), default=0) + 1
    return (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel">'
        f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{block}"/></o:shapelayout>'
        f"{_SHAPE_TYPE}{_note_shapes(refs, block * 1024 + 1)}</xml>"
    ).encode()


def _merge_vml(data: bytes, refs: list[str], package: Package) -> bytes:
    """Our note shapes added to the sender's VML (often not well-formed XML: Excel writes <br>), as text."""
    text = data.decode("utf-8", errors="strict")
    for namespace in (
        "urn:schemas-microsoft-com:vml",
        "urn:schemas-microsoft-com:office:office",
        "urn:schemas-microsoft-com:office:excel",
    ):
        if namespace not in text:
            raise MarkFailure("VML without the usual namespaces")
    existing = {
        ref
        for ref in refs
        if re.search(
            rf"<x:Row>\s*{cell_position(ref)[0] - 1}\s*</x:Row>\s*<x:Column>\s*{cell_position(ref)[1] - 1}\s*</x:Column>",
            text,
        )
    }
    new = [ref for ref in refs if ref not in existing]
    ids = [int(x) for x in re.findall(r"_x0000_s(\d+)", text)]
    first = max(ids, default=max(_vml_blocks(package), default=0) * 1024) + 1
    addition = ("" if 'id="_x0000_t202"' in text else _SHAPE_TYPE) + _note_shapes(new, first)
    close = text.lower().rindex("</xml>")
    return (text[:close] + addition + text[close:]).encode()


# ---- the 错误清单 sheet --------------------------------------------------------------------


def list_sheet_xml(listing: ListSheet, styles: dict[str, int]) -> bytes:
    width = len(listing.widths)
    last = column_letters(width)
    columns = "".join(
        f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(listing.widths, start=1)
    )
    rows = []
    for number, cells in enumerate(listing.rows, start=1):
        height = listing.heights[number - 1] if number <= len(listing.heights) else None
        size = f' ht="{height:g}" customHeight="1"' if height else ""
        xml = "".join(
            f'<c r="{column_letters(i)}{number}" s="{styles[cell.style]}" t="inlineStr">'
            f'<is><t xml:space="preserve">{escape(xml_text(cell.text))}</t></is></c>'
            for i, cell in enumerate(cells, start=1)
        )
        rows.append(f'<row r="{number}"{size}>{xml}</row>')
    merges = "".join(f'<mergeCell ref="A{r}:{last}{r}"/>' for r in sorted(listing.merged_rows))
    merged = f'<mergeCells count="{len(listing.merged_rows)}">{merges}</mergeCells>' if merges else ""
    top = listing.header_row + 1
    pane = f'<pane ySplit="{listing.header_row}" topLeftCell="A{top}" activePane="bottomLeft" state="frozen"/>'
    return (
        f'{XML_DECLARATION}<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
        f'<dimension ref="A1:{last}{max(len(listing.rows), 1)}"/>'
        f'<sheetViews><sheetView tabSelected="1" workbookViewId="0">{pane}'
        f'<selection pane="bottomLeft" activeCell="A{top}" sqref="A{top}"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{columns}</cols><sheetData>{"".join(rows)}</sheetData>'
        f'{merged}<printOptions horizontalCentered="1"/>'
        '<pageMargins left="0.4" right="0.4" top="0.6" bottom="0.6" header="0.3" footer="0.3"/>'
        '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
        "<headerFooter><oddFooter>&amp;C第 &amp;P 页,共 &amp;N 页</oddFooter></headerFooter></worksheet>"
    ).encode()


def _add_list_sheet(
    package: Package,
    types: ContentTypes,
    workbook: Node,
    workbook_part: str,
    rels: list[Relationship],
    sheets: list[Sheet],
    old_list: Sheet | None,
    listing: ListSheet,
    styles: dict[str, int],
) -> None:
    data = package.require(workbook_part)
    splicer = Splicer(data)
    sheets_node = workbook.child("sheets")
    assert sheets_node is not None
    entries = sheets_node.all("sheet")
    old_index = None
    if old_list is not None:
        old_index = entries.index(old_list.node)
        splicer.replace(old_list.node.start, old_list.node.end, b"")
        old_rel = next(rel for rel in rels if resolve(workbook_part, rel.target) == old_list.part)
        rels.remove(old_rel)
        for part in (old_list.part, rels_path(old_list.part)):
            package.drop(part)
            types.overrides.pop(part, None)
    part = package.unused_name("xl/worksheets/sheet{}.xml")
    package.write_part(part, list_sheet_xml(listing, styles))
    types.overrides[part] = CT_WORKSHEET
    rel_id = unused_id(rels)
    rels.append(Relationship(rel_id, REL_WORKSHEET, relative(workbook_part, part)))
    sheet_id = max((int(node.attrs.get("sheetId", "0")) for node in entries), default=0) + 1
    p = prefix_of(workbook)
    entry = f'<{p}sheet xmlns:r="{REL_NS}" name={quoteattr(listing.name)} sheetId="{sheet_id}" r:id="{rel_id}"/>'
    if sheets_node.empty:
        raise MarkFailure("workbook without sheets")
    splicer.insert(sheets_node.tag_end, entry)
    _shift_defined_names(splicer, workbook, old_index, listing, p)
    views = workbook.child("bookViews")
    for view in views.all("workbookView") if views is not None else ():
        splicer.set_attributes(view, {"activeTab": "0", "firstSheet": "0"})
    package.write_part(workbook_part, splicer.result())


def _shift_defined_names(splicer: Splicer, workbook: Node, removed: int | None, listing: ListSheet, p: str) -> None:
    """Sheet-scoped names (print areas, filters) follow their sheet: the new first tab moves the others one on."""
    names = workbook.child("definedNames")
    quoted = listing.name.replace("'", "''")
    titles = f'<{p}definedName name="_xlnm.Print_Titles" localSheetId="0">\'{escape(quoted)}\'!${listing.header_row}:${listing.header_row}</{p}definedName>'
    if names is None:
        following = [node for node in workbook.children if node.local not in _BEFORE_DEFINED_NAMES]
        at = following[0].start if following else _content_end(splicer.data, workbook)
        splicer.insert(at, f"<{p}definedNames>{titles}</{p}definedNames>")
        return
    if names.empty:
        splicer.replace(names.start, names.end, f"<{p}definedNames>{titles}</{p}definedNames>")
        return
    for node in names.all("definedName"):
        local = node.attrs.get("localSheetId")
        if local is None or not local.isdigit():
            continue
        index = int(local)
        if index == removed:
            splicer.replace(node.start, node.end, b"")
            continue
        shifted = index + 1 if removed is None or index < removed else index
        splicer.set_attributes(node, {"localSheetId": str(shifted)})
    splicer.insert(names.tag_end, titles)
