"""A .zip dropped in the inbox (or attached to an email) is unpacked like an .eml: each workbook in it becomes a
submission of its own, with the zip's email origin; the zip itself is archived in 原件/压缩包/.

Every zip is untrusted. Its members are held to the policy's limits (each no larger than a file may be, all
together no larger than a workbook may expand to) before anything is written; zipfile never expands a member past
the size it declares, so one that lies about it fails its CRC and is refused as corrupt;
an archive inside the archive, a member with a password, a member that is corrupt or too large is not unpacked
and gets a finding naming it; a zip that cannot be opened at all, or whose every member has a password, one finding
for the whole zip. These findings belong to the zip's own result, so the sender is told (its reply lists them).
Member names from Windows zips (no UTF-8 flag: GBK, or CP437 as Python reads them) are decoded properly.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .atomic import replacing
from .findings import Finding, make_finding
from .inbox import STAGING_DIR, archive_name, finish_moves, free_path, safe_name
from .ledger import Ledger, file_hash
from .read import MB, SPREADSHEET_SUFFIXES, Limits
from .records import FileResult, MailOrigin

ZIP_DIR = "压缩包"  # under 原件/
ARCHIVE_SUFFIXES = (".zip", ".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".cab", ".arj", ".lzh")
DOCUMENT_SUFFIXES = (".doc", ".docx", ".pdf", ".wps", ".txt")  # unpacked too: the sender is told they are no table
MAX_MEMBERS = 1000
_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1
_IGNORED = ("__MACOSX/", "Thumbs.db", "desktop.ini", ".DS_Store")


@dataclass
class Unzipped:
    saved: list[Path] = field(default_factory=list)  # members written into the inbox, each its own submission
    results: list[FileResult] = field(default_factory=list)  # a zip with something refused: its findings


def is_zip(path: Path) -> bool:
    return path.suffix.lower() == ".zip"


def unpack_zip_files(
    zips: Sequence[Path],
    out: Path,
    archive: Path,
    ledger: Ledger,
    limits: Limits,
    first_seen: Mapping[str, dt.datetime],
    keep: bool = False,
) -> Unzipped:
    """Unpack each .zip like an .eml: its workbooks staged in OUT/.邮件附件/<its SHA-256>/ (each its own submission,
    arriving with the zip), the zip then archived in 原件/压缩包/ (copied, with `keep`). The same bytes are opened
    once: a zip opened already is only archived."""
    unzipped = Unzipped()
    for zipped in zips:
        sha = file_hash(zipped)
        opened = ledger.unpacked(sha) is not None
        if opened and keep:
            continue  # left in the inbox, archived the first time
        arrived = first_seen.get(zipped.name) or dt.datetime.now().replace(microsecond=0)
        origin = ledger.mail_origin(sha)
        target = free_path(archive / ZIP_DIR, safe_name(zipped.name), ledger.planned_targets())
        findings: list[Finding] = []
        if not opened:
            saved, findings = _unpack(zipped, out / STAGING_DIR / sha, ledger, limits, origin)
            unzipped.saved += saved
        with ledger.transaction():
            if not opened:
                ledger.mark_unpacked(sha, zipped.name, arrived)
            ledger.plan_moves([(zipped, target, sha, keep)], within_transaction=True)
        if findings:
            unzipped.results.append(FileResult(target, received=arrived, findings=findings, sha256=sha, origin=origin))
    finish_moves(ledger, out, verify=False)
    return unzipped


def _unpack(
    zipped: Path, inbox: Path, ledger: Ledger, limits: Limits, origin: MailOrigin | None
) -> tuple[list[Path], list[Finding]]:
    file = zipped.name
    try:
        with zipfile.ZipFile(zipped) as opened:
            members = [member for member in opened.infolist() if _worth_opening(member)]
            refusal = _refuse_whole(file, members, limits)
            if refusal is not None:
                return [], [refusal]
            arrived = zipped.stat().st_mtime
            saved: list[Path] = []
            findings: list[Finding] = []
            inbox.mkdir(parents=True, exist_ok=True)
            taken = {path.name for path in inbox.iterdir()}
            for member in members:
                name = member_name(member)
                problem = _refuse_member(file, name, member, limits)
                if problem is not None:
                    findings.append(problem)
                    continue
                if PurePosixPath(name).suffix.lower() not in (*SPREADSHEET_SUFFIXES, *DOCUMENT_SUFFIXES):
                    continue  # a photo or a readme beside the lists: as an email's other attachments
                target = archive_name(inbox, safe_name(PurePosixPath(name).name), taken)
                problem = _extract(opened, member, name, target, file, limits, ledger, origin)
                if problem is not None:
                    findings.append(problem)
                    continue
                os.utime(target, (arrived, arrived))  # it arrived with the zip (deadlines go by arrival)
                saved.append(target)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as error:
        return [], [make_finding("file_unreadable", file, reason=f"压缩包已损坏或不完整({type(error).__name__})")]
    return saved, findings


def _worth_opening(member: zipfile.ZipInfo) -> bool:
    """Files, not folders, nor what systems add beside them (__MACOSX, Thumbs.db, ~$ lock files)."""
    name = member_name(member)
    base = PurePosixPath(name).name
    return not member.is_dir() and not name.startswith(_IGNORED) and base not in _IGNORED and base[:1] not in ".~"


def member_name(member: zipfile.ZipInfo) -> str:
    """A member's name as its sender saw it. Without the UTF-8 flag Python reads the bytes as CP437; Windows'
    own zip writes the system's code page (GBK on Chinese Windows), some tools UTF-8 without the flag."""
    if member.flag_bits & _UTF8_FLAG:
        return member.filename
    try:
        raw = member.filename.encode("cp437")
    except UnicodeEncodeError:
        return member.filename
    for encoding in ("utf-8", "gbk"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            pass
    return member.filename


def _refuse_whole(file: str, members: list[zipfile.ZipInfo], limits: Limits) -> Finding | None:
    if len(members) > MAX_MEMBERS:
        reason = f"压缩包中有 {len(members)} 个文件,超过上限 {MAX_MEMBERS} 个"
        return make_finding("too_large", file, reason=reason)
    declared = sum(member.file_size for member in members)
    if declared > limits.max_unzipped_mb * MB:
        reason = f"压缩包解压后 {declared / MB:.0f} MB,超过上限 {limits.max_unzipped_mb} MB(疑似压缩炸弹,未解压)"
        return make_finding("too_large", file, reason=reason)
    if members and all(member.flag_bits & _ENCRYPTED_FLAG for member in members):
        return make_finding("archive_encrypted", file, value=file)
    return None


def _refuse_member(file: str, name: str, member: zipfile.ZipInfo, limits: Limits) -> Finding | None:
    if PurePosixPath(name).suffix.lower() in ARCHIVE_SUFFIXES:
        return make_finding("archive_nested", file, value=name)
    if member.flag_bits & _ENCRYPTED_FLAG:
        return make_finding("archive_encrypted", file, value=name)
    if member.file_size > limits.max_file_mb * MB:
        return _too_large(file, name, member.file_size, limits)
    return None


def _too_large(file: str, name: str, size: int, limits: Limits) -> Finding:
    reason = f"压缩包中的“{name}”解压后大于 {size / MB:.1f} MB,超过上限 {limits.max_file_mb} MB"
    return make_finding("too_large", file, value=name, reason=reason)


def _extract(
    opened: zipfile.ZipFile,
    member: zipfile.ZipInfo,
    name: str,
    target: Path,
    file: str,
    limits: Limits,
    ledger: Ledger,
    origin: MailOrigin | None,
) -> Finding | None:
    """Write one member into the inbox; remember the zip's email origin for it."""
    try:
        with replacing(target, target.with_name(f".{target.name}.unzipping")) as temporary:
            _copy_member(opened, member, temporary)
            if origin is not None:
                ledger.remember_mail(file_hash(temporary), target.name, origin)
    except _Damaged as damaged:
        reason = f"压缩包中的“{name}”已损坏,无法解开({type(damaged.error).__name__})"
        return make_finding("file_unreadable", file, value=name, reason=reason)
    return None


class _Damaged(Exception):
    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _copy_member(opened: zipfile.ZipFile, member: zipfile.ZipInfo, temporary: Path) -> None:
    try:
        with opened.open(member) as stream, temporary.open("wb") as out:
            shutil.copyfileobj(stream, out, 1 << 20)  # never more than the size checked: zipfile stops there
    except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError) as error:
        raise _Damaged(error) from error
