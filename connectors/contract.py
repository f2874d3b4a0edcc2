"""The contract every connector's tests run: subclass the class of each inbound role it has.

It ships with the package, so a connector in a package of its own runs it too
(``from connectors.contract import WebhookContract``); it needs pytest, a test dependency.

Every check runs the real framework, not a stand-in: the HTTP server of ``pipeline.http`` with
its webhook handling, the real :class:`pipeline.ingest.Ingestor`, the pull loop and the importer,
on a fresh migrated SQLite database and an in-memory queue; what a check counts is rows in
``raw_message``. So a check fails for the reason it names: a forged request is refused only if
the framework refused it before storing, not because the body happened to be broken.

What is checked (DESIGN.md's promise for every channel):

* every fixture is accepted, stored, and parses the same way twice, to a message, a delivery
  status, or nothing for an ignored event type; every declared event type has a fixture;
* ids are stable: the same fixture gives the same external ids in another process, and the same
  body sent again makes nothing new;
* a signed webhook whose signature has one byte changed gets 403 and stores nothing, one without
  a signature 401 and nothing; a handshake answers only the right token;
* a missing secret (any required setting) stops start-up naming ``connectors.<name>.<field>``,
  every secret can come from ``<field>_file``, and the declared roles match the class.

A check that cannot apply to a connector (secrets from files when it has no secret settings, the
forgery checks on a path unverified on purpose, the handshake when it declares none) is left out
of that connector's test class when the class is made, so a run lists only what was checked and
skips nothing (under CI=true a skip is for a missing service only).
"""

# ruff: noqa: ASYNC240 - test code: it reads small fixture files in place, blocking is harmless

from __future__ import annotations

import asyncio
import base64
import hmac
import importlib
import json
import shutil
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, get_args

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretBytes, SecretStr
from sqlalchemy import Engine, func, select

from config.settings import HttpSettings, ImportSettings, PullSettings
from connectors.base import (
    Connector,
    ConnectorConfigError,
    ConnectorContext,
    DeliveryStatus,
    FetchResult,
    HmacSignature,
    ImportInbound,
    ImportRow,
    Ingest,
    NormalizedMessage,
    PullInbound,
    RawMessage,
    SecretHeader,
    Unverified,
    Verification,
    VerifyToken,
    WebhookEndpoint,
    WebhookInbound,
)
from connectors.registry import check_roles, load_enabled
from pipeline.http import Health, build_app
from pipeline.imports import read_rows, store_rows
from pipeline.ingest import Ingestor
from pipeline.metrics import Metrics
from pipeline.pull import PullLoop
from pipeline.queues import Publisher, Topology
from storage.blobs import BlobStore
from storage.db import create_db_engine, reading
from storage.migrate import upgrade
from storage.models import RAW_RECEIVED
from storage.raw import StoredRaw, load_raw
from storage.tables import RAW

FIXTURE_SUFFIXES = {".json", ".eml", ".csv", ".txt", ".xml"}
SIDECAR = ".headers.json"
DRAIN_TIMEOUT_SECONDS = 10.0


def fixture_event_type(path: Path) -> str:
    """``fixtures/<event_type>[__<variant>].<ext>`` names the event type it carries."""
    return path.stem.split("__", 1)[0]


def secret_fields(connector_class: type[Connector[Any]]) -> list[str]:
    """The settings of a connector that hold secrets (``SecretStr``/``SecretBytes``, maybe optional)."""
    return [
        name
        for name, info in connector_class.config_model.model_fields.items()
        if {info.annotation, *get_args(info.annotation)} & {SecretStr, SecretBytes}
    ]


# --- the framework, for real, on a temporary database ----------------------------------------


