"""The contract fails for the right reason: a connector that does not verify, or whose ids are not
stable, does not pass it (the old "tampered" check truncated the body and passed on broken JSON)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web

from connectors.base import Ingest, RawMessage, Unverified, WebhookEndpoint, WebhookRequest
from connectors.contract import ConnectorContract, WebhookContract
from tests.connectors.examples.example_calllog import ExampleCallLog
from tests.connectors.examples.example_sms import ExampleSms, split

SECTION = {"signing_key": "k3y-of-the-gateway"}


class DeclaresNoSignature(ExampleSms):
    """Forgets its signature: the framework has nothing to check."""

    def webhooks(self) -> Sequence[WebhookEndpoint]:
        return [WebhookEndpoint(path=self.config.path, verify=Unverified("forgotten"), split=split)]


class ServesItsOwnRoute(ExampleSms):
    """Bypasses the framework with a route of its own that stores whatever comes."""

    def webhooks(self) -> Sequence[WebhookEndpoint]:
        return []

    def routes(self, ingest: Ingest) -> Sequence[web.RouteDef]:
        async def take(request: web.Request) -> web.Response:
            body = await request.read()
            verified = WebhookRequest(body, request.headers, request.query, datetime.now(UTC), request.content_type)
            await ingest.accept(split(verified))
            return web.json_response({})

        return [web.post(self.config.path, take)]


class RandomIds(ExampleSms):
    """Keys each message by a fresh uuid: a retried delivery becomes a second message."""

    def webhooks(self) -> Sequence[WebhookEndpoint]:
        [endpoint] = super().webhooks()

        def random_split(request: WebhookRequest) -> list[RawMessage]:
            return [m.model_copy(update={"external_id": uuid.uuid4().hex}) for m in split(request)]

        return [WebhookEndpoint(path=endpoint.path, verify=endpoint.verify, split=random_split)]


def contract(connector: type[ExampleSms], **attributes: object) -> WebhookContract:
    case = type("Case", (WebhookContract,), {"connector_class": connector, "config_section": SECTION, **attributes})
    instance: WebhookContract = case()
    return instance


@pytest.mark.parametrize("connector", [DeclaresNoSignature, ServesItsOwnRoute])
@pytest.mark.parametrize(
    "check",
    [
        "test_a_signature_with_one_byte_changed_gets_403_and_stores_nothing",
        "test_an_unsigned_request_gets_401_and_stores_nothing",
    ],
)
async def test_a_connector_that_does_not_verify_fails(connector: type[ExampleSms], check: str, tmp_path: Path) -> None:
    case = contract(connector, webhook_path="/webhooks/example_sms")
    with pytest.raises(AssertionError, match="verifies nothing"):
        await getattr(case, check)(tmp_path)


FORGERY_CHECKS = (
    "test_a_signature_with_one_byte_changed_gets_403_and_stores_nothing",
    "test_an_unsigned_request_gets_401_and_stores_nothing",
)


def test_a_path_unverified_on_purpose_has_no_forgery_checks_to_pass() -> None:
    """Acknowledged (only a public form may be), the forgery checks do not apply: they are not
    collected for that connector, rather than run and skipped or passed."""
    case = contract(DeclaresNoSignature, unverified_paths=frozenset({"/webhooks/example_sms"}))
    assert all(getattr(case, check) is None for check in FORGERY_CHECKS)
    assert all(callable(getattr(contract(ExampleSms), check)) for check in FORGERY_CHECKS)


async def test_a_signed_path_named_unverified_fails(tmp_path: Path) -> None:
    case = contract(ExampleSms, unverified_paths=frozenset({"/webhooks/example_sms"}))
    for check in FORGERY_CHECKS:
        with pytest.raises(AssertionError, match="is in unverified_paths but declares a signature"):
            await getattr(case, check)(tmp_path / check)


def test_the_secret_and_handshake_checks_are_collected_only_where_they_apply() -> None:
    with_handshake = contract(ExampleSms, config_section={**SECTION, "verify_token": "meta-style-token"})
    assert callable(with_handshake.test_a_handshake_answers_only_the_right_token)
    assert contract(ExampleSms).test_a_handshake_answers_only_the_right_token is None
    assert callable(with_handshake.test_every_secret_can_come_from_a_file)
    no_secrets: type[ConnectorContract] = type("Case", (ConnectorContract,), {"connector_class": ExampleCallLog})
    assert no_secrets.test_every_secret_can_come_from_a_file is None


async def test_the_contract_passes_the_signed_connector(tmp_path: Path) -> None:
    case = contract(ExampleSms)
    await case.test_a_signature_with_one_byte_changed_gets_403_and_stores_nothing(tmp_path / "forged")
    await case.test_an_unsigned_request_gets_401_and_stores_nothing(tmp_path / "unsigned")


async def test_unstable_ids_fail(tmp_path: Path) -> None:
    case = contract(RandomIds)
    with pytest.raises(AssertionError, match="a retried delivery made a new message"):
        await case.test_the_same_body_twice_makes_nothing_new(tmp_path / "twice")
    with pytest.raises(AssertionError, match="external ids differ between runs"):
        await case.test_ids_are_stable(tmp_path / "runs")
