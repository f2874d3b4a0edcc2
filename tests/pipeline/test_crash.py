"""SIGKILL `satupintu run` in the middle of a stream of submissions, start it again: every
accepted submission ends as exactly one case with exactly one receipt, no case or receipt is
left that no message made, and a client retrying a request that failed in the crash makes no
second case."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp
import pytest

from storage.db import create_db_engine
from tests.support import Running, SettingsFactory, eventually
from tests.workers import workers

pytestmark = pytest.mark.slow

TOTAL = 400
KILL_AFTER = 120
CONCURRENCY = 8


class Stream:
    """Submits reports with unique client references, remembering which were accepted."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.accepted: set[str] = set()
        self.failed: set[str] = set()

    async def send(self, http: aiohttp.ClientSession, reference: str) -> None:
        body = {
            "name": "Pelapor Uji",
            "email": f"{reference}@example.id",
            "subject": "AC rusak",
            "text": f"AC di ruang kelas E-203 rusak sejak minggu lalu, mohon diperbaiki ({reference}).",
            "client_reference": reference,
        }
        try:
            async with http.post(f"{self.base_url}/api/v1/reports", json=body) as response:
                if response.status == 202:
                    self.accepted.add(reference)
                    self.failed.discard(reference)
                    return
        except (TimeoutError, aiohttp.ClientError):
            pass
        self.failed.add(reference)

    async def run(self, references: list[str], stop_when: asyncio.Event | None = None) -> None:
        queue = list(references)
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as http:

            async def worker() -> None:
                while queue and not (stop_when and stop_when.is_set()):
                    await self.send(http, queue.pop(0))

            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


async def test_sigkill_mid_stream_loses_and_doubles_nothing(backend_settings: SettingsFactory, tmp_path: Path) -> None:
    # a receipt claimed when the process died waits out its lease: keep it short
    settings = backend_settings(pipeline={"stale_after_seconds": 2.0, "send_lease_seconds": 4.0})
    references = [f"crash-{n:04d}" for n in range(TOTAL)]
    stream = Stream(f"http://127.0.0.1:{settings.http.port}")
    with workers(settings, tmp_path / "server.log") as started:
        first = started.start("run")
        await started.ready()
        killed = asyncio.Event()

        async def killer() -> None:
            while len(stream.accepted) < KILL_AFTER:  # noqa: ASYNC110 - polling a plain counter
                await asyncio.sleep(0.005)
            assert started.kill(first) == -signal.SIGKILL
            await asyncio.sleep(0.3)  # let in-flight requests fail against the dead server
            killed.set()

        await asyncio.gather(stream.run(references[: TOTAL // 2], stop_when=killed), killer())
        assert len(stream.accepted) >= KILL_AFTER

        started.start("run")
        await started.ready()
        # A real client retries what failed, with the same reference, then goes on.
        retry = sorted(stream.failed)
        rest = [r for r in references if r not in stream.accepted and r not in stream.failed]
        await stream.run(retry + rest)
        assert not stream.failed, f"rejected after restart: {sorted(stream.failed)[:5]}"

        engine = create_db_engine(settings.database_url)
        app = Running(settings, stream.base_url, engine, pipeline=None)  # type: ignore[arg-type]
        try:
            await eventually(
                lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") >= len(stream.accepted),
                timeout=120,
            )
            await asyncio.sleep(3)  # past the sweeper's timeout: a doubled work item would show now
            _assert_exactly_once(app, stream.accepted)
        finally:
            engine.dispose()
        assert started.stop() == [0], f"SIGTERM must stop the pipeline cleanly: {started.tail()}"


def _assert_exactly_once(app: Running, accepted: set[str]) -> None:
    rows = app.rows("SELECT r.external_id, r.state, r.case_id FROM raw_message r WHERE r.channel = 'webform'")
    stored = {row["external_id"]: row for row in rows}
    assert len(stored) == len(rows), "one raw message per client reference"
    missing = accepted - stored.keys()
    assert not missing, f"accepted but not stored: {sorted(missing)[:5]}"
    assert all(row["state"] == "triaged" for row in rows), "every stored submission is triaged"

    per_case = app.rows(
        "SELECT c.id, count(DISTINCT r.id) AS messages, "
        "(SELECT count(*) FROM outbox o WHERE o.case_id = c.id) AS receipts, "
        "(SELECT count(*) FROM outbox o WHERE o.case_id = c.id AND o.state = 'sent') AS sent "
        "FROM cases c JOIN raw_message r ON r.case_id = c.id GROUP BY c.id"
    )
    assert len(per_case) == len(rows), "exactly one case per submission"
    assert all(c["messages"] == 1 and c["receipts"] == 1 and c["sent"] == 1 for c in per_case)
    numbers = app.rows("SELECT count(DISTINCT tracking_number) AS n, count(*) AS total FROM cases")[0]
    assert numbers["n"] == numbers["total"]
    orphans = "NOT EXISTS (SELECT 1 FROM raw_message r WHERE r.case_id = {})"
    assert app.scalar(f"SELECT count(*) FROM cases c WHERE {orphans.format('c.id')}") == 0, "a case no message made"
    assert app.scalar(f"SELECT count(*) FROM outbox o WHERE {orphans.format('o.case_id')}") == 0, "a stray receipt"
