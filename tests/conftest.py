from __future__ import annotations

from pathlib import Path

import pytest

from unionbatch.policy import Policy, load_policy
from unionbatch.spec import FormSpec, load_specs

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
CORPUS = ROOT.parent / "shared" / "corpus" / "sheetjs"  # CI clones the project with shared/ beside it


@pytest.fixture(scope="session")
def specs() -> dict[str, FormSpec]:
    return load_specs()


@pytest.fixture(scope="session")
def policy(specs: dict[str, FormSpec]) -> Policy:
    return load_policy(SAMPLES / "policy.toml", specs)
