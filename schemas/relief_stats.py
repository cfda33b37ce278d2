"""送温暖活动统计表: the figures 镇、园区、街道、系统、联合工会 report upward to the 市总工会.

DOMAIN.md Form 3; seed 004 方案一 三.5. A unit's 困难职工 户数 and 金额 must agree with its own 慰问名单.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

from schemas._columns import UNIT_NAME
from unionbatch.compute import UPPER_AS_OF_RUN, decimal_sum, detail_sheet, group_rows, upper_line
from unionbatch.findings import ERROR, WARNING, Code, Finding
from unionbatch.money import format_yuan, rmb_upper, to_fen
from unionbatch.policy import amount, reject_unknown
from unionbatch.records import Chart, OutColumn, OutSheet, ParsedSheet, Summary
from unionbatch.spec import Column, FormSpec, Reconcile

# (key prefix, group name, count unit): each group has a count column and an amount column.
GROUPS = (
    ("hard", "困难职工", "户"),
    ("migrant", "困难农民工", "人"),
    ("model", "劳模", "人"),
    ("frontline", "一线职工", "人"),
)
SOURCES = (("union_funds", "工会经费"), ("fiscal", "财政拨款"), ("donations", "社会捐助"), ("other_sources", "其他"))


def _group_columns(key: str, group: str, unit: str) -> tuple[Column, Column]:
    count_word = "户数" if unit == "户" else "人数"
    counts = (
        f"慰问{group}{count_word}",
        f"慰问{group}{unit}",
        f"{group}({unit})",
        f"慰问{group}({unit})",
        f"{group}{unit}",
    )
    amounts = (f"慰问{group}金额", f"慰问{group}元", f"慰问{group}(元)", f"{group}金额", f"{group}元")
    return (
        Column(
            f"{key}_count",
            f"{group}{count_word}",
            "int",
            minimum=Decimal(0),
            synonyms=counts,
            help=f"慰问{group}的{count_word},整数;没有填 0",
            example="12",
            width=9,
        ),
        Column(
            f"{key}_amount",
            f"{group}金额(元)",
            "money",
            synonyms=amounts,
            help=f"慰问{group}的金额,单位元;没有填 0",
            example="12000",
            width=12,
        ),
    )


COLUMNS = (
    dataclasses.replace(UNIT_NAME, synonyms=(*UNIT_NAME.synonyms, "基层工会")),
    *(column for key, group, unit in GROUPS for column in _group_columns(key, group, unit)),
    Column(
        "goods",
        "物资折款(元)",
        "money",
        synonyms=("慰问物资折款", "物资折款"),
        help="慰问物资折合金额;没有填 0",
        example="3000",
        width=12,
    ),
    Column(
        "total",
        "合计(元)",
        "money",
        synonyms=("合计", "合计金额", "金额合计", "总金额"),
        help="各项慰问金额与物资折款之和",
        example="45000",
        width=12,
    ),
    *(
        Column(
            key,
            f"{name}(元)",
            "money",
            required=False,
            synonyms=(name, f"资金来源{name}", f"{name}资金"),
            help=f"资金来源:{name};没有填 0",
            example="0",
            width=11,
        )
        for key, name in SOURCES
    ),
)
COUNT_KEYS = tuple(f"{key}_count" for key, _, _ in GROUPS)
AMOUNT_KEYS = tuple(f"{key}_amount" for key, _, _ in GROUPS)
PART_KEYS = (*AMOUNT_KEYS, "goods")
SOURCE_KEYS = tuple(key for key, _ in SOURCES)


@dataclass(frozen=True)
class StatsPolicy:
    min_per_household: Decimal  # 困难职工 金额 ÷ 户数 may not fall below this


SECTION = "stats"


def parse_policy(section: Mapping[str, Any]) -> StatsPolicy:
    reject_unknown(section, {"min_per_household"}, SECTION)
    return StatsPolicy(min_per_household=amount(section, "min_per_household", "800", SECTION))


def _amount_or_zero(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(0)


def _all_numbers(record: Mapping[str, Any], keys: tuple[str, ...]) -> bool:
    return all(isinstance(record[key], Decimal) or record[key] is None for key in keys)


def parts_add_up(sheet: ParsedSheet, _policy: StatsPolicy) -> list[Finding]:
    """合计 = the four groups' amounts + 物资折款; 资金来源 add up to 合计."""
    findings = []
    for row, record in sheet.records():
        total = record["total"]
        if not isinstance(total, Decimal):
            continue
        if _all_numbers(record, PART_KEYS):
            parts = sum((_amount_or_zero(record[key]) for key in PART_KEYS), Decimal(0))
            if parts != total:
                findings.append(
                    sheet.finding(
                        "parts_mismatch",
                        row,
                        "total",
                        computed=format_yuan(parts),
                        difference=format_yuan(total - parts),
                    )
                )
        if _all_numbers(record, SOURCE_KEYS) and sheet.has_column(SOURCE_KEYS[0]):
            sources = sum((_amount_or_zero(record[key]) for key in SOURCE_KEYS), Decimal(0))
            if sources != total:
                findings.append(
                    sheet.finding(
                        "sources_mismatch", row, SOURCE_KEYS[0], sources=format_yuan(sources), total=format_yuan(total)
                    )
                )
    return findings


