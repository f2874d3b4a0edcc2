"""The command line: help everywhere, and the terminal view of cases."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aiohttp
import click
import pytest
from click.testing import CliRunner

from config.settings import load_settings
from pipeline.app import COMPONENTS
from pipeline.delivery import SEND_HEALTH_KEY
from pipeline.pull import HEALTH_PREFIX, PullHealth, lease_name
from storage import leases
from storage.db import create_db_engine, transaction, utcnow
from storage.state import state_set
from tests.support import eventually, make_settings, running_pipeline
from workers import cli


def every_command(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += every_command(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("command", every_command(cli), ids=lambda c: " ".join(c) or "satupintu")
def test_every_command_has_help(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"], obj={})
    assert result.exit_code == 0
    assert "Usage:" in result.output


async def test_cases_list_and_show(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "var")
    env = {"SATUPINTU_DATA_DIR": str(settings.data_dir)}
    reports = [
        {"email": "a@example.id", "text": "Saran: perpanjang jam buka perpustakaan sampai malam."},
        {"phone": "081234567890", "text": "Dosen pembimbing saya melakukan pelecehan, tolong dirahasiakan."},
    ]
    async with running_pipeline(settings) as app:
        async with aiohttp.ClientSession(app.base_url) as http:
            for report in reports:
                async with http.post("/api/v1/reports", json=report) as response:
                    assert response.status == 202
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 2)

    runner = CliRunner()
    listed = runner.invoke(cli, ["cases", "list", "--format", "json"], env=env, obj={})
    assert listed.exit_code == 0, listed.output
    cases = json.loads(listed.stdout)
    assert len(cases) == 2
    confidential = next(c for c in cases if c["confidential"])
    assert confidential["unit"] == "ppkpt" and confidential["priority"] == "high"

    table = runner.invoke(cli, ["cases", "list"], env=env, obj={})
    assert "[rahasia]" in table.output and "pelecehan" not in table.output

    shown = runner.invoke(cli, ["cases", "show", confidential["tracking_number"].lower()], env=env, obj={})
    assert shown.exit_code == 0, shown.output
    assert "pelecehan" in shown.output and "receipt_sent" in shown.output

    as_json = runner.invoke(cli, ["cases", "show", str(confidential["id"]), "--format", "json"], env=env, obj={})
    detail = json.loads(as_json.stdout)
    assert [e["action"] for e in detail["events"]] == ["created", "receipt_sent"]
    assert len(detail["outbox"]) == 1

    missing = runner.invoke(cli, ["cases", "show", "ULT-26-99999-6"], env=env, obj={})
    assert missing.exit_code == 1 and "no such case" in missing.output

    status = runner.invoke(cli, ["status", "--format", "json"], env=env, obj={})
    assert json.loads(status.stdout)["raw_message"] == {"triaged": 2}


def test_connectors_list() -> None:
    result = CliRunner().invoke(cli, ["connectors", "list", "--format", "json"], obj={})
    assert result.exit_code == 0
    [webform] = [c for c in json.loads(result.stdout) if c["name"] == "webform"]
    assert webform["enabled"] and webform["roles"] == ["send", "webhook"]
    table = CliRunner().invoke(cli, ["connectors", "list"], obj={}).output
    assert re.search(r"^webform +enabled +send\+webhook +Web form", table, re.MULTILINE), table


@pytest.mark.parametrize("component", COMPONENTS)
def test_every_component_is_a_worker_and_refuses_the_in_process_queue(component: str) -> None:
    result = CliRunner().invoke(cli, ["worker", component], obj={})
    assert result.exit_code == 2 and "memory://" in result.output


def test_an_unknown_worker_lists_the_components() -> None:
    result = CliRunner().invoke(cli, ["worker", "normaliser"], obj={})
    assert result.exit_code == 2
    assert "'normaliser' is not one of" in result.output and "'media'" in result.output


@pytest.mark.parametrize(("value", "enabled"), [("false", False), ("no", False), ("0", False), ("true", True)])
def test_connectors_list_reads_enabled_through_the_config_model(value: str, enabled: bool) -> None:
    env = {"SATUPINTU_CONNECTORS__WEBFORM__ENABLED": value}
    result = CliRunner().invoke(cli, ["connectors", "list", "--format", "json"], env=env, obj={})
    assert result.exit_code == 0, result.output
    [webform] = [c for c in json.loads(result.stdout) if c["name"] == "webform"]
    assert webform["enabled"] is enabled and webform["error"] is None
    table = CliRunner().invoke(cli, ["connectors", "list"], env=env, obj={})
    assert f"webform        {'enabled' if enabled else 'disabled'} " in table.output


def test_connectors_list_shows_a_bad_section_instead_of_crashing() -> None:
    env = {"SATUPINTU_CONNECTORS__WEBFORM__ENABLED": "kadang", "SATUPINTU_CONNECTORS__WEBFROM__ENABLED": "true"}
    result = CliRunner().invoke(cli, ["connectors", "list"], env=env, obj={})
    assert result.exit_code == 0, result.output
    assert re.search(r"webform +error .*connectors\.webform\.enabled: Input should be a valid boolean", result.output)
    assert re.search(r"webfrom +error .*connectors\.webfrom: no such connector", result.output)


def test_status_says_empty_on_an_empty_database(tmp_path: Path) -> None:
    env = {"SATUPINTU_DATA_DIR": str(tmp_path)}
    assert CliRunner().invoke(cli, ["db", "upgrade"], env=env, obj={}).exit_code == 0
    result = CliRunner().invoke(cli, ["status"], env=env, obj={})
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["raw_message: empty", "outbox: empty"]


async def test_cases_list_from_another_directory_reads_the_same_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative data_dir in a config file is the file's own: no second, empty database appears
    because the command ran from somewhere else."""
    config = tmp_path / "etc" / "satupintu.toml"
    config.parent.mkdir()
    config.write_text('data_dir = "data"\n')
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()

    monkeypatch.chdir(first)
    settings = make_settings(load_settings(config).data_dir)
    async with running_pipeline(settings) as app:
        async with aiohttp.ClientSession(app.base_url) as http:
            report = {"email": "a@example.id", "text": "Proyektor ruang B201 mati."}
            async with http.post("/api/v1/reports", json=report) as response:
                assert response.status == 202
        await eventually(lambda: app.scalar("SELECT count(*) FROM cases") == 1)

    for directory in (first, second):
        monkeypatch.chdir(directory)
        result = CliRunner().invoke(cli, ["--config", str(config), "cases", "list", "--format", "json"], obj={})
        assert result.exit_code == 0, result.output
        assert [c["subject"] for c in json.loads(result.stdout)] == ["Proyektor ruang B201 mati."]
    assert not (second / "data").exists()


