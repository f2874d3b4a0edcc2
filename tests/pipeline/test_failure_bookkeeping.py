"""A worker that lost a race to another must not blame the message: counting a failure or parking
a message as dead changes nothing once the message has moved on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from storage.db import create_db_engine, transaction
from storage.migrate import upgrade
from storage.models import RAW_NORMALIZED, RAW_RECEIVED, RAW_TRIAGED
from storage.raw import advance, insert_raw_messages, mark_dead, record_failure
from storage.tables import RAW
from tests.pipeline.test_recovery import submission


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'failures.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def stored(engine: Engine, state: str) -> int:
    with transaction(engine) as connection:
        [row] = insert_raw_messages(connection, [submission(f"r-{state}")])
        if state != RAW_RECEIVED:
            advance(connection, [{"id": row.id, "state": state}], RAW_RECEIVED)
    return row.id


def row(engine: Engine, raw_id: int) -> tuple[str, int, str | None]:
    with engine.connect() as connection:
        found = connection.execute(select(RAW.c.state, RAW.c.attempts, RAW.c.error).where(RAW.c.id == raw_id)).one()
    return found.state, found.attempts, found.error


def test_a_failure_counts_against_a_message_still_waiting(engine: Engine) -> None:
    raw_id = stored(engine, RAW_NORMALIZED)
    with transaction(engine) as connection:
        assert record_failure(connection, raw_id, "triage: boom", 2, RAW_NORMALIZED) is False
    assert row(engine, raw_id) == (RAW_NORMALIZED, 1, "triage: boom")
    with transaction(engine) as connection:
        assert record_failure(connection, raw_id, "triage: boom again", 2, RAW_NORMALIZED) is True
    assert row(engine, raw_id)[:2] == ("dead", 2)


def test_a_message_another_worker_finished_is_not_blamed(engine: Engine) -> None:
    raw_id = stored(engine, RAW_TRIAGED)  # the other triage worker committed first
    with transaction(engine) as connection:
        assert record_failure(connection, raw_id, "triage: lost the race", 1, RAW_NORMALIZED) is False
        assert mark_dead(connection, raw_id, "normalize: lost the race", RAW_RECEIVED) is False
    assert row(engine, raw_id) == (RAW_TRIAGED, 0, None)
