"""Reporters found by the identities their channels prove, created together when new, on both databases."""

from __future__ import annotations

from sqlalchemy import Engine, select

from envelopes import Reporter
from storage.db import transaction
from storage.identities import Sender
from storage.identities import resolve as resolve_senders
from storage.reporters import resolve_reporters
from storage.tables import REPORTER


def resolve(engine: Engine, *reporters: Reporter) -> list[int | None]:
    with transaction(engine) as connection:
        return resolve_reporters(connection, [(reporter, "webform") for reporter in reporters])


def names(engine: Engine) -> dict[int, str | None]:
    with engine.connect() as connection:
        return {row.id: row.name for row in connection.execute(select(REPORTER.c.id, REPORTER.c.name))}


def test_new_reporters_of_one_batch_each_keep_their_own_name(engine: Engine) -> None:
    batch = [Reporter(name=f"Pelapor {n}", email=f"pelapor{n}@example.id") for n in range(40)] + [
        Reporter(name="Budi", phone="+6281234567890"),
        Reporter(name="Budi", phone="+6281234567891"),
        Reporter(),
    ]
    ids = resolve(engine, *batch)
    assert ids[-1] is None, "a reporter with no identity is nobody to find again"
    assert len(set(ids[:-1])) == len(batch) - 1, "every identity is another person"
    stored = names(engine)
    assert [stored[i] for i in ids[:-1] if i is not None] == [r.name for r in batch[:-1]]


def test_a_reporter_is_the_same_whichever_proven_identity_comes_back(engine: Engine) -> None:
    def by(channel: str, proves: str, **given: str | None) -> list[int | None]:
        with transaction(engine) as connection:
            return resolve_senders(connection, [Sender(Reporter(**given), channel, frozenset({proves}))])

    [first] = by("whatsapp", "phone", name="Siti", phone="+6281111111111")
    [again] = by("sms", "phone", name="Siti A.", phone="+6281111111111")
    [shared] = by("telegram", "phone", channel_user_id="42", phone="+6281111111111")
    [by_chat] = by("telegram", "nothing", channel_user_id="42")
    assert first == again == shared == by_chat
    assert names(engine) == {first: "Siti"}, "the reporter keeps the first name seen"


def test_what_a_form_was_given_finds_nobody_and_is_found_by_nobody(engine: Engine) -> None:
    siti, other = resolve(
        engine,
        Reporter(name="Siti", email="siti@example.id", phone="+6281111111111"),
        Reporter(name="Siti A.", email="siti@example.id"),
    )
    with transaction(engine) as connection:
        [by_mail] = resolve_senders(
            connection, [Sender(Reporter(email="siti@example.id"), "email", frozenset({"email"}))]
        )
    assert len({siti, other, by_mail}) == 3, "typed twice, mailed once: three reporters, never linked by themselves"
