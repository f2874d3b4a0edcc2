"""Fixtures for the real services (a fresh PostgreSQL database, RabbitMQ), and the two backends
every end-to-end test runs on: embedded default, and RabbitMQ + PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kombu.connection import Connection
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from config.settings import Settings
from storage.db import create_db_engine
from storage.migrate import upgrade
from tests.support import SettingsFactory, make_settings, require

POSTGRES_ADMIN_URL = os.environ.get("SATUPINTU_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
RABBITMQ_URL = os.environ.get("SATUPINTU_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672//")


@pytest.fixture(autouse=True)
def _no_operator_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator's SATUPINTU_* variables must not change what a test sees."""
    for name in list(os.environ):
        if name.startswith("SATUPINTU_") and not name.startswith("SATUPINTU_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[str]:
    engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        reachable = True
    except OperationalError:
        reachable = False
    engine.dispose()
    require(reachable, f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} (run scripts/services.sh)")
    yield POSTGRES_ADMIN_URL


@pytest.fixture
def postgres_url(postgres_admin: str) -> Iterator[str]:
    """A database of this test's own, dropped afterwards."""
    name = f"satupintu_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_admin, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_admin.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def either_database(request: pytest.FixtureRequest) -> dict[str, str]:
    """Settings overrides that run a test on SQLite (none: the default) and on PostgreSQL."""
    if request.param == "sqlite":
        return {}
    return {"database_url": request.getfixturevalue("postgres_url")}


@pytest.fixture
def migrated_engine(either_database: dict[str, str], tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database at the current schema: SQLite in the test's folder, or PostgreSQL."""
    made = create_db_engine(either_database.get("database_url", f"sqlite:///{tmp_path}/test.db"))
    upgrade(made)
    yield made
    made.dispose()


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    try:
        with Connection(RABBITMQ_URL, connect_timeout=5) as connection:
            connection.ensure_connection(max_retries=1)
        reachable = True
    except Exception:  # noqa: BLE001 - any failure means unreachable
        reachable = False
    require(reachable, f"RabbitMQ is not reachable at {RABBITMQ_URL} (run scripts/services.sh)")
    return RABBITMQ_URL


def delete_queues(url: str, prefix: str, channels: list[str]) -> None:
    """Remove what a test declared on the shared broker."""
    from pipeline.queues import Topology

    topology = Topology(url, prefix)
    with topology.connection() as connection:
        channel = connection.channel()
        for queue in topology.all_queues(channels):
            queue.bind(channel).delete()
        topology.exchange.bind(channel).delete()


@pytest.fixture(params=["embedded", "rabbitmq-postgres"])
def backend_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SettingsFactory]:
    """Make settings for this backend; keyword arguments override. What the broker was given for
    them is deleted afterwards."""
    made: list[Settings] = []
    base: dict[str, Any] = {}
    if request.param == "rabbitmq-postgres":
        base["database_url"] = request.getfixturevalue("postgres_url")
        base["broker_url"] = request.getfixturevalue("rabbitmq_url")

    def factory(**overrides: Any) -> Settings:
        settings = make_settings(tmp_path / "var", **{**base, **overrides})
        made.append(settings)
        return settings

    yield factory
    for settings in made:
        if settings.broker_url.startswith("amqp"):
            delete_queues(settings.broker_url, settings.pipeline.queue_prefix, sorted(settings.connectors))