def counts_match_amounts(sheet: ParsedSheet, policy: StatsPolicy) -> list[Finding]:
    """A group with money but nobody (or people but no money); 困难职工 per household below the standard."""
    findings = []
    for row, record in sheet.records():
        for (key, group, _), count_key, amount_key in zip(GROUPS, COUNT_KEYS, AMOUNT_KEYS, strict=True):
            count, paid = record[count_key], record[amount_key]
            if not (isinstance(count, Decimal) and isinstance(paid, Decimal)):
                continue
            if (count == 0) != (paid == 0):
                findings.append(
                    sheet.finding("count_amount_mismatch", row, count_key, group=group, paid=format_yuan(paid))
                )
            elif key == "hard" and count > 0 and to_fen(paid / count) < policy.min_per_household:
                findings.append(
                    sheet.finding(
                        "per_household_below_standard",
                        row,
                        amount_key,
                        average=format_yuan(to_fen(paid / count)),
                        standard=format_yuan(policy.min_per_household),
                    )
                )
    return findings


def totals_units(frame: pd.DataFrame) -> int:
    return int(frame["source_unit"].nunique()) if len(frame) else 0


def summarise(frame: pd.DataFrame, _policy: StatsPolicy, _batch: Mapping[str, pd.DataFrame]) -> Summary:
    figures = (*COUNT_KEYS, *AMOUNT_KEYS, "goods", "total")
    grand_total = decimal_sum(frame["total"])
    upper = [upper_line("合计(四项慰问金额 + 物资折款)", grand_total), UPPER_AS_OF_RUN]
    by_unit_rows = [[unit, *values] for unit, _count, *values in group_rows(frame, ["source_unit"], figures)]
    figure_columns = [
        *(OutColumn(SPEC.column(key).header, "int", 9, summed=True) for key in COUNT_KEYS),
        *(OutColumn(SPEC.column(key).header, "money", 13, summed=True) for key in (*AMOUNT_KEYS, "goods", "total")),
    ]
    ordered = [figure_columns[i] for i in (0, 4, 1, 5, 2, 6, 3, 7, 8, 9)]
    by_unit = OutSheet(
        "按单位汇总",
        [OutColumn("单位", "text", 22), *ordered],
        [[row[0], *(row[1 + i] for i in (0, 4, 1, 5, 2, 6, 3, 7, 8, 9))] for row in by_unit_rows],
        title="送温暖活动统计汇总",
        total_label="合计",
        notes=upper,
        chart=Chart("各单位送温暖金额合计(元)", category_column=0, value_column=10),
        landscape=True,
    )
    source_rows = group_rows(frame, ["source_unit"], (*SOURCE_KEYS, "total"))
    sources = OutSheet(
        "资金来源",
        [
            OutColumn("单位", "text", 22),
            *(OutColumn(f"{name}(元)", "money", 13, summed=True) for _, name in SOURCES),
            OutColumn("合计(元)", "money", 13, summed=True),
        ],
        [[unit, *values] for unit, _count, *values in source_rows],
        title="送温暖资金来源",
        total_label="合计",
        notes=upper,
    )
    totals = {
        "units": totals_units(frame),
        "hard_households": int(decimal_sum(frame["hard_count"])),
        "hard_amount": f"{to_fen(decimal_sum(frame['hard_amount'])):.2f}",
        "total": f"{to_fen(grand_total):.2f}",
        "total_upper": rmb_upper(grand_total),
        "summary": f"{totals_units(frame)} 个单位,合计 {format_yuan(grand_total)} 元({rmb_upper(grand_total)})",
    }
    return Summary([by_unit, sources, detail_sheet(SPEC, frame)], totals)


