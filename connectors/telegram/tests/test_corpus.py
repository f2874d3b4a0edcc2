"""Every update of the shared corpus (../shared/corpus/telegram, read in place) parses, or is
refused with a reason: not kept (a group, a channel), ignored by name, or unsupported."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from connectors.base import AnomalousPayload, NormalizedMessage, UnsupportedEvent
from connectors.contract import Framework
from connectors.telegram import TelegramConnector
from connectors.telegram.intake import IGNORED_TYPES, screen, update_type
from connectors.telegram.parser import parse
from connectors.telegram.tests.botapi import TOKEN
from tests.support import corpus

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def test_every_corpus_update_parses_or_is_refused_with_a_reason() -> None:
    files = sorted(corpus("telegram").glob("*.json"))
    assert len(files) >= 40
    outcomes: dict[str, str] = {}
    for path in files:
        update = json.loads(path.read_text())
        screened = screen(update, NOW)
        if screened.raw is None:
            assert screened.refused, path.name
            outcomes[path.name] = f"not kept: {screened.refused}"
            continue
        try:
            parsed = parse(1, screened.raw)
        except (UnsupportedEvent, AnomalousPayload) as exc:
            assert str(exc), path.name
            outcomes[path.name] = f"refused: {exc}"
            continue
        if parsed is None:
            assert update_type(update) in IGNORED_TYPES, path.name
            outcomes[path.name] = "ignored"
            continue
        assert isinstance(parsed, NormalizedMessage), path.name
        assert parsed.conversation_key.startswith("telegram:") and parsed.reporter.channel_user_id, path.name
        assert parsed.text or parsed.media, f"{path.name}: a message with nothing in it"
        outcomes[path.name] = "message"
    assert outcomes["039-group-message-non-latin-names.json"].startswith("not kept: a group chat")
    assert outcomes["022-channel-post.json"].startswith("not kept")
    assert outcomes["040-private-chinese-name-indonesian-text.json"] == "message"
    assert outcomes["032-inline-query.json"] == "ignored"
    assert sum(o == "message" for o in outcomes.values()) >= 20, outcomes


async def test_every_corpus_update_posted_to_the_webhook_is_answered_2xx(tmp_path: Path) -> None:
    """Through the real framework: Telegram must never get a 5xx (it would resend for hours), and
    what is not kept leaves no row."""
    section = {"bot_token": TOKEN, "mode": "webhook", "webhook_secret": "s3cret", "api_base_url": "http://127.0.0.1:9"}
    connector = TelegramConnector.from_section(section)
    async with Framework.running(connector, tmp_path) as framework:
        for path in sorted(corpus("telegram").glob("*.json")):
            before = framework.count()
            headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "s3cret"}
            async with framework.client.post("/webhooks/telegram", data=path.read_bytes(), headers=headers) as r:
                assert r.status == 200, f"{path.name}: {r.status} {await r.text()}"
            kept = screen(json.loads(path.read_text()), NOW).raw is not None
            if not kept:
                assert framework.count() == before, f"{path.name}: a group or channel left a row"
