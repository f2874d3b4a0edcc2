"""Letters and faxes received by the unit, each to a case with a printed receipt."""

from connectors.letter.connector import LetterConnector

CONNECTOR = LetterConnector

__all__ = ["CONNECTOR", "LetterConnector"]
