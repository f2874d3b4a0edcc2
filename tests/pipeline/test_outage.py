"""Outages through a proxy that cuts a server off: the publisher holds work while RabbitMQ is
away and publishes it the moment it is back; and, for the whole pipeline, RabbitMQ and then
PostgreSQL cut mid-stream lose nothing, double nothing, keep answers fast while the broker is
away, clear the backlog within seconds of its return, and take a handful of log lines."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from kombu.connection import Connection
from sqlalchemy import Engine, func, select, text

from envelopes import Addressed, work_items
from pipeline.ingest import Ingestor
from pipeline.queues import Publisher, Topology
from storage.blobs import BlobStore
from storage.db import create_db_engine
from storage.migrate import upgrade
from storage.sweeps import NOT_QUEUED
from storage.tables import RAW
from tests.conftest import delete_queues
from tests.pipeline.test_recovery import submission
from tests.proxy import TcpProxy
from tests.support import Mailbox, eventually, make_settings, running_pipeline, smtp_server

RATE = 20.0
"""Reports a second, each from its own address: an outage leaves 600 behind, which this test's
pipeline (every part and the mail server in one process) clears in about five seconds."""
OUTAGE_SECONDS = 30.0
"""As long as the issue's outages, of RabbitMQ and then of PostgreSQL."""
STEADY_SECONDS = 3.0
STALE_AFTER_SECONDS = 600.0
"""Far longer than the test: the sweeper cannot be what publishes the backlog."""
DRAINED_WITHIN_SECONDS = 30.0  # that the backlog drains, not how fast: bench/ measures speed
"""After a server is back, every report accepted so far has its receipt sent within this."""
FAST_P95_SECONDS = 0.2
MAX_LOG_LINES = 8
"""WARNING and above, per outage: about one for each part that loses its server (the lines that
say it is back are INFO)."""
RETRY_AFTER_CAP_SECONDS = 5.0
HAND_OVER_SECONDS = 0.05
BACK_WITHIN_SECONDS = 3.0


@pytest.fixture
def topology(rabbitmq_url: str) -> Iterator[Topology]:
    topology = Topology(rabbitmq_url, prefix=f"t{uuid.uuid4().hex[:12]}")
    yield topology
    delete_queues(rabbitmq_url, topology.prefix, ["webform"])


class NormalizeQueue:
    """What reached RabbitMQ's normalize queue, read straight from it (not through the proxy)."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.ids: list[int] = []

    def __call__(self) -> list[int]:
        """Every id named so far, sorted; takes the items off the queue."""
        with Connection(self.topology.broker_url) as connection:
            queue = self.topology.normalize_queue()(connection.default_channel)
            queue.declare()
            while (message := queue.get(no_ack=True)) is not None:
                self.ids.extend(message.payload["ids"])
        return sorted(self.ids)


def one(record_id: int) -> list[Addressed]:
    return work_items("normalize", "raw_message", [(record_id, "webform")])


async def test_the_publisher_holds_work_while_the_broker_is_away(
    topology: Topology, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pipeline.queues")
    published = NormalizeQueue(topology)
    with TcpProxy(topology.broker_url) as broker:
        publisher = Publisher(Topology(broker.url, topology.prefix), ["webform"], max_held=3)
        try:
            assert publisher.publish(one(1))
            await eventually(lambda: published() == [1])
            broker.cut()
            handed, took = [], []
            for record_id in (2, 3, 4, 5):
                started = time.monotonic()
                handed.append(publisher.publish(one(record_id)))
                took.append(time.monotonic() - started)
            assert handed == [True, True, True, False]  # past the bound, the sweeper publishes it
            assert max(took) < HAND_OVER_SECONDS
            await asyncio.sleep(2.0)  # a few attempts to reconnect
            broker.restore()
            await eventually(lambda: published() == [1, 2, 3, 4], timeout=BACK_WITHIN_SECONDS)
        finally:
            publisher.close()
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "pipeline.queues"]
    assert [level for level, _ in lines] == ["WARNING", "INFO"], lines
    assert "3 records published that were held, 1 left to the sweeper" in lines[1][1]


async def test_reports_stored_while_the_broker_is_away_are_published_on_its_return(
    topology: Topology, tmp_path: Path
) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'satupintu.db'}")
    upgrade(engine)
    published = NormalizeQueue(topology)
    with TcpProxy(topology.broker_url) as broker:
        publisher = Publisher(Topology(broker.url, topology.prefix), ["webform"], max_held=2)
        ingest = Ingestor(engine, publisher, BlobStore(tmp_path / "blobs"))
        try:
            broker.cut()
            stored, took = [], []
            for n in range(5):
                started = time.monotonic()
                stored.extend(await ingest.accept([submission(f"cut-{n}")]))
                took.append(time.monotonic() - started)
            assert max(took) < FAST_P95_SECONDS  # the database alone answers
            assert never_queued(engine) == 3  # past the publisher's bound
            broker.restore()
            await eventually(lambda: published() == sorted(s.id for s in stored), timeout=BACK_WITHIN_SECONDS)
        finally:
            ingest.close()
            engine.dispose()


def never_queued(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).where(RAW.c.queued_at == NOT_QUEUED)).scalar_one())


async def test_reports_refused_by_a_full_but_connected_publisher_are_published_once_it_has_room(
    topology: Topology, tmp_path: Path
) -> None:
    """The broker stays connected but does not confirm for a while (as RabbitMQ blocks publishers
    under a memory alarm): what the full publisher refused is published as soon as it has room
    again, not when the sweeper's timer comes round (there is no sweeper here)."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'satupintu.db'}")
    upgrade(engine)
    published = NormalizeQueue(topology)
    with TcpProxy(topology.broker_url) as broker:
        publisher = Publisher(Topology(broker.url, topology.prefix), ["webform"], max_held=2)
        ingest = Ingestor(engine, publisher, BlobStore(tmp_path / "blobs"))
        try:
            stored = await ingest.accept([submission("before")])
            await eventually(lambda: published() == [stored[0].id])  # connected, and publishing
            broker.stall()
            for n in range(5):
                stored.extend(await ingest.accept([submission(f"full-{n}")]))
            assert never_queued(engine) == 3, "past the publisher's bound, left to the sweeper"
            await asyncio.sleep(1.0)  # a confirm that is late, not lost: the connection stays
            broker.flow()
            await eventually(lambda: published() == sorted(s.id for s in stored), timeout=BACK_WITHIN_SECONDS)
        finally:
            ingest.close()
            engine.dispose()
    assert never_queued(engine) == 0


