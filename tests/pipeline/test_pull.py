"""Pull loops that survive: one process pulls a source at a time, a standby takes over when the
holder stops or dies, the cursor is written only under the lease, a failing loop is restarted
with backoff and says why in its health, and shutdown cancels a fetch that never returns."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from config.settings import PullSettings, Settings, load_settings
from pipeline.ingest import Ingestor
from pipeline.pull import PullHealth, PullLoop, lease_name, read_health
from pipeline.queues import Publisher, Topology
from storage import leases
from storage.blobs import BlobStore
from storage.db import create_db_engine, reading
from storage.migrate import upgrade
from storage.state import state_get
from tests.pipeline.framework_connectors import FolderConfig, FolderPull, installed
from tests.support import REPO, eventually, free_port, running_pipeline

LEASE = lease_name("folder_pull", "default")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    with installed(tmp_path / "site") as path:
        yield path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path}/pull.db"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = create_db_engine(database_url)
    upgrade(made)
    yield made
    made.dispose()


@asynccontextmanager
async def ingest_into(engine: Engine, tmp_path: Path) -> AsyncIterator[Ingestor]:
    publisher = Publisher(Topology("memory://", f"pull{os.getpid()}", tmp_path), ["folder_pull"])
    ingestor = Ingestor(engine, publisher, BlobStore(tmp_path / "blobs"))
    try:
        yield ingestor
    finally:
        await asyncio.to_thread(ingestor.close)


def write_notes(folder: Path, *numbers: int) -> None:
    folder.mkdir(exist_ok=True)
    for number in numbers:
        (folder / f"{number:03d}.json").write_text(f'{{"text": "catatan {number}"}}')


def stored(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(text("SELECT external_id FROM raw_message ORDER BY external_id")).scalars())


def health(engine: Engine) -> PullHealth | None:
    with reading(engine) as connection:
        found = read_health(connection, "folder_pull")
    return found[0] if found else None


def holder(engine: Engine) -> str | None:
    with reading(engine) as connection:
        found = leases.holder(connection, LEASE)
    return None if found is None else found.holder


def fetches(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def folder_pull(tmp_path: Path, tag: str = "a", **config: Any) -> FolderPull:
    settings = FolderConfig(folder=tmp_path / "inbox", fetch_log=tmp_path / f"fetches-{tag}.log", **config)
    return FolderPull(settings)


def loop_of(connector: FolderPull, ingest: Ingestor, engine: Engine, holder_name: str, **pull: float) -> PullLoop:
    settings = PullSettings(**{"lease_seconds": 1.5, "max_backoff_seconds": 1.0, **pull})
    return PullLoop("folder_pull", connector, "default", ingest, engine, settings, holder=holder_name)


async def test_of_two_loops_only_the_holder_fetches_and_the_standby_takes_over_when_it_stops(
    engine: Engine, tmp_path: Path
) -> None:
    write_notes(tmp_path / "inbox", 1, 2, 3)
    first, second = folder_pull(tmp_path, "a"), folder_pull(tmp_path, "b")
    async with ingest_into(engine, tmp_path) as ingest:
        stop_first, stop_second = asyncio.Event(), asyncio.Event()
        running_first = asyncio.create_task(loop_of(first, ingest, engine, "host-a:1").run(stop_first))
        await eventually(lambda: holder(engine) == "host-a:1")
        running_second = asyncio.create_task(loop_of(second, ingest, engine, "host-b:2").run(stop_second))
        await eventually(lambda: stored(engine) == ["001.json", "002.json", "003.json"])
        await asyncio.sleep(1.0)  # several poll intervals, and most of a lease
        assert fetches(first.config.fetch_log) > 3
        assert fetches(second.config.fetch_log) == 0, "the standby must not fetch while the lease is held"

        stop_first.set()
        await running_first
        stopped_at = time.monotonic()
        await eventually(lambda: holder(engine) == "host-b:2", timeout=3)
        assert time.monotonic() - stopped_at < 1.5, "a lease given up at shutdown is taken at once, not at expiry"
        write_notes(tmp_path / "inbox", 4)
        await eventually(lambda: len(stored(engine)) == 4)
        with engine.connect() as connection:
            assert state_get(connection, "folder_pull", "cursor:default") == "004.json"
        stop_second.set()
        await running_second
    assert holder(engine) is None


async def test_a_holder_that_lost_its_lease_writes_no_cursor(engine: Engine, tmp_path: Path) -> None:
    """The cursor is compare-and-set with the lease: here the lease changes hands while a fetch is
    under way (a pause longer than the lease, say), and the old holder's page must not move it."""
    write_notes(tmp_path / "inbox", 1)
    gate, entered = asyncio.Event(), asyncio.Event()

    class Paused(FolderPull):
        async def fetch(self, source: str, cursor: str | None) -> Any:
            entered.set()
            await gate.wait()
            return await super().fetch(source, cursor)

    connector = Paused(FolderConfig(folder=tmp_path / "inbox", fetch_log=tmp_path / "fetches.log"))
    async with ingest_into(engine, tmp_path) as ingest:
        stop = asyncio.Event()
        running = asyncio.create_task(loop_of(connector, ingest, engine, "host-a:1", lease_seconds=60).run(stop))
        await asyncio.wait_for(entered.wait(), 10)
        with engine.begin() as connection:  # another process took the lease over
            connection.execute(text("UPDATE lease SET token = 'theirs', holder = 'host-b:2'"))
        gate.set()
        await eventually(lambda: stored(engine) == ["001.json"])  # storing first is harmless
        await asyncio.sleep(0.5)
        stop.set()
        await running
    with engine.connect() as connection:
        assert state_get(connection, "folder_pull", "cursor:default") is None
    assert health(engine) is None, "a process without the lease writes nothing"
    assert fetches(connector.config.fetch_log) == 1, "having lost the lease, the loop stands by"
    assert holder(engine) == "host-b:2"


