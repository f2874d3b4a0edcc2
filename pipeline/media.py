"""The media step: fetch what a channel sent by reference, after the message is stored.

Webhook senders want a fast answer and parsers are pure, so a parser only names its media
(``MediaRef``) and the normalizer records them as pending ``media`` rows with the message. This
worker polls the database for due rows rather than a queue, so nothing depends on a work item
surviving, and any number of workers can compete (each claim carries a lease token). A fetch goes
through the connector's ``fetch_media``, with a few quick retries and then later ones with
exponential backoff; the bytes go to the blob store by SHA-256 and are linked to the item, or the
item is marked failed with the reason, which the officer sees on the case. An item larger than
``pipeline.max_media_bytes`` is failed, not stored: one video must not fill the blob store. The
message itself is never held back or lost by a media failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from connectors.base import Connector, ConnectorNotReady, FetchedMedia, MediaSource, MediaUnavailable
from pipeline.backoff import exponential, pause
from pipeline.logs import reason, redact
from pipeline.metrics import Metrics
from storage import media as store
from storage.blobs import BlobStore
from storage.db import transaction, utcnow

logger = logging.getLogger(__name__)

IDLE_SECONDS = 0.5
"""How often an idle worker looks for due items."""
BATCH = 8
"""Items one worker fetches at once."""
FETCH_TIMEOUT_SECONDS = 60.0
QUICK_ATTEMPTS = 3
"""Tries within one claim (a 500 now is often a 200 a moment later) before waiting longer."""
CLAIM_SECONDS = QUICK_ATTEMPTS * FETCH_TIMEOUT_SECONDS + 60.0
"""A claim outlives every quick try; a worker that dies mid-fetch frees its items after this."""
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=1)

C = TypeVar("C")


class _Failed(Exception):
    """A fetch that can never work: the item is marked failed at once."""


class MediaFetcher:
    """Claims due media rows, fetches them through their connector, and records each outcome."""

    def __init__(
        self,
        engine: Engine,
        blobs: BlobStore,
        connectors: Mapping[str, Connector[Any]],
        *,
        max_attempts: int,
        max_bytes: int,
        metrics: Metrics | None = None,
        retry_base: timedelta = RETRY_BASE,
    ) -> None:
        self.engine = engine
        self.blobs = blobs
        self.connectors = connectors
        self.max_attempts = max_attempts
        self.max_bytes = max_bytes
        self.metrics = metrics
        self.retry_base = retry_base

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop``; fetches cut short by it are handed back, due at once, for the next start."""
        await poll_claims("media", self._claim, self._one, self._release, stop)

    def _claim(self) -> list[store.MediaClaim]:
        with transaction(self.engine) as connection:
            return store.claim_due(connection, BATCH, CLAIM_SECONDS)

    def _release(self, claims: list[store.MediaClaim]) -> None:
        with transaction(self.engine) as connection:
            store.release(connection, claims)

    async def _one(self, claim: store.MediaClaim) -> None:
        log = {"channel": claim.channel, "media": claim.id, "raw_message_id": claim.raw_message_id}
        try:
            if claim.ref.size is not None and claim.ref.size > self.max_bytes:
                raise _Failed(f"{claim.ref.size:,} bytes, larger than the {self.max_bytes:,}-byte limit")
            fetched = await self._fetch(claim)
            if len(fetched.data) > self.max_bytes:  # a connector that read it whole all the same
                raise _Failed(f"{len(fetched.data):,} bytes, larger than the {self.max_bytes:,}-byte limit")
            sha256 = await asyncio.to_thread(self.blobs.put, fetched.data)
        except _Failed as exc:
            why = redact(str(exc))
            logger.warning("media item cannot be fetched: %s", why, extra=log)
            await self._record(store.mark_failed, claim, why, outcome="failed")
            return
        except Exception as exc:  # noqa: BLE001 - transient, timeouts and surprises are retried later
            await self._later(claim, exc, log)
            return
        content_type = fetched.content_type or claim.ref.content_type or "application/octet-stream"
        await self._record(
            store.mark_fetched, claim, sha256, len(fetched.data), content_type, fetched.filename, outcome="fetched"
        )
        logger.info("media fetched", extra={**log, "sha256": sha256})

    async def _fetch(self, claim: store.MediaClaim) -> FetchedMedia:
        connector = self.connectors.get(claim.channel)
        if connector is None:
            raise LookupError(f"no connector {claim.channel!r} is enabled in this process")
        if not isinstance(connector, MediaSource):
            raise _Failed(f"the {claim.channel} connector cannot fetch media")
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(_retryable),
            stop=stop_after_attempt(QUICK_ATTEMPTS),
            wait=wait_exponential(multiplier=0.2, max=2.0),
            reraise=True,
        ):
            with attempt:
                try:
                    async with asyncio.timeout(FETCH_TIMEOUT_SECONDS):
                        return await connector.fetch_media(claim.ref, self.max_bytes)
                except MediaUnavailable as exc:
                    raise _Failed(str(exc)) from exc
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _later(self, claim: store.MediaClaim, exc: Exception, log: dict[str, Any]) -> None:
        why = reason(exc)
        if claim.attempts >= self.max_attempts:
            logger.warning("media item failed %d times: %s", claim.attempts, why, extra=log)
            await self._record(
                store.mark_failed,
                claim,
                f"gave up after {claim.attempts} attempt{'s' if claim.attempts > 1 else ''}: {why}",
                outcome="failed",
            )
            return
        delay = timedelta(
            seconds=exponential(claim.attempts, self.retry_base.total_seconds(), RETRY_CAP.total_seconds())
        )
        if isinstance(exc, ConnectorNotReady) and exc.retry_after:
            delay = max(delay, timedelta(seconds=exc.retry_after))
        logger.info("media fetch failed, retrying in %s: %s", delay, why, extra=log)
        await self._record(store.mark_retry, claim, why, utcnow() + delay, outcome="retry")

    async def _record(self, write: Any, claim: store.MediaClaim, *args: Any, outcome: str) -> None:
        """Write an outcome under the claim; if the database is away, the claim lapses and the
        item is fetched again (its bytes are already in the blob store, so that costs a fetch)."""

        def run() -> bool:
            with transaction(self.engine) as connection:
                return bool(write(connection, claim, *args))

        try:
            written = await asyncio.to_thread(run)
        except SQLAlchemyError as exc:
            logger.warning("media outcome not recorded: %s", exc, extra={"media": claim.id})
            return
        if written and self.metrics is not None:
            self.metrics.count("media", {outcome: 1})


