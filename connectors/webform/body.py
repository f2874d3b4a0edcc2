"""Reading a submission from a request: JSON, multipart (with files) or a plain HTML form.

Every way a body can be broken (bytes that are not UTF-8, a malformed part, a file name with
control characters) ends here as :class:`Refused` with a reason, before anything is stored.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage
from aiohttp.web_request import FileField

from connectors.base import CONTROL, BlobRef
from connectors.webform.schema import KNOWN_FIELDS, MAX_ATTACHMENTS

JSON = "application/json"
MULTIPART = "multipart/form-data"
URLENCODED = "application/x-www-form-urlencoded"
CONTENT_TYPES = (JSON, MULTIPART, URLENCODED)
IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_FILENAME = "attachment"
MAX_FILENAME_CHARS = 255

_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
"""The rule of ``client_reference``: printable ASCII, at most 200 characters."""
_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$")


class Refused(Exception):
    """The request cannot be taken as it is; ``code`` names the problem for translations."""

    def __init__(self, status: int, code: str, reason: str, *, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.code = code
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Upload:
    ref: BlobRef
    data: bytes


@dataclass(frozen=True, slots=True)
class Posted:
    """A request body read and parsed, nothing stored yet: the known fields as sent, and the files."""

    form: dict[str, Any]
    uploads: list[Upload]

    @property
    def payload(self) -> bytes:
        """What the raw message keeps: the known fields only, so junk sent beside them is not kept."""
        return orjson.dumps(self.form)


async def read(request: web.Request) -> Posted:
    """The submission in the request, or :class:`Refused`."""
    try:
        if request.content_type == JSON:
            return _json(await request.read())
        if request.content_type == URLENCODED:
            return _urlencoded(await request.read())
        if request.content_type == MULTIPART:
            return await _multipart(request)
    except web.HTTPRequestEntityTooLarge:
        raise Refused(413, "too_large", f"the body is larger than {request.client_max_size} bytes") from None
    raise Refused(415, "content_type", f"send {', '.join(CONTENT_TYPES)}")


def idempotency_key(request: web.Request) -> str | None:
    """The ``Idempotency-Key`` header, held to the rule of ``client_reference``."""
    value = request.headers.get(IDEMPOTENCY_HEADER)
    if value is None:
        return None
    if not _KEY.match(value):
        raise Refused(400, "bad_key", f"{IDEMPOTENCY_HEADER} must be 1 to 200 printable ASCII characters")
    return value


def _json(body: bytes) -> Posted:
    try:
        form = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Refused(400, "malformed", f"malformed JSON: {exc}") from None
    if not isinstance(form, dict):
        raise Refused(422, "malformed", "the body must be a JSON object")
    return Posted(_known(form), [])


def _urlencoded(body: bytes) -> Posted:
    """A plain HTML form: bytes and percent-escapes must be UTF-8 (a browser sends a UTF-8 page's form so)."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeError:
        raise Refused(400, "not_utf8", "the form is not valid UTF-8") from None
    return Posted(_known(_filled(dict(pairs))), [])


async def _multipart(request: web.Request) -> Posted:
    """Fields and files, held in memory (the body limit bounds them) until the fields are valid."""
    try:
        posted = await request.post()
    except UnicodeDecodeError:
        raise Refused(400, "not_utf8", "a form field is not valid UTF-8") from None
    except LookupError as exc:
        raise Refused(400, "malformed", f"unknown charset: {exc}") from None
    except (BadHttpMessage, ValueError) as exc:
        raise Refused(400, "malformed", f"malformed multipart body: {exc}") from None
    files = [value for value in posted.values() if isinstance(value, FileField)]
    if len(files) > MAX_ATTACHMENTS:
        raise Refused(422, "too_many_files", f"at most {MAX_ATTACHMENTS} attachments")
    fields = {key: _text(key, value) for key, value in posted.items() if key in KNOWN_FIELDS}
    return Posted(_filled(fields), [_upload(file) for file in files])


def _text(name: str, value: str | bytes | bytearray | FileField) -> str:
    """A known field's value; a part sent with a non-text type must still be UTF-8 text."""
    if isinstance(value, FileField):
        raise Refused(422, "malformed", f"{name} must be a field, not a file")
    if isinstance(value, str):
        return value
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "not_utf8", f"{name} is not valid UTF-8") from None


def _known(form: dict[str, Any]) -> dict[str, Any]:
    """The fields the schema knows, as sent: junk beside them (9 MB of it, once) is never stored."""
    return {name: value for name, value in form.items() if name in KNOWN_FIELDS}


def _filled(form: dict[str, str]) -> dict[str, str]:
    """A browser sends every field of a form, the empty ones too: empty means not given."""
    return {name: value for name, value in form.items() if value.strip()}


def _upload(file: FileField) -> Upload:
    data = file.file.read()
    ref = BlobRef(
        filename=clean_filename(file.filename),
        content_type=_media_type(file.content_type),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    return Upload(ref, data)


def clean_filename(name: str) -> str:
    """The file's name as officers will see it: NFC, its last path part, no control characters.

    Control characters (a NUL, which PostgreSQL cannot store, an escape) are dropped rather than
    the file refused: the file is the evidence, its name only a label. A name whose bytes were
    not UTF-8 cannot be shown faithfully, so the request is refused.
    """
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise Refused(400, "not_utf8", "the name of an attached file is not valid UTF-8") from None
    cleaned = CONTROL.sub("", unicodedata.normalize("NFC", name))
    cleaned = cleaned.replace("\\", "/").rsplit("/", 1)[-1].strip()  # old browsers send C:\...\name
    return cleaned[:MAX_FILENAME_CHARS] or DEFAULT_FILENAME


def _media_type(content_type: str) -> str:
    """``type/subtype`` of the part, parameters dropped; anything else is octet-stream."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media if len(media) <= 255 and _MEDIA_TYPE.match(media) else "application/octet-stream"
