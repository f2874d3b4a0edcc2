"""Officers merge two cases into one, or split messages off into a case of their own; both are
recorded (``case_move``) with what moved, so that either can be undone.

A merge moves every message of the source into the target and closes the source, which then
stands for the target (``merged_into_id``): a reply to it, its tracking number or its
conversation reach the target. A split makes a case for some messages of a case (a second matter
in one chat), with a tracking number of its own and the source's kind, unit and deadlines.
Undoing a merge moves back what moved and reopens the source; undoing a split moves the messages
back and merges the split case into its source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from storage.cases import record_events
from storage.db import utcnow
from storage.models import CaseMove
from storage.tables import CASES, MESSAGES, RAW
from storage.threads import CASELESS

MOVES = CaseMove.__table__  # type: ignore[attr-defined]


class Refused(Exception):
    """The merge, split or undo cannot be done; the text says why."""


@dataclass(frozen=True, slots=True)
class Moved:
    move_id: int
    source: str
    """The source case's tracking number."""
    target: str
    messages: int


def _closed_as(case: dict[str, Any]) -> str:
    """How a closed case ended, as an officer calls it (``rejected``, ``resolved``, ``merged``)."""
    return str(case["status"]).replace("_", " ")


def find(connection: Connection, reference: str | int) -> dict[str, Any]:
    """A case by id or tracking number (canonical form), or Refused."""
    text = str(reference).strip()
    condition = CASES.c.id == int(text) if text.isdigit() else CASES.c.tracking_number == text
    row = connection.execute(select(CASES).where(condition)).mappings().first()
    if row is None:
        raise Refused(f"no case {reference}")
    return dict(row)


def merge(connection: Connection, source_ref: str | int, target_ref: str | int, actor: str, reason: str = "") -> Moved:
    """Move every message of ``source`` into ``target`` and close ``source`` into it."""
    source, target = find(connection, source_ref), find(connection, target_ref)
    if source["id"] == target["id"]:
        raise Refused("a case cannot be merged into itself")
    for case in (source, target):
        if case["closed_at"] is not None:
            raise Refused(f"{case['tracking_number']} is {_closed_as(case)}: only open cases are merged")
    moved = _message_ids(connection, source["id"])
    now = utcnow()
    move_id = _record(connection, "merge", source, target, moved, reason, actor)
    _move(connection, moved, target["id"])
    connection.execute(
        update(CASES)
        .where(CASES.c.id == source["id"])
        .values(merged_into_id=target["id"], closed_at=now, updated_at=now)
    )
    connection.execute(update(CASES).where(CASES.c.id == target["id"]).values(updated_at=now))
    detail = {"move_id": move_id, "messages": len(moved), "reason": reason}
    record_events(
        connection,
        [
            _event(source["id"], actor, "merged_into", {**detail, "tracking_number": target["tracking_number"]}),
            _event(target["id"], actor, "merged_from", {**detail, "tracking_number": source["tracking_number"]}),
        ],
    )
    return Moved(move_id, source["tracking_number"], target["tracking_number"], len(moved))


def unmerge(connection: Connection, source_ref: str | int, actor: str) -> Moved:
    """Undo the merge of ``source``: its messages go back, and it is open again."""
    source = find(connection, source_ref)
    move = _last_move(connection, "merge", source_case_id=source["id"])
    if move is None or source["merged_into_id"] != move["target_case_id"]:
        raise Refused(f"{source['tracking_number']} was not merged into another case")
    taken = connection.execute(
        select(CASES.c.id, CASES.c.tracking_number).where(
            CASES.c.conversation_key == source["conversation_key"], CASES.c.closed_at.is_(None)
        )
    ).first()
    if taken is not None:
        raise Refused(
            f"{taken.tracking_number} holds {source['tracking_number']}'s conversation now: "
            f"split its messages off {taken.tracking_number} instead"
        )
    back = _still_on(connection, move["case_message_ids"], move["target_case_id"])
    now = utcnow()
    _move(connection, back, source["id"])
    connection.execute(
        update(CASES).where(CASES.c.id == source["id"]).values(merged_into_id=None, closed_at=None, updated_at=now)
    )
    _undone(connection, move["id"], actor)
    target = find(connection, move["target_case_id"])
    detail = {"move_id": move["id"], "messages": len(back)}
    record_events(
        connection,
        [
            _event(source["id"], actor, "unmerged", {**detail, "tracking_number": target["tracking_number"]}),
            _event(target["id"], actor, "unmerged", {**detail, "tracking_number": source["tracking_number"]}),
        ],
    )
    return Moved(move["id"], source["tracking_number"], target["tracking_number"], len(back))


