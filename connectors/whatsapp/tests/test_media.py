"""Media by id against a local Graph API: id → URL → bytes with the token, and each way it fails
mapped to what the framework's media step does (retry later, or record it as lost)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from connectors._meta.graph_server import GraphServer, connected
from connectors.base import ConnectorNotReady, MediaRef, MediaTooLarge, MediaUnavailable
from connectors.whatsapp import WhatsappConnector
from connectors.whatsapp.tests.test_contract import SECTION

PHOTO = b"\xff\xd8\xff\xe0" + b"jpeg bytes of the receipt" * 100


@pytest.fixture
async def graph() -> AsyncIterator[tuple[GraphServer, WhatsappConnector]]:
    server = GraphServer(token=SECTION["access_token"], media={"1789012345678902": (PHOTO, "image/jpeg")})
    async with connected(server, WhatsappConnector, SECTION) as connector:
        yield server, connector


async def test_media_id_to_url_to_bytes(graph: Any) -> None:
    server, connector = graph
    fetched = await connector.fetch_media(MediaRef(media_id="1789012345678902", kind="image"), 10_000_000)
    assert fetched.data == PHOTO and fetched.content_type == "image/jpeg"
    assert server.calls == ["GET /v21.0/1789012345678902", "GET /media/1789012345678902"]


async def test_an_expired_media_id_is_lost_for_good(graph: Any) -> None:
    _, connector = graph
    with pytest.raises(MediaUnavailable, match="does not exist"):
        await connector.fetch_media(MediaRef(media_id="1789000000000000", kind="image"), 10_000_000)


async def test_a_server_error_is_tried_again(graph: Any) -> None:
    server, connector = graph
    server.fail_media(500, 2, "Service temporarily unavailable")
    with pytest.raises(ConnectorNotReady):
        await connector.fetch_media(MediaRef(media_id="1789012345678902", kind="image"), 10_000_000)
    assert (await connector.fetch_media(MediaRef(media_id="1789012345678902"), 10_000_000)).data == PHOTO


async def test_an_item_over_the_limit_is_not_downloaded(graph: Any) -> None:
    server, connector = graph
    with pytest.raises(MediaTooLarge):
        await connector.fetch_media(MediaRef(media_id="1789012345678902"), 100)
    assert "GET /media/1789012345678902" not in server.calls  # file_size said so first


async def test_an_expired_token_is_retried_not_lost(graph: Any) -> None:
    """Media ids live 7 days: an admin who replaces the token in time still gets the photo."""
    server, connector = graph
    server.expire_token()
    with pytest.raises(ConnectorNotReady, match="190"):
        await connector.fetch_media(MediaRef(media_id="1789012345678902"), 10_000_000)
