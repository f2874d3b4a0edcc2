"""The web form passes the contract every connector passes, through the real framework.

Its report endpoint is one of its own routes and nobody can sign it (the public posts to it), so
it is named as unverified on purpose; the signature checks are not collected for it.
"""

from __future__ import annotations

from connectors.contract import WebhookContract
from connectors.webform import WebformConnector
from connectors.webform.connector import REPORTS_PATH


class TestWebformContract(WebhookContract):
    connector_class = WebformConnector
    webhook_path = REPORTS_PATH
    unverified_paths = frozenset({REPORTS_PATH})
