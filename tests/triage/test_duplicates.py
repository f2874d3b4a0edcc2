"""A report sent twice within ``[triage] duplicate_minutes`` (a double click, a chat sent again
on another channel) joins the first case and gets no second receipt; anything else is a case of
its own. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from envelopes import Reporter
from tests.triage.desk import BUDI, RINA, UKT, WIFI, Desk, triage_stage

FORM = Reporter(name="Rina", email="rina@example.id", phone="+6281234567891")


@pytest.fixture
def desk(engine: Engine, tmp_path: Path) -> Desk:
    return Desk(engine, triage_stage(engine), tmp_path / "var")


def test_a_double_click_on_the_form_is_one_case_with_one_receipt(desk: Desk) -> None:
    first = desk.message(RINA, UKT, channel="webform", conversation="webform:a", reporter=FORM)
    desk.triage(first)
    second = desk.message(
        RINA, UKT + " ", channel="webform", conversation="webform:b", reporter=FORM, after=timedelta(seconds=3)
    )
    desk.triage(second)
    assert desk.case_of(second) == desk.case_of(first) is not None
    assert desk.joined_because(second) == "duplicate"
    assert len(desk.outbox("receipt")) == 1 and desk.answers_to(second) == []


def test_two_clicks_in_one_batch_are_one_case(desk: Desk) -> None:
    first = desk.message(RINA, UKT, channel="webform", conversation="webform:a", reporter=FORM)
    second = desk.message(RINA, UKT.upper(), channel="webform", conversation="webform:b", reporter=FORM)
    desk.triage(first, second)
    assert desk.case_of(second) == desk.case_of(first) is not None
    assert len(desk.cases()) == 1 and len(desk.outbox("receipt")) == 1


def test_a_chat_sent_again_by_sms_joins_the_whatsapp_case(desk: Desk) -> None:
    first = desk.send(RINA, UKT, channel="whatsapp")
    again = desk.send(RINA, UKT.replace("SIAKAD", "siakad"), channel="sms", after=timedelta(minutes=3))
    assert desk.case_of(again) == desk.case_of(first)
    assert desk.joined_because(again) == "duplicate"


def test_another_report_of_the_same_person_is_another_case(desk: Desk) -> None:
    first = desk.send(RINA, UKT, channel="webform", conversation="webform:a", reporter=FORM)
    other = desk.send(RINA, WIFI, channel="webform", conversation="webform:b", reporter=FORM)
    assert desk.case_of(other) not in (None, desk.case_of(first))


def test_the_same_text_from_someone_else_is_their_own_case(desk: Desk) -> None:
    first = desk.send(RINA, UKT, channel="whatsapp")
    other = desk.send(BUDI, UKT, channel="whatsapp")
    assert desk.case_of(other) not in (None, desk.case_of(first))
    assert len(desk.outbox("receipt")) == 2


def test_the_same_text_an_hour_later_is_a_new_case(desk: Desk) -> None:
    first = desk.send(RINA, UKT, channel="webform", conversation="webform:a", reporter=FORM)
    later = desk.send(RINA, UKT, channel="webform", conversation="webform:b", reporter=FORM, after=timedelta(hours=1))
    assert desk.case_of(later) not in (None, desk.case_of(first))


def test_the_same_words_about_another_building_are_another_report(desk: Desk) -> None:
    first = desk.send(RINA, "Lampu kelas E-101 mati sejak kemarin.", channel="whatsapp")
    other = desk.send(RINA, "Lampu kelas E-102 mati sejak kemarin.", channel="sms")
    assert desk.case_of(other) not in (None, desk.case_of(first))


def test_a_report_sent_again_anonymously_is_not_put_on_the_named_one(desk: Desk) -> None:
    named = desk.send(RINA, UKT, channel="webform", conversation="webform:a", reporter=FORM)
    again = desk.send(RINA, UKT, channel="webform", conversation="webform:b", reporter=FORM, anonymous=True)
    assert desk.case_of(again) not in (None, desk.case_of(named))
