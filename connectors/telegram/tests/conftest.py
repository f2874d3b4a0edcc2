"""A local Bot API server for the Telegram tests (the project's fixtures come from
``connectors/conftest.py``)."""

from collections.abc import Iterator

import pytest

from connectors.telegram.tests.botapi import BotApiServer

__all__ = ["bot_api"]


@pytest.fixture
def bot_api() -> Iterator[BotApiServer]:
    """In a thread of its own, as Telegram is elsewhere: a stage that waits for its connectors to
    start (the deliver stage does, on its own loop) must not wait for the test's loop."""
    with BotApiServer().in_thread() as server:
        yield server
