"""Triage's own database fixture on both backends, and its test channels."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from config.routing import load_routing
from config.settings import DEFAULT_ROUTING_FILE
from storage.db import create_db_engine
from storage.migrate import upgrade
from storage.units import sync_units
from tests.support import installed_connectors


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database with the units of the default routing."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else f"sqlite:///{tmp_path}/t.db"
    made = create_db_engine(url)
    upgrade(made)
    sync_units(made, load_routing(DEFAULT_ROUTING_FILE))
    yield made
    made.dispose()


@pytest.fixture
def test_channels(tmp_path: Path) -> Iterator[None]:
    """Install ``tests/triage/channels.py``'s connectors the way pip would."""
    entry_points = {"calllog": "tests.triage.channels:CallLog", "phonechat": "tests.triage.channels:PhoneChat"}
    with installed_connectors(tmp_path / "site", "satupintu-triage-channels", entry_points):
        yield