@dataclass
class Report:
    """One report of the stream, and every answer it got until it was accepted."""

    reference: str
    first_sent: float
    answers: list[tuple[float, int | None]] = field(default_factory=list)
    """(seconds the answer took, HTTP status or None when the connection failed)."""
    accepted: float | None = None


class Stream:
    """Posts reports at a steady rate; a refused one is posted again after ``Retry-After``."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http
        self.reports: list[Report] = []
        self._posting: set[asyncio.Task[None]] = set()

    async def run(self, stop: asyncio.Event) -> None:
        started = time.monotonic()
        while not stop.is_set():
            report = Report(f"outage-{len(self.reports):05d}", time.monotonic())
            self.reports.append(report)
            task = asyncio.create_task(self._post(report))
            self._posting.add(task)
            task.add_done_callback(self._posting.discard)
            await asyncio.sleep(max(0.0, started + len(self.reports) / RATE - time.monotonic()))
        await asyncio.gather(*self._posting)

    async def _post(self, report: Report) -> None:
        body = {"email": f"{report.reference}@example.id", "text": f"Lampu koridor gedung A mati ({report.reference})."}
        body["client_reference"] = report.reference
        for _ in range(40):
            started = time.monotonic()
            retry_after = 1.0
            try:
                async with self.http.post("/api/v1/reports", json=body) as response:
                    status: int | None = response.status
                    retry_after = float(response.headers.get("Retry-After", retry_after))
            except aiohttp.ClientError:
                status = None
            report.answers.append((time.monotonic() - started, status))
            if status == 202:
                report.accepted = time.monotonic()
                return
            await asyncio.sleep(min(retry_after, RETRY_AFTER_CAP_SECONDS))
        raise AssertionError(f"{report.reference} was never accepted: {report.answers}")

    def accepted_before(self, moment: float) -> list[str]:
        return [r.reference for r in self.reports if r.accepted is not None and r.accepted < moment]

    def sent_between(self, start: float, end: float) -> list[Report]:
        return [r for r in self.reports if start <= r.first_sent < end]


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    with smtp_server(handler) as port:
        yield handler, port


def backlog(engine: Engine, references: list[str]) -> dict[str, int]:
    """Where the reports whose receipt is not sent yet wait: ``raw state/receipt state`` -> count."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT r.state AS raw, coalesce(o.state, '-') AS receipt, count(*) AS n FROM raw_message r "
                "LEFT JOIN outbox o ON o.case_id = r.case_id AND o.purpose = 'receipt' "
                "WHERE r.external_id = ANY(:refs) AND o.state IS DISTINCT FROM 'sent' GROUP BY 1, 2"
            ),
            {"refs": references},
        ).all()
    return {f"{row.raw}/{row.receipt}": int(row.n) for row in rows}


