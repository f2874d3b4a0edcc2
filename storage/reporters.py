"""Reporter identity lookup: one reporter however many channels they write from."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select

from envelopes import Reporter
from storage.db import utcnow
from storage.sql import insert_ignore, keyed_in
from storage.tables import IDENTITY, REPORTER

IdentityKey = tuple[str, str]


def identity_keys(reporter: Reporter, channel: str) -> list[IdentityKey]:
    """The identities a normalized reporter can be found by, most reliable first."""
    keys: list[IdentityKey] = []
    if reporter.email:
        keys.append(("email", reporter.email))
    if reporter.phone:
        keys.append(("phone", reporter.phone))
    if reporter.channel_user_id:
        keys.append(("channel_user", f"{channel}:{reporter.channel_user_id}"))
    return keys


def resolve_reporters(connection: Connection, wanted: Sequence[tuple[Reporter, str]]) -> list[int | None]:
    """Reporter ids for ``(reporter, channel)`` pairs, creating reporters never seen before.

    A reporter known by any one identity keeps that id, and new identities are added to them.
    Two messages in one batch sharing an identity get the same new reporter. The reporter keeps
    the first name seen; each case keeps the name its own message gave (``cases.reporter_name``).
    """
    keys_per_message = [identity_keys(reporter, channel) for reporter, channel in wanted]
    known = _lookup(connection, {k for keys in keys_per_message for k in keys})
    new_for: dict[IdentityKey, int] = {}
    names: list[str | None] = []
    """The reporters to create; until they are, a message's id is a placeholder: -1 - index."""
    result: list[int | None] = []
    for (reporter, _), keys in zip(wanted, keys_per_message, strict=True):
        if not keys:
            result.append(None)
            continue
        found = next((known[k] for k in keys if k in known), None) or next(
            (new_for[k] for k in keys if k in new_for), None
        )
        if found is None:
            names.append(reporter.name)
            found = -len(names)
        for key in keys:
            new_for.setdefault(key, found)
        result.append(found)
    created = _create(connection, names)

    def real(reporter_id: int | None) -> int | None:
        return created[-reporter_id - 1] if reporter_id is not None and reporter_id < 0 else reporter_id

    result = [real(rid) for rid in result]
    new_for = {key: rid for key, placeholder in new_for.items() if (rid := real(placeholder)) is not None}
    _add_identities(connection, {k: v for k, v in new_for.items() if k not in known})
    if new_for:  # another worker may have claimed an identity first: its reporter wins
        winners = _lookup(connection, set(new_for))
        result = [_winner(keys, winners, rid) for keys, rid in zip(keys_per_message, result, strict=True)]
    return result


def _winner(keys: list[IdentityKey], winners: dict[IdentityKey, int], current: int | None) -> int | None:
    return next((winners[k] for k in keys if k in winners), current)


def _lookup(connection: Connection, keys: set[IdentityKey]) -> dict[IdentityKey, int]:
    if not keys:
        return {}
    return {
        (r.kind, r.value): r.reporter_id
        for r in connection.execute(
            select(IDENTITY.c.kind, IDENTITY.c.value, IDENTITY.c.reporter_id).where(
                keyed_in(IDENTITY, "kind", "value", keys)
            )
        )
    }


def _create(connection: Connection, names: Sequence[str | None]) -> list[int]:
    """New reporters, one per name, in one statement; ids in the order of ``names``. RETURNING
    promises no order, so ids are matched back by name: two new reporters of the same name are
    alike but for their id, so either id serves either."""
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


def _add_identities(connection: Connection, identities: dict[IdentityKey, int]) -> None:
    if identities:
        connection.execute(
            insert_ignore(connection, IDENTITY),
            [{"kind": k, "value": v, "reporter_id": rid} for (k, v), rid in identities.items()],
        )
