"""Email in and out, through real servers on loopback: Dovecot (IMAP) and aiosmtpd (SMTP)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import make_msgid
from pathlib import Path

import pytest
from click.testing import CliRunner

from process import cli
from tests.factory import fill_template, make_people
from tests.servers import PASSWORD, USER, free_port, imap_server, self_signed_certificate, smtp_server
from unionbatch.ledger import Ledger
from unionbatch.mail import UNSET_ADDRESS
from unionbatch.pipeline import run_batch

ROOT = Path(__file__).resolve().parent.parent

A, B = make_people(3, seed=101), make_people(2, seed=102)
JIA, YI = "jia@units.example", "yi@units.example"


def write_policy(folder: Path, email: dict[str, object] | None = None) -> Path:
    settings = {"office_address": "gonghui@example.org", "office_name": "市总工会生活女工部", **(email or {})}
    lines = [
        "[email]",
        *(
            f"{key} = {value!r}".replace("'", '"') if isinstance(value, str) else f"{key} = {str(value).lower()}"
            for key, value in settings.items()
        ),
        "",
        "[[roster]]",
        'unit = "甲工会"',
        f'emails = ["{JIA}"]',
        "",
        "[[roster]]",
        'unit = "乙工会"',
        f'emails = ["{YI}"]',
        "",
        "[[roster]]",
        'unit = "丙工会"',
        "",
    ]
    path = folder / "policy.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def unit_mail(sender: str, attachments: dict[str, bytes], subject: str = "慰问名单") -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "gonghui@example.org", subject
    message["Message-ID"] = make_msgid(domain="units.example")
    message.set_content("请查收附件。")
    for name, data in attachments.items():
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message


def list_bytes(folder: Path, unit: str, people: list, **options) -> bytes:
    return fill_template(folder / "make" / f"{unit}.xlsx", unit, people, **options).read_bytes()


def drop_eml(inbox: Path, message: EmailMessage, name: str) -> None:
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / name).write_bytes(bytes(message))


def parse(path: Path) -> EmailMessage:
    return BytesParser(policy=email_policy.default).parsebytes(path.read_bytes())  # type: ignore[return-value]


def test_eml_in_the_inbox_is_opened_and_answered_in_the_outbox(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    good = unit_mail(JIA, {"甲工会名单.xlsx": list_bytes(tmp_path, "甲工会", A)})
    bad = unit_mail(YI, {"乙工会名单.xlsx": list_bytes(tmp_path, "乙工会", B, edits={"D4": B[0].id_number[:17] + "Y"})})
    drop_eml(inbox, good, "甲.eml")
    drop_eml(inbox, bad, "乙.eml")
    report = run_batch(inbox, out, "2026-11", write_policy(tmp_path))
    assert {r.path.name: r.status for r in report.files} == {
        "甲工会名单.xlsx": "accepted",
        "乙工会名单.xlsx": "rejected",
    }
    assert sorted(p.name for p in (out / "2026-11" / "原件" / "邮件").iterdir()) == ["乙.eml", "甲.eml"]
    replies = {parse(p)["Subject"]: parse(p) for p in (out / "2026-11" / "outbox").iterdir()}
    accepted, rejected = replies["【已受理】慰问名单 甲工会 2026-11"], replies["【退回修改】慰问名单 乙工会 2026-11"]
    assert accepted["To"] == JIA and accepted["In-Reply-To"] == good["Message-ID"] == accepted["References"]
    body = rejected.get_body(("plain",)).get_content()
    [first] = [line for line in body.splitlines() if line.startswith("1. ")]
    assert first.startswith("1. 身份证号“") and first.endswith("(慰问名单 D4 单元格)")  # words first, then where
    assert B[0].id_number[:17] not in body  # masked
    [attachment] = list(rejected.iter_attachments())
    assert attachment.get_filename() == "乙工会名单_批注.xlsx"
    ledger = Ledger(out / "ledger.sqlite")
    try:
        assert len(ledger.pending_replies()) == 2  # no SMTP settings: kept in the outbox, not sent
    finally:
        ledger.close()


def test_senders_not_on_the_roster_or_for_another_unit_are_not_merged(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    drop_eml(inbox, unit_mail("stranger@else.example", {"名单1.xlsx": list_bytes(tmp_path, "丙工会", A)}), "a.eml")
    drop_eml(inbox, unit_mail(JIA, {"名单2.xlsx": list_bytes(tmp_path, "乙工会", B)}), "b.eml")
    report = run_batch(inbox, out, "2026-11", write_policy(tmp_path))
    first = {r.path.name: r.findings[0] for r in report.files}
    assert (first["名单1.xlsx"].code, first["名单1.xlsx"].value) == ("unknown_sender", "stranger@else.example")
    assert first["名单2.xlsx"].code == "sender_unit_mismatch" and "“甲工会”" in first["名单2.xlsx"].message
    assert "慰问名单" not in report.totals or report.totals["慰问名单"]["households"] == 0
    outbox = [parse(p)["To"] for p in (out / "2026-11" / "outbox").iterdir()]
    assert outbox == [JIA]  # the stranger gets no reply; the office sees it in 处理报告


def test_replies_are_sent_over_smtp_once_and_retried_when_the_server_was_down(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("UNIONBATCH_SMTP_PASSWORD", PASSWORD)
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    port = free_port()
    policy = write_policy(
        tmp_path, {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_user": USER, "smtp_security": "none"}
    )
    drop_eml(inbox, unit_mail(JIA, {"甲.xlsx": list_bytes(tmp_path, "甲工会", A)}), "甲.eml")
    down = run_batch(inbox, out, "2026-11", policy)  # nothing listens yet
    assert (down.mail_sent, down.mail_failed) == (0, 1) and "无法连接发信服务器" in (down.mail_error or "")
    ledger = Ledger(out / "ledger.sqlite")
    try:
        [pending] = ledger.pending_replies()
        assert pending["attempts"] == 1 and "无法连接发信服务器" in pending["last_error"]
    finally:
        ledger.close()
    with smtp_server(port=port) as server:
        drop_eml(inbox, unit_mail(YI, {"乙.xlsx": list_bytes(tmp_path, "乙工会", B)}), "乙.eml")
        report = run_batch(inbox, out, "2026-11", policy)
        assert (report.mail_sent, report.mail_failed) == (2, 0)
        again = run_batch(inbox, out, "2026-11", policy)
        assert (again.mail_sent, again.mail_failed) == (0, 0)  # never twice
        assert sorted(m["To"] for m in server.collector.messages) == sorted([JIA, YI])
        assert all(m["Subject"].startswith("【已受理】") for m in server.collector.messages)


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_smtp_over_tls_with_login(tmp_path: Path, monkeypatch, security: str) -> None:
    monkeypatch.setenv("UNIONBATCH_SMTP_PASSWORD", PASSWORD)
    certificate = self_signed_certificate(tmp_path)
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    with smtp_server(security, certificate) as server:
        policy = write_policy(
            tmp_path,
            {
                "smtp_host": "127.0.0.1",
                "smtp_port": server.port,
                "smtp_user": USER,
                "smtp_security": security,
                "tls_cafile": str(certificate),
            },
        )
        drop_eml(inbox, unit_mail(JIA, {"甲.xlsx": list_bytes(tmp_path, "甲工会", A)}), "甲.eml")
        report = run_batch(inbox, out, "2026-11", policy)
        assert report.mail_sent == 1 and server.collector.messages[0]["To"] == JIA


def test_send_command_and_wrong_password(tmp_path: Path, monkeypatch) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    with smtp_server() as server:
        policy = write_policy(
            tmp_path, {"smtp_host": "127.0.0.1", "smtp_port": server.port, "smtp_user": USER, "smtp_security": "none"}
        )
        monkeypatch.setenv("UNIONBATCH_SMTP_PASSWORD", "wrong")
        drop_eml(inbox, unit_mail(JIA, {"甲.xlsx": list_bytes(tmp_path, "甲工会", A)}), "甲.eml")
        assert run_batch(inbox, out, "2026-11", policy).mail_failed == 1
        monkeypatch.delenv("UNIONBATCH_SMTP_PASSWORD")
        result = CliRunner().invoke(cli, ["send", "--out", str(out), "--policy", str(policy)], catch_exceptions=False)
        assert (result.exit_code, result.output) == (
            2,
            "错误:环境变量 UNIONBATCH_SMTP_PASSWORD 未设置(邮箱密码只从环境变量读取)\n",
        )
        monkeypatch.setenv("UNIONBATCH_SMTP_PASSWORD", PASSWORD)
        result = CliRunner().invoke(cli, ["send", "--out", str(out), "--policy", str(policy)], catch_exceptions=False)
        assert (result.exit_code, result.output) == (0, "已发送 1 封,失败 0 封(失败的下次运行时重试)\n")
        assert len(server.collector.messages) == 1


def test_fetch_mail_from_imap_then_run_and_reply(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("UNIONBATCH_IMAP_PASSWORD", PASSWORD)
    monkeypatch.setenv("UNIONBATCH_SMTP_PASSWORD", PASSWORD)
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    with imap_server() as imap, smtp_server() as smtp:
        policy = write_policy(
            tmp_path,
            {
                "imap_host": "127.0.0.1",
                "imap_port": imap.port,
                "imap_user": USER,
                "imap_security": "none",
                "smtp_host": "127.0.0.1",
                "smtp_port": smtp.port,
                "smtp_user": USER,
                "smtp_security": "none",
            },
        )
        submission = unit_mail(JIA, {"甲工会.xlsx": list_bytes(tmp_path, "甲工会", A), "logo.png": b"\x89PNG"})
        imap.append(submission)
        imap.append(unit_mail(YI, {}, subject="请问截止日期?"))
        fetch = ["fetch-mail", "--inbox", str(inbox), "--out", str(out), "--policy", str(policy)]
        first = CliRunner().invoke(cli, fetch, catch_exceptions=False)
        assert (first.exit_code, first.output) == (0, "收取新邮件 2 封,存入附件 1 个\n  甲工会.xlsx\n")
        assert all("UnionbatchFetched" in flags and "\\Seen" in flags for flags in imap.flags())
        second = CliRunner().invoke(cli, fetch, catch_exceptions=False)
        assert second.output == "收取新邮件 0 封,存入附件 0 个\n"  # marked: never read twice
        result = CliRunner().invoke(
            cli,
            ["run", "--inbox", str(inbox), "--out", str(out), "--period", "2026-11", "--policy", str(policy)],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
        assert "回信:已发送 1 封,失败 0 封(失败的下次运行时重试)" in result.output
        [reply] = smtp.collector.messages
        assert (
            reply["In-Reply-To"] == submission["Message-ID"] and reply["Subject"] == "【已受理】慰问名单 甲工会 2026-11"
        )
        ledger = Ledger(out / "ledger.sqlite")
        try:
            [row] = ledger.period_submissions("2026-11")
            assert (row.sender, row.message_id) == (JIA, submission["Message-ID"])
        finally:
            ledger.close()


def test_remind_send_mails_the_units_that_have_not_reported(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("UNIONBATCH_SMTP_PASSWORD", PASSWORD)
    with smtp_server() as server:
        policy = write_policy(
            tmp_path, {"smtp_host": "127.0.0.1", "smtp_port": server.port, "smtp_user": USER, "smtp_security": "none"}
        )
        result = CliRunner().invoke(
            cli,
            ["remind", "--out", str(tmp_path / "out"), "--period", "2026-11", "--policy", str(policy), "--send"],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[-1] == "已发送催报邮件 4 封;未登记邮箱:丙工会"
        subjects = sorted(m["Subject"] for m in server.collector.messages)
        assert subjects[0] == "【催报】慰问名单 乙工会 2026-11"
        assert {m["To"] for m in server.collector.messages} == {JIA, YI}


def test_remind_send_without_smtp_writes_eml_files(tmp_path: Path) -> None:
    policy = write_policy(tmp_path)
    result = CliRunner().invoke(
        cli,
        ["remind", "--out", str(tmp_path / "out"), "--period", "2026-11", "--policy", str(policy), "--send"],
        catch_exceptions=False,
    )
    outbox = tmp_path / "out" / "2026-11" / "outbox"
    assert result.output.splitlines()[-1] == f"未设置 SMTP:4 封催报邮件保存在 {outbox};未登记邮箱:丙工会"
    [first, *_] = sorted(outbox.iterdir())
    assert "贵单位尚未报送" in parse(first).get_body(("plain",)).get_content()


def test_without_roster_emails_any_sender_is_accepted(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    policy = tmp_path / "policy.toml"
    policy.write_text('[[roster]]\nunit = "甲工会"\n', encoding="utf-8")  # a roster, but no addresses
    drop_eml(inbox, unit_mail("anyone@else.example", {"甲.xlsx": list_bytes(tmp_path, "甲工会", A)}), "a.eml")
    report = run_batch(inbox, out, "2026-11", policy)
    assert [(r.status, r.findings) for r in report.files] == [("accepted", [])]
    assert parse(next((out / "2026-11" / "outbox").iterdir()))["To"] == "anyone@else.example"


def smtp_policy(folder: Path, port: int, **email: object) -> Path:
    return write_policy(
        folder, {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_user": USER, "smtp_security": "none", **email}
    )


def test_replies_queued_before_smtp_was_set_go_out_from_the_office_address(tmp_path: Path, monkeypatch) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    bare = tmp_path / "bare.toml"
    bare.write_text(f'[[roster]]\nunit = "甲工会"\nemails = ["{JIA}"]\n', encoding="utf-8")
    drop_eml(inbox, unit_mail(JIA, {"甲.xlsx": list_bytes(tmp_path, "甲工会", A)}), "甲.eml")
    run_batch(inbox, out, "2026-11", bare)
    [queued] = (out / "2026-11" / "outbox").iterdir()
    assert parse(queued)["From"] == f"工会办公室 <{UNSET_ADDRESS}>"  # no address known when it was written
    monkeypatch.setenv("UNIONBATCH_SMTP_PASSWORD", PASSWORD)
    with smtp_server() as server:
        policy = smtp_policy(tmp_path, server.port)
        result = CliRunner().invoke(cli, ["send", "--out", str(out), "--policy", str(policy)], catch_exceptions=False)
        assert (result.exit_code, result.output) == (0, "已发送 1 封,失败 0 封(失败的下次运行时重试)\n")
        [sent] = server.collector.messages
    assert sent["From"] == "市总工会生活女工部 <gonghui@example.org>"
    assert sent["Message-ID"].endswith("@example.org>") and sent["Subject"] == "【已受理】慰问名单 甲工会 2026-11"


def bare_policy(folder: Path, email: str = "") -> Path:
    path = folder / "bare.toml"
    path.write_text(f'{email}[[roster]]\nunit = "甲工会"\nemails = ["{JIA}"]\n', encoding="utf-8")
    return path


def test_a_reply_written_without_an_office_address_has_a_proper_from_and_the_run_says_so(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    drop_eml(inbox, unit_mail(JIA, {"甲.xlsx": list_bytes(tmp_path, "甲工会", A)}), "甲.eml")
    command = ["run", "--inbox", str(inbox), "--out", str(out), "--period", "2026-11", "--policy"]
    result = CliRunner().invoke(cli, [*command, str(bare_policy(tmp_path))], catch_exceptions=False)
    [queued] = (out / "2026-11" / "outbox").iterdir()
    [sender] = parse(queued)["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("工会办公室", UNSET_ADDRESS)
    warning = f"outbox 中的 1 封回信发件人暂写为 工会办公室 <{UNSET_ADDRESS}>(不是真实地址)"
    assert warning in result.output
    assert warning in (out / "run.log").read_text(encoding="utf-8")


def test_without_office_address_the_mailbox_units_send_to_is_the_sender(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    drop_eml(inbox, unit_mail(JIA, {"甲.xlsx": list_bytes(tmp_path, "甲工会", A)}), "甲.eml")
    policy = bare_policy(tmp_path, '[email]\nimap_user = "shouxin@example.org"\n\n')
    command = ["run", "--inbox", str(inbox), "--out", str(out), "--period", "2026-11", "--policy", str(policy)]
    result = CliRunner().invoke(cli, command, catch_exceptions=False)
    [queued] = (out / "2026-11" / "outbox").iterdir()
    assert parse(queued)["From"].addresses[0].addr_spec == "shouxin@example.org"
    assert "邮箱:shouxin@example.org" in parse(queued).get_body(("plain",)).get_content()
    assert "不是真实地址" not in result.output


def test_reminders_written_without_an_office_address_say_so(tmp_path: Path) -> None:
    command = ["remind", "--out", str(tmp_path / "out"), "--period", "2026-11", "--send", "--policy"]
    result = CliRunner().invoke(cli, [*command, str(bare_policy(tmp_path))], catch_exceptions=False)
    written = list((tmp_path / "out" / "2026-11" / "outbox").iterdir())
    assert written and {parse(eml)["From"].addresses[0].addr_spec for eml in written} == {UNSET_ADDRESS}
    assert result.output.splitlines()[-1].startswith("注意:策略文件 [email] 中没有办公室邮箱(office_address)")
    assert f"{len(written)} 封催报邮件发件人暂写为 工会办公室 <{UNSET_ADDRESS}>" in result.output


def test_send_failures_say_why_in_chinese(tmp_path: Path, monkeypatch) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    monkeypatch.setenv("UNIONBATCH_SMTP_PASSWORD", PASSWORD)
    with smtp_server() as server:
        server.collector.refused.add(YI)
        policy = smtp_policy(tmp_path, server.port)
        drop_eml(inbox, unit_mail(JIA, {"甲.xlsx": list_bytes(tmp_path, "甲工会", A)}), "甲.eml")
        drop_eml(inbox, unit_mail(YI, {"乙.xlsx": list_bytes(tmp_path, "乙工会", B)}), "乙.eml")
        report = run_batch(inbox, out, "2026-11", policy)
        assert (report.mail_sent, report.mail_failed) == (1, 1)
        assert report.mail_error == f"给 {YI} 的回信未发出:服务器拒收收件人 {YI}"
        result = CliRunner().invoke(cli, ["send", "--out", str(out), "--policy", str(policy)], catch_exceptions=False)
        assert (result.exit_code, result.output) == (
            1,
            f"已发送 0 封,失败 1 封(失败的下次运行时重试)\n  给 {YI} 的回信未发出:服务器拒收收件人 {YI}\n",
        )
    ledger = Ledger(out / "ledger.sqlite")
    try:
        [pending] = ledger.pending_replies()
        assert (pending["to_address"], pending["attempts"]) == (YI, 2)
        assert pending["last_error"] == f"服务器拒收收件人 {YI}"
    finally:
        ledger.close()


def test_a_wrong_password_is_refused_at_once_and_said_in_chinese(tmp_path: Path, monkeypatch) -> None:
    import time

    out = tmp_path / "out"
    with smtp_server() as server:
        policy = smtp_policy(tmp_path, server.port)
        drop_eml(tmp_path / "inbox", unit_mail(JIA, {"甲.xlsx": list_bytes(tmp_path, "甲工会", A)}), "甲.eml")
        run_batch(tmp_path / "inbox", out, "2026-11", write_policy(tmp_path / "inbox"))  # queued, not sent
        monkeypatch.setenv("UNIONBATCH_SMTP_PASSWORD", "wrong")
        started = time.monotonic()
        result = CliRunner().invoke(cli, ["send", "--out", str(out), "--policy", str(policy)], catch_exceptions=False)
        assert time.monotonic() - started < 10  # the server answers; the client does not wait out its timeout
    assert result.exit_code == 2
    assert result.output.startswith(
        f"错误:无法连接发信服务器 127.0.0.1:{server.port}:用户名或密码错误,服务器拒绝登录(535 "
    )


def test_a_result_that_changes_in_a_later_run_gets_one_mail_saying_so(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    policy = write_policy(tmp_path)
    drop_eml(inbox, unit_mail(JIA, {"甲.xlsx": list_bytes(tmp_path, "甲工会", A)}), "甲.eml")
    run_batch(inbox, out, "2026-11", policy)
    outbox = out / "2026-11" / "outbox"
    assert [parse(p)["Subject"] for p in outbox.iterdir()] == ["【已受理】慰问名单 甲工会 2026-11"]
    drop_eml(inbox, unit_mail(YI, {"乙.xlsx": list_bytes(tmp_path, "乙工会", [*B, A[0]])}), "乙.eml")
    second = run_batch(inbox, out, "2026-11", policy)  # A[0] in both lists: both sent back
    assert {r.unit: r.status for r in second.files} == {"甲工会": "rejected", "乙工会": "rejected"}
    subjects = sorted(parse(p)["Subject"] for p in outbox.iterdir())
    assert subjects == [
        "【已受理】慰问名单 甲工会 2026-11",
        "【结果变更:退回修改】慰问名单 甲工会 2026-11",
        "【退回修改】慰问名单 乙工会 2026-11",
    ]
    [change] = [parse(p) for p in outbox.glob("变更_*.eml")]
    body = change.get_body(("plain",)).get_content()
    assert "此前答复为“已受理”;在之后的处理中,结果改为:退回修改。" in body and "duplicate" not in body
    assert "同一人" in body or "另一" in body
    run_batch(inbox, out, "2026-11", policy)
    assert len(list(outbox.iterdir())) == 3  # unchanged since: no more mail
    ledger = Ledger(out / "ledger.sqlite")
    try:
        assert len(ledger.pending_replies()) == 3
    finally:
        ledger.close()


def test_a_change_is_still_told_when_the_run_that_found_it_was_killed_before_its_mail(tmp_path: Path) -> None:
    """Killed after recording 退回修改 and before queueing the mail: the next run still sends the change, once."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    policy = write_policy(tmp_path)
    drop_eml(inbox, unit_mail(JIA, {"甲.xlsx": list_bytes(tmp_path, "甲工会", A)}), "甲.eml")
    run_batch(inbox, out, "2026-11", policy)
    drop_eml(inbox, unit_mail(YI, {"乙.xlsx": list_bytes(tmp_path, "乙工会", [*B, A[0]])}), "乙.eml")
    command = [sys.executable, "process.py", "run", "--inbox", str(inbox), "--out", str(out)]
    command += ["--period", "2026-11", "--policy", str(policy)]
    killed = subprocess.run(
        command, cwd=ROOT, capture_output=True, env={**os.environ, "UNIONBATCH_KILL_AT": "recorded"}, timeout=300
    )
    assert killed.returncode == -signal.SIGKILL
    outbox = out / "2026-11" / "outbox"
    assert [parse(p)["Subject"] for p in outbox.iterdir()] == ["【已受理】慰问名单 甲工会 2026-11"]  # nothing told yet
    run_batch(inbox, out, "2026-11", policy)
    run_batch(inbox, out, "2026-11", policy)
    assert sorted(parse(p)["Subject"] for p in outbox.iterdir()) == [
        "【已受理】慰问名单 甲工会 2026-11",
        "【结果变更:退回修改】慰问名单 甲工会 2026-11",
        "【退回修改】慰问名单 乙工会 2026-11",
    ]


