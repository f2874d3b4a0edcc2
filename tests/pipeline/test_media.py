"""Media after storage: items a channel sent by reference are fetched from a real HTTP server,
stored by SHA-256 and shown on the case; a 500 is retried, a 404 is recorded as the reason the
officer sees, the message is kept either way, and competing workers fetch each item once. An item
over the size limit is failed and not stored; a channel's Retry-After is waited out; a database
outage takes two log lines."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import Engine, select, text

from connectors.base import ConnectorNotReady
from envelopes import MediaRef, NormalizedMessage, RawMessage
from pipeline.media import MediaFetcher
from storage.blobs import BlobStore
from storage.cases import case_attachments
from storage.db import create_db_engine, reading, transaction
from storage.media import insert_pending
from storage.migrate import upgrade
from storage.raw import insert_raw_messages
from storage.tables import MEDIA
from tests.conftest import delete_queues
from tests.pipeline.framework_connectors import FolderConfig, FolderPull, installed
from tests.proxy import TcpProxy
from tests.support import SettingsFactory, eventually, free_port, running_pipeline

JPEG = "image/jpeg"
BUSY_RETRY_AFTER_SECONDS = 120
MAX_BYTES = 1024 * 1024
STREAM_CHUNK = 64 * 1024
STREAMED_BYTES = 200 * 1024 * 1024


@dataclass
class Channel:
    """The channel's media server: ``/ok`` answers, ``/flaky`` fails once first, ``/down`` always
    fails, ``/busy`` answers 429 with ``Retry-After``, ``/gone`` answers 404 once ``gone_after`` is
    set, ``/slow`` never answers, ``/stream`` sends ``STREAMED_BYTES`` without a length, counting
    what it got out in ``streamed``."""

    base: str = ""
    hits: Counter[str] = field(default_factory=Counter)
    streamed: int = 0
    gone_after: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.hits[path] += 1
        kind = path.split("/")[1]
        if (kind == "flaky" and self.hits[path] == 1) or kind == "down":
            return web.Response(status=500, text="upstream error")
        if kind == "busy":
            return web.Response(status=429, headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)})
        if kind == "gone":
            await self.gone_after.wait()
            return web.Response(status=404, text="media expired")
        if kind == "slow":
            await asyncio.Event().wait()
        if kind == "stream":
            return await self.stream(request)
        await asyncio.sleep(0.02)  # long enough for competing workers to overlap
        return web.Response(body=photo(path), content_type=JPEG)

    async def stream(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        chunk = b"\x00" * STREAM_CHUNK
        # The fetcher hanging up part-way is the outcome under test, not an error of this server.
        with contextlib.suppress(ConnectionError, RuntimeError):
            while self.streamed < STREAMED_BYTES:
                await response.write(chunk)
                self.streamed += len(chunk)
            await response.write_eof()
        return response


def photo(path: str) -> bytes:
    return f"JPEG bytes of {path}".encode()


@asynccontextmanager
async def channel_server() -> AsyncIterator[Channel]:
    channel = Channel()
    app = web.Application()
    app.router.add_get("/{kind}/{name}", channel.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.5)  # /slow never answers
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    channel.base = f"http://127.0.0.1:{port}"
    try:
        yield channel
    finally:
        channel.gone_after.set()
        await runner.cleanup()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    with installed(tmp_path / "site") as path:
        yield path


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    return migrated_engine


def media_rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM media ORDER BY raw_message_id, position")).mappings()
        return [dict(row) for row in rows]


def unfinished(engine: Engine) -> int:
    return sum(row["state"] in {"pending", "fetching"} for row in media_rows(engine))


async def test_media_is_fetched_after_storage_and_shown_on_the_case(
    site: str, tmp_path: Path, backend_settings: SettingsFactory
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    async with channel_server() as channel:
        photos = [channel.url("/ok/a.jpg"), channel.url("/flaky/b.jpg"), channel.url("/gone/c.jpg")]
        (inbox / "001.json").write_text(json.dumps({"text": "Foto genangan di parkiran", "photos": photos}))
        settings = backend_settings(
            connectors={"folder_pull": {"folder": str(inbox), "fetch_log": str(tmp_path / "fetches.log")}}
        )
        try:
            async with running_pipeline(settings) as app:
                case_id = await eventually(lambda: app.scalar("SELECT case_id FROM raw_message"))
                channel.gone_after.set()  # the channel forgets the last photo once the case exists
                await eventually(lambda: unfinished(app.engine) == 0 and len(media_rows(app.engine)) == 3)
                with reading(app.engine) as connection:
                    attachments = case_attachments(connection, case_id)
                events = app.rows("SELECT detail FROM case_event WHERE action = 'media_failed'")
                state = app.scalar("SELECT state FROM raw_message")
        finally:
            if settings.broker_url.startswith("amqp"):
                delete_queues(settings.broker_url, settings.pipeline.queue_prefix, ["folder_pull"])
    fetched = [a for a in attachments if a["state"] == "fetched"]
    assert [(a["sha256"], a["content_type"], a["kind"]) for a in fetched] == [
        (hashlib.sha256(photo(path)).hexdigest(), JPEG, "image") for path in ("/ok/a.jpg", "/flaky/b.jpg")
    ]
    blobs = BlobStore(settings.blob_dir)
    assert blobs.get(fetched[0]["sha256"]) == photo("/ok/a.jpg")
    assert channel.hits["/flaky/b.jpg"] == 2, "a 500 is tried again"
    failed = [a for a in attachments if a["state"] == "failed"]
    assert [(a["kind"], a["error"]) for a in failed] == [("image", "the channel answered 404: expired or deleted")]
    assert channel.hits["/gone/c.jpg"] == 1, "a 404 is final"
    detail = events[0]["detail"]
    assert (json.loads(detail) if isinstance(detail, str) else detail)["error"].endswith("expired or deleted")
    assert state == "triaged", "the message and its case are kept whatever became of its media"


def store_messages(engine: Engine, urls: list[str], size: int | None = None) -> None:
    """Messages as the normalizer leaves them: stored, with their media pending."""
    received = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    raw = [
        RawMessage(
            channel="folder_pull",
            external_id=f"m{n}",
            received_at=received,
            content_type="application/json",
            payload=b"{}",
        )
        for n in range(len(urls))
    ]
    with transaction(engine) as connection:
        stored = insert_raw_messages(connection, raw)
        insert_pending(
            connection,
            [
                NormalizedMessage(
                    channel="folder_pull",
                    channel_message_id=f"m{n}",
                    raw_message_id=s.id,
                    conversation_key=f"folder_pull:m{n}",
                    media=(MediaRef(media_id=url, kind="image", size=size),),
                    received_at=received,
                )
                for n, (s, url) in enumerate(zip(stored, urls, strict=True))
            ],
        )


async def fetch_until_done(worker: MediaFetcher, engine: Engine) -> None:
    """Run ``worker`` until no item is pending or being fetched."""
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await eventually(lambda: unfinished(engine) == 0)
    finally:
        stop.set()
        await running


def fetcher(engine: Engine, tmp_path: Path, **options: Any) -> MediaFetcher:
    connector = FolderPull(FolderConfig(folder=tmp_path / "inbox", fetch_log=tmp_path / "fetches.log"))
    return MediaFetcher(
        engine, BlobStore(tmp_path / "blobs"), {"folder_pull": connector}, **{"max_bytes": MAX_BYTES, **options}
    )


async def test_competing_workers_fetch_each_item_once(engine: Engine, tmp_path: Path) -> None:
    async with channel_server() as channel:
        urls = [channel.url(f"/ok/{n}.jpg") for n in range(40)]
        store_messages(engine, urls)
        other = create_db_engine(str(engine.url.render_as_string(hide_password=False)))
        stop = asyncio.Event()
        workers = [
            asyncio.create_task(fetcher(engine, tmp_path, max_attempts=3).run(stop)),
            asyncio.create_task(fetcher(other, tmp_path, max_attempts=3).run(stop)),
        ]
        try:
            await eventually(lambda: unfinished(engine) == 0)
        finally:
            stop.set()
            await asyncio.gather(*workers)
            other.dispose()
    assert {row["state"] for row in media_rows(engine)} == {"fetched"}
    assert sorted(channel.hits.values()) == [1] * 40, "no item fetched twice"


async def test_an_item_that_keeps_failing_is_retried_later_then_failed_with_the_reason(
    engine: Engine, tmp_path: Path
) -> None:
    async with channel_server() as channel:
        store_messages(engine, [channel.url("/down/x.jpg")])
        stop = asyncio.Event()
        worker = asyncio.create_task(
            fetcher(engine, tmp_path, max_attempts=2, retry_base=timedelta(seconds=0.1)).run(stop)
        )
        try:
            await eventually(lambda: unfinished(engine) == 0)
        finally:
            stop.set()
            await worker
    [row] = media_rows(engine)
    assert row["state"] == "failed"
    assert row["attempts"] == 2
    assert row["error"] == "gave up after 2 attempts: ConnectorNotReady: the channel answered 500"
    assert channel.hits["/down/x.jpg"] == 6, "three quick tries in each of the two attempts"


async def test_a_fetch_cut_short_by_shutdown_is_handed_back(engine: Engine, tmp_path: Path) -> None:
    async with channel_server() as channel:
        store_messages(engine, [channel.url("/slow/x.jpg")])
        stop = asyncio.Event()
        worker = asyncio.create_task(fetcher(engine, tmp_path, max_attempts=3).run(stop))
        await eventually(lambda: channel.hits["/slow/x.jpg"] == 1)
        stop.set()
        await asyncio.wait_for(worker, 3)
    [row] = media_rows(engine)
    assert (row["state"], row["attempts"], row["lease_token"]) == ("pending", 0, None)


async def test_a_secret_in_the_media_url_stays_out_of_the_recorded_reason(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram's file URLs carry the bot token, and aiohttp's errors quote the URL they asked."""

    class Careless(FolderPull):
        async def fetch_media(self, media: MediaRef, max_bytes: int) -> Any:
            async with aiohttp.ClientSession() as session, session.get(media.media_id) as response:
                response.raise_for_status()
                raise AssertionError("the server answers 500")

    connector = Careless(FolderConfig(folder=tmp_path / "inbox", fetch_log=tmp_path / "fetches.log"))
    async with channel_server() as channel:
        store_messages(engine, [channel.url("/down/bot123456:SECRET-TOKEN")])
        worker = MediaFetcher(
            engine, BlobStore(tmp_path / "blobs"), {"folder_pull": connector}, max_attempts=1, max_bytes=MAX_BYTES
        )
        await fetch_until_done(worker, engine)
    [row] = media_rows(engine)
    assert row["error"] == (
        f"gave up after 1 attempt: ClientResponseError: 500, message='Internal Server Error', url='{channel.base}/…'"
    )
    assert "SECRET" not in caplog.text


