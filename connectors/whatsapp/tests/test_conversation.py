"""A conversation as people really have it, end to end on both backends, through the framework's
threading and chat commands (``[triage] thread_window_minutes``, "status"/"cek <no>"): a
complaint sent as several short messages and a photo becomes one case with one receipt, and a
status command is answered only to the case's reporter."""

from __future__ import annotations

import time
from typing import Any

import orjson

from connectors._meta.graph_server import GraphServer
from connectors.whatsapp.tests.test_end_to_end import graph, post, settings, text, webhook
from tests.support import eventually, running_pipeline

__all__ = ["graph", "settings"]  # the fixtures of test_end_to_end


def photo(wamid: str, at: float) -> dict[str, Any]:
    image = {"mime_type": "image/png", "sha256": "x", "id": "1789012345678902"}
    return {"from": "6281234567001", "id": wamid, "timestamp": str(int(at)), "type": "image", "image": image}


def from_other_person(body: bytes) -> bytes:
    document = orjson.loads(body)
    value = document["entry"][0]["changes"][0]["value"]
    value["contacts"] = [{"profile": {"name": "Orang Lain"}, "wa_id": "6285299990000"}]
    for message in value["messages"]:
        message["from"] = "6285299990000"
    return orjson.dumps(document)


async def test_a_complaint_in_five_messages_and_a_photo_is_one_case(settings: Any, graph: GraphServer) -> None:
    now = time.time()
    parts = ["halo min", "mau lapor", "AC ruang E-305 mati", "sudah 3 hari tidak nyala", "mohon segera dicek"]
    async with running_pipeline(settings) as pipeline:
        for n, part in enumerate(parts):
            await post(pipeline, webhook(text(f"wamid.BURST{n}", part, now + n)))
        await post(pipeline, webhook(photo("wamid.BURST9", now + 6)))
        await eventually(
            lambda: pipeline.scalar("SELECT count(*) FROM raw_message WHERE state IN ('received', 'normalized')") == 0
        )
        await eventually(lambda: pipeline.rows("SELECT * FROM outbox WHERE state = 'sent'"))
        assert pipeline.scalar("SELECT count(*) FROM cases") == 1
        assert pipeline.scalar("SELECT count(*) FROM outbox WHERE purpose = 'receipt'") == 1
        case_id = pipeline.scalar("SELECT id FROM cases")
        in_case = pipeline.scalar("SELECT count(*) FROM case_message WHERE case_id = :c", c=case_id)
        assert in_case == 6, "the greeting before the report, every part of it and the photo are in the case"


async def test_cek_is_answered_to_the_reporter_and_like_an_unknown_number_to_anyone_else(
    settings: Any, graph: GraphServer
) -> None:
    now = time.time()
    async with running_pipeline(settings) as pipeline:
        await post(pipeline, webhook(text("wamid.CEK1", "Beasiswa KIP saya belum cair sejak Oktober.", now)))
        await eventually(lambda: pipeline.rows("SELECT * FROM outbox WHERE state = 'sent'"))
        tracking = pipeline.scalar("SELECT tracking_number FROM cases")
        await post(pipeline, webhook(text("wamid.CEK2", f"cek {tracking}", now + 60)))
        await eventually(lambda: len(graph.sent) == 2)
        answer = graph.sent[1]["body"]
        assert answer["to"] == "6281234567001" and answer["type"] == "text"  # inside the window: free text
        assert tracking in answer["text"]["body"]

        other = from_other_person(webhook(text("wamid.CEK3", f"cek {tracking}", now + 120)))
        await post(pipeline, other)
        wrong_digit = tracking[:-1] + str((int(tracking[-1]) + 1) % 10)
        await post(pipeline, from_other_person(webhook(text("wamid.CEK4", f"cek {wrong_digit}", now + 180))))
        await eventually(lambda: len(graph.sent) == 4)
        to_other = [s["body"] for s in graph.sent[2:]]
        assert {b["to"] for b in to_other} == {"6285299990000"}
        assert to_other[0]["text"]["body"].replace(tracking, "#") == to_other[1]["text"]["body"].replace(
            wrong_digit, "#"
        )
        assert "Beasiswa" not in to_other[0]["text"]["body"]
        assert pipeline.scalar("SELECT count(*) FROM cases") == 1
