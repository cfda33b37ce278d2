"""A .zip of workbooks, in the inbox or attached to an email, unpacked like an .eml.

tests/fixtures/zips/ holds zips with real password protection (Python's zipfile cannot write it), made with
Info-ZIP from two lists on our template (甲工会 make_people(3, seed=41), 乙工会 seed=42):
    zip -P secret 部分加密.zip 甲工会名单.xlsx && zip 部分加密.zip 乙工会名单.xlsx
    zip -P secret 加密.zip 甲工会名单.xlsx 乙工会名单.xlsx
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import shutil
import zipfile
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from tests.factory import fill_template, make_people
from unionbatch.ledger import Ledger
from unionbatch.pipeline import run_batch
from unionbatch.read import Limits
from unionbatch.unzip import member_name, unpack_zip_files

ZIPS = Path(__file__).resolve().parent / "fixtures" / "zips"
JIA, YI = make_people(3, seed=41), make_people(3, seed=42)


class WindowsName(zipfile.ZipInfo):
    """A member named as Windows' own 'send to compressed folder' names it: the system code page (GBK on
    Chinese Windows), without the UTF-8 flag."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # zipfile's own name for it
        return self.filename.encode("gbk"), self.flag_bits


def workbook_bytes(folder: Path, unit: str, people: list) -> bytes:
    return fill_template(folder / "make" / f"{unit}.xlsx", unit, people).read_bytes()


def windows_zip(folder: Path, members: dict[str, bytes]) -> bytes:
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(WindowsName(name, date_time=(2026, 11, 20, 9, 0, 0)), data)
    return stream.getvalue()


def run(folder: Path, **options: object):
    return run_batch(folder / "inbox", folder / "out", "2026-11", **options)


