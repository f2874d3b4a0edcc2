"""The triage stage: thread, classify, route, set deadlines, write the receipt to the outbox.

A message joins the open case of its conversation; otherwise it opens a new case with a
tracking number, and the receipt is written to the outbox in the same transaction, addressed
by the reply policy (``triage.replies``); a case no channel can reach records that instead.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from config.routing import RoutingConfig
from envelopes import NormalizedMessage, work_items
from pipeline.queues import Publisher
from pipeline.stage import RawStage, StageResult
from storage import cases as store
from storage.db import utcnow
from storage.models import CASE_RECEIVED, OUTBOX_PENDING, RAW_NORMALIZED, RAW_TRIAGED
from storage.raw import advance, load_normalized, still_in
from triage.calendar import WorkingCalendar
from triage.classify import Classification, Classifier
from triage.numbering import TrackingNumbers
from triage.receipt import ReceiptFacts, receipt
from triage.replies import InPerson, ReplyPolicy, Route, route_receipt
from triage.tracking import TrackingNumber

logger = logging.getLogger(__name__)

ACTOR = "system:triage"


@dataclass(frozen=True, slots=True)
class TriagePolicy:
    """What triage needs to know about the office."""

    calendar: WorkingCalendar
    tracking_prefix: str
    first_response_days: int
    resolution_days: int
    replies: ReplyPolicy
    tracking_block_size: int


@dataclass(slots=True)
class _NewCase:
    message: NormalizedMessage
    classification: Classification
    members: list[NormalizedMessage] = field(default_factory=list)
    id: int | None = None
    tracking_number: str = ""
    reply: Route | InPerson | None = None
    row: dict[str, Any] = field(default_factory=dict)

    @property
    def receipt_via(self) -> str | None:
        """The channel the receipt goes by; None when it must be given in person."""
        return self.reply.channel if isinstance(self.reply, Route) else None


@dataclass(frozen=True, slots=True)
class Classified:
    message: NormalizedMessage
    classification: Classification


class TriageStage(RawStage[list[Classified]]):
    """Turns normalized messages into cases and receipts."""

    step = "triage"
    done_event = "triaged"
    waits_in = RAW_NORMALIZED

    def __init__(
        self,
        engine: Engine,
        publisher: Publisher,
        routing: RoutingConfig,
        policy: TriagePolicy,
        *,
        max_attempts: int,
    ) -> None:
        super().__init__(engine, publisher, max_attempts=max_attempts)
        self.classifier = Classifier(routing)
        self.policy = policy
        self.numbers = TrackingNumbers(engine, policy.tracking_block_size)
        self.sensitive_units = routing.sensitive_units
        self.unit_names = {unit.key: unit.name for unit in routing.units}

    def prepare(self, connection: Connection, ids: Sequence[int]) -> list[Classified]:
        """Classify every message up front; one that joins an open case does not use its result.

        Tracking numbers for as many new cases as there are messages are reserved here, in a
        short transaction of their own, so that the triage transaction never waits on the counter.
        """
        messages = [NormalizedMessage.model_validate(record) for record in load_normalized(connection, ids)]
        needs: dict[str, int] = {}
        for message in messages:
            scope = self._scope(message)
            needs[scope] = needs.get(scope, 0) + 1
        self.numbers.reserve(needs)
        classify = self.classifier.classify
        return [Classified(m, classify(m.text, m.subject, m.declared_kind)) for m in messages]

    def process(self, connection: Connection, prepared: list[Classified]) -> StageResult:
        waiting = still_in(connection, (c.message.raw_message_id for c in prepared), RAW_NORMALIZED)
        batch = [c for c in prepared if c.message.raw_message_id in waiting]
        if not batch:
            return StageResult()
        messages = [c.message for c in batch]
        existing = store.open_cases_by_conversation(connection, (m.conversation_key for m in messages))
        new_cases, appended = self._thread(batch, existing)
        self._create_cases(connection, new_cases)
        case_of = {m.raw_message_id: case_id for m, case_id in appended}
        case_of.update({m.raw_message_id: c.id for c in new_cases for m in c.members if c.id is not None})
        self._add_messages(connection, messages, case_of)
        store.record_events(connection, [_appended_event(m, case_id) for m, case_id in appended])
        store.touch_cases(connection, (case_id for _, case_id in appended))
        receipts = self._write_receipts(connection, new_cases)
        advance(
            connection,
            [{"id": m.raw_message_id, "state": RAW_TRIAGED, "case_id": case_of[m.raw_message_id]} for m in messages],
            RAW_NORMALIZED,
        )
        onward = work_items("deliver", "outbox", receipts)
        done: dict[str, list[object]] = {"raw_message_ids": [m.raw_message_id for m in messages]}
        if new_cases:
            done["new_case_ids"] = [case.id for case in new_cases]
            done["tracking_numbers"] = [case.tracking_number for case in new_cases]
        return StageResult(onward=onward, done=done)

    @staticmethod
    def _thread(
        batch: Sequence[Classified], existing: dict[str, int]
    ) -> tuple[list[_NewCase], list[tuple[NormalizedMessage, int]]]:
        """Split into new cases and messages that join an open case (also one opened in this batch)."""
        new_cases: dict[str, _NewCase] = {}
        appended: list[tuple[NormalizedMessage, int]] = []
        for message, classification in ((c.message, c.classification) for c in batch):
            key = message.conversation_key
            if key in existing:
                appended.append((message, existing[key]))
            elif key in new_cases:
                new_cases[key].members.append(message)
            else:
                new_cases[key] = _NewCase(message, classification, [message])
        return list(new_cases.values()), appended

    def _create_cases(self, connection: Connection, new_cases: list[_NewCase]) -> None:
        if not new_cases:
            return
        by_scope: dict[str, list[_NewCase]] = {}
        for case in new_cases:
            by_scope.setdefault(self._scope(case.message), []).append(case)
        for scope, group in sorted(by_scope.items()):
            for case, sequence in zip(group, self.numbers.take(scope, len(group)), strict=True):
                case.tracking_number = str(TrackingNumber(self.policy.tracking_prefix, int(scope), sequence))
        for case in new_cases:
            case.reply = route_receipt(case.message, self.policy.replies)
            case.row = self._case_row(case)
        ids = store.insert_cases(connection, [case.row for case in new_cases])
        for case, case_id in zip(new_cases, ids, strict=True):
            case.id = case_id
        store.record_events(connection, [_created_event(case) for case in new_cases])
        store.record_events(
            connection, [_appended_event(m, case.id) for case in new_cases for m in case.members[1:] if case.id]
        )
        store.record_events(
            connection, [_in_person_event(c.id, c.reply) for c in new_cases if isinstance(c.reply, InPerson)]
        )

    def _scope(self, message: NormalizedMessage) -> str:
        """Tracking numbers count per year of receipt in the unit's zone: ``26``."""
        return f"{message.received_at.astimezone(self.policy.calendar.zone).year % 100:02d}"

    def _case_row(self, case: _NewCase) -> dict[str, Any]:
        message, found = case.message, case.classification
        now = utcnow()
        unit_sensitive = found.unit in self.sensitive_units
        return {
            "tracking_number": case.tracking_number,
            "kind": found.kind,
            "category": found.unit,
            "unit": found.unit,
            "status": CASE_RECEIVED,
            "priority": found.priority,
            "confidential": found.confidential or unit_sensitive or message.anonymous,
            "anonymous": message.anonymous,
            "complete": found.complete,
            "reporter_id": message.reporter.reporter_id,
            "reporter_name": None if message.anonymous else message.reporter.name,
            "channel": message.channel,
            "receipt_via": case.receipt_via,
            "conversation_key": message.conversation_key,
            "subject": message.subject or _first_line(message.text),
            "routing_rules": ", ".join(found.rules),
            "received_at": message.received_at,
            "first_response_due": self._due(message.received_at, self.policy.first_response_days),
            "resolution_due": self._due(message.received_at, self.policy.resolution_days),
            "created_at": now,
            "updated_at": now,
        }

    def _due(self, received_at: datetime, working_days: int) -> datetime:
        return self.policy.calendar.deadline(received_at, working_days)

    def _add_messages(
        self, connection: Connection, messages: Sequence[NormalizedMessage], case_of: dict[int, int]
    ) -> None:
        rows = [
            {
                "case_id": case_of[m.raw_message_id],
                "raw_message_id": m.raw_message_id,
                "direction": "in",
                "channel": m.channel,
                "subject": m.subject,
                "text": m.text,
                "received_at": m.received_at,
            }
            for m in messages
        ]
        ids = store.insert_messages(connection, rows)
        store.insert_attachments(
            connection,
            [
                {"case_message_id": message_id, **blob.model_dump()}
                for m, message_id in zip(messages, ids, strict=True)
                for blob in m.attachments
            ],
        )

    def _write_receipts(self, connection: Connection, new_cases: Sequence[_NewCase]) -> list[tuple[int, str]]:
        """Outbox rows for the cases a channel reaches; returns their ids with that channel."""
        now = utcnow()
        rows = []
        for case in new_cases:
            route, row = case.reply, case.row
            if not isinstance(route, Route):
                continue
            subject, text = receipt(
                ReceiptFacts(
                    tracking_number=case.tracking_number,
                    kind=row["kind"],
                    unit_name=self.unit_names[row["unit"]],
                    confidential=row["confidential"],
                    first_response_due=row["first_response_due"],
                    resolution_due=row["resolution_due"],
                ),
                self.policy.calendar.zone,
            )
            rows.append(
                {
                    "case_id": case.id,
                    "channel": route.channel,
                    "purpose": "receipt",
                    "idempotency_key": f"receipt:{case.id}",
                    "recipient": route.recipient.model_dump(mode="json"),
                    "subject": subject,
                    "body": text,
                    "in_reply_to": route.in_reply_to,
                    "state": OUTBOX_PENDING,
                    "attempts": 0,
                    "queued_at": now,
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )
        ids = store.insert_outbox(connection, rows)
        return [(outbox_id, str(row["channel"])) for outbox_id, row in zip(ids, rows, strict=True)]


def _created_event(case: _NewCase) -> dict[str, Any]:
    found = case.classification
    return {
        "case_id": case.id,
        "actor": ACTOR,
        "action": "created",
        "detail": {
            "tracking_number": case.tracking_number,
            "kind": found.kind,
            "unit": found.unit,
            "priority": found.priority,
            "rules": list(found.rules),
            "channel": case.message.channel,
            "raw_message_id": case.message.raw_message_id,
            "receipt_via": case.receipt_via,
        },
    }


def _in_person_event(case_id: int | None, reply: InPerson) -> dict[str, Any]:
    """The officer's cue: no channel carries the receipt, so the tracking number is given in person."""
    return {"case_id": case_id, "actor": ACTOR, "action": "receipt_in_person", "detail": {"reason": reply.reason}}


def _appended_event(message: NormalizedMessage, case_id: int) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "actor": ACTOR,
        "action": "message_added",
        "detail": {"channel": message.channel, "raw_message_id": message.raw_message_id},
    }


def _first_line(text: str, limit: int = 120) -> str:
    line = text.strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"
