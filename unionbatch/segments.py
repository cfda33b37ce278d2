"""Rendered rows kept between runs, and the zip writer that splices them into a workbook without deflating them again.

A consolidated workbook's big sheets (a city's 明细: 100,000 rows) are rows from many files. When one file arrives
late in the month, the rows of the other 499 are the same XML as in the last run, at the same place. Each file's
rows (a `RowBlock`) are rendered once, deflated on their own into a raw deflate stream that ends on a byte
boundary without closing it (zlib's Z_SYNC_FLUSH, as pigz joins its blocks), and kept here under a key naming
everything the XML depends on: the sheet's layout, the block's content, its first row. The next run splices a
kept segment back in, byte for byte, instead of rendering and deflating its rows again; the zip member's CRC-32
is combined from the pieces' CRCs (zlib's crc32_combine: combining needs only the length of what follows). The result is an ordinary deflate stream that any unzip reads; tests compare the workbooks with
freshly written ones.
"""

from __future__ import annotations

import os
import pickle
import stat
import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from .checkcache import DIGEST_SIZE, MAGIC, make_folder, read_entry, remove_temporaries, write_entry

ZIP_LEVEL = 1  # zlib's fastest; 2 and 3 gain a few per cent of size for up to half as much time again
_FINAL_EMPTY_BLOCK = b"\x03\x00"  # a last, empty fixed-Huffman block: closes a stream of sync-flushed pieces
_ZIP32_LIMIT = 0xFFFFFFFF


@dataclass(frozen=True)
class Segment:
    """Rows rendered as XML and deflated on their own, into a raw deflate stream ending on a byte boundary and not
    final: `length` and `crc` are those of the XML; `totals` the sums of the sheet's summed columns over the rows
    (None for the others); `rows` how many rows it holds. The stream is `data`, or kept at `path` (read when the
    workbook is packed: a city's segments are 190 MB, not held in memory while its sheets are written)."""

    data: bytes | None
    length: int
    crc: int
    totals: tuple[Decimal | None, ...]
    rows: int
    path: Path | None = None
    size: int = 0  # of the stream

    def stream(self) -> bytes:
        """The deflated rows (SegmentLost if the kept file went missing or was damaged since it was looked up)."""
        if self.data is not None:
            return self.data
        whole = read_entry(self.path) if self.path is not None else None
        if whole is None or len(whole) < _HEAD.size:
            raise SegmentLost(self.path)
        (meta_size,) = _HEAD.unpack_from(whole)
        data = whole[_HEAD.size + meta_size :]
        if len(data) != self.size:
            raise SegmentLost(self.path)
        return data


class SegmentLost(Exception):
    """A kept segment could not be read back when its workbook was packed: the workbook is written again afresh."""

    def __init__(self, path: Path | None) -> None:
        super().__init__(f"kept rows unreadable: {path}")
        self.path = path


