"""The ledger: what was received and processed, when, with which result — in SQLite (standard library).

It makes runs idempotent (a file is known by the SHA-256 of its bytes), keeps each period's accepted
rows so rules can look at earlier months, remembers where each email attachment came from, which
replies were sent, and which IDs are barred from aid. The schema is created and migrated here, with a
version number in `meta`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from json.encoder import encode_basestring  # C, as the encoder uses with ensure_ascii=False
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .privacy import make_private
from .records import MailOrigin, column_lists

if TYPE_CHECKING:
    import pandas as pd

    from .spec import Reference

SCHEMA_VERSION = 5
MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE submissions (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        original_name TEXT NOT NULL,
        stored_path TEXT NOT NULL,
        period TEXT NOT NULL,
        arrived TEXT NOT NULL,
        sender TEXT,
        subject TEXT,
        message_id TEXT,
        unit TEXT,
        kind TEXT,
        status TEXT NOT NULL,
        replaced_by TEXT,
        errors INTEGER NOT NULL,
        warnings INTEGER NOT NULL,
        processed TEXT NOT NULL
    );
    CREATE INDEX submissions_period ON submissions (period, kind);
    CREATE TABLE rows (
        submission_id INTEGER NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
        row_number INTEGER NOT NULL,
        person_key TEXT,
        data TEXT NOT NULL,
        PRIMARY KEY (submission_id, row_number)
    );
    CREATE INDEX rows_person ON rows (person_key);
    CREATE TABLE mail (
        sha256 TEXT PRIMARY KEY,
        saved_name TEXT NOT NULL,
        sender TEXT NOT NULL,
        subject TEXT,
        date TEXT,
        message_id TEXT
    );
    CREATE TABLE replies (
        submission_sha256 TEXT PRIMARY KEY,
        to_address TEXT NOT NULL,
        eml_path TEXT NOT NULL,
        sent_at TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
    );
    CREATE TABLE barred (
        id_number TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        added TEXT NOT NULL
    );
    """,
    # arrival = when an inbox entry was first seen as it is; moves planned and not yet done; .eml files opened
    2: """
    CREATE TABLE sightings (
        inbox TEXT NOT NULL,
        name TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        first_seen TEXT NOT NULL,
        PRIMARY KEY (inbox, name, size, mtime_ns)
    );
    CREATE TABLE moves (
        source TEXT PRIMARY KEY,
        target TEXT NOT NULL UNIQUE,
        sha256 TEXT NOT NULL,
        keep_source INTEGER NOT NULL
    );
    CREATE TABLE unpacked (
        sha256 TEXT PRIMARY KEY,
        eml_name TEXT NOT NULL,
        first_seen TEXT NOT NULL
    );
    """,
    # what each reply told the unit: a later run compares with it, whatever was recorded before a kill
    3: """
    ALTER TABLE replies ADD COLUMN told_status TEXT;
    """,
    # the office's files a submission's rows were checked against (困难职工档案), by content
    4: """
    ALTER TABLE submissions ADD COLUMN checked_against TEXT;
    CREATE TABLE reference_files (
        sha256 TEXT PRIMARY KEY,
        label TEXT NOT NULL,
        path TEXT NOT NULL,
        entries INTEGER NOT NULL,
        first_used TEXT NOT NULL
    );
    """,
    # each reminder written to a unit about a form, by day: `remind --due` writes at most one a day
    5: """
    CREATE TABLE reminders (
        period TEXT NOT NULL,
        kind TEXT NOT NULL,
        unit TEXT NOT NULL,
        day TEXT NOT NULL,
        status TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        PRIMARY KEY (period, kind, unit, day)
    );
    """,
}


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Submission:
    sha256: str
    original_name: str
    stored_path: str
    period: str
    arrived: str
    sender: str | None
    subject: str | None
    message_id: str | None
    unit: str | None
    kind: str | None
    status: str
    replaced_by: str | None
    errors: int
    warnings: int
    checked_against: str | None = None  # SHA-256 of the reference file (困难职工档案) its rows were checked against


