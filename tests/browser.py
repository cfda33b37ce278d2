"""A real headless Chromium (Debian's package) for the tests of the pages we write: the DOM after the page's script
ran, the console messages it logged, a screenshot and a print to PDF. No network: the page must stand alone."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
)


def chromium_binary() -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    assert binary, "headless Chromium is needed (apt-get install chromium; .ci/run installs it)"
    return binary


def run_chromium(page: Path, *arguments: str) -> tuple[str, list[str]]:
    """Open `page` with `arguments`: what Chromium printed, and the page's console messages."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        done = subprocess.run(
            [chromium_binary(), *FLAGS, f"--user-data-dir={profile}", *arguments, page.resolve().as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, console


def dump_dom(page: Path) -> tuple[str, list[str]]:
    return run_chromium(page, "--dump-dom")


def screenshot(page: Path, png: Path, width: int = 1400, height: int = 1800) -> list[str]:
    _, console = run_chromium(page, f"--screenshot={png}", f"--window-size={width},{height}")
    assert png.is_file()
    return console


def print_to_pdf(page: Path, pdf: Path) -> list[str]:
    _, console = run_chromium(page, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    assert pdf.is_file()
    return console


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The element's text, its descendants' included, with runs of white space made one space."""
        return " ".join("".join(self._texts()).split())

    def _texts(self) -> list[str]:
        texts = list(self.parts)
        for child in self.children:
            texts.append(" ")
            texts += child._texts()
        return texts

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Node]:
        found = []
        for child in self.children:
            wanted = (tag is None or child.tag == tag) and all(
                child.attrs.get(name.rstrip("_").replace("_", "-")) == value for name, value in attrs.items()
            )
            if wanted:
                found.append(child)
            found += child.find_all(tag, **attrs)
        return found


VOID = {"meta", "link", "br", "hr", "img", "input", "source", "wbr", "area", "base", "col", "embed", "track"}


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].parts.append(data)


def parse_html(html: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root
