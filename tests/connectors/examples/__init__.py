"""Small connectors that show each inbound role end to end (docs/connectors.md walks through them).

They are not built in: tests register them with ``load_enabled(..., available=EXAMPLES)``.
"""

from __future__ import annotations

from typing import Any

from connectors.base import Connector
from tests.connectors.examples.example_calllog import ExampleCallLog
from tests.connectors.examples.example_folder import ExampleFolder
from tests.connectors.examples.example_sms import ExampleSms

EXAMPLES: dict[str, type[Connector[Any]]] = {
    "example_sms": ExampleSms,
    "example_folder": ExampleFolder,
    "example_calllog": ExampleCallLog,
}
