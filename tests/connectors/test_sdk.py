"""The connector SDK: discovery (folders and entry points), role checks, config errors and secret
files, and a connector from another package pulled or imported all the way to its receipt."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from config.settings import effective_config, load_settings
from connectors.base import (
    Connector,
    ConnectorConfigError,
    ConnectorContext,
    ConnectorSpec,
    Outbound,
    OutboundMessage,
    RawMessage,
    SendResult,
    WebhookInbound,
)
from connectors.registry import discover, load_enabled
from tests.connectors.examples import EXAMPLES
from tests.support import REPO, eventually, installed_connectors, make_settings, running_pipeline
from workers import cli

SAMPLE_PACKAGE = Path(__file__).with_name("sample_package")


@pytest.fixture
def sample_entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The sample package installed the way pip would: its code on sys.path, its entry points in
    a dist-info."""
    monkeypatch.syspath_prepend(str(SAMPLE_PACKAGE))
    entry_points = {"sample_poll": "satupintu_sample:SamplePoll", "sample_import": "satupintu_sample:SampleImport"}
    with installed_connectors(tmp_path / "site", "satupintu-sample", entry_points):
        yield


def test_built_in_folders_are_found() -> None:
    assert "webform" in discover()


def test_other_packages_are_found_through_entry_points(sample_entry_points: None) -> None:
    found = discover()
    assert {"webform", "sample_poll", "sample_import"} <= set(found)
    assert found["sample_poll"].spec.inbound == "pull"
    assert found["sample_import"].spec.roles == {"import", "send"}


def test_a_misspelt_connector_stops_start_up_with_a_suggestion() -> None:
    with pytest.raises(ConnectorConfigError, match=r"connectors\.webfrom: no such connector\. Did you mean 'webform'"):
        load_enabled({"webfrom": {}}, ConnectorContext())


def test_a_missing_setting_is_named(sample_entry_points: None) -> None:
    with pytest.raises(ConnectorConfigError, match=r"connectors\.sample_poll\.folder: Field required"):
        load_enabled({"sample_poll": {"enabled": True}}, ConnectorContext())


def test_disabled_connectors_are_not_loaded() -> None:
    assert load_enabled({"webform": {"enabled": False}}, ConnectorContext()) == {}


class _Hook(Connector[Any], WebhookInbound):
    def parse(self, raw_id: int, raw: RawMessage) -> None:
        return None


def _spec(*roles: str) -> ConnectorSpec:
    return ConnectorSpec(name="hook", display_name="Hook", roles=frozenset(roles), event_types=frozenset())  # type: ignore[arg-type]


class DeclaresSend(_Hook):
    spec = _spec("webhook", "send")


class SendsUndeclared(_Hook, Outbound):
    spec = _spec("webhook")

    async def send(self, message: OutboundMessage) -> SendResult:
        return SendResult("x")


class SendMissing(_Hook, Outbound):
    spec = _spec("webhook", "send")


class UnknownRole(_Hook):
    spec = _spec("webhook", "telepathy")


@pytest.mark.parametrize(
    ("connector", "problem"),
    [
        (DeclaresSend, r"declares roles it does not implement: send \(Outbound\)"),
        (SendsUndeclared, r"implements roles it does not declare: \['send'\]"),
        (SendMissing, "does not implement send"),
        (UnknownRole, r"unknown roles \['telepathy'\]"),
    ],
)
def test_declared_roles_must_be_what_the_class_does(connector: type[Connector[Any]], problem: str) -> None:
    with pytest.raises(ConnectorConfigError, match=rf"connectors\.hook: {problem}"):
        load_enabled({"hook": {}}, ConnectorContext(), available={"hook": connector})


