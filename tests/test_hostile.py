"""Untrusted files: every one gets a clear verdict, nothing crashes, nothing leaks, nothing is expanded."""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path

import openpyxl
from click.testing import CliRunner
from msoffcrypto.format.ooxml import OOXMLFile
from openpyxl import load_workbook

from process import cli
from tests.conftest import run_samples
from tests.factory import fill_template, make_people
from unionbatch.pipeline import check_files, run_batch
from unionbatch.policy import load_policy

PEOPLE = make_people(6, seed=81)


def verdict(path: Path, specs, policy) -> tuple[str, str]:
    [result] = check_files([path], specs, policy)
    first = result.findings[0]
    return first.code, first.message


def good_list(folder: Path, name: str = "名单.xlsx", **options) -> Path:
    return fill_template(folder / name, "甲工会", PEOPLE, **options)


def test_encrypted_xlsx(tmp_path: Path, specs, policy) -> None:
    encrypted = tmp_path / "加密.xlsx"
    with good_list(tmp_path).open("rb") as source, encrypted.open("wb") as target:
        OOXMLFile(source).encrypt("secret", target)
    assert verdict(encrypted, specs, policy) == ("file_encrypted", "文件设有密码。请取消密码后重新提交。")


def test_renamed_pdf_and_docx_are_named_for_what_they_are(tmp_path: Path, specs, policy) -> None:
    pdf = tmp_path / "名单.xlsx"
    pdf.write_bytes(b"%PDF-1.7\n1 0 obj <<>> endobj\n")
    code, message = verdict(pdf, specs, policy)
    assert code == "file_disguised" and message.startswith("文件实际上是PDF 文档,不是电子表格(只是扩展名为“.xlsx”)")
    docx = tmp_path / "总结.xlsx"
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    assert verdict(docx, specs, policy)[1].startswith("文件实际上是Word 文档(.docx)")


def test_truncated_and_zero_sheet_workbooks(tmp_path: Path, specs, policy) -> None:
    whole = good_list(tmp_path).read_bytes()
    truncated = tmp_path / "半截.xlsx"
    truncated.write_bytes(whole[: len(whole) // 2])
    code, message = verdict(truncated, specs, policy)
    assert code == "file_unreadable" and "损坏" in message
    empty_book = tmp_path / "无表.xlsx"
    with zipfile.ZipFile(io.BytesIO(whole)) as source, zipfile.ZipFile(empty_book, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/workbook.xml":
                data = re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", data, flags=re.S)
            target.writestr(item, data)
    assert verdict(empty_book, specs, policy)[0] in ("file_unreadable", "not_a_form")


def test_formulas_without_saved_values_are_sent_back(tmp_path: Path, specs, policy) -> None:
    path = good_list(tmp_path, total_row={"amount": "=SUM(L4:L9)", "goods": "=SUM(M4:M9)"})
    [result] = check_files([path], specs, policy)
    [finding] = [f for f in result.findings if f.code == "formulas_not_calculated"]
    assert finding.value == "L10" and "2 个公式" in finding.message and "打开此文件,保存后重新提交" in finding.message


def test_hidden_sheets_and_rows_are_reported(tmp_path: Path, specs, policy) -> None:
    path = good_list(tmp_path)
    workbook = load_workbook(path)
    old = workbook.create_sheet("旧名单")
    old.append(["姓名", "身份证号"])
    old.append(["去年的人", "110105194912310021"])
    old.sheet_state = "hidden"
    workbook["慰问名单"].row_dimensions[6].hidden = True
    workbook.save(path)
    [result] = check_files([path], specs, policy)
    assert [(f.code, f.cell, f.severity) for f in result.findings] == [
        ("hidden_sheet", None, "warning"),
        ("hidden_rows", "A6", "warning"),
    ]
    assert result.rows == 6  # the hidden row is read, and said so


def test_size_limits_come_from_the_policy_and_name_the_limit(tmp_path: Path, specs) -> None:
    policy_file = tmp_path / "p.toml"
    policy_file.write_text("[limits]\nmax_rows = 8\nmax_file_mb = 1\nmax_unzipped_mb = 2\n", encoding="utf-8")
    policy = load_policy(policy_file, specs)
    code, message = verdict(good_list(tmp_path), specs, policy)
    assert code == "too_large" and "超过上限 8 行" in message
    bomb = tmp_path / "炸弹.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (5 * 1024 * 1024))
    started = time.monotonic()
    code, message = verdict(bomb, specs, policy)
    assert code == "too_large" and "压缩炸弹" in message and "上限 2 MB" in message
    assert time.monotonic() - started < 5
    big = tmp_path / "大.xlsx"
    big.write_bytes(good_list(tmp_path, "x.xlsx").read_bytes() + b"\0" * (1024 * 1024))
    assert "超过上限 1 MB" in verdict(big, specs, policy)[1]


def test_xml_entity_attacks_are_refused_without_expansion(tmp_path: Path, specs, policy) -> None:
    assert openpyxl.DEFUSEDXML, "defusedxml is installed, so openpyxl parses safely"
    whole = good_list(tmp_path).read_bytes()
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10)
        )
        + b"]>"
    )
    external = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name, prefix in (("炸弹实体.xlsx", laughs), ("外部实体.xlsx", external)):
        with zipfile.ZipFile(io.BytesIO(whole)) as source, zipfile.ZipFile(inbox / name, "w") as target:
            for item in source.infolist():
                data = source.read(item)
                if item.filename == "xl/worksheets/sheet1.xml":
                    entity = b"&lol9;" if prefix is laughs else b"&xxe;"
                    body = data.split(b"?>", 1)[-1]  # drop any XML declaration: the DOCTYPE goes first
                    data = prefix + body.replace(b"<v>", b"<v>" + entity, 1)
                target.writestr(item, data)
    started = time.monotonic()
    report = run_batch(inbox, tmp_path / "out", "2026-05")
    assert time.monotonic() - started < 30
    assert [f.code for result in report.files for f in result.findings] == ["file_unsafe", "file_unsafe"]
    passwd = Path("/etc/passwd").read_text().splitlines()[0]
    for output in (tmp_path / "out").rglob("*"):
        if output.is_file():
            with zipfile.ZipFile(output) if output.suffix == ".xlsx" else open(output, "rb") as handle:
                blobs = [handle.read(n) for n in handle.namelist()] if output.suffix == ".xlsx" else [handle.read()]
            assert not any(passwd.encode() in blob for blob in blobs), output


