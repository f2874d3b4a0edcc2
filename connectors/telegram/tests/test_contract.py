"""The Telegram connector passes the contract every connector passes, in both of its modes: the
webhook (signed by the secret-token header) and long polling on the framework's pull loop, against
a local Bot API server reached through python-telegram-bot's base URL."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from connectors.contract import PullContract, WebhookContract
from connectors.telegram import TelegramConnector
from connectors.telegram.tests.botapi import TOKEN, BotApiServer

SECRET = "s3cret-of_the-webhook"


class TestTelegramWebhookContract(WebhookContract):
    connector_class = TelegramConnector
    # nothing listens there: start-up's getMe fails fast and is only logged, as when Telegram is away
    config_section: ClassVar[dict[str, Any]] = {
        "bot_token": TOKEN,
        "mode": "webhook",
        "webhook_secret": SECRET,
        "api_base_url": "http://127.0.0.1:9",
    }


class TestTelegramPollingContract(PullContract):
    connector_class = TelegramConnector
    config_section: ClassVar[dict[str, Any]] = {"bot_token": TOKEN}

    @pytest.fixture(autouse=True)
    def _server(self) -> Iterator[None]:
        # forget=False: the contract reads the same source again from no cursor, as after a
        # crash whose confirmations never reached Telegram
        with BotApiServer(forget=False, hold=0.05).in_thread() as server:
            self.server = server
            yield

    def serving(self, fixtures: Sequence[Path], tmp_path: Path) -> dict[str, Any]:
        self.server.updates = [json.loads(f.read_text()) for f in fixtures]
        return {**self.config_section, "api_base_url": self.server.url}
