"""One IMAP folder read after a (UIDVALIDITY, UID) cursor, with imapclient, in a worker thread.

imapclient is synchronous, so each folder has a session of its own that the connector drives
from a thread, one call at a time (a lock). What the peers get wrong is what this is for
(``peers.md`` §2.4, ``peer-bench.md`` §4): UIDs, never sequence numbers; everything after the
cursor, never only UNSEEN; ``BODY.PEEK[]``, so nothing is marked read; a FETCH answer is taken
only when it is the body of a UID asked for (another client's flag changes arrive in the same
answer, and an expunged message comes back as NIL); a changed UIDVALIDITY starts the folder over.
Processed mail is flagged or moved (``after_import``) only once the cursor, written after
storage, has passed it.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import IMAPClientError, LoginError

from connectors.base import ConnectorAuthFailed, ConnectorNotReady
from connectors.email.config import AccountConfig

logger = logging.getLogger(__name__)

PAGE_SIZE = 250
"""UIDs fetched per FETCH: one round trip carries them all."""
CONNECT_TIMEOUT_SECONDS = 15.0
READ_TIMEOUT_SECONDS = 60.0
IDLE_CHECK_SECONDS = 1.0
"""How often a waiting IDLE looks whether it was asked to stop."""
FLAGGED = b"\\Flagged"
KEEPALIVE_IDLE_SECONDS = 60
KEEPALIVE_INTERVAL_SECONDS = 10
KEEPALIVE_PROBES = 3


@dataclass(frozen=True, slots=True)
class Cursor:
    uidvalidity: int
    uid: int

    def __str__(self) -> str:
        return f"{self.uidvalidity}:{self.uid}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        if not text:
            return None
        validity, _, uid = text.partition(":")
        try:
            return cls(int(validity), int(uid))
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class Fetched:
    uid: int
    data: bytes
    arrived_at: datetime | None


@dataclass(frozen=True, slots=True)
class Page:
    cursor: Cursor
    mails: list[Fetched]
    remaining: int
    """UIDs still after this page."""
    waits: bool
    """The server has IDLE: the next fetch waits on it rather than the loop polling."""


class ImapSession:
    """One folder of one account; every public method runs in a worker thread."""

    def __init__(self, account: AccountConfig, folder: str, *, page_size: int = PAGE_SIZE) -> None:
        self.account = account
        self.folder = folder
        self.page_size = page_size
        self.interrupt = threading.Event()
        """Set from the event loop to end a waiting IDLE (the fetch was cancelled)."""
        self._lock = threading.Lock()
        self._client: IMAPClient | None = None
        self._uidvalidity = 0
        self._capabilities: frozenset[bytes] = frozenset()
        self._handed_over: set[int] = set()
        self._swept = False
        self._caught_up = False

    @property
    def where(self) -> str:
        return f"{self.account.imap_host}:{self.account.imap_port}"

    def next_page(self, cursor: Cursor | None, wait: bool) -> Page:
        """The mail after ``cursor``; with ``wait``, IDLE until some arrives when none is there."""
        with self._lock:
            self.interrupt.clear()
            try:
                return self._next_page(cursor, wait)
            except LoginError as exc:
                self._drop()
                raise ConnectorAuthFailed(f"IMAP {self.where} refused the login: {_text(exc)}") from None
            except (OSError, IMAPClientError, ssl.SSLError) as exc:
                self._drop()
                raise ConnectorNotReady(
                    f"IMAP {self.where} ({self.folder}): {_text(exc) or type(exc).__name__}"
                ) from None

    def answer_at_once(self) -> None:
        """The next call does not IDLE (a new loop reads the folder: it reports before it waits)."""
        self._caught_up = False

    def close(self) -> None:
        """Log out, waiting for a call in flight (an IDLE is interrupted first)."""
        self.interrupt.set()
        if self._lock.acquire(timeout=READ_TIMEOUT_SECONDS):
            try:
                if self._client is not None:
                    with contextlib.suppress(Exception):
                        self._client.logout()
                self._client = None
            finally:
                self._lock.release()

    def _next_page(self, cursor: Cursor | None, wait: bool) -> Page:
        client = self._connect()
        last = cursor.uid if cursor is not None and cursor.uidvalidity == self._uidvalidity else 0
        if cursor is not None and last == 0 and cursor.uid:
            logger.warning(
                "IMAP UIDVALIDITY changed: the folder is read again, nothing stored twice",
                extra={"folder": self.folder, "was": cursor.uidvalidity, "now": self._uidvalidity},
            )
        self._after_import(client, last)
        waits = b"IDLE" in self._capabilities
        uids = self._uids_after(client, last)
        if not uids and wait and waits and self._caught_up:
            self._idle(client)
            uids = [] if self.interrupt.is_set() else self._uids_after(client, last)
        page = uids[: self.page_size]
        # IDLE only once an empty page said "caught up": the loop writes the health, and a
        # newly connected session or a backlog is answered at once
        self._caught_up = not page
        mails = self._bodies(client, page)
        self._handed_over.update(page)
        at = Cursor(self._uidvalidity, page[-1] if page else last)
        return Page(at, mails, remaining=len(uids) - len(page), waits=waits)

    def _connect(self) -> IMAPClient:
        if self._client is not None:
            return self._client
        account = self.account
        assert account.imap_host is not None and account.username and account.password
        client = IMAPClient(
            account.imap_host,
            port=account.imap_port,
            ssl=account.imap_security == "tls",
            use_uid=True,
            timeout=SocketTimeout(connect=CONNECT_TIMEOUT_SECONDS, read=READ_TIMEOUT_SECONDS),
        )
        client.normalise_times = False  # INTERNALDATE with its offset, not as naive local time
        try:
            if account.imap_security == "starttls":
                client.starttls(ssl.create_default_context())
            client.login(account.username, account.password.get_secret_value())
            self._capabilities = frozenset(c.upper() for c in client.capabilities())
            selected = client.select_folder(self.folder, readonly=account.after_import == "keep")
        except Exception:
            with contextlib.suppress(Exception):
                client.shutdown()
            raise
        self._uidvalidity = int(selected[b"UIDVALIDITY"])
        _keep_alive(client.socket())
        self._client = client
        self._swept = False
        self._caught_up = False
        return client

    def _drop(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.shutdown()
        self._client = None

    def _uids_after(self, client: IMAPClient, last: int) -> list[int]:
        """``UID last+1:*`` answers the highest UID even when it is not above ``last``: filtered.
        A NOOP first makes the server take in mail delivered since the last command: otherwise
        the news may come only with the SEARCH answer, and an IDLE after it would wait for more."""
        client.noop()
        return sorted(uid for uid in client.search(["UID", f"{last + 1}:*"]) if uid > last)

    def _bodies(self, client: IMAPClient, uids: list[int]) -> list[Fetched]:
        if not uids:
            return []
        answer = client.fetch(uids, ["BODY.PEEK[]", "INTERNALDATE"])
        found = []
        for uid in uids:  # only the UIDs asked for, and only with a body (an expunged one has none)
            data = answer.get(uid, {})
            body = data.get(b"BODY[]")
            if isinstance(body, bytes) and body:
                found.append(Fetched(uid, body, _utc(data.get(b"INTERNALDATE"))))
        return found

    def _idle(self, client: IMAPClient) -> None:
        """Wait for new mail, at most ``idle_seconds`` (then the caller issues IDLE again)."""
        deadline = time.monotonic() + self.account.idle_seconds
        client.idle()
        quick = 0
        try:
            while not self.interrupt.is_set() and time.monotonic() < deadline:
                asked = time.monotonic()
                responses = client.idle_check(timeout=IDLE_CHECK_SECONDS)
                if any(_is_news(response) for response in responses):
                    return
                # imapclient answers nothing at once when the server has hung up (EOF): twice in
                # a row is a closed connection, not a quiet mailbox
                quick = quick + 1 if not responses and time.monotonic() - asked < IDLE_CHECK_SECONDS / 2 else 0
                if quick >= 2:  # one early return may be a stray wake-up
                    raise ConnectionError("the server closed the connection")
        finally:
            if client.socket().fileno() != -1:
                client.idle_done()

    def _after_import(self, client: IMAPClient, last: int) -> None:
        """Flag or move the mail the cursor has passed (stored, so safe to touch). After a restart,
        ``move`` also sweeps what an earlier process stored but had not moved yet."""
        if self.account.after_import == "keep" or last == 0:
            return
        if self.account.move_to is not None and not self._swept:
            self._handed_over.update(uid for uid in client.search(["UID", f"1:{last}"]) if uid <= last)
            self._swept = True
        done = sorted(uid for uid in self._handed_over if uid <= last)
        if not done:
            return
        if self.account.move_to is None:
            client.add_flags(done, [FLAGGED], silent=True)
        else:
            self._move(client, done, self.account.move_to)
        self._handed_over.difference_update(done)

    def _move(self, client: IMAPClient, uids: list[int], folder: str) -> None:
        if not client.folder_exists(folder):
            client.create_folder(folder)
        if b"MOVE" in self._capabilities:
            client.move(uids, folder)
            return
        client.copy(uids, folder)
        client.add_flags(uids, [b"\\Deleted"], silent=True)
        if b"UIDPLUS" in self._capabilities:
            client.uid_expunge(uids)
        else:
            client.expunge()


def _keep_alive(sock: socket.socket) -> None:
    """TCP keep-alive probes: a connection whose server vanished without closing it (a network
    cut) is noticed in about a minute and a half, not at the end of a 25-minute IDLE."""
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, KEEPALIVE_IDLE_SECONDS)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, KEEPALIVE_INTERVAL_SECONDS)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, KEEPALIVE_PROBES)


def _is_news(response: Any) -> bool:
    return isinstance(response, tuple) and len(response) >= 2 and response[1] in {b"EXISTS", b"RECENT"}


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _text(exc: BaseException) -> str:
    """An exception as one line; imaplib's errors hold the server's answer as bytes."""
    parts: Iterator[str] = (
        a.decode("utf-8", "replace") if isinstance(a, bytes) else str(a) for a in exc.args if a is not None
    )
    text = " ".join(parts).strip()
    if isinstance(exc, socket.timeout | TimeoutError) and not text:
        return "timed out"
    return text
