"""催报 on schedule: `remind --due --send`, run daily from cron, through a real SMTP server on loopback; the day is
given with --date, never the wall clock."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from click.testing import CliRunner

from process import cli
from tests.factory import fill_outing, fill_template, make_people
from tests.servers import PASSWORD, USER, smtp_server
from unionbatch.pipeline import run_batch

JIA, YI, BING = "jia@units.example", "yi@units.example", "bing@units.example"
PERIOD = "2026-11"  # 慰问名单 due on day 20 of the next month: 2026-12-20


def write_policy(folder: Path, port: int | None, extra: str = "", forms: str = '["慰问名单"]') -> Path:
    smtp = (
        f'smtp_host = "127.0.0.1"\nsmtp_port = {port}\nsmtp_user = "{USER}"\nsmtp_security = "none"\n' if port else ""
    )
    text = (
        '[email]\noffice_address = "gonghui@example.org"\noffice_name = "市总工会生活女工部"\n'
        f'office_phone = "0591-87654321"\n{smtp}\n'
        '[deadlines]\n"慰问名单" = 20\n\n[reminders]\ndays_before = 3\noverdue_days = 2\n\n'
        f"{extra}"
        f'[[roster]]\nunit = "甲工会"\nforms = {forms}\nemails = ["{JIA}"]\n\n'
        f'[[roster]]\nunit = "乙工会"\nforms = {forms}\nemails = ["{YI}"]\n\n'
        f'[[roster]]\nunit = "丙工会"\nforms = {forms}\nemails = ["{BING}"]\n'
    )
    path = folder / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def remind(out: Path, policy: Path, when: str, *options: str) -> list[str]:
    arguments = ["remind", "--out", str(out), "--period", PERIOD, "--policy", str(policy), "--due", "--send"]
    result = CliRunner().invoke(cli, [*arguments, "--date", when, *options], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def body(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def process(tmp_path: Path, policy: Path, files: dict[str, tuple[str, dict[str, str]]]) -> Path:
    """Run a batch on 慰问名单 files (name → unit, cell edits); returns OUT."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    for number, (name, (unit, edits)) in enumerate(files.items()):
        fill_template(inbox / name, unit, make_people(2, seed=300 + number), edits=edits)
    run_batch(inbox, out, PERIOD, policy)
    return out


