"""The web form's submission, as the reporting app posts it to ``POST /api/v1/reports``."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

EVENT_SUBMITTED = "report.submitted"
MAX_TEXT_CHARS = 20_000
MAX_ATTACHMENTS = 10

_PHONE_CHARS = re.compile(r"^[0-9+()\-.\s]{4,40}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Submission(BaseModel):
    """One report. Unknown fields are ignored; known ones are checked, each with its own message."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

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
            raise ValueError("is not an email address")
        return value or None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value and not _PHONE_CHARS.match(value):
            raise ValueError("may hold only digits, spaces, +, -, ( ) and dots")
        return value or None

    @model_validator(mode="after")
    def _reachable(self) -> Submission:
        if not self.email and not self.phone:
            raise ValueError("give an email address or a phone number so we can send the receipt")
        return self