def test_formula_like_text_stays_text_in_every_output(tmp_path: Path) -> None:
    injected = '=HYPERLINK("http://example.invalid","点我")'
    inbox = tmp_path / "inbox"
    path = good_list(inbox)
    workbook = load_workbook(path)
    for cell, text in (("O4", injected), ("O5", "+1+1"), ("O6", "@SUM(1)")):
        workbook["慰问名单"][cell] = text
        workbook["慰问名单"][cell].data_type = "s"  # typed as text, as a unit would paste it
    workbook.save(path)
    report = run_batch(inbox, tmp_path / "out", "2026-05")
    assert report.exit_code == 0
    detail = load_workbook(report.folder / "慰问名单汇总.xlsx")["明细"]
    remarks = {
        cell.value: cell.data_type
        for row in detail.iter_rows(min_row=3)
        for cell in row
        if cell.value in (injected, "+1+1", "@SUM(1)")
    }
    assert remarks == {injected: "s", "+1+1": "s", "@SUM(1)": "s"}


def test_unsafe_file_names_are_made_safe(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    name = "\x07报送\x1b" + "long" * 45 + ".xlsx"  # 200 characters, with control characters
    good_list(inbox, name, edits={"E5": "12345"})
    report = run_batch(inbox, tmp_path / "out", "2026-05")
    annotated = report.files[0].annotated
    assert annotated is not None and annotated.parent == report.folder / "批注"
    assert not any(ord(ch) < 32 for ch in annotated.name) and len(annotated.name) <= 80


def test_safe_name_removes_paths_and_control_characters() -> None:
    from unionbatch.inbox import safe_name

    assert safe_name("../../etc/passwd") == "etc_passwd"
    assert safe_name("/abs/名单.xlsx") == "abs_名单.xlsx"
    assert safe_name("a\x00b\x1fc") == "abc"
    assert safe_name("..") == "文件"
    assert len(safe_name("长" * 200 + ".xlsx")) <= 80 and safe_name("长" * 200 + ".xlsx").endswith(".xlsx")


def test_no_full_id_or_phone_leaves_the_office(tmp_path: Path) -> None:
    """Grep every output that leaves the office (console, run.log, report.json, 处理报告) for full IDs."""
    out = tmp_path / "out"
    result = run_samples(out)
    sensitive = {
        p.id_number
        for seed, count in ((1, 8), (2, 6), (3, 7), (4, 5), (5, 4), (6, 16), (7, 5), (8, 5), (9, 4), (10, 6))
        for p in make_people(count, seed)
    }
    sensitive |= {p.phone for seed, count in ((1, 8), (6, 16)) for p in make_people(count, seed)}
    folder = out / "2026-11"
    leaving = {
        "console": result.output,
        "run.log": (out / "run.log").read_text(encoding="utf-8"),
        "report.json": (folder / "report.json").read_text(encoding="utf-8"),
        "处理报告.xlsx": _xlsx_text(folder / "处理报告.xlsx"),
    }
    for where, text in leaving.items():
        assert not [value for value in sensitive if value in text], where
    assert any(value in _xlsx_text(folder / "慰问名单汇总.xlsx") for value in sensitive)  # kept in the office


def test_full_ids_flag_keeps_ids_in_report_json(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    good_list(inbox, edits={"D5": PEOPLE[1].id_number[:17] + "Y"})
    result = CliRunner().invoke(
        cli,
        ["run", "--inbox", str(inbox), "--out", str(tmp_path / "o"), "--period", "2026-05", "--full-ids"],
        catch_exceptions=False,
    )
    assert result.exit_code == 1
    text = (tmp_path / "o" / "2026-05" / "report.json").read_text(encoding="utf-8")
    assert PEOPLE[1].id_number[:17] + "Y" in text


def _xlsx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return "".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