class Ledger:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        make_private(path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm"))  # IDs inside
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA journal_mode = WAL")
        self._migrate()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _migrate(self) -> None:
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = int(row["value"]) if row else 0
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self.transaction():
                for statement in _statements(MIGRATIONS[target]):
                    self.db.execute(statement)
                self.db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(target),))

    @property
    def version(self) -> int:
        return int(self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()["value"])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # ---- submissions -----------------------------------------------------------------------

    def by_hash(self, sha256: str) -> Submission | None:
        row = self.db.execute("SELECT * FROM submissions WHERE sha256 = ?", (sha256,)).fetchone()
        return _submission(row) if row else None

    def period_submissions(self, period: str) -> list[Submission]:
        rows = self.db.execute("SELECT * FROM submissions WHERE period = ? ORDER BY id", (period,))
        return [_submission(row) for row in rows]

    def record(self, submission: Submission, rows: Iterable[tuple[int, str | None, str]]) -> None:
        """Insert or update one submission and replace its stored rows (Excel row, person key, `row_texts`).
        Call inside `transaction()`."""
        now = dt.datetime.now().isoformat(timespec="seconds")
        values = {**submission.__dict__, "processed": now}
        self.db.execute(
            f"INSERT INTO submissions ({', '.join(values)}) VALUES ({', '.join('?' * len(values))}) "
            "ON CONFLICT (sha256) DO UPDATE SET "
            + ", ".join(f"{key} = excluded.{key}" for key in values if key not in ("sha256", "arrived")),
            tuple(values.values()),
        )
        submission_id = self.db.execute("SELECT id FROM submissions WHERE sha256 = ?", (submission.sha256,)).fetchone()[
            0
        ]
        self.db.execute("DELETE FROM rows WHERE submission_id = ?", (submission_id,))
        self.db.executemany(
            "INSERT INTO rows VALUES (?, ?, ?, ?)",
            ((submission_id, number, key, data) for number, key, data in rows),
        )

    def remember_reference(self, reference: Reference) -> None:
        """The reference file a submission was checked against, kept by its SHA-256 (the first time it was used)."""
        self.db.execute(
            "INSERT OR IGNORE INTO reference_files VALUES (?, ?, ?, ?, ?)",
            (
                reference.sha256,
                reference.label,
                str(reference.path),
                reference.entries,
                dt.datetime.now().isoformat(timespec="seconds"),
            ),
        )

    def history(self, kind: str, person_keys: Iterable[str]) -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
        """person key → (period, unit, row) for each of their rows in current accepted submissions of `kind`;
        one query per 500 keys (a query per person cost seconds on a city's batch)."""
        found: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
        keys = sorted(set(person_keys))
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            rows = self.db.execute(
                "SELECT r.person_key, s.period, s.unit, r.data FROM rows r JOIN submissions s ON s.id = r.submission_id "
                f"WHERE r.person_key IN ({','.join('?' * len(chunk))}) AND s.kind = ? AND s.status != 'rejected' "
                "AND s.replaced_by IS NULL ORDER BY s.period",
                (*chunk, kind),
            )
            for row in rows:
                found.setdefault(row["person_key"], []).append((row["period"], row["unit"], json.loads(row["data"])))
        return found

    # ---- mail ------------------------------------------------------------------------------

    def remember_mail(self, sha256: str, saved_name: str, origin: MailOrigin) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO mail VALUES (?, ?, ?, ?, ?, ?)",
            (sha256, saved_name, origin.sender, origin.subject, origin.date, origin.message_id),
        )

    def mail_origin(self, sha256: str) -> MailOrigin | None:
        row = self.db.execute("SELECT * FROM mail WHERE sha256 = ?", (sha256,)).fetchone()
        return MailOrigin(row["sender"], row["subject"], row["date"], row["message_id"]) if row else None

    # ---- replies ---------------------------------------------------------------------------

    def queue_reply(self, sha256: str, to_address: str, eml_path: str, told_status: str | None = None) -> bool:
        """Queue a reply once per key (a submission's SHA-256, or SHA-256:status for a mail saying its result
        changed), with the status it tells; False if it was already queued (or sent)."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO replies (submission_sha256, to_address, eml_path, told_status) VALUES (?, ?, ?, ?)",
            (sha256, to_address, eml_path, told_status),
        )
        return cursor.rowcount == 1

    def last_told(self, sha256: str) -> str | None:
        """The status the latest reply about this submission told its unit; None when none was queued. A reply
        queued before told statuses were kept tells its key's status, or (the first reply) the recorded one."""
        row = self.db.execute(
            "SELECT submission_sha256, told_status FROM replies WHERE submission_sha256 = ? OR "
            "submission_sha256 LIKE ? ORDER BY rowid DESC LIMIT 1",
            (sha256, f"{sha256}:%"),
        ).fetchone()
        if row is None:
            return None
        if row["told_status"] is not None:
            return str(row["told_status"])
        key = str(row["submission_sha256"])
        if ":" in key:
            return key.partition(":")[2]
        known = self.by_hash(sha256)
        return known.status if known else None

    def reply_queued(self, sha256: str) -> bool:
        return self.db.execute("SELECT 1 FROM replies WHERE submission_sha256 = ?", (sha256,)).fetchone() is not None

    def pending_replies(self) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT * FROM replies WHERE sent_at IS NULL ORDER BY rowid"))

    def mark_sent(self, sha256: str) -> None:
        self.db.execute(
            "UPDATE replies SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE submission_sha256 = ?",
            (dt.datetime.now().isoformat(timespec="seconds"), sha256),
        )

    def mark_failed(self, sha256: str, error: str) -> None:
        self.db.execute(
            "UPDATE replies SET attempts = attempts + 1, last_error = ? WHERE submission_sha256 = ?", (error, sha256)
        )

    # ---- arrivals, planned moves, opened .eml files ------------------------------------------

    def sightings(
        self, inbox: Path, entries: Iterable[tuple[str, int, int]], now: dt.datetime
    ) -> dict[str, dt.datetime]:
        """name → when the entry (name, size, mtime) was first seen in `inbox`; entries seen for the first time get
        `now`. Rows of entries no longer there are dropped: a file that comes back later arrives again."""
        folder, seen = str(inbox.resolve()), now.isoformat(timespec="seconds")
        current = {(name, size, mtime) for name, size, mtime in entries}
        with self.transaction():
            known = self.db.execute("SELECT name, size, mtime_ns FROM sightings WHERE inbox = ?", (folder,))
            stale = [tuple(row) for row in known if tuple(row) not in current]
            self.db.executemany(
                "DELETE FROM sightings WHERE inbox = ? AND name = ? AND size = ? AND mtime_ns = ?",
                ((folder, *row) for row in stale),
            )
            self.db.executemany(
                "INSERT OR IGNORE INTO sightings VALUES (?, ?, ?, ?, ?)", ((folder, *row, seen) for row in current)
            )
            rows = self.db.execute("SELECT name, size, mtime_ns, first_seen FROM sightings WHERE inbox = ?", (folder,))
            return {
                row["name"]: dt.datetime.fromisoformat(row["first_seen"])
                for row in rows
                if (row["name"], row["size"], row["mtime_ns"]) in current
            }

    def stored_paths(self) -> set[str]:
        """Every path a submission was given (relative to OUT), moved there yet or not: reserved names."""
        return {row[0] for row in self.db.execute("SELECT stored_path FROM submissions")}

    def plan_moves(self, moves: Iterable[tuple[Path, Path, str, bool]], within_transaction: bool = False) -> None:
        """(source, target, SHA-256, keep the source) to carry out; a run that stops before they are done leaves
        them to the next (`pending_moves`). A target is never planned twice."""
        rows = [(str(source), str(target), sha, int(keep)) for source, target, sha, keep in moves]
        if within_transaction:
            self.db.executemany("INSERT INTO moves VALUES (?, ?, ?, ?)", rows)
            return
        with self.transaction():
            self.db.executemany("INSERT INTO moves VALUES (?, ?, ?, ?)", rows)

    def pending_moves(self) -> list[tuple[Path, Path, str, bool]]:
        rows = self.db.execute("SELECT * FROM moves ORDER BY rowid")
        return [(Path(row["source"]), Path(row["target"]), row["sha256"], bool(row["keep_source"])) for row in rows]

    def planned_targets(self) -> set[Path]:
        return {Path(row[0]) for row in self.db.execute("SELECT target FROM moves")}

    def move_done(self, source: Path, target: Path, placed: Path, out: Path) -> None:
        """The move from `source` is done; it went to `placed` (a free name) if `target` was taken after all."""
        self.moves_done([(source, target, placed)], out)

    def moves_done(self, moves: Iterable[tuple[Path, Path, Path]], out: Path) -> None:
        """`move_done` for each (source, target, placed), in one transaction."""
        with self.transaction():
            for source, target, placed in moves:
                if placed != target and placed.is_relative_to(out) and target.is_relative_to(out):
                    self.db.execute(
                        "UPDATE submissions SET stored_path = ? WHERE stored_path = ?",
                        (str(placed.relative_to(out)), str(target.relative_to(out))),
                    )
                self.db.execute("DELETE FROM moves WHERE source = ?", (str(source),))

    def mark_unpacked(self, sha256: str, eml_name: str, first_seen: dt.datetime) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO unpacked VALUES (?, ?, ?)",
            (sha256, eml_name, first_seen.isoformat(timespec="seconds")),
        )

    def unpacked(self, sha256: str) -> dt.datetime | None:
        """When the .eml with these bytes was first seen, if its attachments were saved already."""
        row = self.db.execute("SELECT first_seen FROM unpacked WHERE sha256 = ?", (sha256,)).fetchone()
        return dt.datetime.fromisoformat(row[0]) if row else None

    # ---- reminders -------------------------------------------------------------------------

    def reminded(self, period: str, kind: str, unit: str, day: dt.date) -> bool:
        """True when a reminder about `kind` went to `unit` on `day`."""
        row = self.db.execute(
            "SELECT 1 FROM reminders WHERE period = ? AND kind = ? AND unit = ? AND day = ?",
            (period, kind, unit, day.isoformat()),
        ).fetchone()
        return row is not None

    def remember_reminder(self, period: str, kind: str, unit: str, status: str, sent: dt.datetime) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO reminders VALUES (?, ?, ?, ?, ?, ?)",
            (period, kind, unit, sent.date().isoformat(), status, sent.isoformat(timespec="seconds")),
        )

    # ---- barred IDs ------------------------------------------------------------------------

    def bar(self, id_number: str, reason: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO barred VALUES (?, ?, ?)", (id_number, reason, dt.date.today().isoformat())
        )

    def processed_times(self, period: str) -> dict[str, str]:
        """SHA-256 → when each submission of the period was last recorded."""
        rows = self.db.execute("SELECT sha256, processed FROM submissions WHERE period = ?", (period,))
        return {row[0]: row[1] for row in rows}

    def has_earlier(self, kind: str, period: str) -> bool:
        """Whether any submission of `kind` was recorded for a period before `period`."""
        found = self.db.execute("SELECT 1 FROM submissions WHERE kind = ? AND period < ? LIMIT 1", (kind, period))
        return found.fetchone() is not None

    def earlier_submissions(self, kind: str, period: str) -> list[tuple[str, ...]]:
        """(SHA-256, period, unit, status, replaced_by, processed) of each submission of `kind` before `period`:
        what a summary or a rule that reads earlier periods depends on (`processed` changes whenever its rows are
        recorded again)."""
        rows = self.db.execute(
            "SELECT sha256, period, unit, status, replaced_by, processed FROM submissions WHERE kind = ? AND period < ? "
            "ORDER BY sha256",
            (kind, period),
        )
        return [tuple(row) for row in rows]

    def barred(self) -> dict[str, str]:
        return {row["id_number"]: row["reason"] for row in self.db.execute("SELECT * FROM barred")}


