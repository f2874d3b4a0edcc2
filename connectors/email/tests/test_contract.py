"""The contract common to every connector, over the email channel (outbound only for now: no
inbound role, so no captured payloads and no inbound checks yet)."""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.contract import ConnectorContract
from connectors.email import EmailConnector


class TestEmailContract(ConnectorContract):
    connector_class = EmailConnector
    config_section: ClassVar[dict[str, Any]] = {
        "address": "ult@itk.example.ac.id",
        "smtp_host": "smtp.example.ac.id",
        "smtp_password": "rahasia",
    }
