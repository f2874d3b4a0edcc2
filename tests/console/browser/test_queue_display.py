"""The waiting room's display in headless Chromium: a call made at the counter (here: the same
function the counter page and ``satupintu queue call`` use) shows on the open display within
seconds, without reloading, and is announced in Indonesian; calls made before it opened are not."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.console.browser.harness import Served, chromium, served, wait_for
from tests.support import make_settings
from visitor_queue.line import Line


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Served]:
    with served(make_settings(tmp_path / "var")) as running:
        yield running


def current(driver: WebDriver, counter: str) -> str:
    box = driver.find_element(By.CSS_SELECTOR, f'[data-counter="{counter}"] [data-role="current"]')
    return str(box.text)


def test_the_display_shows_and_announces_each_new_call_without_reloading(console: Served) -> None:
    settings = console.app.settings
    line = Line(console.app.engine, settings.queue, settings.zone)
    for _ in range(13):
        line.take("pengaduan", datetime.now(UTC))
    line.call("pengaduan", datetime.now(UTC))  # A001, before the display opens: shown, not spoken
    with chromium() as driver:
        driver.get(console.base_url + "/console/queue/display")
        wait_for(driver, lambda d: current(d, "pengaduan") == "A001")
        assert driver.find_element(By.ID, "announced").text == ""
        assert current(driver, "informasi") == "—"
        driver.execute_script("window.__same_page = true")

        line.served("A001", datetime.now(UTC))
        line.call("pengaduan", datetime.now(UTC))
        wait_for(driver, lambda d: current(d, "pengaduan") == "A002")
        wait_for(
            driver,
            lambda d: d.find_element(By.ID, "announced").text == "Nomor antrian A dua, silakan ke Loket Pengaduan",
        )
        next_up = driver.find_element(By.CSS_SELECTOR, '[data-counter="pengaduan"] [data-role="next"]').text
        assert next_up.split() == ["A003", "A004", "A005"]

        line.call("pengaduan", datetime.now(UTC))  # the same number, called a second time: said again
        wait_for(driver, lambda d: d.find_element(By.ID, "announced").get_attribute("data-count") == "2")
        for _ in range(10):
            line.served(line.status("pengaduan", datetime.now(UTC)).current.number, datetime.now(UTC))  # type: ignore[union-attr]
            line.call("pengaduan", datetime.now(UTC))
        twelve = "Nomor antrian A dua belas, silakan ke Loket Pengaduan"
        wait_for(driver, lambda d: d.find_element(By.ID, "announced").text == twelve)
        assert driver.execute_script("return window.__same_page") is True
