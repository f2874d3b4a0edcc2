"""Instagram webhooks through the real framework, and every public sample of the corpus: parsed
or refused with a reason; echoes, mentions and reads never open a case; a batch of three people
is three messages."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from connectors._meta.graph_server import signature
from connectors.base import AnomalousPayload, DeliveryStatus, NormalizedMessage, UnsupportedEvent, WebhookRequest
from connectors.contract import Framework
from connectors.instagram import InstagramConnector
from connectors.instagram.tests.test_contract import SECTION
from tests.support import corpus

FIXTURES = Path(__file__).parents[1] / "fixtures"
SECRET = SECTION["app_secret"]


async def test_every_corpus_payload_parses_or_is_refused_with_a_reason(tmp_path: Path) -> None:
    files = sorted(corpus("instagram").glob("*.json"))
    assert len(files) >= 30
    connector = InstagramConnector.from_section(SECTION)
    [endpoint] = connector.webhooks()
    outcomes: dict[str, set[str]] = {}
    async with Framework.running(connector, tmp_path) as framework:
        for path in files:
            body = path.read_bytes()
            async with framework.client.post(
                "/webhooks/instagram", data=body, headers=signature(SECRET, body)
            ) as response:
                answer = await response.json()
                if response.status == 400:
                    assert answer["error"]["reason"]
                    outcomes[path.name] = {"refused"}
                    continue
                assert response.status == 200, (path.name, answer)
            found = outcomes.setdefault(path.name, set())
            for number, item in enumerate(
                endpoint.split(WebhookRequest(body, {}, {}, datetime.now(UTC), "application/json")), 1
            ):
                try:
                    parsed = connector.parse(number, item)
                except (UnsupportedEvent, AnomalousPayload) as exc:
                    assert str(exc)
                    found.add("kept with a reason")
                    continue
                found.add(type(parsed).__name__)
                if isinstance(parsed, NormalizedMessage):
                    assert (parsed.text or parsed.media) and parsed.reporter.channel_user_id
    assert outcomes["014-wrong-object-unsupported.json"] == {"refused"}
    assert outcomes["015-empty-entry-list.json"] == set()  # accepted, nothing in it
    assert outcomes["023-story-mention-echo.json"] == {"NoneType"}
    assert outcomes["024-read-seen.json"] == {"DeliveryStatus"}
    assert outcomes["009-changes-mention-and-story-insights.json"] == {"NoneType"}
    assert outcomes["001-batch-three-text-messages.json"] == {"NormalizedMessage"}
    assert len(outcomes) == len(files)


async def test_a_batch_of_three_people_is_three_messages_even_with_one_placeholder_mid(tmp_path: Path) -> None:
    body = corpus("instagram", "001-batch-three-text-messages.json").read_bytes()
    connector = InstagramConnector.from_section(SECTION)
    async with Framework.running(connector, tmp_path) as framework:
        async with framework.client.post("/webhooks/instagram", data=body, headers=signature(SECRET, body)) as response:
            assert response.status == 200
        senders = [connector.parse(r.id, r.message).reporter.channel_user_id for r in framework.stored()]  # type: ignore[union-attr]
    assert senders == ["567", "444", "666"]


async def test_kinds_of_items(tmp_path: Path) -> None:
    connector = InstagramConnector.from_section(SECTION)
    parsed = {}
    async with Framework.running(connector, tmp_path) as framework:
        for path in sorted(FIXTURES.glob("*.json")):
            body = path.read_bytes()
            before = {r.id for r in framework.stored()}
            async with framework.client.post(
                "/webhooks/instagram", data=body, headers=signature(SECRET, body)
            ) as response:
                assert response.status == 200
            parsed[path.stem] = [connector.parse(r.id, r.message) for r in framework.stored() if r.id not in before]
    echo, changes, read = parsed["echo"], parsed["changes"], parsed["read"]
    assert echo == [None] and changes == [None]
    assert isinstance(read[0], DeliveryStatus) and read[0].status == "read"
    [unsent] = parsed["message__unsent"]
    [reaction] = parsed["reaction"]
    [referral] = parsed["referral"]
    assert all(isinstance(m, NormalizedMessage) and m.automatic for m in (unsent, reaction, referral))
    [attachments] = parsed["message__attachments"]
    assert isinstance(attachments, NormalizedMessage)
    assert [m.kind for m in attachments.media] == ["image", "video"] and attachments.text == "ini fotonya"
    [edit] = parsed["message_edit"]
    [postback] = parsed["postback"]
    assert isinstance(edit, NormalizedMessage) and edit.text.startswith("[diedit]") and not edit.automatic
    assert isinstance(postback, NormalizedMessage) and postback.text == "Buat pengaduan"
    [story] = parsed["message__story_reply"]
    assert isinstance(story, NormalizedMessage) and story.text.startswith("[membalas story]")
    # An unsent message reuses its original's mid: it must not be taken for a resend of it.
    assert len(parsed["message__unsent"]) == 1