async def test_an_item_over_the_size_limit_is_failed_and_not_stored(engine: Engine, tmp_path: Path) -> None:
    async with channel_server() as channel:
        store_messages(engine, [channel.url("/ok/video.mp4")])
        await fetch_until_done(fetcher(engine, tmp_path, max_attempts=3, max_bytes=16), engine)
    [row] = media_rows(engine)
    assert (row["state"], row["error"], row["sha256"]) == ("failed", "larger than the 16-byte limit", None)
    assert not [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()], "nothing reaches the blob store"
    assert channel.hits["/ok/video.mp4"] == 1, "too large is final"


async def test_an_endless_item_is_cut_at_the_limit_not_read_whole(engine: Engine, tmp_path: Path) -> None:
    """A body without a length is read only up to the limit: 200 MB are never held in memory."""
    async with channel_server() as channel:
        store_messages(engine, [channel.url("/stream/live.mp4")])
        await fetch_until_done(fetcher(engine, tmp_path, max_attempts=3), engine)
    [row] = media_rows(engine)
    assert (row["state"], row["error"]) == ("failed", f"larger than the {MAX_BYTES:,}-byte limit")
    assert channel.streamed < 20 * MAX_BYTES, "the fetch stopped soon after the limit"


async def test_an_item_the_channel_says_is_too_large_is_not_fetched(engine: Engine, tmp_path: Path) -> None:
    async with channel_server() as channel:
        store_messages(engine, [channel.url("/ok/film.mp4")], size=MAX_BYTES + 1)
        await fetch_until_done(fetcher(engine, tmp_path, max_attempts=3), engine)
    [row] = media_rows(engine)
    assert (row["state"], row["error"]) == (
        "failed",
        f"{MAX_BYTES + 1:,} bytes, larger than the {MAX_BYTES:,}-byte limit",
    )
    assert channel.hits["/ok/film.mp4"] == 0


