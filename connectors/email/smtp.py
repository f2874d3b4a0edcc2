"""Outgoing mail over SMTP, with SMTP's answers mapped to transient or permanent failures.

The one SMTP client of the project: the email channel sends with it, and so do the web form's
email receipts (``ConnectorContext.mailer``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from email.header import Header
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
MAX_IDLE_CONNECTIONS = 32
"""Open SMTP connections kept for the next mails, per event loop."""
AUTH_FAILED = 535
LINE_CHARS = 900
"""A header longer than this is folded (SMTP's limit is 998 characters a line)."""


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
        self._idle: dict[asyncio.AbstractEventLoop, list[aiosmtplib.SMTP]] = {}

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
        references: Sequence[str] = (),
    ) -> str:
        """Send one mail; returns its Message-ID. ``message_id`` is the outbox row's idempotency key.

        ``automatic`` marks the mail ``Auto-Submitted: auto-replied`` (RFC 3834) so that other
        systems do not answer it: receipts and notices are, an officer's reply is not.
        ``references`` is the thread so far (the mail answered last), so that the reporter's mail
        client shows the answer in the thread; the text goes with an HTML alternative.
        """
        mail_id = self.message_id(message_id)
        thread = [*dict.fromkeys([*references, *([in_reply_to] if in_reply_to else [])])]
        fields = [("From", self.account.sender), ("To", to), ("Subject", subject)]
        fields += [("Date", formatdate(localtime=False, usegmt=True)), ("Message-ID", mail_id)]
        if automatic:
            fields.append(("Auto-Submitted", "auto-replied"))
        if in_reply_to:
            fields.append(("In-Reply-To", in_reply_to))
        if thread:
            fields.append(("References", " ".join(thread)))
        if any("\r" in value or "\n" in value for _, value in fields):
            raise PermanentSendError("not sent: a header value holds a line break")
        if (self.account.sender + to).isascii():
            data = compose(fields, text)
            await self._submit(lambda client: client.sendmail(self.account.sender, [to], data))
        else:  # an internationalised address: the library's message, sent with SMTPUTF8
            mail = EmailMessage()
            for name, value in fields:
                mail[name] = value
            mail.set_content(text)
            mail.add_alternative(as_html(text), subtype="html")
            await self._submit(lambda client: client.send_message(mail))
        return mail_id

    async def _submit(self, send: Callable[[aiosmtplib.SMTP], Awaitable[object]]) -> None:
        """Send over an open connection when one is idle (a session per mail costs five round
        trips and, with TLS, a handshake); a reused connection the server has closed meanwhile
        is replaced by a fresh one once. Connections belong to the event loop that opened them."""
        idle = self._idle.setdefault(asyncio.get_running_loop(), [])
        client = idle.pop() if idle else None
        try:
            if client is not None and client.is_connected:
                try:
                    await send(client)
                except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
                    client.close()
                    client = None
            else:
                client = None
            if client is None:
                client = self._client()
                await client.connect()
                await send(client)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            _keep(idle, client)  # the connection is fine; the address is not
            answers = "; ".join(f"{refused.code} {refused.message}" for refused in exc.recipients)
            if exc.recipients and all(500 <= refused.code < 600 for refused in exc.recipients):
                raise PermanentSendError(f"recipient refused: {answers}", code=str(exc.recipients[0].code)) from exc
            raise TransientSendError(f"recipient deferred: {answers}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            _drop(client)
            if 500 <= exc.code < 600:
                raise PermanentSendError(
                    f"SMTP {exc.code}: {exc.message}", code=str(exc.code), channel_down=exc.code == AUTH_FAILED
                ) from exc
            raise TransientSendError(f"SMTP {exc.code}: {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            _drop(client)
            raise TransientSendError(f"SMTP unreachable: {exc}") from exc
        _keep(idle, client)

    def _client(self) -> aiosmtplib.SMTP:
        account = self.account
        return aiosmtplib.SMTP(
            hostname=account.host,
            port=account.port,
            username=account.username,
            password=account.password.get_secret_value() if account.password else None,
            use_tls=account.security == "tls",
            start_tls=account.security == "starttls",
            timeout=self.timeout,
        )


def _keep(idle: list[aiosmtplib.SMTP], client: aiosmtplib.SMTP | None) -> None:
    if client is None or not client.is_connected:
        return
    if len(idle) < MAX_IDLE_CONNECTIONS:
        idle.append(client)
    else:
        client.close()


def _drop(client: aiosmtplib.SMTP | None) -> None:
    if client is not None:
        client.close()


def as_html(text: str) -> str:
    """The text as simple HTML: a paragraph per blank-line block, its line breaks kept."""
    blocks = [block for block in text.replace("\r\n", "\n").split("\n\n") if block.strip()]
    body = "".join(f"<p>{html.escape(block).replace(chr(10), '<br>')}</p>" for block in blocks)
    return f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>{body}</body></html>'


def compose(fields: list[tuple[str, str]], text: str) -> bytes:
    """The mail as bytes: the header fields (a non-ASCII value as RFC 2047 words), the text as
    text/plain with an HTML alternative, both UTF-8 in base64. Written directly because the
    library's ``EmailMessage`` costs about 1 ms of CPU a mail to build and flatten, as much as
    the rest of a receipt's sending."""
    boundary = "=_satupintu_alternative"  # never in base64 ("_" is not of its alphabet), so one will do
    lines = [f"{name}: {_header_value(name, value)}" for name, value in fields]
    lines += ["MIME-Version: 1.0", f'Content-Type: multipart/alternative; boundary="{boundary}"', ""]
    plain = text.replace("\r\n", "\n").replace("\n", "\r\n")
    for subtype, body in (("plain", plain), ("html", as_html(text))):
        lines += [f"--{boundary}", f'Content-Type: text/{subtype}; charset="utf-8"']
        encoded = base64.encodebytes(body.encode()).decode().rstrip().replace("\n", "\r\n")
        lines += ["Content-Transfer-Encoding: base64", "", encoded]
    lines += [f"--{boundary}--", ""]
    return "\r\n".join(lines).encode("ascii")


def _header_value(name: str, value: str) -> str:
    """ASCII as it is (folded at its spaces when too long for a line: a long References), else
    RFC 2047 encoded words."""
    if not value.isascii():
        return Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
    return value if len(value) <= LINE_CHARS else value.replace(" ", "\r\n ")
