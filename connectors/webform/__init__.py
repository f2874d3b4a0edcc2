"""The institution's own web form (the reporting app on its website)."""

from connectors.webform.connector import WebformConnector

CONNECTOR = WebformConnector

__all__ = ["CONNECTOR", "WebformConnector"]
