"""Regenerate samples/inbox: a realistic month of 慰问名单 submissions, good and bad; the 困难职工档案 they are
checked against (samples/困难职工档案.xlsx); and three months of 促进就业 reports (September and October in
samples/earlier/, run first, November in the inbox).

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
    fill_form,
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

SAMPLES = Path(__file__).resolve().parent
INBOX = SAMPLES / "inbox"
EARLIER = SAMPLES / "earlier"  # months before the quick-start's 2026-11, each its own period folder
REGISTER = SAMPLES / "困难职工档案.xlsx"


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
    register_and_lists()
    employment()


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


# ---- 依档帮扶: the 困难职工档案 and two lists checked against it ------------------------------------------------

REGISTER_HEADER = ["序号", "档案编号", "户主姓名", "身份证号码", "困难程度", "建档时间", "档案状态", "所属工会"]


def register_and_lists() -> None:
    """The register as a 帮扶 system exports it (a title, an export date, its own header words, 特困 for 深度困难),
    holding every household of the inbox's lists as listed, plus: 卫健系统工会's (one registered as 深度困难 where the
    list says otherwise, one registered with 市第一医院工会), 城北街道工会's (one 已脱困; one nobody registered; one
    listed with another household's 建档编号), and households nobody visits (深度困难未慰问)."""
    units = [
        ("机关工会", make_people(8, seed=1, prefix="JG")),
        ("城东街道工会", make_people(6, seed=2, prefix="CD")),
        ("高新园区联合工会", make_people(7, seed=3, prefix="GX")),
        ("教育系统工会", make_people(5, seed=4, prefix="JY")),
        ("城南街道工会", make_people(4, seed=5, prefix="CN")),
        ("城西镇工会", listed_tiers(make_people(16, seed=6, prefix="CX"))),
        ("交通系统工会", make_people(5, seed=7, prefix="JT")),
    ]
    health = make_people(5, seed=8, prefix="WJ")
    north = make_people(4, seed=9, prefix="CB")
    unvisited = make_people(6, seed=10, prefix="JG") + make_people(3, seed=10, prefix="CN")
    entries = [(unit, person, "在档", person.tier) for unit, people in units for person in people]
    entries += [("卫健系统工会", person, "在档", person.tier) for person in health]
    entries[-5] = ("卫健系统工会", health[0], "在档", "深度困难")  # the list says 相对困难: registry_tier_differs
    entries[-3] = ("市第一医院工会", health[2], "在档", health[2].tier)  # registry_union_differs
    entries += [("城北街道工会", north[1], "已脱困", north[1].tier)]  # registry_exited
    entries += [("城北街道工会", person, "在档", person.tier) for person in north[2:]]  # north[0]: not_registered
    entries += [("机关工会", person, "在档", person.tier) for person in unvisited[:6]]
    entries += [("城南街道工会", person, "在档", person.tier) for person in unvisited[6:]]
    entries.sort(key=lambda entry: entry[0])
    rows = [
        [
            n,
            p.archive_no,
            p.name,
            p.id_number,
            "特困" if tier == "深度困难" and n % 4 == 0 else tier,
            "2025-03-01",
            s,
            u,
        ]
        for n, (u, p, s, tier) in enumerate(entries, start=1)
    ]
    write_own_layout(REGISTER, [["困难职工档案(帮扶系统导出)"], ["导出日期:2026-11-01"]], REGISTER_HEADER, rows)
    fill_template(
        INBOX / "卫健系统工会_慰问名单.xlsx",
        "卫健系统工会",
        [*health[:3], with_changes(health[3], archive_no=""), health[4]],
    )
    fill_template(
        INBOX / "城北街道工会_慰问名单.xlsx",
        "城北街道工会",
        [north[0], north[1], with_changes(north[2], archive_no=north[3].archive_no), north[3]],
    )


def listed_tiers(people):
    """城西镇工会's people with the tiers its list gives them (the list's own mistakes are not the register's)."""
    tiers = {8: "深度困难", 9: "相对困难", 14: "意外致困"}
    return [with_changes(person, tier=tiers.get(n, person.tier)) for n, person in enumerate(people)]


