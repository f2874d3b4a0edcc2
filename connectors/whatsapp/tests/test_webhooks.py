"""The webhook through the real framework: signatures checked before anything is stored, every
entry, change and message of a batch stored before the 200, and resends making nothing new, even
a storm of them arriving at once."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import orjson

from connectors._meta.graph_server import signature
from connectors.base import AnomalousPayload, NormalizedMessage
from connectors.contract import Framework
from connectors.whatsapp import WhatsappConnector
from connectors.whatsapp.tests.test_contract import SECTION

FIXTURES = Path(__file__).parents[1] / "fixtures"
SECRET = SECTION["app_secret"]


def body(number: int) -> bytes:
    """One text message as Meta posts it, from one of a few hundred people."""
    wa_id = f"62812{number % 300:07d}"
    message = {
        "from": wa_id,
        "id": f"wamid.STORM{number:06d}",
        "timestamp": "1764561600",
        "type": "text",
        "text": {"body": f"laporan {number}"},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "6281100000001", "phone_number_id": "1234567890"},
        "contacts": [{"profile": {"name": f"Pelapor {number}"}, "wa_id": wa_id}],
        "messages": [message],
    }
    return orjson.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"value": value, "field": "messages"}]}],
        }
    )


async def test_unsigned_wrongly_signed_and_signed(tmp_path: Path) -> None:
    payload = (FIXTURES / "message__text.json").read_bytes()
    async with Framework.running(WhatsappConnector.from_section(SECTION), tmp_path) as framework:
        post = framework.client.post
        async with post("/webhooks/whatsapp", data=payload, headers={"Content-Type": "application/json"}) as response:
            assert response.status == 401
        wrong = signature("another-apps-secret", payload)
        async with post("/webhooks/whatsapp", data=payload, headers=wrong) as response:
            assert response.status == 403
        # Signed over other bytes (re-serialised JSON, as peers wrongly do): refused too.
        resigned = signature(SECRET, json.dumps(json.loads(payload)).encode())
        async with post("/webhooks/whatsapp", data=payload, headers=resigned) as response:
            assert response.status == 403
        assert framework.count() == 0
        async with post("/webhooks/whatsapp", data=payload, headers=signature(SECRET, payload)) as response:
            assert response.status == 200
        assert framework.count() == 1


async def test_a_batch_of_several_people_on_two_numbers_is_stored_whole(tmp_path: Path) -> None:
    payload = (FIXTURES / "message__batch_two_numbers.json").read_bytes()
    connector = WhatsappConnector.from_section(SECTION)
    async with Framework.running(connector, tmp_path) as framework:
        async with framework.client.post(
            "/webhooks/whatsapp", data=payload, headers=signature(SECRET, payload)
        ) as response:
            assert response.status == 200 and (await response.json())["messages"] == 4
        parsed = [connector.parse(row.id, row.message) for row in framework.stored()]
    messages = [p for p in parsed if isinstance(p, NormalizedMessage)]
    assert [(m.reporter.name, m.reporter.phone_raw, m.extra["phone_number_id"]) for m in messages] == [
        ("Dewi", "+6281234567002", "1234567890"),
        ("Andi", "+6285298765003", "1234567890"),
        ("Dewi", "+6281234567002", "1234567890"),
        ("Rahmat", "+6281312345004", "2345678901"),
    ]
    assert messages[0].conversation_key == messages[2].conversation_key == "whatsapp:1234567890:+6281234567002"
    assert messages[3].conversation_key == "whatsapp:2345678901:+6281312345004"
    assert messages[2].media[0].media_id == "1789012345678901" and messages[2].text == "ini routernya"


async def test_a_resend_storm_makes_exactly_one_message_per_wamid(tmp_path: Path) -> None:
    """The same 1,000 bodies three times, concurrently (50 at a time, as Meta's retries would
    overlap): exactly 1,000 messages, every request answered 200."""
    bodies = [body(n) for n in range(1000)] * 3
    turns = asyncio.Semaphore(50)
    async with Framework.running(WhatsappConnector.from_section(SECTION), tmp_path) as framework:

        async def post(payload: bytes) -> int:
            async with (
                turns,
                framework.client.post(
                    "/webhooks/whatsapp", data=payload, headers=signature(SECRET, payload)
                ) as response,
            ):
                return response.status

        statuses = await asyncio.gather(*(post(b) for b in bodies))
        assert set(statuses) == {200}
        assert framework.count() == 1000
        assert len(framework.keys()) == 1000


async def test_a_body_that_is_not_metas_shape_is_refused_with_a_reason(tmp_path: Path) -> None:
    async with Framework.running(WhatsappConnector.from_section(SECTION), tmp_path) as framework:
        for payload, reason in (
            (b'{"object": "instagram", "entry": []}', "expected 'whatsapp_business_account'"),
            (b'{"object": "whatsapp_business_account", "entry": [{"changes": {}}]}', "changes is not a list"),
            (b"not json", "not a whatsapp webhook body"),
        ):
            async with framework.client.post(
                "/webhooks/whatsapp", data=payload, headers=signature(SECRET, payload)
            ) as response:
                assert response.status == 400
                assert reason in (await response.json())["error"]["reason"]
        assert framework.count() == 0


async def test_an_odd_item_is_kept_and_parked_with_a_reason_its_neighbours_unharmed(tmp_path: Path) -> None:
    """A message that does not fit (no sender, contacts of the wrong type, a time out of range)
    is stored with the rest and parked by the parser with the reason; the valid ones go on."""
    good = orjson.loads(body(1))
    value = good["entry"][0]["changes"][0]["value"]
    value["messages"] += [
        {"id": "wamid.ODD1", "timestamp": "1764561600", "type": "text", "text": {"body": "tanpa pengirim"}},
        {"from": "6281200000009", "id": "wamid.ODD2", "type": "contacts", "contacts": [{"name": "not an object"}]},
    ]
    payload = orjson.dumps(good)
    status = {"id": "wamid.X", "status": "read", "timestamp": "9" * 30, "recipient_id": "1"}
    statuses = orjson.loads(body(2))
    statuses["entry"][0]["changes"][0]["value"] = {**value, "messages": [], "statuses": [status]}
    connector = WhatsappConnector.from_section(SECTION)
    async with Framework.running(connector, tmp_path) as framework:
        for sent in (payload, orjson.dumps(statuses)):
            async with framework.client.post(
                "/webhooks/whatsapp", data=sent, headers=signature(SECRET, sent)
            ) as response:
                assert response.status == 200
        outcomes = []
        for row in framework.stored():
            try:
                outcomes.append(type(connector.parse(row.id, row.message)).__name__)
            except AnomalousPayload as exc:
                outcomes.append(f"parked: {exc}")
    assert outcomes[0] == "NormalizedMessage"
    assert outcomes[1].startswith("parked: message:") and "sender" in outcomes[1]
    assert outcomes[2].startswith("parked: message: AttributeError")
    assert outcomes[3].startswith("parked: status:") and "out of range" in outcomes[3]
