"""Notes dropped as JSON files in folders, one folder per source: the worked pull example.

A kiosk (or any program) writes ``<folder>/<source>/<name>.json`` holding ``{"id", "phone",
"text", "written_at"}``. The connector only reads the next page after a cursor (the last file
name); the framework runs one loop per source under a lease, stores each page, then moves the
cursor, so a crash in between reads the page again and the idempotency key (the note's ``id``)
makes that harmless.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import orjson
from pydantic import Field

from connectors.base import (
    AnomalousPayload,
    Connector,
    ConnectorConfig,
    ConnectorNotReady,
    ConnectorSpec,
    FetchResult,
    NormalizedMessage,
    PullInbound,
    RawMessage,
    Reporter,
)

CHANNEL = "example_folder"
EVENT = "note"
PAGE_SIZE = 2


class ExampleFolderConfig(ConnectorConfig):
    folder: Path
    """The folder holding one subfolder per source."""
    sources: list[str] = Field(default_factory=lambda: ["default"], min_length=1)


class ExampleFolder(Connector[ExampleFolderConfig], PullInbound):
    spec = ConnectorSpec(
        name=CHANNEL,
        display_name="Folder of notes (example)",
        roles=frozenset({"pull"}),
        event_types=frozenset({EVENT}),
    )
    config_model = ExampleFolderConfig
    poll_interval_seconds: ClassVar[float] = 5.0

    def pull_sources(self) -> Sequence[str]:
        return self.config.sources

    async def fetch(self, source: str, cursor: str | None) -> FetchResult:
        return await asyncio.to_thread(self._page, self.config.folder / source, cursor)  # disk I/O off the loop

    def _page(self, folder: Path, cursor: str | None) -> FetchResult:
        if not folder.is_dir():
            raise ConnectorNotReady(f"{folder} is not there")
        waiting = sorted(p.name for p in folder.glob("*.json") if cursor is None or p.name > cursor)
        page = waiting[:PAGE_SIZE]
        messages = [_raw(folder / name) for name in page]
        return FetchResult(
            messages, page[-1] if page else cursor, more=len(waiting) > PAGE_SIZE, behind=len(waiting) - len(page)
        )

    def parse(self, raw_id: int, raw: RawMessage) -> NormalizedMessage:
        note: dict[str, Any] = orjson.loads(raw.payload)
        try:
            return NormalizedMessage(
                channel=CHANNEL,
                channel_message_id=raw.external_id,
                raw_message_id=raw_id,
                conversation_key=f"{CHANNEL}:{note['phone']}",
                reporter=Reporter(phone_raw=note["phone"]),
                text=note["text"],
                received_at=datetime.fromisoformat(note["written_at"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AnomalousPayload(f"note: {exc}") from None


def _raw(path: Path) -> RawMessage:
    """The file as it is; its ``id`` is the key, so a renamed copy is still the same note."""
    payload = path.read_bytes()
    try:
        note_id = str(orjson.loads(payload)["id"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        note_id = f"file:{path.name}"  # kept all the same; the parser parks it as anomalous
    return RawMessage(
        channel=CHANNEL,
        external_id=note_id,
        received_at=datetime.now(UTC),
        content_type="application/json",
        payload=payload,
        headers={"x-satupintu-event": EVENT},
    )


CONNECTOR = ExampleFolder
