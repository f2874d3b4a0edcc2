"""Fixtures of the pipeline's tests: settings on the test's backend and an engine on its database."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from config.settings import Settings
from storage.db import create_db_engine
from tests.support import SettingsFactory


@pytest.fixture
def settings(backend_settings: SettingsFactory) -> Settings:
    return backend_settings()


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_db_engine(settings.database_url)
    yield engine
    engine.dispose()
