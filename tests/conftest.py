from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from unionbatch.policy import Policy, load_policy
from unionbatch.spec import FormSpec, load_specs

# files are written a moment before each run: a short settle time (inherited by the runs started as processes);
# the tests of the settle rule set theirs in a policy
os.environ.setdefault("UNIONBATCH_SETTLE_SECONDS", "0.05")

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
CORPUS = (
    ROOT / "tests" / "fixtures" / "sheetjs"
)  # a copy of shared/corpus/sheetjs (LICENSE inside): the tests need no ../shared


def run_samples(out: Path) -> Result:
    """The README's main command on samples/inbox (inputs kept in place), into `out`."""
    from process import cli

    arguments = [
        "run",
        "--inbox",
        str(SAMPLES / "inbox"),
        "--out",
        str(out),
        "--period",
        "2026-11",
        "--policy",
        str(SAMPLES / "policy.toml"),
        "--keep-inbox",
    ]
    return CliRunner().invoke(cli, arguments, catch_exceptions=False)


@pytest.fixture(scope="session")
def specs() -> dict[str, FormSpec]:
    return load_specs()


@pytest.fixture(scope="session")
def policy(specs: dict[str, FormSpec]) -> Policy:
    return load_policy(SAMPLES / "policy.toml", specs)
