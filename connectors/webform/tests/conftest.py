"""Fixtures of the web form's tests: a running pipeline with a small body limit, so that "too
large" is cheap to send."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support import Running, make_settings, running_pipeline

__all__ = ["app", "stored"]

MAX_BODY_BYTES = 64 * 1024


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Running]:
    settings = make_settings(tmp_path / "var", http={"max_body_bytes": MAX_BODY_BYTES})
    async with running_pipeline(settings) as running:
        yield running


def stored(app: Running) -> int:
    """Raw messages stored so far: what a refused request must leave unchanged."""
    return int(app.scalar("SELECT count(*) FROM raw_message"))
