"""Every public sample in ../shared/corpus/whatsapp/, signed as Meta signs, through the real
framework: accepted and parsed (a message, a status, or kept as an ignored event), or refused
with a reason; a message of a type we do not know is shown, never dropped."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from connectors._meta.graph_server import signature
from connectors.base import AnomalousPayload, NormalizedMessage, UnsupportedEvent, WebhookRequest
from connectors.contract import Framework
from connectors.whatsapp import WhatsappConnector
from connectors.whatsapp.tests.test_contract import SECTION
from tests.support import corpus


async def test_every_corpus_payload_parses_or_is_refused_with_a_reason(tmp_path: Path) -> None:
    """Posted to the real endpoint (200, or 400 with a reason); what it carried is parsed. Many
    samples reuse one placeholder wamid, so after the first they are resends to the framework:
    the items are parsed as the endpoint splits them."""
    files = sorted(corpus("whatsapp").glob("*.json"))
    assert len(files) >= 40
    outcomes: dict[str, str] = {}
    connector = WhatsappConnector.from_section(SECTION)
    [endpoint] = connector.webhooks()
    async with Framework.running(connector, tmp_path) as framework:
        for path in files:
            body = path.read_bytes()
            async with framework.client.post(
                "/webhooks/whatsapp", data=body, headers=signature(SECTION["app_secret"], body)
            ) as response:
                answer = await response.json()
                if response.status == 400:
                    assert answer["error"]["reason"], path.name
                    outcomes[path.name] = "refused"
                    continue
                assert response.status == 200, (path.name, answer)
            request = WebhookRequest(body, {}, {}, datetime.now(UTC), "application/json")
            items = endpoint.split(request)
            assert items and answer["messages"] == len(items), path.name
            for number, item in enumerate(items, 1):
                try:
                    parsed = connector.parse(number, item)
                except (UnsupportedEvent, AnomalousPayload) as exc:
                    assert str(exc), path.name
                    outcomes[path.name] = "kept with a reason"
                    continue
                outcomes.setdefault(path.name, type(parsed).__name__)
                if isinstance(parsed, NormalizedMessage):
                    assert parsed.text or parsed.media, f"{path.name}: a message with nothing to show"
                    assert parsed.conversation_key.startswith("whatsapp:")
    assert set(outcomes) == {p.name for p in files}, "every payload has an outcome"
    assert outcomes["001-text.json"] == "NormalizedMessage"
    assert outcomes["031-status-sent.json"] == "DeliveryStatus"
    assert outcomes["044-template-status-approved.json"] == "NoneType"
    assert outcomes["041-smb-echo-text.json"] == "NoneType"


async def test_an_unknown_type_is_shown_as_message_of_type_x(tmp_path: Path) -> None:
    connector = WhatsappConnector.from_section(SECTION)
    fixtures = Path(__file__).parents[1] / "fixtures"
    async with Framework.running(connector, tmp_path) as framework:
        for path in (corpus("whatsapp", "018-unsupported-with-type.json"), fixtures / "message__unknown_type.json"):
            body = path.read_bytes()
            headers = signature(SECTION["app_secret"], body)
            async with framework.client.post("/webhooks/whatsapp", data=body, headers=headers) as response:
                assert response.status == 200
        parsed = [connector.parse(row.id, row.message) for row in framework.stored()]
    texts = [p.text for p in parsed if isinstance(p, NormalizedMessage)]
    assert texts[0].startswith("[message of type pool (unsupported)]") and "131051" in texts[0]
    assert texts[1] == "[message of type poll_update]"


async def test_the_batch_with_one_message_twice_stores_it_once(tmp_path: Path) -> None:
    body = corpus("whatsapp", "045-batch-two-messages-one-change.json").read_bytes()
    async with Framework.running(WhatsappConnector.from_section(SECTION), tmp_path) as framework:
        async with framework.client.post(
            "/webhooks/whatsapp", data=body, headers=signature(SECTION["app_secret"], body)
        ) as response:
            assert response.status == 200
        assert framework.count() == 1
