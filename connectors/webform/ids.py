"""Report ids handed to reporters: ``<raw id>-<HMAC>``, so a status cannot be read by guessing numbers."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets

from connectors.base import Ingest

SECRET_STATE_KEY = "status_secret"
MAX_NUMBER_DIGITS = 18
SIGNATURE_CHARS = 20


class ReportIds:
    """Signs and checks report ids with the configured secret, or one generated once and kept."""

    def __init__(self, channel: str, ingest: Ingest, secret: str | None) -> None:
        self.channel = channel
        self.ingest = ingest
        self._secret = secret.encode() if secret is not None else None
        self._lock = asyncio.Lock()

    async def sign(self, raw_id: int) -> str:
        digest = hmac.new(await self._key(), f"{self.channel}:{raw_id}".encode(), hashlib.sha256).hexdigest()
        return f"{raw_id}-{digest[:SIGNATURE_CHARS]}"

    async def verify(self, report_id: str) -> int | None:
        """The raw id a report id names, or None for anything not signed by us (any text at all)."""
        if not report_id.isascii():
            return None
        number, _, _ = report_id.partition("-")
        if not number.isdigit() or len(number) > MAX_NUMBER_DIGITS:
            return None
        expected = await self.sign(int(number))
        return int(number) if hmac.compare_digest(expected, report_id) else None

    async def _key(self) -> bytes:
        if self._secret is None:
            async with self._lock:
                if self._secret is None:
                    kept = await self.ingest.state_setdefault(self.channel, SECRET_STATE_KEY, secrets.token_hex(32))
                    self._secret = kept.encode()
        return self._secret
