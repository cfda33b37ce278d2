"""慰问名单: the list of needy workers a unit visits and pays (送温暖, 精准帮扶).

Rules from DOMAIN.md Form 1 (seeds 000 篇十, 002 五(五), 004 方案一/方案二).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

from schemas._columns import GENDER, ID_NUMBER, ONCE_PER_PERSON, PERSON, PHONE, REMARK, SEQ
from schemas._registry import Register, load_register
from unionbatch.compute import UPPER_AS_OF_RUN, Files, detail_sheet, group_rows, merge_groups, upper_line
from unionbatch.findings import ERROR, WARNING, Code, Finding
from unionbatch.history import History, shift_period
from unionbatch.money import format_yuan, rmb_upper, to_fen
from unionbatch.normalise import value_key
from unionbatch.policy import PolicyError, amount, policy_path, reject_unknown
from unionbatch.records import Chart, OutColumn, OutSheet, ParsedSheet, Summary
from unionbatch.review import reference_note
from unionbatch.spec import Column, FindingList, FormSpec, Reference, unit_key
from unionbatch.validate import gender_matches_id, valid_id

TIERS = ("深度困难", "相对困难", "意外致困")
CAUSES = ("因病", "因学", "因业", "因灾", "因残", "其他")
MONTHS = Decimal(12)

COLUMNS = (
    SEQ,
    Column(
        "name",
        "姓名",
        "name",
        synonyms=("职工姓名", "慰问对象", "困难职工姓名"),
        help="填写本人姓名",
        example="张三",
        width=10,
    ),
    dataclasses.replace(GENDER, required=False),
    ID_NUMBER,
    dataclasses.replace(PHONE, required=True, help="手机 11 位,固定电话带区号"),
    Column(
        "workplace",
        "工作单位",
        "text",
        required=False,
        synonyms=("单位", "所在单位", "单位名称"),
        help="可不填,默认为填报单位",
        width=18,
    ),
    Column(
        "tier",
        "困难类别",
        "choice",
        choices=TIERS,
        legacy=(("特困", "深度困难"), ("特困职工", "深度困难"), ("困难", "相对困难"), ("困难职工", "相对困难")),
        synonyms=("困难程度", "困难类型", "帮扶类别"),
        help="深度困难 / 相对困难 / 意外致困",
        example="深度困难",
        width=10,
    ),
    Column(
        "cause",
        "致困原因",
        "choice",
        choices=CAUSES,
        synonyms=("致困原因类别", "困难原因"),
        help="因病、因学、因业、因灾、因残、其他",
        example="因病",
        width=10,
    ),
    Column(
        "household",
        "家庭人口",
        "int",
        minimum=Decimal(1),
        synonyms=("家庭人口数", "家庭人数", "家庭成员数", "人口"),
        help="含本人,整数",
        example="3",
        width=8,
    ),
    Column(
        "income",
        "家庭年收入(元)",
        "money",
        synonyms=("家庭年收入", "家庭年总收入", "年收入"),
        help="全家全年总收入,单位元",
        example="18000",
        width=12,
    ),
    Column(
        "expense",
        "刚性支出(元)",
        "money",
        required=False,
        synonyms=("刚性支出", "刚性支出金额", "医疗教育等刚性支出"),
        help="医疗、子女教育、灾害损失等,单位元;没有填 0",
        example="6000",
        width=12,
    ),
    Column(
        "amount",
        "慰问金额(元)",
        "money",
        synonyms=("慰问金额", "慰问金", "慰问金(元)", "发放金额", "慰问资金"),
        help="不低于本类别慰问标准",
        example="1000",
        width=12,
    ),
    Column(
        "goods",
        "慰问物资折款(元)",
        "money",
        required=False,
        synonyms=("慰问物资折款", "物资折款", "慰问品折款", "物资折款(元)"),
        help="慰问物资折合金额;没有填 0",
        example="200",
        width=12,
    ),
    Column(
        "archive_no",
        "建档编号",
        "text",
        required=False,
        synonyms=("档案编号", "建档号"),
        help="困难职工档案编号",
        example="FZ2026-001",
        width=14,
    ),
    dataclasses.replace(REMARK, width=16),
)


@dataclass(frozen=True)
class ReliefPolicy:
    dibao: Decimal  # 当地最低生活保障标准, 元/月
    relative_multiple: Decimal  # 相对困难: below this × 低保
    accident_ratio: Decimal  # 意外致困: 刚性支出 above this share of 家庭年收入
    standards: dict[str, Decimal]  # 慰问标准 per tier, per household
    per_extra_person: Decimal  # 每增加一人加发
    max_visits_per_year: int = 2  # within any 12 months, counting this one
    barred_ids: frozenset[str] = frozenset()  # 虚报 → 取消其次年补助资格 (seed 004)
    register: Register | None = None  # 困难职工档案 (依档帮扶): rows are looked up in it when the policy names one

    @property
    def reference(self) -> Reference | None:
        return self.register.reference if self.register else None

    def standard(self, tier: str, household: Decimal | None) -> Decimal:
        extra = max(int(household or 1) - 1, 0)
        return self.standards[tier] + self.per_extra_person * extra


SECTION = "relief"
DEFAULT_STANDARDS = {"深度困难": "1000", "相对困难": "800", "意外致困": "1000"}


def parse_policy(section: Mapping[str, Any]) -> ReliefPolicy:
    known = {
        "dibao",
        "relative_multiple",
        "accident_expense_ratio",
        "per_extra_person",
        "standards",
        "max_visits_per_year",
        "barred_ids",
        "registry",
    }
    reject_unknown(section, known, SECTION)
    standards_section = section.get("standards", {})
    if not isinstance(standards_section, dict):
        raise PolicyError(f"策略文件中 {SECTION}.standards 应为一个表,如 深度困难 = 1000")
    reject_unknown(standards_section, set(TIERS), f"{SECTION}.standards")
    standards = {
        tier: amount(standards_section, tier, DEFAULT_STANDARDS[tier], f"{SECTION}.standards") for tier in TIERS
    }
    ratio = amount(section, "accident_expense_ratio", "0.5", SECTION)
    if ratio >= 1:
        raise PolicyError(f"策略文件中 {SECTION}.accident_expense_ratio 应小于 1(如 0.5 表示 50%),现在是“{ratio}”")
    return ReliefPolicy(
        dibao=amount(section, "dibao", "800", SECTION),
        relative_multiple=amount(section, "relative_multiple", "2", SECTION),
        accident_ratio=ratio,
        standards=standards,
        per_extra_person=amount(section, "per_extra_person", "0", SECTION, allow_zero=True),
        max_visits_per_year=int(amount(section, "max_visits_per_year", "2", SECTION)),
        barred_ids=_barred_ids(section.get("barred_ids", [])),
        register=_register(section),
    )


def _register(section: Mapping[str, Any]) -> Register | None:
    path = policy_path(section, "registry", SECTION)
    return load_register(path, f"{SECTION}.registry") if path is not None else None


def _barred_ids(values: Any) -> frozenset[str]:
    if not isinstance(values, list) or not all(isinstance(value, str) and valid_id(value.upper()) for value in values):
        raise PolicyError(f"策略文件中 {SECTION}.barred_ids 应为 18 位有效身份证号的列表(用引号括起),现在是“{values}”")
    return frozenset(value.upper() for value in values)


# ---- row rules ----------------------------------------------------------------------------


def _decimal_or_none(value: Any) -> Decimal | None:
    return value if isinstance(value, Decimal) else None


def _household(value: Any) -> Decimal | None:
    number = _decimal_or_none(value)
    return number if number is not None and number >= 1 and number == number.to_integral_value() else None


def per_head_monthly(income: Decimal, expense: Decimal, household: Decimal) -> Decimal:
    """(家庭年收入 − 刚性支出) / 12 / 家庭人口, to the fen."""
    return to_fen((income - expense) / MONTHS / household)


def tier_eligibility(sheet: ParsedSheet, policy: ReliefPolicy) -> list[Finding]:
    findings = []
    for row, tier, income, household, expense in sheet.rows_of("tier", "income", "household", "expense"):
        income, household = _decimal_or_none(income), _household(household)
        expense = _decimal_or_none(expense) or Decimal(0)
        if tier not in TIERS or income is None or income < 0 or expense < 0:
            continue
        if tier == "意外致困":
            if expense <= income * policy.accident_ratio:
                ratio = f"{expense / income:.0%}" if income else "0%"
                findings.append(
                    sheet.finding(
                        "expense_not_eligible",
                        row,
                        "tier",
                        expense=format_yuan(expense),
                        income=format_yuan(income),
                        ratio=ratio,
                        threshold=f"{policy.accident_ratio:.0%}",
                    )
                )
            continue
        if household is None:
            continue
        limit = policy.dibao if tier == "深度困难" else policy.dibao * policy.relative_multiple
        per_head = per_head_monthly(income, expense, household)
        if per_head >= limit:
            limit_name = "低保标准" if tier == "深度困难" else f"低保标准的 {policy.relative_multiple} 倍"
            findings.append(
                sheet.finding(
                    "income_not_eligible",
                    row,
                    "tier",
                    tier=tier,
                    per_head=format_yuan(per_head),
                    limit_name=limit_name,
                    limit=format_yuan(limit),
                )
            )
    return findings


def amount_standard(sheet: ParsedSheet, policy: ReliefPolicy) -> list[Finding]:
    findings = []
    for row, tier, stated, household in sheet.rows_of("tier", "amount", "household"):
        paid = _decimal_or_none(stated)
        if tier not in TIERS or paid is None:
            continue
        standard = policy.standard(tier, _household(household))
        if paid < standard:
            findings.append(sheet.finding("below_standard", row, "amount", tier=tier, standard=format_yuan(standard)))
    return findings


def archive_registered(sheet: ParsedSheet, policy: ReliefPolicy) -> list[Finding]:
    """依档帮扶 without a register: a blank 建档编号 is a warning (with one, the register gives the number)."""
    if not sheet.has_column("archive_no") or policy.register is not None:
        return []
    return [
        sheet.finding("archive_missing", row, "archive_no")
        for row, value in sheet.frame["archive_no"].items()
        if not value
    ]


def in_register(sheet: ParsedSheet, policy: ReliefPolicy) -> list[Finding]:
    """依档帮扶 against the register the policy names: each row looked up by 身份证号."""
    register = policy.register
    if register is None:
        return []
    findings = []
    sender = unit_key(sheet.unit or "")
    for row, record in sheet.records():
        id_number = record["id_number"]
        if not valid_id(id_number):
            continue  # the ID's own findings say what is wrong with it
        name = record["name"] or "此人"
        household = register.household(id_number)
        if household is None:
            findings.append(sheet.finding("not_registered", row, "id_number", name=name))
            continue
        if household.exited:
            findings.append(
                sheet.finding(
                    "registry_exited",
                    row,
                    "id_number",
                    name=name,
                    status=household.status,
                    number=_number_of(household),
                )
            )
        typed = record["archive_no"]
        if typed and typed != household.archive_no:
            owner = register.by_archive_no.get(typed)
            whose = f"在档案中属于另一户({owner.name or '姓名未填'})" if owner else "在档案中不存在"
            findings.append(
                sheet.finding(
                    "archive_no_mismatch", row, "archive_no", name=name, whose=whose, expected=_number_of(household)
                )
            )
        if record["tier"] in TIERS and household.tier and record["tier"] != household.tier:
            findings.append(
                sheet.finding(
                    "registry_tier_differs",
                    row,
                    "tier",
                    name=name,
                    registered=household.tier,
                    number=_number_of(household),
                )
            )
        if household.union and sender and unit_key(household.union) != sender:
            findings.append(
                sheet.finding(
                    "registry_union_differs",
                    row,
                    "id_number",
                    name=name,
                    registered=household.union,
                    unit=sheet.unit,
                )
            )
    return findings


def _number_of(household: Any) -> str:
    return household.archive_no or "未填"


# ---- rules that need earlier periods (the ledger) -----------------------------------------


def not_barred(sheet: ParsedSheet, policy: ReliefPolicy, history: History) -> list[Finding]:
    """虚报 → 取消其次年补助资格: IDs barred in the policy or with `process.py bar`."""
    barred = {**dict.fromkeys(policy.barred_ids, "策略文件 barred_ids"), **history.barred_ids}
    return [
        sheet.finding("barred", row, "id_number", reason=barred[value])
        for row, value in sheet.frame["id_number"].items()
        if isinstance(value, str) and value in barred
    ]


def not_below_last_year(sheet: ParsedSheet, _policy: ReliefPolicy, history: History) -> list[Finding]:
    """不得低于上年慰问标准: the same person, the same occasion (period) a year earlier."""
    last_year = shift_period(history.period, -12)
    findings = []
    frame = sheet.frame
    people = zip(frame.index.tolist(), frame["id_number"].tolist(), frame["amount"].tolist(), strict=True)
    for row, id_number, value in people:
        earlier = history.rows(id_number)  # a lookup: most people have no past, so ask that first
        paid = _decimal_or_none(value) if earlier else None
        if paid is None or not valid_id(id_number):
            continue
        for period, unit, data in earlier:
            before = Decimal(data.get("amount", "0"))
            if period == last_year and paid < before:
                findings.append(
                    sheet.finding(
                        "below_last_year",
                        row,
                        "amount",
                        last_period=period,
                        last_amount=format_yuan(before),
                        last_unit=unit,
                    )
                )
    return findings


def visits_within_year(sheet: ParsedSheet, policy: ReliefPolicy, history: History) -> list[Finding]:
    findings = []
    for row, id_number in sheet.frame["id_number"].items():
        never_visited = policy.max_visits_per_year >= 1 and not history.rows(id_number)  # a lookup, asked first
        if never_visited or not valid_id(id_number):
            continue
        earlier = history.periods_within(id_number, 12)
        if len(earlier) + 1 > policy.max_visits_per_year:
            findings.append(
                sheet.finding(
                    "too_many_visits",
                    row,
                    "id_number",
                    count=len(earlier) + 1,
                    periods="、".join(earlier),
                    maximum=policy.max_visits_per_year,
                )
            )
    return findings


# ---- summary ------------------------------------------------------------------------------

MONEY = ("amount", "goods", "total")
ZERO = Decimal(0)


def summarise(files: Files, policy: ReliefPolicy, _batch: Mapping[str, pd.DataFrame]) -> Summary:
    """The list's workbook, file by file: each file's sums by 困难类别 and 致困原因 are kept with it, so a late file
    costs its own rows; the units' and the whole list's sums are added from them (Decimal addition is exact: the
    same sums as over every row, in a fraction of the additions)."""
    register = policy.register
    files = files.with_columns(_payable, register)
    groups = files.each(group_rows, ["tier", "cause"], MONEY)
    unit_rows = merge_groups(
        ([[part.unit, *_added(rows)]] for part, rows in zip(files.parts, groups, strict=True) if rows), 1
    )
    cash, goods_total, grand_total = (sum((row[column] for row in unit_rows), ZERO) for column in (2, 3, 4))
    cash_line = upper_line("慰问金合计(现金,不含物资折款)", cash)
    goods_line = upper_line("慰问物资折款合计(实物,不发现金)", goods_total)
    grand_line = upper_line("合计(慰问金 + 物资折款)", grand_total)
    upper = [cash_line, goods_line, grand_line, UPPER_AS_OF_RUN]
    money_columns = [
        OutColumn(header, "money", 14, summed=True) for header in ("慰问金额(元)", "慰问物资折款(元)", "合计(元)")
    ]
    households = OutColumn("户数", "int", 8, summed=True)

    detail = detail_sheet(SPEC, files, [(money_columns[2], "total")])
    detail.notes += upper

    by_unit = OutSheet(
        "按单位汇总",
        [OutColumn("单位", "text", 24), households, *money_columns],
        unit_rows,
        title="慰问名单按单位汇总",
        total_label="合计",
        notes=upper,
        chart=Chart("各单位慰问金额合计(元)", category_column=0, value_column=4),
    )
    by_tier = OutSheet(
        "按类别汇总",
        [OutColumn("困难类别", "text", 12), OutColumn("致困原因", "text", 12), households, *money_columns],
        merge_groups(groups, 2, order=[TIERS, CAUSES]),
        title="慰问名单按困难类别、致困原因汇总",
        total_label="合计",
        notes=upper,
    )
    archive_column = [OutColumn("建档编号", "text", 14)] if register is not None else []
    # in the merged order: the roster's, then each unit's own rows
    signoff_rows = files.rows(
        _signoff_row if register is None else _signoff_row_with_archive, [*SIGNOFF, "archive_no"], named=True
    )
    signoff = OutSheet(
        "实名制发放表",
        [
            OutColumn("序号", "int", 6),
            OutColumn("单位", "text", 20),
            OutColumn("姓名", "text", 10),
            OutColumn("身份证号", "text", 21),
            *archive_column,
            OutColumn("困难类别", "text", 10),
            *money_columns,
            OutColumn("领取人签字", "text", 16),
            OutColumn("领取日期", "text", 12),
        ],
        signoff_rows,
        title="困难职工慰问金实名制发放表",
        total_label="合计",
        notes=[
            cash_line,
            goods_line,
            "发放的现金为慰问金;物资折款是慰问物资的折算金额,以实物发放。",
            UPPER_AS_OF_RUN,
            "经办人:              审核人:              单位负责人:              (盖章)",
        ],
        landscape=True,
        tall_rows=True,
        blocks=signoff_rows.blocks(),
        read_blocks=signoff_rows.read_blocks,
    )
    totals = {
        "households": len(files),
        "units": len(unit_rows),
        "amount": f"{to_fen(cash):.2f}",
        "goods": f"{to_fen(goods_total):.2f}",
        "total": f"{to_fen(grand_total):.2f}",
        "amount_upper": rmb_upper(cash),
        "goods_upper": rmb_upper(goods_total),
        "total_upper": rmb_upper(grand_total),
        "summary": f"{len(files)} 户,慰问金 {format_yuan(cash)} 元({rmb_upper(cash)}),"
        f"物资折款 {format_yuan(goods_total)} 元({rmb_upper(goods_total)}),合计 {format_yuan(grand_total)} 元",
    }
    sheets = [by_unit, by_tier, detail, signoff]
    if register is not None:
        coverage, unvisited = register_sheets(set().union(*files.each(_ids)), register)
        sheets += [coverage, unvisited]
        totals["register"] = {
            "file": register.reference.path.name,
            "sha256": register.reference.sha256,
            "visited": sum(row[2] for row in coverage.rows),
            "deep_unvisited": len(unvisited.rows),
        }
    return Summary(sheets, totals)


def _payable(frame: pd.DataFrame, register: Register | None) -> pd.DataFrame:
    """A file's rows with what is paid: 物资折款 as a Decimal (0 if blank), 合计 beside it, and the 建档编号 the
    register gives (if there is one)."""
    goods = [value if isinstance(value, Decimal) else ZERO for value in frame["goods"].tolist()]
    frame = frame.assign(goods=goods, total=_row_totals(frame["amount"].tolist(), goods))  # the others not copied
    if register is not None:  # the number the register gives, not the one typed (a typed one differing is an error)
        # as objects: a list holding texts would be made a string column, its blanks NaN (or not, by what else is
        # read with it)
        numbers = pd.Series(_register_numbers(frame, register), index=frame.index, dtype=object)
        frame = frame.assign(archive_no=numbers)
    return frame


def _added(groups: Sequence[Sequence[Any]]) -> list[Any]:
    """A file's group rows (label, label, count, sums…) added up: its count and sums."""
    return [sum(values) for values in zip(*(row[2:] for row in groups), strict=True)]


