"""Two triage workers take two copies of one LAPOR! report at once (a re-export imported while
the first was being triaged), on PostgreSQL: one case, one update, whichever commits first; the
loser's attempt fails on the unique LAPOR! ID and its retry (the sweeper's) is the update."""

from __future__ import annotations

import csv
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import text

from config.settings import ImportSettings
from connectors.lapor import LaporConnector
from envelopes import WorkItem
from pipeline.app import Parts, Pipeline
from pipeline.imports import read_rows, store_rows
from tests.support import make_settings

EXPORT = Path(__file__).resolve().parents[1] / "fixtures" / "report__dashboard-export.csv"


def one_report(tmp_path: Path, status: str) -> Path:
    rows = list(csv.reader(EXPORT.open(encoding="utf-8", newline="")))[:2]
    rows[1][5] = status
    target = tmp_path / f"{status}.csv"
    with target.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return target


def test_two_copies_triaged_at_once_make_one_case_and_one_update(tmp_path: Path, postgres_url: str) -> None:
    settings = make_settings(tmp_path / "var", database_url=postgres_url, connectors={"lapor": {"enabled": True}})
    parts = Parts.from_settings(settings)
    parts.prepare_database()
    connector = LaporConnector.from_section({})
    ids = []
    for status in ("Diproses", "Selesai"):
        source = one_report(tmp_path, status)
        report = store_rows("lapor", source, read_rows(connector, source, ImportSettings()), parts.engine, None)
        ids.append(report.rows[0].raw_message_id)
    [(_, _, normalize)] = Pipeline(parts, {"normalizer"})._stages()
    normalize.handle([WorkItem(step="normalize", record="raw_message", ids=tuple(ids))])
    stages = [Pipeline(parts, {"triage"})._stages()[0][2] for _ in ids]
    start = threading.Barrier(2)

    def triage(stage: Any, raw_id: int) -> None:
        start.wait()
        stage.handle([WorkItem(step="triage", record="raw_message", ids=(raw_id,))])

    threads = [threading.Thread(target=triage, args=pair) for pair in zip(stages, ids, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for stage, raw_id in zip(stages, ids, strict=True):  # what the sweeper re-publishes
        stage.handle([WorkItem(step="triage", record="raw_message", ids=(raw_id,))])
    with parts.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM cases")).scalar() == 1
        assert connection.execute(text("SELECT count(*) FROM raw_message WHERE state = 'triaged'")).scalar() == 2
        changed = connection.execute(
            text("SELECT count(*) FROM case_event WHERE action = 'external_status_changed'")
        ).scalar()
        assert changed == 1
    parts.engine.dispose()
