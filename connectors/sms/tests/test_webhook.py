"""The webhook as the gateway signs it: a stale timestamp (a replay), another key, or no signature
store nothing; bad bodies get a 4xx with the reason."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from connectors.sms.tests.gateway import PASSWORD, SIGNING_KEY, USERNAME, event, post, signed
from tests.support import Running, make_settings, running_pipeline

SECTION = {"gateway_url": "http://127.0.0.1:9", "username": USERNAME, "password": PASSWORD, "signing_key": SIGNING_KEY}
BODY = event(
    "sms:received",
    {"messageId": "a1", "message": "tes", "sender": "+6281234567890", "receivedAt": "2026-12-01T09:46:11.000+08:00"},
)


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Running]:
    async with running_pipeline(make_settings(tmp_path / "var", connectors={"sms": SECTION})) as running:
        yield running


def stored(app: Running) -> int:
    return int(app.scalar("SELECT count(*) FROM raw_message"))


async def test_a_replayed_old_request_is_refused(app: Running) -> None:
    status, text = await post(app.base_url, BODY, signed(BODY, stamp=int(time.time()) - 3600))
    assert status == 403 and stored(app) == 0, text


async def test_another_key_is_refused_and_no_signature_is_401(app: Running) -> None:
    assert (await post(app.base_url, BODY, signed(BODY, key="not-our-key")))[0] == 403
    assert (await post(app.base_url, BODY, {"Content-Type": "application/json"}))[0] == 401
    assert stored(app) == 0


@pytest.mark.parametrize(
    ("body", "reason"), [(b"not json", "not a sms webhook body"), (b'{"event": "sms:received"}', "payload")]
)
async def test_a_signed_body_that_is_not_the_gateways_is_400_with_a_reason(
    app: Running, body: bytes, reason: str
) -> None:
    status, text = await post(app.base_url, body)
    assert status == 400 and reason.lower() in text.lower() and stored(app) == 0