def test_each_workbook_in_a_zip_is_its_own_submission(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    data = windows_zip(
        tmp_path,
        {
            "11月慰问名单/甲工会名单.xlsx": workbook_bytes(tmp_path, "甲工会", JIA),
            "11月慰问名单/乙工会名单.xlsx": workbook_bytes(tmp_path, "乙工会", YI),
            "11月慰问名单/照片.jpg": b"\xff\xd8\xff not a table",
            "__MACOSX/11月慰问名单/._甲工会名单.xlsx": b"resource fork",
            "11月慰问名单/~$甲工会名单.xlsx": b"lock file",
        },
    )
    (inbox / "名单.zip").write_bytes(data)
    old = dt.datetime(2026, 11, 25, 16, 30)  # a copy keeping an old modification time: arrival is first sight
    os.utime(inbox / "名单.zip", (old.timestamp(), old.timestamp()))
    before = dt.datetime.now().replace(microsecond=0)
    report = run(tmp_path)
    ledger = Ledger(tmp_path / "out" / "ledger.sqlite")
    arrived = ledger.unpacked(hashlib.sha256(data).hexdigest())
    ledger.close()
    assert arrived is not None and arrived >= before
    assert {r.path.name: (r.unit, r.status, r.rows, r.received) for r in report.files} == {
        "甲工会名单.xlsx": ("甲工会", "accepted", 3, arrived),  # arrived when the zip did
        "乙工会名单.xlsx": ("乙工会", "accepted", 3, arrived),
    }
    archive = tmp_path / "out" / "2026-11" / "原件"
    assert (archive / "压缩包" / "名单.zip").read_bytes() == data  # the zip itself kept, untouched
    assert {path.name for path in archive.iterdir() if path.is_file()} == {"甲工会名单.xlsx", "乙工会名单.xlsx"}
    assert list(inbox.iterdir()) == []
    assert report.exit_code == 0


def test_member_names_from_windows_zips_are_decoded() -> None:
    """GBK bytes without the flag (read by Python as CP437), UTF-8 with the flag, UTF-8 without it (some tools)."""
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as archive:
        archive.writestr(WindowsName("慰问名单(终稿).xlsx"), b"x")
        archive.writestr("城东街道工会.xlsx", b"x")
    for path in ZIPS.glob("*.zip"):  # Info-ZIP on Linux: UTF-8 names
        assert {member_name(m) for m in zipfile.ZipFile(path).infolist()} == {"甲工会名单.xlsx", "乙工会名单.xlsx"}
    names = [member_name(member) for member in zipfile.ZipFile(stream).infolist()]
    assert names == ["慰问名单(终稿).xlsx", "城东街道工会.xlsx"]


def test_a_password_protected_member_is_refused_and_the_rest_unpacked(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(ZIPS / "部分加密.zip", inbox / "名单.zip")
    report = run(tmp_path)
    statuses = {r.path.name: r.status for r in report.files}
    assert statuses == {"乙工会名单.xlsx": "accepted", "名单.zip": "rejected"}
    [zipped] = [r for r in report.files if r.path.name == "名单.zip"]
    assert [(f.code, f.value) for f in zipped.findings] == [("archive_encrypted", "甲工会名单.xlsx")]
    assert "甲工会名单.xlsx" in zipped.findings[0].message and "密码" in zipped.findings[0].message


def test_a_zip_with_a_password_is_one_finding(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(ZIPS / "加密.zip", inbox / "加密.zip")
    report = run(tmp_path)
    [zipped] = report.files
    assert (zipped.path.name, [(f.code, f.value) for f in zipped.findings]) == (
        "加密.zip",
        [("archive_encrypted", "加密.zip")],
    )


def test_nested_archives_are_refused_by_name(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    inner = windows_zip(tmp_path, {"甲工会名单.xlsx": workbook_bytes(tmp_path, "甲工会", JIA)})
    outer = windows_zip(
        tmp_path, {"里层.zip": inner, "乙工会名单.xlsx": workbook_bytes(tmp_path, "乙工会", YI), "旧.rar": b"Rar!"}
    )
    (inbox / "外层.zip").write_bytes(outer)
    report = run(tmp_path)
    [zipped] = [r for r in report.files if r.path.name == "外层.zip"]
    assert [(f.code, f.value) for f in zipped.findings] == [
        ("archive_nested", "里层.zip"),
        ("archive_nested", "旧.rar"),
    ]
    assert {r.path.name for r in report.files} == {"外层.zip", "乙工会名单.xlsx"}


def test_zip_bombs_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    """Declared sizes over the limits refuse the member, or the whole zip."""
    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    inbox.mkdir()
    spaces = b" " * (3 * 1024 * 1024)
    with zipfile.ZipFile(inbox / "炸弹.zip", "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("大.xlsx", spaces)
        bomb.writestr("小.xlsx", b" ")
    ledger = Ledger(tmp_path / "ledger.sqlite")
    try:
        out = tmp_path / "out"
        zips = [inbox / "炸弹.zip"]
        unzipped = unpack_zip_files(zips, out, archive, ledger, Limits(max_file_mb=2, max_unzipped_mb=10), {})
        assert [p.name for p in unzipped.saved] == ["小.xlsx"]
        [result] = unzipped.results
        assert [(f.code, f.value) for f in result.findings] == [("too_large", "大.xlsx")]
        with zipfile.ZipFile(inbox / "总量.zip", "w", zipfile.ZIP_DEFLATED) as bomb:
            for number in range(4):
                bomb.writestr(f"{number}.xlsx", spaces)
        zips = [inbox / "总量.zip"]
        unzipped = unpack_zip_files(zips, out, archive, ledger, Limits(max_file_mb=5, max_unzipped_mb=10), {})
        [result] = unzipped.results
        assert unzipped.saved == [] and [f.code for f in result.findings] == ["too_large"]
        assert "疑似压缩炸弹" in result.findings[0].message
    finally:
        ledger.close()
    assert not list(out.rglob("[0-9].xlsx")) and not list(out.rglob("大.xlsx"))


def test_a_member_larger_than_it_declares_is_refused_as_corrupt(tmp_path: Path) -> None:
    """A bomb's trick: a small size in the central directory, a large expansion. Nothing past it is written."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("大.xlsx", b" " * (3 * 1024 * 1024))
    data = bytearray(stream.getvalue())
    entry = data.index(b"PK\x01\x02")
    data[entry + 24 : entry + 28] = (1000).to_bytes(4, "little")  # the uncompressed size it declares
    (inbox / "炸弹.zip").write_bytes(bytes(data))
    ledger = Ledger(tmp_path / "ledger.sqlite")
    try:
        zips = [inbox / "炸弹.zip"]
        unzipped = unpack_zip_files(zips, tmp_path / "out", tmp_path / "archive", ledger, Limits(max_file_mb=2), {})
    finally:
        ledger.close()
    assert unzipped.saved == []
    assert [(f.code, f.value) for f in unzipped.results[0].findings] == [("file_unreadable", "大.xlsx")]
    assert [path.name for path in inbox.iterdir()] == []  # the zip archived, nothing of it left behind
    assert not [path for path in (tmp_path / "out").rglob("*") if path.is_file()]


def test_a_corrupt_zip_is_unreadable(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "坏.zip").write_bytes(b"PK\x03\x04 truncated")
    [zipped] = run(tmp_path).files
    assert [f.code for f in zipped.findings] == ["file_unreadable"]
    assert (tmp_path / "out" / "2026-11" / "原件" / "压缩包" / "坏.zip").exists()


def test_a_zip_attached_to_an_email_answers_its_sender_for_each_member(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    message = EmailMessage()
    message["From"], message["Subject"] = "unit@test.example", "11月名单"
    message.set_content("附件是压缩包")
    message.add_attachment(
        (ZIPS / "部分加密.zip").read_bytes(), maintype="application", subtype="zip", filename="名单.zip"
    )
    (inbox / "邮件.eml").write_bytes(bytes(message))
    report = run(tmp_path)
    assert {r.path.name: (r.origin and r.origin.sender) for r in report.files} == {
        "乙工会名单.xlsx": "unit@test.example",
        "名单.zip": "unit@test.example",
    }
    outbox = tmp_path / "out" / "2026-11" / "outbox"
    replies = {path.name: path.read_bytes() for path in outbox.glob("*.eml")}
    assert set(replies) == {"回信_乙工会名单.eml", "回信_名单.eml"}
    answer = BytesParser(policy=email_policy.default).parsebytes(replies["回信_名单.eml"])
    assert answer["To"] == "unit@test.example" and answer["Subject"].startswith("【退回修改】")
    body = answer.get_body(("plain",))
    assert body is not None and "甲工会名单.xlsx" in body.get_content() and "密码" in body.get_content()


def test_keep_inbox_leaves_the_zip_and_does_not_count_it_twice(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    data = windows_zip(tmp_path, {"甲工会名单.xlsx": workbook_bytes(tmp_path, "甲工会", JIA)})
    (inbox / "名单.zip").write_bytes(data)
    for _ in range(2):
        report = run(tmp_path, keep_inbox=True)
        assert [(r.path.name, r.status) for r in report.files] == [("甲工会名单.xlsx", "accepted")]
    assert [path.name for path in inbox.iterdir()] == ["名单.zip"]
    assert [path.name for path in (tmp_path / "out" / "2026-11" / "原件" / "压缩包").iterdir()] == ["名单.zip"]