# Decimal, dates and anything else not JSON become their str; json.dumps would build an encoder per call
_VALUE_JSON = json.JSONEncoder(ensure_ascii=False, default=str).encode


def _statements(script: str) -> list[str]:
    return [statement.strip() for statement in script.split(";") if statement.strip()]


def _submission(row: sqlite3.Row) -> Submission:
    return Submission(**{key: row[key] for key in Submission.__dataclass_fields__})


def row_texts(frame: pd.DataFrame) -> list[str]:
    """Each row of a sheet's frame as the JSON object the ledger keeps: blanks left out, amounts as strings.

    Built a column at a time (a row's text is its cells' texts joined): a third of the time of a
    dict and an encoder call per row; `tests/test_ledger.py` holds it to exactly what json.dumps writes."""
    columns = [_column_texts(key, values) for key, values in column_lists(frame).items()]
    return ["{" + ", ".join(filter(None, cells)) + "}" for cells in zip(*columns, strict=True)]


def _column_texts(key: str, values: list[Any]) -> list[str]:
    name = encode_basestring(key) + ": "
    quoted = name + '"'
    # the encoder's default=str for Decimal, without its slow path; a call for the rarer values alone
    return [
        name + encode_basestring(value)
        if (kind := type(value)) is str
        else ""
        if value is None
        else quoted + str(value) + '"'
        if kind is Decimal
        else name + _VALUE_JSON(value)
        for value in values
    ]
