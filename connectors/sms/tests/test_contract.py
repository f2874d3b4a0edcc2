"""The SMS connector passes the contract every connector passes: every fixture (written from the
gateway's documentation) stored and parsed, signatures checked as the gateway signs (body +
X-Timestamp), secrets from files."""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.contract import WebhookContract
from connectors.sms import SmsConnector


class TestSmsContract(WebhookContract):
    connector_class = SmsConnector
    config_section: ClassVar[dict[str, Any]] = {
        "gateway_url": "http://gateway-phone.local:8080",
        "username": "sms",
        "password": "gateway-password",
        "signing_key": "k3y-of-the-gateway",
    }
