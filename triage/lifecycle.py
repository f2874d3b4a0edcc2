"""The life of a case as the procedure gives it, as plain functions the command line and the
officers' console call (no logic in either).

    received -> verifying -> forwarded -> in_progress -> resolved -> closed
    received | verifying -> rejected (the reason goes to the reporter)
    received | verifying | forwarded | in_progress -> waiting_reporter -> (back where it was)

Every action is one transaction: the case's change under a guard on the status it expects, a
case event naming who, when and why, and the messages it sends in the outbox (to the reporter
on their channel; to the unit by email). A transition the procedure forbids raises
:class:`Refused` with a message for the officer. Waiting for the reporter stops the clock; their
answer (``resume_if_waiting``, called where a message joins a case) starts it again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, select, update

from config.routing import KINDS, RoutingConfig
from config.settings import SurveySettings
from envelopes import NormalizedMessage, Recipient
from storage import cases as store
from storage.db import utcnow
from storage.models import (
    CASE_CLOSED,
    CASE_FORWARDED,
    CASE_IN_PROGRESS,
    CASE_RECEIVED,
    CASE_REJECTED,
    CASE_RESOLVED,
    CASE_VERIFYING,
    CASE_WAITING,
    OUTBOX_PENDING,
)
from storage.reporters import case_contacts
from storage.sweeps import NOT_QUEUED
from storage.tables import CASES, RAW, UNIT_INBOX
from triage import survey
from triage.deadlines import Clock, profile
from triage.replies import Reach, ReplyPolicy, Route, other_ways, route_receipt
from triage.texts import Texts

if TYPE_CHECKING:
    from pipeline.app import Parts

CHECKLIST = ("problem_identification", "substance_check", "clarification", "evidence_evaluation", "selection")
"""The ministry's review steps: optional items of ``verifying``, not statuses of their own."""
ACTIVE = (CASE_RECEIVED, CASE_VERIFYING, CASE_WAITING, CASE_FORWARDED, CASE_IN_PROGRESS, CASE_RESOLVED)
FINAL = (CASE_CLOSED, CASE_REJECTED)


class Refused(Exception):
    """The procedure does not allow this action now; the message says why, for the officer.
    ``code`` and ``facts`` let the console say it in the officer's language (``status``: the
    case's status does not allow the action; ``changed``: another officer changed it meanwhile)."""

    def __init__(self, message: str, code: str = "refused", **facts: Any) -> None:
        super().__init__(message)
        self.code = code
        self.facts = facts


@dataclass(frozen=True, slots=True)
class Desk:
    """What the actions need: the clock, the texts, the units, who can be written to."""

    clock: Clock
    texts: Texts
    routing: RoutingConfig
    replies: ReplyPolicy
    survey: SurveySettings

    @classmethod
    def from_parts(cls, parts: Parts) -> Desk:
        settings = parts.settings
        connectors = parts.connectors()
        return cls(
            clock=Clock(parts.calendar(), settings.sla),
            texts=Texts.load(settings.templates_dir, settings.zone),
            routing=parts.routing,
            replies=ReplyPolicy(
                sending=frozenset(name for name, c in connectors.items() if c.spec.can_send),
                fallback=settings.replies.fallback,
            ),
            survey=settings.survey,
        )

    def unit_name(self, key: str) -> str:
        try:
            return self.routing.unit(key).name
        except KeyError:
            return key