CODES = {
    "parts_mismatch": Code(
        ERROR,
        "合计 {value} 元不等于四项慰问金额与物资折款之和 {computed} 元(相差 {difference} 元)",
        "请核对各项金额,或改正合计",
        title="合计与各项之和不符",
    ),
    "sources_mismatch": Code(
        ERROR,
        "资金来源之和为 {sources} 元,与合计 {total} 元不符",
        "工会经费、财政拨款、社会捐助、其他四项之和应等于合计",
        title="资金来源与合计不符",
    ),
    "count_amount_mismatch": Code(
        ERROR,
        "{group}的“{field}”为 {value},慰问金额为 {paid} 元,两者不一致",
        "有金额就要填人(户)数,有人(户)数就要填金额;都没有请都填 0",
        title="人数与金额不对应",
    ),
    "per_household_below_standard": Code(
        ERROR,
        "困难职工户均慰问金额为 {average} 元,低于标准 {standard} 元",
        "请核对户数和金额;每户慰问金不得低于标准",
        title="户均慰问金低于标准",
    ),
    "reconcile_mismatch": Code(
        ERROR,
        "统计表的“{field}”为 {value},但本单位已受理的{other_kind}({other_file})合计为 {other}(相差 {difference})",
        "统计表应与慰问名单一致,请核对后改正统计表,或重报名单",
        title="统计表与名单不一致",
    ),
    "reconcile_list_rejected": Code(
        WARNING,
        "本单位的{other_kind}({other_file})已被退回,统计表暂时无法与之核对",
        "请尽快重报{other_kind};名单受理后系统会自动核对",
        title="名单被退回无法核对",
    ),
}

# how this form's reconciliation with the 慰问名单 speaks: its codes (above) and the two forms' short names
RECONCILE_WORDS = {
    "mismatch_code": "reconcile_mismatch",
    "rejected_code": "reconcile_list_rejected",
    "ours": "统计表",
    "theirs": "名单",
}


SPEC = FormSpec(
    kind="送温暖统计表",
    version="2026.1",
    title="“两节”送温暖活动统计表",
    title_keywords=("送温暖", "统计表", "统计"),
    columns=COLUMNS,
    parse_policy=parse_policy,
    summarise=summarise,
    policy_section=SECTION,
    row_rules=(parts_add_up, counts_match_amounts),
    unit_column="unit_name",
    distinctive=(("hard_count", "hard_amount", "migrant_count", "model_count", "frontline_count"),),
    total_columns=(*COUNT_KEYS, *AMOUNT_KEYS, "goods", "total", *SOURCE_KEYS),
    header_fields=("填报单位", "填表人", "联系电话", "填报日期"),
    min_header_matches=5,
    output_file="送温暖统计汇总.xlsx",
    codes=CODES,
    reconcile=(
        Reconcile("hard_count", "慰问名单", None, "困难职工户数", **RECONCILE_WORDS),
        Reconcile("hard_amount", "慰问名单", "amount", "困难职工慰问金额(元)", **RECONCILE_WORDS),
    ),
    instructions=(
        "一、本表由各镇、园区、街道、系统、联合工会填报,报市总工会生活女工部。",
        "二、请先填写表格上方的填报单位、填表人、联系电话、填报日期。只报本单位一行时,“单位名称”可不填。",
        "三、户数、人数填整数;金额单位为元,最多两位小数,只填数字。没有的项目填 0。",
        "四、合计 = 困难职工、困难农民工、劳模、一线职工四项慰问金额 + 物资折款。",
        "五、资金来源(工会经费、财政拨款、社会捐助、其他)之和应等于合计。",
        "六、困难职工户数和金额应与本单位报送的慰问名单一致,系统会自动核对。",
        "七、如需更正,请重新报送整张表,系统以填报日期最新的一份为准。",
    ),
)