def _ids(frame: pd.DataFrame) -> list[Any]:
    return frame["id_number"].tolist()


def _register_numbers(frame: pd.DataFrame, register: Register) -> list[Any]:
    numbers = []
    for id_number, typed in zip(frame["id_number"].tolist(), frame["archive_no"].tolist(), strict=True):
        household = register.household(id_number)
        numbers.append(household.archive_no or typed if household else typed)
    return numbers


def register_sheets(visited: set[Any], register: Register) -> tuple[OutSheet, OutSheet]:
    """Per 所属工会: how many of its households in the register (在档) this period's counted lists visited (the
    身份证号 in them: `visited`), and the 深度困难 households nobody visited (送温暖 is meant to reach every one of
    them)."""
    unions: dict[str, list[int]] = {}  # 所属工会 → 在档, visited, 深度困难, 深度困难 visited
    unvisited = []
    for household in register.households.values():
        if household.exited:
            continue
        counts = unions.setdefault(household.union or "(未填所属工会)", [0, 0, 0, 0])
        seen = household.id_number in visited
        deep = household.tier == "深度困难"
        counts[0] += 1
        counts[1] += seen
        counts[2] += deep
        counts[3] += deep and seen
        if deep and not seen:
            unvisited.append(household)
    note = reference_note(register.reference)
    coverage = OutSheet(
        "档案走访",
        [
            OutColumn("所属工会", "text", 24),
            OutColumn("在档户数", "int", 10, summed=True),
            OutColumn("本期已慰问户数", "int", 14, summed=True),
            OutColumn("慰问覆盖率(%)", "money", 14),
            OutColumn("深度困难户数", "int", 12, summed=True),
            OutColumn("深度困难已慰问", "int", 14, summed=True),
            OutColumn("深度困难未慰问", "int", 14, summed=True),
        ],
        [
            [union, total, seen, _percent(seen, total), deep, deep_seen, deep - deep_seen]
            for union, (total, seen, deep, deep_seen) in sorted(unions.items())
        ],
        title="困难职工档案本期走访情况(按所属工会)",
        total_label="合计",
        notes=[
            note,
            "已慰问:本期计入汇总的慰问名单(已受理、未被新版替换)中有此人,不论由哪个单位报送;已脱困的户不计。",
        ],
    )
    unvisited.sort(key=lambda household: (household.union, household.archive_no))
    deep_sheet = OutSheet(
        "深度困难未慰问",
        [
            OutColumn("序号", "int", 6),
            OutColumn("所属工会", "text", 24),
            OutColumn("建档编号", "text", 14),
            OutColumn("姓名", "text", 10),
            OutColumn("身份证号", "text", 21),
        ],
        [
            [number, household.union, household.archive_no, household.name, household.id_number]
            for number, household in enumerate(unvisited, start=1)
        ],
        title="本期没有任何单位慰问的深度困难家庭(在档)",
        notes=[note, "送温暖应覆盖档案中全部深度困难家庭;请督促所属工会补报。"],
    )
    return coverage, deep_sheet


