"""WhatsApp passes the contract every connector passes, through the real framework: signed
fixtures stored and parsed, forged and unsigned ones refused with nothing stored, the handshake."""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.contract import WebhookContract
from connectors.whatsapp import WhatsappConnector

SECTION: dict[str, Any] = {
    "app_secret": "app-secret-of-the-meta-app",
    "verify_token": "verify-token-of-the-subscription",
    "access_token": "EAAG-system-user-token",
    "phone_number_ids": ["1234567890", "2345678901"],
}


class TestWhatsappContract(WebhookContract):
    connector_class = WhatsappConnector
    config_section: ClassVar[dict[str, Any]] = SECTION
