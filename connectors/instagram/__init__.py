"""Instagram direct-message channel (see README.md)."""

from connectors.instagram.connector import InstagramConnector

CONNECTOR = InstagramConnector

__all__ = ["CONNECTOR", "InstagramConnector"]
