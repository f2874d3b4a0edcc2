"""Outgoing mail over SMTP, with SMTP's answers mapped to transient or permanent failures.

The one SMTP client of the project: the email channel sends with it, and so do the web form's
email receipts (``ConnectorContext.mailer``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Literal

import aiosmtplib
from pydantic import SecretStr

from connectors.base import PermanentSendError, TransientSendError

Security = Literal["tls", "starttls", "plain"]
"""``tls``: TLS from the first byte (port 465); ``starttls``: upgraded after connecting (587);
``plain``: no encryption (a relay on the same host or network only)."""
TIMEOUT_SECONDS = 15.0
AUTH_FAILED = 535


@dataclass(frozen=True, slots=True)
class SmtpAccount:
    """Where mail goes out, and the unit's own address it goes out from."""

    host: str
    port: int
    security: Security
    sender: str
    username: str | None = None
    password: SecretStr | None = None


class SmtpMailer:
    """Implements :class:`connectors.base.Mailer`."""

    def __init__(self, account: SmtpAccount, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.account = account
        self.timeout = timeout
        self.domain = account.sender.rpartition("@")[2] or "satupintu.invalid"

    def message_id(self, idempotency_key: str) -> str:
        """The same outbox row always gets the same Message-ID, so a resend can be recognised."""
        return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]}@{self.domain}>"

    async def send_mail(
        self,
        *,
        to: str,
        subject: str,
        text: str,
        message_id: str,
        in_reply_to: str | None = None,
        automatic: bool = True,
    ) -> str:
        """Send one mail; returns its Message-ID. ``message_id`` is the outbox row's idempotency key.

        ``automatic`` marks the mail ``Auto-Submitted: auto-replied`` (RFC 3834) so that other
        systems do not answer it: receipts and notices are, an officer's reply is not.
        """
        mail = EmailMessage()
        mail["From"] = self.account.sender
        mail["To"] = to
        mail["Subject"] = subject
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail["Message-ID"] = self.message_id(message_id)
        if automatic:
            mail["Auto-Submitted"] = "auto-replied"
        if in_reply_to:
            mail["In-Reply-To"] = in_reply_to
            mail["References"] = in_reply_to
        mail.set_content(text)
        await self._submit(mail)
        return str(mail["Message-ID"])

    async def _submit(self, mail: EmailMessage) -> None:
        account = self.account
        password = account.password.get_secret_value() if account.password else None
        try:
            await aiosmtplib.send(
                mail,
                hostname=account.host,
                port=account.port,
                username=account.username,
                password=password,
                use_tls=account.security == "tls",
                start_tls=account.security == "starttls",
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            answers = "; ".join(f"{refused.code} {refused.message}" for refused in exc.recipients)
            if exc.recipients and all(500 <= refused.code < 600 for refused in exc.recipients):
                raise PermanentSendError(f"recipient refused: {answers}", code=str(exc.recipients[0].code)) from exc
            raise TransientSendError(f"recipient deferred: {answers}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise PermanentSendError(
                    f"SMTP {exc.code}: {exc.message}", code=str(exc.code), channel_down=exc.code == AUTH_FAILED
                ) from exc
            raise TransientSendError(f"SMTP {exc.code}: {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TransientSendError(f"SMTP unreachable: {exc}") from exc
