"""Every finding code has a short Chinese title, and 处理报告 › 问题清单 shows it beside the code."""

from __future__ import annotations

import re
from pathlib import Path

from openpyxl import load_workbook

from tests.factory import fill_template, make_people, with_changes
from unionbatch.pipeline import run_batch
from unionbatch.spec import finding_codes

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_every_code_has_a_short_chinese_title_of_its_own(specs) -> None:
    codes = finding_codes(specs)
    assert len(codes) > 60  # the engine's codes and the forms' own
    untitled = sorted(code for code, definition in codes.items() if not CHINESE.search(definition.title))
    assert untitled == []
    assert [code for code, definition in codes.items() if re.search("[A-Za-z]", definition.title)] == []
    assert max(len(definition.title) for definition in codes.values()) <= 14
    titles = [definition.title for definition in codes.values()]
    assert sorted(title for title in set(titles) if titles.count(title) > 1) == []


def test_the_findings_sheet_shows_each_code_with_its_title(tmp_path: Path) -> None:
    people = make_people(4, seed=21)
    wrong_digit = "1" if people[0].id_number[-1] == "0" else "0"
    people[0] = with_changes(people[0], id_number=people[0].id_number[:-1] + wrong_digit)
    people[2] = with_changes(people[2], phone="12345")
    fill_template(tmp_path / "inbox" / "甲工会.xlsx", "甲工会", people)
    report = run_batch(tmp_path / "inbox", tmp_path / "out", "2026-11", keep_inbox=True)
    sheet = load_workbook(report.folder / "处理报告.xlsx")["问题清单"]
    header = [cell.value for cell in sheet[2]]
    rows = {
        (row[header.index("位置")], row[header.index("代码")]) for row in sheet.iter_rows(min_row=3, values_only=True)
    }
    assert rows == {("D4", "身份证号校验位不对(id_checksum)"), ("E6", "联系电话格式不对(phone_invalid)")}
