"""The console in a real browser (headless Chromium): an officer logs in, opens the inbox and a
case, replies and the reply reaches the reporter's mailbox; a forwarded case leaves the first
unit's inbox; a confidential case's reporter is masked; new cases appear without reloading; the
pages fit a phone's screen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from tests.console.browser.harness import (
    PHONE,
    Served,
    body_of,
    chromium,
    listed,
    log_in,
    log_out,
    open_action,
    overflows,
    served,
    wait_for,
)
from tests.console.support import add_officer, logged_in
from tests.support import Mailbox, mail_through, make_settings, smtp_server

PROJECTOR = "Proyektor di ruang E-203 mati sejak kemarin, mohon diperbaiki."
HARASSMENT = "Dosen pembimbing saya melakukan pelecehan, tolong dirahasiakan."
REPLY = "Teknisi kami datang besok pagi pukul 08.00."


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    with smtp_server(handler) as port:
        yield handler, port


@pytest.fixture
def console(tmp_path: Path, mailbox: tuple[Mailbox, int]) -> Iterator[Served]:
    settings = make_settings(tmp_path / "var", connectors=mail_through(mailbox[1]))
    with served(settings) as running:
        yield running


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    with chromium() as driver:
        yield driver


def test_an_officer_logs_in_opens_a_case_replies_and_the_reply_reaches_the_reporter(
    console: Served, browser: WebDriver, mailbox: tuple[Mailbox, int]
) -> None:
    received, _ = mailbox
    number = console.report(PROJECTOR)
    wait_for(browser, lambda _: len(received.received) == 1)  # the receipt
    log_in(browser, console.base_url, "ult")
    assert listed(browser) == [number]
    browser.find_element(By.LINK_TEXT, number).click()
    wait_for(browser, lambda d: d.find_elements(By.ID, "thread"))
    wait_for(browser, lambda d: PROJECTOR in d.find_element(By.ID, "thread").text)

    form = open_action(browser, "reply")
    form.find_element(By.NAME, "text").send_keys(REPLY)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(browser, lambda d: "Tindakan tercatat." in d.find_element(By.TAG_NAME, "main").text)

    wait_for(browser, lambda _: len(received.received) == 2)
    mail = received.received[1]
    assert mail["To"] == "rina@example.id" and number in mail["Subject"]
    assert REPLY in body_of(mail)

    # The thread shows the reply, and its delivery state once the mail server took it.
    def reply_sent(driver: WebDriver) -> bool:
        driver.refresh()
        return bool(
            driver.execute_script(
                "return [...document.querySelectorAll('article.message.out')].some(m =>"
                " m.textContent.includes(arguments[0]) && m.querySelector('[data-delivery=sent]'))",
                REPLY,
            )
        )

    wait_for(browser, reply_sent)


def test_a_forwarded_case_leaves_the_first_units_inbox(console: Served, browser: WebDriver) -> None:
    number = console.report(PROJECTOR)
    console.run(lambda: add_officer(console.app.engine, "unit_keuangan", "unit", "keuangan"))
    log_in(browser, console.base_url, "unit_sarpras")
    assert listed(browser) == [number]
    log_out(browser)

    log_in(browser, console.base_url, "ult")
    browser.get(f"{console.base_url}/console/cases/{number}")
    open_action(browser, "verify").find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(browser, lambda d: d.find_elements(By.ID, "action-forward"))
    form = open_action(browser, "forward")
    Select(form.find_element(By.NAME, "unit")).select_by_value("keuangan")
    form.find_element(By.NAME, "note").send_keys("Soal pembayaran, bukan sarana.")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(browser, lambda d: "Diteruskan" in d.find_element(By.CSS_SELECTOR, "h1 .status").text)
    log_out(browser)

    log_in(browser, console.base_url, "unit_sarpras")
    assert listed(browser) == []
    browser.get(f"{console.base_url}/console/cases/{number}")
    assert "tidak ditemukan" in browser.find_element(By.TAG_NAME, "main").text
    log_out(browser)
    log_in(browser, console.base_url, "unit_keuangan")
    assert listed(browser) == [number]


def test_a_confidential_cases_reporter_is_shown_masked(console: Served, browser: WebDriver) -> None:
    number = console.report(HARASSMENT)
    log_in(browser, console.base_url, "ult")
    row = f"tr[data-tracking='{number}']"
    assert wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, f"{row} .badge.secret").is_displayed())
    text = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, row).text)
    assert "[dirahasiakan]" in text and "Rina" not in text
    wait_for(browser, lambda d: d.find_element(By.LINK_TEXT, number)).click()
    wait_for(browser, lambda d: d.find_elements(By.ID, "reporter"))
    reporter = browser.find_element(By.ID, "reporter")
    assert reporter.find_element(By.CSS_SELECTOR, ".reporter-name").text == "[dirahasiakan]"
    assert "rina@example.id" not in browser.page_source and "Rina Wulandari" not in browser.page_source


def test_a_new_case_appears_in_the_open_inbox_without_reloading(console: Served, browser: WebDriver) -> None:
    first = console.report(PROJECTOR)
    log_in(browser, console.base_url, "ult")
    assert listed(browser) == [first]
    wait_for(browser, lambda d: d.execute_script("return document.body.dataset.liveReady") == "1")
    browser.execute_script("window.__same_page = true")  # gone if the page were reloaded
    second = console.report("AC di ruang kuliah B-101 bocor dan menetes ke meja.")
    wait_for(browser, lambda d: second in listed(d))
    assert set(listed(browser)) == {first, second}
    assert browser.execute_script("return window.__same_page") is True


def test_a_new_message_appears_on_an_open_case_page_without_reloading(console: Served, browser: WebDriver) -> None:
    number = console.report(PROJECTOR)
    log_in(browser, console.base_url, "ult")
    browser.get(f"{console.base_url}/console/cases/{number}")
    wait_for(browser, lambda d: d.execute_script("return document.body.dataset.liveReady") == "1")
    browser.execute_script("window.__same_page = true")

    async def colleague_replies() -> None:  # another officer, in another browser
        async with logged_in(console.base_url, "admin") as admin:
            answer = await admin.post(f"/console/cases/{number}/actions/reply", {"text": REPLY})
            assert answer.status == 303
            answer.release()

    console.run(colleague_replies)
    wait_for(browser, lambda d: REPLY in d.find_element(By.ID, "thread").text)
    assert browser.execute_script("return window.__same_page") is True
    assert "admin" in browser.find_element(By.ID, "audit").text


def test_the_inbox_and_a_case_fit_a_phone_screen(console: Served) -> None:
    number = console.report(PROJECTOR)
    with chromium(PHONE) as phone:
        log_in(phone, console.base_url, "ult")
        assert phone.execute_script("return window.innerWidth") == PHONE[0]
        assert overflows(phone) == 0
        width = wait_for(
            phone, lambda d: d.find_element(By.CSS_SELECTOR, f"tr[data-tracking='{number}']").size["width"]
        )
        assert width <= PHONE[0]  # a card, not a wide table row
        assert not phone.find_element(By.CSS_SELECTOR, "table.cases thead").is_displayed()

        phone.find_element(By.LINK_TEXT, number).click()
        wait_for(phone, lambda d: d.find_elements(By.ID, "thread"))
        assert overflows(phone) == 0
        form = open_action(phone, "reply")
        text = form.find_element(By.NAME, "text")
        assert text.is_displayed() and text.size["width"] <= PHONE[0]
        phone.get(f"{console.base_url}/console/dashboard")
        assert overflows(phone) == 0
        phone.get(f"{console.base_url}/console/register/walkin")
        assert overflows(phone) == 0
