"""SP4N-LAPOR!: reports the national platform forwarded to the unit, imported from the
dashboard's export, and the unit's follow-ups for the platform."""

from connectors.lapor.connector import LaporConnector

CONNECTOR = LaporConnector

__all__ = ["CONNECTOR", "LaporConnector"]
