"""Property: over random batches (units, versions, people shared between units, rejected versions), every person
is counted once, on a counted version, and every printed total equals this test's own sum of the counted rows."""

from __future__ import annotations

import json
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factory import fill_template, make_people, with_changes
from tests.recalc import WORDS_COLUMN, evaluate_sums, read_values, sheet_problems, totals_row
from unionbatch.pipeline import run_batch

POOL = make_people(8, seed=91)
UNITS = ("甲工会", "乙工会", "丙工会")
version = st.tuples(st.lists(st.integers(0, len(POOL) - 1), min_size=1, max_size=4, unique=True), st.booleans())
batches = st.dictionaries(st.sampled_from(UNITS), st.lists(version, min_size=1, max_size=3), min_size=1)


def _write(inbox: Path, batch: dict[str, list[tuple[list[int], bool]]]) -> dict[str, list[int]]:
    """Each unit's versions, dated in order; a `bad` version has a phone number that rejects it. Returns
    file name → the pool people it lists."""
    listed = {}
    for unit, versions in batch.items():
        for number, (people, bad) in enumerate(versions, start=1):
            rows = [POOL[i] for i in people]
            if bad:
                rows[0] = with_changes(rows[0], phone="123")
            name = f"{unit}v{number}.xlsx"
            fill_template(inbox / name, unit, rows, date=f"2026-11-{number + 10}")
            listed[name] = people
    return listed


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches)
def test_every_person_counted_once_on_a_counted_version_and_every_total_is_the_sum(batch) -> None:
    with tempfile.TemporaryDirectory() as work:
        inbox = Path(work) / "inbox"
        listed = _write(inbox, batch)
        report = run_batch(inbox, Path(work) / "out", "2026-11", keep_inbox=True)
        files = {Path(entry["path"]).name: entry for entry in report.to_json()["files"]}
        counted = [name for name, entry in files.items() if entry["status"] in ("accepted", "accepted_with_warnings")]
        # a unit counts one version at most, and no later version of it was accepted
        units = [name.split("v")[0] for name in counted]
        assert len(units) == len(set(units))
        for name in counted:
            unit, number = name.split("v")[0], int(name.split("v")[1].split(".")[0])
            later = [f"{unit}v{n}.xlsx" for n in range(number + 1, len(batch[unit]) + 1)]
            assert all(files[other]["status"] == "rejected" for other in later), (name, later)
        # a counted person is listed by no other unit's file that still stands (counted or awaiting correction)
        standing = [name for name, entry in files.items() if entry["status"] != "replaced"]
        for name in counted:
            for other in standing:
                if other.split("v")[0] != name.split("v")[0]:
                    assert not set(listed[name]) & set(listed[other]), (name, other)
        people = [POOL[i] for name in counted for i in listed[name]]
        assert len({p.id_number for p in people}) == len(people)
        folder = report.folder
        if not people:
            return
        cash = sum((Decimal(p.amount) for p in people), Decimal(0))
        goods = sum((Decimal(p.goods) for p in people), Decimal(0))
        book = folder / "慰问名单汇总.xlsx"
        shown, again = read_values(book), evaluate_sums(book)
        for sheet in ("按单位汇总", "按类别汇总", "明细", "实名制发放表"):
            assert sheet_problems(shown[sheet], again[sheet], WORDS_COLUMN) == [], sheet
        totals = totals_row(again["实名制发放表"])
        assert (totals["慰问金额(元)"], totals["慰问物资折款(元)"]) == (cash, goods)
        detail = shown["明细"]
        ids = [row[detail[1].index("身份证号")] for row in detail[2:] if isinstance(row[0], float)]
        assert sorted(ids) == sorted(p.id_number for p in people)
        saved = json.loads((folder / "report.json").read_text(encoding="utf-8"))["totals"]["慰问名单"]
        assert (saved["households"], Decimal(saved["amount"]), Decimal(saved["goods"])) == (len(people), cash, goods)


def _repeated_by_walking(files: list[tuple[int, list[tuple[int, str]]]]) -> dict[str, list[tuple[int, int]]]:
    """The plain walk the vectorised pass replaces: every key's first place, then the keys seen again."""
    first: dict[str, tuple[int, int]] = {}
    seen: dict[str, list[tuple[int, int]]] = {}
    for at, keys in files:
        for row, value in keys:
            place = first.setdefault(value, (at, row))
            if place != (at, row):
                seen.setdefault(value, [place]).append((at, row))
    return seen


keyed_files = st.lists(
    st.tuples(st.integers(0, 40), st.lists(st.sampled_from("abcdefgh"), max_size=6)),
    max_size=8,
    unique_by=lambda f: f[0],
)


@settings(max_examples=200, deadline=None)
@given(keyed_files)
def test_repeated_keys_are_those_of_a_plain_walk_in_its_order(files) -> None:
    from unionbatch.crosscheck import _repeated_keys

    batch = [(at, [(row, value) for row, value in enumerate(values, start=4)]) for at, values in files]
    found = _repeated_keys(batch)
    expected = _repeated_by_walking(batch)
    assert list(found.items()) == list(expected.items())
