"""The profile step end to end, on both backends, with Instagram against the local Graph API: a DM
from a new IGSID gets its receipt at once and its case the person's profile name once looked up,
asked once per person; a token without the permission leaves the case working on the IGSID, with
one failure kept on the profile row, never asked again, and nothing of the person logged."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from click.testing import CliRunner

from connectors._meta.graph_server import Fault, GraphServer, running
from connectors.instagram.tests.test_contract import SECTION
from connectors.instagram.tests.test_end_to_end import IGSID, dm, post, webhook
from tests.support import Running, SettingsFactory, eventually, running_pipeline
from workers import cli

LOOKUP = f"GET /v21.0/{IGSID}"


@pytest.fixture
async def graph() -> AsyncIterator[GraphServer]:
    server = GraphServer(
        token=SECTION["access_token"], profiles={IGSID: {"name": "Rina Wulandari", "username": "rina.w"}}
    )
    async with running(server):
        yield server


@pytest.fixture
def settings(backend_settings: SettingsFactory, graph: GraphServer) -> Any:
    return backend_settings(connectors={"instagram": {**SECTION, "graph_api_url": graph.base_url}})


def shown(pipeline: Running) -> str:
    """``satupintu cases show`` of the only case, as the officer reads it."""
    settings = pipeline.settings
    env = {
        "SATUPINTU_DATA_DIR": str(settings.data_dir),
        "SATUPINTU_DATABASE_URL": settings.database_url,
        "SATUPINTU_BROKER_URL": settings.broker_url,
    }
    tracking = pipeline.scalar("SELECT tracking_number FROM cases")
    result = CliRunner().invoke(cli, ["cases", "show", tracking], env=env, obj={})
    assert result.exit_code == 0, result.output
    return result.output


async def test_a_new_person_is_named_on_the_case_once_looked_up(settings: Any, graph: GraphServer) -> None:
    async with running_pipeline(settings) as pipeline:
        await post(pipeline, webhook(dm("mid.P1", "lampu jalan depan asrama mati", time.time())))
        await eventually(lambda: pipeline.scalar("SELECT reporter_name FROM cases") == "Rina Wulandari")
        assert pipeline.scalar("SELECT name FROM reporter") == "Rina Wulandari"
        assert pipeline.scalar("SELECT state FROM outbox WHERE purpose = 'receipt'") == "sent"
        assert f"Rina Wulandari  instagram:{IGSID}" in shown(pipeline)
        assert pipeline.scalar("SELECT count(*) FROM case_event WHERE action = 'reporter_named'") == 1

        await post(pipeline, webhook(dm("mid.P2", "sudah tiga hari", time.time())))
        await eventually(lambda: pipeline.scalar("SELECT count(*) FROM case_message WHERE direction = 'in'") == 2)
        later = pipeline.scalar("SELECT normalized FROM raw_message WHERE external_id = :id", id=f"{IGSID}:mid.P2")
        later = later if isinstance(later, dict) else json.loads(later)
        assert later["reporter"]["name"] == "Rina Wulandari"  # named from what was looked up, not asked again
        assert graph.calls.count(LOOKUP) == 1


async def test_without_permission_the_case_goes_on_with_the_igsid(
    settings: Any, graph: GraphServer, caplog: pytest.LogCaptureFixture
) -> None:
    graph.profile_refusal = Fault(400, 10, "(#10) Application does not have permission for this action")
    caplog.set_level(logging.INFO)
    async with running_pipeline(settings) as pipeline:
        await post(pipeline, webhook(dm("mid.Q1", "wifi perpustakaan putus-putus", time.time())))
        [failed] = await eventually(lambda: pipeline.rows("SELECT * FROM reporter_profile WHERE state = 'failed'"))
        assert "(#10)" in failed["error"] and failed["attempts"] == 1
        assert pipeline.scalar("SELECT state FROM outbox WHERE purpose = 'receipt'") == "sent"
        assert pipeline.scalar("SELECT reporter_name FROM cases") is None
        assert f"(no name)  instagram:{IGSID}" in shown(pipeline)

        await post(pipeline, webhook(dm("mid.Q2", "masih putus", time.time())))
        await eventually(lambda: pipeline.scalar("SELECT count(*) FROM case_message WHERE direction = 'in'") == 2)
        assert pipeline.scalar("SELECT count(*) FROM reporter_profile") == 1
        assert graph.calls.count(LOOKUP) == 1
    refused = [r for r in caplog.records if "profile lookup refused" in r.getMessage()]
    assert len(refused) == 1
    assert not [r for r in caplog.records if IGSID in f"{r.getMessage()} {r.__dict__}"]


async def test_an_outage_is_asked_again_at_most_max_attempts_times(
    backend_settings: SettingsFactory, graph: GraphServer
) -> None:
    graph.profile_refusal = Fault(503, 2, "Service temporarily unavailable")
    section = {**SECTION, "graph_api_url": graph.base_url}
    settings = backend_settings(connectors={"instagram": section}, pipeline={"max_attempts": 1})
    async with running_pipeline(settings) as pipeline:
        await post(pipeline, webhook(dm("mid.R1", "AC lab komputer bocor", time.time())))
        [failed] = await eventually(lambda: pipeline.rows("SELECT * FROM reporter_profile WHERE state = 'failed'"))
        assert failed["error"].startswith("gave up after 1 attempt: ") and "(code 2)" in failed["error"]
        assert pipeline.scalar("SELECT state FROM outbox WHERE purpose = 'receipt'") == "sent"
    assert graph.calls.count(LOOKUP) == 1
