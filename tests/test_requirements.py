"""requirements.txt is what the program needs; requirements-dev.txt adds what only tests and checks use. The program
runs with every development package made unimportable."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==[0-9][^\s]*$")

# Installed by sys.meta_path's first finder, any import of a blocked top-level module fails as if it were missing.
BLOCKER = """
import sys
BLOCKED = set(sys.argv.pop(1).split(","))
class DevelopmentOnly:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"{name} is only for development", name=name)
        return None
sys.meta_path.insert(0, DevelopmentOnly())
for name in BLOCKED:
    try:
        __import__(name)
    except ImportError:
        continue
    raise SystemExit(f"the blocker let {name} through")
import runpy
sys.argv[0] = "process.py"
runpy.run_path("process.py", run_name="__main__")
"""


def _name(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def _pinned(path: Path) -> list[str]:
    """The distributions a requirements file lists, each of which must be pinned as `name==version`."""
    names = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line == "-r requirements.txt":
            continue
        match = PIN.match(line)
        assert match, f"{path.name}: {line!r} is not pinned as name==version"
        names.append(_name(match[1]))
    return names


def _development_modules() -> set[str]:
    """The top-level modules of the packages only requirements-dev.txt lists."""
    modules_of: dict[str, set[str]] = defaultdict(set)
    for module, distributions in packages_distributions().items():
        for distribution in distributions:
            modules_of[_name(distribution)].add(module)
    development = _pinned(ROOT / "requirements-dev.txt")
    assert {"pytest", "hypothesis", "ruff", "aiosmtpd", "msoffcrypto-tool"} <= set(development)
    modules = set()
    for distribution in development:
        assert modules_of[distribution], f"{distribution} is not installed"
        modules |= modules_of[distribution]
    return modules


def test_runtime_and_development_requirements_are_apart_and_pinned() -> None:
    runtime, development = _pinned(ROOT / "requirements.txt"), _pinned(ROOT / "requirements-dev.txt")
    assert "-r requirements.txt" in (ROOT / "requirements-dev.txt").read_text(encoding="utf-8").splitlines()
    assert not set(runtime) & set(development)
    assert {"xlsxwriter", "pandas", "openpyxl", "click"} <= set(runtime)
    assert "pip install -q --disable-pip-version-check -r requirements-dev.txt" in (ROOT / ".ci" / "run").read_text()


def test_the_sample_batch_runs_without_any_development_package(tmp_path: Path) -> None:
    """The README's first command with pytest, hypothesis, ruff, aiosmtpd, msoffcrypto and pillow unimportable:
    pandera's optional hypothesis and openpyxl's optional pillow are looked for and done without."""
    blocked = _development_modules()
    assert {"pytest", "hypothesis", "PIL", "msoffcrypto"} <= blocked
    out = tmp_path / "out"
    arguments = ["--inbox", str(ROOT / "samples" / "inbox"), "--out", str(out), "--period", "2026-11"]
    arguments += ["--policy", str(ROOT / "samples" / "policy.toml"), "--keep-inbox"]
    done = subprocess.run(
        [sys.executable, "-c", BLOCKER, ",".join(sorted(blocked)), "run", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr[-3000:]  # 1: the samples hold files with findings; a crash exits 2
    folder = out / "2026-11"
    for output in ("处理报告.xlsx", "report.json", "慰问名单汇总.xlsx", "报送情况.html"):
        assert (folder / output).is_file(), output
    assert "Traceback" not in done.stderr
