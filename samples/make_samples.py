"""Regenerate samples/inbox: a realistic month of 慰问名单 submissions, good and bad.

    python samples/make_samples.py      (needs LibreOffice's soffice for the .xls and .ods files)

The files are committed; this script documents how each was made and what was planted in it.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import replace
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.factory import (
    Athlete,
    fill_attendance,
    fill_outing,
    fill_registration,
    fill_results,
    fill_stats,
    fill_template,
    libreoffice_convert,
    make_people,
    make_team,
    stats_for,
    with_changes,
    write_own_layout,
)

INBOX = Path(__file__).resolve().parent / "inbox"


def total_of(people, key):
    return sum(Decimal(str(getattr(person, key))) for person in people)


def main() -> None:
    shutil.rmtree(INBOX, ignore_errors=True)
    INBOX.mkdir(parents=True)

    # 1. Clean, on our template, with a correct 合计 row.
    people = make_people(8, seed=1, prefix="JG")
    fill_template(
        INBOX / "机关工会_慰问名单.xlsx",
        "机关工会",
        people,
        total_row={"amount": total_of(people, "amount"), "goods": total_of(people, "goods")},
    )

    # 2. Messy but acceptable: full-width digits, "800元", "1,000.00", text numbers, a blank row,
    #    the old tier name 特困 and a missing 建档编号 (warnings), a footer.
    people = make_people(6, seed=2, prefix="CD")
    people[0] = with_changes(people[0], phone="１３９" + people[0].phone[3:], amount=f"{people[0].amount}元")
    people[1] = with_changes(people[1], amount=f"{people[1].amount:,}.00", household=str(people[1].household))
    people[2] = with_changes(
        people[2], name=people[2].name[0] + " " + people[2].name[1:], id_number=f" {people[2].id_number} "
    )
    deep = next(i for i, p in enumerate(people) if p.tier == "深度困难")
    people[deep] = with_changes(people[deep], tier="特困")
    people[3] = with_changes(people[3], archive_no="")
    fill_template(
        INBOX / "城东街道工会 慰问名单(终稿).xlsx",
        "城东街道工会",
        people,
        skip_rows=[7],
        edits={"A12": "填表人:李明", "E12": "联系电话:0591-87654321"},
    )

    # 3. A unit's own sheet: title rows, 填报单位 inside one cell, renamed and reordered columns,
    #    no 工作单位 column, an extra sheet, a 合计 row and a footer.
    people = make_people(7, seed=3, prefix="GX")
    header = [
        "序号",
        "姓名",
        "身份证号码",
        "性别",
        "困难程度",
        "致困原因",
        "家庭人口数",
        "家庭年收入",
        "刚性支出",
        "慰问金(元)",
        "物资折款",
        "联系方式",
        "档案编号",
        "备注",
    ]
    rows = [
        [
            n,
            p.name,
            p.id_number,
            p.gender,
            p.tier,
            p.cause,
            p.household,
            p.income,
            p.expense,
            p.amount,
            p.goods,
            p.phone,
            p.archive_no,
            "",
        ]
        for n, p in enumerate(people, start=1)
    ]
    rows.append(
        [
            "合  计",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            float(total_of(people, "amount")),
            float(total_of(people, "goods")),
        ]
    )
    write_own_layout(
        INBOX / "园区工会送温暖名单.xlsx",
        [
            ["高新园区联合工会2026年“两节”送温暖困难职工慰问名单"],
            ["填报单位(盖章):高新园区联合工会", None, None, None, None, None, "填报时间:2026年11月12日"],
        ],
        header,
        rows,
        footer=[[], ["填表人:陈红", None, None, "审核人:林强", None, None, "联系电话:0591-83001234"]],
        extra_sheets={"说明": [["本表由园区联合工会汇总"], ["共 7 户"]]},
    )

    # 4. and 5. Saved by LibreOffice as .xls (Excel 97-2003) and .ods.
    with tempfile.TemporaryDirectory() as work:
        source = fill_template(
            Path(work) / "教育系统工会慰问名单.xlsx", "教育系统工会", make_people(5, seed=4, prefix="JY")
        )
        libreoffice_convert(source, INBOX / "教育系统工会慰问名单.xls", "MS Excel 97")
        source = fill_template(Path(work) / "城南街道工会.xlsx", "城南街道工会", make_people(4, seed=5, prefix="CN"))
        libreoffice_convert(source, INBOX / "城南街道工会.ods", "calc8")

    # 6. One of every mistake (see the 备注 column of each row).
    people = make_people(16, seed=6, prefix="CX")
    shared = people[15]  # also listed by 交通系统工会
    bad = [
        with_changes(people[0], id_number=float(people[0].id_number[:15] + "000"), remark="身份证号被存成数字"),
        with_changes(
            people[1],
            id_number=people[1].id_number[:-1] + ("0" if people[1].id_number[-1] != "0" else "1"),
            remark="校验位错",
        ),
        with_changes(
            people[2], id_number=people[2].id_number[:10] + "1332" + people[2].id_number[14:], remark="出生日期不存在"
        ),
        with_changes(people[3], gender="女" if people[3].gender == "男" else "男", remark="性别与身份证不符"),
        with_changes(people[4], phone="1380013800", remark="电话少一位"),
        with_changes(people[5], tier="一般困难", remark="旧类别,现行无此类"),
        with_changes(people[6], amount="八百元", remark="金额写成汉字"),
        with_changes(people[7], household=0, remark="家庭人口为 0"),
        with_changes(people[8], tier="深度困难", household=2, income=60000, expense=0, remark="收入超过低保"),
        with_changes(people[9], tier="相对困难", amount=600, remark="低于标准"),
        with_changes(people[10], amount=1000.555, remark="金额三位小数"),
        with_changes(people[11], expense=-500, remark="负数"),
        with_changes(people[12], cause="因穷", remark="致困原因不在列表"),
        with_changes(people[13], name="", remark="姓名漏填"),
        with_changes(people[14], tier="意外致困", income=50000, expense=10000, remark="刚性支出不足一半"),
        with_changes(people[9], amount=800, remark="与第 13 行重复"),
        shared,
    ]
    people_total = total_of([p for p in bad if isinstance(p.amount, int | float)], "amount")
    fill_template(
        INBOX / "城西镇工会_慰问名单.xlsx",
        "城西镇工会",
        bad,
        total_row={"amount": float(people_total) + 1000, "goods": float(total_of(bad, "goods"))},
    )

    # 7. Otherwise clean, but one person is also on 城西镇工会's list.
    people = [*make_people(5, seed=7, prefix="JT"), with_changes(shared, archive_no="JT07-099")]
    fill_template(INBOX / "交通系统工会.xlsx", "交通系统工会", people)

    # 8. 送温暖统计表: one that agrees with its unit's list, one that does not (户数 off by one), one
    #    resubmitted (the corrected version is newer by 填报日期), one whose unit's list was rejected.
    #    教育系统工会 and 卫健系统工会 send none (未报送).
    fill_stats(INBOX / "机关工会_送温暖统计表.xlsx", "机关工会", [stats_for(make_people(8, seed=1, prefix="JG"))])
    east = make_people(6, seed=2, prefix="CD")
    fill_stats(INBOX / "城东街道工会_统计表.xlsx", "城东街道工会", [stats_for(east, hard_count=len(east) + 1)])
    park = make_people(7, seed=3, prefix="GX")
    fill_stats(
        INBOX / "园区统计表(初稿).xlsx",
        "高新园区联合工会",
        [stats_for(park, frontline_count=8, frontline_amount=4000)],
        date="2026-11-12",
    )
    fill_stats(INBOX / "园区统计表(更正).xlsx", "高新园区联合工会", [stats_for(park)], date="2026-11-19")
    fill_stats(INBOX / "城西镇工会_统计表.xlsx", "城西镇工会", [stats_for(make_people(16, seed=6, prefix="CX"))])

    # 9. Not ours: a Word attachment and an unrelated spreadsheet sent by mistake.
    (INBOX / "工作总结.docx").write_bytes(b"PK\x03\x04 not really a document")
    write_own_layout(
        INBOX / "活动照片登记.xlsx",
        [["2026年职工活动照片登记"]],
        ["照片编号", "拍摄地点", "拍摄人"],
        [["P001", "会议室", "小王"], ["P002", "操场", "小李"]],
    )

    sports_day()
    outing()


# ---- a sports day (教职工趣味运动会) and an outing (踏青) ----------------------------------------------

TUG, RELAY, PINGPONG, SHOT = "拔河", "迎面接力", "乒乓球单打", "定点投篮"
BALL_RUN, KNEE_BALL, STONES, ROPE, SHUTTLE = "托球跑", "双腿夹球走", "摸石过河", "一分钟跳绳", "踢毽子"


def sports_teams() -> dict[str, list[Athlete]]:
    """The departments' entrants, as registered in the accepted files."""
    return {
        "教务处": make_team("教务处", 21, [[TUG, BALL_RUN]] * 10 + [[PINGPONG, STONES]] * 2, women=4),
        "总务处": make_team("总务处", 22, [[TUG, SHOT, KNEE_BALL]] * 5 + [[TUG, KNEE_BALL]] * 5, women=3),
        "学生处": make_team("学生处", 23, [[RELAY, BALL_RUN]] * 10 + [[ROPE, STONES]] * 2, women=5),
    }


