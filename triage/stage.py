"""The triage stage: thread, classify, route, set deadlines, write the receipt to the outbox.

A message joins the open case of its conversation; otherwise it opens a new case with a
tracking number, and the receipt is written to the outbox in the same transaction, addressed
by the reply policy (``triage.replies``); a case no channel can reach records that instead.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from config.routing import RoutingConfig
from config.settings import DEFAULT_TEMPLATES_DIR, SlaSettings, SurveySettings
from envelopes import NormalizedMessage, work_items
from pipeline.queues import Publisher
from pipeline.stage import RawStage, StageResult
from storage import cases as store
from storage.db import utcnow
from storage.models import CASE_RECEIVED, CASE_WAITING, OUTBOX_PENDING, RAW_NORMALIZED, RAW_TRIAGED
from storage.raw import advance, load_normalized, still_in
from storage.threads import caseless_ids_of, give_case, normalized_records, serialise_conversations
from triage import external, lifecycle
from triage.assessment import Assessor
from triage.calendar import WorkingCalendar
from triage.caseless import keep_caseless
from triage.classify import Classification
from triage.completeness import can_answer
from triage.deadlines import Clock
from triage.inbox import OPENED_BY
from triage.numbering import TrackingNumbers
from triage.receipt import ReceiptFacts, receipt
from triage.replies import InPerson, ReplyPolicy, Route, route_receipt
from triage.texts import Texts
from triage.threading import Opening, Plan, Threader
from triage.tracking import TrackingNumber

logger = logging.getLogger(__name__)

ACTOR = "system:triage"
ASK_WHEN_CALLING = "incomplete report, not asked: the reporter cannot answer the receipt; ask them when you call back"


@dataclass(frozen=True, slots=True)
class TriagePolicy:
    """What triage needs to know about the office."""

    calendar: WorkingCalendar
    tracking_prefix: str
    replies: ReplyPolicy
    tracking_block_size: int
    thread_window_minutes: float = 30.0
    """``[triage] thread_window_minutes``: a burst's messages with nothing to act on join its case."""
    duplicate_minutes: float = 10.0
    """``[triage] duplicate_minutes``: the same report again this soon joins the first case."""
    sla: SlaSettings = field(default_factory=SlaSettings)
    templates_dir: Path = DEFAULT_TEMPLATES_DIR
    survey: SurveySettings = field(default_factory=SurveySettings)
    forms_mailed: bool = False
    """Whether the web form also mails what it sends to a reporter who gave an email (SMTP set,
    ``email_receipts`` on): only then can a form's reporter answer, by email, what they are asked."""


