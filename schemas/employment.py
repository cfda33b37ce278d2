"""促进就业目标完成情况统计表: each 市州 / 县区 union's progress on the province's 促进就业 targets (seed 001 篇8).

The plan sets yearly targets — 培训班 300 期, 培训下岗失业人员 2.6 万名, 培训农民工 1.2 万名, 转岗就业率 ≥ 65 %,
帮扶创业带头人 220 名, 带动再就业 1.6 万名, 职业介绍 2 万人次, 小额借(贷)款 300 万元 — "层层分解指标" to each union
(the policy's [employment.targets]); units report every month, one row each, figures cumulative since January;
the province checks at 三季度末 and accepts at year end (the policy's checkpoints).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd

from schemas._columns import UNIT_NAME
from unionbatch.compute import detail_sheet
from unionbatch.findings import ERROR, WARNING, Code, Finding
from unionbatch.history import History, shift_period
from unionbatch.money import to_fen
from unionbatch.policy import PolicyError, amount, reject_unknown
from unionbatch.records import Chart, OutColumn, OutSheet, ParsedSheet, Summary
from unionbatch.spec import Column, FormSpec, unit_key

KIND = "促进就业统计表"
SECTION = "employment"
HUNDRED = Decimal(100)
ZERO = Decimal(0)


@dataclass(frozen=True)
class Indicator:
    key: str
    name: str  # as the policy's targets name it
    unit: str  # 期 / 人 / 人次 / 万元
    synonyms: tuple[str, ...]
    example: str

    @property
    def header(self) -> str:
        return f"{self.name}({self.unit})"

    @property
    def money(self) -> bool:
        return self.unit == "万元"


INDICATORS = (
    Indicator("classes", "举办培训班", "期", ("举办培训班", "培训班", "培训班期数", "举办技能培训班"), "12"),
    Indicator("trained_laid_off", "培训下岗失业人员", "人", ("培训下岗失业人员", "下岗失业人员培训"), "900"),
    Indicator("trained_migrant", "培训农民工", "人", ("培训农民工", "农民工培训"), "400"),
    Indicator("transferred", "转岗就业", "人", ("转岗就业", "转岗就业人数", "实现转岗就业"), "850"),
    Indicator("leaders", "帮扶创业带头人", "人", ("帮扶创业带头人", "创业带头人"), "8"),
    Indicator("reemployed", "带动再就业", "人", ("带动再就业", "直接带动再就业", "带动下岗职工再就业"), "550"),
    Indicator("referrals", "职业介绍", "人次", ("职业介绍", "开展职业介绍"), "700"),
    Indicator("loans", "小额借贷款", "万元", ("小额借贷款", "小额借(贷)款", "小额贷款", "小额借款"), "10.5"),
)
BY_KEY = {indicator.key: indicator for indicator in INDICATORS}
TRAINED = ("trained_laid_off", "trained_migrant")
RATE = "rate"
RATE_NAME = "转岗就业率"


def _indicator_column(indicator: Indicator) -> Column:
    synonyms = (*indicator.synonyms, *(f"{name}({indicator.unit})" for name in indicator.synonyms))
    what = "金额,单位万元,最多两位小数" if indicator.money else f"人数(或期数、人次),整数,单位{indicator.unit}"
    return Column(
        indicator.key,
        indicator.header,
        "money" if indicator.money else "int",
        minimum=None if indicator.money else ZERO,
        synonyms=synonyms,
        help=f"自 1 月起累计的{indicator.name}{what};没有填 0",
        example=indicator.example,
        width=12,
    )


COLUMNS = (
    dataclasses.replace(UNIT_NAME, synonyms=(*UNIT_NAME.synonyms, "市州工会", "县区工会", "填报工会")),
    *(_indicator_column(indicator) for indicator in INDICATORS),
    Column(
        RATE,
        f"{RATE_NAME}(%)",
        "text",
        required=False,
        synonyms=(RATE_NAME, "转岗就业率%"),
        in_template=False,  # computed, never typed: a unit's own sheet may have it, and it is then checked
        width=10,
    ),
)


@dataclass(frozen=True)
class EmploymentPolicy:
    targets: Mapping[str, Mapping[str, Decimal]]  # union → indicator key → the year's target
    province: Mapping[str, Decimal]  # indicator key → the province's target (the units' sum, or stated and equal)
    rate_target: Decimal  # 转岗就业率 at least this share (0.65)
    checkpoints: Mapping[int, Decimal]  # month → share of the year's target due by its end (9 → 0.75)
    green_at: Decimal  # 完成率 ÷ 时间进度 at least this: 绿
    red_below: Decimal  # below this: 红 (between: 黄)

    def target(self, unit: str) -> Mapping[str, Decimal] | None:
        return self.targets.get(unit_key(unit))


def parse_policy(section: Mapping[str, Any]) -> EmploymentPolicy:
    reject_unknown(section, {"targets", "province", "rate_target", "checkpoints", "green_at", "red_below"}, SECTION)
    rate_target = amount(section, "rate_target", "0.65", SECTION)
    if rate_target > 1:
        raise PolicyError(f"策略文件中 {SECTION}.rate_target 应为比例(如 0.65 表示 65%),现在是“{rate_target}”")
    targets_section = section.get("targets", {})
    if not isinstance(targets_section, dict) or not all(isinstance(value, dict) for value in targets_section.values()):
        raise PolicyError(f'策略文件中 {SECTION}.targets 应为每个单位一个表,如 [employment.targets."长沙市总工会"]')
    targets = {
        unit_key(unit): _targets(values, f"{SECTION}.targets.{unit}") for unit, values in targets_section.items()
    }
    return EmploymentPolicy(
        targets=targets,
        province=_province(section.get("province"), targets),
        rate_target=rate_target,
        checkpoints=_checkpoints(section.get("checkpoints", {"9": 0.75, "12": 1})),
        green_at=amount(section, "green_at", "1", SECTION),
        red_below=amount(section, "red_below", "0.8", SECTION),
    )


NAMES = {indicator.name: indicator.key for indicator in INDICATORS}


def _targets(values: Mapping[str, Any], where: str) -> dict[str, Decimal]:
    reject_unknown(values, set(NAMES), where)
    targets = {}
    for name, key in NAMES.items():
        if name in values:
            target = amount(values, name, "0", where, allow_zero=True)
            if not BY_KEY[key].money and target != target.to_integral_value():
                raise PolicyError(f"策略文件中 {where}.{name} 应为整数,现在是“{values[name]}”")
            targets[key] = target
    return targets


def _province(stated: Any, targets: Mapping[str, Mapping[str, Decimal]]) -> dict[str, Decimal]:
    """The units' targets summed; a stated province total must equal that sum (层层分解: nothing lost or added)."""
    summed = {key: sum((unit.get(key, ZERO) for unit in targets.values()), ZERO) for key in BY_KEY}
    if stated is None:
        return summed
    if not isinstance(stated, dict):
        raise PolicyError(f"策略文件中 {SECTION}.province 应为一个表,如 举办培训班 = 300")
    province = _targets(stated, f"{SECTION}.province")
    for key, total in province.items():
        if targets and total != summed[key]:
            name = BY_KEY[key].name
            raise PolicyError(
                f"策略文件中 {SECTION}.province.{name} 为 {total},但各单位的{name}目标之和为 {summed[key]};"
                "请改正其中一处,使分解到各单位的目标之和等于全省目标"
            )
    return {**summed, **province}