def sports_day() -> None:
    """Registrations (one clean, one with warnings, one in a unit's own layout listing events in one
    column and resubmitted after a rejection, one rejected), the referees' 成绩登记表 and the 签到表."""
    teams = sports_teams()
    fill_registration(INBOX / "教务处_运动会报名表.xlsx", "教务处", teams["教务处"])
    # 总务处: five people in two team events (拔河 and 定点投篮): a warning each, accepted.
    fill_registration(INBOX / "总务处_运动会报名表.xlsx", "总务处", teams["总务处"])
    # 学生处: its own sheet with a 报名项目 column; the first version has one person in four events and
    # an event that does not exist (跳远); the corrected version (newer 填报日期) is accepted.
    students = teams["学生处"]
    header = ["序号", "姓名", "性别", "身份证号码", "手机号", "报名项目"]
    rows = [[n, a.name, a.gender, a.id_number, a.phone, "、".join(a.events)] for n, a in enumerate(students, 1)]
    wrong = [list(row) for row in rows]
    wrong[0][5] = "迎面接力、托球跑*、一分钟跳绳、踢毽子"
    wrong[11][5] = "跳远/摸石过河"
    write_own_layout(
        INBOX / "学生处报名(初稿).xlsx",
        [["学生处教职工趣味运动会报名表"], ["填报单位:", "学生处", "填报日期:", "2026-11-08"]],
        header,
        wrong,
    )
    write_own_layout(
        INBOX / "学生处报名(更正).xlsx",
        [["学生处教职工趣味运动会报名表"], ["填报单位:", "学生处", "填报日期:", "2026-11-12"]],
        header,
        rows,
    )
    # 图书馆: only 8 for 拔河 (a team is 10), one woman among them (at least 2), a 性别 that contradicts the ID.
    library = make_team("图书馆", 24, [[TUG, BALL_RUN]] * 8, women=1)
    library[5] = replace(library[5], gender="女")
    fill_registration(INBOX / "图书馆_运动会报名表.xlsx", "图书馆", library)

    jw, zw, xs = teams["教务处"], teams["总务处"], teams["学生处"]
    fill_results(
        INBOX / "运动会成绩登记表.xlsx",
        [
            (TUG, 1, "教务处", ""),
            (TUG, 2, "总务处", ""),
            (RELAY, 1, "学生处", ""),
            (SHOT, 1, "总务处", ""),
            (BALL_RUN, 1, "教务处", jw[0].name),
            (BALL_RUN, 2, "学生处", xs[0].name),
            (BALL_RUN, 3, "教务处", jw[1].name),
            (KNEE_BALL, 1, "总务处", zw[0].name),
            (KNEE_BALL, 2, "总务处", zw[1].name),
            (KNEE_BALL, 3, "总务处", zw[2].name),
            (STONES, 1, "学生处", xs[10].name),
        ],
    )
    status = {("教务处", 2): "迟到", ("总务处", 3): "早退", ("学生处", 5): "缺席"}
    signed = [(a.dept, a.name, status.get((a.dept, n), "出勤")) for team in teams.values() for n, a in enumerate(team)]
    fill_attendance(INBOX / "运动会签到表.xlsx", "校工会", [*signed, ("教务处", "钱多多", "出勤")])


