"""/metrics tells an operator what each stage did and what is still waiting, in Prometheus format."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.support import eventually, free_port, make_settings, running_pipeline


def samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


async def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200
        assert response.content_type == "text/plain"
        return samples(await response.text())


def count(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], stage: str, outcome: str) -> float:
    return found.get(("satupintu_messages_total", (("outcome", outcome), ("stage", stage))), 0.0)


async def test_counts_each_stage_and_the_backlog(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "var")
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
            found = await scrape(f"{app.base_url}/metrics")
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