@dataclass(slots=True)
class Outcome:
    """What an action did: the case after it, and the outbox rows it wrote (for a caller that can
    publish them at once; otherwise the sweeper sends them within its interval)."""

    case: dict[str, Any]
    outbox: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What the officer should know: "no channel reaches the reporter: tell them in person"."""


# --- reading -----------------------------------------------------------------------------------


def load(connection: Connection, reference: str | int) -> dict[str, Any]:
    """A case by id or tracking number, or Refused naming the reference."""
    text = str(reference).strip()
    condition = CASES.c.id == int(text) if text.isdigit() else CASES.c.tracking_number == text
    row = connection.execute(select(CASES).where(condition)).mappings().first()
    if row is None:
        raise Refused(f"{reference}: no such case")
    return dict(row)


def _require(case: Mapping[str, Any], action: str, allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    if case["status"] not in allowed:
        raise Refused(
            f"{case['tracking_number']} is {case['status']}: "
            f"{action} is allowed only when it is {' or '.join(allowed)}",
            "status",
            tracking_number=case["tracking_number"],
            status=case["status"],
            action=action,
            allowed=allowed,
        )


# --- actions -----------------------------------------------------------------------------------


def verify(
    connection: Connection,
    desk: Desk,
    reference: str | int,
    by: str,
    *,
    steps: Iterable[str] = (),
    complete: bool = False,
    note: str = "",
) -> Outcome:
    """Start verifying (``received``), tick review steps, and/or declare the file complete."""
    case = load(connection, reference)
    _require(case, "verify", (CASE_RECEIVED, CASE_VERIFYING))
    now = utcnow()
    unknown = [step for step in steps if step not in CHECKLIST]
    if unknown:
        raise Refused(f"unknown review step {', '.join(unknown)}; the steps are {', '.join(CHECKLIST)}")
    checklist = dict(case["checklist"] or {})
    for step in steps:
        checklist[step] = {"by": by, "at": now.isoformat(), "note": note}
    values: dict[str, Any] = {"status": CASE_VERIFYING, "checklist": checklist}
    if complete and case["file_complete_at"] is None:
        values.update(_completed(desk, case, now))
    _change(connection, case, values)
    detail = {"from": case["status"], "steps": list(steps), "complete": complete, "note": note}
    _event(connection, case, by, "verifying" if case["status"] == CASE_RECEIVED else "checklist", detail, now)
    return Outcome(load(connection, case["id"]))


def ask(
    connection: Connection,
    desk: Desk,
    reference: str | int,
    by: str,
    *,
    question: str = "",
    missing: Iterable[str] = (),
) -> Outcome:
    """Ask the reporter (a question, or the required contents missing): the clock stops."""
    case = load(connection, reference)
    _require(case, "ask", (CASE_RECEIVED, CASE_VERIFYING, CASE_FORWARDED, CASE_IN_PROGRESS))
    wanted = list(dict.fromkeys(missing))
    if not question.strip() and not wanted:
        raise Refused("say what to ask: a question, or what is missing")
    now = utcnow()
    facts = _facts(desk, case)
    if wanted:
        text = desk.texts.render("request", case["language"], **facts, missing=wanted)
    else:
        text = desk.texts.render("ask", case["language"], **facts, question=question.strip())
    values: dict[str, Any] = {
        "status": CASE_WAITING,
        "paused_at": now,
        "paused_status": case["status"],
        "first_response_at": case["first_response_at"] or now,
    }
    if wanted:
        values["missing"] = wanted
    _change(connection, case, values)
    _event(connection, case, by, "waiting_reporter", {"question": question, "missing": wanted}, now)
    outcome = Outcome(load(connection, case["id"]))
    _to_reporter(connection, desk, outcome, "request", text, now)
    return outcome


def forward(
    connection: Connection, desk: Desk, reference: str | int, by: str, *, unit: str | None = None, note: str = ""
) -> Outcome:
    """Forward (dispose) the verified case to a unit, which is told by email and in its inbox."""
    case = load(connection, reference)
    _require(case, "forward", (CASE_VERIFYING, CASE_FORWARDED))
    target = unit or case["unit"]
    if target not in desk.routing.unit_keys:
        raise Refused(f"{target!r} is not a unit; the units are {', '.join(desk.routing.unit_keys)}")
    if case["status"] == CASE_FORWARDED and target == case["unit"]:
        raise Refused(f"{case['tracking_number']} is already forwarded to {target}")
    now = utcnow()
    values: dict[str, Any] = {"status": CASE_FORWARDED, "unit": target, "forwarded_at": case["forwarded_at"] or now}
    if target != case["unit"]:
        values["assignee"] = None
    if case["file_complete_at"] is None:
        values.update(_completed(desk, case, now))
    _change(connection, case, values)
    _event(connection, case, by, "forwarded", {"from": case["status"], "unit": target, "note": note}, now)
    outcome = Outcome(load(connection, case["id"]))
    _notify_unit(connection, desk, outcome, "forwarded", now)
    return outcome


def assign(connection: Connection, desk: Desk, reference: str | int, by: str, *, officer: str) -> Outcome:
    """Assign the case to an officer of its unit."""
    case = load(connection, reference)
    _require(case, "assign", (CASE_FORWARDED, CASE_IN_PROGRESS))
    officers = desk.routing.unit(case["unit"]).officers if case["unit"] in desk.routing.unit_keys else []
    if officers and officer not in officers:
        raise Refused(f"{officer!r} is not an officer of {case['unit']}; its officers are {', '.join(officers)}")
    now = utcnow()
    _change(connection, case, {"assignee": officer})
    _event(connection, case, by, "assigned", {"officer": officer, "before": case["assignee"]}, now)
    return Outcome(load(connection, case["id"]))


def start(connection: Connection, desk: Desk, reference: str | int, by: str, *, note: str = "") -> Outcome:
    """The unit starts work on the case."""
    case = load(connection, reference)
    _require(case, "start", (CASE_FORWARDED,))
    now = utcnow()
    _change(connection, case, {"status": CASE_IN_PROGRESS})
    _event(connection, case, by, "in_progress", {"note": note}, now)
    return Outcome(load(connection, case["id"]))


def reply(
    connection: Connection,
    desk: Desk,
    reference: str | int,
    by: str,
    *,
    text: str,
    channel: str | None = None,
    address: str | None = None,
) -> Outcome:
    """Write to the reporter (a follow-up): it meets the first follow-up deadline. By default on
    the channel of their latest message; ``channel`` (and ``address``) picks another of their
    ways instead (:func:`reply_ways`: a phone or email of theirs that a sending channel reaches)."""
    case = load(connection, reference)
    _require(case, "reply", ACTIVE)
    if not text.strip():
        raise Refused("the reply is empty")
    route = _chosen_route(connection, desk, case, channel, address)
    now = utcnow()
    _change(connection, case, {"first_response_at": case["first_response_at"] or now})
    _event(connection, case, by, "replied", {"chars": len(text), "channel": route.channel if route else None}, now)
    outcome = Outcome(load(connection, case["id"]))
    rendered = desk.texts.render("reply", case["language"], **_facts(desk, case), text=text.strip())
    _to_reporter(connection, desk, outcome, "reply", rendered, now, route=route)
    return outcome


def reply_ways(connection: Connection, desk: Desk, case_id: int) -> list[Reach]:
    """The reporter's ways besides their conversation: each phone and email of theirs (and of the
    reporters linked with them) that an enabled, sending channel of ``replies.fallback`` reaches."""
    contacts = case_contacts(connection, [case_id]).get(case_id, [])
    nobody = Recipient(conversation_key="")
    return other_ways(contacts, desk.replies, failed=nobody, channel="", channel_down=False)


def _chosen_route(
    connection: Connection, desk: Desk, case: Mapping[str, Any], channel: str | None, address: str | None
) -> Route | None:
    """The route an officer picked; None for the default (the reporter's own conversation)."""
    if not channel:
        return None
    own = reporter_route(connection, desk, case["id"])
    if own is not None and own.channel == channel and not address:
        return own
    for way in reply_ways(connection, desk, case["id"]):
        if way.channel == channel and (not address or way.address == address):
            recipient = Recipient(
                via=way.via,
                conversation_key=case["conversation_key"],
                name=case["reporter_name"],
                phone=way.address if way.via == "phone" else None,
                email=way.address if way.via == "email" else None,
            )
            return Route(way.channel, recipient, None)
    raise Refused(f"{channel} reaches no phone or email of this reporter", "no_way", channel=channel)


def extend(connection: Connection, desk: Desk, reference: str | int, by: str, *, reason: str) -> Outcome:
    """Extend the resolution deadline once, with a recorded reason; the reporter is told."""
    case = load(connection, reference)
    _require(case, "extend", (CASE_FORWARDED, CASE_IN_PROGRESS))
    if case["extended"]:
        raise Refused(f"{case['tracking_number']}: the resolution deadline was extended before; only once is allowed")
    if not reason.strip():
        raise Refused("an extension needs its reason")
    now = utcnow()
    rules = profile(desk.clock.sla, case["kind"], case["category"])
    later = desk.clock.extended(rules, case["resolution_due"], case["final_due"])
    _change(connection, case, {"resolution_due": later, "extended": True})
    detail = {"reason": reason, "before": case["resolution_due"].isoformat(), "after": later.isoformat()}
    _event(connection, case, by, "extended", detail, now)
    outcome = Outcome(load(connection, case["id"]))
    facts = {**_facts(desk, case), "resolution_due": later, "reason": reason.strip()}
    _to_reporter(connection, desk, outcome, "reply", desk.texts.render("extended", case["language"], **facts), now)
    return outcome


def resolve(connection: Connection, desk: Desk, reference: str | int, by: str, *, report: str) -> Outcome:
    """Resolved, with the follow-up report (produk pelayanan) to the reporter and, once, the survey."""
    case = load(connection, reference)
    _require(case, "resolve", (CASE_IN_PROGRESS,))
    if not report.strip():
        raise Refused("resolving needs the follow-up report (what was done) for the reporter")
    now = utcnow()
    _change(
        connection,
        case,
        {"status": CASE_RESOLVED, "resolved_at": now, "first_response_at": case["first_response_at"] or now},
    )
    _event(connection, case, by, "resolved", {"chars": len(report)}, now)
    outcome = Outcome(load(connection, case["id"]))
    facts = {**_facts(desk, case), "text": report.strip(), "survey": desk.survey.enabled}
    route = _to_reporter(
        connection, desk, outcome, "report", desk.texts.render("report", case["language"], **facts), now, key="report"
    )
    if desk.survey.enabled and route is not None:
        token = survey.open_survey(connection, case["id"], case["unit"], route.channel, now)
        if token is not None:
            link = f"{desk.survey.public_url.rstrip('/')}/survei/{token}"
            text = desk.texts.render("survey", case["language"], **_facts(desk, case), link=link)
            _to_reporter(connection, desk, outcome, "survey", text, now, key="survey", route=route)
            _event(connection, case, "system:lifecycle", "survey_sent", {"channel": route.channel}, now)
    return outcome


def correct(
    connection: Connection,
    desk: Desk,
    reference: str | int,
    by: str,
    *,
    kind: str | None = None,
    unit: str | None = None,
    note: str = "",
) -> Outcome:
    """Correct what triage guessed, before the case is forwarded (after, ``forward`` moves it):
    the kind (the resolution deadline and ceiling follow the new kind's, counted from the day
    the file was complete), and the unit (a sensitive unit makes the case confidential; nothing
    makes it less so)."""
    case = load(connection, reference)
    _require(case, "correct", (CASE_RECEIVED, CASE_VERIFYING, CASE_WAITING))
    kind = kind or case["kind"]
    unit = unit or case["unit"]
    if kind not in KINDS:
        raise Refused(f"{kind!r} is not a kind; the kinds are {', '.join(KINDS)}", "kind", kind=kind)
    if unit not in desk.routing.unit_keys:
        raise Refused(f"{unit!r} is not a unit; the units are {', '.join(desk.routing.unit_keys)}", "unit", unit=unit)
    if kind == case["kind"] and unit == case["unit"]:
        raise Refused(f"{case['tracking_number']} already has kind {kind} and unit {unit}", "unchanged")
    values: dict[str, Any] = {"kind": kind, "unit": unit, "category": unit}
    if unit != case["unit"]:
        values["assignee"] = None
        values["confidential"] = bool(case["confidential"]) or unit in desk.routing.sensitive_units
    if case["resolved_at"] is None:
        rules = profile(desk.clock.sla, kind, unit)
        values.update(desk.clock.from_complete(rules, case["file_complete_at"] or case["received_at"]))
        if case["extended"]:
            values["resolution_due"] = desk.clock.extended(rules, values["resolution_due"], values["final_due"])
    now = utcnow()
    _change(connection, case, values)
    detail = {"kind": [case["kind"], kind], "unit": [case["unit"], unit], "note": note}
    _event(connection, case, by, "corrected", detail, now)
    return Outcome(load(connection, case["id"]))


def close(connection: Connection, desk: Desk, reference: str | int, by: str, *, note: str = "") -> Outcome:
    case = load(connection, reference)
    _require(case, "close", (CASE_RESOLVED,))
    now = utcnow()
    _change(connection, case, {"status": CASE_CLOSED, "closed_at": now})
    _event(connection, case, by, "closed", {"note": note}, now)
    return Outcome(load(connection, case["id"]))


def answered_at_desk(connection: Connection, desk: Desk, reference: str | int, by: str, *, answer: str) -> Outcome:
    """A question answered at the counter while the visitor waits (an information request, mostly):
    recorded and closed at once. Every deadline counts as met now; the answer is kept in the audit
    trail; no unit is notified and nothing is sent, the visitor heard it in person."""
    case = load(connection, reference)
    _require(case, "answer at the desk", (CASE_RECEIVED, CASE_VERIFYING))
    if not answer.strip():
        raise Refused("answering at the desk needs the answer given, for the record")
    now = utcnow()
    values: dict[str, Any] = {
        "status": CASE_CLOSED,
        "forwarded_at": case["forwarded_at"] or now,
        "first_response_at": case["first_response_at"] or now,
        "resolved_at": now,
        "closed_at": now,
    }
    if case["file_complete_at"] is None:
        values.update(_completed(desk, case, now))
    _change(connection, case, values)
    _event(connection, case, by, "answered_at_desk", {"from": case["status"], "answer": answer.strip()}, now)
    _event(connection, case, by, "closed", {"note": "answered at the desk"}, now)
    return Outcome(load(connection, case["id"]))


def reject(connection: Connection, desk: Desk, reference: str | int, by: str, *, reason: str) -> Outcome:
    """Not acted on (not our authority, not a matter of public service...): the reason goes to the reporter."""
    case = load(connection, reference)
    _require(case, "reject", (CASE_RECEIVED, CASE_VERIFYING, CASE_WAITING))
    if not reason.strip():
        raise Refused("rejecting needs the reason, which is sent to the reporter")
    now = utcnow()
    values = {
        "status": CASE_REJECTED,
        "closed_at": now,
        "paused_at": None,
        "first_response_at": case["first_response_at"] or now,
    }
    _change(connection, case, values)
    _event(connection, case, by, "rejected", {"reason": reason}, now)
    outcome = Outcome(load(connection, case["id"]))
    text = desk.texts.render("rejected", case["language"], **_facts(desk, case), reason=reason.strip())
    _to_reporter(connection, desk, outcome, "reply", text, now)
    return outcome


# --- the reporter's answers ---------------------------------------------------------------------


def resume_if_waiting(connection: Connection, clock: Clock, case_id: int, at: datetime, by: str = "reporter") -> bool:
    """The reporter answered: a case waiting for them goes back where it was, its open deadlines
    moved by the working days the clock was stopped; a file that lacked contents counts as
    complete from the answer (its resolution and legal clocks start then). False: not waiting."""
    case = load(connection, case_id)
    if case["status"] != CASE_WAITING or case["paused_at"] is None:
        return False
    paused = case["paused_at"]
    values: dict[str, Any] = {
        "status": case["paused_status"] or CASE_RECEIVED,
        "paused_at": None,
        "paused_status": None,
        **clock.resumed(case, paused, at),
    }
    if case["missing"]:
        values["missing"] = []
        if case["file_complete_at"] is None:
            values.update(_completed_at(clock, case, at))
    _change(connection, case, values)
    lost = clock.calendar.working_days_between(paused, at)
    _event(connection, case, by, "resumed", {"to": values["status"], "paused_working_days": lost}, at)
    return True


def on_reporter_message(
    connection: Connection, desk: Desk, case_id: int, message: NormalizedMessage
) -> list[tuple[int, str]]:
    """A message of the reporter joined the case: resume a waiting case, or take a survey answer.
    Returns the outbox rows written (the thanks for a survey answer)."""
    if message.automatic:
        return []
    if resume_if_waiting(connection, desk.clock, case_id, message.received_at):
        return []
    scores = survey.parse_chat_answer(message.text)
    if scores is None or not survey.waiting_survey(connection, case_id):
        return []
    if not survey.record_answers(connection, case_id, scores, message.channel, message.received_at):
        return []
    case = load(connection, case_id)
    _event(connection, case, "reporter", "survey_answered", {"channel": message.channel}, message.received_at)
    outcome = Outcome(case)
    text = desk.texts.render("survey_thanks", case["language"], **_facts(desk, case))
    route = route_receipt(message, desk.replies)
    if isinstance(route, Route):
        _write(connection, case, route, "reply", text, utcnow(), f"survey-thanks:{case_id}", outcome)
    return outcome.outbox


def answer_survey_form(connection: Connection, token: str, scores: Mapping[int, int], at: datetime) -> bool:
    """The full form on the public pages; False for an unknown token or a survey answered before."""
    found = survey.survey_by_token(connection, token)
    if found is None:
        return False
    case_id = int(str(found["case_id"]))
    if not survey.record_answers(connection, case_id, scores, "public_pages", at):
        return False
    _event(connection, load(connection, case_id), "reporter", "survey_answered", {"channel": "public_pages"}, at)
    return True


# --- helpers -------------------------------------------------------------------------------------


def _completed(desk: Desk, case: Mapping[str, Any], at: datetime) -> dict[str, Any]:
    return _completed_at(desk.clock, case, at)


def _completed_at(clock: Clock, case: Mapping[str, Any], at: datetime) -> dict[str, Any]:
    """The file is complete at ``at``: the resolution and the legal ceiling count from then."""
    rules = profile(clock.sla, case["kind"], case["category"])
    return {"file_complete_at": at, "complete": True, "missing": [], **clock.from_complete(rules, at)}


def _change(connection: Connection, case: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """Update under a guard on the status read: another officer's change meanwhile refuses this one."""
    changed = connection.execute(
        update(CASES)
        .where(and_(CASES.c.id == case["id"], CASES.c.status == case["status"]))
        .values(**values, updated_at=utcnow())
    ).rowcount
    if changed != 1:
        raise Refused(
            f"{case['tracking_number']} changed meanwhile; look at it again",
            "changed",
            tracking_number=case["tracking_number"],
        )


def _event(
    connection: Connection, case: Mapping[str, Any], by: str, action: str, detail: dict[str, Any], at: datetime
) -> None:
    store.record_events(
        connection, [{"case_id": case["id"], "actor": by, "action": action, "detail": detail, "at": at}]
    )


def _facts(desk: Desk, case: Mapping[str, Any]) -> dict[str, Any]:
    """What every text may say of the case; a confidential case's texts get no unit name."""
    confidential = bool(case["confidential"])
    return {
        "tracking_number": case["tracking_number"],
        "confidential": confidential,
        "unit_name": "" if confidential else desk.unit_name(case["unit"]),
    }


def reporter_route(connection: Connection, desk: Desk, case_id: int) -> Route | None:
    """Where the reporter is reached now: the channel of their latest message on the case."""
    record = connection.execute(
        select(RAW.c.normalized).where(RAW.c.case_id == case_id).order_by(RAW.c.id.desc()).limit(1)
    ).scalar_one_or_none()
    if record is None:
        return None
    route = route_receipt(NormalizedMessage.model_validate(record), desk.replies)
    return route if isinstance(route, Route) else None


def _to_reporter(
    connection: Connection,
    desk: Desk,
    outcome: Outcome,
    purpose: str,
    text: Any,
    now: datetime,
    *,
    key: str | None = None,
    route: Route | None = None,
) -> Route | None:
    case = outcome.case
    route = route or reporter_route(connection, desk, case["id"])
    if route is None:
        outcome.notes.append("no channel reaches the reporter: tell them in person or by phone")
        _event(connection, case, "system:lifecycle", "reply_in_person", {"purpose": purpose}, now)
        return None
    idempotency = f"{key}:{case['id']}" if key else f"{purpose}:{case['id']}:{uuid.uuid4().hex[:12]}"
    _write(connection, case, route, purpose, text, now, idempotency, outcome)
    return route


def _write(
    connection: Connection,
    case: Mapping[str, Any],
    route: Route,
    purpose: str,
    text: Any,
    now: datetime,
    idempotency: str,
    outcome: Outcome,
) -> None:
    """An outbox row left for the sweeper's next round (or for a caller that publishes it)."""
    row = {
        "case_id": case["id"],
        "channel": route.channel,
        "purpose": purpose,
        "idempotency_key": idempotency,
        "recipient": route.recipient.model_dump(mode="json"),
        "subject": text.subject,
        "body": text.body,
        "in_reply_to": route.in_reply_to,
        "state": OUTBOX_PENDING,
        "attempts": 0,
        "queued_at": NOT_QUEUED,
        "next_attempt_at": now,
        "created_at": now,
    }
    [outbox_id] = store.insert_outbox(connection, [row])
    outcome.outbox.append((outbox_id, route.channel))


def notify_unit(
    connection: Connection, desk: Desk, case: Mapping[str, Any], kind: str, text: Any, now: datetime
) -> list[tuple[int, str]]:
    """The unit's inbox always; its email when it has an address and the email channel sends.
    A confidential case's notice carries no detail of the matter (the templates see to it)."""
    connection.execute(UNIT_INBOX.insert(), {"unit": case["unit"], "case_id": case["id"], "kind": kind, "at": now})
    address = desk.routing.unit(case["unit"]).email if case["unit"] in desk.routing.unit_keys else None
    if not address or "email" not in desk.replies.sending:
        return []
    recipient = Recipient(via="email", conversation_key=f"unit:{case['unit']}", email=address)
    outcome = Outcome(dict(case))
    _write(
        connection,
        case,
        Route("email", recipient, None),
        "notice",
        text,
        now,
        f"notice:{case['id']}:{uuid.uuid4().hex[:12]}",
        outcome,
    )
    return outcome.outbox


def _notify_unit(connection: Connection, desk: Desk, outcome: Outcome, kind: str, now: datetime) -> None:
    case = outcome.case
    facts = {
        **_facts(desk, case),
        "unit_name": desk.unit_name(case["unit"]),
        "kind": case["kind"],
        "subject": "" if case["confidential"] else case["subject"],
        "resolution_due": case["resolution_due"],
        "assignee": case["assignee"],
    }
    text = desk.texts.render("unit_notice", "id", **facts)
    outcome.outbox += notify_unit(connection, desk, case, kind, text, now)
