"""Instagram's User Profile API against the local Graph server: the name and username of a person
who wrote to the account; refusals Meta keeps refusing (no permission, no consent, an unknown id)
are final, throttling, outages and a token to replace are asked again later."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from connectors._meta.graph_server import Fault, GraphServer, running
from connectors.base import ConnectorNotReady, ProfileUnavailable, ReporterProfile
from connectors.instagram import InstagramConnector
from connectors.instagram.tests.test_contract import SECTION

IGSID = "1254459154682919"


@pytest.fixture
async def graph() -> AsyncIterator[GraphServer]:
    server = GraphServer(
        token=SECTION["access_token"],
        profiles={
            IGSID: {"name": "Rina Wulandari", "username": "rina.w", "profile_pic": "https://cdn.example/p.jpg"},
            "17841400000000009": {"name": None, "username": "anon.ymous"},
        },
    )
    async with running(server):
        yield server


@pytest.fixture
async def instagram(graph: GraphServer) -> AsyncIterator[InstagramConnector]:
    made = InstagramConnector.from_section({**SECTION, "graph_api_url": graph.base_url})
    await made.start()
    yield made
    await made.stop()


async def test_name_and_username_of_a_person_who_wrote(instagram: InstagramConnector, graph: GraphServer) -> None:
    assert await instagram.fetch_profile(IGSID) == ReporterProfile(name="Rina Wulandari", handle="rina.w")
    assert graph.calls == [f"GET /v21.0/{IGSID}"]


async def test_a_person_without_a_name_is_known_by_the_username(instagram: InstagramConnector) -> None:
    assert await instagram.fetch_profile("17841400000000009") == ReporterProfile(name=None, handle="anon.ymous")


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (400, 10, "(#10) Application does not have permission for this action"),
        (400, 230, "User consent is required to access user profile"),
    ],
)
async def test_refusals_that_stay_refusals_are_final(
    instagram: InstagramConnector, graph: GraphServer, status: int, code: int, message: str
) -> None:
    graph.profile_refusal = Fault(status, code, message)
    with pytest.raises(ProfileUnavailable, match=f"code {code}"):
        await instagram.fetch_profile(IGSID)


async def test_an_unknown_id_is_final(instagram: InstagramConnector) -> None:
    with pytest.raises(ProfileUnavailable, match="code 100"):
        await instagram.fetch_profile("17841400000000077")


@pytest.mark.parametrize(
    ("status", "code", "message", "retry_after"),
    [
        (503, 2, "Service temporarily unavailable", None),
        (429, 4, "Application request limit reached", "30"),
        (401, 190, "Error validating access token: Session has expired", None),
    ],
)
async def test_outages_throttling_and_an_expired_token_are_asked_again(
    instagram: InstagramConnector, graph: GraphServer, status: int, code: int, message: str, retry_after: str | None
) -> None:
    graph.profile_refusal = Fault(status, code, message, retry_after)
    with pytest.raises(ConnectorNotReady) as raised:
        await instagram.fetch_profile(IGSID)
    assert raised.value.retry_after == (30.0 if retry_after else None)
