"""Make the README's pictures of printed pages from a fresh run of the quick start (samples/):

    python docs/make_pictures.py

实名制发放表 and an annotated copy's 错误清单 are printed to PDF by LibreOffice (soffice --headless --convert-to pdf,
in the zh-CN locale),
the status page by headless Chromium (--print-to-pdf); the first page of each is turned into a PNG at 60 dpi by
pdftoppm (poppler-utils). Needs what the tests need: soffice, chromium, pdftoppm, pdftotext.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import print_to_pdf  # noqa: E402

DOCS = ROOT / "docs"
QUICK_START = [
    ("samples/earlier/2026-09", "2026-09"),
    ("samples/earlier/2026-10", "2026-10"),
    ("samples/inbox", "2026-11"),
]


def run_quick_start(out: Path) -> Path:
    for inbox, period in QUICK_START:
        command = [sys.executable, "process.py", "run", "--inbox", inbox, "--out", str(out), "--period", period]
        subprocess.run([*command, "--policy", "samples/policy.toml", "--keep-inbox"], cwd=ROOT, capture_output=True)
    return out / "2026-11"


# LibreOffice set to a Chinese office's locale: the page header's 制表日期 (&D) prints as 2026/12/01, not 12/01/2026
ZH_CN = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry">
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse"><value>zh-CN</value></prop></item>
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooLocale" oor:op="fuse"><value>zh-CN</value></prop></item>
</oor:items>
"""


def to_pdf(workbook: Path, folder: Path) -> Path:
    settings = folder / "profile" / "user" / "registrymodifications.xcu"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(ZH_CN, encoding="utf-8")
    profile = f"-env:UserInstallation=file://{folder / 'profile'}"
    subprocess.run(
        ["soffice", profile, "--headless", "--convert-to", "pdf", "--outdir", str(folder), str(workbook)],
        check=True,
        capture_output=True,
    )
    return folder / f"{workbook.stem}.pdf"


def first_page_with(pdf: Path, text: str) -> int:
    page = 1
    while True:
        found = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        if text in found:
            return page
        page += 1


def to_png(pdf: Path, page: int, target: Path) -> None:
    stem = target.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(stem)],
        check=True,
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        folder = run_quick_start(work / "out")
        relief = to_pdf(folder / "慰问名单汇总.xlsx", work)
        to_png(relief, first_page_with(relief, "实名制发放表"), DOCS / "payout-sheet.png")
        annotated = to_pdf(folder / "批注" / "城西镇工会_慰问名单_批注.xlsx", work)
        to_png(annotated, 1, DOCS / "error-list.png")
        print_to_pdf(folder / "报送情况.html", work / "status.pdf")  # as the tests print it
        to_png(work / "status.pdf", 1, DOCS / "status-page.png")


if __name__ == "__main__":
    main()
