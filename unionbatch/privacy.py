"""Personal data out of everything that leaves the office, and terminal tricks out of every line we print.

`mask_text` finds 身份证号 and phone numbers however they are written — in one piece, split by spaces or dashes
(`350103 19700601 4550`, `133-9600-5340`), behind a country code (`8613396005340`, `+86 133 9600 5340`) or glued to
letters (`ID110105…`) — and stars their middle digits, keeping the separators as typed. `clean_line` drops
control characters and terminal escape sequences, so a unit name cannot rewrite the console or split a log line.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import stat
import sys
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

# A run of digit groups joined by at most two separators (space, dash, no-break or ideographic space), perhaps
# behind a "+", perhaps ending in one letter (an ID's X, or a mistyped last character).
_SEPARATORS = " \u00a0\u3000\\-\u2010-\u2015\u2212\uff0d"
_RUN_RE = re.compile(rf"(?<!\d)\+?\d+(?:[{_SEPARATORS}]{{1,2}}\d+)*(?:[A-Za-z](?![A-Za-z]))?")
_GROUP_RE = re.compile(r"\d+|[A-Za-z]")
_MOBILE_RE = re.compile(r"(?:(?:00)?86)?1[3-9]\d{9}")
_LANDLINE_RE = re.compile(r"0\d{9,11}")
_ID18_RE = re.compile(r"\d{17}[\dXx]")
_LONGEST_SPLIT_ID = 18  # digits an ID written in pieces can have: a run of groups is never joined beyond it
MASK = "*"
_ASCII_DIGITS = {ord("０") + number: ord("0") + number for number in range(10)}


def mask_text(text: str) -> str:
    """Mask ID numbers (440103********1234) and phone numbers (138****8000) inside any text."""
    if not any(character.isdigit() for character in text):
        return text
    return _masked(text)


@functools.lru_cache(maxsize=1 << 14)
def _masked(text: str) -> str:
    """A run writes each finding's and file's lines several times (report.json, run.log, 处理报告, the status
    page): each text masked once."""
    return _RUN_RE.sub(_mask_run, text)


def mask_name(text: str) -> str:
    """mask_text for a file name: the stars full-width, since Windows forbids * in names."""
    return mask_text(text).replace(MASK, "\uff0a")


def _mask_run(match: re.Match[str]) -> str:
    original = match[0]
    run = original.translate(_ASCII_DIGITS)  # full-width digits are read as digits; positions stay the same
    groups = [(group.start(), group.end()) for group in _GROUP_RE.finditer(run)]
    characters = list(original)
    start = 0
    while start < len(groups):
        end = _longest_number_from(run, groups, start)
        if end is None:
            start += 1
            continue
        positions = [index for first, last in groups[start : end + 1] for index in range(first, last)]
        head, tail = _kept(run, groups, start, end)
        for index in positions[head : len(positions) - tail]:
            characters[index] = MASK
        start = end + 1
    return "".join(characters)


def _longest_number_from(run: str, groups: list[tuple[int, int]], start: int) -> int | None:
    """The last group of the longest ID or phone number that begins at group `start`, if any does."""
    ends = []
    length = 0
    for end in range(start, len(groups)):
        length += groups[end][1] - groups[end][0]
        if length > _LONGEST_SPLIT_ID and end > start:
            break
        ends.append(end)
    for end in reversed(ends):
        if _kind(run, groups, start, end) is not None:
            return end
    return None


def _kind(run: str, groups: list[tuple[int, int]], start: int, end: int) -> str | None:
    parts = [run[first:last] for first, last in groups[start : end + 1]]
    digits = "".join(parts)
    if _MOBILE_RE.fullmatch(digits):
        return "mobile"
    if start == end or (len(parts) == 2 and parts[-1].isalpha()):
        if len(parts[0]) >= 14:
            return "id"  # one piece of 14 or more digits: an ID, or one mistyped
    elif _ID18_RE.fullmatch(digits) and (_has_birth_date(digits[6:14]) or _id_grouping(parts)):
        return "id"
    elif len(digits) == 15 and digits.isdigit() and [len(part) for part in parts] == [6, 6, 3]:
        return "id"  # the old 15-digit ID, written 6-6-3
    if _LANDLINE_RE.fullmatch(digits) and (start == end or (parts[0].startswith("0") and len(parts[0]) in (3, 4))):
        return "landline"
    return None


def _has_birth_date(text: str) -> bool:
    return text[:2] in ("19", "20") and 1 <= int(text[4:6]) <= 12 and 1 <= int(text[6:8]) <= 31


def _id_grouping(parts: list[str]) -> bool:
    return [len(part) for part in parts] in ([6, 8, 4], [6, 8, 3, 1])


def _kept(run: str, groups: list[tuple[int, int]], start: int, end: int) -> tuple[int, int]:
    """How many leading and trailing characters of the number stay readable."""
    kind = _kind(run, groups, start, end)
    digits = "".join(run[first:last] for first, last in groups[start : end + 1])
    if kind == "mobile":
        return len(digits) - 8, 4
    if kind == "landline":
        first = groups[start][1] - groups[start][0]
        area = first if start != end else 4 if len(digits) >= 11 else 3
        return area, 4
    return 6, 4


# ESC [ … final byte (CSI: colours, cursor moves), ESC ] … BEL or ESC \ (OSC: window titles, links), ESC and one byte
_ESCAPE_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|\x9b[0-?]*[ -/]*[@-~]")
_BIDI = dict.fromkeys(map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def clean_line(text: str) -> str:
    """One printable line: escape sequences and bidirectional overrides removed, tabs and line breaks made
    spaces, every other control character dropped."""
    text = _ESCAPE_RE.sub("", text).translate(_BIDI)
    if text.isprintable():
        return text
    return "".join(
        " " if character in "\t\n\r\v\f\x85\u2028\u2029" else character
        for character in text
        if character in "\t\n\r\v\f\x85\u2028\u2029" or unicodedata.category(character) != "Cc"
    )


def console_line(text: str) -> str:
    """What any line printed or logged goes through: masked, then cleaned."""
    return clean_line(mask_text(text))


OWNER_ONLY_UMASK = 0o077  # what a run creates under OUT: folders 0700, files 0600


@contextmanager
def owner_only_files() -> Iterator[None]:
    """Everything created inside is readable by its owner only (the umask, restored afterwards)."""
    previous = os.umask(OWNER_ONLY_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def make_private(*paths: Path) -> None:
    """Existing folders to 0700 and files to 0600 (made by an earlier version, or before the umask was set);
    what is not ours, or gone, is left alone."""
    for path in paths:
        with suppress(OSError):
            mode = path.stat(follow_symlinks=False).st_mode
            if stat.S_ISDIR(mode) and stat.S_IMODE(mode) != 0o700:
                path.chmod(0o700)
            elif stat.S_ISREG(mode) and stat.S_IMODE(mode) != 0o600:
                path.chmod(0o600)


class MaskedFormatter(logging.Formatter):
    """Log records as console lines: masked (a traceback may quote a cell) and without control characters, each
    line of a multi-line record (a traceback) on its own."""

    def format(self, record: logging.LogRecord) -> str:
        return "\n".join(console_line(line) for line in super().format(record).splitlines())


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record comes (a test runner or a daemon may swap it)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def masked_logging() -> None:
    """The engine's log ("unionbatch") to stderr through MaskedFormatter, once per process."""
    logger = logging.getLogger("unionbatch")
    if any(isinstance(handler.formatter, MaskedFormatter) for handler in logger.handlers):
        return
    handler = _CurrentStderr()
    handler.setFormatter(MaskedFormatter("%(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
