"""Reporters found by any identity they gave, created together when new, on both databases."""

from __future__ import annotations

from sqlalchemy import Engine, select

from envelopes import Reporter
from storage.db import transaction
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


def test_a_reporter_is_the_same_whichever_identity_comes_back(engine: Engine) -> None:
    first, again, by_phone = resolve(
        engine,
        Reporter(name="Siti", email="siti@example.id", phone="+6281111111111"),
        Reporter(name="Siti A.", email="siti@example.id"),
        Reporter(phone="+6281111111111"),
    )
    [later] = resolve(engine, Reporter(name="Siti Aminah", phone="+6281111111111", email="baru@example.id"))
    [by_new_email] = resolve(engine, Reporter(email="baru@example.id"))
    assert first == again == by_phone == later == by_new_email
    assert names(engine) == {first: "Siti"}, "the reporter keeps the first name seen"