def _percent(part: int, whole: int) -> Decimal:
    return to_fen(Decimal(part) * 100 / whole) if whole else ZERO


def _row_totals(amounts: list[Any], goods: list[Decimal]) -> list[Decimal]:
    """慰问金额 (to the fen) + 物资折款 of each row; one Decimal per distinct pair of amounts (they repeat), not one
    per row."""
    known: dict[tuple[Hashable, Hashable], Decimal] = {}
    totals = []
    for paid, worth in zip(amounts, goods, strict=True):
        pair = (value_key(paid), value_key(worth))
        total = known.get(pair)
        if total is None:
            total = known[pair] = to_fen(_decimal_or_none(paid) or ZERO) + worth
        totals.append(total)
    return totals


SIGNOFF = ["source_unit", "source_row", "name", "id_number", "tier", "amount", "goods", "total"]


def _signoff_row(number: int, r: Any) -> list[Any]:
    amount = _decimal_or_none(r.amount) or Decimal(0)
    return [number, r.source_unit, r.name, r.id_number, r.tier, amount, r.goods, r.total, "", ""]


def _signoff_row_with_archive(number: int, r: Any) -> list[Any]:
    amount = _decimal_or_none(r.amount) or Decimal(0)
    return [number, r.source_unit, r.name, r.id_number, r.archive_no or "", r.tier, amount, r.goods, r.total, "", ""]


