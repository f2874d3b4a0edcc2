"""Reporter identity lookup: one reporter however many channels they write from."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, or_, select

from envelopes import Reporter
from storage.identities import Sender, persons, resolve
from storage.tables import CASES, IDENTITY, REPORTER

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
    """Reporter ids for ``(reporter, channel)`` pairs whose channels prove nothing but their chat
    accounts, by the rules of ``storage.identities`` (the normalizer gives it what each proves)."""
    return resolve(connection, [Sender(reporter, channel) for reporter, channel in wanted])


CONTACT_KINDS = ("phone", "email")


def case_contacts(connection: Connection, case_ids: Sequence[int]) -> dict[int, list[IdentityKey]]:
    """The phones and emails of each case's reporter, and of the reporters linked with them into
    one person (``reporter_link``): where an officer may reach them when a reply cannot go by the
    case's own channel. Identities are sorted (phones first), so the offer reads the same twice."""
    by_case = {
        row.id: row.reporter_id
        for row in connection.execute(select(CASES.c.id, CASES.c.reporter_id).where(CASES.c.id.in_(list(case_ids))))
        if row.reporter_id is not None
    }
    if not by_case:
        return {}
    person_of = persons(connection, by_case.values())
    members: dict[int, set[int]] = {}
    for row in connection.execute(
        select(REPORTER.c.id, REPORTER.c.person_id).where(
            or_(
                REPORTER.c.id.in_(sorted(set(person_of.values()))),
                REPORTER.c.person_id.in_(sorted(set(person_of.values()))),
            )
        )
    ):
        members.setdefault(row.person_id or row.id, set()).add(row.id)
    everyone = sorted({m for group in members.values() for m in group} | set(by_case.values()))
    held: dict[int, set[IdentityKey]] = {}
    for held_row in connection.execute(
        select(IDENTITY.c.reporter_id, IDENTITY.c.kind, IDENTITY.c.value).where(
            IDENTITY.c.reporter_id.in_(everyone), IDENTITY.c.kind.in_(CONTACT_KINDS)
        )
    ):
        held.setdefault(held_row.reporter_id, set()).add((held_row.kind, held_row.value))
    contacts: dict[int, list[IdentityKey]] = {}
    for case_id, reporter_id in by_case.items():
        person = person_of.get(reporter_id, reporter_id)
        found = {k for member in members.get(person, {reporter_id}) | {reporter_id} for k in held.get(member, ())}
        contacts[case_id] = sorted(found, key=lambda key: (CONTACT_KINDS.index(key[0]), key[1]))
    return contacts
