"""Every word of the console's pages exists in Indonesian and in English: no template names a key
the catalogue lacks, and every code a page names through a group (an action, a deadline, a
status) has its words in both languages."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from console import i18n
from console.caseforms import OFFERED
from storage.models import CASE_STATUSES
from triage.lifecycle import CHECKLIST

TEMPLATES = Path(i18n.__file__).parent / "templates"
KEY = re.compile(r"""\bt\(\s*["']([a-z_.]+)["']""")


def test_every_key_a_template_names_is_in_the_catalogue() -> None:
    named = {key for page in TEMPLATES.glob("*.html") for key in KEY.findall(page.read_text())}
    named = {key for key in named if not key.endswith(".")}  # a group's prefix: see the next test
    assert named, "the templates name their words through t()"
    assert named - i18n.keys() == set()


def test_every_code_the_pages_name_by_group_has_words_in_both_languages() -> None:
    wanted = {
        *(f"action.{name}" for name in (*OFFERED, "unmerge", "unsplit")),
        *(f"status.{status}" for status in CASE_STATUSES),
        *(f"step.{step}" for step in CHECKLIST),
        *(f"deadline.{name}" for name in ("verify", "first_response", "resolution", "final")),
        *(f"role.{role}" for role in ("admin", "ult", "unit", "auditor")),
        "reg.walkin",
        "reg.letter",
        "reg.medium.letter",
        "reg.medium.fax",
    }
    assert wanted - i18n.keys() == set()
    english, indonesian = i18n.Translator("en"), i18n.Translator("id")
    for key in wanted:
        assert english(key) != key and indonesian(key) != key


def test_the_language_is_what_was_asked_then_the_cookie_the_officer_and_the_default() -> None:
    assert i18n.choose("en", "id", "id") == "en"
    assert i18n.choose(None, "en", "id") == "en"
    assert i18n.choose("fr", None, "en") == "en"
    assert i18n.choose(None, None, None) == "id"


def test_time_left_reads_as_officers_say_it() -> None:
    indonesian, english = i18n.Translator("id"), i18n.Translator("en")
    assert indonesian.time_left(timedelta(days=2, hours=5)) == "2 hari lagi"
    assert indonesian.time_left(-timedelta(hours=3, minutes=10)) == "terlambat 3 jam"
    assert english.time_left(timedelta(minutes=12)) == "12 minutes left"
    assert english.code("status", "in_progress") == "In progress"
    assert english.code("status", "something_new") == "something_new"
