"""Triage on both backends: a migrated database for the stage itself, and whole pipelines."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from config.routing import load_routing
from config.settings import DEFAULT_ROUTING_FILE, Settings
from storage.db import create_db_engine
from storage.migrate import upgrade
from storage.units import sync_units
from tests.conftest import delete_queues
from tests.support import make_settings

SettingsFactory = Callable[..., Settings]
TEST_CHANNELS = ["webform", "calllog", "whatsapp", "email"]


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database with the units of the default routing."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else f"sqlite:///{tmp_path}/t.db"
    made = create_db_engine(url)
    upgrade(made)
    sync_units(made, load_routing(DEFAULT_ROUTING_FILE))
    yield made
    made.dispose()


@pytest.fixture(params=["embedded", "rabbitmq-postgres"])
def backend_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SettingsFactory]:
    """Make pipeline settings for this backend; keyword arguments override."""
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
            delete_queues(settings.broker_url, settings.pipeline.queue_prefix, TEST_CHANNELS)


@pytest.fixture
def test_channels(tmp_path: Path) -> Iterator[None]:
    """Install ``tests/triage/channels.py``'s connectors the way pip would: a dist-info on sys.path."""
    site = tmp_path / "site"
    dist = site / "satupintu_triage_channels-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: satupintu-triage-channels\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[satupintu.connectors]\ncalllog = tests.triage.channels:CallLog\nwhatsapp = tests.triage.channels:WhatsApp\n"
    )
    sys.path.insert(0, str(site))
    try:
        yield
    finally:
        sys.path.remove(str(site))
