"""The seam for LAPOR!'s API, against a local server speaking the shapes the client documents:
nothing is called while ``api_url`` is empty; once set, the unit's replies are posted there."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from connectors.base import ConnectorAuthFailed, OutboundMessage, PermanentSendError, Recipient, TransientSendError
from connectors.lapor import LaporConnector
from connectors.lapor.client import HttpLaporClient
from tests.desk import run_cli
from tests.support import SettingsFactory, eventually, running_pipeline

TOKEN = "token-of-the-agency"
DISPOSED = [
    {
        "tracking_id": "4600100",
        "tanggal_disposisi": "2026-11-27 09:00",
        "judul": "Beasiswa belum cair",
        "isi": "Dana beasiswa semester ini belum masuk rekening, padahal jadwalnya minggu lalu.",
        "status": "Didisposisikan",
        "disposisi": "Institut Teknologi Kalimantan",
        "nama_pelapor": "Sari",
        "rahasia": False,
    },
    {"tracking_id": "4600101", "judul": "Tanpa isi"},
]
EXPORT = Path(__file__).resolve().parents[1] / "fixtures" / "report__dashboard-export.csv"


class Platform:
    """What LAPOR! was asked; ``down``: it answers 503."""

    def __init__(self) -> None:
        self.posted: list[tuple[str, dict[str, Any]]] = []
        self.down = False

    def app(self) -> web.Application:
        app = web.Application()
        app.add_routes(
            [
                web.get("/api/laporan/disposisi", self.dispositions),
                web.post("/api/laporan/{tracking_id}/tindak-lanjut", self.follow_up),
                web.post("/api/laporan/{tracking_id}/status", self.status),
            ]
        )
        return app

    def _check(self, request: web.Request) -> None:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            raise web.HTTPUnauthorized()
        if self.down:
            raise web.HTTPServiceUnavailable()

    async def dispositions(self, request: web.Request) -> web.Response:
        self._check(request)
        return web.json_response({"data": DISPOSED})

    async def follow_up(self, request: web.Request) -> web.Response:
        self._check(request)
        self.posted.append((request.match_info["tracking_id"], await request.json()))
        return web.json_response({"id": f"tl-{len(self.posted)}"})

    async def status(self, request: web.Request) -> web.Response:
        self._check(request)
        self.posted.append((request.match_info["tracking_id"], await request.json()))
        return web.json_response({})


@pytest.fixture
async def platform() -> AsyncIterator[tuple[Platform, str]]:
    found = Platform()
    server = TestServer(found.app())
    await server.start_server()
    try:
        yield found, str(server.make_url("/api"))
    finally:
        await server.close()


def reply(purpose: str = "reply") -> OutboundMessage:
    return OutboundMessage(
        outbox_id=7,
        case_id=1,
        channel="lapor",
        purpose=purpose,
        idempotency_key="reply:1:x",
        recipient=Recipient(conversation_key="lapor:4512873"),
        subject="",
        text="Sudah kami tindak lanjuti.",
    )


async def test_without_api_url_there_is_no_client_and_a_reply_is_parked_for_the_admin() -> None:
    connector = LaporConnector.from_section({})
    assert connector.client() is None
    with pytest.raises(PermanentSendError) as refused:
        await connector.send(reply())
    assert refused.value.code == "manual" and "by hand" in str(refused.value)


async def test_the_client_pulls_dispositions_and_posts_follow_ups_and_statuses(platform: tuple[Platform, str]) -> None:
    found, url = platform
    connector = LaporConnector.from_section({"api_url": url, "api_token": TOKEN})
    client = connector.client()
    assert isinstance(client, HttpLaporClient)
    try:
        disposed = await client.dispositions(None)
        assert [d.tracking_id for d in disposed] == ["4600100", "4600101"]
    finally:
        await client.close()
    sent = await connector.send(reply("report"))
    assert sent.provider_message_id == "tl-1"
    assert found.posted == [("4512873", {"isi": "Sudah kami tindak lanjuti."}), ("4512873", {"status": "selesai"})]


async def test_a_refused_token_and_an_outage_are_told_apart(platform: tuple[Platform, str]) -> None:
    found, url = platform
    wrong = LaporConnector.from_section({"api_url": url, "api_token": "wrong"})
    with pytest.raises(PermanentSendError) as refused:
        await wrong.send(reply())
    assert refused.value.channel_down
    client = wrong.client()
    assert client is not None
    with pytest.raises(ConnectorAuthFailed):
        await client.dispositions(None)
    await client.close()
    found.down = True
    with pytest.raises(TransientSendError):
        await LaporConnector.from_section({"api_url": url, "api_token": TOKEN}).send(reply())


async def test_with_api_access_an_officers_reply_is_posted_on_lapor(
    backend_settings: SettingsFactory, platform: tuple[Platform, str]
) -> None:
    found, url = platform
    settings = backend_settings(connectors={"lapor": {"enabled": True, "api_url": url, "api_token": TOKEN}})
    async with running_pipeline(settings) as app:
        assert (await run_cli(settings, "import", "lapor", str(EXPORT))).exit_code == 0
        await eventually(lambda: app.scalar("SELECT count(*) FROM cases") == 3)
        tracking = app.scalar("SELECT tracking_number FROM cases WHERE external_ref = '4512873'")
        answered = await run_cli(settings, "cases", "reply", tracking, "--text", "Sedang kami klarifikasi.")
        assert answered.exit_code == 0, answered.output
        await eventually(lambda: app.scalar("SELECT state FROM outbox WHERE channel = 'lapor'") == "sent")
        assert found.posted[0][0] == "4512873" and "Sedang kami klarifikasi." in found.posted[0][1]["isi"]
        listed = await run_cli(settings, "lapor", "follow-ups", "--since", "2026-01-01", "--format", "json")
        assert '"state": "sent by the API"' in listed.stdout


async def test_pull_stores_the_disposed_reports_as_the_export_would(
    backend_settings: SettingsFactory, platform: tuple[Platform, str]
) -> None:
    _, url = platform
    settings = backend_settings(connectors={"lapor": {"enabled": True, "api_url": url, "api_token": TOKEN}})
    async with running_pipeline(settings) as app:
        pulled = await run_cli(settings, "lapor", "pull")
        assert pulled.exit_code == 1, pulled.output
        assert "report 2: isi laporan kosong" in pulled.stdout
        assert "SP4N-LAPOR!: 1 new, 0 already imported, 1 rejected" in pulled.stdout
        await eventually(lambda: app.scalar("SELECT count(*) FROM cases WHERE external_ref = '4600100'") == 1)
        [case] = app.rows("SELECT * FROM cases WHERE external_ref = '4600100'")
        assert case["reporter_name"] == "Sari" and case["subject"] == "Beasiswa belum cair"
        again = await run_cli(settings, "lapor", "pull")
        assert "SP4N-LAPOR!: 0 new, 1 already imported, 1 rejected" in again.stdout


async def test_pull_refuses_without_api_access(backend_settings: SettingsFactory) -> None:
    settings = backend_settings(connectors={"lapor": {"enabled": True}})
    result = await run_cli(settings, "lapor", "pull")
    assert result.exit_code == 2
    assert "connectors.lapor.api_url and connectors.lapor.api_token not set" in result.stderr
    no_token = backend_settings(connectors={"lapor": {"enabled": True, "api_url": "https://api.lapor.example"}})
    result = await run_cli(no_token, "lapor", "pull")
    assert result.exit_code == 2 and "connectors.lapor.api_token not set" in result.stderr
    assert "api_url" not in result.stderr, "only what is missing is named"
    off = await run_cli(backend_settings(), "lapor", "pull")
    assert off.exit_code == 2 and "set [connectors.lapor] enabled = true" in off.stderr
