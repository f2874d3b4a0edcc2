"""Workers of the same stage competing for the same rows on PostgreSQL, with a provider slower
than the sweeper's patience: every report ends as one case with one receipt, sent once."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from envelopes import WorkItem
from pipeline.app import Parts
from pipeline.delivery import DeliveryStage
from pipeline.queues import Publisher, Topology
from pipeline.sweeper import Sweeper
from storage.db import create_db_engine
from tests.conftest import delete_queues
from tests.pipeline.receipts import receipts_waiting, report, submit
from tests.pipeline.slowmail import SlowMailbox, slow_mail_settings
from tests.support import Running, eventually, smtp_server
from tests.workers import workers

REPORTS = 2000
SEND_SECONDS = 2.0


@pytest.fixture
def slow_mail() -> Iterator[tuple[SlowMailbox, int]]:
    handler = SlowMailbox(delay=SEND_SECONDS)
    with smtp_server(handler) as port:
        yield handler, port


async def test_two_deliver_workers_send_each_receipt_once(
    tmp_path: Path, postgres_url: str, slow_mail: tuple[SlowMailbox, int]
) -> None:
    handler, port = slow_mail
    handler.delay = 0.5
    settings = slow_mail_settings(tmp_path / "var", port, database_url=postgres_url)
    ids = await receipts_waiting(settings, 20)
    parts = Parts.from_settings(settings)
    publisher = Publisher(Topology("memory://", f"t{uuid.uuid4().hex[:12]}"), parts.channels)
    items = [WorkItem(step="deliver", record="outbox", ids=tuple(ids))]
    stop = threading.Event()
    sweeper = Sweeper(parts.engine, publisher, stale_after=0.1, interval=0.05)
    sweeping = threading.Thread(target=sweeper.run, args=(stop,))

    def deliver() -> None:
        stage = DeliveryStage(parts.engine, publisher, parts.connectors(), max_attempts=5)
        try:
            while not stop.is_set():  # the same work item again and again, as a redelivery would
                stage.handle(items)
                time.sleep(0.05)
        finally:
            stage.close()

    workers = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in [sweeping, *workers]:
        thread.start()
    app = Running(settings, "", parts.engine, None)  # type: ignore[arg-type]
    try:
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 20, timeout=20)
        await asyncio.sleep(1.5)  # many sweeps and claims later
    finally:
        stop.set()
        for thread in [sweeping, *workers]:
            thread.join(timeout=10)
        parts.engine.dispose()
    assert handler.per_recipient() == {f"pelapor{n}@example.id": 1 for n in range(20)}


@pytest.mark.slow
async def test_two_triage_and_two_deliver_workers_make_one_case_and_one_receipt_per_report(
    tmp_path: Path, postgres_url: str, rabbitmq_url: str, slow_mail: tuple[SlowMailbox, int]
) -> None:
    handler, port = slow_mail
    pipeline = {"batch_size": 250, "max_concurrent_sends": 250}  # each batch's sends at once
    settings = slow_mail_settings(
        tmp_path / "var", port, database_url=postgres_url, broker_url=rabbitmq_url, pipeline=pipeline
    )
    engine = create_db_engine(postgres_url)
    app = Running(settings, "", engine, None)  # type: ignore[arg-type]
    components = ("http", "normalizer", "triage", "triage", "deliver", "deliver", "sweeper")
    try:
        with workers(settings, tmp_path / "workers.log") as started:
            upgrade = started.command("db", "upgrade")
            assert upgrade.returncode == 0, upgrade.stderr
            for component in components:
                started.start("worker", component)
            await started.ready()
            async with aiohttp.ClientSession() as http:
                numbers = iter(range(REPORTS))

                async def client() -> None:
                    for number in numbers:
                        await submit(http, started.base_url, report(number))

                await asyncio.gather(*(client() for _ in range(16)))
            await eventually(
                lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") >= REPORTS,
                timeout=90,
                interval=0.5,
            )
            await asyncio.sleep(SEND_SECONDS + 1.5)  # a second send begun by now would have shown
            mails = handler.per_recipient()
            assert len(mails) == REPORTS and set(mails.values()) == {1}, mails.most_common(3)
            assert handler.attempts == REPORTS
            assert app.scalar("SELECT count(*) FROM cases") == REPORTS
            assert app.scalar("SELECT count(*) FROM raw_message WHERE state = 'triaged'") == REPORTS
            assert app.scalar("SELECT count(*) FROM raw_message WHERE state = 'dead'") == 0
            assert app.scalar("SELECT count(*) FROM outbox") == REPORTS
            assert app.scalar("SELECT count(DISTINCT case_id) FROM outbox WHERE state = 'sent'") == REPORTS
            assert started.stop() == [0] * len(components), started.tail()
    finally:
        engine.dispose()
        delete_queues(rabbitmq_url, settings.pipeline.queue_prefix, sorted(settings.connectors))