def deflated(xml: bytes, level: int = ZIP_LEVEL) -> bytes:
    """`xml` as a raw deflate stream that other pieces may follow (byte-aligned, not final)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return compressor.compress(xml) + compressor.flush(zlib.Z_SYNC_FLUSH)


def segment_of(xml: bytes, totals: Sequence[Decimal | None], rows: int) -> Segment:
    data = deflated(xml)
    return Segment(data, len(xml), zlib.crc32(xml), tuple(totals), rows, size=len(data))


_POLY = 0xEDB88320  # CRC-32's polynomial, reflected


def _times(a: int, b: int) -> int:
    """a × b modulo the CRC polynomial (zlib's multmodp)."""
    product, bit = 0, 1 << 31
    while True:
        if a & bit:
            product ^= b
            if not a & (bit - 1):
                return product
        bit >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1


def _squares() -> list[int]:
    """x^(2^k) modulo the polynomial, k = 0 … 31 (zlib's x2n_table)."""
    powers, power = [], 1 << 30  # x^1
    for _ in range(32):
        powers.append(power)
        power = _times(power, power)
    return powers


_X2N = _squares()


def _shift(length: int) -> int:
    """x^(8 × length) modulo the polynomial: what appending `length` bytes does to a CRC (zlib's x2nmodp)."""
    product, k = 1 << 31, 3  # x^0; a byte is 2^3 bits
    while length:
        if length & 1:
            product = _times(_X2N[k & 31], product)
        length >>= 1
        k += 1
    return product


def crc32_combine(first: int, second: int, second_length: int) -> int:
    """The CRC-32 of A + B from crc(A), crc(B) and len(B), as zlib's crc32_combine (which Python's zlib does not
    offer): crc(A) carried over len(B) bytes, then crc(B) added. A few dozen operations, whatever the length."""
    return _times(_shift(second_length), first) ^ second


class SegmentStore:
    """The kept segments of one of a period's consolidated workbooks (OUT/.cache/segments/PERIOD/WORKBOOK), one file
    each, owner-only, written whole or not at all (checkcache's entries); one whose metadata is damaged reads as
    missing, one whose rows are is found out when packing (`Segment.stream`). `prune` removes those this store did not
    look up or keep: the rows of files the workbook no longer shows, or shows at other places."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.used: set[str] = set()
        self.hits = 0
        make_folder(folder)
        remove_temporaries(folder)

    def get(self, key: str) -> Segment | None:
        """The segment kept under `key` (its stream left on disk), if there is one of ours."""
        segment = self.made_elsewhere(key)
        self.hits += segment is not None
        return segment

    def made_elsewhere(self, key: str) -> Segment | None:
        """The segment kept under `key` by another process of this run (not counted as one kept before)."""
        self.used.add(key)
        path = self.folder / f"{key}.segment"
        meta = _read_meta(path)
        if meta is None:
            return None
        length, crc, totals, rows, size = meta
        return Segment(None, length, crc, totals, rows, path, size)

    def put(self, key: str, segment: Segment) -> Segment:
        """Keeps `segment`; returns it as kept (its stream on disk), or as it is if it could not be written."""
        self.used.add(key)
        path = self.folder / f"{key}.segment"
        data = segment.stream()
        meta = pickle.dumps((segment.length, segment.crc, segment.totals, segment.rows, len(data)))
        try:
            write_entry(path, _HEAD.pack(len(meta)) + meta + data)
        except OSError:  # without it the next run renders these rows again, nothing worse
            return segment
        return Segment(None, segment.length, segment.crc, segment.totals, segment.rows, path, len(data))

    def prune(self) -> None:
        for path in self.folder.glob("*.segment"):
            if path.stem not in self.used:
                path.unlink(missing_ok=True)


_HEAD = struct.Struct("<I")  # a kept segment: MAGIC, the digest of what follows, the size of the metadata, the
# metadata (length, crc, totals, rows, size of the stream), the stream


def _read_meta(path: Path) -> tuple[int, int, tuple[Decimal | None, ...], int, int] | None:
    """A kept segment's metadata, read without its stream (which `Segment.stream` reads and verifies)."""
    try:
        with open(path, "rb") as kept:
            info = os.fstat(kept.fileno())
            if info.st_uid != os.geteuid() or stat.S_IMODE(info.st_mode) & 0o077:
                return None
            head = kept.read(len(MAGIC) + DIGEST_SIZE + _HEAD.size)
            if len(head) < len(MAGIC) + DIGEST_SIZE + _HEAD.size or not head.startswith(MAGIC):
                return None
            (meta_size,) = _HEAD.unpack_from(head, len(MAGIC) + DIGEST_SIZE)
            meta = pickle.loads(kept.read(meta_size))
    except Exception:  # noqa: BLE001  # missing, unreadable or not ours: rendered again
        return None
    if not isinstance(meta, tuple) or len(meta) != 5:
        return None
    return meta


MARKER = "\x00"  # XML cannot hold NUL: a kept segment's place in a sheet's rows is written as NUL, its number, NUL


def marker(number: int) -> str:
    return f"{MARKER}{number}{MARKER}"


class SplicingZip:
    """The few calls xlsxwriter's Workbook._store_workbook makes of a ZipFile (`write` of each part's temporary
    file, `close`), writing a plain zip (no zip64: an Excel sheet stays far below 4 GB) with every part deflated at
    ZIP_LEVEL, and the kept segments of `pieces` (a part's name → its segments by number) spliced in where its
    XML holds their markers."""

    def __init__(self, filename: str, mode: str = "w", pieces: dict[str, list[Segment]] | None = None, **_: Any):
        assert mode == "w"
        self.compression = zlib.DEFLATED
        self.pieces = pieces or {}
        self.stream = open(filename, "wb")  # noqa: SIM115  # closed by close(), as ZipFile
        self.entries: list[tuple[bytes, int, int, int, int]] = []

    def write(self, filename: str, arcname: str, *_: Any, **__: Any) -> None:
        with open(filename, "rb") as part:
            xml = part.read()
        segments = self.pieces.get(arcname)
        if segments is None:
            self._add(arcname, [deflated(xml)], zlib.crc32(xml), len(xml))
            return
        texts = xml.split(MARKER.encode())  # text, number, text, number, …, text
        data, crc, length = [], 0, 0
        for index, piece in enumerate(texts):
            if index % 2:
                segment = segments[int(piece)]
                try:
                    data.append(segment.stream())
                except SegmentLost:
                    self.stream.close()
                    raise
                crc, length = crc32_combine(crc, segment.crc, segment.length), length + segment.length
            elif piece:
                data.append(deflated(piece))
                crc, length = zlib.crc32(piece, crc), length + len(piece)
        self._add(arcname, data, crc, length)

    def _add(self, name: str, data: Iterable[bytes], crc: int, length: int) -> None:
        encoded = name.encode("ascii")
        offset = self.stream.tell()
        pieces = [*data, _FINAL_EMPTY_BLOCK]
        size = sum(len(piece) for piece in pieces)
        if max(offset, size, length) > _ZIP32_LIMIT:
            raise OverflowError(f"{name}: larger than a zip without zip64 holds")
        self.stream.write(_LOCAL.pack(0x04034B50, 20, 0, 8, 0, _DOS_DATE, crc, size, length, len(encoded), 0))
        self.stream.write(encoded)
        for piece in pieces:
            self.stream.write(piece)
        self.entries.append((encoded, crc, size, length, offset))

    def close(self) -> None:
        start = self.stream.tell()
        for name, crc, size, length, offset in self.entries:
            self.stream.write(
                _CENTRAL.pack(
                    0x02014B50,
                    0x314,
                    20,
                    0,
                    8,
                    0,
                    _DOS_DATE,
                    crc,
                    size,
                    length,
                    len(name),
                    0,
                    0,
                    0,
                    0,
                    0o600 << 16,
                    offset,
                )
            )
            self.stream.write(name)
        end = self.stream.tell()
        count = len(self.entries)
        self.stream.write(_END.pack(0x06054B50, 0, 0, count, count, end - start, start, 0))
        self.stream.close()


# xlsxwriter dates its parts 1980-01-31 00:00 (portable across zip readers); the DOS date of that day
_DOS_DATE = (1980 - 1980) << 9 | 1 << 5 | 31
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
