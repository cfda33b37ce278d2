"""外出活动报名表 (踏青 / 春游): members and their family, fees to collect and the union's subsidy.

DOMAIN.md Form 2 (seed `000` 篇五): 教职工 (工会会员) free, 家属 pay half the cost (25 元 of 50 元), the
union pays the rest; registration closes at a set time (3月20日 17:00), after which 人员不再变动: a file
that arrives later is rejected as late. Every figure is in the policy's [outing].
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

from schemas._activity import team_key
from schemas._columns import NAMED, PHONE, REMARK, SEQ
from unionbatch.compute import UPPER_AS_OF_RUN, decimal_sum, detail_sheet, upper_line
from unionbatch.findings import ERROR, Code, Finding
from unionbatch.money import format_yuan, rmb_upper, to_fen
from unionbatch.policy import PolicyError, amount, reject_unknown
from unionbatch.records import Chart, OutColumn, OutSheet, ParsedSheet, Summary
from unionbatch.spec import Column, FormSpec

KIND = "外出活动报名表"
SECTION = "outing"
MEMBER, FAMILY = "教职工", "家属"

COLUMNS = (
    SEQ,
    Column(
        "dept",
        "部门",
        "text",
        required=False,
        synonyms=("部门工会", "所在部门", "单位"),
        help="不填则为填报单位",
        example="教务处",
        width=14,
    ),
    Column("name", "姓名", "name", help="填写本人姓名", example="张三", width=10),
    Column(
        "role",
        "身份",
        "choice",
        choices=(MEMBER, FAMILY),
        legacy=(("职工", MEMBER), ("会员", MEMBER), ("工会会员", MEMBER), ("教师", MEMBER), ("亲属", FAMILY)),
        synonyms=("人员类别", "类别", "人员身份"),
        help="教职工(工会会员)或家属",
        example=MEMBER,
        width=8,
    ),
    Column(
        "companion",
        "随行职工",
        "name",
        required=False,
        synonyms=("随同职工", "家属随行职工", "所属职工", "陪同职工"),
        help="家属填写随行的教职工姓名(该职工须在本表中)",
        example="张三",
        width=10,
    ),
    PHONE,
    REMARK,
)


@dataclass(frozen=True)
class Outing:
    name: str = "春季踏青活动"
    date: dt.date | None = None
    closes: dt.datetime | None = None  # 报名截止; later files are rejected
    cost: Decimal = Decimal(50)  # 成本, per person
    member_share: Decimal = Decimal(0)  # the share of the cost a member pays (免收)
    family_share: Decimal = Decimal("0.5")  # 家属按成本的半价收费

    def fee(self, role: str) -> Decimal:
        return to_fen(self.cost * (self.family_share if role == FAMILY else self.member_share))


def parse_outing(section: Mapping[str, Any]) -> Outing:
    reject_unknown(section, {"name", "date", "closes", "cost", "member_share", "family_share"}, SECTION)
    closes, date = section.get("closes"), section.get("date")
    if closes is not None and not isinstance(closes, dt.datetime):
        raise PolicyError(f"策略文件中 {SECTION}.closes 应为日期时间,如 2027-03-20T17:00:00,现在是“{closes}”")
    if date is not None and (not isinstance(date, dt.date) or isinstance(date, dt.datetime)):
        raise PolicyError(f"策略文件中 {SECTION}.date 应为日期,如 2027-03-23,现在是“{date}”")
    shares = {
        key: amount(section, key, default, SECTION, allow_zero=True)
        for key, default in (("member_share", "0"), ("family_share", "0.5"))
    }
    for key, share in shares.items():
        if share > 1:
            raise PolicyError(f"策略文件中 {SECTION}.{key} 应在 0 至 1 之间(0.5 即半价),现在是“{share}”")
    return Outing(
        name=str(section.get("name", "春季踏青活动")),
        date=date,
        closes=closes,
        cost=amount(section, "cost", "50", SECTION, allow_zero=True),
        **shares,
    )


def specialise(spec: FormSpec, outing: Outing) -> FormSpec:
    when = f"({outing.date:%Y年%m月%d日})" if outing.date else ""
    closes = f"请于 {outing.closes:%m月%d日 %H:%M} 前报送,逾期人员不再变动。" if outing.closes else ""
    return dataclasses.replace(
        spec,
        title=f"{outing.name}报名表",
        title_keywords=(*spec.title_keywords, outing.name),
        specialise=None,
        instructions=(
            f"一、本表用于{outing.name}{when}报名,以部门工会为单位,每人一行。{closes}",
            f"二、身份选“教职工”或“家属”。费用按成本 {format_yuan(outing.cost)} 元/人计:教职工交 "
            f"{format_yuan(outing.fee(MEMBER))} 元,家属交 {format_yuan(outing.fee(FAMILY))} 元,其余由工会补贴。",
            "三、家属须填写“随行职工”,该职工须在本表中一同报名。",
            "四、提交报名表时一并收取费用。如需更正,请重新报送整张表。",
        ),
    )


def closes_at(outing: Outing) -> dt.datetime | None:
    return outing.closes


def family_with_member(sheet: ParsedSheet, _outing: Outing) -> list[Finding]:
    """A 家属 comes with a member of the same list."""
    records = dict(sheet.records())
    members = {(team_key(r["dept"]), r["name"]) for r in records.values() if r["role"] == MEMBER}
    findings = []
    for row, record in records.items():
        if record["role"] != FAMILY:
            continue
        if not record["companion"]:
            findings.append(sheet.finding("companion_missing", row, "companion"))
        elif (team_key(record["dept"]), record["companion"]) not in members:
            findings.append(sheet.finding("companion_not_listed", row, "companion", dept=record["dept"] or ""))
    return findings


CODES = {
    "companion_missing": Code(ERROR, "家属未填写随行职工", "请填写与其同行的教职工姓名", title="家属未填随行职工"),
    "companion_not_listed": Code(
        ERROR,
        "随行职工“{value}”不在本表“{dept}”的教职工中",
        "家属须随本部门报名的教职工参加:请核对姓名,或把该职工一并报名",
        title="随行职工不在本表",
    ),
}


def fee_owed(frame: pd.DataFrame, outing: Outing) -> list[str]:
    """The reply's line on what the unit pays: each kind of person, the fee each, and the sum."""
    members, family = int((frame["role"] == MEMBER).sum()), int((frame["role"] == FAMILY).sum())
    total = outing.fee(MEMBER) * members + outing.fee(FAMILY) * family
    parts = [
        f"{label} {count} 人 × {format_yuan(outing.fee(role))} 元"
        for label, role, count in (("教职工", MEMBER, members), ("家属", FAMILY, family))
        if count and outing.fee(role)
    ]
    free = [
        f"{label} {count} 人免费"
        for label, role, count in (("教职工", MEMBER, members), ("家属", FAMILY, family))
        if count and not outing.fee(role)
    ]
    how = " + ".join(parts)
    shown = f"{how} = {format_yuan(total)} 元" if parts else f"{format_yuan(total)} 元"
    note = f"({'、'.join(free)})" if free else ""
    return [f"贵单位应交费用:{shown}{note};请在提交报名表时一并交到工会。"]


