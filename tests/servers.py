"""Real mail servers on loopback for the tests: aiosmtpd (SMTP, with AUTH, STARTTLS or SSL) and Dovecot (IMAP).

Dovecot runs from a throwaway configuration in its own folder; .ci/run installs the package.
"""

from __future__ import annotations

import imaplib
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "office@example.org", "s3cret-pass"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Collector:
    """An SMTP handler that keeps every delivered message, parsed."""

    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)  # recipients answered 550, as a server does for unknown users

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address in self.refused:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(BytesParser(policy=email_policy.default).parsebytes(envelope.content))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # handled=True would leave a refused client waiting for an answer


@dataclass
class SmtpServer:
    port: int
    collector: Collector
    controller: Controller


@contextmanager
def smtp_server(
    security: str = "none", certificate: Path | None = None, port: int | None = None
) -> Iterator[SmtpServer]:
    """An SMTP server requiring AUTH; `security` none (plain on loopback), starttls or ssl."""
    collector = Collector()
    port = port or free_port()
    options: dict = {"authenticator": _authenticate, "auth_required": True}
    if security in ("none", "ssl"):  # aiosmtpd does not count implicit TLS as TLS for AUTH
        options["auth_require_tls"] = False
    if security != "none":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        assert certificate is not None
        context.load_cert_chain(certificate, certificate.with_suffix(".key"))
        options |= {"ssl_context": context} if security == "ssl" else {"tls_context": context, "require_starttls": True}
    controller = Controller(collector, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield SmtpServer(port, collector, controller)
    finally:
        controller.stop()


def self_signed_certificate(folder: Path) -> Path:
    """A certificate for 127.0.0.1 (and its key beside it, .key); the certificate is also the CA file."""
    certificate, key = folder / "server.pem", folder / "server.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(certificate),
        ],
        check=True,
        capture_output=True,
    )
    return certificate


DOVECOT_CONF = """
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/home/%u/Maildir
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


@dataclass
class ImapServer:
    port: int
    root: Path

    def append(self, message: EmailMessage) -> None:
        self.append_bytes(bytes(message))

    def append_bytes(self, raw: bytes) -> None:
        with imaplib.IMAP4("127.0.0.1", self.port) as client:
            client.login(USER, PASSWORD)
            client.append("INBOX", None, None, raw)

    def flags(self) -> list[str]:
        with imaplib.IMAP4("127.0.0.1", self.port) as client:
            client.login(USER, PASSWORD)
            client.select("INBOX")
            _, data = client.fetch("1:*", "(FLAGS)")
            return [item.decode() for item in data if isinstance(item, bytes)]


@contextmanager
def imap_server() -> Iterator[ImapServer]:
    """Dovecot on a free loopback port with one mailbox (USER / PASSWORD), removed afterwards."""
    dovecot = shutil.which("dovecot") or "/usr/sbin/dovecot"
    root = Path(tempfile.mkdtemp(prefix="dovecot-", dir="/tmp"))
    root.chmod(0o755)
    for folder in ("run", "state", "home"):
        (root / folder).mkdir()
    shutil.chown(root / "home", "nobody", "nogroup")
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    port = free_port()
    config = root / "dovecot.conf"
    config.write_text(DOVECOT_CONF.format(root=root, port=port))
    subprocess.run([dovecot, "-c", str(config)], check=True)
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield ImapServer(port, root)
    finally:
        subprocess.run([dovecot, "-c", str(config), "stop"], check=False)
        shutil.rmtree(root, ignore_errors=True)
