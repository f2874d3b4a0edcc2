"""The walk-in book passes the import contract (``walkin add`` builds the same records)."""

from __future__ import annotations

from connectors.contract import ImportContract
from connectors.walkin import WalkinConnector


class TestWalkinContract(ImportContract):
    connector_class = WalkinConnector