def test_ids_and_phones_in_subjects_bodies_and_names_are_masked(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    person = A[0]
    spaced = f"{person.id_number[:6]} {person.id_number[6:14]} {person.id_number[14:]}"
    name = f"名单 {spaced} +86 133-9600-5340.xlsx"
    edits = {"D4": f"ID{person.id_number[:17]}Y"}
    drop_eml(inbox, unit_mail(JIA, {name: list_bytes(tmp_path, "甲工会", A, edits=edits)}), "甲.eml")
    run_batch(inbox, out, "2026-11", write_policy(tmp_path))
    [eml] = (out / "2026-11" / "outbox").iterdir()
    reply = parse(eml)
    texts = [eml.name, reply["Subject"], reply.get_body(("plain",)).get_content()]
    texts += [part.get_filename() for part in reply.iter_attachments()]
    for text in texts:
        assert person.id_number[6:14] not in text and "9600" not in text, text
    assert f"{person.id_number[:6]} ******** {person.id_number[14:]}" in texts[2]
    assert "+86 133-****-5340" in texts[2]


def raw_mail(headers: str, body: str = "正文") -> bytes:
    return (headers.replace("\n", "\r\n") + "\r\n\r\n" + body).encode()


def test_fetch_mail_flags_what_it_cannot_take_and_fetches_the_rest(tmp_path: Path, monkeypatch) -> None:
    import base64
    import resource

    monkeypatch.setenv("UNIONBATCH_IMAP_PASSWORD", PASSWORD)
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    crlf_name = base64.b64encode("甲\r\nBcc: evil@else.example".encode()).decode()
    crlf = bytes(unit_mail(JIA, {"甲工会.xlsx": list_bytes(tmp_path, "甲工会", A)}))
    crlf = crlf.replace(f"From: {JIA}".encode(), f"From: =?utf-8?b?{crlf_name}?= <{JIA}>".encode(), 1)
    long_name = "𠀀" * 90 + ".xlsx"
    word = f"=?utf-8?b?{base64.b64encode(('字' * 10).encode()).decode()}?="
    huge_subject = raw_mail(f"From: {YI}\nTo: gonghui@example.org\nSubject: " + " ".join([word] * 23000))
    big = unit_mail(YI, {"大.xlsx": b"PK" + bytes(2_600_000)})  # 3.5 MB in base64
    after = unit_mail(YI, {"乙工会.xlsx": list_bytes(tmp_path, "乙工会", B)})
    with imap_server() as imap:
        policy = write_policy(
            tmp_path,
            {
                "imap_host": "127.0.0.1",
                "imap_port": imap.port,
                "imap_user": USER,
                "imap_security": "none",
                "max_message_mb": 2,
            },
        )
        imap.append_bytes(crlf)
        imap.append(unit_mail(YI, {long_name: list_bytes(tmp_path, "乙工会", B[:1])}))
        imap.append_bytes(huge_subject)
        imap.append(big)
        imap.append(after)
        fetch = ["fetch-mail", "--inbox", str(inbox), "--out", str(out), "--policy", str(policy)]
        result = CliRunner().invoke(cli, fetch, catch_exceptions=False)
        lines = result.output.splitlines()
        assert result.exit_code == 1, result.output
        assert lines[0] == "收取新邮件 5 封,存入附件 3 个"
        assert lines[1] == "  甲工会.xlsx" and lines[3] == "  乙工会.xlsx"
        assert len(lines[2].encode()) <= 202 and lines[2].endswith("𠀀.xlsx")  # cut by bytes, whole characters
        assert lines[4] == (
            f"  未收取:发件人 {YI},主题“{'字' * 60}”:邮件头过大(1190 KB,上限 64 KB);已在邮箱中标记,未收取"
        )
        assert lines[5] == f"  未收取:发件人 {YI},主题“慰问名单”:邮件过大(3.4 MB,上限 2 MB);已在邮箱中标记,未收取"
        flags = imap.flags()
        assert ["UnionbatchRefused" in flag for flag in flags] == [False, False, True, True, False]
        assert ["\\Seen" in flag for flag in flags] == [True, True, False, False, True]  # refused: left unread
        again = CliRunner().invoke(cli, fetch, catch_exceptions=False)
        assert (again.exit_code, again.output) == (0, "收取新邮件 0 封,存入附件 0 个\n")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 1_500_000  # KB: the 1 MB subject once took 3.7 GB
    log = (out / "run.log").read_text(encoding="utf-8")
    assert "fetch-mail 未收取:发件人" in log and "邮件头过大" in log and "邮件过大" in log
    ledger = Ledger(out / "ledger.sqlite")
    try:
        origins = {row["saved_name"]: row["sender"] for row in ledger.db.execute("SELECT * FROM mail")}
        assert origins["甲工会.xlsx"] == JIA  # the CR/LF in the display name is no obstacle
    finally:
        ledger.close()


SERVER_SAYS = "Authentication-Results: mx.example.org; spf=pass smtp.mailfrom={domain}; {verdicts}"


def with_results(message: EmailMessage, *headers: str) -> EmailMessage:
    """`headers` on top of the message in this order, as receiving servers prepend them (the first is the office's)."""
    raw = "".join(f"{header}\r\n" for header in headers).encode() + bytes(message)
    return BytesParser(policy=email_policy.default).parsebytes(raw)  # type: ignore[return-value]


def test_with_require_authentication_only_mail_the_server_vouches_for_counts(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    policy = write_policy(tmp_path, {"require_authentication": True})
    vouched = SERVER_SAYS.format(domain="units.example", verdicts="dkim=pass header.d=units.example header.s=s1")
    drop_eml(inbox, with_results(unit_mail(JIA, {"甲.xlsx": list_bytes(tmp_path, "甲工会", A)}), vouched), "甲.eml")
    forged_below = SERVER_SAYS.format(domain="units.example", verdicts="dmarc=pass header.from=units.example")
    failed_on_top = SERVER_SAYS.format(
        domain="units.example", verdicts="dmarc=fail (p=reject) header.from=units.example"
    )
    forged = with_results(unit_mail(YI, {"乙.xlsx": list_bytes(tmp_path, "乙工会", B)}), failed_on_top, forged_below)
    drop_eml(inbox, forged, "乙.eml")
    drop_eml(inbox, unit_mail(YI, {"乙2.xlsx": list_bytes(tmp_path, "乙工会", B[:1])}), "乙2.eml")  # no header at all
    report = run_batch(inbox, out, "2026-11", policy)
    first = {r.path.name: r.findings[0] if r.findings else None for r in report.files}
    assert first["甲.xlsx"] is None
    for name in ("乙.xlsx", "乙2.xlsx"):
        assert (first[name].code, first[name].value) == ("unknown_sender", f"{YI}(未通过发件人验证)")
    assert [parse(p)["To"] for p in (out / "2026-11" / "outbox").iterdir()] == [JIA]  # a forger gets no reply


@pytest.mark.parametrize(
    ("sender", "verdicts", "counts"),
    [
        ("a@units.example", "dmarc=pass (p=none dis=none) header.from=units.example", True),
        ("a@UNITS.example", "dmarc=pass header.from=units.example", True),
        ("a@units.example", "dmarc=pass header.from=evil.example", False),
        ("a@mail.units.example", "dkim=pass header.d=units.example", True),
        ("a@units.example", "dkim=pass header.i=@units.example", True),
        ("a@units.example", "dkim=pass header.d=evil.example; dmarc=none", False),
        ("a@units.example", "dkim=fail header.d=units.example; dmarc=fail header.from=units.example", False),
        ("a@units.example", "spf=pass smtp.mailfrom=units.example", False),
        ("a@evilunits.example", "dkim=pass header.d=units.example", False),
    ],
)
def test_authentication_results_are_read_for_the_from_domain(sender: str, verdicts: str, counts: bool) -> None:
    from unionbatch.mail import UNVERIFIED, sender_of

    message = with_results(unit_mail(sender, {}), f"Authentication-Results: mx.example.org; {verdicts}")
    assert sender_of(message, require_authentication=True) == sender.lower() + ("" if counts else UNVERIFIED)
    assert sender_of(message) == sender.lower()
