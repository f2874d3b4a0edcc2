"""What the console's templates show, shaped from ``console.queries``' answers: plain values in
the page's language, the reporter masked where the officer's role may not see them.

Kept apart from the handlers so that the templates depend on these dictionaries only, not on
the queries' dataclasses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from config.settings import QueueSettings
from connectors.pages import size_text
from console.i18n import Translator
from console.queries import (
    AttachmentInfo,
    AuditEntry,
    CaseSummary,
    DeadlineInfo,
    ReporterInfo,
    ThreadEntry,
)
from console.records import QueueVisit

VIEWABLE = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain", "audio/ogg", "audio/mpeg"}
)
"""Types a browser shows itself, safely: the rest is only downloaded."""
IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
DETAIL_CHARS = 160
"""An audit event's detail, as one line: longer is cut."""
HIDDEN_DETAIL = frozenset(
    {"address", "recipient", "to", "phone", "email", "name", "nik", "provider_message_id", "outbox_id", "attempt"}
)
"""Keys of an event's detail not shown in the trail: what can hold a reporter's identity, and
the delivery's own bookkeeping."""


def left_text(t: Translator, due: datetime | None, now: datetime) -> str:
    if due is None:
        return ""
    return t.time_left(_aware(due) - now)


def summary_row(t: Translator, case: CaseSummary, unit_names: Mapping[str, str], now: datetime) -> dict[str, Any]:
    """One line of the inbox. A protected reporter (confidential or anonymous) is never named in a
    list, whoever looks: naming them is a view to audit, done on the case page only."""
    protected = case.confidential or case.anonymous
    return {
        "tracking_number": case.tracking_number,
        "subject": case.subject,
        "kind": case.kind,
        "unit": case.unit,
        "unit_name": unit_names.get(case.unit, case.unit),
        "status": case.status,
        "channel": case.channel,
        "priority": case.priority,
        "confidential": case.confidential,
        "anonymous": case.anonymous,
        "assignee": case.assignee,
        "reporter": t("masked") if protected else (case.reporter_name or t("nobody")),
        "received_at": case.received_at,
        "next_due": case.next_due,
        "overdue": case.overdue,
        "left": left_text(t, case.next_due, now),
        "next_deadline": case.next_deadline,
    }


def thread_view(entries: Sequence[ThreadEntry]) -> list[dict[str, Any]]:
    """The thread as the page lists it; notices to a unit's mailbox are left out (they are not
    the conversation with the reporter; the audit trail records them)."""
    shown = []
    for entry in entries:
        if not entry.to_reporter:
            continue
        shown.append(
            {
                "id": entry.message_id,
                "key": entry.key,
                "direction": entry.direction,
                "channel": entry.channel,
                "at": entry.at,
                "subject": entry.subject,
                "text": entry.text,
                "officer": _officer(entry.officer),
                "delivery": _delivery(entry),
                "error": entry.error if entry.direction == "out" and _delivery(entry) in ("dead", "failed") else None,
                "attachments": [attachment_view(a) for a in entry.attachments],
            }
        )
    return shown


def _officer(actor: str | None) -> str | None:
    if actor is None or actor.startswith("system:"):
        return None
    return actor


def _delivery(entry: ThreadEntry) -> str | None:
    """The furthest state a message reached: the channel's word once it spoke, else the outbox's."""
    if entry.direction != "out":
        return None
    if entry.state == "dead":
        return "dead"
    return entry.delivery or entry.state


def attachment_view(file: AttachmentInfo) -> dict[str, Any]:
    kind = (file.content_type or "").split(";", 1)[0].strip().lower()
    return {
        "id": file.id,
        "filename": file.filename or file.id,
        "size_text": size_text(file.size) if file.size else "",
        "available": file.available,
        "state": file.state,
        "viewable": file.available and kind in VIEWABLE,
        "image": file.available and kind in IMAGES,
    }


def deadlines_view(t: Translator, deadlines: Iterable[DeadlineInfo]) -> list[dict[str, Any]]:
    shown = []
    for deadline in deadlines:
        if deadline.met_at is not None:
            left = t("left.met")
        elif deadline.left is not None:
            left = t.time_left(deadline.left)
        else:
            left = t("left.paused")
        shown.append(
            {
                "key": deadline.name,
                "due": deadline.due,
                "left": left,
                "late": deadline.overdue,
                "met": deadline.met_at is not None,
                "running": deadline.running,
            }
        )
    return shown


def audit_view(t: Translator, events: Iterable[AuditEntry]) -> list[dict[str, Any]]:
    return [
        {"at": e.at, "actor": e.actor, "action": t.code("event", e.action), "detail": _detail(e.detail)} for e in events
    ]


def _detail(detail: Mapping[str, Any]) -> str:
    parts = []
    for key, value in detail.items():
        if key in HIDDEN_DETAIL or value in (None, "", [], {}):
            continue
        shown = ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
        parts.append(f"{key}: {shown}")
    text = "; ".join(parts)
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 1] + "…"


def reporter_view(reporter: ReporterInfo | None, *, visible: bool, protected: bool) -> dict[str, Any]:
    """The reporter's box: everything when the officer may see them, else only that it is withheld."""
    if reporter is None or not visible:
        return {"visible": reporter is None, "protected": protected, "name": None, "identities": [], "suggestions": []}
    identities: list[dict[str, Any]] = [
        *({"kind": "email", "value": v} for v in reporter.email),
        *({"kind": "phone", "value": v} for v in reporter.phone),
        *({"kind": "akun", "value": v} for v in reporter.channel_user),
    ]
    for linked in reporter.linked:
        for kind, value in linked.identities:
            identities.append({"kind": kind, "value": value, "link": linked.link_id})
    suggestions = [
        {
            "id": s.claim_id,
            "text": f"{s.kind} {s.value} → {s.other_name or '#' + str(s.other_id)}",
            "cases": s.other_cases,
        }
        for s in reporter.suggestions
    ]
    return {
        "visible": True,
        "protected": protected,
        "name": reporter.name,
        "identities": identities,
        "suggestions": suggestions,
    }


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def queue_visits_view(t: Translator, visits: Sequence[QueueVisit], queue: QueueSettings) -> list[str]:
    """Each walk-in visit's queue number as the case page lists it: number, counter, waiting time."""
    shown = []
    for visit in visits:
        counter = queue.counter(visit.counter) if visit.counter else None
        if counter is None or visit.waited is None:
            shown.append(visit.number)
            continue
        minutes = int(visit.waited.total_seconds() // 60)
        shown.append(t("case.queue_value", number=visit.number, counter=counter.name, minutes=minutes))
    return shown