async def test_a_failing_loop_is_restarted_with_backoff_and_its_health_says_why(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    connector = folder_pull(tmp_path)  # the inbox does not exist yet: unreachable
    caplog.set_level(logging.DEBUG, logger="pipeline.pull")
    async with ingest_into(engine, tmp_path) as ingest:
        stop = asyncio.Event()
        running = asyncio.create_task(loop_of(connector, ingest, engine, "host-a:1").run(stop))
        failing = await eventually(lambda: (h := health(engine)) is not None and h.failures >= 3 and h)
        assert failing.state == "failing"
        assert failing.last_error == "ConnectorNotReady: inbox is not there"
        assert failing.holder == "host-a:1"
        assert failing.last_success_at is None
        assert not running.done()
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name == "pipeline.pull"]
        assert len(warnings) == 1, "one line per streak of failures, not one per attempt"

        write_notes(tmp_path / "inbox", 1, 2, 3)
        await eventually(lambda: len(stored(engine)) == 3, timeout=10)
        # notes written while a pass runs are left for the next, which reports nothing behind
        recovered = await eventually(
            lambda: (h := health(engine)) is not None and h.state == "ok" and h.behind == 0 and h
        )
        assert recovered.failures == 0
        assert recovered.last_success_at is not None
        assert recovered.last_error == "ConnectorNotReady: inbox is not there", "the last error stays for the record"
        stop.set()
        await running


