"""Storing what arrives: raw inserts from concurrent requests are committed together.

Every connector's inbound side calls :meth:`Ingestor.accept`. Requests that arrive while a
batch is being written wait for the next one, so under load one transaction (one fsync) carries
hundreds of messages, while a lone request is written at once. ``accept`` returns once the
commit is done: the caller may acknowledge to its channel, whatever the broker is doing. The
work items are handed to the publisher's own thread; when it cannot take them (the broker has
been away long), the rows are marked never queued in the same transaction, and the publisher
finds them in the database as soon as the broker is back (the sweeper would, at its next round).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Engine

from connectors.base import MessageStatus, ReceiptStatus, StoredMessage
from envelopes import Addressed, RawMessage, Stored, work_items
from pipeline.metrics import Metrics
from pipeline.queues import Publisher
from storage.blobs import BlobStore
from storage.cases import report_progress
from storage.db import reading, transaction
from storage.models import RAW_NORMALIZED, RAW_RECEIVED
from storage.raw import find_raw, insert_raw_messages
from storage.state import state_get, state_set, state_setdefault
from storage.status import messages_to_report
from storage.sweeps import leave_to_sweeper, take_never_queued

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
        publisher.on_recovery(self._never_queued)
        # One writer thread: it serialises group commits, and is the only one feeding the publisher.
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
        stored = await future
        if self.metrics is not None:  # here, in the request's context, which knows its answer
            self.metrics.accepted(stored)
        return stored

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
            created = [(s.id, m.channel) for s, m in zip(stored, messages, strict=True) if s.created]
            # the room seen here is still there after the commit: this thread alone feeds the publisher
            handing_over = self.publisher.has_room(len(created))
            if not handing_over:
                leave_to_sweeper(connection, [raw_id for raw_id, _ in created])
        fresh = work_items("normalize", "raw_message", created)
        if handing_over and fresh:
            self.publisher.publish(fresh)
        for item, channel in fresh:
            logger.info("stored", extra={"channel": channel, "raw_message_ids": list(item.ids)})
        return stored

    def _never_queued(self, limit: int) -> list[Addressed]:
        """The publisher's backfill: stored messages whose work item was never published."""
        with transaction(self.engine) as connection:
            found = take_never_queued(connection, limit)
        return [
            *work_items("normalize", "raw_message", ((i, c) for i, c, s in found if s == RAW_RECEIVED)),
            *work_items("triage", "raw_message", ((i, c) for i, c, s in found if s == RAW_NORMALIZED)),
        ]

    async def status(self, channel: str, raw_id: int) -> MessageStatus | None:
        def read() -> MessageStatus | None:
            with reading(self.engine) as connection:
                progress = report_progress(connection, channel, raw_id)
                sent = messages_to_report(connection, channel, raw_id) if progress is not None else []
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
                sent=tuple(filter(None, map(_receipt, sent))),
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
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        self.publisher.close()


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
        purpose=row.get("purpose") or "receipt",
        subject=row.get("subject") or "",
    )