LIST_CODES = {
    "income_not_eligible": Code(
        ERROR,
        "困难类别为“{tier}”,但家庭人均月收入为 {per_head} 元,不低于{limit_name} {limit} 元",
        "人均月收入 =(家庭年收入 − 刚性支出)÷ 12 ÷ 家庭人口。请核对这几项,或改为符合条件的困难类别",
        title="收入不符合困难类别",
    ),
    "expense_not_eligible": Code(
        ERROR,
        "困难类别为“意外致困”,但刚性支出 {expense} 元只占家庭年收入 {income} 元的 {ratio},未超过 {threshold}",
        "意外致困要求刚性支出(医疗、子女教育、灾害损失)超过家庭年收入的 {threshold}。请核对金额,或改为符合条件的困难类别",
        title="支出不符合意外致困",
    ),
    "below_standard": Code(
        ERROR,
        "慰问金额 {value} 元低于“{tier}”的慰问标准 {standard} 元",
        "慰问金不得低于标准,请调整为不少于 {standard} 元",
        title="慰问金低于标准",
    ),
    "archive_missing": Code(
        WARNING, "未填写建档编号", "慰问金原则上只发放给已建档的困难职工家庭,请补填建档编号", title="未填写建档编号"
    ),
    "barred": Code(
        ERROR,
        "此人已被取消本年度补助资格({reason})",
        "虚报冒领者取消其次年补助资格;请从名单中删除此人,或与工会办公室核实",
        title="已被取消补助资格",
    ),
    "below_last_year": Code(
        WARNING,
        "慰问金额 {value} 元低于此人上年同期({last_period},{last_unit})的 {last_amount} 元",
        "慰问标准不得低于上年;如确有原因,请在备注中说明",
        title="慰问金低于上年",
    ),
    "too_many_visits": Code(
        WARNING,
        "此人 12 个月内第 {count} 次受慰问(此前:{periods}),超过规定的 {maximum} 次",
        "请核实是否重复慰问;确需慰问的请在备注中说明原因",
        title="一年内慰问次数过多",
    ),
}

