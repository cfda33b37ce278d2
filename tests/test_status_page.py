"""报送情况.html: the roster × forms grid, totals, countdown, masking and escaping, read in a real headless Chromium."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from tests.browser import dump_dom, parse_html, print_to_pdf, screenshot
from tests.factory import fill_template, make_id, make_people
from unionbatch.pipeline import run_batch
from unionbatch.status_page import STATUS_PAGE

TODAY = dt.date.today()
HOSTILE_UNIT = "<img src=x onerror=\"console.error('xss')\">工会"
ID_IN_NAME = make_id(random.Random(7), "女")


def _policy(folder: Path) -> Path:
    """A roster whose order is not the names' Unicode order; the 慰问名单 was due yesterday, the 统计表 in 3 days."""
    path = folder / "policy.toml"
    path.write_text(
        f"""
[deadlines]
"慰问名单" = {TODAY - dt.timedelta(days=1):%Y-%m-%d}
"送温暖统计表" = {TODAY + dt.timedelta(days=3):%Y-%m-%d}

[[roster]]
unit = "机关工会"
forms = ["慰问名单", "送温暖统计表"]

[[roster]]
unit = "城东街道工会"
forms = ["慰问名单"]

[[roster]]
unit = "高新园区联合工会"
forms = ["慰问名单"]

[[roster]]
unit = "阿里工会"
forms = ["慰问名单"]

[[roster]]
unit = "卫健系统工会"
forms = ["送温暖统计表"]
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    """A run on: 机关工会 clean, 城东街道工会 with a warning, 高新园区联合工会 with a wrong ID (rejected), 阿里工会 and
    卫健系统工会 sending nothing, and a unit off the roster whose name is HTML, in a file named with an ID."""
    folder = tmp_path_factory.mktemp("status")
    inbox = folder / "inbox"
    fill_template(inbox / "机关工会_慰问名单.xlsx", "机关工会", make_people(3, 1))
    warned = make_people(2, 2)
    warned[0] = dataclasses.replace(warned[0], archive_no="")  # 建档编号 left blank: a warning
    fill_template(inbox / "城东街道工会.xlsx", "城东街道工会", warned)
    wrong = make_people(4, 3)
    wrong[1] = dataclasses.replace(wrong[1], id_number=wrong[1].id_number[:-1] + "0" * (wrong[1].id_number[-1] != "0"))
    fill_template(inbox / "园区名单.xlsx", "高新园区联合工会", wrong)
    fill_template(inbox / f"{ID_IN_NAME}名单.xlsx", HOSTILE_UNIT, make_people(2, 4))
    run_batch(inbox, folder / "out", "2026-11", _policy(folder))
    return folder / "out" / "2026-11" / STATUS_PAGE


@pytest.fixture(scope="module")
def loaded(page: Path):
    html, console = dump_dom(page)
    return parse_html(html), console


def _grid(document) -> dict[str, dict[str, str]]:
    table = document.find_all("table", id="grid")[0]
    return {
        row.find_all("th")[0].text: {cell.attrs["data-form"]: cell.text for cell in row.find_all("td")}
        for row in table.find_all("tr")
        if "data-unit" in row.attrs
    }


def test_the_page_opens_without_console_errors(loaded) -> None:
    _, console = loaded
    assert console == []


def test_the_browser_reports_a_page_script_error(tmp_path: Path) -> None:
    """The console check above can fail: a page whose script throws is seen."""
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><html><body><script>nosuch();</script></body></html>", encoding="utf-8")
    _, console = dump_dom(broken)
    assert any("nosuch is not defined" in line for line in console)


def test_the_heading_names_the_period_as_the_office_writes_it(loaded) -> None:
    assert [heading.text for heading in loaded[0].find_all("h1")] == ["2026年11月报送情况"]


def test_grid_cells_say_each_units_state(loaded) -> None:
    grid = _grid(loaded[0])
    assert grid["机关工会"]["慰问名单"].startswith("已受理 机关工会_慰问名单.xlsx")
    assert "3 行 · 0 个错误 · 0 个警告" in grid["机关工会"]["慰问名单"]
    assert grid["机关工会"]["送温暖统计表"] == "未报送"
    assert grid["城东街道工会"]["慰问名单"].startswith("有警告 城东街道工会.xlsx")
    assert "2 行 · 0 个错误 · 1 个警告" in grid["城东街道工会"]["慰问名单"]
    assert grid["高新园区联合工会"]["慰问名单"].startswith("退回待重报 园区名单.xlsx")
    assert "1 个错误" in grid["高新园区联合工会"]["慰问名单"]
    assert "已过截止时间" in grid["高新园区联合工会"]["慰问名单"]
    assert grid["阿里工会"]["慰问名单"] == f"逾期 截止 {TODAY - dt.timedelta(days=1):%Y-%m-%d}"
    assert grid["卫健系统工会"]["送温暖统计表"] == "未报送"
    assert grid["卫健系统工会"]["慰问名单"] == "—"  # not asked of it


def test_rows_follow_the_roster_then_units_off_it(loaded) -> None:
    units = list(_grid(loaded[0]))
    assert units == ["机关工会", "城东街道工会", "高新园区联合工会", "阿里工会", "卫健系统工会", units[-1]]
    assert units[-1] == f"{HOSTILE_UNIT} (不在应报送单位名单中)"


def test_text_from_a_submission_stays_text(loaded, page: Path) -> None:
    document, console = loaded
    assert document.find_all("img") == []
    assert f"{HOSTILE_UNIT} (不在应报送单位名单中)" in _grid(document)
    assert "<img" not in page.read_text(encoding="utf-8")  # escaped in the file itself, not repaired by the browser
    assert not any("xss" in line for line in console)


def test_ids_in_names_are_masked(loaded, page: Path) -> None:
    masked = f"{ID_IN_NAME[:6]}{'*' * 8}{ID_IN_NAME[-4:]}名单.xlsx"
    assert masked in _grid(loaded[0])[f"{HOSTILE_UNIT} (不在应报送单位名单中)"]["慰问名单"]
    assert ID_IN_NAME not in page.read_text(encoding="utf-8")


def test_forms_table_gives_countdown_progress_and_totals(loaded) -> None:
    table = loaded[0].find_all("table", id="forms")[0]
    forms = {row.attrs["data-form"]: row for row in table.find_all("tr") if "data-form" in row.attrs}
    assert list(forms) == ["慰问名单", "送温暖统计表"]
    relief = forms["慰问名单"].find_all("td")
    assert relief[0].text == f"{TODAY - dt.timedelta(days=1):%Y-%m-%d}"
    assert relief[1].text == "已逾期 1 天"
    progress = relief[2].find_all("div", class_="counts")[0].text
    assert progress == "已受理 2 · 有警告 1 · 退回待重报 1 · 逾期 1(共 5 个单位)"  # the unit off the roster too
    assert relief[3].text.startswith("7 户,慰问金")  # 机关工会 3 + 城东 2 + the unit off the roster 2
    stats = forms["送温暖统计表"].find_all("td")
    assert stats[1].text == "还有 3 天"
    assert stats[2].find_all("div", class_="counts")[0].text == "未报送 2(共 2 个单位)"
    assert [rect.attrs["width"] for rect in forms["慰问名单"].find_all("rect")] == ["40.0", "20.0", "20.0", "20.0"]


def test_legend_counts_every_cell(loaded) -> None:
    legend = [item.text for item in loaded[0].find_all("li") if "data-state" in item.attrs]
    assert legend == ["已受理 2", "有警告 1", "退回待重报 1", "逾期 1", "未报送 2"]


def _share(image: Image.Image, colour: tuple[int, int, int]) -> float:
    pixels = image.convert("RGB").getdata()
    return sum(pixel == colour for pixel in pixels) / len(pixels)


def test_screenshot_shows_each_state_in_its_colour(page: Path, tmp_path: Path) -> None:
    png = tmp_path / "status.png"
    assert screenshot(page, png, 1200, 900) == []
    image = Image.open(png)
    assert image.size == (1200, 900)
    for colour in ((0xDA, 0xFB, 0xE1), (0xFF, 0xF8, 0xC5), (0xFF, 0xDC, 0xD7), (0xFF, 0xB3, 0xA8)):
        assert _share(image, colour) > 0.002, colour  # accepted, warned, rejected, overdue cells


def test_page_prints_on_landscape_a4(page: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "status.pdf"
    assert print_to_pdf(page, pdf) == []
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    width, height = (
        float(number) for number in re.search(r"Page size: +([\d.]+) x ([\d.]+) pts \(A4\)", info).groups()
    )
    assert width > height  # landscape
    assert re.search(r"Pages: +1\n", info)  # a short roster's page fits one sheet
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "阿里工会" in text and "逾期" in text


def _all(node):
    for child in node.children:
        yield child
        yield from _all(child)


def test_page_needs_no_network(page: Path) -> None:
    """Styles and script inline, nothing fetched: it opens by double-click, and its policy forbids any load."""
    document = parse_html(page.read_text(encoding="utf-8"))
    assert [node.tag for node in _all(document) if {"src", "href"} & set(node.attrs)] == []
    policy = document.find_all("meta", http_equiv="Content-Security-Policy")[0].attrs["content"]
    assert policy.startswith("default-src 'none';")
