"""The one ingestion path of the web form, whether the reporting app or the public page posted.

A refused submission stores nothing: the fields are checked before any file is kept, and a retry
or a reused key with files is answered before its files are written.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from pydantic import ValidationError

from connectors.base import Ingest, RawMessage, Stored, StoredMessage
from connectors.webform import parser
from connectors.webform.body import Posted, Refused, Upload
from connectors.webform.ids import ReportIds
from connectors.webform.schema import EVENT_SUBMITTED, Submission, fingerprint, validate

logger = logging.getLogger(__name__)

CHANNEL = "webform"
MAX_EXTERNAL_ID_CHARS = 512
REUSED_KEY = (
    "client_reference (or Idempotency-Key) was already used for a different report: "
    "send the identical report to retry, or a new client_reference for a new report"
)
STORAGE_RETRY_SECONDS = 5


@dataclass(frozen=True, slots=True)
class Accepted:
    report_id: str
    duplicate: bool


class Intake:
    def __init__(self, ingest: Ingest, ids: ReportIds) -> None:
        self.ingest = ingest
        self.ids = ids

    async def submit(self, posted: Posted, header_key: str | None, submitted_as: str) -> Accepted:
        """Store the submission once; raises :class:`~connectors.webform.schema.InvalidSubmission`
        for bad fields and :class:`Refused` for a reused key (409) or a storage failure (503)."""
        submission = validate(posted.form)
        key = submission.client_reference or header_key
        external_id = (key or uuid.uuid4().hex)[:MAX_EXTERNAL_ID_CHARS]
        if key and posted.uploads:
            earlier = await self.ingest.stored(CHANNEL, external_id)
            if earlier is not None:
                return await self._answer(Stored(earlier.id, created=False), earlier, submission, posted)
        await self._store_files(posted.uploads)
        [stored] = await self.ingest.accept([_raw_message(external_id, posted, submitted_as)])
        earlier = None if stored.created else await self.ingest.stored(CHANNEL, external_id)
        return await self._answer(stored, earlier, submission, posted)

    async def _answer(
        self, stored: Stored, earlier: StoredMessage | None, submission: Submission, posted: Posted
    ) -> Accepted:
        """A new report or a retry of the same one; a key that came with another report is refused.

        The database's unique key decided which submission was first, so concurrent ones agree.
        """
        if earlier is not None:
            digest = fingerprint(submission, [upload.ref for upload in posted.uploads])
            if _fingerprint_of(earlier) != digest:
                raise Refused(409, "reused_key", REUSED_KEY)
        return Accepted(await self.ids.sign(stored.id), duplicate=not stored.created)

    async def _store_files(self, uploads: Sequence[Upload]) -> None:
        """Keep the files before the report that names them; each is written whole or not at all."""
        try:
            for upload in uploads:
                await self.ingest.put_blob(upload.data)
        except OSError:
            logger.exception("attachment could not be stored")
            raise Refused(503, "storage", "storage unavailable, try again", retry_after=STORAGE_RETRY_SECONDS) from None


def _raw_message(external_id: str, posted: Posted, submitted_as: str) -> RawMessage:
    return RawMessage(
        channel=CHANNEL,
        external_id=external_id,
        received_at=datetime.now(UTC),
        content_type="application/json",
        payload=posted.payload,
        headers={parser.EVENT_HEADER: EVENT_SUBMITTED, "x-submitted-as": submitted_as},
        attachments=tuple(upload.ref for upload in posted.uploads),
    )


def _fingerprint_of(report: StoredMessage) -> str | None:
    """The stored report's fingerprint; None if it no longer validates (then it cannot match)."""
    try:
        message = report.message
        return fingerprint(Submission.model_validate(orjson.loads(message.payload)), message.attachments)
    except (orjson.JSONDecodeError, ValidationError):
        return None