def test_a_secret_comes_from_the_file_named_in_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = tmp_path / "signing_key"
    key.write_text("k3y-from-a-file\n")
    monkeypatch.setenv("SATUPINTU_CONNECTORS__EXAMPLE_SMS__SIGNING_KEY_FILE", str(key))
    settings = load_settings(data_dir=tmp_path)
    available = {**discover(), **EXAMPLES}
    connectors = load_enabled(settings.connectors, ConnectorContext(), available=available)
    assert connectors["example_sms"].config.signing_key.get_secret_value() == "k3y-from-a-file"

    shown = effective_config(settings)["connectors"]["example_sms"]
    assert shown == {"signing_key_file": "**********"}, "config show names no secret and no secret's file"

    key.unlink()
    with pytest.raises(ConnectorConfigError, match=r"connectors\.example_sms\.signing_key_file: cannot read"):
        load_enabled(settings.connectors, ConnectorContext(), available=available)
    with pytest.raises(ConnectorConfigError, match="give signing_key or signing_key_file, not both"):
        load_enabled(
            {"example_sms": {"signing_key": "k", "signing_key_file": str(key)}}, ConnectorContext(), available=EXAMPLES
        )


async def test_a_pull_connector_from_another_package_gets_its_receipts(
    sample_entry_points: None, tmp_path: Path
) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    for number in range(3):
        (folder / f"{number:03d}.json").write_text(
            json.dumps({"phone": f"08123456789{number}", "text": f"catatan {number}"})
        )
    settings = make_settings(tmp_path / "var", connectors={"sample_poll": {"folder": str(folder)}})
    async with running_pipeline(settings) as app:
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 3)
        assert app.scalar("SELECT count(*) FROM raw_message WHERE channel = 'sample_poll'") == 3


async def test_import_twice_adds_nothing_the_second_time(sample_entry_points: None, tmp_path: Path) -> None:
    sheet = tmp_path / "panggilan-2026-11.csv"
    sheet.write_text(
        "id,phone,text\n1,0812-1111-2222,Menanyakan jadwal wisuda\n2,0813 3333 4444,AC kelas rusak\n3,,Tanpa nomor\n"
    )
    settings = make_settings(tmp_path / "var", connectors={"webform": {"enabled": True}, "sample_import": {}})
    env = {
        "SATUPINTU_DATA_DIR": str(settings.data_dir),
        "SATUPINTU_CONNECTORS__SAMPLE_IMPORT__ENABLED": "true",
        "SATUPINTU_PIPELINE__QUEUE_PREFIX": settings.pipeline.queue_prefix,
    }
    runner = CliRunner()
    first = runner.invoke(cli, ["import", "sample_import", str(sheet)], env=env, obj={})
    assert first.exit_code == 1, "a row was rejected"
    assert "line 4, column phone: no phone number" in first.output
    assert "2 accepted, 0 already imported, 1 rejected" in first.output
    second = runner.invoke(cli, ["import", "sample_import", str(sheet)], env=env, obj={})
    assert "0 accepted, 2 already imported, 1 rejected" in second.output

    wrong = runner.invoke(cli, ["import", "webform", str(sheet)], env=env, obj={})
    assert wrong.exit_code != 0 and "not an enabled importing connector" in wrong.output

    async with running_pipeline(settings) as app:
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 2)
        phones = {r["value"] for r in app.rows("SELECT value FROM reporter_identity WHERE kind = 'phone'")}
        assert phones == {"+6281211112222", "+6281333334444"}


async def test_import_beside_a_running_pipeline_is_taken_at_its_next_sweep(
    sample_entry_points: None, tmp_path: Path
) -> None:
    """With memory:// an importing process cannot reach the running one's queue; the stale timeout
    here is far longer than the test, so only the hand-off to the next sweep can explain it."""
    sheet = tmp_path / "panggilan-2026-12.csv"
    sheet.write_text("id,phone,text\n1,0812-1111-2222,Menanyakan jadwal wisuda\n")
    settings = make_settings(
        tmp_path / "var",
        connectors={"webform": {"enabled": True}, "sample_import": {}},
        pipeline={"stale_after_seconds": 600.0},
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(SAMPLE_PACKAGE)]),
        "SATUPINTU_DATA_DIR": str(settings.data_dir),
        "SATUPINTU_CONNECTORS__SAMPLE_IMPORT__ENABLED": "true",
        "SATUPINTU_PIPELINE__SWEEP_INTERVAL_SECONDS": "0.5",
        "SATUPINTU_LOG__LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "workers", "import", "sample_import", str(sheet)]
    async with running_pipeline(settings) as app:
        result = await asyncio.to_thread(
            subprocess.run, command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stderr
        assert "a running satupintu picks them up within 0.5 s" in result.stdout
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 1, timeout=10)
