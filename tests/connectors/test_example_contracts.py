"""The example connectors pass the contract, through the real framework."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from connectors.contract import ImportContract, PullContract, WebhookContract
from tests.connectors.examples.example_calllog import ExampleCallLog
from tests.connectors.examples.example_folder import ExampleFolder
from tests.connectors.examples.example_sms import ExampleSms


class TestExampleSmsContract(WebhookContract):
    connector_class = ExampleSms
    config_section: ClassVar[dict[str, Any]] = {"signing_key": "k3y-of-the-gateway", "verify_token": "meta-style-token"}


class TestExampleFolderContract(PullContract):
    connector_class = ExampleFolder
    config_section: ClassVar[dict[str, Any]] = {"folder": "/nonexistent"}

    def serving(self, fixtures: Sequence[Path], tmp_path: Path) -> dict[str, Any]:
        for source in ("desk-a", "desk-b"):
            (tmp_path / source).mkdir(parents=True)
        for number, fixture in enumerate(fixtures):  # split between the two sources
            shutil.copy(fixture, tmp_path / ("desk-a" if number % 2 else "desk-b") / fixture.name)
        return {"folder": str(tmp_path), "sources": ["desk-a", "desk-b"]}


class TestExampleCallLogContract(ImportContract):
    connector_class = ExampleCallLog
