"""The project's shared test fixtures (an operator's SATUPINTU_* variables stay out of these
tests), one Dovecot for the whole session, and a mailbox of its own for each test."""

from collections.abc import Iterator

import pytest

from connectors.email.tests.dovecot import Dovecot, Mailbox, available, running_dovecot
from tests.conftest import _no_operator_environment, postgres_admin, postgres_url, rabbitmq_url
from tests.support import require

__all__ = ["_no_operator_environment", "postgres_admin", "postgres_url", "rabbitmq_url"]


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    require(available(), "dovecot is not installed (scripts/test-deps.sh installs dovecot-imapd)")
    with running_dovecot() as server:
        yield server


@pytest.fixture
def mailbox(dovecot: Dovecot) -> Mailbox:
    return dovecot.add_user()
