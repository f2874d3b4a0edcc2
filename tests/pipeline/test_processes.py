"""Each stage as its own process (`satupintu worker …`), talking only through the queue and the
database: filesystem:// with SQLite on one machine, RabbitMQ with PostgreSQL across machines."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from config.settings import Settings
from storage.db import create_db_engine
from tests.conftest import delete_queues
from tests.support import Running, eventually, make_settings
from tests.workers import workers

pytestmark = pytest.mark.slow

COMPONENTS = ("http", "normalizer", "normalizer", "triage", "deliver", "sweeper")


@pytest.fixture(params=["filesystem-sqlite", "rabbitmq-postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """SQLite (in the data folder) with a filesystem queue, or PostgreSQL with RabbitMQ."""
    if request.param == "filesystem-sqlite":
        urls = {"broker_url": f"filesystem://{tmp_path / 'queue'}"}
    else:
        urls = {
            "database_url": request.getfixturevalue("postgres_url"),
            "broker_url": request.getfixturevalue("rabbitmq_url"),
        }
    made = make_settings(tmp_path / "var", **urls)
    yield made
    if made.broker_url.startswith("amqp"):
        delete_queues(made.broker_url, made.pipeline.queue_prefix, sorted(made.connectors))


async def test_stages_in_separate_processes(settings: Settings, tmp_path: Path) -> None:
    engine = create_db_engine(settings.database_url)
    app = Running(settings, "", engine, None)  # type: ignore[arg-type]
    try:
        with workers(settings, tmp_path / "workers.log") as started:
            refused = started.command("worker", "triage")
            assert refused.returncode == 2 and "satupintu db upgrade" in refused.stderr  # no schema yet
            upgrade = started.command("db", "upgrade")
            assert upgrade.returncode == 0, upgrade.stderr
            for component in COMPONENTS:
                started.start("worker", component)
            await started.ready()
            async with aiohttp.ClientSession(started.base_url) as http:
                for number in range(20):
                    body = {"email": f"p{number}@example.id", "text": f"Lampu kelas E-{100 + number} mati."}
                    async with http.post("/api/v1/reports", json=body) as response:
                        assert response.status == 202
            await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 20, timeout=60)
            assert app.scalar("SELECT count(*) FROM cases") == 20
            assert started.stop() == [0] * len(COMPONENTS), started.tail()
    finally:
        engine.dispose()
