"""The framework's side of pull and import connectors: the loop, the cursor, the ledger.

A pull connector only fetches a page after a cursor; this loop stores the page, and only then
moves the cursor, so a crash between the two fetches the page again (and the idempotency key
makes that harmless). An import stores records in batches; the raw message's idempotency key is
the ledger, so importing the same file twice adds nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from connectors.base import ConnectorAuthFailed, ConnectorNotReady, ImportingConnector, Ingest, PollingConnector
from pipeline.queues import Publisher
from envelopes import RawMessage, work_items
from storage.db import transaction
from storage.raw import insert_raw_messages
from storage.sweeps import leave_to_sweeper

logger = logging.getLogger(__name__)

CURSOR_KEY = "cursor"
MAX_BACKOFF_SECONDS = 300.0
IMPORT_BATCH = 500


async def run_poll_loop(connector: PollingConnector[Any], ingest: Ingest, stop: asyncio.Event) -> None:
    """Fetch, store, then advance the cursor, until stopped or the channel refuses our credentials."""
    name = connector.name
    cursor = await ingest.state_get(name, CURSOR_KEY)
    failures = 0
    while not stop.is_set():
        try:
            page = await connector.fetch(cursor)
        except ConnectorNotReady as exc:
            failures += 1
            if failures == 1:
                logger.warning("source unavailable: %s", exc, extra={"channel": name})
            await _wait(stop, min(MAX_BACKOFF_SECONDS, connector.poll_interval_seconds * 2**failures))
            continue
        except ConnectorAuthFailed as exc:
            logger.error("credentials refused; connector stopped: %s", exc, extra={"channel": name})
            return
        if failures:
            logger.info("source available again", extra={"channel": name})
            failures = 0
        if page.messages:
            await ingest.accept(page.messages)
        if page.next_cursor is not None and page.next_cursor != cursor:
            await ingest.state_set(name, CURSOR_KEY, page.next_cursor)
            cursor = page.next_cursor
        if not page.more:
            await _wait(stop, connector.poll_interval_seconds)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


@dataclass(frozen=True, slots=True)
class ImportReport:
    new: int
    already_imported: int


def import_file(
    connector: ImportingConnector[Any], source: Path, engine: Engine, publisher: Publisher | None
) -> ImportReport:
    """Store every record of ``source``; records imported before are counted, not stored again.

    Without a ``publisher`` (the queue is inside another process) the new records are left to the
    running pipeline's next sweep.
    """
    new = old = 0
    for batch in _batches(connector.read_import(source), IMPORT_BATCH):
        with transaction(engine) as connection:
            stored = insert_raw_messages(connection, batch)
            fresh = [s.id for s in stored if s.created]
            if publisher is None:
                leave_to_sweeper(connection, fresh)
        if publisher is not None:
            publisher.publish(work_items("normalize", "raw_message", ((i, connector.name) for i in fresh)))
        new += len(fresh)
        old += len(stored) - len(fresh)
    return ImportReport(new=new, already_imported=old)


def _batches(records: Iterable[RawMessage], size: int) -> Iterator[list[RawMessage]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch
