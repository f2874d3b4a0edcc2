"""WhatsApp Cloud API channel (see README.md)."""

from connectors.whatsapp.connector import WhatsappConnector

CONNECTOR = WhatsappConnector

__all__ = ["CONNECTOR", "WhatsappConnector"]
