"""SMS: texts to and from the unit's number, through a gateway (an Android phone running SMS Gateway)."""

from connectors.sms.connector import SmsConnector

CONNECTOR = SmsConnector

__all__ = ["CONNECTOR", "SmsConnector"]