def _checkpoints(values: Any) -> dict[int, Decimal]:
    where = f"{SECTION}.checkpoints"
    if not isinstance(values, dict):
        raise PolicyError(f'策略文件中 {where} 应为一个表,如 checkpoints = {{ "9" = 0.75, "12" = 1 }}')
    checkpoints = {}
    for month, share in values.items():
        if not str(month).isdigit() or not 1 <= int(month) <= 12:
            raise PolicyError(f"策略文件中 {where} 的键应为月份 1 至 12,现在是“{month}”")
        fraction = amount(values, month, "0", where)
        if fraction > 1:
            raise PolicyError(f"策略文件中 {where}.{month} 应为比例(如 0.75 表示 75%),现在是“{share}”")
        checkpoints[int(month)] = fraction
    return checkpoints


# ---- row rules ----------------------------------------------------------------------------------------------


def _figure(value: Any) -> Decimal | None:
    return value if isinstance(value, Decimal) and value >= 0 else None


def trained(record: Mapping[str, Any]) -> Decimal | None:
    """培训人数: 培训下岗失业人员 + 培训农民工; None when either is not a figure."""
    parts = [_figure(record[key]) for key in TRAINED]
    return None if None in parts else sum(parts, ZERO)  # type: ignore[arg-type]


def transfer_rate(transferred: Decimal, trained_count: Decimal) -> Decimal | None:
    """转岗就业率 = 转岗就业 ÷ 培训人数, as a percentage to 0.01; None when nobody was trained."""
    return to_fen(transferred * HUNDRED / trained_count) if trained_count else None


