"""The LAPOR! export passes the import contract; its API token may come from a file."""

from __future__ import annotations

from connectors.contract import ImportContract
from connectors.lapor import LaporConnector


class TestLaporContract(ImportContract):
    connector_class = LaporConnector