# ---- 促进就业目标完成情况统计表: September to November ----------------------------------------------------------

EMPLOYMENT = "促进就业统计表"
INDICATORS = ("classes", "trained_laid_off", "trained_migrant", "leaders", "reemployed", "referrals", "loans")
# samples/policy.toml's [employment.targets] (the seed's province targets split over four 市 unions)
TARGETS = {
    "福州市总工会": (100, 8000, 4000, 70, 5000, 6000, 100),
    "厦门市总工会": (80, 7000, 3000, 60, 4000, 5000, 80),
    "泉州市总工会": (70, 6000, 3000, 50, 4000, 5000, 70),
    "漳州市总工会": (50, 5000, 2000, 40, 3000, 4000, 50),
}
PACE = {"福州市总工会": 1.1, "厦门市总工会": 1.05, "泉州市总工会": 0.7, "漳州市总工会": 1.02}  # × the year gone by
TRANSFER_SHARE = {"福州市总工会": 0.7, "厦门市总工会": 0.68, "泉州市总工会": 0.55, "漳州市总工会": 0.66}


def employment_figures(unit: str, month: int) -> dict[str, object]:
    """The unit's figures cumulative since January at the end of `month` (its pace × the share of the year)."""
    share = Decimal(str(PACE[unit])) * month / 12
    record: dict[str, object] = {}
    for key, target in zip(INDICATORS, TARGETS[unit], strict=True):
        value = Decimal(target) * share
        record[key] = float(value.quantize(Decimal("0.01"))) if key == "loans" else int(value)
    trained = int(record["trained_laid_off"]) + int(record["trained_migrant"])
    record["transferred"] = int(trained * Decimal(str(TRANSFER_SHARE[unit])))
    return record


def employment_report(path: Path, unit: str, month: int, **changes: object) -> Path:
    header = {"填报单位": unit, "填表人": "林芳", "联系电话": "0591-87600000", "填报日期": f"2026-{month + 1:02d}-03"}
    return fill_form(path, EMPLOYMENT, header, [{**employment_figures(unit, month), **changes}])


def employment() -> None:
    """September and October: all four report (泉州 lags at 三季度末, below 75 % of every target and a 转岗就业率
    under 65 %); November: 厦门's 职业介绍 is lower than its October figure (sent back), 泉州 sends its own sheet
    with a typed 转岗就业率 that its figures do not give, 漳州 sends nothing."""
    for month in (9, 10):
        folder = EARLIER / f"2026-{month:02d}"
        shutil.rmtree(folder, ignore_errors=True)
        for unit in TARGETS:
            employment_report(folder / f"{unit}_促进就业{month}月.xlsx", unit, month)
    fill = employment_figures
    employment_report(INBOX / "福州市总工会_促进就业11月.xlsx", "福州市总工会", 11)
    october = fill("厦门市总工会", 10)["referrals"]
    employment_report(INBOX / "厦门市总工会_促进就业11月.xlsx", "厦门市总工会", 11, referrals=int(october) - 120)
    record = fill("泉州市总工会", 11)
    order = ("classes", "trained_laid_off", "trained_migrant", "transferred", "leaders", "reemployed", "referrals")
    header = ["单位名称", "举办培训班(期)", "培训下岗失业人员(人)", "培训农民工(人)", "转岗就业(人)"]
    header += ["帮扶创业带头人(人)", "带动再就业(人)", "职业介绍(人次)", "小额借(贷)款(万元)", "转岗就业率(%)"]
    write_own_layout(
        INBOX / "泉州市总工会促进就业目标完成情况(11月).xlsx",
        [
            ["泉州市总工会促进就业目标完成情况统计表(截至11月)"],
            ["填报单位:泉州市总工会", None, None, "填报日期:2026-12-02"],
        ],
        header,
        [["泉州市总工会", *(record[key] for key in order), record["loans"], "65%"]],
        footer=[[], ["填表人:陈军", None, None, "联系电话:0595-22000000"]],
    )


if __name__ == "__main__":
    main()
