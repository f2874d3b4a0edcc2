"""Small connectors for the framework's pull, import and media tests, installed the way another
package's would be: an entry point in a dist-info folder put on the path (``installed``)."""

from __future__ import annotations

import asyncio
import csv
import json
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from connectors.base import (
    Connector,
    ConnectorAuthFailed,
    ConnectorConfig,
    ConnectorNotReady,
    ConnectorSpec,
    FetchedMedia,
    FetchResult,
    ImportInbound,
    ImportRow,
    MediaRef,
    MediaSource,
    MediaUnavailable,
    NormalizedMessage,
    PullInbound,
    RawMessage,
    RejectedRow,
    Reporter,
    read_capped,
)
from tests.support import installed_connectors

RECEIVED = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
ENTRY_POINTS = {
    "folder_pull": "tests.pipeline.framework_connectors:FolderPull",
    "sheet_import": "tests.pipeline.framework_connectors:SheetImport",
}
PAGE = 2


def installed(site: Path) -> AbstractContextManager[str]:
    """Make the connectors above discoverable (here, and by subprocesses given the yielded
    PYTHONPATH), as ``pip install`` of a package declaring them would."""
    return installed_connectors(site, "framework-connectors", ENTRY_POINTS)


def _note(channel: str, raw_id: int, raw: RawMessage) -> NormalizedMessage:
    record: dict[str, Any] = json.loads(raw.payload)
    return NormalizedMessage(
        channel=channel,
        channel_message_id=raw.external_id,
        raw_message_id=raw_id,
        conversation_key=f"{channel}:{raw.external_id}",
        reporter=Reporter(phone_raw=record.get("phone")),
        text=record["text"],
        media=tuple(MediaRef(media_id=url, kind="image") for url in record.get("photos", [])),
        received_at=raw.received_at,
    )


class FolderConfig(ConnectorConfig):
    folder: Path
    """Each JSON file is a message; the cursor is the last file name stored."""
    fetch_log: Path
    """A line with this process's id per fetch: which process pulled."""
    hang: bool = False
    """Every fetch waits forever (a long poll that never answers)."""
    refuse_when: Path | None = None
    """While this file exists, the channel refuses our credentials."""
    busy_when: Path | None = None
    """While this file exists, the channel is busy and asks us to come back in as many seconds as it says."""


class FolderPull(Connector[FolderConfig], PullInbound, MediaSource):
    """Reads a folder like a mailbox, and fetches the photos its messages name over HTTP."""

    spec = ConnectorSpec(
        name="folder_pull",
        display_name="Folder (test)",
        roles=frozenset({"pull", "media"}),
        event_types=frozenset({"note"}),
    )
    config_model = FolderConfig
    poll_interval_seconds = 0.05

    async def fetch(self, source: str, cursor: str | None) -> FetchResult:
        with self.config.fetch_log.open("a") as log:
            log.write(f"{os.getpid()}\n")
        if self.config.hang:
            await asyncio.Event().wait()
        if self.config.refuse_when is not None and self.config.refuse_when.exists():
            raise ConnectorAuthFailed("token revoked")
        if self.config.busy_when is not None and self.config.busy_when.exists():
            raise ConnectorNotReady("429 Too Many Requests", retry_after=float(self.config.busy_when.read_text()))
        if not self.config.folder.is_dir():
            raise ConnectorNotReady(f"{self.config.folder.name} is not there")
        names = sorted(p.name for p in self.config.folder.glob("*.json") if cursor is None or p.name > cursor)
        messages = [
            RawMessage(
                channel="folder_pull",
                external_id=name,
                received_at=RECEIVED,
                content_type="application/json",
                payload=(self.config.folder / name).read_bytes(),
            )
            for name in names[:PAGE]
        ]
        next_cursor = messages[-1].external_id if messages else cursor
        return FetchResult(messages, next_cursor, more=len(names) > PAGE, behind=max(0, len(names) - PAGE))

    async def fetch_media(self, media: MediaRef, max_bytes: int) -> FetchedMedia:
        async with aiohttp.ClientSession() as session, session.get(media.media_id) as response:
            if response.status in {404, 410}:
                raise MediaUnavailable(f"the channel answered {response.status}: expired or deleted")
            if response.status >= 400:
                raise ConnectorNotReady(f"the channel answered {response.status}")
            data = await read_capped(response.content, max_bytes, response.content_length)
            return FetchedMedia(data, response.content_type)

    def parse(self, raw_id: int, raw: RawMessage) -> NormalizedMessage:
        return _note("folder_pull", raw_id, raw)


class SheetImport(Connector[ConnectorConfig], ImportInbound):
    """A phone-log sheet: ``id,phone,text``; a row without text is rejected, a row reading
    ``BROKEN`` breaks the reader (a file corrupt from there on)."""

    spec = ConnectorSpec(
        name="sheet_import", display_name="Sheet (test)", roles=frozenset({"import"}), event_types=frozenset({"row"})
    )

    def read_import(self, source: Path) -> Iterator[ImportRow | RejectedRow]:
        with source.open(newline="", encoding="utf-8") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                if row["id"] == "BROKEN":
                    raise ValueError("unexpected end of data")
                if not (row.get("text") or "").strip():
                    yield RejectedRow(line, "the complaint text is empty", column="text")
                    continue
                message = RawMessage(
                    channel="sheet_import",
                    external_id=f"call:{row['id']}",
                    received_at=RECEIVED,
                    content_type="application/json",
                    payload=json.dumps(row).encode(),
                )
                yield ImportRow(line, message)

    def parse(self, raw_id: int, raw: RawMessage) -> NormalizedMessage:
        return _note("sheet_import", raw_id, raw)
