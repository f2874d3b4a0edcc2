"""Sending through the gateway's REST API, against a local server that follows it."""

from __future__ import annotations

import pytest

from connectors.base import PermanentSendError, TransientSendError
from connectors.sms.provider import AndroidSmsGateway, message_id
from connectors.sms.tests.gateway import PASSWORD, USERNAME, Answer, GatewayServer


async def sending(gateway: GatewayServer, password: str = PASSWORD) -> AndroidSmsGateway:
    provider = AndroidSmsGateway(gateway.url, USERNAME, password)
    await provider.start()
    return provider


async def test_a_text_goes_with_our_id_and_a_resend_is_the_same_message() -> None:
    async with GatewayServer() as gateway:
        provider = await sending(gateway)
        try:
            first = await provider.send("+6281234567890", "Nomor tiket: ULT-26-0001", "receipt:1")
            again = await provider.send("+6281234567890", "Nomor tiket: ULT-26-0001", "receipt:1")
        finally:
            await provider.stop()
    assert first == again == message_id("receipt:1")
    assert list(gateway.messages) == [first], "one message at the gateway"
    assert gateway.messages[first]["path"] == "/messages"


async def test_an_older_app_is_reached_at_its_legacy_path() -> None:
    async with GatewayServer(legacy_only=True) as gateway:
        provider = await sending(gateway)
        try:
            sent = await provider.send("+6281234567890", "Nomor tiket: ULT-26-0001", "receipt:2")
        finally:
            await provider.stop()
    assert gateway.messages[sent]["path"] == "/message"


@pytest.mark.parametrize(
    ("answer", "error", "down"),
    [
        (Answer(429, {"message": "too many requests"}, retry_after=30), TransientSendError, False),
        (Answer(503, {"message": "device offline"}), TransientSendError, False),
        (Answer(400, {"message": "invalid phone number"}), PermanentSendError, False),
    ],
)
async def test_refusals_are_transient_or_permanent(answer: Answer, error: type[Exception], down: bool) -> None:
    async with GatewayServer(scripted=[answer]) as gateway:
        provider = await sending(gateway)
        try:
            with pytest.raises(error) as raised:
                await provider.send("+6281234567890", "x", "receipt:3")
        finally:
            await provider.stop()
    if isinstance(raised.value, TransientSendError) and answer.retry_after:
        assert raised.value.retry_after == 30
    if isinstance(raised.value, PermanentSendError):
        assert raised.value.code == "400" and not raised.value.channel_down


async def test_wrong_credentials_turn_the_channel_red() -> None:
    async with GatewayServer() as gateway:
        provider = await sending(gateway, password="wrong")
        try:
            with pytest.raises(PermanentSendError) as raised:
                await provider.send("+6281234567890", "x", "receipt:4")
        finally:
            await provider.stop()
    assert raised.value.channel_down and raised.value.code == "401"


async def test_an_unreachable_gateway_is_transient() -> None:
    provider = AndroidSmsGateway("http://127.0.0.1:9", USERNAME, PASSWORD)
    await provider.start()
    try:
        with pytest.raises(TransientSendError, match="not reachable"):
            await provider.send("+6281234567890", "x", "receipt:5")
    finally:
        await provider.stop()
