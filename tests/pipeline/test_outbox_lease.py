"""A claimed receipt is under a lease: the sweeper leaves it alone while the lease is live, takes
it back once it lapsed, and never resets one that was sent; only the lease holder writes it."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import Engine

from config.settings import Settings
from storage import outbox
from storage.db import create_db_engine, transaction, utcnow
from storage.models import OUTBOX_PENDING, OUTBOX_SENDING, OUTBOX_SENT
from storage.sweeps import Cutoffs, take_stale
from tests.pipeline.receipts import receipts_waiting, report, submit
from tests.pipeline.slowmail import SlowMailbox, slow_mail_settings
from tests.support import eventually, make_settings, running_pipeline, smtp_server

LONG = timedelta(hours=1)


def sweep_everything(engine: Engine) -> set[int]:
    """The outbox rows a sweep takes when every work item counts as long lost."""
    with transaction(engine) as connection:
        stale = take_stale(connection, Cutoffs.every(utcnow() + LONG), limit=1000)
    return {s.id for s in stale if s.record == "outbox"}


def state(engine: Engine, outbox_id: int) -> str:
    with engine.connect() as connection:
        return str(connection.exec_driver_sql(f"SELECT state FROM outbox WHERE id = {outbox_id}").scalar())


async def test_the_sweeper_takes_back_only_a_lapsed_lease(settings: Settings, engine: Engine) -> None:
    live_id, lapsing_id, pending_id = await receipts_waiting(settings, 3)
    with transaction(engine) as connection:
        [live] = outbox.claim(connection, [live_id], LONG)
        [lapsing] = outbox.claim(connection, [lapsing_id], timedelta(milliseconds=1))
    await asyncio.sleep(0.01)

    assert sweep_everything(engine) == {lapsing_id, pending_id}
    assert state(engine, live_id) == OUTBOX_SENDING
    assert state(engine, lapsing_id) == OUTBOX_PENDING

    with transaction(engine) as connection:  # the holder whose lease lapsed has lost the row
        assert outbox.record_outcomes(connection, [outbox.sent(lapsing, "<late@example.id>")]) == []
        [written] = outbox.record_outcomes(connection, [outbox.sent(live, "<live@example.id>")])
    assert written.outbox_id == live_id
    assert state(engine, live_id) == OUTBOX_SENT
    assert live_id not in sweep_everything(engine), "a sent row is never taken back"
    assert state(engine, live_id) == OUTBOX_SENT


async def test_a_claim_takes_a_row_once(settings: Settings, engine: Engine) -> None:
    ids = await receipts_waiting(settings, 2)
    with transaction(engine) as connection:
        first = outbox.claim(connection, ids, LONG)
    with transaction(engine) as connection:
        second = outbox.claim(connection, ids, LONG)
    assert sorted(c.message.outbox_id for c in first) == ids
    assert second == []
    assert len({c.lease_token for c in first}) == 1 and first[0].lease_expires_at > utcnow() + LONG / 2


async def test_releasing_a_claim_in_doubt_gives_back_only_its_unsent_rows(settings: Settings, engine: Engine) -> None:
    """A claim whose commit was in doubt is given back under its token: another worker's live
    claim and a row already sent under the same token stay as they are."""
    doubted, sent_meanwhile, others = await receipts_waiting(settings, 3)
    token = outbox.new_lease_token()
    with transaction(engine) as connection:
        claims = outbox.claim(connection, [doubted, sent_meanwhile], LONG, token)
        outbox.claim(connection, [others], LONG)
        sent = next(c for c in claims if c.message.outbox_id == sent_meanwhile)
        outbox.record_outcomes(connection, [outbox.sent(sent, "<sent@example.id>")])
    with transaction(engine) as connection:
        assert outbox.release(connection, [token]) == [doubted]
    states = [state(engine, i) for i in (doubted, sent_meanwhile, others)]
    assert states == [OUTBOX_PENDING, OUTBOX_SENT, OUTBOX_SENDING]
    with transaction(engine) as connection:
        [again] = outbox.claim(connection, [doubted], LONG)
    assert again.attempts == 1, "the claim in doubt is not counted as an attempt"


async def test_a_row_being_sent_while_its_lease_lapsed_is_not_reset(tmp_path: Path, postgres_url: str) -> None:
    """PostgreSQL: the sweeper meets a row whose outcome is being written; it neither waits for
    it nor resets it after the writer commits (the row was sent)."""
    settings = make_settings(tmp_path / "var", database_url=postgres_url)
    [outbox_id] = await receipts_waiting(settings, 1)
    engine = create_db_engine(postgres_url)
    try:
        with transaction(engine) as connection:
            [claimed] = outbox.claim(connection, [outbox_id], timedelta(milliseconds=1))
        await asyncio.sleep(0.01)
        swept: list[set[int]] = []
        with transaction(engine) as writer:
            outbox.record_outcomes(writer, [outbox.sent(claimed, "<sent@example.id>")])
            sweeper = threading.Thread(target=lambda: swept.append(sweep_everything(engine)))
            sweeper.start()
            sweeper.join(timeout=5)
            assert not sweeper.is_alive(), "the sweeper waited for a row another transaction holds"
        assert swept == [set()]
        assert state(engine, outbox_id) == OUTBOX_SENT
        assert outbox_id not in sweep_everything(engine)
    finally:
        engine.dispose()


async def test_a_provider_slower_than_the_sweeper_gets_each_receipt_once(tmp_path: Path) -> None:
    handler = SlowMailbox(delay=3.0)  # the sweeper's patience is one second
    with smtp_server(handler) as port:
        async with running_pipeline(slow_mail_settings(tmp_path / "var", port)) as app:
            async with aiohttp.ClientSession() as http:
                await asyncio.gather(*(submit(http, app.base_url, report(n)) for n in range(3)))
            await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 3, timeout=30)
            await asyncio.sleep(2.5)  # several sweeps later, a second send would have begun
            assert handler.per_recipient() == {f"pelapor{n}@example.id": 1 for n in range(3)}
            assert handler.attempts == 3
