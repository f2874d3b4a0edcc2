"""Outgoing mail over SMTP, with SMTP's answers mapped to transient or permanent failures."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from config.settings import SmtpSettings
from connectors.base import PermanentSendError, TransientSendError

TIMEOUT_SECONDS = 15.0


class SmtpMailer:
    """Implements :class:`connectors.base.Mailer`."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.domain = settings.sender.rpartition("@")[2] or "satupintu.invalid"

    def message_id(self, idempotency_key: str) -> str:
        """The same outbox row always gets the same Message-ID, so a resend can be recognised."""
        return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]}@{self.domain}>"

    async def send_mail(
        self, *, to: str, subject: str, text: str, message_id: str, in_reply_to: str | None = None
    ) -> str:
        mail = EmailMessage()
        mail["From"] = self.settings.sender
        mail["To"] = to
        mail["Subject"] = subject
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail["Message-ID"] = self.message_id(message_id)
        mail["Auto-Submitted"] = "auto-replied"  # RFC 3834: other systems must not answer it
        if in_reply_to:
            mail["In-Reply-To"] = in_reply_to
        mail.set_content(text)
        password = self.settings.password.get_secret_value() if self.settings.password else None
        try:
            await aiosmtplib.send(
                mail,
                hostname=self.settings.host,
                port=self.settings.port,
                username=self.settings.username,
                password=password,
                start_tls=self.settings.starttls,
                timeout=TIMEOUT_SECONDS,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            answers = "; ".join(f"{refused.code} {refused.message}" for refused in exc.recipients)
            if exc.recipients and all(500 <= refused.code < 600 for refused in exc.recipients):
                raise PermanentSendError(f"recipient refused: {answers}") from exc
            raise TransientSendError(f"recipient deferred: {answers}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise PermanentSendError(f"SMTP {exc.code}: {exc.message}") from exc
            raise TransientSendError(f"SMTP {exc.code}: {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TransientSendError(f"SMTP unreachable: {exc}") from exc
        return str(mail["Message-ID"])
