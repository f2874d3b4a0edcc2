"""A text to the unit's number becomes one case, whose receipt goes back by SMS through the gateway,
with its cost (encoding, segments) on the case and the gateway's delivery report matched back to it;
the gateway delivering the same webhook again makes nothing new."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from connectors.sms.segments import count
from connectors.sms.tests.gateway import PASSWORD, SIGNING_KEY, USERNAME, GatewayServer, event, post
from tests.support import Running, SettingsFactory, eventually, running_pipeline

SENDER = "+6281234567890"
TEXT = "AC di ruang kelas E-203 rusak sejak minggu lalu, mohon segera diperbaiki. Terima kasih."


def section(gateway: GatewayServer) -> dict[str, Any]:
    return {"gateway_url": gateway.url, "username": USERNAME, "password": PASSWORD, "signing_key": SIGNING_KEY}


def received(sender: str = SENDER, text: str = TEXT, message_id: str = "abc123") -> bytes:
    payload = {
        "messageId": message_id,
        "message": text,
        "sender": sender,
        "recipient": "+6285100000001",
        "phoneNumber": sender,
        "simNumber": 1,
        "receivedAt": "2026-12-01T09:46:11.000+08:00",
    }
    return event("sms:received", payload)


def detail(app: Running, action: str) -> dict[str, Any]:
    value = app.scalar("SELECT detail FROM case_event WHERE action = :action", action=action)
    return value if isinstance(value, dict) else json.loads(value)


async def test_an_sms_becomes_a_case_with_its_receipt_by_sms_and_the_delivery_report(
    backend_settings: SettingsFactory,
) -> None:
    async with GatewayServer() as gateway:
        settings = backend_settings(connectors={"sms": section(gateway)})
        async with running_pipeline(settings) as app:
            body = received()
            assert (await post(app.base_url, body))[0] == 200
            assert (await post(app.base_url, body))[0] == 200, "the gateway retrying a delivery"
            await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 1)
            assert app.scalar("SELECT count(*) FROM raw_message WHERE channel = 'sms'") == 1

            [case] = app.rows("SELECT * FROM cases")
            assert case["channel"] == "sms" and case["receipt_via"] == "sms"
            [receipt] = app.rows("SELECT * FROM outbox")
            sent = gateway.messages[receipt["provider_message_id"]]
            assert sent["phoneNumbers"] == [SENDER]
            assert case["tracking_number"] in sent["text"]

            cost = count(receipt["body"])
            shown = detail(app, "receipt_sent")
            assert (shown["sms_encoding"], shown["sms_segments"]) == (cost.encoding, cost.segments)
            assert cost.segments > 1, "a receipt is longer than one SMS: the officer sees it cost several"

            at = datetime.now(UTC).isoformat()
            report = {"messageId": receipt["provider_message_id"], "recipient": SENDER, "deliveredAt": at}
            assert (await post(app.base_url, event("sms:delivered", report, "Dl5")))[0] == 200
            await eventually(lambda: app.scalar("SELECT delivery_state FROM outbox") == "delivered")
            assert app.scalar("SELECT count(*) FROM cases") == 1, "a delivery report opens no case"


async def test_a_failed_delivery_is_shown_on_the_case(backend_settings: SettingsFactory) -> None:
    async with GatewayServer() as gateway:
        settings = backend_settings(connectors={"sms": section(gateway)})
        async with running_pipeline(settings) as app:
            assert (await post(app.base_url, received()))[0] == 200
            await eventually(lambda: app.scalar("SELECT provider_message_id FROM outbox WHERE state = 'sent'"))
            provider_id = app.scalar("SELECT provider_message_id FROM outbox")
            failure = {
                "messageId": provider_id,
                "recipient": SENDER,
                "failedAt": datetime.now(UTC).isoformat(),
                "reason": "RESULT_ERROR_GENERIC_FAILURE",
            }
            assert (await post(app.base_url, event("sms:failed", failure, "Fl6")))[0] == 200
            await eventually(lambda: app.scalar("SELECT delivery_state FROM outbox") == "failed")
            assert "RESULT_ERROR_GENERIC_FAILURE" in app.scalar("SELECT delivery_error FROM outbox")


async def test_two_texts_sharing_the_gateways_message_id_are_two_messages(backend_settings: SettingsFactory) -> None:
    async with GatewayServer() as gateway:
        settings = backend_settings(connectors={"sms": section(gateway)})
        async with running_pipeline(settings) as app:
            first = received("+6281234567890", "Lampu jalan di depan gedung D mati", message_id="same")
            second = received("+6281377778888", "Toilet lantai 2 gedung C tersumbat", message_id="same")
            for body in (first, second, first):
                assert (await post(app.base_url, body))[0] == 200
            await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 2)
            assert app.scalar("SELECT count(*) FROM raw_message WHERE channel = 'sms'") == 2
            assert sorted(m["phoneNumbers"][0] for m in gateway.messages.values()) == [
                "+6281234567890",
                "+6281377778888",
            ]