def split(
    connection: Connection,
    source_ref: str | int,
    case_message_ids: Sequence[int],
    tracking_number: str,
    actor: str,
    reason: str = "",
) -> Moved:
    """Make a case (numbered ``tracking_number``, reserved by the caller) of some messages of
    ``source``; it keeps the source's kind, unit, reporter and deadlines."""
    source = find(connection, source_ref)
    if source["closed_at"] is not None:
        raise Refused(f"{source['tracking_number']} is {_closed_as(source)}: only open cases are split")
    mine = _message_ids(connection, source["id"])
    wanted = sorted(set(case_message_ids))
    strangers = [m for m in wanted if m not in mine]
    if not wanted or strangers:
        raise Refused(f"messages {strangers or wanted} are not messages of {source['tracking_number']}")
    if len(wanted) == len(mine):
        raise Refused("a split leaves at least one message where it was")
    now = utcnow()
    row = {key: value for key, value in source.items() if key != "id"}
    row.update(
        tracking_number=tracking_number,
        conversation_key=f"{source['conversation_key']}#split{wanted[0]}",
        previous_case_id=None,
        merged_into_id=None,
        closed_at=None,
        created_at=now,
        updated_at=now,
    )
    if "external_ref" in row:  # a platform's number (LAPOR!) stays with the case it came as
        row["external_ref"] = None
    new_id = int(connection.execute(CASES.insert().returning(CASES.c.id), row).scalar_one())
    new = find(connection, new_id)
    move_id = _record(connection, "split", source, new, wanted, reason, actor)
    _move(connection, wanted, new_id)
    detail = {"move_id": move_id, "messages": len(wanted), "reason": reason}
    record_events(
        connection,
        [
            _event(source["id"], actor, "split_to", {**detail, "tracking_number": tracking_number}),
            _event(new_id, actor, "split_from", {**detail, "tracking_number": source["tracking_number"]}),
        ],
    )
    return Moved(move_id, source["tracking_number"], tracking_number, len(wanted))


def unsplit(connection: Connection, split_ref: str | int, actor: str) -> Moved:
    """Undo a split: the messages go back, and the split case is merged into its source."""
    made = find(connection, split_ref)
    move = _last_move(connection, "split", target_case_id=made["id"])
    if move is None or made["closed_at"] is not None:
        raise Refused(f"{made['tracking_number']} was not split off another case")
    source = find(connection, move["source_case_id"])
    if source["closed_at"] is not None:
        raise Refused(f"{source['tracking_number']} is closed now: merge {made['tracking_number']} by hand instead")
    back = _still_on(connection, move["case_message_ids"], made["id"])
    now = utcnow()
    _move(connection, back, source["id"])
    connection.execute(
        update(CASES).where(CASES.c.id == made["id"]).values(merged_into_id=source["id"], closed_at=now, updated_at=now)
    )
    _undone(connection, move["id"], actor)
    detail = {"move_id": move["id"], "messages": len(back)}
    record_events(
        connection,
        [
            _event(made["id"], actor, "unsplit", {**detail, "tracking_number": source["tracking_number"]}),
            _event(source["id"], actor, "unsplit", {**detail, "tracking_number": made["tracking_number"]}),
        ],
    )
    return Moved(move["id"], source["tracking_number"], made["tracking_number"], len(back))


def _message_ids(connection: Connection, case_id: int) -> list[int]:
    return list(connection.scalars(select(MESSAGES.c.id).where(MESSAGES.c.case_id == case_id).order_by(MESSAGES.c.id)))


def _still_on(connection: Connection, ids: Sequence[int], case_id: int) -> list[int]:
    """The moved messages still on ``case_id`` (a later split may have taken some elsewhere)."""
    if not ids:
        return []
    return list(
        connection.scalars(select(MESSAGES.c.id).where(MESSAGES.c.id.in_(list(ids)), MESSAGES.c.case_id == case_id))
    )


def _move(connection: Connection, case_message_ids: Sequence[int], case_id: int) -> None:
    """Case messages, their raw messages and the messages kept without a case behind them."""
    if not case_message_ids:
        return
    ids = list(case_message_ids)
    raw_ids = [r for r in connection.scalars(select(MESSAGES.c.raw_message_id).where(MESSAGES.c.id.in_(ids))) if r]
    connection.execute(update(MESSAGES).where(MESSAGES.c.id.in_(ids)).values(case_id=case_id))
    if raw_ids:
        connection.execute(update(RAW).where(RAW.c.id.in_(raw_ids)).values(case_id=case_id))
        connection.execute(
            update(CASELESS)
            .where(CASELESS.c.raw_message_id.in_(raw_ids), CASELESS.c.case_id.is_not(None))
            .values(case_id=case_id)
        )


def _record(
    connection: Connection,
    kind: str,
    source: dict[str, Any],
    target: dict[str, Any],
    moved: Sequence[int],
    reason: str,
    actor: str,
) -> int:
    row = {
        "kind": kind,
        "source_case_id": source["id"],
        "target_case_id": target["id"],
        "case_message_ids": list(moved),
        "reason": reason,
        "at": utcnow(),
        "actor": actor,
    }
    return int(connection.execute(MOVES.insert().returning(MOVES.c.id), row).scalar_one())


def _last_move(connection: Connection, kind: str, **case: int) -> dict[str, Any] | None:
    ((column, case_id),) = case.items()
    row = (
        connection.execute(
            select(MOVES)
            .where(MOVES.c.kind == kind, MOVES.c[column] == case_id, MOVES.c.undone_at.is_(None))
            .order_by(MOVES.c.id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


def _undone(connection: Connection, move_id: int, actor: str) -> None:
    connection.execute(update(MOVES).where(MOVES.c.id == move_id).values(undone_at=utcnow(), undone_by=actor))


def _event(case_id: int, actor: str, action: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {"case_id": case_id, "actor": actor, "action": action, "detail": detail}
