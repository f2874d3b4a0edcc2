"""Fixtures of the storage tests: a migrated database of each kind."""

import pytest
from sqlalchemy import Engine


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    return migrated_engine
