"""Messages without a case through the whole pipeline: a web-form "halo" gets its greeting
delivered (an outbox row with no case), waits in ``cases inbox``, and ``cases promote`` turns it
into a case with a tracking number and a receipt; on the embedded default and on RabbitMQ with
PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from click.testing import CliRunner, Result

from tests.support import Running, SettingsFactory, eventually, running_pipeline
from workers import cli


async def report(app: Running, text: str) -> str:
    """Submit on the web form; returns the report's status URL."""
    body = {"name": "Rina", "email": "rina@example.id", "text": text}
    async with aiohttp.ClientSession(app.base_url) as http, http.post("/api/v1/reports", json=body) as response:
        assert response.status == 202, await response.text()
        return str((await response.json())["status_url"])


async def status_of(app: Running, url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession(app.base_url) as http, http.get(url) as response:
        found: dict[str, Any] = await response.json()
        return found


def invoke(app: Running, *args: str) -> Result:
    env = {
        "SATUPINTU_DATA_DIR": str(app.settings.data_dir),
        "SATUPINTU_DATABASE_URL": app.settings.database_url,
        "SATUPINTU_BROKER_URL": app.settings.broker_url,
        "SATUPINTU_PIPELINE__QUEUE_PREFIX": app.settings.pipeline.queue_prefix,
    }
    return CliRunner().invoke(cli, list(args), env=env, obj={})


def inbox(app: Running, *args: str) -> list[dict[str, Any]]:
    result = invoke(app, "cases", "inbox", "--format", "json", *args)
    assert result.exit_code == 0, (result.output, result.exception)
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


async def test_a_greeting_is_delivered_listed_and_turned_into_a_case(backend_settings: SettingsFactory) -> None:
    async with running_pipeline(backend_settings()) as app:
        url = await report(app, "halo")
        await eventually(lambda: app.scalar("SELECT state FROM outbox") == "sent")
        shown = await status_of(app, url)
        assert shown["tracking_number"] is None and "Untuk melapor" in shown["receipt"]["text"], shown
        [greeting] = app.rows("SELECT * FROM outbox")
        assert (greeting["purpose"], greeting["case_id"]) == ("greeting", None)
        assert app.scalar("SELECT count(*) FROM cases") == 0
        assert app.scalar("SELECT count(*) FROM case_event") == 0, "a greeting's delivery writes no case event"
        [waiting] = inbox(app)
        assert (waiting["reason"], waiting["answer"], waiting["text"]) == ("nothing", "greeting", "halo")
        assert "rina" not in json.dumps(waiting).lower(), "the list names nobody"

        promoted = invoke(app, "cases", "promote", str(waiting["id"]), "--by", "officer:sari")
        assert promoted.exit_code == 0, (promoted.output, promoted.exception)
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE purpose = 'receipt'") == 1)
        [case] = app.rows("SELECT * FROM cases")
        assert inbox(app) == [], "it has a case now"
        [handled] = inbox(app, "--all")
        assert (handled["tracking_number"], handled["handled_by"]) == (case["tracking_number"], "officer:sari")

        again = invoke(app, "cases", "promote", str(waiting["id"]))
        assert again.exit_code == 1 and "in a case already" in again.output


async def test_a_report_after_a_greeting_takes_it_into_its_case(backend_settings: SettingsFactory) -> None:
    """The web form's submissions are each their own conversation: the greeting stays apart."""
    async with running_pipeline(backend_settings()) as app:
        await report(app, "tes")
        await eventually(lambda: app.scalar("SELECT count(*) FROM caseless_message") == 1)
        await report(app, "Lampu kelas E-101 mati sejak kemarin, mohon diperbaiki.")
        await eventually(lambda: app.scalar("SELECT count(*) FROM cases") == 1)
        assert [row["reason"] for row in inbox(app)] == ["nothing"]


async def test_an_unknown_message_cannot_be_promoted(backend_settings: SettingsFactory) -> None:
    async with running_pipeline(backend_settings()) as app:
        result = invoke(app, "cases", "promote", "4242")
        assert result.exit_code == 1 and "no message without a case has id 4242" in result.output