REGISTER_CODES = {
    "not_registered": Code(
        ERROR,
        "{name}(身份证号 {value})不在困难职工档案中",
        "未建档,请先建档或说明:依档帮扶,慰问金只发给已建档的困难职工家庭;已建档的,请核对身份证号是否与档案一致",
        title="未建档",
    ),
    "registry_exited": Code(
        ERROR,
        "{name}在困难职工档案中的状态为“{status}”(建档编号 {number}),已不在档",
        "已脱困的家庭不再按困难职工慰问,请删除此行;情况有变、需要重新帮扶的,请先在帮扶系统中恢复建档再报送",
        title="档案中已不在档",
    ),
    "archive_no_mismatch": Code(
        ERROR,
        "建档编号“{value}”{whose};{name}在档案中的建档编号是 {expected}",
        "请填写本人的建档编号,或留空(系统按身份证号从档案中取)",
        title="建档编号不符",
    ),
    "registry_tier_differs": Code(
        WARNING,
        "{name}的困难类别填写为“{value}”,困难职工档案中为“{registered}”(建档编号 {number})",
        "请按档案中的类别填写;类别确有变化的,请先在帮扶系统中更新档案",
        title="困难类别与档案不符",
    ),
    "registry_union_differs": Code(
        WARNING,
        "{name}在困难职工档案中属于“{registered}”,不是填报单位“{unit}”",
        "请核对此户是否应由本单位慰问;应由所属工会慰问的,请从本表删除此行(不重复、不交叉)",
        title="所属工会与档案不符",
    ),
}


