#!/usr/bin/env python3
"""Take the screenshots of the console's main pages for ``docs/console.md``.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Starts satupintu on a temporary data dir (SQLite, the in-process queue, a local SMTP server for
the receipts), sends a handful of made-up reports through the web form's API, works some of
them as an officer would (verify, forward, reply), then photographs the pages in headless
Chromium, at a desktop's size and at a phone's. Needs Debian's ``chromium`` and
``chromium-driver``. Nothing here touches a real database or mailbox.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402

from tests.console.browser.harness import (  # noqa: E402
    DESKTOP,
    PHONE,
    Served,
    browser_available,
    chromium,
    log_in,
    open_action,
    served,
    wait_for,
)
from tests.console.support import add_officer, logged_in  # noqa: E402
from tests.support import Mailbox, mail_through, make_settings, smtp_server  # noqa: E402

REPORTS = (
    ("Rina Wulandari", "rina@example.id", "Proyektor di ruang E-203 mati sejak kemarin, mohon segera diperbaiki."),
    ("Budi Santoso", "budi@example.id", "Pembayaran UKT saya belum tercatat padahal sudah transfer minggu lalu."),
    ("Sari Dewi", "sari@example.id", "Dosen pembimbing saya melakukan pelecehan, tolong dirahasiakan."),
    ("Andi Pratama", "andi@example.id", "Bagaimana cara mengurus surat keterangan aktif kuliah untuk beasiswa?"),
    ("Maya Lestari", "maya@example.id", "Wifi di perpustakaan lantai 2 sering putus sejak awal semester."),
    ("Dimas Saputra", "dimas@example.id", "Saran: jam layanan akademik diperpanjang sampai sore saat masa KRS."),
)


def prepare(console: Served) -> dict[str, str]:
    """The made-up cases, some worked on; their tracking numbers by what they are about."""
    numbers = {}
    for name, email, text in REPORTS:
        numbers[text.split()[0].lower()] = console.report(text, name=name, email=email)
    console.run(lambda: add_officer(console.app.engine, "siti", "unit", "sarpras"))

    async def work() -> None:
        async with logged_in(console.base_url, "ult") as ult:
            projector = numbers["proyektor"]
            for action, fields in (
                ("verify", {"steps": "problem_identification", "note": "Lokasi jelas"}),
                ("forward", {"unit": "sarpras", "note": "Mohon dicek teknisi hari ini."}),
            ):
                (await ult.post(f"/console/cases/{projector}/actions/{action}", fields)).release()
            reply = {"text": "Terima kasih, laporan Anda sudah kami teruskan ke Bagian Sarana dan Prasarana."}
            (await ult.post(f"/console/cases/{projector}/actions/reply", reply)).release()
            (await ult.post(f"/console/cases/{numbers['wifi']}/actions/verify", {})).release()
            for counter, taken in (("pengaduan", 6), ("informasi", 3)):
                for _ in range(taken):
                    (await ult.post(f"/console/queue/{counter}/take")).release()
            for step, fields in (("call", {}), ("served", {"number": "A001"}), ("call", {}), ("absent", {})):
                (await ult.post(f"/console/queue/pengaduan/{step}", fields)).release()
            (await ult.post("/console/queue/pengaduan/call")).release()
            (await ult.post("/console/queue/informasi/call")).release()

    console.run(work)
    return numbers


def shoot(driver: WebDriver, path: Path, *, full: bool = True) -> None:
    """The page as it is, the whole height of it when ``full``."""
    width = int(driver.execute_script("return window.innerWidth"))
    if full:
        height = int(driver.execute_script("return document.documentElement.scrollHeight"))
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": min(height, 4000), "deviceScaleFactor": 1, "mobile": width < 600},
        )
    driver.save_screenshot(str(path))
    if full:
        height = int(driver.execute_script("return window.outerHeight"))
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
        )
    print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")


def desktop(console: Served, numbers: dict[str, str], out: Path) -> None:
    with chromium(DESKTOP) as driver:
        driver.get(f"{console.base_url}/console/login")
        shoot(driver, out / "login.png", full=False)
        log_in(driver, console.base_url, "ult")
        shoot(driver, out / "inbox.png")
        driver.get(f"{console.base_url}/console/cases/{numbers['proyektor']}")
        wait_for(driver, lambda d: d.find_elements(By.ID, "thread"))
        open_action(driver, "assign")
        shoot(driver, out / "case.png")
        driver.get(f"{console.base_url}/console/cases/{numbers['dosen']}")
        shoot(driver, out / "case-confidential.png")
        driver.get(f"{console.base_url}/console/dashboard")
        shoot(driver, out / "dashboard.png")
        driver.get(f"{console.base_url}/console/register/walkin")
        shoot(driver, out / "register-walkin.png")
        driver.get(f"{console.base_url}/console/queue/pengaduan")
        shoot(driver, out / "queue-counter.png")
        driver.get(f"{console.base_url}/console/queue/display")
        wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, '[data-role="current"]').text != "—")
        shoot(driver, out / "queue-display.png", full=False)


def phone(console: Served, numbers: dict[str, str], out: Path) -> None:
    with chromium(PHONE) as driver:
        log_in(driver, console.base_url, "ult")
        shoot(driver, out / "phone-inbox.png", full=False)
        driver.get(f"{console.base_url}/console/cases/{numbers['proyektor']}")
        wait_for(driver, lambda d: d.find_elements(By.ID, "thread"))
        shoot(driver, out / "phone-case.png", full=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    problem = browser_available()
    if problem:
        print(f"screenshots: {problem}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder, smtp_server(Mailbox()) as port:
        connectors = {**mail_through(port), "walkin": {"enabled": True}, "letter": {"enabled": True}}
        settings = make_settings(Path(folder) / "var", connectors=connectors)
        with served(settings) as console:
            numbers = prepare(console)
            desktop(console, numbers, args.out)
            phone(console, numbers, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