class Polite(FolderPull):
    """Passes the channel's Retry-After on, as a connector should."""

    async def fetch_media(self, media: MediaRef, max_bytes: int) -> Any:
        async with aiohttp.ClientSession() as session, session.get(media.media_id) as response:
            if response.status == 429:
                raise ConnectorNotReady("rate limited", retry_after=float(response.headers["Retry-After"]))
            raise AssertionError(f"unexpected answer {response.status}")


async def test_a_channel_that_asks_to_wait_is_not_asked_again_before_its_retry_after(
    engine: Engine, tmp_path: Path
) -> None:
    connector = Polite(FolderConfig(folder=tmp_path / "inbox", fetch_log=tmp_path / "fetches.log"))
    worker = MediaFetcher(
        engine,
        BlobStore(tmp_path / "blobs"),
        {"folder_pull": connector},
        max_attempts=3,
        max_bytes=MAX_BYTES,
        retry_base=timedelta(seconds=0.1),
    )
    async with channel_server() as channel:
        store_messages(engine, [channel.url("/busy/x.jpg")])
        asked_at = datetime.now(UTC)
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop))
        try:
            await eventually(lambda: media_rows(engine)[0]["attempts"] == 1 and unfinished(engine) == 1)
            await asyncio.sleep(1.0)  # many of the worker's rounds, and ten of its own backoffs
        finally:
            stop.set()
            await running
    [row] = media_rows(engine)
    with engine.connect() as connection:
        due = connection.execute(select(MEDIA.c.next_attempt_at)).scalar_one()
    assert (row["state"], row["attempts"]) == ("pending", 1)
    assert due.replace(tzinfo=due.tzinfo or UTC) - asked_at >= timedelta(seconds=BUSY_RETRY_AFTER_SECONDS)
    assert channel.hits["/busy/x.jpg"] == 1, "no quick retry against a channel that asked to wait"


async def test_a_database_outage_takes_two_log_lines(
    postgres_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    direct = create_db_engine(postgres_url)
    upgrade(direct)
    caplog.set_level(logging.INFO, logger="pipeline.media")
    with TcpProxy(postgres_url) as database:
        proxied = create_db_engine(database.url)
        stop = asyncio.Event()
        running = asyncio.create_task(fetcher(proxied, tmp_path, max_attempts=3).run(stop))
        try:
            async with channel_server() as channel:
                await asyncio.sleep(0.5)
                database.cut()
                await asyncio.sleep(5.0)  # a few of the worker's rounds
                database.restore()
                store_messages(direct, [channel.url("/ok/after.jpg")])
                await eventually(lambda: unfinished(direct) == 0)
        finally:
            stop.set()
            await running
            proxied.dispose()
            direct.dispose()
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "pipeline.media"]
    assert [level for level, _ in lines] == ["WARNING", "INFO", "INFO"], lines
    assert lines[0][1].startswith("media: database unavailable; waiting for it: OperationalError")
    assert lines[1][1].startswith("media: database reachable again after ")
    assert lines[2][1] == "media fetched"