async def test_a_loop_that_fails_outside_its_fetch_is_logged_and_restarted(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A surprise where no retry expects one (taking the lease raises a plain RuntimeError, as a
    driver's bug would) is logged with its traceback, and the loop starts again after a backoff
    rather than ending in silence."""
    write_notes(tmp_path / "inbox", 1)
    surprises = 2

    @event.listens_for(engine, "before_cursor_execute")
    def break_the_lease(*args: Any) -> None:
        nonlocal surprises
        if "INSERT INTO lease" in args[2] and surprises:
            surprises -= 1
            raise RuntimeError("driver bug")

    caplog.set_level(logging.ERROR, logger="pipeline.pull")
    async with ingest_into(engine, tmp_path) as ingest:
        stop = asyncio.Event()
        running = asyncio.create_task(loop_of(folder_pull(tmp_path), ingest, engine, "host-a:1").run(stop))
        await eventually(lambda: stored(engine) == ["001.json"], timeout=10)
        assert not running.done()
        stop.set()
        await running
    crashes = [r for r in caplog.records if r.name == "pipeline.pull"]
    assert [r.getMessage() for r in crashes] == [
        "pull loop failed; restarting in 0.5 s",
        "pull loop failed; restarting in 1 s",
    ]
    assert all(r.exc_info and "driver bug" in str(r.exc_info[1]) for r in crashes)


async def test_refused_credentials_turn_the_health_red_and_the_loop_keeps_trying(
    engine: Engine, tmp_path: Path
) -> None:
    refused = tmp_path / "token-revoked"
    refused.touch()
    write_notes(tmp_path / "inbox", 1)
    connector = folder_pull(tmp_path, refuse_when=refused)
    async with ingest_into(engine, tmp_path) as ingest:
        stop = asyncio.Event()
        running = asyncio.create_task(loop_of(connector, ingest, engine, "host-a:1", max_backoff_seconds=0.5).run(stop))
        red = await eventually(lambda: (h := health(engine)) is not None and h.state == "auth_failed" and h)
        assert red.last_error == "ConnectorAuthFailed: token revoked"
        refused.unlink()  # the admin put a new token in
        await eventually(lambda: stored(engine) == ["001.json"], timeout=5)
        assert await eventually(lambda: (h := health(engine)) is not None and h.state == "ok")
        stop.set()
        await running


async def test_a_channel_that_asks_for_a_wait_is_not_asked_again_sooner(engine: Engine, tmp_path: Path) -> None:
    """Telegram's 429 says ``retry_after``; a Graph API refusal sends Retry-After: the next fetch
    waits that long, though the backoff alone would come back sooner."""
    busy = tmp_path / "busy"
    busy.write_text("1.5")
    write_notes(tmp_path / "inbox", 1)
    connector = folder_pull(tmp_path, busy_when=busy)
    log = tmp_path / "fetches-a.log"
    async with ingest_into(engine, tmp_path) as ingest:
        stop = asyncio.Event()
        running = asyncio.create_task(loop_of(connector, ingest, engine, "host-a:1", max_backoff_seconds=0.5).run(stop))
        await eventually(lambda: (h := health(engine)) is not None and h.failures == 1)
        await asyncio.sleep(1.0)  # twice the loop's longest backoff, within the channel's wait
        assert fetches(log) == 1, "not asked again before the wait the channel asked for"
        busy.unlink()
        await eventually(lambda: stored(engine) == ["001.json"], timeout=5)
        stop.set()
        await running


def _process_settings(tmp_path: Path, database_url: str, **connector: Any) -> Path:
    """A config file both processes read: one database, a queue on disk, a short lease."""
    config = tmp_path / "satupintu.toml"
    folder_pull_config = {"folder": str(tmp_path / "inbox"), "fetch_log": str(tmp_path / "fetches.log"), **connector}
    lines = [
        f'data_dir = "{tmp_path / "var"}"',
        f'database_url = "{database_url}"',
        f'broker_url = "filesystem://{tmp_path / "queue"}"',
        "[http]",
        f"port = {free_port()}",
        "[pipeline]",
        'queue_prefix = "pulltest"',
        "[pull]",
        "lease_seconds = 1.5",
        "[log]",
        'level = "WARNING"',
        "[connectors.folder_pull]",
        *(f'{key} = "{value}"' for key, value in folder_pull_config.items()),
    ]
    config.write_text("\n".join(lines) + "\n")
    return config


def _in_process(config: Path) -> Settings:
    return load_settings(config, http={"host": "127.0.0.1", "port": free_port()})


async def test_the_standby_process_takes_over_within_the_lease_when_the_holder_is_killed(
    site: str, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path}/pull.db"
    config = _process_settings(tmp_path, database_url)
    settings = _in_process(config)
    engine = create_db_engine(database_url)
    upgrade(engine)
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": site, "HOME": str(tmp_path)}
    command = [sys.executable, "-m", "workers", "--config", str(config), "worker", "http"]
    with (tmp_path / "worker.log").open("w") as output:
        worker = subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        await eventually(lambda: (holder(engine) or "").endswith(f":{worker.pid}"), timeout=30)
        async with running_pipeline(settings, ("http",)):
            write_notes(tmp_path / "inbox", 1, 2, 3)
            await eventually(lambda: len(stored(engine)) == 3)
            await asyncio.sleep(1.0)
            pullers = set((tmp_path / "fetches.log").read_text().split())
            assert pullers == {str(worker.pid)}, "only the lease holder fetches"

            worker.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            await eventually(lambda: (holder(engine) or "").endswith(f":{os.getpid()}"), timeout=5)
            assert time.monotonic() - killed_at < 1.5 + 1.5 / 3 + 0.5, "taken over within the lease and a retry"
            write_notes(tmp_path / "inbox", 4, 5)
            await eventually(lambda: len(stored(engine)) == 5)
            assert str(os.getpid()) in (tmp_path / "fetches.log").read_text().split()
        assert holder(engine) is None
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.wait(10)
        engine.dispose()
    assert stored(engine) == [f"{n:03d}.json" for n in range(1, 6)]


async def test_shutdown_cancels_a_fetch_that_never_returns(site: str, tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path}/pull.db"
    settings = _in_process(_process_settings(tmp_path, database_url, hang="true"))
    engine = create_db_engine(database_url)
    try:
        async with running_pipeline(settings, ("http",)):
            await eventually(lambda: fetches(tmp_path / "fetches.log") == 1)
            stopping_at = time.monotonic()
        assert time.monotonic() - stopping_at < 3.0, "well within the shutdown grace period"
        assert holder(engine) is None, "the lease is given up for the next process"
    finally:
        engine.dispose()
