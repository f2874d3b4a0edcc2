"""Imports: the framework's side of an importing connector (phone logs, walk-in sheets, LAPOR!).

The connector only reads the file and says, row by row, what each record is or why it cannot be
taken. The framework refuses a file over the limits before reading it, stores the accepted rows in
batches, and reports every row: accepted, already imported (the raw message's idempotency key is
the ledger, so importing an overlapping export adds nothing), or rejected with where and why. A
bad row never stops the others; a reader that breaks mid-file is a rejection at that line, and
the rows before it are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError

from config.settings import ImportSettings
from connectors.base import ImportInbound, ImportRow, RejectedRow
from envelopes import RawMessage, Stored, work_items
from pipeline.queues import Publisher
from storage.db import transaction
from storage.raw import insert_raw_messages
from storage.sweeps import leave_to_sweeper

IMPORT_BATCH = 500

Outcome = Literal["accepted", "already_imported", "rejected"]


class ImportRefused(Exception):
    """The file cannot be imported at all (missing, too large, too many rows): nothing was stored."""


@dataclass(frozen=True, slots=True)
class RowReport:
    line: int
    outcome: Outcome
    sheet: str | None = None
    column: str | None = None
    reason: str | None = None
    raw_message_id: int | None = None


@dataclass(slots=True)
class ImportReport:
    channel: str
    source: str
    rows: list[RowReport] = field(default_factory=list)

    @property
    def totals(self) -> dict[Outcome, int]:
        counts: dict[Outcome, int] = {"accepted": 0, "already_imported": 0, "rejected": 0}
        for row in self.rows:
            counts[row.outcome] += 1
        return counts

    @property
    def rejected(self) -> list[RowReport]:
        return [row for row in self.rows if row.outcome == "rejected"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "source": self.source,
            "totals": self.totals,
            "rows": [asdict(row) for row in self.rows],
        }


def check_limits(source: Path, limits: ImportSettings) -> None:
    """Refuse a file that is missing or too large before a byte of it is read."""
    if not source.is_file():
        raise ImportRefused(f"{source}: no such file")
    size = source.stat().st_size
    if size > limits.max_bytes:
        raise ImportRefused(f"{source}: {size} bytes is more than imports.max_bytes ({limits.max_bytes})")


def read_rows(connector: ImportInbound, source: Path, limits: ImportSettings) -> list[ImportRow | RejectedRow]:
    """Every row of the file, read before anything is stored, so a file with too many rows is
    refused whole. A reader that raises is reported as a rejection at the line after the last row."""
    check_limits(source, limits)
    rows: list[ImportRow | RejectedRow] = []
    reader = connector.read_import(source)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except Exception as exc:  # noqa: BLE001 - the reader's failure is reported, the rows before it kept
            line = rows[-1].line + 1 if rows else 1
            sheet = rows[-1].sheet if rows else None
            rows.append(RejectedRow(line, f"the file cannot be read from here on: {exc}", sheet=sheet))
            break
        rows.append(row)
        if len(rows) > limits.max_rows:
            raise ImportRefused(f"{source}: more than imports.max_rows ({limits.max_rows}) rows; split the file")
    return rows


def store_rows(
    channel: str,
    source: Path,
    rows: Sequence[ImportRow | RejectedRow],
    engine: Engine,
    publisher: Publisher | None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Store the accepted rows in batches and report every row in file order.

    Without a ``publisher`` (the queue lives inside another process) the new rows are left to the
    running pipeline's next sweep.
    """
    report = ImportReport(channel, str(source))
    for batch in _batches(rows, IMPORT_BATCH):
        accepted = [row for row in batch if isinstance(row, ImportRow)]
        outcomes = dict(zip(map(id, accepted), _store(accepted, engine, publisher), strict=True))
        for row in batch:
            if isinstance(row, RejectedRow):
                report.rows.append(RowReport(row.line, "rejected", row.sheet, row.column, row.reason))
            else:
                report.rows.append(outcomes[id(row)])
        if progress is not None:
            progress(len(batch))
    return report


def store_message(message: RawMessage, engine: Engine, publisher: Publisher | None) -> RowReport:
    """One record an officer typed at the desk (a visitor, a letter): stored and queued exactly as
    an imported row is, so the pipeline makes its case; registering it again adds nothing."""
    return _store([ImportRow(1, message)], engine, publisher)[0]


def _store(rows: list[ImportRow], engine: Engine, publisher: Publisher | None) -> list[RowReport]:
    """One transaction for the batch; if the database refuses it (a value PostgreSQL cannot hold),
    each row on its own, so only the offending rows are rejected."""
    if not rows:
        return []
    try:
        return _commit(rows, engine, publisher)
    except (DataError, IntegrityError):
        if len(rows) == 1:
            row = rows[0]
            return [RowReport(row.line, "rejected", row.sheet, reason="the database refused the record")]
        return [report for row in rows for report in _store([row], engine, publisher)]


def _commit(rows: list[ImportRow], engine: Engine, publisher: Publisher | None) -> list[RowReport]:
    with transaction(engine) as connection:
        stored = insert_raw_messages(connection, [row.message for row in rows])
        fresh = [(s.id, row.message.channel) for s, row in zip(stored, rows, strict=True) if s.created]
        if publisher is None:
            leave_to_sweeper(connection, [raw_id for raw_id, _ in fresh])
    if publisher is not None and fresh:
        publisher.publish(work_items("normalize", "raw_message", fresh))
    return [_row_report(row, outcome) for row, outcome in zip(rows, stored, strict=True)]


def _row_report(row: ImportRow, stored: Stored) -> RowReport:
    outcome: Outcome = "accepted" if stored.created else "already_imported"
    return RowReport(row.line, outcome, row.sheet, raw_message_id=stored.id)


def _batches(rows: Iterable[ImportRow | RejectedRow], size: int) -> Iterator[list[ImportRow | RejectedRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch
