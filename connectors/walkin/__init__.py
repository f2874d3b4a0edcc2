"""Visitors registered at the front desk, each to a case with a printed receipt."""

from connectors.walkin.connector import WalkinConnector

CONNECTOR = WalkinConnector

__all__ = ["CONNECTOR", "WalkinConnector"]
