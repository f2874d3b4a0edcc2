"""The phone log passes the import contract every connector passes, through the real importer."""

from __future__ import annotations

from connectors.contract import ImportContract
from connectors.phonelog import PhonelogConnector


class TestPhonelogContract(ImportContract):
    connector_class = PhonelogConnector
