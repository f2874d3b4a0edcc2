"""The web-form connector passes the contract every connector passes."""

from __future__ import annotations

from connectors.contract import WebhookContract
from connectors.webform import WebformConnector
from connectors.webform.connector import REPORTS_PATH


class TestWebformContract(WebhookContract):
    connector_class = WebformConnector
    webhook_path = REPORTS_PATH
