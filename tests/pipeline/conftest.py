"""The two backends every end-to-end test runs on: embedded default, and RabbitMQ + PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings
from tests.conftest import delete_queues
from tests.support import make_settings

SettingsFactory = Callable[..., Settings]


@pytest.fixture(params=["embedded", "rabbitmq-postgres"])
def backend_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SettingsFactory]:
    """Make settings for this backend; extra keyword arguments override."""
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
            delete_queues(settings.broker_url, settings.pipeline.queue_prefix, ["webform"])
