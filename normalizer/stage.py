"""The normalize stage: channel parser, then the common rules, then reporter lookup.

A parser may also return a delivery status of a message we sent: it is applied to that outbox
row (``storage/delivery.py``), its raw message ends as ``status``, and it never opens a case.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine

from connectors.base import AnomalousPayload, Connector, ProfileSource, UnsupportedEvent
from envelopes import DeliveryStatus, NormalizedMessage, work_items
from normalizer.rules import apply_common_rules
from pipeline.queues import Publisher
from pipeline.stage import RawStage, StageResult, dead_notice
from storage.delivery import OtherWays, record_statuses
from storage.identities import Sender, proven_kinds, resolve
from storage.media import insert_pending
from storage.models import RAW_IGNORED, RAW_NORMALIZED, RAW_RECEIVED, RAW_STATUS
from storage.profiles import name_from_profiles
from storage.raw import StoredRaw, advance, load_raw, mark_dead, still_in

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Parsed:
    """What the parser and the common rules made of one stored raw message."""

    raw_id: int
    message: NormalizedMessage | None = None
    status: DeliveryStatus | None = None
    ignored: str | None = None
    """Why the message is not for a case (an unsupported event); None for one the parser skipped."""
    dead: str | None = None
    """Why the message can never be parsed as it is."""


class NormalizeStage(RawStage[list[Parsed]]):
    """Turns stored raw messages into normalized records and queues them for triage."""

    step = "normalize"
    done_event = "normalized"
    waits_in = RAW_RECEIVED

    def __init__(
        self,
        engine: Engine,
        publisher: Publisher,
        connectors: Mapping[str, Connector[Any]],
        *,
        max_attempts: int,
        other_ways: OtherWays | None = None,
    ) -> None:
        super().__init__(engine, publisher, max_attempts=max_attempts)
        self.connectors = connectors
        self.other_ways = other_ways
        """What a ``delivery_failed`` event offers the officer instead (``reachable``)."""
        self.profile_channels = frozenset(n for n, c in connectors.items() if isinstance(c, ProfileSource))
        """Channels whose users are looked up after storage (role ``profile``, ``pipeline/profiles.py``)."""

    def prepare(self, connection: Connection, ids: Sequence[int]) -> list[Parsed]:
        return [self._parse(stored) for stored in load_raw(connection, ids, RAW_RECEIVED)]

    def process(self, connection: Connection, prepared: list[Parsed]) -> StageResult:
        waiting = still_in(connection, (p.raw_id for p in prepared), RAW_RECEIVED)
        batch = [p for p in prepared if p.raw_id in waiting]
        result = StageResult()
        # Statuses first: on PostgreSQL their locks come before any row lock (storage/delivery.py).
        record_statuses(connection, [p.status for p in batch if p.status is not None], self.other_ways)
        statuses = [p.raw_id for p in batch if p.status is not None]
        advance(connection, [{"id": raw_id, "state": RAW_STATUS} for raw_id in statuses], RAW_RECEIVED)
        for parsed in batch:
            if parsed.dead is not None and mark_dead(connection, parsed.raw_id, parsed.dead, RAW_RECEIVED):
                result.dead.append(dead_notice(parsed.raw_id, parsed.dead))
        messages = [p.message for p in batch if p.message is not None]
        messages = name_from_profiles(connection, messages, self.profile_channels)  # a name looked up earlier
        normalized = _with_reporter_ids(connection, messages, self.connectors)
        ignored = [
            {"id": p.raw_id, "state": RAW_IGNORED, "error": p.ignored}
            for p in batch
            if p.message is None and p.status is None and p.dead is None
        ]
        advance(connection, ignored, RAW_RECEIVED)
        advance(
            connection,
            [{"id": m.raw_message_id, "state": RAW_NORMALIZED, "normalized": _dump(m)} for m in normalized],
            RAW_RECEIVED,
        )
        insert_pending(connection, normalized)
        result.onward = work_items("triage", "raw_message", ((m.raw_message_id, m.channel) for m in normalized))
        if normalized:
            result.done["raw_message_ids"] = [m.raw_message_id for m in normalized]
        if statuses:
            result.done["status_raw_message_ids"] = [*statuses]
        return result

    def _parse(self, stored: StoredRaw) -> Parsed:
        connector = self.connectors.get(stored.message.channel)
        try:
            if connector is None:
                raise AnomalousPayload(f"no connector {stored.message.channel!r} is enabled")
            parsed = connector.parse(stored.id, stored.message)
        except UnsupportedEvent as exc:
            logger.info("unsupported event ignored", extra=_log_extra(stored, exc))
            return Parsed(stored.id, ignored=f"unsupported event: {exc}")
        except (AnomalousPayload, ValidationError, ValueError) as exc:
            logger.warning("raw message parked as dead", extra=_log_extra(stored, exc))
            return Parsed(stored.id, dead=f"normalize: {type(exc).__name__}: {exc}")
        if isinstance(parsed, DeliveryStatus):
            return Parsed(stored.id, status=parsed)
        return Parsed(stored.id, message=None if parsed is None else apply_common_rules(parsed))


def _with_reporter_ids(
    connection: Connection, messages: list[NormalizedMessage], connectors: Mapping[str, Connector[Any]]
) -> list[NormalizedMessage]:
    """The reporter of each message, by what its channel proves (``storage.identities``)."""

    def proves(m: NormalizedMessage) -> frozenset[str]:
        connector = connectors.get(m.channel)
        return proven_kinds(connector.spec.capabilities if connector else (), m.extra)

    ids = resolve(connection, [Sender(m.reporter, m.channel, proves(m), m.raw_message_id) for m in messages])
    return [
        m.model_copy(update={"reporter": m.reporter.model_copy(update={"reporter_id": rid})})
        for m, rid in zip(messages, ids, strict=True)
    ]


def _dump(message: NormalizedMessage) -> dict[str, Any]:
    return message.model_dump(mode="json", by_alias=True)


def _log_extra(stored: StoredRaw, exc: Exception) -> dict[str, Any]:
    return {
        "channel": stored.message.channel,
        "raw_message_id": stored.id,
        "external_id": stored.message.external_id,
        "error": _describe(exc)[:500],
    }


def _describe(exc: Exception) -> str:
    """The error without the values that caused it: pydantic quotes the input, which may be a
    reporter's name or address (the full text is kept in the row's ``error`` column)."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'message'}: {e['msg']}" for e in exc.errors())
    return str(exc)
