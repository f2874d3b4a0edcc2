"""The framework's webhook handling, beyond the contract: every way a request can be wrong is a
4xx with a reason and leaves no row; a verified batch is stored whole before the answer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors.base import HmacSignature, SecretHeader, WebhookEndpoint
from connectors.contract import Framework, sign
from tests.connectors.examples.example_sms import ExampleSms, split

PATH = "/webhooks/example_sms"
KEY = b"k3y-of-the-gateway"
FIXTURES = Path(__file__).parent / "examples" / "example_sms" / "fixtures"
BATCH = (FIXTURES / "sms.received__batch.json").read_bytes()


def connector(**section: Any) -> ExampleSms:
    return ExampleSms.from_section({"signing_key": KEY.decode(), **section})


def signed(body: bytes, stamp: str | None = None) -> dict[str, str]:
    stamp = stamp or str(int(time.time()))
    digest = hmac.new(KEY, body + stamp.encode(), hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Signature": digest, "X-Timestamp": stamp}


@pytest.fixture(params=["sqlite", "postgresql"])
async def framework(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Framework]:
    """The framework on each database: what PostgreSQL refuses (a NUL) must be a 400 before it."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    async with Framework.running(connector(), tmp_path, database_url=url) as running:
        yield running


async def post(framework: Framework, body: bytes | Any, headers: dict[str, str], path: str = PATH) -> tuple[int, Any]:
    async with framework.client.post(path, data=body, headers=headers) as response:
        return response.status, await response.json()


async def test_a_verified_batch_is_stored_whole_and_then_answered(framework: Framework) -> None:
    status, answer = await post(framework, BATCH, signed(BATCH))
    assert (status, answer) == (200, {"messages": 3})
    assert {row.message.external_id for row in framework.stored()} == {
        "ev-20261123-0002",
        "ev-20261123-0003",
        "ev-20261123-0004",
    }


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        ("é" * 64, "malformed"),  # non-ASCII: a 403, never a 500
        ("zz" * 32, "not hex"),
        ("abc", "not hex"),  # odd length
        ("00" * 32, "does not match"),
    ],
)
async def test_a_bad_signature_is_403_with_a_reason_and_stores_nothing(
    framework: Framework, signature: str, reason: str
) -> None:
    headers = {**signed(BATCH), "X-Signature": signature}
    status, answer = await post(framework, BATCH, headers)
    assert status == 403
    assert reason in answer["error"]["reason"] and answer["error"]["status"] == 403
    assert framework.count() == 0


async def test_the_signature_covers_the_timestamp_and_an_old_one_is_a_replay(framework: Framework) -> None:
    headers = signed(BATCH)
    moved = {**headers, "X-Timestamp": str(int(headers["X-Timestamp"]) + 1)}
    assert (await post(framework, BATCH, moved))[0] == 403
    old = str(int(time.time()) - 3600)
    status, answer = await post(framework, BATCH, signed(BATCH, old))
    assert status == 403 and "from now" in answer["error"]["reason"]
    for bad in ("nan", "inf", "soon"):
        assert (await post(framework, BATCH, signed(BATCH, bad)))[0] == 403
    no_stamp = {k: v for k, v in headers.items() if k != "X-Timestamp"}
    assert (await post(framework, BATCH, no_stamp))[0] == 401
    assert framework.count() == 0


async def test_a_signed_body_that_is_not_the_channels_shape_is_400_and_stores_nothing(framework: Framework) -> None:
    for body in (b"{not json", b'{"events": []}', b'{"events": [{"id": 7}]}', "é".encode("latin-1")):
        status, answer = await post(framework, body, signed(body))
        assert status == 400, body
        assert answer["error"]["reason"].startswith("not a example_sms webhook body")
    bad_id = orjson.dumps({"events": [{"id": "x" * 600, "event": "sms.received", "payload": {}}]})
    assert (await post(framework, bad_id, signed(bad_id)))[0] == 400
    nul = orjson.dumps({"events": [{"id": "a\x00b", "event": "sms.received", "payload": {}}]})
    assert (await post(framework, nul, signed(nul)))[0] == 400
    assert framework.count() == 0


