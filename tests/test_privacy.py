"""Personal data and terminal tricks: what leaves the office is masked, what is printed is clean, and what is
kept under OUT is for its owner's eyes only."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from process import cli
from tests.factory import fill_template, make_people
from tests.test_mail import JIA, drop_eml, list_bytes, unit_mail, write_policy
from unionbatch.ledger import Ledger
from unionbatch.privacy import clean_line, mask_name, mask_text

ID = "350103197006014550"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (ID, "350103********4550"),
        ("350103 19700601 4550", "350103 ******** 4550"),
        ("身份证:350103-19700601-4550。", "身份证:350103-********-4550。"),
        ("ID350103197006014550", "ID350103********4550"),
        ("35010319700601455X", "350103********455X"),
        ("350103 19700601 455X", "350103 ******** 455X"),
        ("110105 1990 0101 1234", "110105 **** **** 1234"),
        ("１３３９６００５３４０", "１３３****５３４０"),
        ("13396005340", "133****5340"),
        ("8613396005340", "86133****5340"),
        ("008613396005340", "0086133****5340"),
        ("+86 133-9600-5340", "+86 133-****-5340"),
        ("+86 13396005340", "+86 133****5340"),
        ("133 9600 5340", "133 **** 5340"),
        ("电话13396005340、13396005341", "电话133****5340、133****5341"),
        ("0591-87654321", "0591-****4321"),
        ("0591 8765 4321", "0591 **** 4321"),
        ("12345678901234567", "123456*******4567"),  # 14+ digits: an ID mistyped
    ],
)
def test_ids_and_phones_are_masked_however_they_are_written(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-28 13:00:00",
        "共 3 行,0 个错误,2 个警告",
        "rows=12 errors=0 warnings=1",
        "金额 10600.00 元,户均 1060 元",
        "13396005340 2026-11"[12:],
        "第 2026 11 28 行",
        "慰问名单!D4",
    ],
)
def test_dates_counts_and_amounts_are_left_alone(text: str) -> None:
    assert mask_text(text) == text


def test_a_phone_next_to_a_date_masks_only_the_phone() -> None:
    assert mask_text("13396005340 2026-11-28") == "133****5340 2026-11-28"


def test_masked_file_names_use_a_star_windows_allows() -> None:
    assert mask_name(f"名单{ID}.xlsx") == "名单350103＊＊＊＊＊＊＊＊4550.xlsx"


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("甲\x1b[2J\x1b[31m工会\x1b[0m", "甲工会"),
        ("甲\x1b]0;pwned\x07工会", "甲工会"),
        ("甲\x1b]8;;http://evil.example\x1b\\工会", "甲工会"),
        ("甲工会\n伪造的一行", "甲工会 伪造的一行"),
        ("甲\r工会\t组", "甲 工会 组"),
        ("甲\x00\x08\x7f\x9b31m工会", "甲工会"),
        ("\u202e甲工会\u202c", "甲工会"),
        ("甲工会\u3000(机关)", "甲工会\u3000(机关)"),
    ],
)
def test_control_characters_and_escapes_are_stripped(text: str, clean: str) -> None:
    assert clean_line(text) == clean


def run(inbox: Path, out: Path, *options: str):
    arguments = ["run", "--inbox", str(inbox), "--out", str(out), "--period", "2026-11", *options]
    return CliRunner().invoke(cli, arguments, catch_exceptions=False)


def test_console_run_log_report_json_and_report_workbook_are_masked_and_clean(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    people = make_people(2, seed=31)
    unit = "机关_x001B_[2J_x001B_]0;pwned_x0007_工会 +86 133-9600-5340"  # read back with ESC and BEL in it
    spaced = f"{people[0].id_number[:6]} {people[0].id_number[6:14]} {people[0].id_number[14:]}"
    fill_template(inbox / f"名单{ID}.xlsx", unit, people, edits={"E4": "8613396005340", "D5": f"ID{spaced}"})
    result = run(inbox, out)
    log = (out / "run.log").read_text(encoding="utf-8")
    report = (out / "2026-11" / "report.json").read_text(encoding="utf-8")
    workbook = load_workbook(out / "2026-11" / "处理报告.xlsx")
    cells = " ".join(str(cell.value) for sheet in workbook for row in sheet.iter_rows() for cell in row if cell.value)
    for name, text in {"console": result.output, "run.log": log, "report.json": report, "处理报告": cells}.items():
        for secret in ("9600", ID[6:14], people[0].id_number[6:14]):
            assert secret not in text, (name, secret)
        assert "\x1b" not in text and "\x07" not in text, name
    for text in (result.output, log):
        assert "pwned" not in text and "[2J" not in text
    assert (
        "  退回修改  机关工会 +86 133-****-5340  名单350103********4550.xlsx  (2 行,1 个错误,0 个警告)"
        in result.output  # +86 mobile valid
    )
    assert "名单350103********4550.xlsx" in result.output
    data = json.loads(report)
    assert data["files"][0]["unit"] == "机关\u001b[2J\u001b]0;pwned\u0007工会 +86 133-****-5340"
    assert data["files"][0]["path"] == "原件/名单350103********4550.xlsx"


def test_full_ids_keeps_report_json_whole(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    fill_template(inbox / f"名单{ID}.xlsx", "机关工会", make_people(2, seed=32))
    run(inbox, out, "--full-ids")
    data = json.loads((out / "2026-11" / "report.json").read_text(encoding="utf-8"))
    assert data["files"][0]["path"] == f"原件/名单{ID}.xlsx"


def modes(folder: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(folder.stat().st_mode)}
    for path in folder.rglob("*"):
        found[str(path.relative_to(folder))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def test_everything_under_out_is_owner_only(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    out.mkdir(mode=0o755)
    out.chmod(0o755)
    Ledger(out / "ledger.sqlite").close()
    (out / "ledger.sqlite").chmod(0o644)  # made by an earlier version
    fill_template(inbox / "机关工会.xlsx", "机关工会", make_people(3, seed=33))
    fill_template(inbox / "错.xlsx", "城东街道工会", make_people(2, seed=34), edits={"E4": "12345"})
    drop_eml(inbox, unit_mail(JIA, {"甲工会.xlsx": list_bytes(tmp_path, "甲工会", make_people(2, seed=35))}), "甲.eml")
    before = os.umask(0o022)
    os.umask(before)
    result = run(inbox, out, "--policy", str(write_policy(tmp_path)))
    assert result.exit_code == 1, result.output
    found = modes(out)
    for expected in ("ledger.sqlite", "run.log", "2026-11/report.json", "2026-11/处理报告.xlsx", "2026-11/原件"):
        assert expected in found
    assert any(name.startswith("2026-11/outbox/") for name in found)
    assert any(name.startswith("2026-11/原件/邮件/") for name in found)
    assert any(name.endswith("汇总.xlsx") for name in found)
    wrong = {
        name: oct(mode)
        for name, mode in found.items()
        if mode != (0o700 if (out / name).is_dir() and not (out / name).is_symlink() else 0o600)
    }
    assert wrong == {}
    assert os.umask(before) == before  # the run's umask does not outlive it


def test_engine_log_lines_on_stderr_are_masked_tracebacks_included(capsys) -> None:
    """A worker's traceback quotes the cell that broke it: on stderr it is masked like any console line."""
    import logging

    from unionbatch.privacy import masked_logging

    masked_logging()
    masked_logging()  # once per process: no second handler
    logger = logging.getLogger("unionbatch.annotate")
    try:
        raise ValueError(f"bad cell {ID} \x1b[2J")
    except ValueError:
        logger.exception("无法生成批注副本:%s", "名单.xlsx")
    err = capsys.readouterr().err
    assert "无法生成批注副本:名单.xlsx" in err and "Traceback" in err and "ValueError: bad cell" in err
    assert ID not in err and f"{ID[:6]}********{ID[-4:]}" in err and "\x1b" not in err
    assert err.count("无法生成批注副本") == 1