@dataclass(slots=True)
class _NewCase:
    message: NormalizedMessage
    classification: Classification
    members: list[NormalizedMessage] = field(default_factory=list)
    id: int | None = None
    tracking_number: str = ""
    reply: Route | InPerson | external.Elsewhere | None = None
    row: dict[str, Any] = field(default_factory=dict)
    opening: Opening | None = None
    """How threading opened it: its conversation key, the closed case it follows, why each member belongs."""

    @property
    def receipt_via(self) -> str | None:
        """The channel the receipt goes by; None when it must be given in person."""
        return self.reply.channel if isinstance(self.reply, Route | external.Elsewhere) else None


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
        self.assessor = Assessor(routing, policy.sla.urgent_rules)
        """The same decision ``satupintu triage classify`` shows (``triage/assessment.py``)."""
        self.classifier = self.assessor.classifier
        self.policy = policy
        self.numbers = TrackingNumbers(engine, policy.tracking_block_size)
        self.sensitive_units = routing.sensitive_units
        self.unit_names = {unit.key: unit.name for unit in routing.units}
        self.threader = Threader(
            policy.tracking_prefix,
            timedelta(minutes=policy.thread_window_minutes),
            timedelta(minutes=policy.duplicate_minutes),
            policy.replies.sending,
        )
        texts = Texts.load(policy.templates_dir, policy.calendar.zone)  # a broken template stops start-up
        self.desk = lifecycle.Desk(Clock(policy.calendar, policy.sla), texts, routing, policy.replies, policy.survey)

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
        # before anything is looked up: a copy of this batch's report in another worker's batch
        # (a LAPOR! re-export, a burst) is then seen committed, not missed
        serialise_conversations(connection, (c.message.conversation_key for c in batch))
        batch, updates = external.split(connection, batch, lambda c: c.message)  # LAPOR! re-exports
        if not batch:
            return external.apply(connection, updates, [])
        messages = [c.message for c in batch]
        plan = self.threader.plan(connection, messages)
        new_cases = self._thread(batch, plan)
        self._create_cases(connection, new_cases)
        case_of: dict[int, int | None] = {j.message.raw_message_id: j.case_id for j in plan.joined}
        case_of.update({m.raw_message_id: c.id for c in new_cases for m in c.members if c.id is not None})
        self._add_messages(connection, [m for m in messages if case_of.get(m.raw_message_id)], case_of)
        store.record_events(
            connection, [_appended_event(j.message, j.case_id, j.reason, j.evidence) for j in plan.joined]
        )
        store.touch_cases(connection, (j.case_id for j in plan.joined))
        answered = lifecycle.on_reporter_message  # resumes a waiting case, takes a survey answer
        answers = [o for j in plan.joined for o in answered(connection, self.desk, j.case_id, j.message)]
        self._take_loose(connection, new_cases)
        receipts = self._write_receipts(connection, new_cases) + answers
        receipts += keep_caseless(connection, plan.kept, self.policy.replies, self.desk.texts)
        progress = [
            {"id": m.raw_message_id, "state": RAW_TRIAGED, "case_id": case_of.get(m.raw_message_id)} for m in messages
        ]
        advance(connection, progress, RAW_NORMALIZED)
        onward = work_items("deliver", "outbox", receipts)
        done: dict[str, list[object]] = {"raw_message_ids": [m.raw_message_id for m in messages]}
        if new_cases:
            done["new_case_ids"] = [case.id for case in new_cases]
            done["tracking_numbers"] = [case.tracking_number for case in new_cases]
        result = StageResult(onward=onward, done=done)
        result.extend(external.apply(connection, updates, [(c.id, c.message) for c in new_cases if c.id]))
        return result

    @staticmethod
    def _thread(batch: Sequence[Classified], plan: Plan) -> list[_NewCase]:
        """The new cases of the threading plan (``triage.threading``), with their classification."""
        classified = {c.message.raw_message_id: c.classification for c in batch}
        return [_NewCase(o.message, classified[o.message.raw_message_id], o.members, opening=o) for o in plan.openings]

    def _take_loose(self, connection: Connection, new_cases: Sequence[_NewCase]) -> None:
        """Earlier messages of a new case's burst, kept without a case (the "halo" before the
        report), join it: their case messages, their raw messages' case and a ``window`` event.
        A message an officer turned into a case (``triage.inbox``) is no longer without one."""
        promoted = [c for c in new_cases if c.id is not None and c.message.extra.get(OPENED_BY)]
        for case in promoted:
            give_case(connection, caseless_ids_of(connection, [case.message.raw_message_id]), case.id or 0, ACTOR)
        bursts = [c for c in new_cases if c.id is not None and c.opening is not None and c not in promoted]
        chains = self.threader.loose_before(connection, [c.opening for c in bursts if c.opening is not None])
        for case, loose in zip(bursts, chains, strict=True):
            raw_ids = give_case(connection, [row.id for row in loose], case.id or 0, ACTOR)
            if not raw_ids:
                continue
            taken = [NormalizedMessage.model_validate(r) for r in normalized_records(connection, raw_ids)]
            self._add_messages(connection, taken, dict.fromkeys(raw_ids, case.id))
            store.record_events(connection, [_appended_event(m, case.id or 0, "window") for m in taken])

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
            case.reply = external.answered_elsewhere(case.message) or route_receipt(case.message, self.policy.replies)
            case.row = self._case_row(case)
        ids = store.insert_cases(connection, [case.row for case in new_cases])
        for case, case_id in zip(new_cases, ids, strict=True):
            case.id = case_id
        store.record_events(connection, [_created_event(case) for case in new_cases])
        store.record_events(connection, [_incomplete_event(c) for c in new_cases if c.row["missing"]])
        store.record_events(connection, [_followed_event(c) for c in new_cases if c.row.get("previous_case_id")])
        store.record_events(
            connection,
            [
                _appended_event(m, case.id, case.opening.reasons.get(m.raw_message_id, "conversation"))
                for case in new_cases
                if case.opening is not None
                for m in case.members
                if case.id and m is not case.message
            ],
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
        return {
            "tracking_number": case.tracking_number,
            "kind": found.kind,
            "category": found.unit,
            "unit": found.unit,
            "status": CASE_RECEIVED,
            "priority": found.priority,
            "reporter_id": message.reporter.reporter_id,
            "reporter_name": None if message.anonymous else message.reporter.name,
            "channel": message.channel,
            "receipt_via": case.receipt_via,
            "conversation_key": case.opening.conversation_key if case.opening else message.conversation_key,
            "previous_case_id": case.opening.previous_case_id if case.opening else None,
            "external_ref": external.external_ref(message),
            "subject": message.subject or _first_line(message.text),
            "routing_rules": ", ".join(found.rules),
            "received_at": message.received_at,
            "created_at": now,
            "updated_at": now,
            **self._procedure(message, found, asks=can_answer(case.reply, forms_mailed=self.policy.forms_mailed)),
        }

    def _procedure(self, message: NormalizedMessage, found: Classification, *, asks: bool) -> dict[str, Any]:
        """Deadlines, language, confidentiality and the required contents (``triage/lifecycle.py``):
        a report that lacks some waits for the reporter from its receipt, its clock stopped, when
        the receipt ``asks`` (the reporter can answer it: ``completeness.can_answer``); otherwise
        it opens incomplete, its clock running, and the officer asks when calling back."""
        assessed = self.assessor.assess(message, found)
        missing = list(assessed.missing)
        received, clock = message.received_at, self.desk.clock
        fields: dict[str, Any] = {
            **clock.on_receipt(found.kind, found.unit, received, urgent=assessed.urgent),
            "language": assessed.language,
            "confidential": assessed.confidential,
            "anonymous": assessed.anonymous,
            "complete": not missing,
            "missing": list(missing),
            "file_complete_at": None if missing else received,
        }
        if missing and asks:
            fields.update(status=CASE_WAITING, paused_at=received, paused_status=CASE_RECEIVED)
        return fields

    def _add_messages(
        self, connection: Connection, messages: Sequence[NormalizedMessage], case_of: Mapping[int, int | None]
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
                "channel_message_id": m.channel_message_id,
            }
            for m in messages
        ]
        if not any(m.attachments for m in messages):
            store.append_messages(connection, rows)
            return
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
            text = receipt(
                ReceiptFacts(
                    tracking_number=case.tracking_number,
                    kind=row["kind"],
                    unit_name=self.unit_names[row["unit"]],
                    confidential=row["confidential"],
                    first_response_due=row["first_response_due"],
                    resolution_due=row["resolution_due"],
                    missing=tuple(row["missing"]) if row["status"] == CASE_WAITING else (),
                ),
                self.desk.texts,
                row["language"],
            )
            rows.append(
                {
                    "case_id": case.id,
                    "channel": route.channel,
                    "purpose": "receipt",
                    "idempotency_key": f"receipt:{case.id}",
                    "recipient": route.recipient.model_dump(mode="json"),
                    "subject": text.subject,
                    "body": text.body,
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
            "follows_case_id": case.row.get("previous_case_id"),
        },
    }


