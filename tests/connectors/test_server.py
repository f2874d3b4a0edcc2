"""What every request of the shared HTTP server gets: one error shape, a bounded share of memory,
and, while the database is away, a 503 that the log mentions twice, not once per request."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from aiohttp import ClientResponse
from sqlalchemy import create_engine, text

from config.settings import HttpSettings
from connectors.base import WebhookEndpoint, WebhookRequest
from connectors.contract import Framework
from envelopes import RawMessage
from tests.connectors.examples.example_sms import ExampleSms

PATH = "/webhooks/example_sms"
KEY = "k3y-of-the-gateway"
BATCH = (Path(__file__).parent / "examples" / "example_sms" / "fixtures" / "sms.received__batch.json").read_bytes()


def signed(body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    digest = hmac.new(KEY.encode(), body + stamp.encode(), hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Signature": digest, "X-Timestamp": stamp}


def sms() -> ExampleSms:
    return ExampleSms.from_section({"signing_key": KEY})


async def test_every_error_has_one_shape(tmp_path: Path) -> None:
    async with Framework.running(sms(), tmp_path) as framework:
        client = framework.client
        async with client.get("/no/such/page") as response:
            assert response.status == 404
            assert await response.json() == {"error": {"status": 404, "reason": "Not Found"}}
        async with client.delete(PATH) as response:
            assert response.status == 405 and "POST" in response.headers["Allow"]
            assert (await response.json())["error"]["status"] == 405
        async with client.post(PATH, data=BATCH, headers={"Content-Type": "application/json"}) as response:
            assert response.status == 401
            assert await response.json() == {"error": {"status": 401, "reason": "no X-Signature header"}}
        async with client.post(PATH, data=b"x" * (11 * 1024 * 1024), headers=signed(b"")) as response:
            assert response.status == 413 and response.content_type == "application/json"


class Broken(ExampleSms):
    """A connector with a bug: its split fails on a verified body."""

    def webhooks(self) -> Sequence[WebhookEndpoint]:
        [endpoint] = super().webhooks()

        def split(_request: WebhookRequest) -> list[RawMessage]:
            raise KeyError("payload")

        return [WebhookEndpoint(path=endpoint.path, verify=endpoint.verify, split=split)]


async def test_a_connectors_bug_is_a_500_in_the_same_shape_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with Framework.running(Broken.from_section({"signing_key": KEY}), tmp_path) as framework:
        async with framework.client.post(PATH, data=BATCH, headers=signed(BATCH)) as response:
            assert response.status == 500
            assert await response.json() == {"error": {"status": 500, "reason": "internal error"}}
        assert framework.count() == 0
    assert [r.exc_info is not None for r in caplog.records if r.message == "unhandled error"] == [True]


BUDGET = HttpSettings(max_body_bytes=64 * 1024, max_body_bytes_in_flight=64 * 1024)
SMALL = BATCH + b" " * 20_000
"""Fits the budget alone, not beside a body of 60,000 bytes."""


async def holding_the_budget(framework: Framework, release: asyncio.Event) -> asyncio.Task[ClientResponse]:
    """A request of 60,000 bytes that sends its first 1,000 and the rest once ``release`` is set."""
    big = BATCH[:-2] + b" " * (60_000 - len(BATCH)) + BATCH[-2:]

    async def slowly() -> AsyncIterator[bytes]:
        yield big[:1000]
        await release.wait()
        yield big[1000:]

    headers = {**signed(big), "Content-Length": str(len(big))}
    holding = asyncio.create_task(framework.client.post(PATH, data=slowly(), headers=headers))
    await asyncio.sleep(0.2)
    return holding


async def test_request_bodies_share_a_memory_budget(tmp_path: Path) -> None:
    """A body held open takes its Content-Length from the budget; the next one that does not fit
    waits, then is told to come back; once the first is done, there is room again."""
    async with Framework.running(sms(), tmp_path, http=BUDGET) as framework:
        release = asyncio.Event()
        holding = await holding_the_budget(framework, release)
        started = time.monotonic()
        async with framework.client.post(PATH, data=SMALL, headers=signed(SMALL)) as response:
            assert response.status == 503 and response.headers["Retry-After"] == "1"
            assert "too many requests" in (await response.json())["error"]["reason"]
        assert time.monotonic() - started >= 0.9, "it waited for room before refusing"
        release.set()
        first = await holding
        assert first.status == 200
        first.release()
        async with framework.client.post(PATH, data=SMALL, headers=signed(SMALL)) as response:
            assert response.status == 200


async def test_a_request_waiting_for_room_goes_on_when_room_comes(tmp_path: Path) -> None:
    """The one that does not fit is not refused when the body ahead of it ends within the wait."""
    async with Framework.running(sms(), tmp_path, http=BUDGET) as framework:
        release = asyncio.Event()
        holding = await holding_the_budget(framework, release)
        waiting = asyncio.create_task(framework.client.post(PATH, data=SMALL, headers=signed(SMALL)))
        await asyncio.sleep(0.3)
        assert not waiting.done(), "it waits for room"
        release.set()
        first, second = await holding, await waiting
        assert (first.status, second.status) == (200, 200)
        first.release()
        second.release()


def _connections(admin_url: str, database: str, allowed: bool) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS {str(allowed).lower()}'))
        if not allowed:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"), {"d": database}
            )
    engine.dispose()


async def test_a_database_outage_is_503_and_two_log_lines(
    tmp_path: Path, postgres_url: str, postgres_admin: str, caplog: pytest.LogCaptureFixture
) -> None:
    database = postgres_url.rsplit("/", 1)[1]
    caplog.set_level(logging.INFO)
    async with Framework.running(sms(), tmp_path, database_url=postgres_url) as framework:
        try:
            _connections(postgres_admin, database, allowed=False)
            for _ in range(20):
                async with framework.client.post(PATH, data=BATCH, headers=signed(BATCH)) as response:
                    assert response.status == 503 and response.headers["Retry-After"] == "5"
                    assert (await response.json())["error"]["reason"] == "storage unavailable, try again"
            browser = {**signed(BATCH), "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
            async with framework.client.post(PATH, data=BATCH, headers=browser) as response:
                assert response.status == 503 and response.headers["Retry-After"] == "5"
                assert response.content_type == "text/html"
                assert "Coba lagi dalam 5 detik" in await response.text()
        finally:
            _connections(postgres_admin, database, allowed=True)
        async with framework.client.post(PATH, data=BATCH, headers=signed(BATCH)) as response:
            assert response.status == 200
        assert framework.count() == 3
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == ["storage unavailable (OperationalError): answering 503 until it is back"]
    back = [r.getMessage() for r in caplog.records if "available again" in r.getMessage()]
    assert len(back) == 1 and back[0].endswith("21 requests were refused")
    assert not [r for r in caplog.records if r.exc_info], "no traceback per refused request"