def transfers_within_trained(sheet: ParsedSheet, _policy: EmploymentPolicy) -> list[Finding]:
    """转岗就业 ≤ 培训人数; a typed 转岗就业率 must agree with the one computed."""
    findings = []
    for row, record in sheet.records():
        trained_count, moved = trained(record), _figure(record["transferred"])
        if trained_count is None or moved is None:
            continue
        if moved > trained_count:
            findings.append(sheet.finding("transfer_exceeds_trained", row, "transferred", trained=trained_count))
            continue
        typed = _typed_rate(record[RATE])
        computed = transfer_rate(moved, trained_count)
        if typed is not None and computed is not None and abs(typed - computed) > Decimal("0.1"):
            findings.append(sheet.finding("rate_mismatch", row, RATE, computed=f"{computed}%"))
    return findings


def _typed_rate(value: Any) -> Decimal | None:
    """A typed rate as a percentage: 65%, 65, 0.65 (a share, as Excel stores a % cell) all read 65."""
    if not isinstance(value, str):
        return None
    text = value.strip().rstrip("%％").strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    return number * HUNDRED if number <= 1 and not value.strip().endswith(("%", "％")) else number


def targets_known(sheet: ParsedSheet, policy: EmploymentPolicy) -> list[Finding]:
    """A unit reporting without targets in the policy: its 完成率 cannot be worked out."""
    if not policy.targets:
        return []
    return [
        sheet.finding("no_target", row, "unit_name", unit=record["unit_name"])
        for row, record in sheet.records()
        if isinstance(record["unit_name"], str) and policy.target(record["unit_name"]) is None
    ]


# ---- rules over earlier months (the ledger) -----------------------------------------------------------------


def previous_month(history: History, unit: str) -> tuple[str, Mapping[str, Any]] | None:
    """The unit's figures of the latest earlier month of the same year with an accepted report (cumulative since
    January: last year's do not count), with that month."""
    year = history.period[:4]
    earlier = [(period, data) for period, _, data in history.rows(unit) if period.startswith(year)]
    return max(earlier, key=lambda pair: pair[0]) if earlier else None


def never_decreasing(sheet: ParsedSheet, _policy: EmploymentPolicy, history: History) -> list[Finding]:
    """A cumulative figure lower than the same unit's previous accepted month is an error."""
    findings = []
    for row, record in sheet.records():
        unit = record["unit_name"]
        earlier = previous_month(history, unit) if isinstance(unit, str) else None
        if earlier is None:
            continue
        period, data = earlier
        for indicator in INDICATORS:
            now, before = _figure(record[indicator.key]), _stored(data.get(indicator.key))
            if now is not None and before is not None and now < before:
                findings.append(
                    sheet.finding(
                        "cumulative_decreased", row, indicator.key, month=_month_name(period), before=_plain(before)
                    )
                )
    return findings


def on_schedule(sheet: ParsedSheet, policy: EmploymentPolicy, history: History) -> list[Finding]:
    """At a checkpoint month (三季度末: 9 → 75 %), a unit below its share of the year's target, or a 转岗就业率 below
    the target rate, is flagged."""
    month = int(history.period[5:])
    share = policy.checkpoints.get(month)
    if share is None:
        return []
    findings = []
    for row, record in sheet.records():
        unit = record["unit_name"]
        targets = policy.target(unit) if isinstance(unit, str) else None
        for key, target in (targets or {}).items():
            done = _figure(record[key])
            if done is None or not target or done >= target * share:
                continue
            progress = f"累计 {_plain(done)},为全年目标 {_plain(target)} 的 {_percent(done / target)}"
            findings.append(sheet.finding("behind_schedule", row, key, **_schedule(month, progress, share)))
        trained_count, moved = trained(record), _figure(record["transferred"])
        rate = transfer_rate(moved, trained_count) if trained_count is not None and moved is not None else None
        if rate is not None and rate < policy.rate_target * HUNDRED:
            progress = f"{RATE_NAME} {rate}%,低于目标 {_percent(policy.rate_target)}"
            findings.append(sheet.finding("behind_schedule", row, "transferred", **_schedule(month, progress, share)))
    return findings


