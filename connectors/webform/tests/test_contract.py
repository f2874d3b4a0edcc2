"""The web-form connector passes the contract every connector passes."""

from __future__ import annotations

from connectors.webform import WebformConnector
from connectors.webform.connector import REPORTS_PATH
from tests.connectors.contract import WebhookContract


class TestWebformContract(WebhookContract):
    connector_class = WebformConnector
    webhook_path = REPORTS_PATH
