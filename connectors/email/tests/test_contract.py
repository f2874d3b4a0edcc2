"""The contract common to every connector over the email channel, pulled from a real Dovecot
mailbox holding the captured mails of ``connectors/email/fixtures/``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from connectors.contract import PullContract
from connectors.email import EmailConnector
from connectors.email.tests.dovecot import Dovecot
from connectors.email.tests.mails import UNIT


class TestEmailContract(PullContract):
    connector_class = EmailConnector
    config_section: ClassVar[dict[str, Any]] = {
        "address": UNIT,
        "imap_host": "imap.example.ac.id",
        "username": UNIT,
        "password": "rahasia",
        "smtp_host": "smtp.example.ac.id",
        "smtp_password": "rahasia",
    }
    server: ClassVar[Dovecot]

    @pytest.fixture(autouse=True)
    def _server(self, dovecot: Dovecot) -> None:
        type(self).server = dovecot

    def serving(self, fixtures: Sequence[Path], tmp_path: Path) -> dict[str, Any]:
        mailbox = self.server.add_user()
        mailbox.write(path.read_bytes() for path in fixtures)
        return mailbox.section(UNIT, smtp_host="127.0.0.1", smtp_security="plain")
