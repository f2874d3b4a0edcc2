"""Who a message is from, across channels: reporters, the identities that find them, the links
that make several reporters one person, and the claims an officer may confirm.

An identity links by itself only when the channel proves it: a chat account (always), a phone
the channel delivers by (WhatsApp's wa_id, an SMS sender) or one the sender shared about
themselves (a Telegram contact, ``extra["phone_proven"]``), an email's sender on the email
channel. A number an officer typed (phone log, walk-in) or a contact typed into a form is kept,
but never finds an existing reporter: when it is another reporter's identity it becomes a claim,
shown to officers as a suggestion (``satupintu identities suggestions``), and a proven message of
that identity later takes the identity over (the typist may have been wrong; the channel is not).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, func, or_, select, union, update

from envelopes import Reporter
from storage.db import utcnow
from storage.models import IdentityClaim, ReporterLink
from storage.sql import insert_ignore, keyed_in
from storage.tables import CASES, IDENTITY, REPORTER

CLAIMS: Table = IdentityClaim.__table__  # type: ignore[attr-defined]
LINKS: Table = ReporterLink.__table__  # type: ignore[attr-defined]

IdentityKey = tuple[str, str]
SYSTEM = "system:identities"


@dataclass(frozen=True, slots=True)
class Sender:
    """A message's sender as the normalizer sees it."""

    reporter: Reporter
    channel: str
    proves: frozenset[str] = frozenset()
    """The identity kinds the channel proves for this message (``phone``, ``email``); a chat
    account (``channel_user``) is always proven."""
    raw_message_id: int | None = None


PROVES_PREFIX = "proves_"
"""A connector that proves an identity kind says so in its spec's capabilities: ``proves_phone``
(WhatsApp, SMS: the number they deliver by), ``proves_email`` (the email channel's sender)."""


def proven_kinds(capabilities: Iterable[str], extra: dict[str, Any]) -> frozenset[str]:
    """What a message's channel proves: its connector's ``proves_*`` capabilities, and a phone the
    sender shared about themselves (``extra["phone_proven"] is True``, a Telegram contact)."""
    kinds = {c.removeprefix(PROVES_PREFIX) for c in capabilities if c.startswith(PROVES_PREFIX)}
    if extra.get("phone_proven") is True:
        kinds.add("phone")
    return frozenset(kinds)


def sender_keys(sender: Sender) -> list[tuple[IdentityKey, bool]]:
    """The identities a message gives, most reliable first, each with whether it is proven."""
    reporter, keys = sender.reporter, []
    if reporter.channel_user_id:
        keys.append((("channel_user", f"{sender.channel}:{reporter.channel_user_id}"), True))
    if reporter.email:
        keys.append((("email", reporter.email), "email" in sender.proves))
    if reporter.phone:
        keys.append((("phone", reporter.phone), "phone" in sender.proves))
    return keys


@dataclass(frozen=True, slots=True)
class _Row:
    reporter_id: int
    proven: bool


@dataclass(slots=True)
class _Plan:
    """What one batch writes; reporter ids below zero stand for reporters not created yet."""

    names: list[str | None] = field(default_factory=list)
    rows: dict[IdentityKey, _Row] = field(default_factory=dict)
    new_rows: dict[IdentityKey, _Row] = field(default_factory=dict)
    taken_over: dict[IdentityKey, int] = field(default_factory=dict)
    claims: list[tuple[int, IdentityKey, int | None]] = field(default_factory=list)
    links: list[tuple[int, int, IdentityKey]] = field(default_factory=list)

    def new_reporter(self, name: str | None) -> int:
        self.names.append(name)
        return -len(self.names)


def resolve(connection: Connection, senders: Sequence[Sender]) -> list[int | None]:
    """Reporter ids for the senders (None for one with no identity), creating what is new.

    A sender is the reporter of a proven identity it gives (several such reporters are linked
    into one person, the channel having proved it); a sender with no proven identity known is a
    new reporter. Two senders of one batch with the same proven identity are one reporter.
    """
    keyed = [sender_keys(s) for s in senders]
    plan = _Plan(rows=_lookup(connection, {k for keys in keyed for k, _ in keys}))
    result: list[int | None] = []
    for sender, keys in zip(senders, keyed, strict=True):
        result.append(_place(plan, sender, keys) if keys else None)
    created = _create(connection, plan.names)

    def real(rid: int) -> int:
        return created[-rid - 1] if rid < 0 else rid

    _write(connection, plan, real)
    resolved = [None if rid is None else real(rid) for rid in result]
    if not plan.new_rows:
        return resolved
    # Another worker may have given a new proven identity a reporter first: its reporter wins.
    winners = _lookup(connection, set(plan.new_rows))
    return [
        next((winners[k].reporter_id for k, proven in keys if proven and k in winners), rid) if rid else rid
        for keys, rid in zip(keyed, resolved, strict=True)
    ]


