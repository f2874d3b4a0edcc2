"""A phone log kept as a CSV sheet by the front desk: the worked import example.

Columns: ``called_at`` (ISO 8601 with offset), ``phone``, ``name`` (may be empty), ``text``. The
connector reads the file and says, row by row, what each record is or why it cannot be taken; the
framework stores, reports and refuses oversized files. A record's id comes from its content, so
importing next month's export, which repeats the last days of this one, adds nothing twice.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from connectors.base import (
    AnomalousPayload,
    Connector,
    ConnectorConfig,
    ConnectorSpec,
    ImportInbound,
    ImportRow,
    NormalizedMessage,
    RawMessage,
    RejectedRow,
    Reporter,
)

CHANNEL = "example_calllog"
EVENT = "call"
COLUMNS = ("called_at", "phone", "name", "text")


class ExampleCallLog(Connector[ConnectorConfig], ImportInbound):
    spec = ConnectorSpec(
        name=CHANNEL,
        display_name="Phone log sheet (example)",
        roles=frozenset({"import"}),
        event_types=frozenset({EVENT}),
    )

    def read_import(self, source: Path) -> Iterator[ImportRow | RejectedRow]:
        with source.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                yield RejectedRow(1, f"the header lacks {', '.join(missing)}")
                return
            for record in reader:
                yield _row(reader.line_num, record)

    def parse(self, raw_id: int, raw: RawMessage) -> NormalizedMessage:
        record: dict[str, Any] = orjson.loads(raw.payload)
        try:
            return NormalizedMessage(
                channel=CHANNEL,
                channel_message_id=raw.external_id,
                raw_message_id=raw_id,
                conversation_key=f"{CHANNEL}:{record['phone']}",
                reporter=Reporter(name=record["name"] or None, phone_raw=record["phone"]),
                text=record["text"],
                received_at=datetime.fromisoformat(record["called_at"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AnomalousPayload(f"call: {exc}") from None


def _row(line: int, record: dict[str, str]) -> ImportRow | RejectedRow:
    """One record, checked before it is stored: what a bad row lacks is said with its column."""
    values = {c: (record.get(c) or "").strip() for c in COLUMNS}
    for column in ("phone", "text"):
        if not values[column]:
            return RejectedRow(line, f"{column} is empty", column=column)
    try:
        called_at = datetime.fromisoformat(values["called_at"])
    except ValueError:
        return RejectedRow(line, "not a time like 2026-11-23T08:30:00+08:00", column="called_at")
    if called_at.tzinfo is None:
        return RejectedRow(line, "the time has no offset (+08:00)", column="called_at")
    key = hashlib.sha256("\x1f".join(values[c] for c in ("called_at", "phone", "text")).encode()).hexdigest()[:32]
    message = RawMessage(
        channel=CHANNEL,
        external_id=f"call:{key}",
        received_at=datetime.now(UTC),
        content_type="application/json",
        payload=orjson.dumps(values),
        headers={"x-satupintu-event": EVENT},
    )
    return ImportRow(line, message)


CONNECTOR = ExampleCallLog
