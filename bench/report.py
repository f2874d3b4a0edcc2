#!/usr/bin/env python3
"""Markdown tables from ``bench/webform_e2e.py`` result files (bench/results/*.json).

    .venv/bin/python bench/report.py bench/results/<stamp>-embedded.json bench/results/<stamp>-rabbitmq-postgres.json

Prints one row per file for each measurement (median [min - max] over the reps), then the
server's CPU per message by thread, which says where a one-process pipeline spends its core.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any


def fmt(s: dict[str, Any] | None, digits: int = 0) -> str:
    if not s or not s.get("reps"):
        return "n/a"
    return f"{s['median']:,.{digits}f} [{s['min']:,.{digits}f} – {s['max']:,.{digits}f}]"


def cpu_per_message(runs: list[dict[str, Any]], kind: str) -> dict[str, float]:
    """Median over reps of server CPU ms per message, per thread."""
    per_thread: dict[str, list[float]] = {}
    for run in runs:
        if run.get("kind") != kind or "error" in run or "cpu_whole_run" not in run:
            continue
        count = run.get("accepted") or 0
        if not count:
            continue
        cpu = run["cpu_whole_run"]
        per_thread.setdefault("(whole process)", []).append(1000 * cpu["server_cpu_s"] / count)
        for thread, seconds in cpu.get("server_threads_cpu_s", {}).items():
            per_thread.setdefault(thread, []).append(1000 * seconds / count)
    return {k: round(statistics.median(v), 2) for k, v in per_thread.items()}


def main() -> None:
    import signal

    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    results = [json.loads(path.read_text()) for path in args.files]

    print(
        "| backend | code | accepted/s | end-to-end msgs/s | HTTP p99 ms | server CPU % of a core "
        "| other load (cores) |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in results:
        t = r["summary"].get("throughput")
        if t:
            versions = ", ".join(r["summary"].get("code_versions", [r["git"]["commit"]]))
            print(
                f"| {r['backend']} | {versions} | {fmt(t['accepted_per_s'])} | {fmt(t['e2e_msgs_per_s'])} | "
                f"{fmt(t['http_answer_p99_ms'])} | {fmt(t['server_cpu_pct_during_sends'])} | "
                f"{fmt(t.get('foreign_busy_cores'), 2)} |"
            )
    print()
    print(
        "| backend | code | p50 ms | p90 ms | p99 ms | max ms | HTTP p99 ms | stored→receipt p50 ms "
        "| other load (cores) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        lat = r["summary"].get("latency")
        if lat:
            versions = ", ".join(r["summary"].get("code_versions", [r["git"]["commit"]]))
            print(
                f"| {r['backend']} | {versions} | {fmt(lat['p50'])} | {fmt(lat['p90'])} | {fmt(lat['p99'])} | "
                f"{fmt(lat['max'])} | {fmt(lat['http_answer_p99_ms'])} | {fmt(lat['stored_to_receipt_p50_ms'])} | "
                f"{fmt(lat.get('foreign_busy_cores'), 2)} |"
            )
    print()
    for r in results:
        for kind in ("throughput", "latency"):
            cpu = cpu_per_message(r["runs"], kind)
            if cpu:
                rows = ", ".join(f"{k} {v}" for k, v in sorted(cpu.items(), key=lambda kv: -kv[1]))
                print(f"- {r['backend']} {kind}: server CPU ms per message: {rows}")


if __name__ == "__main__":
    main()