async def drained(engine: Engine, references: list[str], since: float) -> None:
    """Wait until every one of ``references`` has its receipt sent, at most ``DRAINED_WITHIN_SECONDS``
    after ``since``; else fail saying where the rest wait."""
    while left := await asyncio.to_thread(backlog, engine, references):
        took = time.monotonic() - since
        assert took < DRAINED_WITHIN_SECONDS, f"backlog left {took:.1f}s after recovery: {left}"
        await asyncio.sleep(0.2)


def counts(engine: Engine) -> dict[str, int]:
    queries = {
        "raw": "SELECT count(*) FROM raw_message",
        "triaged": "SELECT count(*) FROM raw_message WHERE state = 'triaged'",
        "cases": "SELECT count(*) FROM cases",
        "receipts": "SELECT count(*) FROM outbox WHERE purpose = 'receipt'",
        "sent": "SELECT count(*) FROM outbox WHERE purpose = 'receipt' AND state = 'sent'",
    }
    with engine.connect() as connection:
        return {name: int(connection.execute(text(sql)).scalar_one()) for name, sql in queries.items()}


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def warnings_between(records: list[logging.LogRecord], start: float, end: float) -> list[logging.LogRecord]:
    return [r for r in records if r.levelno >= logging.WARNING and start <= r.created < end]


def shown(records: list[logging.LogRecord]) -> str:
    return "\n".join(
        f"{r.levelname} {r.name}: {r.getMessage()[:160]}{' +traceback' if r.exc_info else ''}" for r in records
    )


@pytest.mark.slow
async def test_broker_then_database_outage_loses_nothing(
    postgres_url: str,
    rabbitmq_url: str,
    tmp_path: Path,
    mailbox: tuple[Mailbox, int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    handler, smtp_port = mailbox
    direct = create_db_engine(postgres_url)  # the test's own view, not through the proxy
    with TcpProxy(rabbitmq_url) as broker, TcpProxy(postgres_url) as database:
        settings = make_settings(
            tmp_path / "var",
            database_url=database.url,
            broker_url=broker.url,
            pipeline={"stale_after_seconds": STALE_AFTER_SECONDS},
            connectors={
                "email": {
                    "enabled": True,
                    "address": "ult@itk.example.ac.id",
                    "smtp_host": "127.0.0.1",
                    "smtp_port": smtp_port,
                    "smtp_security": "plain",
                }
            },
        )
        try:
            async with running_pipeline(settings) as app, aiohttp.ClientSession(app.base_url) as http:
                stream, stop = Stream(http), asyncio.Event()
                streaming = asyncio.create_task(stream.run(stop))
                await asyncio.sleep(STEADY_SECONDS)

                broker_cut, broker_cut_at = time.monotonic(), time.time()
                broker.cut()
                await asyncio.sleep(OUTAGE_SECONDS)
                broker.restore()
                broker_back = time.monotonic()
                await drained(direct, stream.accepted_before(broker_back), since=broker_back)
                broker_quiet_at = time.time()

                await asyncio.sleep(STEADY_SECONDS)
                database_cut_at = time.time()
                database.cut()
                await asyncio.sleep(OUTAGE_SECONDS)
                database.restore()
                database_back = time.monotonic()
                await asyncio.sleep(STEADY_SECONDS)
                stop.set()
                await streaming  # the reports refused meanwhile are accepted on their retry
                references = [r.reference for r in stream.reports]
                await drained(direct, references, since=database_back)
                await asyncio.sleep(1.0)  # a receipt sent twice would arrive by now
                end_at = time.time()
        finally:
            delete_queues(rabbitmq_url, settings.pipeline.queue_prefix, ["webform", "email"])
            direct.dispose()

    total = len(references)
    assert counts(direct) == {"raw": total, "triaged": total, "cases": total, "receipts": total, "sent": total}
    mails = Counter(str(m["To"]) for m in handler.received)
    assert set(mails) == {f"{r}@example.id" for r in references}
    assert [address for address, n in mails.items() if n > 1] == [], "a receipt mailed twice"

    during_broker_outage = stream.sent_between(broker_cut, broker_back)
    assert during_broker_outage
    assert all(r.answers[0][1] == 202 for r in during_broker_outage), "a report refused while only the broker was away"
    assert p95([r.answers[0][0] for r in during_broker_outage]) < FAST_P95_SECONDS

    broker_lines = warnings_between(caplog.records, broker_cut_at, broker_quiet_at)
    assert len(broker_lines) <= MAX_LOG_LINES, shown(broker_lines)
    database_lines = warnings_between(caplog.records, database_cut_at, end_at)
    assert not [r for r in database_lines if r.exc_info], shown(database_lines)
    assert len(database_lines) <= MAX_LOG_LINES, shown(database_lines)