def summarise(frame: pd.DataFrame, outing: Outing, _batch: Mapping[str, pd.DataFrame]) -> Summary:
    frame = frame.copy()
    frame["fee"] = [outing.fee(role) for role in frame["role"]]
    frame["subsidy"] = [outing.cost - fee for fee in frame["fee"]]
    departments = list(dict.fromkeys(frame["dept"]))
    rows = []
    for dept in departments:
        group = frame[frame["dept"] == dept]
        members = int((group["role"] == MEMBER).sum())
        rows.append(
            [
                dept,
                members,
                len(group) - members,
                len(group),
                decimal_sum(group["fee"]),
                decimal_sum(group["subsidy"]),
                outing.cost * len(group),
            ]
        )
    fees, subsidy = decimal_sum(frame["fee"]), decimal_sum(frame["subsidy"])
    notes = [
        upper_line("应收费用合计(教职工和家属交的费用)", fees),
        upper_line("工会补贴合计(活动成本 − 应收费用)", subsidy),
        f"每人成本 {format_yuan(outing.cost)} 元;教职工交 {format_yuan(outing.fee(MEMBER))} 元,"
        f"家属交 {format_yuan(outing.fee(FAMILY))} 元。",
        UPPER_AS_OF_RUN,
    ]
    by_dept = OutSheet(
        "外出活动汇总",
        [
            OutColumn("部门", "text", 16),
            OutColumn("教职工", "int", 8, summed=True),
            OutColumn("家属", "int", 8, summed=True),
            OutColumn("合计人数", "int", 9, summed=True),
            OutColumn("应收费用(元)", "money", 13, summed=True),
            OutColumn("工会补贴(元)", "money", 13, summed=True),
            OutColumn("活动成本(元)", "money", 13, summed=True),
        ],
        rows,
        title=f"{outing.name}报名汇总",
        total_label="合计",
        notes=notes,
        chart=Chart("各部门报名人数", category_column=0, value_column=3),
    )
    fee_column = OutColumn("应交费用(元)", "money", 12, summed=True)
    listing = detail_sheet(SPEC, frame, [(fee_column, "fee")], name="外出名单")
    listing.notes = [notes[0], UPPER_AS_OF_RUN]
    totals = {
        "people": len(frame),
        "members": int((frame["role"] == MEMBER).sum()),
        "family": int((frame["role"] == FAMILY).sum()),
        "fees": f"{fees:.2f}",
        "subsidy": f"{subsidy:.2f}",
        "fees_upper": rmb_upper(fees),
        "summary": f"{len(frame)} 人(家属 {int((frame['role'] == FAMILY).sum())} 人),应收 {format_yuan(fees)} 元,"
        f"工会补贴 {format_yuan(subsidy)} 元",
    }
    return Summary([by_dept, listing], totals)


SPEC = FormSpec(
    kind=KIND,
    version="2026.1",
    title="外出活动报名表",
    title_keywords=("踏青", "春游", "秋游", "外出", "报名"),
    columns=COLUMNS,
    parse_policy=parse_outing,
    summarise=summarise,
    policy_section=SECTION,
    row_rules=(family_with_member,),
    identity=("dept", "name"),
    person=NAMED,
    compared=("role", "companion"),
    unit_column="dept",
    distinctive=(("role", "companion"),),
    min_header_matches=4,
    output_file="报名汇总.xlsx",
    specialise=specialise,
    roster_default=False,
    closes_at=closes_at,
    codes=CODES,
    reply_lines=fee_owed,
)