def test_daily_reminders_from_three_days_before_to_two_days_overdue(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("UNIONBATCH_SMTP_PASSWORD", PASSWORD)
    with smtp_server() as server:
        policy = write_policy(tmp_path, server.port)
        out = process(tmp_path, policy, {"甲.xlsx": ("甲工会", {})})  # 甲 has reported; 乙 and 丙 have not
        sent = server.collector.messages
        assert remind(out, policy, "2026-12-16") == [f"{PERIOD}:今天没有要发的催报。"]  # 4 days before: too early
        lines = remind(out, policy, "2026-12-17 08:00")
        assert lines[0] == f"{PERIOD}:2 项待报送" and lines[-1] == "已发送催报邮件 2 封"
        assert sorted(m["Subject"] for m in sent) == [
            f"【催报】慰问名单 丙工会 {PERIOD}(还有 3 天截止)",
            f"【催报】慰问名单 乙工会 {PERIOD}(还有 3 天截止)",
        ]
        assert {m["To"] for m in sent} == {YI, BING}  # never the unit that has reported
        assert remind(out, policy, "2026-12-17 18:30") == [f"{PERIOD}:今天没有要发的催报。"]  # once a day
        assert len(sent) == 2
        days = ["2026-12-18", "2026-12-19", "2026-12-20", "2026-12-21", "2026-12-22", "2026-12-23", "2026-12-24"]
        for day in days:
            remind(out, policy, day)
        subjects = [m["Subject"] for m in sent if m["To"] == YI]
        assert subjects == [
            f"【催报】慰问名单 乙工会 {PERIOD}(还有 3 天截止)",
            f"【催报】慰问名单 乙工会 {PERIOD}(还有 2 天截止)",
            f"【催报】慰问名单 乙工会 {PERIOD}(还有 1 天截止)",
            f"【催报】慰问名单 乙工会 {PERIOD}(今天截止)",
            f"【催报】慰问名单 乙工会 {PERIOD}(已逾期 1 天)",
            f"【催报】慰问名单 乙工会 {PERIOD}(已逾期 2 天)",
        ]  # nothing after overdue_days


def test_a_reminder_reads_as_a_letter_from_the_office(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("UNIONBATCH_SMTP_PASSWORD", PASSWORD)
    with smtp_server() as server:
        policy = write_policy(tmp_path, server.port)
        remind(tmp_path / "out", policy, "2026-12-19")  # before any run: every unit on the roster is due
        [message] = [m for m in server.collector.messages if m["To"] == YI]
        assert str(message["From"]) == "市总工会生活女工部 <gonghui@example.org>"
        assert body(message).splitlines() == [
            "乙工会:",
            "",
            "您好!",
            "贵单位尚未报送2026年11月《慰问名单》,截止日期为 2026年12月20日(还有 1 天截止),请尽快报送。",
            "如已报送,请忽略本邮件;如有疑问,请直接回复本邮件或来电。",
            "",
            "谢谢!",
            "",
            "市总工会生活女工部",
            "联系电话:0591-87654321",
            "邮箱:gonghui@example.org",
            "2026年12月19日",
        ]


def test_a_unit_sent_back_is_asked_to_resubmit_in_subject_and_body(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("UNIONBATCH_SMTP_PASSWORD", PASSWORD)
    with smtp_server() as server:
        policy = write_policy(tmp_path, server.port)
        broken = {"D4": "12345"}  # 身份证号 that is no ID: rejected
        out = process(tmp_path, policy, {"甲.xlsx": ("甲工会", {}), "乙.xlsx": ("乙工会", broken)})
        remind(out, policy, "2026-12-20")
        by_unit = {m["To"]: m for m in server.collector.messages}
        assert set(by_unit) == {YI, BING}
        resend, first = by_unit[YI], by_unit[BING]
        assert resend["Subject"] == f"【重报】慰问名单 乙工会 {PERIOD}(今天截止)"
        assert "已被退回,请按回信和批注修改后重新报送" in body(resend)
        assert "催报" not in resend["Subject"] + body(resend) and "尚未报送" not in body(resend)
        assert first["Subject"] == f"【催报】慰问名单 丙工会 {PERIOD}(今天截止)"
        assert "重报" not in first["Subject"] + body(first) and "退回" not in body(first)


def test_after_a_closing_time_no_unit_is_asked_and_a_late_file_never(tmp_path: Path, monkeypatch) -> None:
    """外出活动报名表 closes at 2027-03-20 17:00; files after that are rejected and cannot count if sent again."""
    monkeypatch.setenv("UNIONBATCH_SMTP_PASSWORD", PASSWORD)
    with smtp_server() as server:
        policy = write_policy(
            tmp_path, server.port, extra="[outing]\ncloses = 2027-03-20T17:00:00\n\n", forms='["外出活动报名表"]'
        )
        inbox, out = tmp_path / "inbox", tmp_path / "out"
        late = fill_outing(tmp_path / "make" / "乙.xlsx", "乙工会", [("陈静", "教职工", "", "13905910001")])
        message = EmailMessage()
        message["From"], message["Subject"], message["Date"] = YI, "踏青报名", "Sat, 20 Mar 2027 17:30:00 +0800"
        message.set_content("附件")
        message.add_attachment(late.read_bytes(), maintype="application", subtype="octet-stream", filename="乙.xlsx")
        inbox.mkdir()
        (inbox / "乙.eml").write_bytes(bytes(message))
        run_batch(inbox, out, PERIOD, policy)
        server.collector.messages.clear()  # the reply to 乙
        lines = remind(out, policy, "2027-03-20 09:00")  # the closing day, before the closing time
        assert "乙工会《外出活动报名表》逾期报送,不能计入,不再催报" in lines
        assert sorted(m["Subject"] for m in server.collector.messages) == [
            f"【催报】外出活动报名表 丙工会 {PERIOD}(今天截止)",
            f"【催报】外出活动报名表 甲工会 {PERIOD}(今天截止)",
        ]
        server.collector.messages.clear()
        after = remind(out, policy, "2027-03-21 09:00")
        assert after == [
            "《外出活动报名表》已于 2027年3月20日 17:00 截止,之后报送的不能计入,不再催报",
            f"{PERIOD}:今天没有要发的催报。",
        ]
        assert server.collector.messages == []


def test_without_smtp_each_days_reminders_are_kept_apart_in_the_outbox(tmp_path: Path) -> None:
    policy = write_policy(tmp_path, None)
    out = tmp_path / "out"
    remind(out, policy, "2026-12-18")
    remind(out, policy, "2026-12-18")  # nothing more the same day
    remind(out, policy, "2026-12-19")
    outbox = out / PERIOD / "outbox"
    assert sorted(path.name for path in outbox.iterdir()) == [
        "催报_20261218_001.eml",
        "催报_20261218_002.eml",
        "催报_20261218_003.eml",
        "催报_20261219_001.eml",
        "催报_20261219_002.eml",
        "催报_20261219_003.eml",
    ]


def test_due_without_send_lists_and_remembers_nothing(tmp_path: Path) -> None:
    policy = write_policy(tmp_path, None)
    arguments = ["remind", "--out", str(tmp_path / "out"), "--period", PERIOD, "--policy", str(policy), "--due"]
    for _ in range(2):
        result = CliRunner().invoke(cli, [*arguments, "--date", "2026-12-22"], catch_exceptions=False)
        assert result.output.splitlines() == [
            f"{PERIOD}:3 项待报送",
            "【催报】甲工会:贵单位尚未报送2026年11月《慰问名单》,截止日期为 2026年12月20日(已逾期 2 天),请尽快报送,谢谢。",
            "【催报】乙工会:贵单位尚未报送2026年11月《慰问名单》,截止日期为 2026年12月20日(已逾期 2 天),请尽快报送,谢谢。",
            "【催报】丙工会:贵单位尚未报送2026年11月《慰问名单》,截止日期为 2026年12月20日(已逾期 2 天),请尽快报送,谢谢。",
        ]
    assert not (tmp_path / "out").exists()


def test_a_bad_date_or_reminder_setting_is_refused(tmp_path: Path) -> None:
    policy = write_policy(tmp_path, None)
    arguments = ["remind", "--out", str(tmp_path / "out"), "--policy", str(policy), "--due"]
    result = CliRunner().invoke(cli, [*arguments, "--date", "12月17日"], catch_exceptions=False)
    assert (result.exit_code, result.output) == (
        2,
        "错误:日期“12月17日”格式不对,应为 YYYY-MM-DD 或 “YYYY-MM-DD HH:MM”,如 2026-12-17\n",
    )
    policy.write_text(policy.read_text(encoding="utf-8").replace("days_before = 3", "days_before = -1"), "utf-8")
    result = CliRunner().invoke(cli, arguments, catch_exceptions=False)
    assert (result.exit_code, result.output) == (
        2,
        "错误:策略文件中 reminders.days_before 应为 0 至 60 的整数(天数),现在是“-1”\n",
    )
