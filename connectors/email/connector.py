"""The email channel: the unit's mailboxes read over IMAP, answers sent over SMTP.

Inbound, each folder of each account is a pull source (``main:INBOX``, ``beasiswa:INBOX``): the
framework runs its loop under a lease and keeps its cursor (``imap.py`` reads after it). A page's
attachments go into the blob store before the page is handed over, so that the stored raw mail
and its parts are durable together. Outbound, a mail is answered from the account it came to
(``channel_user_id`` is ``<account>:<address to answer>``); a receipt for another channel's
report goes from the main account. Receipts never go to our own addresses or to no-reply ones,
and one address gets at most ``auto_replies_per_hour`` automatic mails an hour (per process).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import ClassVar

from connectors.base import (
    BlobRef,
    Connector,
    ConnectorContext,
    ConnectorSpec,
    FetchResult,
    Ingest,
    NormalizedMessage,
    Outbound,
    OutboundMessage,
    PermanentSendError,
    PullInbound,
    RawMessage,
    SendResult,
)
from connectors.email.automatic import is_no_reply
from connectors.email.config import MAIN, AccountConfig, EmailConfig
from connectors.email.imap import Cursor, Fetched, ImapSession
from connectors.email.mime import may_hold_files, read_mail
from connectors.email.parser import CHANNEL, MailSettings, kept_parts, mail_key, parse_mail
from connectors.email.smtp import SmtpMailer

EVENT = "mail"
OWN_MAIL = "own_mail"
HOUR_SECONDS = 3600.0


class EmailConnector(Connector[EmailConfig], PullInbound, Outbound):
    spec = ConnectorSpec(
        name=CHANNEL,
        display_name="Email",
        roles=frozenset({"pull", "send"}),
        event_types=frozenset({EVENT}),
        ignored_event_types=frozenset({OWN_MAIL}),
        capabilities=frozenset({"attachments", "threading", "imap_idle", "proves_email"}),
    )
    config_model = EmailConfig
    poll_interval_seconds: ClassVar[float] = 2.0
    """After a fetch that found nothing: the next one IDLEs (a server without IDLE is looked at
    again after this long)."""

    def __init__(self, config: EmailConfig, context: ConnectorContext | None = None) -> None:
        super().__init__(config, context)
        self.accounts = config.all_accounts()
        self.mailers = {name: SmtpMailer(account.smtp()) for name, account in self.accounts.items()}
        self.mailer = self.mailers[MAIN]
        """The main account's: the web form's email receipts go out through it."""
        self.own = config.own_addresses()
        self.sessions: dict[str, ImapSession] = {}
        self.account_of: dict[str, str] = {}
        """Each pull source's account name."""
        for name, account in self.accounts.items():
            for folder in account.folders if account.inbound else []:
                source = folder if name == MAIN else f"{name}:{folder}"
                self.sessions[source] = ImapSession(account, folder)
                self.account_of[source] = name
        self._ingest: Ingest | None = None
        self._sent_automatic: defaultdict[str, dict[str, float]] = defaultdict(dict)
        """Per address, the automatic mails sent within the hour: outbox key -> when."""

    # --- inbound ---------------------------------------------------------------------------

    def pull_sources(self) -> Sequence[str]:
        return tuple(self.sessions)

    def use_ingest(self, ingest: Ingest) -> None:
        """A pull loop starts on this connector: its first fetch of each folder answers at once."""
        self._ingest = ingest
        for session in self.sessions.values():
            session.answer_at_once()

    async def fetch(self, source: str, cursor: str | None) -> FetchResult:
        session = self.sessions[source]
        try:
            page = await asyncio.to_thread(session.next_page, Cursor.parse(cursor), self.may_wait)
        except asyncio.CancelledError:
            session.interrupt.set()  # ends a waiting IDLE in its thread
            raise
        messages = [await self._raw(self.account_of[source], session, mail, page.cursor) for mail in page.mails]
        # after a page of mail, go on at once: the next fetch takes what came meanwhile, or IDLEs
        return FetchResult(messages, str(page.cursor), more=page.remaining > 0 or bool(messages), behind=page.remaining)

    async def _raw(self, account_name: str, session: ImapSession, mail: Fetched, cursor: Cursor) -> RawMessage:
        account = self.accounts[account_name]
        refs = await self._blobs(mail.data, account)
        return RawMessage(
            channel=CHANNEL,
            external_id=mail_key(mail.data),
            received_at=mail.arrived_at or datetime.now(UTC),
            content_type="message/rfc822",
            payload=mail.data,
            headers={
                "x-satupintu-event": EVENT,
                "account": account_name,
                "folder": session.folder,
                "uid": str(mail.uid),
                "uidvalidity": str(cursor.uidvalidity),
            },
            attachments=tuple(refs),
        )

    async def _blobs(self, data: bytes, account: AccountConfig) -> list[BlobRef]:
        """The mail's parts within the size limit, in the blob store (the parser refers to them)."""
        if not may_hold_files(data):
            return []
        mail = await asyncio.to_thread(read_mail, data)
        kept, _ = kept_parts(mail, account.max_attachment_bytes)
        if kept and self._ingest is None:
            raise RuntimeError("the email connector was not given the ingest (PullInbound.use_ingest)")
        refs = []
        for part in kept:
            assert self._ingest is not None
            sha256 = await self._ingest.put_blob(part.data)
            refs.append(
                BlobRef(filename=part.filename, content_type=part.content_type, size=len(part.data), sha256=sha256)
            )
        return refs

    def parse(self, raw_id: int, raw: RawMessage) -> NormalizedMessage | None:
        name = raw.headers.get("account", MAIN)
        account = self.accounts.get(name, self.config)
        settings = MailSettings(name, account.max_attachment_bytes, self.own)
        return parse_mail(raw_id, raw, settings)

    async def stop(self) -> None:
        await asyncio.gather(*(asyncio.to_thread(s.close) for s in self.sessions.values()))

    # --- outbound --------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> SendResult:
        account, address = self._target(message)
        if address.lower() in self.own:
            raise PermanentSendError("not sent: the address is one of the unit's own (a mail loop)")
        if is_no_reply(address):
            raise PermanentSendError("not sent: a no-reply or mail-system address reads no mail")
        automatic = message.purpose != "reply"
        allowed = self.accounts[account].auto_replies_per_hour
        if automatic and not self._within_rate(address, message.idempotency_key, allowed):
            raise PermanentSendError(
                f"not sent: the address had auto_replies_per_hour ({allowed}) automatic mails in the last hour"
            )
        in_reply_to = message.in_reply_to if message.in_reply_to and message.in_reply_to.startswith("<") else None
        accepted = await self.mailers[account].send_mail(
            to=address,
            subject=message.subject,
            text=message.text,
            message_id=message.idempotency_key,
            in_reply_to=in_reply_to,
            automatic=automatic,
        )
        return SendResult(accepted)

    def _target(self, message: OutboundMessage) -> tuple[str, str]:
        """The account to send from and the address: the one the mail came to and its answer
        address for a conversation on this channel, else the main account and the given address."""
        recipient = message.recipient
        if recipient.via == "conversation" and recipient.channel_user_id and ":" in recipient.channel_user_id:
            account, _, address = recipient.channel_user_id.partition(":")
            if account in self.accounts and "@" in address:
                return account, address
        if not recipient.email:
            raise PermanentSendError("the recipient has no email address")
        return MAIN, recipient.email

    def _within_rate(self, address: str, key: str, per_hour: int) -> bool:
        """Count the automatic mail ``key`` to ``address`` if it is within the hourly allowance
        (a retry of the same outbox row is not counted again)."""
        sent = self._sent_automatic[address.lower()]
        now = time.monotonic()
        for old in [k for k, at in sent.items() if at <= now - HOUR_SECONDS]:
            del sent[old]
        if key in sent:
            return True
        if len(sent) >= per_hour:
            return False
        sent[key] = now
        return True