def _place(plan: _Plan, sender: Sender, keys: list[tuple[IdentityKey, bool]]) -> int:
    owners = [(k, plan.rows[k].reporter_id) for k, proven in keys if proven and k in plan.rows and plan.rows[k].proven]
    reporter = owners[0][1] if owners else plan.new_reporter(sender.reporter.name)
    for key, other in owners[1:]:
        if other != reporter and all({reporter, other} != {a, b} for a, b, _ in plan.links):
            plan.links.append((reporter, other, key))
    for key, proven in keys:
        row = plan.rows.get(key)
        if row is None:
            plan.rows[key] = plan.new_rows[key] = _Row(reporter, proven)
        elif row.reporter_id == reporter:
            continue
        elif proven and not row.proven:  # the channel proves what was only typed: it takes it over
            plan.claims.append((row.reporter_id, key, None))
            plan.rows[key] = _Row(reporter, True)
            if key in plan.new_rows:
                plan.new_rows[key] = plan.rows[key]
            else:
                plan.taken_over[key] = reporter
        elif not proven:
            plan.claims.append((reporter, key, sender.raw_message_id))
    return reporter


def _write(connection: Connection, plan: _Plan, real: Any) -> None:
    now = utcnow()
    if plan.new_rows:
        connection.execute(
            insert_ignore(connection, IDENTITY),
            [
                {"kind": k, "value": v, "reporter_id": real(r.reporter_id), "proven": r.proven}
                for (k, v), r in plan.new_rows.items()
            ],
        )
    if plan.taken_over:
        connection.execute(
            update(IDENTITY)
            .where(IDENTITY.c.kind == bindparam("t_kind"), IDENTITY.c.value == bindparam("t_value"))
            .values(reporter_id=bindparam("t_reporter"), proven=True),
            [{"t_kind": k, "t_value": v, "t_reporter": real(rid)} for (k, v), rid in plan.taken_over.items()],
        )
    claims = {(real(rid), k, v): raw for rid, (k, v), raw in plan.claims}
    if claims:
        connection.execute(
            insert_ignore(connection, CLAIMS),
            [
                {"reporter_id": rid, "kind": k, "value": v, "raw_message_id": raw, "created_at": now}
                for (rid, k, v), raw in claims.items()
            ],
        )
    for reporter, other, (kind, _value) in plan.links:
        link(connection, real(reporter), real(other), "proven", {"identity": kind}, SYSTEM)


def _lookup(connection: Connection, keys: set[IdentityKey]) -> dict[IdentityKey, _Row]:
    if not keys:
        return {}
    rows = connection.execute(
        select(IDENTITY.c.kind, IDENTITY.c.value, IDENTITY.c.reporter_id, IDENTITY.c.proven).where(
            keyed_in(IDENTITY, "kind", "value", keys)
        )
    )
    return {(r.kind, r.value): _Row(r.reporter_id, bool(r.proven)) for r in rows}


def _create(connection: Connection, names: Sequence[str | None]) -> list[int]:
    """New reporters, one per name, in one statement; ids in the order of ``names`` (RETURNING
    promises no order: two new reporters of the same name are alike but for their id)."""
    if not names:
        return []
    now = utcnow()
    inserted = connection.execute(
        REPORTER.insert().returning(REPORTER.c.id, REPORTER.c.name), [{"name": n, "created_at": now} for n in names]
    )
    by_name: dict[str | None, list[int]] = {}
    for reporter_id, name in inserted:
        by_name.setdefault(name, []).append(int(reporter_id))
    return [by_name[name].pop() for name in names]


# --- persons: reporters linked into one -----------------------------------------------------------


def persons(connection: Connection, reporter_ids: Iterable[int | None]) -> dict[int, int]:
    """The person of each reporter: the smallest reporter id of those linked to it (its own id
    when it is linked to none)."""
    wanted = sorted({r for r in reporter_ids if r is not None})
    if not wanted:
        return {}
    rows = connection.execute(select(REPORTER.c.id, REPORTER.c.person_id).where(REPORTER.c.id.in_(wanted)))
    return {row.id: row.person_id or row.id for row in rows}


def link(
    connection: Connection, reporter_id: int, other_id: int, source: str, evidence: dict[str, Any], actor: str
) -> int:
    """Make two reporters one person; returns the link's id (removing it undoes it)."""
    link_id = connection.execute(
        LINKS.insert().returning(LINKS.c.id),
        {
            "reporter_id": reporter_id,
            "other_id": other_id,
            "source": source,
            "evidence": evidence,
            "created_at": utcnow(),
            "created_by": actor,
        },
    ).scalar_one()
    _regroup(connection, [reporter_id, other_id])
    return int(link_id)


def unlink(connection: Connection, link_id: int, actor: str) -> dict[str, Any] | None:
    """Remove a link (proven or confirmed); the reporters are as many persons as what remains
    makes them. None when there is no such link still in force."""
    row = (
        connection.execute(select(LINKS).where(LINKS.c.id == link_id, LINKS.c.removed_at.is_(None))).mappings().first()
    )
    if row is None:
        return None
    connection.execute(update(LINKS).where(LINKS.c.id == link_id).values(removed_at=utcnow(), removed_by=actor))
    _regroup(connection, [row["reporter_id"], row["other_id"]])
    return dict(row)