def outing() -> None:
    """踏青 registrations by email: on time, on time with a family member whose member is not listed, late."""
    sends = [
        (
            "jwc@school.example.org",
            "教务处",
            "Wed, 17 Mar 2027 09:12:00 +0800",
            [
                ("陈静", "教职工", "", "13905910001"),
                ("林伟", "家属", "陈静", ""),
                ("林小雨", "家属", "陈静", ""),
                ("王强", "教职工", "", "13905910002"),
                ("黄丽", "教职工", "", "13905910003"),
            ],
        ),
        (
            "xsc@school.example.org",
            "学生处",
            "Fri, 19 Mar 2027 16:40:00 +0800",
            [
                ("周敏", "教职工", "", "13905910011"),
                ("吴杰", "家属", "周民", ""),
            ],
        ),
        (
            "zwc@school.example.org",
            "总务处",
            "Sat, 20 Mar 2027 18:05:00 +0800",
            [
                ("郑涛", "教职工", "", "13905910021"),
                ("郑一帆", "家属", "郑涛", ""),
            ],
        ),
    ]
    with tempfile.TemporaryDirectory() as work:
        for sender, unit, date, rows in sends:
            workbook = fill_outing(Path(work) / f"{unit}踏青报名表.xlsx", unit, rows)
            message = EmailMessage()
            message["From"], message["To"] = sender, "gonghui@school.example.org"
            message["Subject"], message["Date"] = f"{unit}踏青报名表", date
            message["Message-ID"] = f"<outing-{sender.split('@')[0]}@school.example.org>"
            message.set_content(f"附件是{unit}的踏青报名表,请查收。")
            message.add_attachment(
                workbook.read_bytes(), maintype="application", subtype="octet-stream", filename=workbook.name
            )
            (INBOX / f"{unit}踏青报名.eml").write_bytes(bytes(message))


if __name__ == "__main__":
    main()