def test_status_shows_each_channels_pull_and_send_health(tmp_path: Path) -> None:
    env = {"SATUPINTU_DATA_DIR": str(tmp_path)}
    assert CliRunner().invoke(cli, ["db", "upgrade"], env=env, obj={}).exit_code == 0
    engine = create_db_engine(make_settings(tmp_path).database_url)
    now = utcnow()
    refused = PullHealth(
        channel="email",
        source="INBOX",
        state="auth_failed",
        reported_by="host-a:12",
        last_error="ConnectorAuthFailed: 535",
        last_error_at=now,
        failures=3,
        updated_at=now,
    )
    try:
        with transaction(engine) as connection:  # as a pull loop and a deliver worker write them
            state_set(connection, "email", f"{HEALTH_PREFIX}INBOX", refused.to_json())
            leases.acquire(connection, lease_name("email", "INBOX"), "host-a:12", 30)
            down = {"state": "down", "reason": "permanent (401): token expired", "at": now.isoformat()}
            state_set(connection, "telegram", SEND_HEALTH_KEY, json.dumps(down))
    finally:
        engine.dispose()

    table = CliRunner().invoke(cli, ["status"], env=env, obj={})
    assert table.exit_code == 0, table.output
    pull, send = table.output.splitlines()[2:]
    assert pull.startswith("pull email/INBOX: auth_failed, run by host-a:12, last success -, 3 failures, last ")
    assert pull.endswith("WITA: ConnectorAuthFailed: 535")
    assert re.fullmatch(r"send telegram: down since \S+ \S+ WITA: permanent \(401\): token expired", send), send

    data = json.loads(CliRunner().invoke(cli, ["status", "--format", "json"], env=env, obj={}).stdout)
    assert data["pull"][0] | {"last_error_at": None, "updated_at": None} == {
        "channel": "email",
        "source": "INBOX",
        "state": "auth_failed",
        "reported_by": "host-a:12",
        "holder": "host-a:12",
        "last_success_at": None,
        "behind": None,
        "last_error": "ConnectorAuthFailed: 535",
        "last_error_at": None,
        "failures": 3,
        "updated_at": None,
    }
    assert data["send"] == [{"channel": "telegram", **down, "at": data["send"][0]["at"]}]
