"""Reports that already have a number on another platform (SP4N-LAPOR!).

Such a report opens one case per platform ID (``cases.external_ref``, unique per channel), kept
beside our tracking number. The platform told the reporter already, so no receipt is written:
the case records instead that follow-ups are posted on the platform. A later copy of the report
whose status or disposition changed (a newer export: its raw id hashes them, so an unchanged copy
never gets this far) updates that case once, as an event, and opens nothing.

The triage stage calls :func:`split` on its batch before threading, :func:`answered_elsewhere`
where it routes receipts, and :func:`apply` once its new cases exist.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, and_, select

from envelopes import NormalizedMessage
from pipeline.stage import StageResult
from storage import cases as store
from storage.models import RAW_NORMALIZED, RAW_TRIAGED
from storage.raw import advance
from storage.tables import CASES, EVENTS

ACTOR = "system:triage"
PLATFORMS = {"lapor": "SP4N-LAPOR!"}
FOLLOW_UP = "follow_up_elsewhere"
CHANGED = "external_status_changed"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Elsewhere:
    """No receipt from us: the platform the report came by answers the reporter."""

    channel: str
    reason: str


def platform(system: str) -> str:
    return PLATFORMS.get(system, system)


def answered_elsewhere(message: NormalizedMessage) -> Elsewhere | None:
    ref = message.external_ref
    if ref is None:
        return None
    name = platform(ref.system)
    return Elsewhere(message.channel, f"{name} told the reporter; post follow-ups on {name}")


def external_ref(message: NormalizedMessage) -> str | None:
    return None if message.external_ref is None else message.external_ref.id


def split(
    connection: Connection, batch: Sequence[T], message_of: Callable[[T], NormalizedMessage]
) -> tuple[list[T], list[NormalizedMessage]]:
    """``(to thread, updates)``: a message whose platform ID has a case already, or comes again
    later in the batch, is an update of that case, not a new one."""
    refs = {(m.channel, ref) for item in batch if (ref := external_ref(m := message_of(item)))}
    known = _cases_by_ref(connection, refs)
    fresh: list[T] = []
    updates: list[NormalizedMessage] = []
    opening: set[tuple[str, str]] = set()
    for item in batch:
        message = message_of(item)
        ref = external_ref(message)
        key = (message.channel, ref or "")
        if ref is None:
            fresh.append(item)
        elif key in known or key in opening:
            updates.append(message)
        else:
            opening.add(key)
            fresh.append(item)
    return fresh, updates


def apply(
    connection: Connection, updates: Sequence[NormalizedMessage], created: Sequence[tuple[int, NormalizedMessage]]
) -> StageResult:
    """Record on each new case where follow-ups go, then apply the updates in arrival order."""
    opened = [(case_id, m) for case_id, m in created if m.external_ref is not None]
    store.record_events(connection, [_follow_up_event(case_id, m) for case_id, m in opened])
    if not updates:
        return StageResult()
    ordered = sorted(updates, key=lambda m: m.raw_message_id)
    cases = _cases_by_ref(connection, {(m.channel, key) for m in ordered if (key := external_ref(m))})
    state = _last_states(connection, set(cases.values()))
    events: list[dict[str, Any]] = []
    moved: list[dict[str, Any]] = []
    for message in ordered:
        ref = message.external_ref
        assert ref is not None  # only messages with a platform ID are updates
        case_id = cases[(message.channel, ref.id)]
        now = {"status": ref.status, "disposition": ref.disposition}
        if state.get(case_id) != now:
            events.append(_changed_event(case_id, message, state.get(case_id), now))
            state[case_id] = now
        moved.append({"id": message.raw_message_id, "state": RAW_TRIAGED, "case_id": case_id})
    store.record_events(connection, events)
    store.touch_cases(connection, {int(row["case_id"]) for row in moved})
    advance(connection, moved, RAW_NORMALIZED)
    return StageResult(done={"external_update_raw_message_ids": [m.raw_message_id for m in ordered]})


def _cases_by_ref(connection: Connection, refs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    if not refs:
        return {}
    channels = {c for c, _ in refs}
    rows = connection.execute(
        select(CASES.c.channel, CASES.c.external_ref, CASES.c.id).where(
            and_(CASES.c.channel.in_(channels), CASES.c.external_ref.in_({r for _, r in refs}))
        )
    )
    return {(r.channel, r.external_ref): r.id for r in rows if (r.channel, r.external_ref) in refs}


def _last_states(connection: Connection, case_ids: set[int]) -> dict[int, dict[str, Any]]:
    """The platform's status and disposition each case last recorded."""
    if not case_ids:
        return {}
    rows = connection.execute(
        select(EVENTS.c.case_id, EVENTS.c.detail)
        .where(and_(EVENTS.c.case_id.in_(case_ids), EVENTS.c.action.in_((FOLLOW_UP, CHANGED))))
        .order_by(EVENTS.c.id)
    )
    found: dict[int, dict[str, Any]] = {}
    for case_id, detail in rows:
        found[case_id] = {"status": detail.get("status"), "disposition": detail.get("disposition")}
    return found


def _follow_up_event(case_id: int, message: NormalizedMessage) -> dict[str, Any]:
    ref = message.external_ref
    assert ref is not None
    return {
        "case_id": case_id,
        "actor": ACTOR,
        "action": FOLLOW_UP,
        "detail": {
            "platform": platform(ref.system),
            "external_ref": ref.id,
            "url": ref.url,
            "status": ref.status,
            "disposition": ref.disposition,
            "reason": f"no receipt from us: {platform(ref.system)} told the reporter; post follow-ups there",
        },
    }


def _changed_event(
    case_id: int, message: NormalizedMessage, before: dict[str, Any] | None, now: dict[str, Any]
) -> dict[str, Any]:
    ref = message.external_ref
    assert ref is not None
    return {
        "case_id": case_id,
        "actor": ACTOR,
        "action": CHANGED,
        "detail": {
            "platform": platform(ref.system),
            "external_ref": ref.id,
            "before": before,
            **now,
            "raw_message_id": message.raw_message_id,
        },
    }
