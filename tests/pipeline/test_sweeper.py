"""The sweeper publishes stale work again, and waits longer for a step whose queue has a backlog."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, update

from envelopes import work_items
from pipeline.queues import Publisher, Topology
from pipeline.sweeper import BACKLOG_PATIENCE, Sweeper
from storage.db import create_db_engine, transaction, utcnow
from storage.migrate import upgrade
from storage.raw import insert_raw_messages
from storage.tables import RAW
from tests.pipeline.test_recovery import submission

STALE_AFTER = 30.0


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'sweeper.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def publisher() -> Iterator[Publisher]:
    publisher = Publisher(Topology("memory://", prefix=f"t{uuid.uuid4().hex[:12]}"), ["webform"])
    yield publisher
    publisher.close()


def store_published(engine: Engine, reference: str, seconds_ago: float) -> None:
    """A received row whose work item was published ``seconds_ago``."""
    with transaction(engine) as connection:
        [stored] = insert_raw_messages(connection, [submission(reference)])
        queued_at = utcnow() - timedelta(seconds=seconds_ago)
        connection.execute(update(RAW).where(RAW.c.id == stored.id).values(queued_at=queued_at))


def normalize_waiting(publisher: Publisher) -> int:
    return publisher.waiting(publisher.topology.normalize_queue()) or 0


def test_stale_work_is_published_again_once(engine: Engine, publisher: Publisher) -> None:
    store_published(engine, "fresh", seconds_ago=1)
    store_published(engine, "stale", seconds_ago=STALE_AFTER + 5)
    sweeper = Sweeper(engine, publisher, stale_after=STALE_AFTER, interval=1)

    assert sweeper.sweep() == 1
    assert normalize_waiting(publisher) == 1
    assert sweeper.sweep() == 0  # re-queued just now: not stale again until the timeout passes


def test_a_step_with_a_backlog_gets_more_time(engine: Engine, publisher: Publisher) -> None:
    publisher.publish(work_items("normalize", "raw_message", [(999_999, "webform")]))
    store_published(engine, "stale", seconds_ago=STALE_AFTER + 5)
    sweeper = Sweeper(engine, publisher, stale_after=STALE_AFTER, interval=1)

    assert sweeper.sweep() == 0, "its work item is most likely still in the queue"

    store_published(engine, "long-lost", seconds_ago=STALE_AFTER * BACKLOG_PATIENCE + 5)
    assert sweeper.sweep() == 1, "a row waiting past the patience is published even with a backlog"
    assert normalize_waiting(publisher) == 2
