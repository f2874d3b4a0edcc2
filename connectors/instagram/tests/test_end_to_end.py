"""End to end on both backends: an Instagram DM becomes a case and its receipt is accepted by a
local Send API; the echo of that receipt opens no case; the read receipt moves it to read; a
reply outside the window is refused before sending, with the reason on the case and no other way
known of a reporter known by their IGSID alone."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest

from connectors._meta.graph_server import GraphServer, running, signature
from connectors.instagram.tests.test_contract import SECTION
from tests.support import Running, SettingsFactory, eventually, running_pipeline

ACCOUNT = SECTION["account_id"]
IGSID = "1254459154682919"


def webhook(*items: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {"object": "instagram", "entry": [{"id": ACCOUNT, "time": int(time.time() * 1000), "messaging": list(items)}]}
    )


def dm(mid: str, text: str, at: float) -> dict[str, Any]:
    return {
        "sender": {"id": IGSID},
        "recipient": {"id": ACCOUNT},
        "timestamp": int(at * 1000),
        "message": {"mid": mid, "text": text},
    }


@pytest.fixture
async def graph() -> AsyncIterator[GraphServer]:
    server = GraphServer(token=SECTION["access_token"])
    async with running(server):
        yield server


@pytest.fixture
def settings(backend_settings: SettingsFactory, graph: GraphServer) -> Any:
    return backend_settings(connectors={"instagram": {**SECTION, "graph_api_url": graph.base_url}})


async def post(pipeline: Running, body: bytes) -> None:
    async with aiohttp.ClientSession() as session:
        headers = signature(SECTION["app_secret"], body)
        async with session.post(f"{pipeline.base_url}/webhooks/instagram", data=body, headers=headers) as response:
            assert response.status == 200, await response.text()


async def test_dm_to_case_to_receipt_echo_and_read(settings: Any, graph: GraphServer) -> None:
    async with running_pipeline(settings) as pipeline:
        await post(pipeline, webhook(dm("mid.E2E1", "min, toilet gedung A bocor dari kemarin", time.time())))
        [sent] = await eventually(lambda: pipeline.rows("SELECT * FROM outbox WHERE state = 'sent'"))
        [case] = pipeline.rows("SELECT * FROM cases")
        assert case["conversation_key"] == f"instagram:{IGSID}"
        [request] = graph.sent
        assert (
            request["body"]["recipient"] == {"id": IGSID}
            and case["tracking_number"] in request["body"]["message"]["text"]
        )
        mid = sent["provider_message_id"]
        echo = {
            "sender": {"id": ACCOUNT},
            "recipient": {"id": IGSID},
            "timestamp": int(time.time() * 1000),
            "message": {"mid": mid, "text": "…", "is_echo": True},
        }
        read = {
            "sender": {"id": IGSID},
            "recipient": {"id": ACCOUNT},
            "timestamp": int(time.time() * 1000),
            "read": {"mid": mid},
        }
        await post(pipeline, webhook(echo, read))
        await eventually(lambda: pipeline.scalar("SELECT delivery_state FROM outbox") == "read")
        await eventually(lambda: pipeline.scalar("SELECT count(*) FROM raw_message WHERE state = 'ignored'") == 1)
        assert pipeline.scalar("SELECT count(*) FROM cases") == 1
        assert len(graph.sent) == 1


async def test_outside_the_window_the_receipt_is_refused_before_sending(settings: Any, graph: GraphServer) -> None:
    async with running_pipeline(settings) as pipeline:
        await post(pipeline, webhook(dm("mid.E2E2", "ijazah belum bisa diambil", time.time() - 30 * 3600)))
        [dead] = await eventually(lambda: pipeline.rows("SELECT * FROM outbox WHERE state = 'dead'"))
        assert "outside_window" in dead["error"] and "outside Instagram's 24-hour window" in dead["error"]
        [event] = pipeline.rows("SELECT detail FROM case_event WHERE action = 'receipt_failed'")
        detail = event["detail"] if isinstance(event["detail"], dict) else json.loads(event["detail"])
        assert detail["code"] == "outside_window"
        assert detail["reachable"] == []  # only the IGSID is known (tests/pipeline/test_other_ways.py: more)
        assert graph.sent == []