SPEC = FormSpec(
    kind="慰问名单",
    version="2026.1",
    title="困难职工慰问名单",
    title_keywords=("慰问", "帮扶", "送温暖", "困难职工"),
    columns=COLUMNS,
    parse_policy=parse_policy,
    summarise=summarise,
    summary_by_file=True,
    policy_section=SECTION,
    row_rules=(gender_matches_id, tier_eligibility, amount_standard, archive_registered, in_register),
    history_rules=(not_barred, not_below_last_year, visits_within_year),
    unit_column="workplace",
    key_column="id_number",
    unique=ONCE_PER_PERSON,
    person=PERSON,
    distinctive=(("amount", "goods"), ("tier", "cause", "income", "household")),
    total_columns=("amount", "goods"),
    codes={**LIST_CODES, **REGISTER_CODES},
    finding_list=FindingList("建档核对", "慰问名单与困难职工档案核对不符的行", tuple(REGISTER_CODES)),
    instructions=(
        "一、本表用于报送困难职工慰问(送温暖、精准帮扶)名单,每位慰问对象填一行。",
        "二、请先在表格上方填写“填报单位”和“填报日期”,不要改动表头、不要增删列。",
        "三、身份证号列已设为文本格式,请直接输入 18 位号码;如果显示为 4.40103E+17,说明被存成了数字,后几位已丢失,请重新输入。",
        "四、困难类别:深度困难(家庭人均月收入低于当地低保标准)、相对困难(低于低保标准的 2 倍)、意外致困(刚性支出超过家庭年收入的 50%)。",
        "五、人均月收入 =(家庭年收入 − 刚性支出)÷ 12 ÷ 家庭人口。刚性支出指医疗、子女教育、灾害损失等必需支出。",
        "六、慰问金额不得低于本类别慰问标准:深度困难 1000 元、相对困难 800 元、意外致困 1000 元(以当年通知为准)。",
        "七、坚持依档帮扶、实名制发放:请填写建档编号;同一人不得在两个单位重复上报(不重复、不交叉)。",
        "八、金额只填数字(单位:元,最多两位小数),不要写“元”字;可以在表格末尾加“合计”行,系统会核对。",
        "九、虚报冒领者将取消其次年补助资格。",
    ),
)
