"""The web form's submission, as the reporting app posts it to ``POST /api/v1/reports``."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from connectors.base import BlobRef
from normalizer.rules import normalize_phone

EVENT_SUBMITTED = "report.submitted"
MAX_TEXT_CHARS = 20_000
MAX_ATTACHMENTS = 10

CONTACT_FIELDS = ("email", "phone")
NO_CONTACT = "give an email address or a phone number so we can send the receipt"
BAD_PHONE = "not a valid phone number"
BAD_EMAIL = "is not an email address"

# Codes of the problems the schema itself finds (pydantic's error types name the others).
NO_CONTACT_CODE = "no_contact"
BAD_PHONE_CODE = "bad_phone"
BAD_EMAIL_CODE = "bad_email"

# Control characters are refused in an address: PostgreSQL cannot store a NUL, and no address has one.
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")


class Submission(BaseModel):
    """One report. Unknown fields are ignored (and not stored); known ones are checked, each with its own message."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, hide_input_in_errors=True)

    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    kind: Literal["pengaduan", "aspirasi", "permintaan_informasi"] | None = None
    subject: str = Field(default="", max_length=300)
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    client_reference: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")
    """The app's idempotency key: the same value twice makes one report."""
    anonymous: bool = False
    """The reporter asks that the work unit not learn who they are."""

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value and not _EMAIL.match(value):
            raise PydanticCustomError(BAD_EMAIL_CODE, BAD_EMAIL)
        return value or None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        # The normalizer's own rule: a number accepted here always becomes an E.164 contact.
        if value and normalize_phone(value) is None:
            raise PydanticCustomError(BAD_PHONE_CODE, BAD_PHONE)
        return value or None

    @model_validator(mode="after")
    def _reachable(self) -> Submission:
        # Anonymous reports too: anonymity hides the reporter from the work unit, not from the ULT.
        if not self.email and not self.phone:
            raise PydanticCustomError(NO_CONTACT_CODE, NO_CONTACT)
        return self


KNOWN_FIELDS = frozenset(Submission.model_fields)
"""What is stored of a submission: the fields it has, as sent; anything beside them is dropped."""


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with one field: a stable ``code`` (for translations) and an English message."""

    code: str
    message: str
    limit: int | None = None
    """The length limit a too-long or too-short value broke."""


class InvalidSubmission(ValueError):
    """The submission has problems, each field with its own."""

    def __init__(self, problems: dict[str, Problem]) -> None:
        super().__init__(problems)
        self.problems = problems

    @property
    def fields(self) -> dict[str, str]:
        """Each field's message, as the JSON API answers it."""
        return {name: problem.message for name, problem in self.problems.items()}


def validate(form: Mapping[str, Any]) -> Submission:
    """The submission, or :class:`InvalidSubmission` naming every problem at once.

    pydantic skips the model-level contact check when a field fails; it is added here so that
    the reporter fixes everything in one round.
    """
    try:
        return Submission.model_validate(form)
    except ValidationError as exc:
        raise InvalidSubmission(_problems(exc, form)) from None


def _problems(exc: ValidationError, form: Mapping[str, Any]) -> dict[str, Problem]:
    problems: dict[str, Problem] = {}
    for error in exc.errors():
        names = [".".join(str(p) for p in error["loc"])] if error["loc"] else list(CONTACT_FIELDS)
        limit = error.get("ctx", {}).get("max_length") or error.get("ctx", {}).get("min_length")
        for name in names:
            problems.setdefault(name, Problem(error["type"], error["msg"], limit))
    if not any(_given(form.get(name)) for name in CONTACT_FIELDS):
        for name in CONTACT_FIELDS:
            problems.setdefault(name, Problem(NO_CONTACT_CODE, NO_CONTACT))
    return problems


def _given(value: Any) -> bool:
    return value is not None and (not isinstance(value, str) or bool(value.strip()))


def fingerprint(submission: Submission, attachments: Iterable[BlobRef]) -> str:
    """SHA-256 of what was submitted, after validation: a retry matches it, another report does not.

    Key order, whitespace around values and JSON-versus-multipart make no difference.
    """
    files = sorted((a.sha256, a.filename, a.content_type) for a in attachments)
    canonical = orjson.dumps(
        {"fields": submission.model_dump(mode="json"), "files": files}, option=orjson.OPT_SORT_KEYS
    )
    return hashlib.sha256(canonical).hexdigest()
