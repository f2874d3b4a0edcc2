"""The browser tests need Debian's chromium and chromium-driver (``make test-deps`` installs them)."""

from __future__ import annotations

import pytest

from tests.console.browser.harness import browser_available
from tests.support import require


@pytest.fixture(autouse=True)
def _browser() -> None:
    problem = browser_available()
    require(problem is None, problem or "")
