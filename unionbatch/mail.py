"""Email in and out: attachments into the inbox (IMAP, or .eml files dropped there), replies to every
sender with the annotated workbook, reminders; sent over SMTP, or kept as .eml files in OUT/PERIOD/outbox/.

Settings come from the policy's [email] section; passwords only from environment variables. The ledger
remembers where each attachment came from and which replies were sent, so none is sent twice and a
reply that could not be sent is tried again by the next run.
"""

from __future__ import annotations

import datetime as dt
import email.errors
import hashlib
import os
import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email import policy as email_policy
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from .atomic import write_atomically
from .compute import period_words
from .failures import os_reason
from .findings import Finding
from .inbox import STAGING_DIR, archive_name, finish_moves, free_path, kill_point, place, safe_name
from .ledger import Ledger, file_hash
from .privacy import clean_line, mask_name, mask_text
from .records import FileResult, MailOrigin, Report
from .report import STATUS_TEXT, status_text

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
    ".ett",
    ".csv",
    ".doc",
    ".docx",
    ".pdf",
    ".wps",
    ".zip",
    ".rar",
)
SECURITY = ("ssl", "starttls", "none")
# The From of a mail written while the policy names no office address: a proper address that can never be
# delivered (RFC 6761 reserves .invalid), replaced by the real one when the mail is sent over SMTP.
UNSET_ADDRESS = "office-address-unset@invalid"
TYPE_NAMES = {int: "整数", str: "文字(用英文双引号括起)", bool: " true 或 false"}
INT_RANGES = {
    "imap_port": (1, 65535),
    "smtp_port": (1, 65535),
    "findings_in_reply": (0, 1000),
    "max_message_mb": (1, 1024),
}


class MailError(Exception):
    """Mail cannot be fetched or sent (settings, password, server); a one-line Chinese reason."""


@dataclass(frozen=True)
class MailSettings:
    office_address: str = ""
    office_name: str = "工会办公室"
    office_phone: str = ""  # in every mail's signature, for a unit with questions
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
    max_message_mb: int = 50  # a larger message is not fetched: flagged in the mailbox and reported
    require_authentication: bool = False  # count a message only if the receiving server vouches for its From

    @property
    def can_send(self) -> bool:
        return bool(self.smtp_host)

    @property
    def sender_address(self) -> str:
        """The office's address for From and the signature: office_address, else the mailbox the units send to
        (imap_user, when it is an address); "" when the policy names neither."""
        if self.office_address:
            return self.office_address
        return self.imap_user if "@" in self.imap_user else ""


def unset_sender_warning(settings: MailSettings, written: int, what: str) -> str | None:
    """The line that tells the office its `written` mails (.eml, `what`: 回信 / 催报邮件) carry no real From."""
    if not written or settings.sender_address:
        return None
    return (
        f"注意:策略文件 [email] 中没有办公室邮箱(office_address),outbox 中的 {written} 封{what}发件人"
        f"暂写为 {settings.office_name} <{UNSET_ADDRESS}>(不是真实地址);"
        "请填写 office_address,以后用 send 发送时会按它重新填写发件人"
    )


def parse_settings(section: Mapping[str, Any]) -> MailSettings:
    """[email] from the policy; raises ValueError naming the key."""
    defaults = MailSettings()
    unknown = sorted(set(section) - set(vars(defaults)))
    if unknown:
        raise ValueError(f"[email] 有无法识别的键:{'、'.join(unknown)}")
    values = {}
    for key, default in vars(defaults).items():
        value = section.get(key, default)
        if type(value) is not type(default):
            raise ValueError(f"email.{key} 应为{TYPE_NAMES[type(default)]},现在是“{value}”")
        low, high = INT_RANGES.get(key, (0, 0))
        if isinstance(value, int) and not isinstance(value, bool) and not low <= value <= high:
            raise ValueError(f"email.{key} 应在 {low} 至 {high} 之间,现在是“{value}”")
        values[key] = value.strip() if isinstance(value, str) else value
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


