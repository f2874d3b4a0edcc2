"""Storing what arrives: raw inserts from concurrent requests are committed together.

Every connector's inbound side calls :meth:`Ingestor.accept`. Requests that arrive while a
batch is being written wait for the next one, so under load one transaction (one fsync) carries
hundreds of messages, while a lone request is written at once. Work items are published after
the commit, and ``accept`` returns only then: the caller may acknowledge to its channel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Engine

from connectors.base import MessageStatus, ReceiptStatus, StoredMessage
from pipeline.metrics import Metrics
from pipeline.queues import Publisher
from envelopes import RawMessage, Stored, work_items
from storage.blobs import BlobStore
from storage.cases import report_progress
from storage.db import reading, transaction
from storage.raw import find_raw, insert_raw_messages
from storage.state import state_get, state_set, state_setdefault

logger = logging.getLogger(__name__)

MAX_GROUP = 1000
T = TypeVar("T")

_Waiting = tuple[Sequence[RawMessage], "asyncio.Future[list[Stored]]"]


class Ingestor:
    """The :class:`connectors.base.Ingest` the framework hands to connectors."""

    def __init__(self, engine: Engine, publisher: Publisher, blobs: BlobStore, metrics: Metrics | None = None) -> None:
        self.engine = engine
        self.publisher = publisher
        self.blobs = blobs
        self.metrics = metrics
        # One writer thread: it owns the publisher's connection and serialises group commits.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest")
        self._readers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="ingest-read")
        self._waiting: list[_Waiting] = []
        self._flushing = False

    async def accept(self, messages: Sequence[RawMessage]) -> list[Stored]:
        future: asyncio.Future[list[Stored]] = asyncio.get_running_loop().create_future()
        self._waiting.append((messages, future))
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._waiting:
                group = self._take_group()
                messages = [m for batch, _ in group for m in batch]
                try:
                    stored = await loop.run_in_executor(self._writer, self._store, messages)
                except Exception as exc:  # noqa: BLE001 - each waiting request gets the error
                    for _, future in group:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                offset = 0
                for batch, future in group:
                    if not future.done():
                        future.set_result(stored[offset : offset + len(batch)])
                    offset += len(batch)
        finally:
            self._flushing = False

    def _take_group(self) -> list[_Waiting]:
        group: list[_Waiting] = []
        count = 0
        while self._waiting and (not group or count + len(self._waiting[0][0]) <= MAX_GROUP):
            entry = self._waiting.pop(0)
            group.append(entry)
            count += len(entry[0])
        return group

    def _store(self, messages: list[RawMessage]) -> list[Stored]:
        with transaction(self.engine) as connection:
            stored = insert_raw_messages(connection, messages)
        fresh = work_items(
            "normalize", "raw_message", ((s.id, m.channel) for s, m in zip(stored, messages, strict=True) if s.created)
        )
        if self.metrics is not None:
            created = sum(s.created for s in stored)
            self.metrics.count("ingest", {"stored": created, "duplicate": len(stored) - created})
        if fresh:
            self.publisher.publish(fresh)
            for item, channel in fresh:
                logger.info("stored", extra={"channel": channel, "raw_message_ids": list(item.ids)})
        return stored

    async def status(self, channel: str, raw_id: int) -> MessageStatus | None:
        def read() -> MessageStatus | None:
            with reading(self.engine) as connection:
                progress = report_progress(connection, channel, raw_id)
            if progress is None:
                return None
            return MessageStatus(
                id=progress.raw_id,
                state=progress.state,
                received_at=progress.received_at,
                tracking_number=progress.tracking_number,
                case_status=progress.case_status,
                receipt=_receipt(progress.receipt),
                error=progress.error,
            )

        return await asyncio.get_running_loop().run_in_executor(self._readers, read)

    async def stored(self, channel: str, external_id: str) -> StoredMessage | None:
        def read() -> StoredMessage | None:
            with reading(self.engine) as connection:
                found = find_raw(connection, channel, external_id)
            return None if found is None else StoredMessage(found.id, found.message)

        return await asyncio.get_running_loop().run_in_executor(self._readers, read)

    async def put_blob(self, data: bytes) -> str:
        return await asyncio.get_running_loop().run_in_executor(self._readers, self.blobs.put, data)

    async def state_get(self, channel: str, key: str) -> str | None:
        return await self._in_transaction(state_get, channel, key)

    async def state_set(self, channel: str, key: str, value: str) -> None:
        await self._in_transaction(state_set, channel, key, value)

    async def state_setdefault(self, channel: str, key: str, value: str) -> str:
        return await self._in_transaction(state_setdefault, channel, key, value)

    async def _in_transaction(self, function: Callable[..., T], *args: str) -> T:
        def run() -> T:
            with transaction(self.engine) as connection:
                return function(connection, *args)

        return await asyncio.get_running_loop().run_in_executor(self._readers, run)

    def close(self) -> None:
        self._writer.submit(self.publisher.close).result()
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)


def _receipt(row: dict[str, Any] | None) -> ReceiptStatus | None:
    if row is None:
        return None
    return ReceiptStatus(
        text=row["body"],
        written_at=row["created_at"],
        state=row["receipt_state"],
        sent_at=row["sent_at"],
        provider_message_id=row["provider_message_id"],
        email=(row["recipient"] or {}).get("email"),
    )