def _component(connection: Connection, start: int) -> set[int]:
    seen, frontier = {start}, {start}
    active = LINKS.c.removed_at.is_(None)
    while frontier:
        ids = sorted(frontier)
        rows = connection.execute(
            select(LINKS.c.reporter_id, LINKS.c.other_id).where(
                active, or_(LINKS.c.reporter_id.in_(ids), LINKS.c.other_id.in_(ids))
            )
        )
        found = {r for row in rows for r in row} - seen
        seen |= found
        frontier = found
    return seen


def _regroup(connection: Connection, reporter_ids: Iterable[int]) -> None:
    """Give every reporter of the components of ``reporter_ids`` its person: the smallest id."""
    done: set[int] = set()
    for start in reporter_ids:
        if start in done:
            continue
        members = _component(connection, start)
        done |= members
        person = min(members) if len(members) > 1 else None
        connection.execute(update(REPORTER).where(REPORTER.c.id.in_(sorted(members))).values(person_id=person))


# --- suggestions ----------------------------------------------------------------------------------


def suggestions(connection: Connection, limit: int = 100, *, about: int | None = None) -> list[dict[str, Any]]:
    """Claims that name another person's identity, newest first: for an officer to confirm
    (``link``) or leave. A claim whose reporters are one person already is no suggestion.
    ``about``: only the claims that reporter made, or that name an identity of theirs."""
    claimant = REPORTER.alias("claimant")
    owner = REPORTER.alias("owner")
    rows = connection.execute(
        select(
            CLAIMS.c.id,
            CLAIMS.c.kind,
            CLAIMS.c.value,
            CLAIMS.c.created_at,
            CLAIMS.c.reporter_id,
            claimant.c.name.label("reporter_name"),
            IDENTITY.c.reporter_id.label("other_id"),
            owner.c.name.label("other_name"),
            IDENTITY.c.proven.label("other_proven"),
        )
        .select_from(
            CLAIMS.join(IDENTITY, and_(IDENTITY.c.kind == CLAIMS.c.kind, IDENTITY.c.value == CLAIMS.c.value))
            .join(claimant, claimant.c.id == CLAIMS.c.reporter_id)
            .join(owner, owner.c.id == IDENTITY.c.reporter_id)
        )
        .where(
            CLAIMS.c.dismissed_at.is_(None),
            func.coalesce(claimant.c.person_id, claimant.c.id) != func.coalesce(owner.c.person_id, owner.c.id),
            *([] if about is None else [CLAIMS.c.id.in_(_claims_about(about))]),
        )
        .order_by(CLAIMS.c.id.desc())
        .limit(limit)
    ).mappings()
    found = [dict(row) for row in rows]
    cases = _cases_of(connection, {r["reporter_id"] for r in found} | {r["other_id"] for r in found})
    for row in found:
        row["reporter_cases"] = cases.get(row["reporter_id"], [])
        row["other_cases"] = cases.get(row["other_id"], [])
    return found


def _claims_about(reporter_id: int) -> Any:
    """The claims this reporter made, and those naming an identity of theirs: two index probes
    (an OR across the joined tables would read every claim)."""
    made = select(CLAIMS.c.id).where(CLAIMS.c.reporter_id == reporter_id)
    held = (
        select(CLAIMS.c.id)
        .select_from(CLAIMS.join(IDENTITY, and_(IDENTITY.c.kind == CLAIMS.c.kind, IDENTITY.c.value == CLAIMS.c.value)))
        .where(IDENTITY.c.reporter_id == reporter_id)
    )
    return union(made, held)


def claim(connection: Connection, claim_id: int) -> dict[str, Any] | None:
    """A claim with the reporter whose identity it names (``other_id``), if any still does."""
    row = (
        connection.execute(
            select(CLAIMS, IDENTITY.c.reporter_id.label("other_id"))
            .select_from(
                CLAIMS.outerjoin(IDENTITY, and_(IDENTITY.c.kind == CLAIMS.c.kind, IDENTITY.c.value == CLAIMS.c.value))
            )
            .where(CLAIMS.c.id == claim_id)
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


def _cases_of(connection: Connection, reporter_ids: set[int]) -> dict[int, list[str]]:
    if not reporter_ids:
        return {}
    rows = connection.execute(
        select(CASES.c.reporter_id, CASES.c.tracking_number)
        .where(CASES.c.reporter_id.in_(sorted(reporter_ids)))
        .order_by(CASES.c.id)
    )
    found: dict[int, list[str]] = {}
    for reporter_id, number in rows:
        found.setdefault(reporter_id, []).append(number)
    return found


def links(connection: Connection, reporter_id: int) -> list[dict[str, Any]]:
    """The links in force that make ``reporter_id`` one person with others."""
    members = sorted(_component(connection, reporter_id))
    rows = connection.execute(
        select(LINKS)
        .where(LINKS.c.removed_at.is_(None), or_(LINKS.c.reporter_id.in_(members), LINKS.c.other_id.in_(members)))
        .order_by(LINKS.c.id)
    ).mappings()
    return [dict(row) for row in rows]
