"""The contract every connector's tests run (subclass the class for its inbound kind).

It ships with the package, so a connector in a package of its own runs it too
(``from connectors.contract import WebhookContract``); it needs pytest, a test dependency.

It checks what DESIGN.md promises of every channel: every fixture goes through the inbound side
and the parser, ids are stable, a tampered request is refused and leaves nothing behind, every
declared event type has a fixture and every fixture's event type is declared, and a bad config
section fails at start naming the connector and the field.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from connectors.base import (
    Connector,
    ConnectorConfigError,
    MessageStatus,
    RawMessage,
    Stored,
    StoredMessage,
)

FIXTURE_SUFFIXES = {".json", ".eml", ".csv", ".txt"}


class RecordingIngest:
    """Stands in for the framework's storage so a connector can be checked on its own."""

    def __init__(self) -> None:
        self.messages: dict[tuple[str, str], tuple[int, RawMessage]] = {}
        self.blobs: dict[str, bytes] = {}
        self.state: dict[tuple[str, str], str] = {}

    async def accept(self, messages: Sequence[RawMessage]) -> list[Stored]:
        stored = []
        for message in messages:
            key = (message.channel, message.external_id)
            created = key not in self.messages
            if created:
                self.messages[key] = (len(self.messages) + 1, message)
            stored.append(Stored(self.messages[key][0], created))
        return stored

    async def status(self, channel: str, raw_id: int) -> MessageStatus | None:
        for number, message in self.messages.values():
            if number == raw_id and message.channel == channel:
                return MessageStatus(id=number, state="received", received_at=message.received_at)
        return None

    async def stored(self, channel: str, external_id: str) -> StoredMessage | None:
        found = self.messages.get((channel, external_id))
        return None if found is None else StoredMessage(*found)

    async def put_blob(self, data: bytes) -> str:
        import hashlib

        digest = hashlib.sha256(data).hexdigest()
        self.blobs[digest] = data
        return digest

    async def state_get(self, channel: str, key: str) -> str | None:
        return self.state.get((channel, key))

    async def state_set(self, channel: str, key: str, value: str) -> None:
        self.state[(channel, key)] = value

    async def state_setdefault(self, channel: str, key: str, value: str) -> str:
        return self.state.setdefault((channel, key), value)


def fixture_event_type(path: Path) -> str:
    """``fixtures/<event_type>[__<variant>].<ext>`` names the event type it carries."""
    return path.stem.split("__", 1)[0]


class ConnectorContract:
    """Checks common to every connector."""

    connector_class: ClassVar[type[Connector[Any]]]
    config_section: ClassVar[dict[str, Any]] = {}

    @classmethod
    def folder(cls) -> Path:
        import importlib

        module = importlib.import_module(f"connectors.{cls.connector_class.spec.name}")
        assert module.__file__ is not None
        return Path(module.__file__).parent

    @classmethod
    def fixtures(cls) -> list[Path]:
        return sorted(
            p
            for p in (cls.folder() / "fixtures").iterdir()
            if p.suffix in FIXTURE_SUFFIXES and not p.name.endswith(".headers.json")
        )

    def connector(self) -> Connector[Any]:
        return self.connector_class.from_section(self.config_section)

    def test_folder_is_complete(self) -> None:
        folder = self.folder()
        assert self.connector_class.spec.name == folder.name
        assert (folder / "README.md").is_file(), "a README for the channel admin"
        assert self.fixtures(), "at least one captured payload in fixtures/"

    def test_every_event_type_has_a_fixture_and_every_fixture_is_declared(self) -> None:
        spec = self.connector_class.spec
        seen = {fixture_event_type(p) for p in self.fixtures()}
        assert spec.event_types <= seen, f"event types without a fixture: {sorted(spec.event_types - seen)}"
        undeclared = seen - spec.event_types - spec.ignored_event_types
        assert not undeclared, f"fixtures for undeclared event types: {sorted(undeclared)}"

    def test_unknown_config_key_fails_naming_connector_and_key(self) -> None:
        name = self.connector_class.spec.name
        with pytest.raises(ConnectorConfigError, match=rf"connectors\.{name}\.no_such_setting"):
            self.connector_class.from_section({**self.config_section, "no_such_setting": 1})

    def test_missing_required_settings_are_named(self) -> None:
        model = self.connector_class.config_model
        required = [name for name, field in model.model_fields.items() if field.is_required()]
        for name in required:
            section = {k: v for k, v in self.config_section.items() if k != name}
            with pytest.raises(ConnectorConfigError, match=rf"connectors\.{self.connector_class.spec.name}\.{name}"):
                self.connector_class.from_section(section)


class WebhookContract(ConnectorContract):
    """Checks for connectors whose inbound side is HTTP routes."""

    webhook_path: ClassVar[str]
    content_type: ClassVar[str] = "application/json"

    def headers_for(self, fixture: Path, body: bytes) -> dict[str, str]:
        """Headers a real sender would add (signatures are computed here by signed connectors)."""
        sidecar = fixture.with_name(fixture.stem + ".headers.json")
        headers = json.loads(sidecar.read_text()) if sidecar.exists() else {}
        return {"Content-Type": self.content_type, **headers}

    async def _client(self, ingest: RecordingIngest) -> TestClient[Any, Any]:
        app = web.Application()
        app.add_routes(self.connector().routes(ingest))
        client = TestClient(TestServer(app))
        await client.start_server()
        return client

    async def _post(self, client: TestClient[Any, Any], fixture: Path, body: bytes) -> int:
        response = await client.post(self.webhook_path, data=body, headers=self.headers_for(fixture, body))
        return response.status

    async def test_every_fixture_is_accepted_and_parses(self) -> None:
        connector = self.connector()
        for fixture in self.fixtures():
            ingest = RecordingIngest()
            client = await self._client(ingest)
            try:
                status = await self._post(client, fixture, fixture.read_bytes())
            finally:
                await client.close()
            assert 200 <= status < 300, f"{fixture.name}: HTTP {status}"
            assert ingest.messages, f"{fixture.name}: nothing stored"
            for raw_id, raw in ingest.messages.values():
                parsed = connector.parse(raw_id, raw)
                event = fixture_event_type(fixture)
                if event in connector.spec.ignored_event_types:
                    assert parsed is None
                    continue
                assert parsed is not None, f"{fixture.name}: parsed to nothing"
                assert parsed.channel == connector.spec.name
                assert parsed.raw_message_id == raw_id
                assert parsed.conversation_key
                assert parsed == connector.parse(raw_id, raw), "parsing is deterministic"

    async def test_the_same_delivery_twice_is_one_message(self) -> None:
        for fixture in self.fixtures():
            ingest = RecordingIngest()
            client = await self._client(ingest)
            try:
                body = fixture.read_bytes()
                await self._post(client, fixture, body)
                first = set(ingest.messages)
                await self._post(client, fixture, body)
            finally:
                await client.close()
            assert set(ingest.messages) == first, f"{fixture.name}: a retried delivery made a new message"

    async def test_tampered_request_is_refused_and_leaves_nothing(self) -> None:
        for fixture in self.fixtures():
            ingest = RecordingIngest()
            client = await self._client(ingest)
            body = fixture.read_bytes()
            tampered = body[: len(body) // 2]
            try:
                status = await self._post(client, fixture, tampered)
            finally:
                await client.close()
            assert 400 <= status < 500, f"{fixture.name}: tampered request got HTTP {status}"
            assert not ingest.messages and not ingest.blobs
