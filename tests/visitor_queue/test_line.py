"""The walk-in desk's queue as the procedure words it, on SQLite and PostgreSQL: three calls then
set aside, a returning visitor after three waiting numbers, numbers unique when officers take
them at once, a fresh count each day in WITA, and the day's figures."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from config.settings import QueueCounter, QueueSettings
from storage.db import create_db_engine, reading
from visitor_queue.figures import day_figures
from visitor_queue.line import Line, QueueRefused
from visitor_queue.spoken import announcement

WITA = ZoneInfo("Asia/Makassar")
MORNING = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09.00 WITA, a Tuesday
COUNTERS = [
    QueueCounter(key="pengaduan", name="Loket Pengaduan", prefix="A"),
    QueueCounter(key="informasi", name="Loket Informasi", prefix="B"),
]


def queue(engine: Engine, **settings: object) -> Line:
    return Line(engine, QueueSettings(enabled=True, counters=COUNTERS, **settings), WITA)  # type: ignore[arg-type]


def order(line: Line, now: datetime = MORNING) -> list[str]:
    return [ticket.number for ticket in line.status("pengaduan", now).waiting]


def at(minutes: float) -> datetime:
    return MORNING + timedelta(minutes=minutes)


def test_a_number_is_called_three_times_then_set_aside_and_the_next_one_called(migrated_engine: Engine) -> None:
    line = queue(migrated_engine)
    first = line.take("pengaduan", at(0))
    second = line.take("pengaduan", at(1))
    assert (first.ticket.number, first.ahead, second.ticket.number, second.ahead) == ("A001", 0, "A002", 1)

    calls = [line.call("pengaduan", at(5 + n)) for n in range(3)]
    assert [(c.ticket.number if c.ticket else None, c.call, c.set_aside) for c in calls] == [
        ("A001", 1, None),
        ("A001", 2, None),
        ("A001", 3, None),
    ]
    with pytest.raises(QueueRefused) as spent:
        line.call_again("pengaduan", at(8))
    assert spent.value.code == "calls_spent"

    fourth = line.call("pengaduan", at(9))
    assert fourth.set_aside == "A001" and fourth.ticket is not None and fourth.ticket.number == "A002"
    assert fourth.call == 1
    status = line.status("pengaduan", at(9))
    assert status.current is not None and status.current.number == "A002"
    assert [t.number for t in status.set_aside] == ["A001"] and status.waiting == []
    assert [c.sequence for c in [*calls, fourth]] == [1, 2, 3, 4]

    line.served("A002", at(12), "petugas")
    nobody = line.call("pengaduan", at(13))
    assert nobody.ticket is None and nobody.set_aside is None


def test_a_visitor_who_comes_back_is_called_after_three_waiting_numbers(migrated_engine: Engine) -> None:
    line = queue(migrated_engine)
    for minute in range(6):
        line.take("pengaduan", at(minute))  # A001 .. A006
    line.call("pengaduan", at(10))  # A001
    line.not_present("pengaduan", at(11))
    line.call("pengaduan", at(12))  # A002 comes
    assert order(line) == ["A003", "A004", "A005", "A006"]

    ticket, place = line.returned("A001", at(13))
    assert ticket.state == "waiting" and place == 4
    assert order(line) == ["A003", "A004", "A005", "A001", "A006"]

    line.served("A002", at(14))
    called = []
    for minute in range(5):
        made = line.call("pengaduan", at(15 + minute))
        assert made.ticket is not None
        called.append(made.ticket.number)
        line.served(made.ticket.number, at(15.5 + minute))
    assert called == ["A003", "A004", "A005", "A001", "A006"]


def test_a_returning_visitor_with_few_waiting_goes_last_and_only_a_set_aside_number_returns(
    migrated_engine: Engine,
) -> None:
    line = queue(migrated_engine, calls_before_skip=1)
    for minute in range(3):
        line.take("pengaduan", at(minute))
    line.call("pengaduan", at(5))  # A001, once
    line.call("pengaduan", at(6))  # A001 set aside, A002 called
    assert order(line) == ["A003"]
    _, place = line.returned("A001", at(7))
    assert place == 2 and order(line) == ["A003", "A001"]
    for number, code in (("A003", "not_set_aside.waiting"), ("A009", "no_such_number"), ("Z001", "unknown_number")):
        with pytest.raises(QueueRefused) as refused:
            line.returned(number, at(8))
        assert refused.value.code == code


def test_served_by_hand_ends_a_visit_the_system_never_called_and_twice_changes_nothing(
    migrated_engine: Engine,
) -> None:
    line = queue(migrated_engine)
    line.take("informasi", at(0))
    served = line.served("b-1", at(4), "petugas")  # written as the officer reads the paper
    assert (served.number, served.state, served.waited(at(30))) == ("B001", "served", timedelta(minutes=4))
    again = line.served("B001", at(9), "petugas")
    assert again.served_at == served.served_at


def test_numbers_start_again_each_day_in_the_units_zone(migrated_engine: Engine) -> None:
    line = queue(migrated_engine)
    late = datetime(2026, 12, 1, 15, 59, tzinfo=UTC)  # 23.59 WITA, still 1 December
    assert line.take("pengaduan", late - timedelta(minutes=30)).ticket.number == "A001"
    last = line.take("pengaduan", late)
    assert (last.ticket.number, last.ticket.day) == ("A002", "2026-12-01")
    midnight = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)  # 00.00 WITA, 2 December (still 1 December in UTC)
    first = line.take("pengaduan", midnight)
    assert (first.ticket.number, first.ticket.day, first.ahead) == ("A001", "2026-12-02", 0)
    assert order(line, midnight) == ["A001"]
    assert order(line, late) == ["A001", "A002"]
    assert line.take("informasi", midnight).ticket.number == "B001"


def _at_once(work: Callable[[Line], list[str]], url: str, workers: int) -> list[str]:
    """Each worker with an engine of its own (as separate processes would be), started together."""
    results: list[list[str]] = []
    failures: list[BaseException] = []
    start = threading.Barrier(workers)

    def run() -> None:
        engine = create_db_engine(url)
        try:
            start.wait()
            results.append(work(queue(engine, calls_before_skip=1)))
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    return [number for numbers in results for number in numbers]


def test_officers_taking_numbers_at_once_never_get_the_same_one(migrated_engine: Engine) -> None:
    url = migrated_engine.url.render_as_string(hide_password=False)
    taken = _at_once(lambda line: [line.take("pengaduan", at(0)).ticket.number for _ in range(15)], url, 6)
    assert sorted(taken) == [f"A{n:03d}" for n in range(1, 91)]


def test_two_counter_officers_calling_at_once_call_each_number_once(migrated_engine: Engine) -> None:
    line = queue(migrated_engine, calls_before_skip=1)
    for _ in range(40):
        line.take("pengaduan", at(0))
    url = migrated_engine.url.render_as_string(hide_password=False)

    def calls(worker: Line) -> list[str]:
        made = [worker.call("pengaduan", at(1)) for _ in range(20)]
        return [call.ticket.number for call in made if call.ticket is not None]

    called = _at_once(calls, url, 2)
    assert sorted(called) == [f"A{n:03d}" for n in range(1, 41)]
    status = line.status("pengaduan", at(2))
    assert status.calls == 40 and len(status.set_aside) == 39 and status.current is not None


def test_the_days_figures_count_visitors_waiting_times_absences_and_served(migrated_engine: Engine) -> None:
    line = queue(migrated_engine, calls_before_skip=1)
    for minute in range(5):
        line.take("pengaduan", at(minute))  # A001 .. A005 taken at 0 .. 4
    for waited, number in ((10, "A001"), (20, "A002"), (30, "A003")):
        made = line.call("pengaduan", at(waited + int(number[-1]) - 1))
        assert made.ticket is not None and made.ticket.number == number
        if number != "A002":
            line.served(number, at(waited + 5))
    line.call("pengaduan", at(40))  # A003 was served: A004, waited 37 min; A002 was set aside on the way
    line.take("informasi", at(1))
    with reading(line.engine) as connection:
        figures = {f.counter: f for f in day_figures(connection, line.settings, MORNING.date(), MORNING.date())}
    informasi = figures["informasi"]
    assert (informasi.visitors, informasi.served, informasi.waiting, informasi.wait_median_minutes) == (1, 0, 1, None)
    pengaduan = figures["pengaduan"]
    assert (pengaduan.visitors, pengaduan.served, pengaduan.not_present, pengaduan.waiting) == (5, 2, 1, 1)
    assert pengaduan.wait_median_minutes == 25.0  # waits of 10, 20, 30 and 37 minutes
    assert pengaduan.wait_p90_minutes == 37.0
    with reading(line.engine) as connection:
        assert day_figures(connection, line.settings, date(2026, 12, 2), date(2026, 12, 9)) == []


def test_an_unknown_counter_and_a_queue_switched_off_are_refused(migrated_engine: Engine) -> None:
    with pytest.raises(QueueRefused) as unknown:
        queue(migrated_engine).take("kasir", at(0))
    assert unknown.value.code == "unknown_counter" and "pengaduan, informasi" in str(unknown.value)
    off = Line(migrated_engine, QueueSettings(enabled=False, counters=COUNTERS), WITA)
    with pytest.raises(QueueRefused) as disabled:
        off.take("pengaduan", at(0))
    assert disabled.value.code == "disabled"


def test_the_call_is_announced_with_the_number_read_as_a_number() -> None:
    assert announcement("A012", "Loket Pengaduan") == "Nomor antrian A dua belas, silakan ke Loket Pengaduan"
    assert announcement("B100", "Loket Informasi") == "Nomor antrian B seratus, silakan ke Loket Informasi"
    assert announcement("AB007", "Loket 2") == "Nomor antrian A B tujuh, silakan ke Loket 2"