@dataclass
class Framework:
    """One connector inside the real framework: database, ingest, HTTP server."""

    connector: Connector[Any]
    engine: Engine
    ingest: Ingestor
    metrics: Metrics
    client: TestClient[Any, Any]

    @classmethod
    @asynccontextmanager
    async def running(
        cls,
        connector: Connector[Any],
        folder: Path,
        *,
        database_url: str | None = None,
        http: HttpSettings | None = None,
    ) -> AsyncIterator[Framework]:
        """Started on a fresh SQLite file in ``folder`` (or on ``database_url``, migrated here)."""
        folder.mkdir(parents=True, exist_ok=True)
        engine = create_db_engine(database_url or f"sqlite:///{folder / f'contract-{uuid.uuid4().hex[:8]}.db'}")
        upgrade(engine)
        topology = Topology("memory://", f"contract{uuid.uuid4().hex[:12]}", folder)
        metrics = Metrics(engine)
        ingest = Ingestor(engine, Publisher(topology, [connector.name]), BlobStore(folder / "blobs"), metrics)
        app = build_app(
            connectors={connector.name: connector},
            ingest=ingest,
            health=Health(engine, topology),
            metrics=metrics,
            http=http or HttpSettings(),
        )
        client = TestClient(TestServer(app))
        await connector.start()
        await client.start_server()
        try:
            yield cls(connector, engine, ingest, metrics, client)
        finally:
            await client.close()
            await connector.stop()
            ingest.close()
            engine.dispose()

    def count(self) -> int:
        """Rows in ``raw_message``: what the channel's requests left behind."""
        with reading(self.engine) as connection:
            return int(connection.execute(select(func.count()).select_from(RAW)).scalar_one())

    def stored(self) -> list[StoredRaw]:
        with reading(self.engine) as connection:
            ids = connection.execute(select(RAW.c.id).order_by(RAW.c.id)).scalars().all()
            return load_raw(connection, ids, RAW_RECEIVED)

    def keys(self) -> set[tuple[str, str]]:
        return {(row.message.channel, row.message.external_id) for row in self.stored()}


def check_parses(connector: Connector[Any], raw_id: int, raw: RawMessage, where: str) -> None:
    """The parser's promise for one stored message: deterministic, on its channel, its row."""
    parsed = connector.parse(raw_id, raw)
    assert parsed == connector.parse(raw_id, raw), f"{where}: parsing is not deterministic"
    if parsed is None:
        return
    assert isinstance(parsed, NormalizedMessage | DeliveryStatus), f"{where}: parsed to {type(parsed).__name__}"
    assert parsed.channel == connector.name, f"{where}: parsed for channel {parsed.channel!r}"
    assert parsed.raw_message_id == raw_id, f"{where}: parsed with another raw message's id"
    if isinstance(parsed, NormalizedMessage):
        assert parsed.conversation_key, f"{where}: no conversation key"


# --- checks common to every connector ----------------------------------------------------------


