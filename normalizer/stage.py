"""The normalize stage: channel parser, then the common rules, then reporter lookup."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine

from connectors.base import AnomalousPayload, Connector, UnsupportedEvent
from normalizer.rules import apply_common_rules
from pipeline.queues import Publisher
from pipeline.records import NormalizedMessage, work_items
from pipeline.stage import RawStage, StageResult, dead_notice
from storage.models import RAW_IGNORED, RAW_NORMALIZED, RAW_RECEIVED
from storage.raw import StoredRaw, advance, load_raw, mark_dead
from storage.reporters import resolve_reporters

logger = logging.getLogger(__name__)


class NormalizeStage(RawStage):
    """Turns stored raw messages into normalized records and queues them for triage."""

    step = "normalize"

    def __init__(
        self, engine: Engine, publisher: Publisher, connectors: Mapping[str, Connector[Any]], *, max_attempts: int
    ) -> None:
        super().__init__(engine, publisher, max_attempts=max_attempts)
        self.connectors = connectors

    def process(self, connection: Connection, ids: Sequence[int]) -> StageResult:
        result = StageResult()
        parsed: list[NormalizedMessage] = []
        ignored: list[dict[str, Any]] = []
        for stored in load_raw(connection, ids, RAW_RECEIVED):
            try:
                message = self._parse(stored)
            except UnsupportedEvent as exc:
                logger.info("unsupported event ignored", extra=_log_extra(stored, exc))
                ignored.append({"id": stored.id, "state": RAW_IGNORED, "error": f"unsupported event: {exc}"})
                continue
            except (AnomalousPayload, ValidationError, ValueError) as exc:
                reason = f"normalize: {type(exc).__name__}: {exc}"
                logger.warning("raw message parked as dead", extra=_log_extra(stored, exc))
                mark_dead(connection, stored.id, reason)
                result.dead.append(dead_notice(stored.id, reason))
                continue
            if message is None:
                ignored.append({"id": stored.id, "state": RAW_IGNORED, "error": None})
            else:
                parsed.append(apply_common_rules(message))
        parsed = _with_reporter_ids(connection, parsed)
        advance(connection, ignored, RAW_RECEIVED)
        advance(
            connection,
            [{"id": m.raw_message_id, "state": RAW_NORMALIZED, "normalized": _dump(m)} for m in parsed],
            RAW_RECEIVED,
        )
        result.onward = work_items("triage", "raw_message", ((m.raw_message_id, m.channel) for m in parsed))
        return result

    def _parse(self, stored: StoredRaw) -> NormalizedMessage | None:
        connector = self.connectors.get(stored.message.channel)
        if connector is None:
            raise AnomalousPayload(f"no connector {stored.message.channel!r} is enabled")
        return connector.parse(stored.id, stored.message)


def _with_reporter_ids(connection: Connection, messages: list[NormalizedMessage]) -> list[NormalizedMessage]:
    ids = resolve_reporters(connection, [(m.reporter, m.channel) for m in messages])
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
        "error": str(exc)[:500],
    }
