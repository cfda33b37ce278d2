"""Replies read as a letter from the office: greeting, the result in words, what the unit owes, thanks, the office's
name, phone, address and the date; nothing said that does not apply (rows of a Word file, an absent attachment,
a resubmission that could not count). Read from the .eml files a run leaves in the outbox."""

from __future__ import annotations

import datetime as dt
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import make_msgid
from pathlib import Path

from tests.factory import fill_outing, fill_template, make_people
from unionbatch.pipeline import run_batch

PERIOD = "2026-11"
UNIT_ADDRESS = "jwc@school.example.org"
SETTINGS = (
    '[email]\noffice_address = "gonghui@example.org"\noffice_name = "校工会办公室"\noffice_phone = "0591-83001234"\n\n'
)


def mail(name: str, data: bytes, date: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = UNIT_ADDRESS, "gonghui@example.org", "报送"
    message["Message-ID"] = make_msgid(domain="school.example.org")
    if date:
        message["Date"] = date
    message.set_content("请查收附件。")
    message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message


def replies(tmp_path: Path, attachments: dict[str, tuple[bytes, str | None]], extra: str = "") -> list[EmailMessage]:
    """Run on one .eml per attachment (name → bytes, Date) and return the replies, by file name."""
    policy = tmp_path / "policy.toml"
    policy.write_text(SETTINGS + extra, encoding="utf-8")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for number, (name, (data, date)) in enumerate(attachments.items()):
        (inbox / f"{number}.eml").write_bytes(bytes(mail(name, data, date)))
    run_batch(inbox, tmp_path / "out", PERIOD, policy)
    outbox = tmp_path / "out" / PERIOD / "outbox"
    parser = BytesParser(policy=email_policy.default)
    return [parser.parsebytes(path.read_bytes()) for path in sorted(outbox.glob("回信_*.eml"))]  # type: ignore[misc]


def text(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def outing_bytes(folder: Path, name: str, rows: list[tuple[str, str, str, str]]) -> bytes:
    return fill_outing(folder / "make" / name, "教务处", rows).read_bytes()


def test_an_accepted_outing_reply_is_a_letter_stating_the_fee_owed(tmp_path: Path) -> None:
    rows = [("陈静", "教职工", "", "13905910001"), ("林伟", "家属", "陈静", ""), ("林小雨", "家属", "陈静", "")]
    [reply] = replies(tmp_path, {"踏青.xlsx": (outing_bytes(tmp_path, "踏青.xlsx", rows), None)})
    assert reply["Subject"] == f"【已受理】外出活动报名表 教务处 {PERIOD}"
    assert str(reply["From"]) == "校工会办公室 <gonghui@example.org>"
    lines = text(reply).splitlines()
    assert lines[:3] == ["教务处:", "", "您好!"]
    assert lines[3:5] == [
        "贵单位报送的文件《踏青.xlsx》(2026年11月外出活动报名表)已收到,经核对,予以受理。",
        "表中共 3 行,没有发现问题。",
    ]
    assert "贵单位应交费用:家属 2 人 × 25.00 元 = 50.00 元(教职工 1 人免费);请在提交报名表时一并交到工会。" in lines
    signature = lines[lines.index("谢谢!") :]
    assert signature[:6] == [
        "谢谢!",
        "",
        "校工会办公室",
        "联系电话:0591-83001234",
        "邮箱:gonghui@example.org",
        f"{dt.date.today():%Y年%-m月%-d日}",
    ]
    assert list(reply.iter_attachments()) == []  # nothing to fix, nothing attached


def test_a_reply_about_a_word_file_counts_no_rows_and_names_no_attachment(tmp_path: Path) -> None:
    [reply] = replies(tmp_path, {"工作总结.docx": (b"PK\x03\x04 not a workbook", None)})
    body = text(reply)
    assert list(reply.iter_attachments()) == []
    assert "共 0 行" not in body and "行," not in body
    assert "附件" not in body and "错误清单" not in body
    assert reply["Subject"] == f"【退回修改】工作总结.docx {PERIOD}"  # the file named: no form was recognised
    assert body.splitlines()[0] == "您好:"  # no unit to address: no second 您好


def test_problems_are_told_in_words_first_then_where(tmp_path: Path) -> None:
    people = make_people(2, seed=901)
    data = fill_template(tmp_path / "make" / "名单.xlsx", "教务处", people, edits={"D4": "12345"}).read_bytes()
    [reply] = replies(tmp_path, {"名单.xlsx": (data, None)})
    body = text(reply)
    [first] = [line for line in body.splitlines() if line.startswith("1. ")]
    assert first.startswith("1. 身份证号“12345”") and first.endswith("(慰问名单 D4 单元格)")
    assert "第一张工作表“错误清单”" in body and [a.get_filename() for a in reply.iter_attachments()] == [
        "名单_批注.xlsx"
    ]
    assert "修改后请回复本邮件,重新附上整张表格。" in body
    assert "已收到,经核对,需要修改后重新报送(退回修改)。\n表中共 2 行,有 1 处错误。" in body


def test_a_late_file_is_not_counted_and_not_asked_to_resubmit(tmp_path: Path) -> None:
    rows = [("陈静", "教职工", "", "13905910001")]
    data = outing_bytes(tmp_path, "踏青.xlsx", rows)
    [reply] = replies(
        tmp_path,
        {"踏青.xlsx": (data, "Sat, 20 Mar 2027 17:30:00 +0800")},
        extra="[outing]\ncloses = 2027-03-20T17:00:00\n",
    )
    body = text(reply)
    assert reply["Subject"] == f"【逾期未计入】外出活动报名表 教务处 {PERIOD}"
    assert "退回修改" not in reply["Subject"] + body
    assert "已过截止时间 2027-03-20 17:00" in body and "重新发送也不能计入,请不要再次报送" in body
    assert "修改后请回复" not in body and "附件" not in body and "应交费用" not in body
    assert list(reply.iter_attachments()) == []
