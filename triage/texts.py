"""The texts sent to reporters and units, as Jinja2 templates an admin edits in ``config/``.

One folder per language (``id/``, ``en/``), one file per text; a rendered text's first line is its
subject and the rest, after a blank line, its body. Every template of every language is loaded
and rendered once with sample facts at start-up (``Texts.load``), so a broken template stops the
process then, with its file named, and never fails at sending time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from config.settings import ConfigError

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
SUFFIX = ".txt.j2"

_SAMPLE_MOMENT = datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
_BASE: dict[str, Any] = {"tracking_number": "ULT-26-00001-3", "confidential": False, "unit_name": "Biro Akademik"}
SAMPLES: dict[str, dict[str, Any]] = {
    "receipt": {
        **_BASE,
        "kind": "pengaduan",
        "first_response_due": _SAMPLE_MOMENT,
        "resolution_due": _SAMPLE_MOMENT,
        "missing": [],
    },
    "request": {**_BASE, "missing": ["identity", "place", "time", "what", "who", "evidence"]},
    "ask": {**_BASE, "question": "Di gedung mana?"},
    "reply": {**_BASE, "text": "Sedang kami periksa."},
    "rejected": {**_BASE, "reason": "Bukan wewenang kami."},
    "extended": {**_BASE, "resolution_due": _SAMPLE_MOMENT, "reason": "Menunggu pihak ketiga."},
    "report": {**_BASE, "text": "AC sudah diperbaiki.", "survey": True},
    "survey": {**_BASE, "link": "https://ult.example/survei/abc"},
    "survey_thanks": {**_BASE, "index": 87.5},
    "unit_notice": {
        **_BASE,
        "kind": "pengaduan",
        "subject": "AC rusak",
        "resolution_due": _SAMPLE_MOMENT,
        "assignee": None,
    },
    "unit_escalation": {**_BASE, "deadline": "resolution", "due": _SAMPLE_MOMENT, "level": "breach"},
    # The answers to messages without a case (triage/caseless.py): how to report; a case's status.
    "greeting": {},
    "greeting_form": {},
    "status": {
        **_BASE,
        "status": "received",
        "status_text": "Diterima, menunggu verifikasi petugas",
        "closed": False,
        "deadline": "first_response",
        "due": _SAMPLE_MOMENT,
    },
    "status_unknown": {},
}
"""Every text and the facts it is given (with sample values): what the start-up check renders."""

FORM_CHANNELS = frozenset({"webform"})
"""Channels a reporter writes to through a form, one submission at a time: nothing they send
there joins a conversation, so "reply" or "send: status <number>" is no advice to give on them."""


def greeting_name(channel: str) -> str:
    """The greeting a channel gets: a form's points to the form, a chat's or email's says
    "send: status <number>"."""
    return "greeting_form" if channel in FORM_CHANNELS else "greeting"


_DAYS = {
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "id": (
        "Januari", "Februari", "Maret", "April", "Mei", "Juni",
        "Juli", "Agustus", "September", "Oktober", "November", "Desember",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip
_ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def format_day(moment: datetime, zone: ZoneInfo, language: str = DEFAULT_LANGUAGE) -> str:
    """``Selasa, 24 November 2026`` / ``Tuesday, 24 November 2026``."""
    local = moment.astimezone(zone)
    days, months = _DAYS.get(language, _DAYS["id"]), _MONTHS.get(language, _MONTHS["id"])
    return f"{days[local.weekday()]}, {local.day} {months[local.month - 1]} {local.year}"


def format_moment(moment: datetime, zone: ZoneInfo, language: str = DEFAULT_LANGUAGE) -> str:
    """``Selasa, 24 November 2026 pukul 16.00 WITA`` / ``Tuesday, 24 November 2026 at 16:00 WITA``."""
    local = moment.astimezone(zone)
    zone_name = _ZONE_NAMES.get(zone.key, zone.key)
    if language == "en":
        return f"{format_day(moment, zone, language)} at {local:%H:%M} {zone_name}"
    return f"{format_day(moment, zone, language)} pukul {local:%H.%M} {zone_name}"


@dataclass(frozen=True, slots=True)
class Text:
    subject: str
    body: str


class Texts:
    """The loaded templates of every language; ``render`` picks the reporter's language."""

    def __init__(self, folder: Path, zone: ZoneInfo) -> None:
        self.folder = folder
        self.zone = zone
        self._environments = {language: self._environment(language) for language in LANGUAGES}

    @classmethod
    def load(cls, folder: Path, zone: ZoneInfo) -> Texts:
        """Load and check every template: a missing or broken one is a ConfigError naming it."""
        texts = cls(folder, zone)
        for language in LANGUAGES:
            for name, facts in SAMPLES.items():
                for confidential in (False, True):
                    texts.render(name, language, **{**facts, "confidential": confidential})
        return texts

    def _environment(self, language: str) -> jinja2.Environment:
        environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.folder / language),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,  # read at start-up like all configuration: no file check per receipt
        )
        environment.filters["moment"] = lambda value: format_moment(value, self.zone, language)
        environment.filters["day"] = lambda value: format_day(value, self.zone, language)
        return environment

    def render(self, name: str, language: str, **facts: Any) -> Text:
        """The text ``name`` in ``language`` (Indonesian when the language has no templates)."""
        if name not in SAMPLES:
            raise KeyError(f"no text named {name!r}")
        language = language if language in self._environments else DEFAULT_LANGUAGE
        path = self.folder / language / f"{name}{SUFFIX}"
        try:
            template = self._environments[language].get_template(f"{name}{SUFFIX}")
            rendered = template.render(**facts)
        except jinja2.TemplateNotFound:
            raise ConfigError(f"templates_dir: {path} is missing") from None
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(f"templates_dir: {path} line {exc.lineno}: {exc.message}") from None
        except jinja2.UndefinedError as exc:
            raise ConfigError(f"templates_dir: {path}: {exc.message} (facts given: {_names(facts)})") from None
        except jinja2.TemplateError as exc:
            raise ConfigError(f"templates_dir: {path}: {exc}") from None
        subject, _, body = rendered.strip().partition("\n")
        if not subject.strip() or not body.strip():
            raise ConfigError(f"templates_dir: {path}: the first line is the subject, then a blank line and the body")
        return Text(subject.strip(), body.strip("\n") + "\n")


def _names(facts: Mapping[str, Any]) -> str:
    return ", ".join(sorted(facts))
