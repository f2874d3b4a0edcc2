"""Phone-call logs kept by the front desk, imported from CSV or a workbook."""

from connectors.phonelog.connector import PhonelogConnector

CONNECTOR = PhonelogConnector

__all__ = ["CONNECTOR", "PhonelogConnector"]