def _followed_event(case: _NewCase) -> dict[str, Any]:
    """On the closed case a new one follows: its reporter wrote again after it was closed."""
    detail = {"case_id": case.id, "tracking_number": case.tracking_number}
    return {"case_id": case.row["previous_case_id"], "actor": ACTOR, "action": "followed_by", "detail": detail}


def _incomplete_event(case: _NewCase) -> dict[str, Any]:
    """The report lacks required contents: the receipt asks for them and the clock stops, or, when
    the reporter cannot answer it, the officer is to ask them when calling back."""
    if case.row["status"] == CASE_WAITING:
        detail = {"missing": case.row["missing"], "reason": "incomplete report"}
        return {"case_id": case.id, "actor": ACTOR, "action": "waiting_reporter", "detail": detail}
    detail = {"missing": case.row["missing"], "reason": ASK_WHEN_CALLING}
    return {"case_id": case.id, "actor": ACTOR, "action": "incomplete", "detail": detail}


def _in_person_event(case_id: int | None, reply: InPerson) -> dict[str, Any]:
    """The officer's cue: no channel carries the receipt, so the tracking number is given in person."""
    return {"case_id": case_id, "actor": ACTOR, "action": "receipt_in_person", "detail": {"reason": reply.reason}}


def _appended_event(
    message: NormalizedMessage, case_id: int, reason: str, evidence: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``reason``: why it joined (``tracking_number``, ``reply``, ``conversation``, ``window``)."""
    detail = {"channel": message.channel, "raw_message_id": message.raw_message_id, "reason": reason}
    if message.automatic:
        detail["automatic"] = True
    return {"case_id": case_id, "actor": ACTOR, "action": "message_added", "detail": {**detail, **(evidence or {})}}


def _first_line(text: str, limit: int = 120) -> str:
    line = text.strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"
