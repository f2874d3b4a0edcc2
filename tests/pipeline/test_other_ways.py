"""A reply refused for good offers the officer the reporter's other channels, for any channel: an
Instagram receipt outside its 24-hour window, and a WhatsApp receipt Meta calls undeliverable.
Each case event ``*_failed`` lists (``reachable``) every phone and email of the reporter, and of
the reporters an officer linked to them, that an enabled sending channel of ``[replies] fallback``
can address, without the way that failed; ``satupintu cases show`` says it beside the refusal.

Both run on both backends, with the local Graph API and a real SMTP server. The reporters are
linked before the receipts are sent: the first run has no deliver component."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import orjson
import pytest
from click.testing import CliRunner

from cli.views import CONFIDENTIAL, masked_case
from config.settings import ReplyRoute
from connectors._meta.graph_server import GraphServer, running, signature
from connectors.instagram.tests.test_contract import SECTION as INSTAGRAM
from connectors.instagram.tests.test_end_to_end import dm
from connectors.instagram.tests.test_end_to_end import webhook as instagram_webhook
from connectors.whatsapp.tests.test_contract import SECTION as WHATSAPP
from connectors.whatsapp.tests.test_end_to_end import statuses, text
from connectors.whatsapp.tests.test_end_to_end import webhook as whatsapp_webhook
from envelopes import Recipient
from pipeline.app import COMPONENTS
from storage.db import transaction
from storage.identities import link
from tests.support import Mailbox, Running, SettingsFactory, eventually, mail_through, running_pipeline, smtp_server
from triage.replies import Reach, ReplyPolicy, other_ways
from workers import cli

UNDELIVERED = ("http", "normalizer", "triage", "sweeper", "media")
"""Every component but deliver: the receipts wait in the outbox while the officer links."""
EMAIL = "rina@example.id"
PHONE = "+6281234567890"


@pytest.fixture
async def graph() -> AsyncIterator[GraphServer]:
    server = GraphServer(token=WHATSAPP["access_token"])
    async with running(server):
        yield server


@pytest.fixture
def smtp() -> Iterator[int]:
    with smtp_server(Mailbox()) as port:
        yield port


@pytest.fixture
def settings(backend_settings: SettingsFactory, graph: GraphServer, smtp: int) -> Any:
    meta = {"graph_api_url": graph.base_url, "access_token": graph.token}  # one Graph server for both
    connectors = {**mail_through(smtp), "whatsapp": {**WHATSAPP, **meta}, "instagram": {**INSTAGRAM, **meta}}
    return backend_settings(connectors=connectors)


async def post(pipeline: Running, path: str, body: bytes, secret: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{pipeline.base_url}{path}", data=body, headers=signature(secret, body)) as response,
    ):
        assert response.status == 200, await response.text()


async def report(pipeline: Running, **given: str) -> None:
    fields = {"name": "Rina", "text": "Lampu kelas A-201 mati.", **given}
    async with (
        aiohttp.ClientSession(pipeline.base_url) as http,
        http.post("/api/v1/reports", json=fields) as answer,
    ):
        assert answer.status == 202, await answer.text()


def link_reporters(pipeline: Running) -> None:
    """The officer confirms the web-form reporter and the chat reporter are one person."""
    [webform] = pipeline.rows("SELECT reporter_id FROM cases WHERE channel = 'webform'")
    [chat] = pipeline.rows("SELECT reporter_id FROM cases WHERE channel != 'webform'")
    with transaction(pipeline.engine) as connection:
        link(connection, webform["reporter_id"], chat["reporter_id"], "officer", {"seen": "same name"}, "officer:rani")


def failed_event(pipeline: Running, channel: str) -> dict[str, Any]:
    [event] = pipeline.rows(
        "SELECT e.detail FROM case_event e JOIN cases c ON c.id = e.case_id "
        "WHERE e.action = 'receipt_failed' AND c.channel = :channel",
        channel=channel,
    )
    detail = event["detail"]
    return detail if isinstance(detail, dict) else json.loads(detail)


def shown(pipeline: Running, channel: str) -> str:
    settings = pipeline.settings
    env = {
        "SATUPINTU_DATA_DIR": str(settings.data_dir),
        "SATUPINTU_DATABASE_URL": settings.database_url,
        "SATUPINTU_BROKER_URL": settings.broker_url,
    }
    tracking = pipeline.scalar("SELECT tracking_number FROM cases WHERE channel = :channel", channel=channel)
    result = CliRunner().invoke(cli, ["cases", "show", tracking], env=env, obj={})
    assert result.exit_code == 0, result.output
    return result.output


async def test_instagram_outside_its_window_offers_whatsapp_and_email(settings: Any, graph: GraphServer) -> None:
    async with running_pipeline(settings, UNDELIVERED) as pipeline:
        await report(pipeline, phone="0812-3456-7890", email=EMAIL)
        body = instagram_webhook(dm("mid.W1", "ijazah saya belum bisa diambil", time.time() - 30 * 3600))
        await post(pipeline, "/webhooks/instagram", body, INSTAGRAM["app_secret"])
        await eventually(lambda: pipeline.scalar("SELECT count(*) FROM outbox WHERE state = 'pending'") == 2)
        link_reporters(pipeline)
    async with running_pipeline(settings, COMPONENTS) as pipeline:
        await eventually(lambda: pipeline.scalar("SELECT state FROM outbox WHERE channel = 'instagram'") == "dead")
        detail = failed_event(pipeline, "instagram")
        assert detail["code"] == "outside_window"
        assert detail["reachable"] == [
            {"channel": "whatsapp", "via": "phone", "address": PHONE},
            {"channel": "email", "via": "email", "address": EMAIL},
        ]
        page = shown(pipeline, "instagram")
    assert "outside Instagram's 24-hour window" in page
    assert f"; reachable by: whatsapp ({PHONE}), email ({EMAIL})" in page
    assert not [s for s in graph.sent if "recipient" in s["body"]]  # nothing went to Instagram


async def test_an_undeliverable_whatsapp_receipt_offers_email_not_the_same_number(
    settings: Any, graph: GraphServer
) -> None:
    async with running_pipeline(settings, UNDELIVERED) as pipeline:
        await report(pipeline, email=EMAIL)
        body = whatsapp_webhook(text("wamid.W2", "Kartu ujian tidak bisa dicetak.", time.time()))
        await post(pipeline, "/webhooks/whatsapp", body, WHATSAPP["app_secret"])
        await eventually(lambda: pipeline.scalar("SELECT count(*) FROM outbox WHERE state = 'pending'") == 2)
        link_reporters(pipeline)
    graph.fail_next(400, 131026, "Message undeliverable")
    async with running_pipeline(settings, COMPONENTS) as pipeline:
        await eventually(lambda: pipeline.scalar("SELECT state FROM outbox WHERE channel = 'whatsapp'") == "dead")
        detail = failed_event(pipeline, "whatsapp")
        assert detail["code"] == "131026"
        assert detail["reachable"] == [{"channel": "email", "via": "email", "address": EMAIL}]
        page = shown(pipeline, "whatsapp")
    assert "Message undeliverable; reachable by: email (rina@example.id)" in page


async def test_a_failure_whatsapp_reports_later_offers_email_too(settings: Any, graph: GraphServer) -> None:
    async with running_pipeline(settings, UNDELIVERED) as pipeline:
        await report(pipeline, email=EMAIL)
        body = whatsapp_webhook(text("wamid.W3", "Parkiran motor penuh.", time.time()))
        await post(pipeline, "/webhooks/whatsapp", body, WHATSAPP["app_secret"])
        await eventually(lambda: pipeline.scalar("SELECT count(*) FROM outbox WHERE state = 'pending'") == 2)
        link_reporters(pipeline)
    async with running_pipeline(settings, COMPONENTS) as pipeline:
        wamid = await eventually(
            lambda: pipeline.scalar(
                "SELECT provider_message_id FROM outbox WHERE channel = 'whatsapp' AND state = 'sent'"
            )
        )
        failed = json.loads(statuses(wamid, "failed"))
        failed["entry"][0]["changes"][0]["value"]["statuses"][0]["errors"] = [
            {"code": 131026, "title": "Message Undeliverable", "error_data": {"details": "Receiver is incapable"}}
        ]
        await post(pipeline, "/webhooks/whatsapp", orjson.dumps(failed), WHATSAPP["app_secret"])
        [event] = await eventually(
            lambda: pipeline.rows("SELECT detail FROM case_event WHERE action = 'delivery_failed'")
        )
        detail = event["detail"] if isinstance(event["detail"], dict) else json.loads(event["detail"])
        assert detail["error_code"] == "131026"
        assert detail["reachable"] == [{"channel": "email", "via": "email", "address": EMAIL}]
        page = shown(pipeline, "whatsapp")
    assert "delivery_failed: refused: 131026: " in page and "; reachable by: email (rina@example.id)" in page


POLICY = ReplyPolicy(
    sending=frozenset({"whatsapp", "email", "instagram"}),
    fallback=[
        ReplyRoute(channel=c, identity=i) for c, i in (("whatsapp", "phone"), ("sms", "phone"), ("email", "email"))
    ],
)
CONTACTS = [("phone", PHONE), ("phone", "+62542123456"), ("email", EMAIL)]
"""A mobile, a Balikpapan office line, an address."""


def test_a_fixed_line_gets_no_chat_and_a_disabled_channel_is_not_offered() -> None:
    ways = other_ways(
        CONTACTS, POLICY, failed=Recipient(conversation_key="instagram:1"), channel="instagram", channel_down=False
    )
    assert ways == [Reach("whatsapp", "phone", PHONE), Reach("email", "email", EMAIL)]  # no sms: not enabled


def test_the_way_that_failed_is_left_out_and_a_channel_down_altogether() -> None:
    failed = Recipient(via="phone", conversation_key="whatsapp:x", phone=PHONE)
    other_mobile = [*CONTACTS, ("phone", "+6285311112222")]
    assert other_ways(other_mobile, POLICY, failed=failed, channel="whatsapp", channel_down=False) == [
        Reach("whatsapp", "phone", "+6285311112222"),
        Reach("email", "email", EMAIL),
    ]
    assert other_ways(other_mobile, POLICY, failed=failed, channel="whatsapp", channel_down=True) == [
        Reach("email", "email", EMAIL)
    ]


def test_a_confidential_case_shows_the_channels_but_not_the_addresses() -> None:
    reachable = [
        {"channel": "whatsapp", "via": "phone", "address": PHONE},
        {"channel": "email", "via": "email", "address": EMAIL},
    ]
    event = {
        "at": None,
        "actor": "system:deliver",
        "action": "receipt_failed",
        "detail": {"error": "x", "reachable": reachable},
    }
    case = {"reporter_name": "Rina", "reporter": None, "outbox": [], "events": [event]}
    [masked] = masked_case(case)["events"]
    assert masked["detail"]["reachable"] == [
        {"channel": "whatsapp", "via": "phone", "address": CONFIDENTIAL},
        {"channel": "email", "via": "email", "address": CONFIDENTIAL},
    ]
