"""/metrics tells an operator what each stage did and what is still waiting, in Prometheus format."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.support import SettingsFactory, eventually, free_port, make_settings, running_pipeline


def samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


TOKEN = "scrape-token-of-the-test"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


async def scrape(
    url: str, headers: dict[str, str] | None = None
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as response:
        assert response.status == 200
        assert response.content_type == "text/plain"
        return samples(await response.text())


def count(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], stage: str, outcome: str) -> float:
    return found.get(("satupintu_messages_total", (("outcome", outcome), ("stage", stage))), 0.0)


async def test_counts_each_stage_and_the_backlog(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "var", http={"metrics_token": TOKEN})
    reports = [
        {"email": "a@example.id", "text": "AC kelas rusak.", "client_reference": "a"},
        {"email": "a@example.id", "text": "AC kelas rusak.", "client_reference": "a"},  # a retry
        {"phone": "081234567890", "text": "Wifi asrama mati.", "client_reference": "b"},
    ]
    async with running_pipeline(settings) as app, aiohttp.ClientSession(app.base_url) as http:
        for report in reports:
            async with http.post("/api/v1/reports", json=report) as response:
                assert response.status == 202
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 2)

        async def settled() -> dict[tuple[str, tuple[tuple[str, str], ...]], float] | None:
            found = await scrape(f"{app.base_url}/metrics", BEARER)
            return found if count(found, "deliver", "sent") == 2 else None

        found = await eventually(settled)

    assert count(found, "ingest", "stored") == 2 and count(found, "ingest", "duplicate") == 1
    assert count(found, "normalizer", "normalized") == 2
    assert count(found, "triage", "triaged") == 2
    assert count(found, "triage", "dead") == 0
    backlog = {labels: value for (name, labels), value in found.items() if name == "satupintu_backlog"}
    assert set(backlog) == {
        (("record", "raw_message"), ("state", "received")),
        (("record", "raw_message"), ("state", "normalized")),
        (("record", "outbox"), ("state", "pending")),
        (("record", "outbox"), ("state", "sending")),
    }
    assert not any(backlog.values())
    assert found[("satupintu_batch_seconds_count", (("stage", "triage"),))] >= 1


async def test_a_worker_without_http_serves_probes_and_metrics_on_the_admin_port(tmp_path: Path) -> None:
    admin_port = free_port()
    settings = make_settings(tmp_path / "var", http={"admin_port": admin_port})
    async with running_pipeline(settings, components=("triage",)):
        base = f"http://{settings.http.host}:{admin_port}"

        async def answers() -> bool:
            try:
                async with aiohttp.ClientSession() as http, http.get(f"{base}/healthz") as response:
                    return response.status == 200
            except aiohttp.ClientConnectionError:
                return False

        await eventually(answers)
        found = await scrape(f"{base}/metrics")
        assert found[("satupintu_backlog", (("record", "raw_message"), ("state", "received")))] == 0
        async with aiohttp.ClientSession() as http, http.get(f"{base}/api/v1/reports/1-x") as response:
            assert response.status == 404, "a worker serves no webhook routes"


async def test_metrics_are_not_public_unless_a_token_is_set(tmp_path: Path) -> None:
    admin_port = free_port()
    settings = make_settings(tmp_path / "var", http={"admin_port": admin_port})
    async with running_pipeline(settings) as app, aiohttp.ClientSession() as http:
        async with http.get(f"{app.base_url}/metrics") as response:
            assert response.status == 404
            assert (await response.json())["error"]["status"] == 404
        found = await scrape(f"http://{settings.http.host}:{admin_port}/metrics")
        assert ("satupintu_backlog", (("record", "outbox"), ("state", "pending"))) in found


async def test_on_the_public_port_metrics_need_the_bearer_token(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "var", http={"metrics_token": TOKEN})
    async with running_pipeline(settings) as app, aiohttp.ClientSession() as http:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            async with http.get(f"{app.base_url}/metrics", headers=headers) as response:
                assert response.status == 401
                assert response.headers["WWW-Authenticate"] == "Bearer"
        assert await scrape(f"{app.base_url}/metrics", BEARER)


async def test_refused_requests_are_counted_by_channel_and_status_and_a_409_is_no_duplicate(
    backend_settings: SettingsFactory,
) -> None:
    settings = backend_settings(http={"metrics_token": TOKEN})
    first = {"email": "a@example.id", "text": "AC kelas rusak.", "client_reference": "a"}
    async with running_pipeline(settings) as app, aiohttp.ClientSession(app.base_url) as http:
        async with http.post("/api/v1/reports", json=first) as response:
            assert response.status == 202
        async with http.post("/api/v1/reports", json={**first, "text": "Laporan lain."}) as response:
            assert response.status == 409, "the key came with another report"
        async with http.post("/api/v1/reports", json={"text": ""}) as response:
            assert response.status == 422
        async with http.get("/no/such/page") as response:
            assert response.status == 404
        found = await scrape(f"{app.base_url}/metrics", BEARER)

    def rejected(channel: str, status: str) -> float:
        return found.get(("satupintu_http_rejected_total", (("channel", channel), ("status", status))), 0.0)

    assert rejected("webform", "409") == 1 and rejected("webform", "422") == 1
    assert rejected("none", "404") == 1
    assert count(found, "ingest", "stored") == 1
    assert count(found, "ingest", "duplicate") == 0
