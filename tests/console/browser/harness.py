"""Headless Chromium (Debian's ``chromium`` and ``chromium-driver``, driven by Selenium) against a
satupintu running in a thread of its own, for the console's browser tests and for
``scripts/screenshots.py``.

Selenium's calls block; the server therefore runs on its own event loop in another thread, and
the test (plain, synchronous) drives the browser and reaches the server's loop with
:meth:`Served.run` when it must (to send a report, to add an officer).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from config.settings import Settings
from tests.console.support import PASSWORD, console_app
from tests.support import Running, eventually

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
DESKTOP = (1280, 900)
PHONE = (390, 844)
"""A phone's viewport in CSS pixels (a common 6.1" handset)."""
WAIT_SECONDS = 20.0
T = TypeVar("T")


def browser_available() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists() and shutil.which(path.name) is None:
            return f"{path} not found (apt-get install chromium chromium-driver, or make test-deps)"
    return None


@dataclass
class Served:
    """A satupintu with the console, running on its own loop in a thread."""

    app: Running
    loop: asyncio.AbstractEventLoop

    @property
    def base_url(self) -> str:
        return self.app.base_url

    def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(_call(work), self.loop)
        return future.result(timeout=60)

    def report(self, text: str, **fields: Any) -> str:
        """A report through the web form's API, as a reporter sends it; its case's tracking number."""
        app = self.app

        async def send() -> str:
            before = app.scalar("SELECT count(*) FROM cases")
            body = {"name": "Rina Wulandari", "email": "rina@example.id", "text": text, **fields}
            async with aiohttp.ClientSession(app.base_url) as http, http.post("/api/v1/reports", json=body) as answer:
                assert answer.status == 202, await answer.text()
            await eventually(lambda: app.scalar("SELECT count(*) FROM cases") > before)
            number: str = app.scalar("SELECT tracking_number FROM cases ORDER BY id DESC LIMIT 1")
            return number

        return self.run(send)


async def _call(work: Callable[[], Awaitable[T]]) -> T:
    return await work()


@contextmanager
def served(settings: Settings) -> Iterator[Served]:
    """Run satupintu (every component, with the test staff of ``tests/console/support.py``) until
    the block ends."""
    loop = asyncio.new_event_loop()
    ready: Future[Running] = Future()
    stop: list[asyncio.Event] = []

    async def main() -> None:
        stop.append(asyncio.Event())
        try:
            async with console_app(settings) as app:
                ready.set_result(app)
                await stop[0].wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            raise

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), name="satupintu", daemon=True)
    thread.start()
    try:
        app = ready.result(timeout=120)
        yield Served(app, loop)
    finally:
        if stop:
            loop.call_soon_threadsafe(stop[0].set)
        thread.join(timeout=60)
        loop.close()


@contextmanager
def chromium(size: tuple[int, int] = DESKTOP) -> Iterator[WebDriver]:
    """Headless Chromium at a window of ``size`` CSS pixels."""
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--lang=id-ID",
        f"--window-size={size[0]},{size[1]}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.set_window_size(*size)
        _fit_viewport(driver, size)
        yield driver
    finally:
        driver.quit()


def _fit_viewport(driver: Any, size: tuple[int, int]) -> None:
    """Make the page's viewport (not the window with its frame) the size asked: headless
    windows may count their frame in."""
    with contextlib.suppress(WebDriverException):
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": size[0] < 600},
        )


def wait_for(driver: WebDriver, check: Callable[[WebDriver], Any], timeout: float = WAIT_SECONDS) -> Any:
    """Until ``check`` is truthy; an element replaced meanwhile (a live update swaps the lists
    and the thread in) is looked for again."""
    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(driver, timeout, poll_frequency=0.2, ignored_exceptions=ignored).until(check)


def log_in(driver: WebDriver, base_url: str, name: str, password: str = PASSWORD) -> None:
    """Fill in the login form as an officer does; wait for the inbox."""
    driver.get(f"{base_url}/console/login")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form[action^='/console/login'] button[type=submit]").click()
    wait_for(driver, lambda d: d.find_elements(By.ID, "inbox-list"))


def log_out(driver: WebDriver) -> None:
    driver.find_element(By.CSS_SELECTOR, "form[action='/console/logout'] button").click()
    wait_for(driver, lambda d: d.find_elements(By.ID, "password"))


def listed(driver: WebDriver) -> list[str]:
    """The tracking numbers the inbox shows, in its order."""
    return [row.get_attribute("data-tracking") or "" for row in driver.find_elements(By.CSS_SELECTOR, "tr.case-row")]


def open_action(driver: WebDriver, name: str) -> WebElement:
    """The form of one action on a case page, its <details> opened."""
    details = driver.find_element(By.ID, f"action-{name}")
    if details.get_attribute("open") is None:
        details.find_element(By.TAG_NAME, "summary").click()
    return details.find_element(By.TAG_NAME, "form")


def overflows(driver: WebDriver) -> int:
    """How many CSS pixels the page is wider than its viewport (0: no sideways scrolling)."""
    width = driver.execute_script("return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
    viewport = driver.execute_script("return window.innerWidth")
    return max(int(width) - int(viewport), 0)


def body_of(mail: Message) -> str:
    """The plain text of a mail the test SMTP server received, multipart or not."""
    for part in mail.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8")
    return ""
