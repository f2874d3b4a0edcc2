"""``satupintu triage classify|eval``: what triage makes of messages in a CSV file, and how
well that matches the file's labels; the decision is the triage stage's own
(``triage/assessment.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cli.common import EXIT_CONFIG, fail_cleanly, settings
from cli.views import columns
from config.routing import RoutingConfig, load_routing
from triage.assessment import Assessor
from triage.evaluation import Evaluation, InputError, Row, Scores, classify_rows, evaluate, read_rows

CSV_FILE = click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
ROUTING = click.option(
    "--routing",
    "routing_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A routing file other than the configured one (routing_file), e.g. examples/city/routing.toml.",
)


@click.group("triage")
def triage_group() -> None:
    """The classifier on a file of messages: classify them, or measure it against labels."""


def _load(ctx: click.Context, file: Path, routing_file: Path | None) -> tuple[Assessor, RoutingConfig, list[Row]]:
    loaded = settings(ctx)
    routing = load_routing(routing_file or loaded.routing_file)
    try:
        rows = read_rows(file)
    except InputError as exc:
        raise click.exceptions.Exit(_bad_input(exc)) from None
    return Assessor(routing, loaded.sla.urgent_rules), routing, rows


def _bad_input(problem: Exception) -> int:
    click.echo(f"satupintu: {problem}", err=True)
    return EXIT_CONFIG


@triage_group.command("classify")
@CSV_FILE
@click.option(
    "--format",
    "output",
    type=click.Choice(["jsonl", "table"]),
    default="jsonl",
    show_default=True,
    help="jsonl: one JSON object a line, for scripts; table: for people.",
)
@ROUTING
@click.pass_context
@fail_cleanly
def classify_command(ctx: click.Context, file: Path, output: str, routing_file: Path | None) -> None:
    """Classify every row of FILE (a UTF-8 CSV file with the columns id, text and optionally
    channel) as the triage stage would: kind, unit, confidential, anonymous, urgent, complete,
    what is missing, and the rules and words that decided. Labels in the file are never read."""
    assessor, routing, rows = _load(ctx, file, routing_file)
    results = classify_rows(assessor, routing, rows)
    if output == "jsonl":
        for line in results:
            click.echo(json.dumps(line, ensure_ascii=False))
        return
    headers = ("ID", "KIND", "UNIT", "CONFIDENTIAL", "ANONYMOUS", "URGENT", "COMPLETE", "REASONS")
    cells = [
        (
            r["id"],
            r["kind"],
            r["unit"],
            _yes(r["confidential"]),
            _yes(r["anonymous"]),
            _yes(r["urgent"]),
            _yes(r["complete"]) + (f" (missing {', '.join(r['missing'])})" if r["missing"] else ""),
            "; ".join(r["reasons"]) or "-",
        )
        for r in results
    ]
    for text in columns(headers, cells):
        click.echo(text)


def _yes(value: bool) -> str:
    return "yes" if value else "no"


@triage_group.command("eval")
@CSV_FILE
@ROUTING
@click.option(
    "--label-column",
    default="unit",
    show_default=True,
    help="The column with the unit each row should go to (a unit's key, name or alias).",
)
@click.option("--folds", type=click.IntRange(min=0), default=0, help="Split the rows into this many folds by id.")
@click.option(
    "--held-out",
    default="",
    metavar="N[,N...]",
    help="Folds (of --folds) kept aside: their figures are shown apart, their mistakes counted but not listed.",
)
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
@fail_cleanly
def eval_command(
    ctx: click.Context,
    file: Path,
    routing_file: Path | None,
    label_column: str,
    folds: int,
    held_out: str,
    output: str,
) -> None:
    """Classify FILE and compare with its labels (kind, confidential, complete and the unit in
    --label-column): accuracy per label, confidential precision and recall, a confusion table per
    unit and the rows it got wrong with their reasons. Rows with an empty unit label are skipped
    and counted."""
    kept_aside = _folds(held_out, folds)
    assessor, routing, rows = _load(ctx, file, routing_file)
    try:
        found = evaluate(assessor, routing, rows, label_column=label_column, folds=folds, held_out=kept_aside)
    except InputError as exc:
        raise click.exceptions.Exit(_bad_input(exc)) from None
    if output == "json":
        click.echo(json.dumps(found.as_dict(), ensure_ascii=False, indent=2))
    else:
        _report(file, found, folds, kept_aside)


def _report(file: Path, found: Evaluation, folds: int, kept_aside: frozenset[int]) -> None:
    echo = click.echo
    echo(f"{file.name}: {found.scores.rows + (found.held_out.rows if found.held_out else 0)} rows compared")
    if found.skipped:
        echo(f"  {found.skipped} rows skipped: no label in {found.label_column!r}")
    if found.held_out:
        echo(f"  held out: folds {', '.join(map(str, sorted(kept_aside)))} of {folds}")
        _figures("  development", found.scores)
        _figures("  held out   ", found.held_out)
    else:
        _figures("  all rows   ", found.scores)
    if found.folds:
        echo("  per fold:")
        for number, scores in sorted(found.folds.items()):
            _figures(f"    fold {number:<3}", scores)
    if found.unknown:
        unknown = ", ".join(f"{label!r} ({n})" for label, n in found.unknown.most_common())
        echo(f"  labels the routing file has no unit for (counted wrong): {unknown}")
    echo("  per unit (label: correct/total, found instead):")
    for gold, counts in sorted(found.confusion.items()):
        instead = ", ".join(f"{unit} {n}" for unit, n in counts.most_common() if unit != gold)
        echo(f"    {gold:<16} {counts[gold]:>4}/{sum(counts.values()):<4} {instead}")
    _wrong(found)


def _wrong(found: Evaluation) -> None:
    if found.wrong:
        click.echo("  wrong:")
    for miss in found.wrong:
        what = ", ".join(f"{k} {v['found']} (label {v['label']})" for k, v in miss["wrong"].items())
        click.echo(f"    {miss['id']}: {what}")
        click.echo(f"      {' '.join(miss['text'].split())[:160]}")
        click.echo(f"      reasons: {'; '.join(miss['reasons']) or '-'}")
    if found.hidden_wrong:
        click.echo(f"  {found.hidden_wrong} held-out rows have mistakes (not listed)")


def _folds(held_out: str, folds: int) -> frozenset[int]:
    if not held_out.strip():
        return frozenset()
    try:
        chosen = frozenset(int(part) for part in held_out.split(","))
    except ValueError:
        raise click.BadParameter("a list of fold numbers, such as 4,5", param_hint="--held-out") from None
    if not folds or not chosen <= set(range(1, folds + 1)):
        raise click.BadParameter(f"folds are numbered 1 to --folds ({folds})", param_hint="--held-out")
    return chosen


def _figures(title: str, scores: Scores) -> None:
    accuracy = "  ".join(f"{label} {value:.3f}" for label, value in scores.accuracy().items())
    line = f"{title} {scores.rows:>4} rows  {accuracy}"
    if scores.confidential:
        shown = {k: "-" if v is None else f"{v:.3f}" for k, v in scores.confidential_figures().items()}
        line += f"  confidential precision {shown['precision']} recall {shown['recall']}"
    click.echo(line)
