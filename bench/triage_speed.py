"""How long triage's decision takes per message: the gold file's texts, repeated, through the
same :class:`triage.assessment.Assessor` the triage stage calls (classification, then the
confidential / anonymous / urgent / missing decision).

    .venv/bin/python bench/triage_speed.py                      # the gold file x 50, both routings
    .venv/bin/python bench/triage_speed.py --repeat 200 --routing examples/city/routing.toml

Prints milliseconds per message (mean, and the slowest message's mean over its repeats) for the
classifier alone and for the whole decision, and for the classifier's first pass, when no
token has been seen before (names, numbers and typos are first sightings in real traffic). The
target is under 1 ms per message on average,
so that triage is never the pipeline's bottleneck. CPU time of this process, one core.
"""

from __future__ import annotations

import argparse
import csv
import gc
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config.routing import load_routing  # noqa: E402
from pipeline.app import GC_THRESHOLDS  # noqa: E402
from triage.assessment import Assessor  # noqa: E402
from triage.evaluation import Row, message_of  # noqa: E402

GOLD = ROOT.parent / "shared" / "corpus" / "complaints" / "ult-gold-public.csv"
ROUTINGS = (ROOT / "config" / "routing.toml", ROOT / "examples" / "city" / "routing.toml")
TARGET_MS = 1.0


def texts_of(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle)]


def measure(routing_path: Path, texts: Sequence[str], repeat: int) -> dict[str, float]:
    assessor = Assessor(load_routing(routing_path), ["darurat.risiko_bunuh_diri"])
    # the collector as the server sets it (pipeline/app.py): else a full pass over the rules'
    # objects, some 40 ms, lands in one message's figure
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    messages = [message_of(Row(str(n), text, "whatsapp", "Pelapor", {}), n) for n, text in enumerate(texts)]
    classify = assessor.classifier.classify
    start = time.process_time()
    for message in messages:  # every token seen for the first time: the per-token caches are empty
        classify(message.text, message.subject, message.declared_kind)
    first_sight = time.process_time() - start
    for message in messages:  # warm the rest, as a running stage has it
        assessor.assess(message)
    start = time.process_time()
    for _ in range(repeat):
        for message in messages:
            classify(message.text, message.subject, message.declared_kind)
    classified = time.process_time() - start
    slowest = 0.0
    start = time.process_time()
    for message in messages:
        one = time.process_time()
        for _ in range(repeat):
            assessor.assess(message)
        slowest = max(slowest, (time.process_time() - one) / repeat)
    assessed = time.process_time() - start
    count = len(messages) * repeat
    return {
        "first_sight_ms": first_sight / len(messages) * 1000,
        "classify_ms": classified / count * 1000,
        "assess_ms": assessed / count * 1000,
        "slowest_ms": slowest * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=GOLD, help="a CSV file with a 'text' column")
    parser.add_argument("--repeat", type=int, default=50, help="passes over the file")
    parser.add_argument("--routing", type=Path, action="append", help="routing file(s); default: both shipped")
    args = parser.parse_args()
    texts = texts_of(args.file)
    worst = 0.0
    for routing in args.routing or ROUTINGS:
        found = measure(routing, texts, args.repeat)
        worst = max(worst, found["assess_ms"])
        print(
            f"{routing.relative_to(ROOT) if routing.is_relative_to(ROOT) else routing}: "
            f"{len(texts)} messages x {args.repeat}: classify {found['classify_ms']:.3f} ms, "
            f"whole decision {found['assess_ms']:.3f} ms per message "
            f"(slowest message {found['slowest_ms']:.3f} ms; "
            f"classify on first sight of the tokens {found['first_sight_ms']:.3f} ms)"
        )
    print(f"target < {TARGET_MS} ms per message: {'met' if worst < TARGET_MS else 'NOT met'}")
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
