"""Replies through the Graph API, against a local server that answers as Meta documents: the
number the reporter wrote to, free text inside the 24-hour window, the template outside it and
to people who never wrote, and Meta's refusals mapped to retry or dead-letter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors._meta.graph_server import GraphServer, connected
from connectors.base import OutboundMessage, PermanentSendError, Recipient, TransientSendError
from connectors.whatsapp import WhatsappConnector
from connectors.whatsapp.tests.test_contract import SECTION

NOW = datetime.now(UTC)
TEMPLATES = {
    "receipt": {"name": "tanda_terima", "language": "id"},
    "status": {"name": "status_laporan", "language": "id"},
}


@pytest.fixture
async def graph() -> AsyncIterator[tuple[GraphServer, WhatsappConnector]]:
    server = GraphServer(token=SECTION["access_token"])
    async with connected(server, WhatsappConnector, {**SECTION, "templates": TEMPLATES}) as connector:
        yield server, connector


def reply(
    last: datetime | None, *, via: str = "conversation", purpose: str = "receipt", **changes: Any
) -> OutboundMessage:
    if via == "phone":
        recipient = Recipient(via="phone", conversation_key="phonelog:abc", phone="+6281234567001")
    else:
        recipient = Recipient(
            conversation_key="whatsapp:2345678901:+6281234567001",
            phone="+6281234567001",
            channel_user_id="6281234567001",
        )
    fields: dict[str, Any] = {
        "outbox_id": 7,
        "case_id": 3,
        "channel": "whatsapp",
        "purpose": purpose,
        "idempotency_key": "receipt:3",
        "recipient": recipient,
        "subject": "[ULT-26-00042-8] Laporan Anda telah kami terima",
        "text": "Terima kasih, laporan Anda telah kami terima.\nNomor tiket: ULT-26-00042-8",
        "in_reply_to": "wamid.HBgNNjI4MTIzNDU2NzAwMRUCABIYFjNFQjBBMDAxAA==",
        "last_inbound_at": last,
        "tracking_number": "ULT-26-00042-8",
        "case_status": "received",
    }
    return OutboundMessage(**{**fields, **changes})


async def test_inside_the_window_free_text_goes_from_the_number_they_wrote_to(graph: Any) -> None:
    server, connector = graph
    result = await connector.send(reply(NOW - timedelta(hours=2)))
    assert result.provider_message_id.startswith("wamid.")
    [sent] = server.sent
    assert sent["account"] == "2345678901"  # the second number: the one they wrote to
    body = sent["body"]
    assert body["type"] == "text" and body["to"] == "6281234567001"
    assert body["text"]["body"].startswith("Terima kasih")
    assert body["context"] == {"message_id": "wamid.HBgNNjI4MTIzNDU2NzAwMRUCABIYFjNFQjBBMDAxAA=="}


async def test_outside_the_window_the_template_with_tracking_number_and_status(graph: Any) -> None:
    server, connector = graph
    await connector.send(reply(NOW - timedelta(hours=25)))
    [sent] = server.sent
    body = sent["body"]
    assert sent["account"] == "2345678901"
    assert body["type"] == "template"
    assert body["template"]["name"] == "tanda_terima" and body["template"]["language"] == {"code": "id"}
    parameters = body["template"]["components"][0]["parameters"]
    assert [p["text"] for p in parameters] == ["ULT-26-00042-8", "Diterima"]


async def test_a_status_answer_outside_the_window_uses_the_status_template(graph: Any) -> None:
    server, connector = graph
    await connector.send(reply(NOW - timedelta(days=3), purpose="status", case_status="in_progress"))
    body = server.sent[0]["body"]
    assert body["template"]["name"] == "status_laporan"
    assert [p["text"] for p in body["template"]["components"][0]["parameters"]] == [
        "ULT-26-00042-8",
        "Sedang ditindaklanjuti",
    ]


async def test_someone_who_never_wrote_gets_the_template_from_the_first_number(graph: Any) -> None:
    server, connector = graph
    await connector.send(reply(NOW, via="phone"))  # even "just now": they never wrote on WhatsApp
    [sent] = server.sent
    assert sent["account"] == "1234567890"
    assert sent["body"]["type"] == "template" and sent["body"]["to"] == "6281234567001"


async def test_no_template_configured_is_refused_before_sending(graph: Any) -> None:
    server, _ = graph
    bare = WhatsappConnector.from_section({**SECTION, "graph_api_url": server.base_url})
    with pytest.raises(PermanentSendError) as refused:
        await bare.send(reply(NOW - timedelta(days=2)))
    await bare.stop()
    assert refused.value.code == "outside_window" and "24-hour" in str(refused.value)
    assert server.calls == []


async def test_429_is_retried_after_the_wait_meta_asks_for(graph: Any) -> None:
    server, connector = graph
    server.fail_next(429, 130429, "Rate limit hit", retry_after="7")
    with pytest.raises(TransientSendError) as throttled:
        await connector.send(reply(NOW))
    assert throttled.value.retry_after == 7
    assert (await connector.send(reply(NOW))).provider_message_id  # and the next try goes


async def test_5xx_is_transient(graph: Any) -> None:
    server, connector = graph
    server.fail_next(503, 131016, "Service unavailable")
    with pytest.raises(TransientSendError):
        await connector.send(reply(NOW))


@pytest.mark.parametrize(
    ("code", "message"),
    [(131047, "Re-engagement message"), (131026, "Message Undeliverable")],
)
async def test_permanent_refusals_carry_metas_code_and_message(graph: Any, code: int, message: str) -> None:
    server, connector = graph
    server.fail_next(400, code, message)
    with pytest.raises(PermanentSendError) as refused:
        await connector.send(reply(NOW))
    assert refused.value.code == str(code) and message in str(refused.value)
    assert not refused.value.channel_down


async def test_an_expired_token_says_the_channel_is_down(graph: Any) -> None:
    server, connector = graph
    server.expire_token()
    with pytest.raises(PermanentSendError) as refused:
        await connector.send(reply(NOW))
    assert refused.value.code == "190" and refused.value.channel_down


async def test_a_reply_longer_than_whatsapps_limit_goes_whole_in_several_messages(graph: Any) -> None:
    server, connector = graph
    text = "\n".join(f"Baris {n}: uraian tindak lanjut dari unit kerja atas laporan Anda." for n in range(100))
    result = await connector.send(reply(NOW, text=text))
    parts = [s["body"]["text"]["body"] for s in server.sent]
    assert len(parts) == 2 and all(len(p) <= 4096 for p in parts) and "\n".join(parts) == text
    assert "context" in server.sent[0]["body"] and "context" not in server.sent[1]["body"]
    assert result.provider_message_id == "wamid.HBgL000000000002"
