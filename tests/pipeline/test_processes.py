"""Each stage as its own process (`satupintu worker …`), talking only through the queue and the
database: filesystem:// with SQLite on one machine, RabbitMQ with PostgreSQL across machines."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from storage.db import create_db_engine
from tests.conftest import delete_queues
from tests.support import REPO, Running, eventually, free_port, make_settings

pytestmark = pytest.mark.slow

COMPONENTS = ("http", "normalizer", "normalizer", "triage", "deliver", "sweeper")


@pytest.fixture(params=["filesystem-sqlite", "rabbitmq-postgres"])
def environment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    data_dir = tmp_path / "var"
    if request.param == "filesystem-sqlite":
        database_url = f"sqlite:///{data_dir / 'satupintu.db'}"
        broker_url = f"filesystem://{tmp_path / 'queue'}"
    else:
        database_url = request.getfixturevalue("postgres_url")
        broker_url = request.getfixturevalue("rabbitmq_url")
    settings = make_settings(data_dir, database_url=database_url, broker_url=broker_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATUPINTU_")}
    env.update(
        SATUPINTU_DATA_DIR=str(data_dir),
        SATUPINTU_DATABASE_URL=database_url,
        SATUPINTU_BROKER_URL=broker_url,
        SATUPINTU_HTTP__PORT=str(free_port()),
        SATUPINTU_PIPELINE__QUEUE_PREFIX=settings.pipeline.queue_prefix,
        SATUPINTU_LOG__FORMAT="json",
    )
    yield env
    if broker_url.startswith("amqp"):
        delete_queues(broker_url, settings.pipeline.queue_prefix, ["webform"])


async def test_stages_in_separate_processes(environment: dict[str, str], tmp_path: Path) -> None:
    log = (tmp_path / "workers.log").open("ab")
    refused = subprocess.run(
        [sys.executable, "-m", "workers", "worker", "triage"], cwd=REPO, env=environment, capture_output=True, text=True
    )
    assert refused.returncode == 2 and "satupintu db upgrade" in refused.stderr  # no schema yet
    upgrade = [sys.executable, "-m", "workers", "db", "upgrade"]
    subprocess.run(upgrade, cwd=REPO, env=environment, check=True, stdout=log, stderr=log)
    engine = create_db_engine(environment["SATUPINTU_DATABASE_URL"])
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "workers", "worker", c], cwd=REPO, env=environment, stdout=log, stderr=log
        )
        for c in COMPONENTS
    ]
    base_url = f"http://127.0.0.1:{environment['SATUPINTU_HTTP__PORT']}"
    app = Running(None, base_url, engine, None)  # type: ignore[arg-type]
    try:
        async with aiohttp.ClientSession(base_url) as http:

            async def ready() -> bool:
                assert all(p.poll() is None for p in processes), (tmp_path / "workers.log").read_text()[-2000:]
                try:
                    async with http.get("/readyz") as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False

            await eventually(ready, timeout=60)
            for number in range(20):
                body = {"email": f"p{number}@example.id", "text": f"Lampu kelas E-{100 + number} mati."}
                async with http.post("/api/v1/reports", json=body) as response:
                    assert response.status == 202
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 20, timeout=60)
        assert app.scalar("SELECT count(*) FROM cases") == 20
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        codes = [process.wait(timeout=30) for process in processes]
        engine.dispose()
        log.close()
    assert codes == [0] * len(COMPONENTS), (tmp_path / "workers.log").read_text()[-3000:]
