"""End to end on both backends (embedded; RabbitMQ + PostgreSQL): a signed webhook becomes a
case, its photo is fetched through the media step, the receipt is accepted by a local Graph API
server (free text or template by the 24-hour window), statuses move its delivery state without
opening a case, and an expired token dead-letters with Meta's code and turns the health red."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest

from connectors._meta.graph_server import GraphServer, running, signature
from connectors.whatsapp.outbound import STATUS_NAMES
from connectors.whatsapp.tests.test_contract import SECTION
from tests.support import Running, SettingsFactory, eventually, running_pipeline

SECRET = SECTION["app_secret"]
PHOTO = b"\x89PNG\r\n\x1a\n" + b"foto kerusakan AC" * 50
TEMPLATES = {
    "receipt": {"name": "tanda_terima", "language": "id"},
    "status": {"name": "status_laporan", "language": "id"},
}


def webhook(*messages: dict[str, Any], phone_number_id: str = "2345678901", name: str = "Sari Wulandari") -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "6281100000002", "phone_number_id": phone_number_id},
        "contacts": [{"profile": {"name": name}, "wa_id": "6281234567001"}],
        "messages": list(messages),
    }
    return orjson.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"value": value, "field": "messages"}]}],
        }
    )


def statuses(wamid: str, *states: str) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "6281100000002", "phone_number_id": "2345678901"},
        "statuses": [
            {"id": wamid, "status": s, "timestamp": str(int(time.time())), "recipient_id": "6281234567001"}
            for s in states
        ],
    }
    return orjson.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"value": value, "field": "messages"}]}],
        }
    )


def text(wamid: str, body: str, at: float) -> dict[str, Any]:
    return {"from": "6281234567001", "id": wamid, "timestamp": str(int(at)), "type": "text", "text": {"body": body}}


@pytest.fixture
async def graph() -> AsyncIterator[GraphServer]:
    server = GraphServer(token=SECTION["access_token"], media={"1789012345678902": (PHOTO, "image/png")})
    async with running(server):
        yield server


@pytest.fixture
def settings(backend_settings: SettingsFactory, graph: GraphServer) -> Any:
    section = {**SECTION, "graph_api_url": graph.base_url, "templates": TEMPLATES}
    return backend_settings(connectors={"whatsapp": section})


async def post(pipeline: Running, body: bytes) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{pipeline.base_url}/webhooks/whatsapp", data=body, headers=signature(SECRET, body)) as response,
    ):
        assert response.status == 200, await response.text()


async def test_message_to_case_to_receipt_to_read(settings: Any, graph: GraphServer) -> None:
    now = time.time()
    photo = {
        "from": "6281234567001",
        "id": "wamid.E2E0002",
        "timestamp": str(int(now)),
        "type": "image",
        "image": {"caption": "AC ruang E-305 mati", "mime_type": "image/png", "sha256": "x", "id": "1789012345678902"},
    }
    async with running_pipeline(settings) as pipeline:
        await post(pipeline, webhook(text("wamid.E2E0001", "Lapor, AC ruang E-305 mati sejak Senin.", now), photo))
        sent = await eventually(lambda: pipeline.rows("SELECT * FROM outbox WHERE state = 'sent'"))
        [case] = pipeline.rows("SELECT * FROM cases")
        assert case["channel"] == "whatsapp" and case["conversation_key"] == "whatsapp:2345678901:+6281234567001"
        assert case["reporter_name"] == "Sari Wulandari"
        assert pipeline.scalar("SELECT count(*) FROM case_message WHERE case_id = :c", c=case["id"]) == 2
        [request] = graph.sent
        assert request["account"] == "2345678901"  # from the number they wrote to
        assert request["body"]["type"] == "text" and case["tracking_number"] in request["body"]["text"]["body"]
        wamid = sent[0]["provider_message_id"]
        assert wamid.startswith("wamid.")
        media = await eventually(lambda: pipeline.rows("SELECT * FROM media WHERE state = 'fetched'"))
        assert media[0]["size"] == len(PHOTO) and media[0]["content_type"] == "image/png"

        await post(pipeline, statuses(wamid, "sent", "delivered"))
        await eventually(lambda: pipeline.scalar("SELECT delivery_state FROM outbox") == "delivered")
        await post(pipeline, statuses(wamid, "read"))
        await post(pipeline, statuses(wamid, "delivered"))  # late and out of order: never back
        await eventually(lambda: pipeline.scalar("SELECT count(*) FROM raw_message WHERE state = 'status'") == 3)
        assert pipeline.scalar("SELECT delivery_state FROM outbox") == "read"
        assert pipeline.scalar("SELECT count(*) FROM cases") == 1


async def test_a_message_older_than_the_window_gets_the_template(settings: Any, graph: GraphServer) -> None:
    """Meta redelivers for days: a message sent 30 hours ago is answered with the template."""
    async with running_pipeline(settings) as pipeline:
        await post(pipeline, webhook(text("wamid.E2E0101", "Ijazah saya belum bisa diambil.", time.time() - 30 * 3600)))
        await eventually(lambda: pipeline.rows("SELECT * FROM outbox WHERE state = 'sent'"))
        [request] = graph.sent
        template = request["body"]["template"]
        [case] = pipeline.rows("SELECT tracking_number, status FROM cases")
        assert template["name"] == "tanda_terima"
        parameters = [p["text"] for p in template["components"][0]["parameters"]]
        assert parameters == [case["tracking_number"], STATUS_NAMES[case["status"]]]


async def test_an_expired_token_dead_letters_with_metas_code_and_turns_health_red(
    settings: Any, graph: GraphServer
) -> None:
    graph.expire_token()
    async with running_pipeline(settings) as pipeline:
        await post(pipeline, webhook(text("wamid.E2E0201", "Beasiswa KIP saya belum cair.", time.time())))
        [dead] = await eventually(lambda: pipeline.rows("SELECT * FROM outbox WHERE state = 'dead'"))
        assert "(190)" in dead["error"] and "access token" in dead["error"]
        health = json.loads(
            pipeline.scalar("SELECT value FROM connector_state WHERE channel = 'whatsapp' AND key = 'send:health'")
        )
        assert health["state"] == "down"
        [failed] = pipeline.rows("SELECT detail FROM case_event WHERE action = 'receipt_failed'")
        detail = failed["detail"] if isinstance(failed["detail"], dict) else json.loads(failed["detail"])
        assert detail["code"] == "190"


async def test_a_refusal_in_a_status_shows_on_the_case(settings: Any, graph: GraphServer) -> None:
    async with running_pipeline(settings) as pipeline:
        await post(pipeline, webhook(text("wamid.E2E0301", "Parkiran motor penuh.", time.time())))
        [sent] = await eventually(lambda: pipeline.rows("SELECT * FROM outbox WHERE state = 'sent'"))
        failed = json.loads(statuses(sent["provider_message_id"], "failed"))
        failed["entry"][0]["changes"][0]["value"]["statuses"][0]["errors"] = [
            {
                "code": 131026,
                "title": "Message Undeliverable",
                "error_data": {"details": "Receiver is incapable of receiving this message"},
            }
        ]
        await post(pipeline, orjson.dumps(failed))
        await eventually(lambda: pipeline.scalar("SELECT delivery_state FROM outbox") == "failed")
        assert "131026" in pipeline.scalar("SELECT delivery_error FROM outbox")
        assert pipeline.rows("SELECT * FROM case_event WHERE action = 'delivery_failed'")


async def test_a_429_is_retried_after_retry_after_and_then_sent(settings: Any, graph: GraphServer) -> None:
    graph.fail_next(429, 130429, "Rate limit hit", retry_after="1")
    async with running_pipeline(settings) as pipeline:
        await post(pipeline, webhook(text("wamid.E2E0401", "Wifi perpustakaan mati.", time.time())))
        [sent] = await eventually(lambda: pipeline.rows("SELECT * FROM outbox WHERE state = 'sent'"))
        assert graph.calls.count("POST /v21.0/2345678901/messages") == 2
        assert sent["provider_message_id"].startswith("wamid.") and len(graph.sent) == 1


async def test_a_phone_log_caller_gets_the_template_from_the_first_number(
    backend_settings: SettingsFactory, graph: GraphServer
) -> None:
    """Someone who called the office never wrote on WhatsApp: their receipt (the phone log cannot
    send, so ``[replies] fallback`` picks WhatsApp by phone) is the template, from the first number."""
    section = {**SECTION, "graph_api_url": graph.base_url, "templates": TEMPLATES}
    settings = backend_settings(connectors={"whatsapp": section, "phonelog": {}})
    drop = settings.data_dir / "inbox" / "phonelog"
    async with running_pipeline(settings) as pipeline:
        drop.mkdir(parents=True, exist_ok=True)
        today = time.strftime("%Y-%m-%d")
        (drop / "log.csv").write_text(
            "Tanggal,Jam,Nama,HP,Isi Laporan,Kategori,Petugas\n"
            f"{today},09:30,Yosef Kambu,081355551234,Kartu ujian tidak bisa dicetak dari portal.,Pengaduan,Rani\n"
        )
        [sent] = await eventually(lambda: pipeline.rows("SELECT * FROM outbox WHERE state = 'sent'"), timeout=30)
        assert sent["channel"] == "whatsapp"
        [request] = graph.sent
        assert request["account"] == "1234567890" and request["body"]["to"] == "6281355551234"
        assert request["body"]["type"] == "template" and request["body"]["template"]["name"] == "tanda_terima"
