"""The profile step: ask a channel who its user is (the name behind an Instagram IGSID), once
per identity, after the case is made (``storage/profiles.py`` says when a lookup is due).

It runs beside the media fetcher, in the ``media`` component, and like it polls the database
rather than a queue: the case and its receipt never wait for a lookup, any number of workers can
compete (each claim carries a lease token), and nothing depends on a work item surviving. A
lookup goes through the connector's ``fetch_profile``. What it gives is kept and applied to the
reporter and their nameless cases; ``ProfileUnavailable`` (no permission, no consent) is kept as
the row's failure and never asked again; anything else is asked again with backoff, at most
``pipeline.max_attempts`` times. Log lines name the channel and the row, never the user: the
channel user id is taken out of the provider's words before they are logged or kept.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from connectors.base import Connector, ConnectorNotReady, ProfileSource, ProfileUnavailable, ReporterProfile
from pipeline.backoff import exponential
from pipeline.logs import reason
from pipeline.media import poll_claims
from pipeline.metrics import Metrics
from storage import profiles as store
from storage.db import transaction, utcnow

logger = logging.getLogger(__name__)

IDLE_SECONDS = 1.0
"""How often an idle worker looks for due lookups."""
BATCH = 8
LOOKUP_TIMEOUT_SECONDS = 20.0
CLAIM_SECONDS = LOOKUP_TIMEOUT_SECONDS + 60.0
"""A claim outlives a lookup; a worker that dies mid-lookup frees its rows after this."""
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=1)


def profile_sources(connectors: Mapping[str, Connector[Any]]) -> dict[str, ProfileSource]:
    """The enabled connectors that can say who their users are (role ``profile``)."""
    return {name: c for name, c in connectors.items() if isinstance(c, ProfileSource)}


class ProfileFetcher:
    """Claims due lookups, asks their connector, and records each outcome."""

    def __init__(
        self,
        engine: Engine,
        connectors: Mapping[str, Connector[Any]],
        *,
        max_attempts: int,
        metrics: Metrics | None = None,
        retry_base: timedelta = RETRY_BASE,
    ) -> None:
        self.engine = engine
        self.sources = profile_sources(connectors)
        self.max_attempts = max_attempts
        self.metrics = metrics
        self.retry_base = retry_base

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop``; lookups cut short by it are handed back, due at once."""
        await poll_claims(
            "profiles",
            lambda: self._write(store.claim_due, BATCH, CLAIM_SECONDS),
            self._one,
            lambda left: self._write(store.release, left),
            stop,
            IDLE_SECONDS,
        )

    def _write(self, write: Callable[..., Any], *args: Any) -> Any:
        with transaction(self.engine) as connection:
            return write(connection, *args)

    async def _one(self, claim: store.ProfileClaim) -> None:
        log = {"channel": claim.channel, "profile": claim.id}
        source = self.sources.get(claim.channel)
        try:
            if source is None:
                raise LookupError(f"no connector {claim.channel!r} with the profile role is enabled in this process")
            async with asyncio.timeout(LOOKUP_TIMEOUT_SECONDS):
                found = await source.fetch_profile(claim.channel_user_id)
        except ProfileUnavailable as exc:
            why = _without(claim, str(exc))
            logger.warning("profile lookup refused, not asked again: %s", why, extra=log)
            await self._record(store.mark_failed, claim, why, outcome="failed")
            return
        except Exception as exc:  # noqa: BLE001 - transient, timeouts and surprises are asked again later
            await self._later(claim, exc, log)
            return
        profile = found or ReporterProfile()
        await self._record(store.mark_found, claim, profile.name, profile.handle, outcome="found")
        logger.info("profile looked up", extra={**log, "named": bool(profile.name or profile.handle)})

    async def _later(self, claim: store.ProfileClaim, exc: Exception, log: dict[str, Any]) -> None:
        why = _without(claim, reason(exc))
        if claim.attempts >= self.max_attempts:
            logger.warning("profile lookup failed %d times, not asked again: %s", claim.attempts, why, extra=log)
            gave_up = f"gave up after {claim.attempts} attempt{'s' if claim.attempts > 1 else ''}: {why}"
            await self._record(store.mark_failed, claim, gave_up, outcome="failed")
            return
        delay = timedelta(
            seconds=exponential(claim.attempts, self.retry_base.total_seconds(), RETRY_CAP.total_seconds())
        )
        if isinstance(exc, ConnectorNotReady) and exc.retry_after:
            delay = max(delay, timedelta(seconds=exc.retry_after))
        logger.info("profile lookup failed, asking again in %s: %s", delay, why, extra=log)
        await self._record(store.mark_retry, claim, why, utcnow() + delay, outcome="retry")

    async def _record(self, write: Callable[..., bool], claim: store.ProfileClaim, *args: Any, outcome: str) -> None:
        """Write an outcome under the claim; if the database is away the claim lapses and the
        lookup is made again (a lookup is cheap and changes nothing at the channel)."""
        try:
            written = await asyncio.to_thread(self._write, write, claim, *args)
        except SQLAlchemyError as exc:
            logger.warning("profile outcome not recorded: %s", reason(exc), extra={"profile": claim.id})
            return
        if written and self.metrics is not None:
            self.metrics.count("profile", {outcome: 1})


def _without(claim: store.ProfileClaim, text: str) -> str:
    """The provider's words without the user's id ("Object with ID '1254…' does not exist")."""
    return text.replace(claim.channel_user_id, "<user>")