def _schedule(month: int, progress: str, share: Decimal) -> dict[str, str]:
    return {"month": _month_name_of(month), "progress": progress, "due": _percent(share)}


def _stored(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


def _plain(number: Decimal) -> str:
    return f"{number.normalize():f}" if number == number.to_integral_value() else f"{number:.2f}"


def _percent(share: Decimal) -> str:
    return f"{to_fen(share * HUNDRED):.1f}%"


def _month_name(period: str) -> str:
    return f"{int(period[:4])} 年 {int(period[5:])} 月"


def _month_name_of(month: int) -> str:
    quarter = {3: "一季度末", 6: "二季度末(半年)", 9: "三季度末", 12: "年底"}
    return f"{month} 月({quarter[month]})" if month in quarter else f"{month} 月"


# ---- summary ------------------------------------------------------------------------------------------------

MARK_COLOURS = {"红": "rejected", "黄": "mismatch", "绿": ""}


def summarise(
    frame: pd.DataFrame, policy: EmploymentPolicy, _batch: Mapping[str, pd.DataFrame], history: History
) -> Summary:
    month = int(history.period[5:])
    elapsed = Decimal(month) / 12
    units = _unit_figures(frame)
    progress_rows, marks, by_unit = [], [], []
    for unit, figures in units.items():
        targets = policy.target(unit) or {}
        before = previous_month(history, unit)
        rates = []
        for key, label, target, done, change in _lines(figures, targets, policy, before, month):
            completion = _completion(done, target)
            mark = _mark(completion, elapsed, policy, key == RATE)
            progress_rows.append([unit, label, target, done, completion, change, mark])
            marks.append(MARK_COLOURS.get(mark, ""))
            rates.append(completion)
        known = [rate for rate in rates if rate is not None]
        overall = to_fen(sum(known, ZERO) / len(known)) if known else None
        by_unit.append([unit, *rates, overall])
    province_rows, province_marks = _province_rows(units, policy, history, month, elapsed)
    numbers = OutColumn("全年目标", "money", 12), OutColumn("累计完成", "money", 12)
    progress = OutSheet(
        "完成情况",
        [
            OutColumn("单位", "text", 20),
            OutColumn("指标", "text", 22),
            *numbers,
            OutColumn("完成率(%)", "money", 11),
            OutColumn("比上月增加", "money", 11),
            OutColumn("标记", "text", 6),
        ],
        progress_rows,
        title=f"促进就业目标完成情况(截至 {history.period[:4]} 年 {month} 月,自 1 月起累计)",
        notes=_notes(policy, elapsed),
        marks=marks,
        landscape=True,
    )
    province = OutSheet(
        "全省汇总",
        progress.columns[1:],
        province_rows,
        title="全省促进就业目标完成情况",
        notes=["全省目标为各单位目标之和(策略文件写明的全省目标已核对与之相等);累计完成为本期已报送单位之和。"],
        marks=province_marks,
    )
    rate_headers = [OutColumn(f"{label}完成率(%)", "money", 12) for label in _labels()]
    chart_sheet = OutSheet(
        "各单位完成率",
        [OutColumn("单位", "text", 20), *rate_headers, OutColumn("综合完成率(%)", "money", 12)],
        by_unit,
        title="各单位各项指标完成率",
        notes=["综合完成率为各项指标完成率的平均数(没有目标的指标不计)。"],
        chart=Chart("各单位综合完成率(%)", category_column=0, value_column=len(rate_headers) + 1),
        landscape=True,
    )
    totals = {
        "units": len(units),
        "summary": f"{len(units)} 个单位报送,截至 {month} 月" + _province_summary(province_rows),
    }
    return Summary([progress, province, chart_sheet, detail_sheet(SPEC, frame)], totals)


def _unit_figures(frame: pd.DataFrame) -> dict[str, dict[str, Decimal]]:
    """Each reporting unit's figures (a unit listed twice: its last row)."""
    units: dict[str, dict[str, Decimal]] = {}
    for values in zip(frame["unit_name"].tolist(), *(frame[i.key].tolist() for i in INDICATORS), strict=True):
        unit, *figures = values
        units[str(unit or "")] = {
            indicator.key: value if isinstance(value, Decimal) else ZERO
            for indicator, value in zip(INDICATORS, figures, strict=True)
        }
    return units


def _labels() -> list[str]:
    return [indicator.header for indicator in INDICATORS] + [f"{RATE_NAME}(%)"]


def _lines(
    figures: Mapping[str, Decimal],
    targets: Mapping[str, Decimal],
    policy: EmploymentPolicy,
    before: tuple[str, Mapping[str, Any]] | None,
    month: int,
) -> list[tuple[str, str, Decimal | None, Decimal, Decimal | None]]:
    """(key, label, target, done, change since last month) for each indicator, then the 转岗就业率."""
    earlier = before[1] if before and before[0] == _last_month(month, before[0]) else None
    lines = []
    for indicator in INDICATORS:
        done = figures[indicator.key]
        change = _change(done, earlier, indicator.key, month)
        lines.append((indicator.key, indicator.header, targets.get(indicator.key), done, change))
    rate = _rate_of(figures) or ZERO
    earlier_rate = _rate_of({key: _stored(earlier.get(key)) or ZERO for key in BY_KEY}) if earlier else None
    rate_change = rate - earlier_rate if earlier_rate is not None else (rate if month == 1 else None)
    lines.append((RATE, f"{RATE_NAME}(%)", to_fen(policy.rate_target * HUNDRED), rate, rate_change))
    return lines


def _last_month(month: int, period: str) -> str:
    return shift_period(f"{period[:4]}-{month:02d}", -1)


def _change(done: Decimal, earlier: Mapping[str, Any] | None, key: str, month: int) -> Decimal | None:
    if earlier is not None:
        return done - (_stored(earlier.get(key)) or ZERO)
    return done if month == 1 else None  # January: the cumulative figure is the month's; else not known


def _rate_of(figures: Mapping[str, Decimal]) -> Decimal | None:
    return transfer_rate(figures["transferred"], figures["trained_laid_off"] + figures["trained_migrant"])


def _completion(done: Decimal, target: Decimal | None) -> Decimal | None:
    return to_fen(done * HUNDRED / target) if target else None


def _mark(completion: Decimal | None, elapsed: Decimal, policy: EmploymentPolicy, is_rate: bool) -> str:
    """红黄绿: 完成率 against the time gone by (a rate against its target alone)."""
    if completion is None:
        return ""
    due = HUNDRED if is_rate else elapsed * HUNDRED
    ratio = completion / due
    return "绿" if ratio >= policy.green_at else "黄" if ratio >= policy.red_below else "红"


def _province_rows(
    units: Mapping[str, Mapping[str, Decimal]], policy: EmploymentPolicy, history: History, month: int, elapsed: Decimal
) -> tuple[list[list[Any]], list[str]]:
    summed = {key: sum((figures[key] for figures in units.values()), ZERO) for key in BY_KEY}
    changes: dict[str, Decimal | None] = dict.fromkeys(BY_KEY, ZERO)
    for unit, figures in units.items():
        for key, _label, _target, _done, change in _lines(figures, {}, policy, previous_month(history, unit), month)[
            :-1
        ]:
            changes[key] = None if change is None or changes[key] is None else changes[key] + change
    rows, marks = [], []
    for indicator in INDICATORS:
        target = policy.province.get(indicator.key) or None
        completion = _completion(summed[indicator.key], target)
        mark = _mark(completion, elapsed, policy, False)
        rows.append([indicator.header, target, summed[indicator.key], completion, changes[indicator.key], mark])
        marks.append(MARK_COLOURS.get(mark, ""))
    rate = _rate_of(summed) or ZERO
    rate_target = to_fen(policy.rate_target * HUNDRED)
    completion = _completion(rate, rate_target)
    mark = _mark(completion, elapsed, policy, True)
    rows.append([f"{RATE_NAME}(%)", rate_target, rate, completion, None, mark])
    marks.append(MARK_COLOURS.get(mark, ""))
    return rows, marks


def _province_summary(rows: list[list[Any]]) -> str:
    parts = [f"{row[0]} {_plain(row[2])}" + (f"(完成 {row[3]}%)" if row[3] is not None else "") for row in rows[:3]]
    return ":" + "、".join(parts) if parts else ""


def _notes(policy: EmploymentPolicy, elapsed: Decimal) -> list[str]:
    return [
        f"完成率 = 累计完成 ÷ 全年目标;时间进度 {_percent(elapsed)}。",
        f"标记:完成率达到时间进度的 {_percent(policy.green_at)} 及以上为绿,{_percent(policy.red_below)} 以下为红,"
        "其间为黄(转岗就业率与目标比)。",
        f"{RATE_NAME} = 转岗就业 ÷ 培训人数(培训下岗失业人员 + 培训农民工),目标不低于 {_percent(policy.rate_target)}。",
        "比上月增加:与本单位上月已受理的累计数之差;上月没有报送的留空,1 月即为本月数。",
    ]


CODES = {
    "transfer_exceeds_trained": Code(
        ERROR,
        "转岗就业 {value} 人,多于培训人数 {trained} 人(培训下岗失业人员 + 培训农民工)",
        "转岗就业的人应是参加培训的人,请核对两项数字后改正",
        title="转岗人数多于培训人数",
    ),
    "rate_mismatch": Code(
        WARNING,
        "填写的转岗就业率“{value}”与按表中数字算出的 {computed} 不符(转岗就业 ÷ 培训人数)",
        "转岗就业率由系统计算,不必填写;请核对转岗就业和培训人数",
        title="转岗就业率不符",
    ),
    "cumulative_decreased": Code(
        ERROR,
        "“{field}”是自 1 月起的累计数,本月填 {value},比 {month}已受理的 {before} 还少",
        "累计数只增不减,请填写截至本月的累计数;上月数字有误的,请说明并重新报送上月的表",
        title="累计数比上月少",
    ),
    "behind_schedule": Code(
        WARNING,
        "截至 {month},{progress},未达到此时应完成的全年目标的 {due}",
        "请加快进度;如数字填错,请改正后重新报送",
        title="进度落后于目标",
    ),
    "no_target": Code(
        WARNING,
        "策略文件中没有“{unit}”的促进就业目标,无法计算完成率",
        "请核对单位名称是否与下达目标时一致;新增的单位请办公室在策略文件 [employment.targets] 中补上目标",
        title="没有本单位目标",
    ),
}

SPEC = FormSpec(
    kind=KIND,
    version="2026.1",
    title="促进就业目标完成情况统计表",
    title_keywords=("促进就业", "就业", "完成情况"),
    columns=COLUMNS,
    parse_policy=parse_policy,
    summarise=summarise,
    summary_needs_history=True,
    policy_section=SECTION,
    row_rules=(transfers_within_trained, targets_known),
    history_rules=(never_decreasing, on_schedule),
    unit_column="unit_name",
    key_column="unit_name",
    distinctive=(("classes", "trained_laid_off", "trained_migrant", "transferred", "reemployed", "referrals"),),
    total_columns=tuple(indicator.key for indicator in INDICATORS),
    header_fields=("填报单位", "填表人", "联系电话", "填报日期"),
    min_header_matches=4,
    output_file="促进就业汇总.xlsx",
    roster_default=False,
    codes=CODES,
    instructions=(
        "一、本表由各市州、县区总工会每月填报,报省总工会,每个单位一行。",
        "二、请先填写表格上方的填报单位、填表人、联系电话、填报日期。只报本单位一行时,“单位名称”可不填。",
        "三、各项数字均为自当年 1 月起的累计数,只增不减;人数、期数、人次填整数,小额借(贷)款单位为万元,最多两位小数。",
        "四、转岗就业人数不能多于培训人数(培训下岗失业人员 + 培训农民工);转岗就业率由系统计算,不必填写。",
        "五、目标由省总工会分解下达;三季度末、年底按全年目标检查完成进度。",
        "六、如需更正,请重新报送整张表,系统以填报日期最新的一份为准。",
    ),
)
