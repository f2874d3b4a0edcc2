"""Instagram passes the contract every connector passes, through the real framework."""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.contract import WebhookContract
from connectors.instagram import InstagramConnector

SECTION: dict[str, Any] = {
    "app_secret": "instagram-app-secret",
    "verify_token": "verify-token-of-the-subscription",
    "access_token": "IGAA-long-lived-token",
    "account_id": "17841400000000001",
}


class TestInstagramContract(WebhookContract):
    connector_class = InstagramConnector
    config_section: ClassVar[dict[str, Any]] = SECTION