def _kept_attachments(message: EmailMessage) -> list[tuple[str, bytes]]:
    """(safe name, bytes) of each attachment worth answering, named apart from each other: 名单.xlsx, 名单(2).xlsx."""
    kept, taken = [], set()
    for part in message.iter_attachments():
        name = part.get_filename() or ""
        if name.lower().endswith(KEPT_SUFFIXES):
            kept.append((archive_name(Path(), safe_name(name), taken).name, part.get_payload(decode=True) or b""))
    return kept


def save_attachments(
    message: EmailMessage, inbox: Path, ledger: Ledger, require_authentication: bool = False
) -> list[Path]:
    """Write each attachment worth answering into the inbox (under a safe name no file there has: never over
    another file) and remember its origin."""
    origin = mail_origin(message, require_authentication)
    saved = []
    for name, data in _kept_attachments(message):
        temporary = inbox / f".{name}.saving"
        temporary.write_bytes(data)
        ledger.remember_mail(file_hash(temporary), name, origin)
        saved.append(place(temporary, inbox / name))
    return saved


def unpack_eml_files(
    emls: Sequence[Path],
    out: Path,
    archive: Path,
    ledger: Ledger,
    first_seen: Mapping[str, dt.datetime],
    keep: bool,
    require_authentication: bool = False,
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
                origin = mail_origin(message, require_authentication)  # type: ignore[arg-type]
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
        write_atomically(folder / name, data, ".saving")
        kill_point("attachment_staged")
        saved.append((folder / name, hashlib.sha256(data).hexdigest()))
    return saved


@dataclass
class Fetched:
    """What one fetch took: messages read, attachments saved, and one Chinese line per message refused."""

    messages: int = 0
    saved: list[Path] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def fetch_mail(settings: MailSettings, inbox: Path, ledger: Ledger) -> Fetched:
    """New messages from the IMAP folder: attachments saved, each message then flagged so it is never read twice.

    A message that cannot be taken (too large, an oversized header, a structure the parser refuses) is flagged
    too, left unread for the office to see, and reported with the reason; the messages behind it are fetched."""
    from imap_tools import AND, MailBox, MailBoxStartTls, MailBoxUnencrypted  # only when fetching

    if not settings.imap_host:
        raise MailError("策略文件中未设置 email.imap_host")
    boxes = {"ssl": MailBox, "starttls": MailBoxStartTls, "none": MailBoxUnencrypted}
    box_class = boxes[settings.imap_security]
    options: dict[str, Any] = {} if settings.imap_security == "none" else {"ssl_context": _tls(settings)}
    fetched = Fetched()
    try:
        with box_class(settings.imap_host, settings.imap_port, **options).login(
            settings.imap_user, _password(IMAP_PASSWORD), initial_folder=settings.imap_folder
        ) as mailbox:
            for uid in mailbox.uids(AND(no_keyword=FETCHED_KEYWORD)):
                refusal = _take(mailbox.client, uid, settings, inbox, ledger, fetched)
                if refusal is None:
                    mailbox.flag(uid, (FETCHED_KEYWORD, "\\Seen"), True)
                else:
                    mailbox.flag(uid, (FETCHED_KEYWORD, REFUSED_KEYWORD), True)
                    fetched.refused.append(refusal)
                fetched.messages += 1
    except MailError:
        raise
    except OSError as error:
        if error.filename is not None:  # ours, not the server's: the inbox cannot be written
            raise MailError(f"无法写入收件箱 {inbox}:{os_reason(error)}") from error
        raise MailError(f"无法从 {settings.imap_host}:{settings.imap_port} 收取邮件:{imap_reason(error)}") from error
    except Exception as error:  # imap_tools and sockets raise many kinds; one line for the user
        raise MailError(f"无法从 {settings.imap_host}:{settings.imap_port} 收取邮件:{imap_reason(error)}") from error
    return fetched


MAX_HEADER_BYTES = 64 * 1024  # legitimate headers, Received chains included, stay far below
MAX_PARTS = 500
REFUSED_KEYWORD = "UnionbatchRefused"
_SIZE_RE = re.compile(rb"RFC822\.SIZE (\d+)")
# What the email package raises on a message it cannot take apart (an encoded CR/LF in an address, a bad charset)
MESSAGE_ERRORS = (ValueError, LookupError, IndexError, email.errors.MessageError)


def _take(client: Any, uid: str, settings: MailSettings, inbox: Path, ledger: Ledger, fetched: Fetched) -> str | None:
    """Fetch one message and save its attachments; the reason (a Chinese line) if it is refused instead."""
    limit = settings.max_message_mb * 1024 * 1024
    size = _message_size(client, uid)
    if size > limit:
        return _refusal(
            _header_bytes(client, uid), f"邮件过大({size / 1048576:.1f} MB,上限 {settings.max_message_mb} MB)"
        )
    raw = _message_bytes(client, uid)
    head = _header_block(raw)
    if len(head) > MAX_HEADER_BYTES:
        return _refusal(head, f"邮件头过大({len(head) // 1024} KB,上限 {MAX_HEADER_BYTES // 1024} KB)")
    try:
        message = BytesParser(policy=email_policy.default).parsebytes(raw)
        if sum(1 for _ in message.walk()) > MAX_PARTS:
            return _refusal(head, f"邮件分段过多(超过 {MAX_PARTS} 段)")
        fetched.saved += save_attachments(message, inbox, ledger, settings.require_authentication)  # type: ignore[arg-type]
    except MESSAGE_ERRORS as error:
        return _refusal(head, f"邮件格式无法解析({type(error).__name__}: {error})")
    return None


def _message_size(client: Any, uid: str) -> int:
    _, data = client.uid("FETCH", uid, "(RFC822.SIZE)")
    found = _SIZE_RE.search(b" ".join(item if isinstance(item, bytes) else item[0] for item in data if item))
    return int(found[1]) if found else 0


def _message_bytes(client: Any, uid: str) -> bytes:
    _, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
    return next((item[1] for item in data if isinstance(item, tuple)), b"")


def _header_bytes(client: Any, uid: str) -> bytes:
    _, data = client.uid("FETCH", uid, f"(BODY.PEEK[HEADER]<0.{MAX_HEADER_BYTES}>)")
    return next((item[1] for item in data if isinstance(item, tuple)), b"")


def _header_block(raw: bytes) -> bytes:
    ends = [index for index in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if index >= 0]
    return raw[: min(ends)] if ends else raw


def _refusal(head: bytes, reason: str) -> str:
    """One line naming a refused message (sender, subject, both cut short) and why."""
    headers = BytesHeaderParser(policy=email_policy.compat32).parsebytes(head[:MAX_HEADER_BYTES])
    sender = parseaddr(str(headers.get("From", "")))[1] or "(无发件人)"
    subject = _decoded(str(headers.get("Subject", ""))[:2000])[:60]
    return clean_line(mask_text(f"发件人 {sender},主题“{subject}”:{reason};已在邮箱中标记,未收取"))


def _decoded(value: str) -> str:
    """A header's encoded words decoded, without the email package's costly header objects; as is if broken."""
    try:
        return clean_line(str(make_header(decode_header(value))))
    except MESSAGE_ERRORS:
        return clean_line(value)


def mail_origin(message: EmailMessage, require_authentication: bool = False) -> MailOrigin:
    """Where a message came from, read from its raw headers: a From whose display name hides an encoded CR/LF, or a
    Subject of thousands of encoded words, neither raises nor costs the parser's header objects."""
    raw = dict((name.lower(), str(value)) for name, value in reversed(list(message.raw_items())))  # the first of each
    return MailOrigin(
        sender=sender_of(message, require_authentication),
        subject=_decoded(raw.get("subject", "")[:2000])[:200],
        date=clean_line(raw.get("date", "")).strip(),
        message_id=clean_line(raw.get("message-id", "")).strip() or None,
    )


UNVERIFIED = "(未通过发件人验证)"


def sender_of(message: EmailMessage, require_authentication: bool = False) -> str:
    """The From address, lower case. With `require_authentication`, marked UNVERIFIED unless the receiving
    server's Authentication-Results vouch for it: such a sender matches no roster address (unknown_sender)."""
    values = [str(value) for name, value in message.raw_items() if name.lower() == "from"]
    address = parseaddr(clean_line(values[0]) if values else "")[1].lower()
    if require_authentication and not authenticated(message, address):
        return f"{address}{UNVERIFIED}"
    return address


_COMMENT_RE = re.compile(r"\([^()]*\)")


def authenticated(message: EmailMessage, address: str) -> bool:
    """True if the topmost Authentication-Results header — the one the office's own server added on receipt;
    lower ones may come from anyone — shows dmarc=pass for the From domain, or dkim=pass signed by that domain
    (or a parent domain, DKIM's relaxed alignment)."""
    results = [str(value) for name, value in message.raw_items() if name.lower() == "authentication-results"]
    domain = address.rpartition("@")[2]
    if not results or not domain:
        return False
    for clause in _COMMENT_RE.sub(" ", clean_line(results[0])).split(";")[1:]:
        words = clause.split()
        if not words or "=" not in words[0]:
            continue
        method, _, verdict = words[0].lower().partition("=")
        properties = dict(word.lower().partition("=")[::2] for word in words[1:] if "=" in word)
        if verdict != "pass":
            continue
        if method == "dmarc" and properties.get("header.from", domain) == domain:
            return True
        if method == "dkim":
            signer = properties.get("header.d") or properties.get("header.i", "").rpartition("@")[2]
            if signer and (domain == signer or domain.endswith(f".{signer}")):
                return True
    return False


# ---- out ------------------------------------------------------------------------------------


LATE = "late_submission"


def reply_for(
    result: FileResult, report: Report, settings: MailSettings, told: str | None = None, day: dt.date | None = None
) -> EmailMessage | None:
    """The answer to one emailed submission: 【已受理】, 【退回修改】 or (after the closing time) 【逾期未计入】, counts,
    first findings, the annotated copy when there is one to fix. With `told` (the status an earlier reply gave), the
    one mail saying the result has changed since. `day` is the date it is signed with (today)."""
    origin = result.origin
    if origin is None:
        return None
    late = _late(result)
    verdict = "逾期未计入" if late else "已受理" if result.accepted else "退回修改"
    what = " ".join(part for part in (result.kind or result.path.name, result.unit, report.period) if part)
    label = f"【结果变更:{verdict}】" if told else f"【{verdict}】"
    message = _message(settings, origin.sender, mask_text(f"{label}{what}"))
    if origin.message_id:
        message["In-Reply-To"] = origin.message_id
        message["References"] = origin.message_id
    message.set_content(_reply_body(result, report, settings, told, day or dt.date.today()))
    if result.annotated and result.annotated.exists() and late is None:  # nothing to fix in a file that cannot count
        message.add_attachment(
            result.annotated.read_bytes(),
            maintype="application",
            subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            filename=mask_name(result.annotated.name),
        )
    return message


def _late(result: FileResult) -> Finding | None:
    return next((finding for finding in result.findings if finding.code == LATE), None)


def _reply_body(result: FileResult, report: Report, settings: MailSettings, told: str | None, day: dt.date) -> str:
    period = period_words(report.period)
    what = f"《{result.path.name}》({period}{result.kind})" if result.kind else f"《{result.path.name}》"
    late = _late(result)
    if told:
        opening = (
            f"贵单位报送的文件{what}此前答复为“{STATUS_TEXT[told]}”;在之后的处理中,结果改为:"
            f"{'逾期未计入' if late else status_text(result)}。以本邮件为准。"
        )
    elif late:
        opening = f"贵单位报送的文件{what}未计入:{late.message}"
    else:
        opening = f"贵单位报送的文件{what}已收到,经核对,{_verdict_words(result)}"
    paragraphs = [opening]
    if result.parsed is not None and late is None:  # a form was read: its rows and findings counted
        paragraphs.append(_count_words(result))
    paragraphs += result.reply_lines if result.current else []
    if result.changes:
        paragraphs.append(f"本文件替换了此前报送的《{result.changes.previous_file}》。")
    if late is not None:
        paragraphs += ["", "报送已截止,重新发送也不能计入,请不要再次报送。"]
    elif result.findings:
        paragraphs += ["", *_finding_paragraphs(result, settings)]
    return letter(settings, result.unit or "您好", paragraphs, day, greeting=bool(result.unit)) + (
        "\n\n(此邮件由工会表格处理系统自动发送。)"
    )


def _verdict_words(result: FileResult) -> str:
    """What the check decided, as the office says it (the status's own words in brackets where it helps)."""
    words = {
        "已受理": "予以受理。",
        "已受理(有警告)": "予以受理,有几处请核实(见下文)。",
        "退回修改": "需要修改后重新报送(退回修改)。",
    }
    return words.get(status_text(result), f"结果为“{status_text(result)}”。")


def _count_words(result: FileResult) -> str:
    """表中共 12 行,有 2 处错误、1 处需要核实。 / 表中共 5 行,没有发现问题。"""
    found = [f"{result.errors} 处错误"] if result.errors else []
    found += [f"{result.warnings} 处需要核实"] if result.warnings else []
    return f"表中共 {result.rows} 行,{'有 ' + '、'.join(found) if found else '没有发现问题'}。"


def _finding_paragraphs(result: FileResult, settings: MailSettings) -> list[str]:
    """The first findings, each its words first and then where (工作表、单元格), and what to do next."""
    attached = result.annotated is not None and result.annotated.exists()
    where_copy = (
        "(附件是贵单位表格的副本,有问题的单元格已标出并加了批注,第一张工作表“错误清单”逐条列出)" if attached else ""
    )
    lines = [f"{'需要修改的问题' if result.errors else '请核实以下警告(不影响受理)'}{where_copy}:"]
    lines += [result.annotation_note] if result.annotation_note and attached else []
    shown = result.findings[: settings.findings_in_reply]
    for number, finding in enumerate(shown, start=1):
        place = f"({finding.sheet} {finding.cell} 单元格)" if finding.cell else ""
        lines.append(f"{number}. {finding.message}{place}")
    if len(result.findings) > len(shown):
        rest = "见附件第一张工作表“错误清单”" if attached else f"请与{settings.office_name}联系"
        lines.append(f"……另有 {len(result.findings) - len(shown)} 个问题,{rest}。")
    if result.errors:
        lines += ["", "修改后请回复本邮件,重新附上整张表格。"]
    return lines


def letter(
    settings: MailSettings, addressee: str, paragraphs: Sequence[str], day: dt.date, greeting: bool = True
) -> str:
    """A mail's text as the office writes one: the addressee, a greeting, the paragraphs, thanks, and the office's
    signature (name, phone, address) with the date. What comes from submissions (addressee, paragraphs) is masked;
    the office's own phone number is not."""
    signature = [settings.office_name]
    signature += [f"联系电话:{settings.office_phone}"] if settings.office_phone else []
    signature += [f"邮箱:{settings.sender_address}"] if settings.sender_address else []
    text = mask_text("\n".join([f"{addressee}:", "", *(["您好!"] if greeting else []), *paragraphs]))
    return "\n".join([text, "", "谢谢!", "", *signature, f"{day:%Y年%-m月%-d日}"])


def reminder_message(settings: MailSettings, to: str, subject: str, text: str) -> EmailMessage:
    """A reminder; `text` is a `letter` (masked already)."""
    message = _message(settings, to, mask_text(subject))
    message.set_content(text)
    return message


def _message(settings: MailSettings, to: str, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["To"] = to
    message["Subject"] = subject
    return _from_office(message, settings)


def _from_office(message: EmailMessage, settings: MailSettings) -> EmailMessage:
    """From, Date and Message-ID as the policy says now: set again when a queued reply is sent, so a reply written
    before SMTP (and the office's address) was configured goes out from that address."""
    for header in ("From", "Date", "Message-ID"):
        del message[header]
    address = settings.sender_address or UNSET_ADDRESS
    message["From"] = Address(settings.office_name, addr_spec=address)
    message["Date"] = formatdate(localtime=True)
    domain = address.partition("@")[2]
    message["Message-ID"] = make_msgid(domain=domain)
    return message


def write_eml(message: EmailMessage, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomically(path, bytes(message))


@dataclass
class Delivery:
    """What one attempt to send the queued replies did; `failures` are Chinese lines, one per reply not sent."""

    sent: int = 0
    failed: int = 0
    error: str | None = None  # why the server could not be used at all (every reply then failed)
    failures: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str | None:
        """The server's problem, or each failed reply's, for one line of the run's summary."""
        return self.error or ("; ".join(self.failures) if self.failures else None)


def send_pending(settings: MailSettings, ledger: Ledger, out: Path) -> Delivery:
    """Send every queued reply not yet sent, its From, Date and Message-ID set from the policy now.
    A failure stays queued for the next run; the ledger keeps its reason (in Chinese)."""
    pending = ledger.pending_replies()
    delivery = Delivery()
    if not pending or not settings.can_send:
        return delivery
    try:
        with _smtp(settings) as server:
            for reply in pending:
                try:
                    server.send_message(_queued(settings, out / reply["eml_path"]))
                except (smtplib.SMTPException, OSError, MailError) as error:
                    if isinstance(error, smtplib.SMTPServerDisconnected):
                        raise
                    reason = error.args[0] if isinstance(error, MailError) else smtp_reason(error)
                    ledger.mark_failed(reply["submission_sha256"], reason)
                    delivery.failed += 1
                    delivery.failures.append(f"给 {reply['to_address']} 的回信未发出:{reason}")
                else:
                    ledger.mark_sent(reply["submission_sha256"])
                    delivery.sent += 1
    except (MailError, smtplib.SMTPException, OSError) as error:
        delivery.error = error.args[0] if isinstance(error, MailError) else _server_reason(settings, error)
        for reply in pending[delivery.sent + delivery.failed :]:
            ledger.mark_failed(reply["submission_sha256"], delivery.error)
        delivery.failed = len(pending) - delivery.sent
    return delivery


def _queued(settings: MailSettings, eml: Path) -> EmailMessage:
    try:
        data = eml.read_bytes()
    except FileNotFoundError as error:
        raise MailError(f"回信文件 {eml.name} 已不在 outbox 文件夹中") from error
    message = BytesParser(policy=email_policy.default).parsebytes(data)
    return _from_office(message, settings)  # type: ignore[arg-type]


def send_messages(
    settings: MailSettings, messages: Iterable[EmailMessage], sent: Callable[[int], None] | None = None
) -> int:
    """Send the messages over one connection; `sent(index)` is told as each one has gone."""
    try:
        with _smtp(settings) as server:
            count = 0
            for index, message in enumerate(messages):
                server.send_message(message)
                count += 1
                if sent is not None:
                    sent(index)
    except (smtplib.SMTPException, OSError) as error:
        raise MailError(_server_reason(settings, error)) from error
    return count


def _smtp(settings: MailSettings) -> smtplib.SMTP:
    """A connected (and logged-in) SMTP client; MailError in Chinese if not, the connection closed."""
    server: smtplib.SMTP | None = None
    try:
        if settings.smtp_security == "ssl":
            server = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, context=_tls(settings), timeout=30)
        else:
            server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)
            if settings.smtp_security == "starttls":
                server.starttls(context=_tls(settings))
        if settings.smtp_user:
            server.login(settings.smtp_user, _password(SMTP_PASSWORD))
    except (smtplib.SMTPException, OSError, MailError) as error:
        if server is not None:
            server.close()  # a refused login must not leave the server waiting on us
        if isinstance(error, MailError):
            raise
        raise MailError(_server_reason(settings, error)) from error
    return server


def _server_reason(settings: MailSettings, error: BaseException) -> str:
    return f"无法连接发信服务器 {settings.smtp_host}:{settings.smtp_port}:{smtp_reason(error)}"


def smtp_reason(error: BaseException) -> str:
    """Why sending failed, in Chinese; the server's own words (often English) kept in brackets."""
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return f"用户名或密码错误,服务器拒绝登录({_server_words(error)})"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return f"服务器拒收收件人 {'、'.join(error.recipients)}"
    if isinstance(error, smtplib.SMTPSenderRefused):
        return f"服务器拒绝以 {error.sender} 发信({_server_words(error)})"
    if isinstance(error, smtplib.SMTPDataError):
        return f"服务器拒收邮件内容({_server_words(error)})"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return "服务器中途断开了连接"
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return "服务器不支持所需的功能(如 STARTTLS 或登录);请检查 smtp_security 设置"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"服务器返回错误({_server_words(error)})"
    if isinstance(error, ssl.SSLCertVerificationError):
        return "服务器证书无法验证(证书过期、自签名或与主机名不符);自签名证书可用 email.tls_cafile 指定"
    if isinstance(error, ssl.SSLError):
        return "TLS 加密连接失败;请检查 smtp_security(ssl 或 starttls)与端口是否对应"
    if isinstance(error, ConnectionRefusedError):
        return "连接被拒绝(服务器未运行,或端口不对)"
    if isinstance(error, socket.gaierror):
        return "找不到服务器(主机名不对,或网络不通)"
    if isinstance(error, TimeoutError):
        return "连接超时(服务器无响应,或被防火墙拦截)"
    return network_reason(error) or f"发信失败({type(error).__name__})"


def network_reason(error: BaseException) -> str | None:
    """A connection's failure below the mail protocol, in Chinese; None when it is not one."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return "服务器证书无法验证(证书过期、自签名或与主机名不符);自签名证书可用 email.tls_cafile 指定"
    if isinstance(error, ssl.SSLError):
        return "TLS 加密连接失败;请检查加密方式(ssl 或 starttls)与端口是否对应"
    if isinstance(error, socket.gaierror):
        return "找不到服务器(主机名不对,或网络不通)"
    if isinstance(error, OSError):
        return os_reason(error)
    return None


def imap_reason(error: BaseException) -> str:
    """Why fetching failed, in Chinese; the server's own words (often English) kept in brackets."""
    import imaplib

    from imap_tools.errors import MailboxFolderSelectError, MailboxLoginError, UnexpectedCommandStatusError

    if isinstance(error, MailboxLoginError):
        return f"用户名或密码错误,服务器拒绝登录({clean_line(_imap_words(error))})"
    if isinstance(error, MailboxFolderSelectError):
        return f"邮箱中没有要收取的文件夹,请检查 email.imap_folder({clean_line(_imap_words(error))})"
    if isinstance(error, UnexpectedCommandStatusError):
        return f"服务器返回错误({clean_line(_imap_words(error))})"
    if isinstance(error, imaplib.IMAP4.error):
        return f"服务器返回错误({clean_line(str(error))})"
    return network_reason(error) or f"收信失败({type(error).__name__})"


def _imap_words(error: Exception) -> str:
    """The server's answer inside an imap_tools error (its `command_result`: status and lines)."""
    result = getattr(error, "command_result", None)
    if not isinstance(result, tuple) or len(result) != 2:
        return str(error)
    lines = result[1] if isinstance(result[1], list) else [result[1]]
    words = " ".join(line.decode("utf-8", "replace") if isinstance(line, bytes) else str(line) for line in lines)
    return f"{result[0]} {words}".strip()


def _server_words(error: smtplib.SMTPResponseException) -> str:
    words = (
        error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) else str(error.smtp_error)
    )
    return clean_line(f"{error.smtp_code} {words}")


def outbox_name(result: FileResult, told: str | None = None) -> str:
    """回信_名单.eml; 变更_名单_rejected.eml for the mail saying a result changed. Masked: it is a file name."""
    stem = mask_name(result.path.stem)
    return f"变更_{stem}_{result.status}.eml" if told else f"回信_{stem}.eml"
