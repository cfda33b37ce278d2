"""The import layers hold: pyproject.toml's import-linter contracts (the engine never imports click nor a form;
findings, the spec, money and privacy import no stage; a form never imports the run's delivery directly)."""

from __future__ import annotations

import os
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_are_kept(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=os.fspath(ROOT / "pyproject.toml"), no_cache=True, no_logo=True) == 0
