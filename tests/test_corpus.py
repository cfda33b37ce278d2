"""85 real spreadsheets that are none of our forms: each gets a clear file-level verdict, the batch goes on."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from tests.conftest import CORPUS
from tests.factory import fill_template, make_people
from unionbatch.pipeline import run_batch

VERDICTS = {"not_a_form", "file_unreadable", "file_encrypted", "file_type", "file_disguised", "too_large"}


def test_every_corpus_file_gets_a_verdict_and_a_good_file_is_still_accepted(tmp_path: Path) -> None:
    files = sorted(p for p in CORPUS.iterdir() if p.name != "LICENSE")
    assert len(files) == 85
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    inbox = tmp_path / "inbox"
    shutil.copytree(CORPUS, inbox, ignore=shutil.ignore_patterns("LICENSE"))
    fill_template(inbox / "机关工会.xlsx", "机关工会", make_people(3, seed=51))
    report = run_batch(inbox, tmp_path / "out", "2026-03")
    by_name = {result.path.name: result for result in report.files}
    assert by_name.pop("机关工会.xlsx").status == "accepted"
    assert set(by_name) == set(before)
    for name, result in by_name.items():
        assert result.status == "rejected", name
        assert next(f.code for f in result.findings if f.cell is None) in VERDICTS, (name, result.findings)
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files} == before
    assert report.totals["慰问名单"]["households"] == 3
