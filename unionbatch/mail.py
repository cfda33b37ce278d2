"""Email in and out: attachments into the inbox (IMAP, or .eml files dropped there), replies to every
sender with the annotated workbook, reminders; sent over SMTP, or kept as .eml files in OUT/PERIOD/outbox/.

Settings come from the policy's [email] section; passwords only from environment variables. The ledger
remembers where each attachment came from and which replies were sent, so none is sent twice and a
reply that could not be sent is tried again by the next run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import smtplib
import ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from .findings import mask_text
from .inbox import STAGING_DIR, archive_name, finish_moves, free_path, kill_point, place, safe_name
from .ledger import Ledger, MailOrigin, file_hash
from .report import STATUS_TEXT, FileResult, Report

IMAP_PASSWORD = "UNIONBATCH_IMAP_PASSWORD"
SMTP_PASSWORD = "UNIONBATCH_SMTP_PASSWORD"
FETCHED_KEYWORD = "UnionbatchFetched"
KEPT_SUFFIXES = (
    ".xlsx",
    ".xlsm",
    ".xls",
    ".xlsb",
    ".ods",
    ".et",
    ".csv",
    ".doc",
    ".docx",
    ".pdf",
    ".wps",
    ".zip",
    ".rar",
)
SECURITY = ("ssl", "starttls", "none")


class MailError(Exception):
    """Mail cannot be fetched or sent (settings, password, server); a one-line Chinese reason."""


@dataclass(frozen=True)
class MailSettings:
    office_address: str = ""
    office_name: str = "工会办公室"
    imap_host: str = ""
    imap_port: int = 993
    imap_user: str = ""
    imap_folder: str = "INBOX"
    imap_security: str = "ssl"
    smtp_host: str = ""
    smtp_port: int = 465
    smtp_user: str = ""
    smtp_security: str = "ssl"
    tls_cafile: str = ""  # a CA bundle for a server with its own certificate
    findings_in_reply: int = 10

    @property
    def can_send(self) -> bool:
        return bool(self.smtp_host)


def parse_settings(section: Mapping[str, Any]) -> MailSettings:
    """[email] from the policy; raises ValueError naming the key."""
    defaults = MailSettings()
    unknown = sorted(set(section) - set(vars(defaults)))
    if unknown:
        raise ValueError(f"[email] 有无法识别的键:{'、'.join(unknown)}")
    values = {}
    for key, default in vars(defaults).items():
        value = section.get(key, default)
        if not isinstance(value, type(default)) or isinstance(value, bool):
            raise ValueError(f"email.{key} 应为{'整数' if isinstance(default, int) else '文字'},现在是“{value}”")
        values[key] = value
    for key in ("imap_security", "smtp_security"):
        if values[key] not in SECURITY:
            raise ValueError(f"email.{key} 应为 {' / '.join(SECURITY)} 之一,现在是“{values[key]}”")
    if values["smtp_host"] and not values["office_address"]:
        raise ValueError("设置了 email.smtp_host 时必须设置 email.office_address(回信的发件人)")
    return MailSettings(**values)


def _password(variable: str) -> str:
    value = os.environ.get(variable)
    if value is None:
        raise MailError(f"环境变量 {variable} 未设置(邮箱密码只从环境变量读取)")
    return value


def _tls(settings: MailSettings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=settings.tls_cafile or None)


# ---- in ------------------------------------------------------------------------------------


def mail_origin(message: EmailMessage) -> MailOrigin:
    return MailOrigin(
        sender=parseaddr(str(message.get("From", "")))[1].lower(),
        subject=str(message.get("Subject", "")),
        date=str(message.get("Date", "")),
        message_id=str(message.get("Message-ID", "")) or None,
    )


def _kept_attachments(message: EmailMessage) -> list[tuple[str, bytes]]:
    """(safe name, bytes) of each attachment worth answering, named apart from each other: 名单.xlsx, 名单(2).xlsx."""
    kept, taken = [], set()
    for part in message.iter_attachments():
        name = part.get_filename() or ""
        if name.lower().endswith(KEPT_SUFFIXES):
            kept.append((archive_name(Path(), safe_name(name), taken).name, part.get_payload(decode=True) or b""))
    return kept


def save_attachments(message: EmailMessage, inbox: Path, ledger: Ledger) -> list[Path]:
    """Write each attachment worth answering into the inbox (under a safe name no file there has: never over
    another file) and remember its origin."""
    origin = mail_origin(message)
    saved = []
    for name, data in _kept_attachments(message):
        temporary = inbox / f".{name}.saving"
        temporary.write_bytes(data)
        ledger.remember_mail(file_hash(temporary), name, origin)
        saved.append(place(temporary, inbox / name))
    return saved


def unpack_eml_files(
    emls: Sequence[Path], out: Path, archive: Path, ledger: Ledger, first_seen: Mapping[str, dt.datetime], keep: bool
) -> None:
    """Open the .eml files dropped in the inbox like fetched mail: each one's attachments saved into
    OUT/.邮件附件/<its SHA-256>/, where the run reads them, their origin remembered, the .eml then moved to
    原件/邮件/ (copied, with `keep`). The same bytes are opened once: a run stopped half-way saves the same
    attachments under the same names again, and an .eml opened already is only archived."""
    kept = archive / "邮件"
    for eml in emls:
        sha = file_hash(eml)
        opened = ledger.unpacked(sha) is not None
        if opened and keep:
            continue  # left in the inbox, archived the first time
        if not opened:
            with eml.open("rb") as stream:
                message = BytesParser(policy=email_policy.default).parse(stream)
            saved = _stage(message, out / STAGING_DIR / sha)  # type: ignore[arg-type]
        target = free_path(kept, safe_name(eml.name), ledger.planned_targets())
        with ledger.transaction():
            if not opened:
                origin = mail_origin(message)  # type: ignore[arg-type]
                for path, attachment_sha in saved:
                    ledger.remember_mail(attachment_sha, path.name, origin)
                ledger.mark_unpacked(
                    sha, eml.name, first_seen.get(eml.name) or dt.datetime.now().replace(microsecond=0)
                )
            ledger.plan_moves([(eml, target, sha, keep)], within_transaction=True)
        kill_point("eml_recorded")
    finish_moves(ledger, out, verify=False)


def _stage(message: EmailMessage, folder: Path) -> list[tuple[Path, str]]:
    """The attachments written into `folder` (ours: a name written before is written again), with their hashes."""
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for name, data in _kept_attachments(message):
        temporary = folder / f".{name}.saving"
        temporary.write_bytes(data)
        temporary.replace(folder / name)
        kill_point("attachment_staged")
        saved.append((folder / name, hashlib.sha256(data).hexdigest()))
    return saved


def fetch_mail(settings: MailSettings, inbox: Path, ledger: Ledger) -> tuple[int, list[Path]]:
    """New messages from the IMAP folder: attachments saved, each message then flagged so it is never read twice."""
    from imap_tools import AND, MailBox, MailBoxStartTls, MailBoxUnencrypted  # only when fetching

    if not settings.imap_host:
        raise MailError("策略文件中未设置 email.imap_host")
    boxes = {"ssl": MailBox, "starttls": MailBoxStartTls, "none": MailBoxUnencrypted}
    box_class = boxes[settings.imap_security]
    options: dict[str, Any] = {} if settings.imap_security == "none" else {"ssl_context": _tls(settings)}
    saved: list[Path] = []
    messages = 0
    try:
        with box_class(settings.imap_host, settings.imap_port, **options).login(
            settings.imap_user, _password(IMAP_PASSWORD), initial_folder=settings.imap_folder
        ) as mailbox:
            for item in mailbox.fetch(AND(no_keyword=FETCHED_KEYWORD), mark_seen=False, bulk=False):
                message = BytesParser(policy=email_policy.default).parsebytes(item.obj.as_bytes())
                saved += save_attachments(message, inbox, ledger)  # type: ignore[arg-type]
                mailbox.flag(item.uid, (FETCHED_KEYWORD, "\\Seen"), True)
                messages += 1
    except MailError:
        raise
    except Exception as error:  # imap_tools and sockets raise many kinds; one line for the user
        raise MailError(f"无法从 {settings.imap_host}:{settings.imap_port} 收取邮件:{error}") from error
    return messages, saved


# ---- out -----------------------------------------------------------------------------------


def reply_for(result: FileResult, report: Report, settings: MailSettings) -> EmailMessage | None:
    """The answer to one emailed submission: 【已受理】 or 【退回修改】, counts, first findings, annotated copy."""
    origin = result.origin
    if origin is None:
        return None
    verdict = "已受理" if result.accepted else "退回修改"
    what = " ".join(part for part in (result.kind, result.unit, report.period) if part) or result.path.name
    message = _message(settings, origin.sender, f"【{verdict}】{what}")
    if origin.message_id:
        message["In-Reply-To"] = origin.message_id
        message["References"] = origin.message_id
    message.set_content(_reply_body(result, report, settings))
    if result.annotated and result.annotated.exists():
        message.add_attachment(
            result.annotated.read_bytes(),
            maintype="application",
            subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            filename=result.annotated.name,
        )
    return message


def _reply_body(result: FileResult, report: Report, settings: MailSettings) -> str:
    lines = [
        f"{result.unit or '您好'}:",
        "",
        f"您报送的文件《{result.path.name}》({result.kind or '未识别的表格'},{report.period})已处理,"
        f"结果:{STATUS_TEXT[result.status]}。",
        f"共 {result.rows} 行,错误 {result.errors} 个,警告 {result.warnings} 个。",
    ]
    if result.changes:
        lines.append(f"本文件替换了此前报送的《{result.changes.previous_file}》。")
    if result.findings:
        lines += ["", "请对照附件中标注的单元格修改。" if result.errors else "警告不影响受理,请核实。"]
        shown = result.findings[: settings.findings_in_reply]
        for number, finding in enumerate(shown, start=1):
            place = f"{finding.sheet}!{finding.cell}" if finding.cell else "整个文件"
            lines.append(f"{number}. {place} {finding.field or ''} {finding.message}".replace("  ", " "))
        if len(result.findings) > len(shown):
            lines.append(f"……另有 {len(result.findings) - len(shown)} 个问题,见附件第一张工作表“错误清单”。")
    if any(finding.code == "late_submission" for finding in result.findings):
        lines += ["", "报送已截止,重新发送也不能计入;如有特殊情况,请直接与工会办公室联系。"]
    elif result.errors:
        lines += ["", "修改后请回复本邮件,重新附上整张表格。"]
    lines += ["", f"此邮件由工会表格处理系统自动发送。{settings.office_name}"]
    return mask_text("\n".join(lines))


def reminder_message(settings: MailSettings, to: str, subject: str, text: str) -> EmailMessage:
    message = _message(settings, to, subject)
    message.set_content(mask_text(text))
    return message


def _message(settings: MailSettings, to: str, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = (
        f"{settings.office_name} <{settings.office_address}>" if settings.office_address else settings.office_name
    )
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    domain = settings.office_address.partition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    return message


def write_eml(message: EmailMessage, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(bytes(message))
    temporary.replace(path)
    return path


def send_pending(settings: MailSettings, ledger: Ledger, out: Path) -> tuple[int, int, str | None]:
    """Send every queued reply not yet sent: (sent, failed, why the server could not be used).
    A failure stays queued for the next run."""
    pending = ledger.pending_replies()
    if not pending or not settings.can_send:
        return 0, 0, None
    sent = failed = 0
    try:
        with _smtp(settings) as server:
            for reply in pending:
                eml = out / reply["eml_path"]
                try:
                    server.send_message(BytesParser(policy=email_policy.default).parsebytes(eml.read_bytes()))
                except (smtplib.SMTPException, OSError) as error:
                    ledger.mark_failed(reply["submission_sha256"], str(error))
                    failed += 1
                else:
                    ledger.mark_sent(reply["submission_sha256"])
                    sent += 1
    except (MailError, smtplib.SMTPException, OSError) as error:
        for reply in pending[sent + failed :]:
            ledger.mark_failed(reply["submission_sha256"], str(error))
        return sent, len(pending) - sent, str(error)
    return sent, failed, None


def send_messages(settings: MailSettings, messages: Iterable[EmailMessage]) -> int:
    with _smtp(settings) as server:
        count = 0
        for message in messages:
            server.send_message(message)
            count += 1
    return count


def _smtp(settings: MailSettings) -> smtplib.SMTP:
    try:
        if settings.smtp_security == "ssl":
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.smtp_host, settings.smtp_port, context=_tls(settings), timeout=30
            )
        else:
            server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)
            if settings.smtp_security == "starttls":
                server.starttls(context=_tls(settings))
        if settings.smtp_user:
            server.login(settings.smtp_user, _password(SMTP_PASSWORD))
    except (smtplib.SMTPException, OSError) as error:
        raise MailError(f"无法连接发信服务器 {settings.smtp_host}:{settings.smtp_port}:{error}") from error
    return server


def outbox_name(result: FileResult) -> str:
    return f"回信_{result.path.stem}.eml"
