"""The email channel: outgoing mail over SMTP (receiving by IMAP comes later)."""

from connectors.email.connector import EmailConnector

CONNECTOR = EmailConnector

__all__ = ["CONNECTOR", "EmailConnector"]