class ConnectorContract:
    """Checks common to every connector. ``config_section``: a valid section for the tests."""

    connector_class: ClassVar[type[Connector[Any]]]
    config_section: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Leave out the checks that do not apply to this connector: pytest collects a test
        method only if it is callable, so such a check is set to None on this class (and put
        back from the contract when a subclass's connector needs it again)."""
        super().__init_subclass__(**kwargs)
        if getattr(cls, "connector_class", None) is None:  # a contract of its own, no connector yet
            return
        for name, applies in cls.applicable_checks().items():
            check = next(vars(k)[name] for k in cls.__mro__ if vars(k).get(name) is not None)
            setattr(cls, name, check if applies else None)

    @classmethod
    def applicable_checks(cls) -> dict[str, bool]:
        """The checks that apply to some connectors only: whether each applies to this one."""
        return {"test_every_secret_can_come_from_a_file": bool(secret_fields(cls.connector_class))}

    @classmethod
    def folder(cls) -> Path:
        """The connector's package: the one named after the channel (in the module of the class or
        of one it derives from, so a test's variant of a connector finds its fixtures)."""
        name = cls.connector_class.spec.name
        modules = [klass.__module__.split(".") for klass in cls.connector_class.__mro__]
        parts = next((p for p in modules if name in p), modules[0])
        module = importlib.import_module(".".join(parts[: parts.index(name) + 1]) if name in parts else ".".join(parts))
        assert module.__file__ is not None
        return Path(module.__file__).parent

    @classmethod
    def fixtures(cls) -> list[Path]:
        folder = cls.folder() / "fixtures"
        if not folder.is_dir():  # an outbound-only connector receives nothing to capture
            return []
        return sorted(p for p in folder.iterdir() if p.suffix in FIXTURE_SUFFIXES and not p.name.endswith(SIDECAR))

    def connector(self, **changes: Any) -> Connector[Any]:
        return self.connector_class.from_section({**self.config_section, **changes}, ConnectorContext())

    def test_folder_is_complete(self) -> None:
        folder = self.folder()
        assert self.connector_class.spec.name == folder.name
        assert (folder / "README.md").is_file(), "a README for the channel admin"
        if self.connector_class.spec.inbound != "none":
            assert self.fixtures(), "at least one captured payload in fixtures/"

    def test_every_event_type_has_a_fixture_and_every_fixture_is_declared(self) -> None:
        spec = self.connector_class.spec
        seen = {fixture_event_type(p) for p in self.fixtures()}
        assert spec.event_types <= seen, f"event types without a fixture: {sorted(spec.event_types - seen)}"
        undeclared = seen - spec.event_types - spec.ignored_event_types
        assert not undeclared, f"fixtures for undeclared event types: {sorted(undeclared)}"

    def test_declared_roles_match_the_class(self) -> None:
        check_roles(self.connector_class, self.connector_class.__module__)

    def test_unknown_config_key_fails_naming_connector_and_key(self) -> None:
        name = self.connector_class.spec.name
        with pytest.raises(ConnectorConfigError, match=rf"connectors\.{name}\.no_such_setting"):
            self.connector_class.from_section({**self.config_section, "no_such_setting": 1})

    def test_a_missing_secret_or_setting_stops_start_up_naming_it(self) -> None:
        name = self.connector_class.spec.name
        model = self.connector_class.config_model
        required = [field for field, info in model.model_fields.items() if info.is_required()]
        for field in required:
            section = {k: v for k, v in self.config_section.items() if k != field}
            with pytest.raises(ConnectorConfigError, match=rf"connectors\.{name}\.{field}\b"):
                load_enabled({name: section}, ConnectorContext(), available={name: self.connector_class})

    def test_every_secret_can_come_from_a_file(self, tmp_path: Path) -> None:
        fields = secret_fields(self.connector_class)
        assert fields, "the connector has no secret settings: this check is not collected for it"
        name = self.connector_class.spec.name
        for field in fields:
            path = tmp_path / field
            path.write_text(f"from-a-file-{field}\n")
            section = {k: v for k, v in self.config_section.items() if k != field}
            loaded = self.connector_class.from_section({**section, f"{field}_file": str(path)})
            value = getattr(loaded.config, field)
            assert value is not None and value.get_secret_value() in {
                f"from-a-file-{field}",
                b"from-a-file-" + field.encode(),
            }
            with pytest.raises(ConnectorConfigError, match=rf"connectors\.{name}\.{field}_file"):
                self.connector_class.from_section({**section, f"{field}_file": str(tmp_path / "missing")})


# --- webhooks ----------------------------------------------------------------------------------


class WebhookContract(ConnectorContract):
    """Checks for the ``webhook`` role.

    Fixtures are posted to the connector's declared endpoint (``webhook_path`` when it has
    several, or when its inbound is one of its own ``routes()``, like the web form's), signed the
    way the endpoint declares. An endpoint without a signature must be named in
    ``unverified_paths``, so that a forgotten signature fails the contract instead of passing it.
    """

    webhook_path: ClassVar[str | None] = None
    unverified_paths: ClassVar[frozenset[str]] = frozenset()
    content_type: ClassVar[str] = "application/json"

    @classmethod
    def applicable_checks(cls) -> dict[str, bool]:
        """The forgery checks apply unless the fixture path is unverified and named so on purpose,
        the handshake check if an endpoint declares one. A connector that cannot be built from
        ``config_section``, or whose fixture path is unclear, keeps every check, each failing with
        the reason."""
        try:
            connector = cls.connector_class.from_section(dict(cls.config_section), ConnectorContext())
            signed = not (
                isinstance(cls.verification(connector), Unverified) and cls.path(connector) in cls.unverified_paths
            )
            handshake = any(endpoint.handshake is not None for endpoint in cls.endpoints(connector).values())
        except (ConnectorConfigError, AssertionError):
            return super().applicable_checks()
        return {
            **super().applicable_checks(),
            "test_a_signature_with_one_byte_changed_gets_403_and_stores_nothing": signed,
            "test_an_unsigned_request_gets_401_and_stores_nothing": signed,
            "test_a_handshake_answers_only_the_right_token": handshake,
        }

    @classmethod
    def endpoints(cls, connector: Connector[Any]) -> dict[str, WebhookEndpoint]:
        assert isinstance(connector, WebhookInbound)
        return {endpoint.path: endpoint for endpoint in connector.webhooks()}

    @classmethod
    def path(cls, connector: Connector[Any]) -> str:
        if cls.webhook_path is not None:
            return cls.webhook_path
        declared = list(cls.endpoints(connector))
        assert len(declared) == 1, f"several webhook endpoints {declared}: set webhook_path"
        return declared[0]

    @classmethod
    def verification(cls, connector: Connector[Any]) -> Verification:
        """How the fixture path is verified; a path of ``routes()`` is not verified by the framework."""
        path = cls.path(connector)
        endpoint = cls.endpoints(connector).get(path)
        if endpoint is None:
            return Unverified(f"{path} is one of the connector's own routes")
        return endpoint.verify

    def headers_for(self, fixture: Path, body: bytes, verify: Verification) -> dict[str, str]:
        """What a real sender adds: the fixture's sidecar headers, and a signature made from the
        endpoint's declaration with the configured secret."""
        sidecar = fixture.with_name(fixture.stem + SIDECAR)
        headers: dict[str, str] = json.loads(sidecar.read_text()) if sidecar.exists() else {}
        return {"Content-Type": self.content_type, **headers, **sign(verify, body)}

    async def post(
        self, framework: Framework, fixture: Path, *, headers: Mapping[str, str] | None = None
    ) -> tuple[int, str]:
        body = fixture.read_bytes()
        sent = (
            dict(headers)
            if headers is not None
            else self.headers_for(fixture, body, self.verification(framework.connector))
        )
        async with framework.client.post(self.path(framework.connector), data=body, headers=sent) as response:
            return response.status, await response.text()

    async def test_every_fixture_is_stored_and_parses_deterministically(self, tmp_path: Path) -> None:
        async with Framework.running(self.connector(), tmp_path) as framework:
            seen: set[int] = set()
            for fixture in self.fixtures():
                status, text = await self.post(framework, fixture)
                assert 200 <= status < 300, f"{fixture.name}: HTTP {status} {text}"
                fresh = [row for row in framework.stored() if row.id not in seen]
                assert fresh, f"{fixture.name}: nothing stored"
                for row in fresh:
                    seen.add(row.id)
                    check_parses(framework.connector, row.id, row.message, fixture.name)
                    if fixture_event_type(fixture) in framework.connector.spec.ignored_event_types:
                        assert framework.connector.parse(row.id, row.message) is None, f"{fixture.name}: not ignored"

    async def test_the_same_body_twice_makes_nothing_new(self, tmp_path: Path) -> None:
        async with Framework.running(self.connector(), tmp_path) as framework:
            for fixture in self.fixtures():
                await self.post(framework, fixture)
                before = framework.count()
                status, text = await self.post(framework, fixture)
                assert 200 <= status < 300, f"{fixture.name}: a retried delivery got HTTP {status} {text}"
                assert framework.count() == before, f"{fixture.name}: a retried delivery made a new message"

    async def test_ids_are_stable(self, tmp_path: Path) -> None:
        """Another process (another database, later) gives the same fixture the same ids."""
        keys: list[list[set[tuple[str, str]]]] = []
        for run in ("first", "second"):
            async with Framework.running(self.connector(), tmp_path / run) as framework:
                per_fixture = []
                for fixture in self.fixtures():
                    before = framework.keys()
                    await self.post(framework, fixture)
                    per_fixture.append(framework.keys() - before)
                keys.append(per_fixture)
        for fixture, first, second in zip(self.fixtures(), *keys, strict=True):
            assert first == second, f"{fixture.name}: external ids differ between runs"

    def _signed(self, connector: Connector[Any]) -> Verification:
        """The fixture path's verification, failing unless it is signed (a path declared unsigned
        does not get the checks that call this)."""
        path = self.path(connector)
        verify = self.verification(connector)
        assert not isinstance(verify, Unverified), (
            f"{path} verifies nothing: declare its signature in webhooks() (the framework checks it), "
            "or name it in unverified_paths if nobody can sign it (a public form)"
        )
        assert path not in self.unverified_paths, f"{path} is in unverified_paths but declares a signature"
        return verify

    async def test_a_signature_with_one_byte_changed_gets_403_and_stores_nothing(self, tmp_path: Path) -> None:
        def forge(headers: dict[str, str], name: str, verify: Verification) -> None:
            headers[name] = change_one_byte(headers[name], verify)

        await self._refused(tmp_path, forge, 403, "a forged signature")

    async def test_an_unsigned_request_gets_401_and_stores_nothing(self, tmp_path: Path) -> None:
        def unsign(headers: dict[str, str], name: str, verify: Verification) -> None:
            del headers[name]

        await self._refused(tmp_path, unsign, 401, "an unsigned request")

    async def _refused(
        self, tmp_path: Path, alter: Callable[[dict[str, str], str, Verification], None], expected: int, what: str
    ) -> None:
        """Every fixture, signed as a sender would and then ``alter``-ed, gets ``expected`` and
        leaves no row."""
        connector = self.connector()
        verify = self._signed(connector)
        async with Framework.running(connector, tmp_path) as framework:
            for fixture in self.fixtures():
                headers = self.headers_for(fixture, fixture.read_bytes(), verify)
                alter(headers, _signature_header(verify), verify)
                status, text = await self.post(framework, fixture, headers=headers)
                assert status == expected, f"{fixture.name}: {what} got HTTP {status} {text}"
                assert framework.count() == 0, f"{fixture.name}: {what} left rows behind"

    async def test_a_handshake_answers_only_the_right_token(self, tmp_path: Path) -> None:
        connector = self.connector()
        handshakes = {p: e.handshake for p, e in self.endpoints(connector).items() if e.handshake is not None}
        assert handshakes, "no verification handshake declared: this check is not collected for it"
        async with Framework.running(connector, tmp_path) as framework:
            for path, handshake in handshakes.items():
                assert isinstance(handshake, VerifyToken)
                asked = {
                    "hub.mode": "subscribe",
                    "hub.verify_token": handshake.token.decode(),
                    "hub.challenge": "1158201444",
                }
                async with framework.client.get(path, params=asked) as response:
                    assert response.status == 200 and await response.text() == "1158201444"
                async with framework.client.get(path, params={**asked, "hub.verify_token": "wrong"}) as response:
                    assert response.status == 403
                async with framework.client.get(path, params={"hub.mode": "subscribe"}) as response:
                    assert response.status == 400
            assert framework.count() == 0


def sign(verify: Verification, body: bytes) -> dict[str, str]:
    """The headers a sender holding the configured secret would add to ``body``."""
    if isinstance(verify, SecretHeader):
        return {verify.header: verify.secret.decode()}
    if isinstance(verify, Unverified):
        return {}
    headers: dict[str, str] = {}
    signed = body
    if verify.timestamp_header is not None:
        stamp = str(int(time.time()))
        headers[verify.timestamp_header] = stamp
        signed = body + stamp.encode()
    digest = hmac.new(verify.secret, signed, verify.digest).digest()
    encoded = digest.hex() if verify.encoding == "hex" else base64.b64encode(digest).decode()
    headers[verify.header] = verify.prefix + encoded
    return headers


def change_one_byte(value: str, verify: Verification) -> str:
    """The signature with one character changed to another valid one, so that the request stays
    well-formed and only the comparison can refuse it."""
    start = len(verify.prefix) if isinstance(verify, HmacSignature) else 0
    alphabet = "0123456789abcdef" if isinstance(verify, HmacSignature) and verify.encoding == "hex" else "ABCDEFGH"
    old = value[start]
    new = next(c for c in alphabet if c != old.lower() and c != old)
    return value[:start] + new + value[start + 1 :]


def _signature_header(verify: Verification) -> str:
    assert isinstance(verify, HmacSignature | SecretHeader)
    return verify.header


# --- pulls -------------------------------------------------------------------------------------


class _Observed(PullInbound):
    """The connector as the pull loop sees it, with a short poll interval, telling when a fetch
    came back with nothing more (the source is drained)."""

    poll_interval_seconds = 0.01

    def __init__(self, connector: PullInbound) -> None:
        self.connector = connector
        self.drained = asyncio.Event()

    def pull_sources(self) -> Sequence[str]:
        return self.connector.pull_sources()

    def use_ingest(self, ingest: Ingest) -> None:
        self.connector.use_ingest(ingest)

    async def fetch(self, source: str, cursor: str | None) -> FetchResult:
        page = await self.connector.fetch(source, cursor)
        if not page.messages and not page.more:
            self.drained.set()
        return page


class PullContract(ConnectorContract, ABC):
    """Checks for the ``pull`` role, through the framework's pull loop (lease, cursor, health).

    Implement :meth:`serving`: the config section of a connector whose sources hold exactly the
    fixtures (a folder they are copied to, a fake server started for the test).
    """

    @abstractmethod
    def serving(self, fixtures: Sequence[Path], tmp_path: Path) -> dict[str, Any]:
        """The config section of a connector whose sources serve ``fixtures``."""

    async def drain(self, framework: Framework) -> None:
        """Run a pull loop on every source until each has nothing more."""
        connector = framework.connector
        assert isinstance(connector, PullInbound)
        for source in connector.pull_sources():
            observed = _Observed(connector)
            loop = PullLoop(connector.name, observed, source, framework.ingest, framework.engine, PullSettings())
            stop = asyncio.Event()
            task = asyncio.create_task(loop.run(stop))
            try:
                await asyncio.wait_for(observed.drained.wait(), DRAIN_TIMEOUT_SECONDS)
            finally:
                stop.set()
                await task

    def pulling(self, tmp_path: Path) -> Connector[Any]:
        return self.connector_class.from_section(self.serving(self.fixtures(), tmp_path / "source"), ConnectorContext())

    async def test_every_fixture_is_pulled_stored_and_parses_deterministically(self, tmp_path: Path) -> None:
        async with Framework.running(self.pulling(tmp_path), tmp_path / "framework") as framework:
            await self.drain(framework)
            stored = framework.stored()
            assert len(stored) >= len(self.fixtures()), f"{len(stored)} messages from {len(self.fixtures())} fixtures"
            for row in stored:
                check_parses(framework.connector, row.id, row.message, row.message.external_id)

    async def test_pulling_again_from_the_start_makes_nothing_new(self, tmp_path: Path) -> None:
        """A cursor lost (or a crash before it was written) fetches again: the ids are stable."""
        connector = self.pulling(tmp_path)
        async with Framework.running(connector, tmp_path / "first") as first:
            await self.drain(first)
            keys = first.keys()
            await self.drain(first)  # resumes after its cursor
            assert first.keys() == keys
        async with Framework.running(connector, tmp_path / "second") as second:
            await self.drain(second)  # from no cursor at all
            assert second.keys() == keys, "the same source gave other external ids"


# --- imports -----------------------------------------------------------------------------------


class ImportContract(ConnectorContract):
    """Checks for the ``import`` role, through the framework's importer: each fixture is a file."""

    async def test_every_fixture_imports_and_parses_deterministically(self, tmp_path: Path) -> None:
        async with Framework.running(self.connector(), tmp_path) as framework:
            connector = framework.connector
            assert isinstance(connector, ImportInbound)
            for fixture in self.fixtures():
                rows = read_rows(connector, fixture, ImportSettings())
                report = store_rows(connector.name, fixture, rows, framework.engine, None)
                accepted = [row for row in report.rows if row.outcome == "accepted"]
                assert accepted, f"{fixture.name}: no row accepted ({report.rejected})"
                for rejected in report.rejected:
                    assert rejected.line >= 1 and rejected.reason, f"{fixture.name}: a rejection without line or reason"
            for stored in framework.stored():
                check_parses(connector, stored.id, stored.message, stored.message.external_id)

    async def test_importing_a_file_again_adds_nothing(self, tmp_path: Path) -> None:
        async with Framework.running(self.connector(), tmp_path) as framework:
            connector = framework.connector
            assert isinstance(connector, ImportInbound)
            for fixture in self.fixtures():
                store_rows(
                    connector.name, fixture, read_rows(connector, fixture, ImportSettings()), framework.engine, None
                )
                before = framework.count()
                copy = tmp_path / f"again-{fixture.name}"  # another file name, the same records
                shutil.copy(fixture, copy)
                again = store_rows(
                    connector.name, copy, read_rows(connector, copy, ImportSettings()), framework.engine, None
                )
                assert again.totals["accepted"] == 0, f"{fixture.name}: imported twice"
                assert framework.count() == before

    def test_ids_are_stable(self) -> None:
        connector = self.connector()
        assert isinstance(connector, ImportInbound)
        for fixture in self.fixtures():
            first = [r.message.external_id for r in connector.read_import(fixture) if isinstance(r, ImportRow)]
            second = [r.message.external_id for r in connector.read_import(fixture) if isinstance(r, ImportRow)]
            assert first == second, f"{fixture.name}: external ids differ between reads"
            assert len(set(first)) == len(first), f"{fixture.name}: two records share an external id"
