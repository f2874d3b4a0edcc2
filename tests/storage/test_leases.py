"""Leases on both databases: one holder at a time, taken over only once lapsed, and a lost lease
can no longer be renewed (which is what guards a pull loop's cursor)."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine

from storage import leases
from storage.db import reading, transaction

NAME = "pull:email:inbox"


def _acquire(engine: Engine, holder: str, ttl: float = 30.0) -> str | None:
    with transaction(engine) as connection:
        return leases.acquire(connection, NAME, holder, ttl)


def _renew(engine: Engine, token: str, ttl: float = 30.0) -> bool:
    with transaction(engine) as connection:
        return leases.renew(connection, NAME, token, ttl)


def _holder(engine: Engine) -> str | None:
    with reading(engine) as connection:
        found = leases.holder(connection, NAME)
    return None if found is None else found.holder


def test_a_live_lease_has_one_holder(engine: Engine) -> None:
    first = _acquire(engine, "host-a:1")
    assert first is not None
    assert _acquire(engine, "host-b:2") is None
    assert _holder(engine) == "host-a:1"
    assert _renew(engine, first)


def test_a_lapsed_lease_is_taken_over_and_the_old_holder_cannot_renew(engine: Engine) -> None:
    stale = _acquire(engine, "host-a:1", ttl=0.2)
    assert stale is not None
    time.sleep(0.3)
    assert _holder(engine) is None
    assert not _renew(engine, stale), "a lapsed lease is lost, even before anyone takes it"
    fresh = _acquire(engine, "host-b:2")
    assert fresh is not None and fresh != stale
    assert _holder(engine) == "host-b:2"
    assert not _renew(engine, stale)


def test_a_released_lease_is_free_at_once(engine: Engine) -> None:
    token = _acquire(engine, "host-a:1")
    assert token is not None
    with transaction(engine) as connection:
        leases.release(connection, NAME, "not-the-token")
    assert _acquire(engine, "host-b:2") is None
    with transaction(engine) as connection:
        leases.release(connection, NAME, token)
    assert _acquire(engine, "host-b:2") is not None


def test_racing_processes_take_a_lapsed_lease_once(engine: Engine) -> None:
    assert _acquire(engine, "dead:1", ttl=0.05) is not None
    time.sleep(0.1)
    start = threading.Barrier(8)
    won: list[str] = []

    def race(number: int) -> None:
        start.wait()
        token = _acquire(engine, f"host-{number}:1")
        if token is not None:
            won.append(token)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
