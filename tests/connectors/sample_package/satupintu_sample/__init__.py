"""Two small connectors from "another package", found through the entry-point group.

``sample_poll`` pulls JSON files from a folder (the cursor is the last file name) and
``sample_import`` reads a CSV; both send replies (a stand-in provider id: there is no provider).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.base import (
    Connector,
    ConnectorConfig,
    ConnectorNotReady,
    ConnectorSpec,
    FetchResult,
    ImportInbound,
    ImportRow,
    NormalizedMessage,
    Outbound,
    OutboundMessage,
    PullInbound,
    RawMessage,
    RejectedRow,
    Reporter,
    SendResult,
)

RECEIVED = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def _parse(channel: str, raw_id: int, raw: RawMessage) -> NormalizedMessage:
    record: dict[str, Any] = json.loads(raw.payload)
    return NormalizedMessage(
        channel=channel,
        channel_message_id=raw.external_id,
        raw_message_id=raw_id,
        conversation_key=f"{channel}:{record['phone']}",
        reporter=Reporter(phone_raw=record["phone"]),
        text=record["text"],
        received_at=raw.received_at,
    )


class FolderConfig(ConnectorConfig):
    folder: Path


class SamplePoll(Connector[FolderConfig], PullInbound, Outbound):
    spec = ConnectorSpec(
        name="sample_poll",
        display_name="Sample folder",
        roles=frozenset({"pull", "send"}),
        event_types=frozenset({"note"}),
    )
    config_model = FolderConfig
    poll_interval_seconds = 0.05

    async def fetch(self, source: str, cursor: str | None) -> FetchResult:
        if not self.config.folder.is_dir():
            raise ConnectorNotReady(f"{self.config.folder} is not there")
        names = sorted(p.name for p in self.config.folder.glob("*.json") if cursor is None or p.name > cursor)[:2]
        messages = [
            RawMessage(
                channel="sample_poll",
                external_id=name,
                received_at=RECEIVED,
                content_type="application/json",
                payload=(self.config.folder / name).read_bytes(),
            )
            for name in names
        ]
        return FetchResult(messages, names[-1] if names else cursor, more=len(names) == 2)

    def parse(self, raw_id: int, raw: RawMessage) -> NormalizedMessage | None:
        return _parse("sample_poll", raw_id, raw)

    async def send(self, message: OutboundMessage) -> SendResult:
        return SendResult(f"sample-poll:{message.outbox_id}")


class SampleImport(Connector[ConnectorConfig], ImportInbound, Outbound):
    spec = ConnectorSpec(
        name="sample_import",
        display_name="Sample sheet",
        roles=frozenset({"import", "send"}),
        event_types=frozenset({"row"}),
    )

    def read_import(self, source: Path) -> Iterator[ImportRow | RejectedRow]:
        with source.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                if not row.get("phone"):
                    yield RejectedRow(reader.line_num, "no phone number", column="phone")
                    continue
                message = RawMessage(
                    channel="sample_import",
                    external_id=f"{source.name}:{row['id']}",
                    received_at=RECEIVED,
                    content_type="application/json",
                    payload=json.dumps(row).encode(),
                )
                yield ImportRow(reader.line_num, message)

    def parse(self, raw_id: int, raw: RawMessage) -> NormalizedMessage | None:
        return _parse("sample_import", raw_id, raw)

    async def send(self, message: OutboundMessage) -> SendResult:
        return SendResult(f"sample-import:{message.outbox_id}")
