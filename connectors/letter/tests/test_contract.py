"""The letter agenda passes the import contract (``letter add`` builds the same records)."""

from __future__ import annotations

from connectors.contract import ImportContract
from connectors.letter import LetterConnector


class TestLetterContract(ImportContract):
    connector_class = LetterConnector
