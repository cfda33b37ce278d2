"""困难职工档案: the register of needy households each union keeps (exported from its 帮扶 system), against which
the 慰问名单 is checked (依档帮扶, seed 004 方案一 三.2; 000 篇十 建档立卡).

The register is declared as columns like any form, so the same reader, recogniser and normaliser read it in
whatever layout an export takes (title rows, synonyms, .xls). It is not a form units send: it is named in the
policy (`[relief] registry`) and read once, at start-up.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemas._columns import ID_NUMBER, PERSON, SEQ
from unionbatch.ledger import file_hash
from unionbatch.normalise import parse_sheets
from unionbatch.policy import PolicyError
from unionbatch.read import ReadFailure, is_spreadsheet, read_book
from unionbatch.recognise import recognise_book
from unionbatch.spec import Column, FormSpec, Reference
from unionbatch.validate import valid_id

LABEL = "困难职工档案"
TIERS = ("深度困难", "相对困难", "意外致困")
LEGACY_TIERS = (("特困", "深度困难"), ("特困职工", "深度困难"), ("困难", "相对困难"), ("困难职工", "相对困难"))
EXITED_WORD = "脱困"  # 已脱困 / 脱困: out of the register's care

COLUMNS = (
    SEQ,
    Column("archive_no", "建档编号", "text", required=False, synonyms=("档案编号", "建档号", "档案号", "编号")),
    Column("name", "姓名", "name", required=False, synonyms=("职工姓名", "困难职工姓名", "户主姓名", "户主")),
    dataclasses.replace(ID_NUMBER, required=False),
    Column(
        "tier",
        "困难类别",
        "text",
        required=False,
        synonyms=("困难程度", "困难类型", "帮扶类别", "建档类别"),
    ),
    Column("filed", "建档日期", "text", required=False, synonyms=("建档时间", "入档日期")),
    Column("status", "状态", "text", required=False, synonyms=("档案状态", "建档状态", "帮扶状态")),
    Column(
        "union",
        "所属工会",
        "text",
        required=False,
        synonyms=("工会", "所在工会", "基层工会", "建档单位", "所属单位", "工会名称"),
    ),
)


def _no_policy(_section: Mapping[str, Any]) -> None:
    return None


SPEC = FormSpec(
    kind=LABEL,
    version="2026.1",
    title=LABEL,
    title_keywords=("档案", "建档", "困难职工"),
    columns=COLUMNS,
    parse_policy=_no_policy,
    summarise=None,
    policy_section="",
    key_column="id_number",
    person=dataclasses.replace(PERSON, gender=None),
    min_header_matches=2,
    distinctive=(("id_number",),),
    header_fields=("填报单位", "导出日期", "填报日期"),
)


@dataclass(frozen=True)
class Household:
    archive_no: str
    name: str
    id_number: str
    tier: str
    status: str
    union: str
    row: int  # Excel row in the register

    @property
    def exited(self) -> bool:
        return EXITED_WORD in self.status


@dataclass(frozen=True)
class Register:
    reference: Reference
    households: Mapping[str, Household]  # 身份证号 → household (the first row, if listed twice)
    by_archive_no: Mapping[str, Household]
    unusable_rows: tuple[int, ...] = ()  # rows whose 身份证号 is missing or invalid: nobody can be matched to them

    def household(self, id_number: Any) -> Household | None:
        return self.households.get(id_number) if isinstance(id_number, str) else None


def load_register(path: Path, where: str) -> Register:
    """Read the register named at `where` in the policy; PolicyError (the run stops, exit 2) when it cannot be
    read, holds no 身份证号 column, or no household with a valid one."""
    shown = f"{LABEL} {path}(策略文件 {where})"
    if not path.is_file():
        raise PolicyError(f"找不到{shown};请检查路径(相对于策略文件所在的文件夹)")
    if not is_spreadsheet(path):
        raise PolicyError(f"{shown} 不是表格文件;请从帮扶系统导出为 .xlsx 或 .xls")
    try:
        book = read_book(path)
    except ReadFailure as failure:
        raise PolicyError(f"{shown} 无法读取:{failure.reason}") from failure
    except OSError as error:
        raise PolicyError(f"{shown} 无法读取:{error.strerror}") from error
    found = recognise_book(book, {SPEC.kind: SPEC})
    if not found.locations:
        raise PolicyError(
            f"{shown} 中找不到“身份证号”列;档案的表头应有 建档编号、姓名、身份证号、困难类别、状态、所属工会"
        )
    parsed = parse_sheets(str(path), found.locations)
    households: dict[str, Household] = {}
    unusable = []
    for row, record in parsed.records():
        id_number = record["id_number"]
        if not valid_id(id_number):
            unusable.append(row)
            continue
        households.setdefault(id_number, _household(row, record, parsed.unit))
    if not households:
        raise PolicyError(f"{shown} 中没有一户填写了有效的 18 位身份证号;请检查导出的文件")
    by_archive_no: dict[str, Household] = {}
    for household in households.values():
        if household.archive_no:
            by_archive_no.setdefault(household.archive_no, household)
    reference = Reference(LABEL, path, file_hash(path), len(households))
    return Register(reference, households, by_archive_no, tuple(unusable))


def _household(row: int, record: Mapping[str, Any], file_unit: str | None) -> Household:
    tier = _text(record["tier"])
    return Household(
        archive_no=_text(record["archive_no"]),
        name=_text(record["name"]),
        id_number=record["id_number"],
        tier=dict(LEGACY_TIERS).get(tier, tier),
        status=_text(record["status"]) or "在档",
        union=_text(record["union"]) or (file_unit or ""),
        row=row,
    )


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else "" if value is None else str(value)