async def test_other_content_types_are_415(framework: Framework) -> None:
    status, answer = await post(framework, BATCH, {**signed(BATCH), "Content-Type": "text/plain"})
    assert status == 415 and "application/json" in answer["error"]["reason"]


async def test_a_body_over_the_endpoints_limit_is_413_whether_or_not_it_says_its_length(framework: Framework) -> None:
    body = b'{"events": [' + b" " * (300 * 1024) + b"]}"
    status, answer = await post(framework, body, signed(body))
    assert status == 413 and "262144" in answer["error"]["reason"]

    async def chunks() -> AsyncIterator[bytes]:  # chunked: no Content-Length to trust
        for _ in range(300):
            yield b" " * 1024

    status, _ = await post(framework, chunks(), signed(body))
    assert status == 413
    assert framework.count() == 0


class SecretAndBase64(ExampleSms):
    """Two more ways of signing: Telegram's secret header, and a base64 HMAC with a prefix."""

    def webhooks(self) -> Sequence[WebhookEndpoint]:
        return [
            WebhookEndpoint(
                path="/hook/token", verify=SecretHeader("X-Telegram-Bot-Api-Secret-Token", KEY), split=split
            ),
            WebhookEndpoint(
                path="/hook/b64",
                verify=HmacSignature("X-Hub-Signature-256", KEY, prefix="sha256=", encoding="base64"),
                split=split,
            ),
        ]


async def test_a_secret_header_and_a_base64_hmac(tmp_path: Path) -> None:
    hooks = SecretAndBase64.from_section({"signing_key": KEY.decode()})
    async with Framework.running(hooks, tmp_path) as framework:
        [token, b64] = hooks.webhooks()
        json = {"Content-Type": "application/json"}
        assert (await post(framework, BATCH, json, "/hook/token"))[0] == 401
        assert (await post(framework, BATCH, {**json, token.verify.header: "wrong"}, "/hook/token"))[0] == 403  # type: ignore[union-attr]
        assert (await post(framework, BATCH, {**json, token.verify.header: "kunci-ü"}, "/hook/token"))[0] == 403  # type: ignore[union-attr]
        assert framework.count() == 0
        assert (await post(framework, BATCH, {**json, **sign(token.verify, BATCH)}, "/hook/token"))[0] == 200

        good = sign(b64.verify, BATCH)
        assert good["X-Hub-Signature-256"].startswith("sha256=")
        digest = base64.b64decode(good["X-Hub-Signature-256"].removeprefix("sha256="))
        assert digest == hmac.new(KEY, BATCH, hashlib.sha256).digest()
        assert (await post(framework, BATCH, {**json, "X-Hub-Signature-256": "sha256=!!!"}, "/hook/b64"))[0] == 403
        assert (await post(framework, BATCH, {**json, "X-Hub-Signature-256": digest.hex()}, "/hook/b64"))[0] == 403
        assert (await post(framework, BATCH, {**json, **good}, "/hook/b64"))[0] == 200
        assert framework.count() == 3  # the same batch, twice accepted, stored once


async def test_the_handshake_needs_every_parameter(tmp_path: Path) -> None:
    async with Framework.running(connector(verify_token="meta-style-token"), tmp_path) as framework:
        asked = {"hub.mode": "subscribe", "hub.verify_token": "meta-style-token", "hub.challenge": "42"}
        async with framework.client.get(PATH, params=asked) as response:
            assert response.status == 200 and response.content_type == "text/plain"
        for missing in asked:
            async with framework.client.get(PATH, params={k: v for k, v in asked.items() if k != missing}) as response:
                assert response.status == 400, missing
        async with framework.client.get(PATH, params={**asked, "hub.mode": "unsubscribe"}) as response:
            assert response.status == 400
    async with (
        Framework.running(connector(), tmp_path / "none") as framework,
        framework.client.get(PATH, params=asked) as response,
    ):
        assert response.status == 405, "no handshake declared, no GET"
