"""Replies through Instagram's Send API against a local Graph server: inside 24 hours a plain
reply, with human_agent up to 7 days tagged HUMAN_AGENT, otherwise refused before sending with
the reason; Meta's refusals mapped like WhatsApp's; attachments fetched from their CDN URL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors._meta.graph_server import GraphServer, running
from connectors.base import (
    MediaRef,
    MediaUnavailable,
    OutboundMessage,
    PermanentSendError,
    Recipient,
    TransientSendError,
)
from connectors.instagram import InstagramConnector
from connectors.instagram.outbound import MAX_TEXT_BYTES, chunks
from connectors.instagram.tests.test_contract import SECTION

NOW = datetime.now(UTC)
IGSID = "1254459154682919"


@pytest.fixture
async def graph() -> AsyncIterator[GraphServer]:
    server = GraphServer(token=SECTION["access_token"], media={"story-1": (b"story bytes", "image/jpeg")})
    async with running(server):
        yield server


async def connector(graph: GraphServer, **changes: Any) -> InstagramConnector:
    made = InstagramConnector.from_section({**SECTION, "graph_api_url": graph.base_url, **changes})
    await made.start()
    return made


def reply(last: datetime | None, text: str = "Terima kasih, laporan Anda telah kami terima.") -> OutboundMessage:
    return OutboundMessage(
        outbox_id=1,
        case_id=1,
        channel="instagram",
        purpose="receipt",
        idempotency_key="receipt:1",
        recipient=Recipient(conversation_key=f"instagram:{IGSID}", channel_user_id=IGSID),
        subject="[ULT-26-00042-8] Laporan Anda telah kami terima",
        text=text,
        last_inbound_at=last,
    )


async def test_inside_24_hours_a_plain_reply(graph: GraphServer) -> None:
    instagram = await connector(graph)
    result = await instagram.send(reply(NOW - timedelta(hours=3)))
    await instagram.stop()
    [sent] = graph.sent
    assert sent["account"] == SECTION["account_id"]
    assert sent["body"]["recipient"] == {"id": IGSID} and sent["body"]["messaging_type"] == "RESPONSE"
    assert "tag" not in sent["body"] and result.provider_message_id


async def test_with_human_agent_up_to_7_days_tagged(graph: GraphServer) -> None:
    instagram = await connector(graph, human_agent=True)
    await instagram.send(reply(NOW - timedelta(days=3)))
    with pytest.raises(PermanentSendError, match="7-day HUMAN_AGENT window"):
        await instagram.send(reply(NOW - timedelta(days=8)))
    await instagram.stop()
    [sent] = graph.sent
    assert sent["body"]["messaging_type"] == "MESSAGE_TAG" and sent["body"]["tag"] == "HUMAN_AGENT"


async def test_outside_the_window_without_human_agent_nothing_is_sent(graph: GraphServer) -> None:
    instagram = await connector(graph)
    with pytest.raises(PermanentSendError) as refused:
        await instagram.send(reply(NOW - timedelta(hours=30)))
    await instagram.stop()
    assert refused.value.code == "outside_window"
    assert "outside Instagram's 24-hour window" in str(refused.value) and "30 hours ago" in str(refused.value)
    assert graph.calls == []


async def test_a_long_reply_goes_as_several_messages_under_the_limit(graph: GraphServer) -> None:
    text = "\n".join(f"Baris {n}: keterangan tindak lanjut laporan Anda." for n in range(60))
    instagram = await connector(graph)
    result = await instagram.send(reply(NOW, text))
    await instagram.stop()
    parts = [s["body"]["message"]["text"] for s in graph.sent]
    assert len(parts) > 1 and all(len(p.encode()) <= MAX_TEXT_BYTES for p in parts)
    assert "\n".join(parts) == text
    assert result.provider_message_id == f"aWdfZAG1faXRlbT{len(parts):010d}"  # the last one's
    assert all(len(c.encode()) <= MAX_TEXT_BYTES for c in chunks("é" * 3000))


async def test_429_and_an_expired_token(graph: GraphServer) -> None:
    instagram = await connector(graph)
    graph.fail_next(429, 4, "Application request limit reached", retry_after="30")
    with pytest.raises(TransientSendError) as throttled:
        await instagram.send(reply(NOW))
    assert throttled.value.retry_after == 30
    graph.expire_token()
    with pytest.raises(PermanentSendError) as refused:
        await instagram.send(reply(NOW))
    await instagram.stop()
    assert refused.value.code == "190" and refused.value.channel_down


async def test_attachments_come_from_their_cdn_url_without_the_token(graph: GraphServer) -> None:
    instagram = await connector(graph)
    fetched = await instagram.fetch_media(
        MediaRef(media_id=f"{graph.base_url}/cdn/story-1", kind="story_mention"), 1000
    )
    assert fetched.data == b"story bytes" and fetched.content_type == "image/jpeg"
    with pytest.raises(MediaUnavailable, match="404"):  # the story expired
        await instagram.fetch_media(MediaRef(media_id=f"{graph.base_url}/cdn/story-2"), 1000)
    await instagram.stop()
