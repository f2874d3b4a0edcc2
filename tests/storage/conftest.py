"""Fixtures of the storage tests: a migrated database of each kind."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from storage.db import create_db_engine
from storage.migrate import upgrade


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else f"sqlite:///{tmp_path}/t.db"
    made = create_db_engine(url)
    upgrade(made)
    yield made
    made.dispose()
