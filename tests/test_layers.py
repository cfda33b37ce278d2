"""The import layers hold: pyproject.toml's import-linter contracts (the engine never imports click nor a form;
findings, the spec, money, privacy and the records the stages hand each other (FileResult, ParsedSheet, OutSheet,
Report) import no stage; a form never imports the run's delivery directly)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# in a process of its own: import-linter's command configures logging (dictConfig), which would silence the
# loggers of the engine already imported by the tests
LINT = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"


def test_the_import_contracts_are_kept() -> None:
    done = subprocess.run([sys.executable, "-c", LINT], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 4 kept, 0 broken." in done.stdout