async def poll_claims(
    what: str,
    claim: Callable[[], list[C]],
    one: Callable[[C], Coroutine[Any, Any, None]],
    release: Callable[[list[C]], None],
    stop: asyncio.Event,
    idle: float = IDLE_SECONDS,
) -> None:
    """The loop of a step that polls a table for due rows (media, profile lookups): ``claim`` them
    (on a thread), run ``one`` for each at once, wait ``idle`` when none is due. A database outage
    takes two log lines: one when it goes, one when it is back."""
    down_since: float | None = None
    while not stop.is_set():
        try:
            claims = await asyncio.to_thread(claim)
        except SQLAlchemyError as exc:
            if down_since is None:
                logger.warning("%s: database unavailable; waiting for it: %s", what, reason(exc))
                down_since = time.monotonic()
            await pause(idle * 4, stop)
            continue
        if down_since is not None:
            logger.info("%s: database reachable again after %.1fs", what, time.monotonic() - down_since)
            down_since = None
        if not claims:
            await pause(idle, stop)
            continue
        await _work_through(what, claims, one, release, stop)


async def _work_through(
    what: str,
    claims: Sequence[C],
    one: Callable[[C], Coroutine[Any, Any, None]],
    release: Callable[[list[C]], None],
    stop: asyncio.Event,
) -> None:
    """Run ``one`` for every claim at once (media items, profile lookups) until all end or
    ``stop`` is set; then the claims still in hand are released (a thread runs ``release``), due
    at once for the next start."""
    tasks: dict[asyncio.Task[None], C] = {asyncio.create_task(one(claim)): claim for claim in claims}
    batch: asyncio.Future[list[BaseException | None]] = asyncio.gather(*tasks, return_exceptions=True)
    stopping: asyncio.Future[Any] = asyncio.create_task(stop.wait())
    await asyncio.wait([batch, stopping], return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if batch.done():
        for error in batch.result():
            if isinstance(error, BaseException):
                logger.error("%s worker error", what, exc_info=error)
        return
    unfinished = [claim for task, claim in tasks.items() if not task.done()]
    batch.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await batch
    with contextlib.suppress(SQLAlchemyError):
        await asyncio.to_thread(release, unfinished)


def _retryable(exc: BaseException) -> bool:
    """Errors worth a quick second try; never a cancellation (shutdown), never a gone item, never
    a channel that asked us to wait (its ``retry_after`` sets the later try)."""
    if isinstance(exc, ConnectorNotReady) and exc.retry_after:
        return False
    return isinstance(exc, Exception) and not isinstance(exc, _Failed)
