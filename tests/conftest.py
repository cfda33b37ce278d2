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


# the quick-start's earlier months (促进就业 reports, cumulative: each month is checked against the one before)
EARLIER_PERIODS = ("2026-09", "2026-10")


def run_sample_period(out: Path, period: str, inbox: Path) -> Result:
    """One of the README's quick-start commands: `inbox` as `period` (inputs kept in place), into `out`."""
    from process import cli

    arguments = ["run", "--inbox", str(inbox), "--out", str(out), "--period", period]
    arguments += ["--policy", str(SAMPLES / "policy.toml"), "--keep-inbox"]
    return CliRunner().invoke(cli, arguments, catch_exceptions=False)


def run_earlier_samples(out: Path) -> list[Result]:
    """The quick-start's first commands: samples/earlier/2026-09 and 2026-10, each as its period."""
    return [run_sample_period(out, period, SAMPLES / "earlier" / period) for period in EARLIER_PERIODS]


def run_samples(out: Path, earlier: bool = True) -> Result:
    """The README's quick-start into `out`: the earlier months (unless already run), then its main command on
    samples/inbox as 2026-11; the main command's result."""
    if earlier:
        run_earlier_samples(out)
    return run_sample_period(out, "2026-11", SAMPLES / "inbox")


@pytest.fixture(scope="session")
def specs() -> dict[str, FormSpec]:
    return load_specs()


def policy_without_register(folder: Path) -> Path:
    """A copy of samples/policy.toml in `folder` without its 困难职工档案 (`[relief] registry`): its numbers, for tests
    whose 慰问名单 list people of their own, whom the samples' register does not hold."""
    text = (SAMPLES / "policy.toml").read_text(encoding="utf-8")
    assert "\nregistry = " in text
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "policy.toml"
    path.write_text(text.replace("\nregistry = ", "\n# registry = "), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def policy(specs: dict[str, FormSpec], tmp_path_factory: pytest.TempPathFactory) -> Policy:
    """samples/policy.toml's numbers, without its register (see policy_without_register)."""
    return load_policy(policy_without_register(tmp_path_factory.mktemp("policy")), specs)
