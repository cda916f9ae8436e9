"""Benchmark: the policy what-if for a province of a million identified students.

`dashboard.whatif.compare_books` evaluates the current 2018 rule book and a draft (boarding
subsidies raised, the vocational extra subsidy removed, two transition years instead of
three) over the same population, both semesters, and compares them (by programme, stage,
township, semester; gainers and losers; the transition rule). The population is bench/aid.py's
synthetic one, with a household village (20 townships of 10 villages) added.

Baseline, measured in the same run: the per-student loop (`aid.evaluate.evaluate_case` for
each student, both books, both semesters, summing per student) on a sample, extrapolated to
the whole population. The loop's totals on the sample must equal compare_books' on the same
sample to the cent, or the benchmark fails. Reading the population from the database
(`aid.compute.load_raw`) is measured by bench/aid.py, not here.

    .venv/bin/python bench/whatif.py [--students 1000000] [--sample 20000] [--rounds 3]

Exit status: 0 when the evaluation takes at most TARGET_SECONDS, 1 when the totals differ,
2 when the time is missed.
"""

from __future__ import annotations

import argparse
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aid as aid_bench  # noqa: E402  # bench/aid.py: the population and Django set-up

TARGET_SECONDS = 10.0
TOWNSHIPS, VILLAGES = 20, 10


def raw_population(n: int) -> pa.Table:
    """Return aid bench's population as aid.compute.load_raw would give it (one enrolment each)."""
    profiles = aid_bench.population(n)
    rng = np.random.default_rng(7)
    town = rng.integers(1, TOWNSHIPS + 1, n)
    village = rng.integers(1, VILLAGES + 1, n)
    codes = np.char.add(
        np.char.add("420101", np.char.zfill(town.astype(str), 3)),
        np.char.zfill(village.astype(str), 3),
    )
    return (
        profiles.append_column("village_code", pa.array(codes))
        .append_column("enrolment_id", profiles.column("student_id"))
        .append_column("school_id", pa.array(rng.integers(1, 300, n)))
    )


def draft_text() -> str:
    from jingzhun.aid.rulebook import shipped_source
    from jingzhun.dashboard.whatif import set_amounts

    text = set_amounts(
        shipped_source(aid_bench.SCHOOL_YEAR),
        {"boarding_primary": Decimal("1200"), "boarding_junior": Decimal("1500")},
    )
    text = text.replace("transition_years: 3", "transition_years: 2")
    # Remove the vocational extra subsidy: its rule, then its programme and its stacking entry.
    start = text.index("  - id: vocational_extra\n")
    end = text.index("  - id:", start + 1)
    text = text[:start] + text[end:]
    start = text.index("  vocational_extra:\n")
    end = text.index("  vocational_placement:\n", start)
    text = text[:start] + text[end:]
    return text.replace("vocational_grant, vocational_extra,", "vocational_grant,")


def loop_totals(current: Any, draft: Any, raw: pa.Table) -> tuple[int, int, int, int]:
    """Return (current cents, draft cents, gainers, losers) by the per-student loop."""
    from jingzhun.aid.evaluate import Profile, evaluate_case
    from jingzhun.aid.rulebook import ENTITLED_KINDS

    fields = [f for f in Profile.__dataclass_fields__ if f in raw.column_names]
    totals = [0, 0, 0, 0]
    for row in raw.select(fields).to_pylist():
        row["boarding"] = bool(row["boarding"])
        profile = Profile(**row)
        cents = []
        for book in (current, draft):
            total = Decimal(0)
            for semester in ("autumn", "spring"):
                for line in evaluate_case(book, profile, semester):
                    if line.kind in ENTITLED_KINDS:
                        total += line.amount
            cents.append(int(total * 100))
        totals[0] += cents[0]
        totals[1] += cents[1]
        totals[2] += cents[1] > cents[0]
        totals[3] += cents[1] < cents[0]
    return totals[0], totals[1], totals[2], totals[3]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    aid_bench.setup_django("")
    from jingzhun.aid.rulebook import load_rulebook, shipped_source
    from jingzhun.dashboard.whatif import check_draft, compare_books

    print(f"machine: {aid_bench.machine()}")
    current = load_rulebook(shipped_source(aid_bench.SCHOOL_YEAR))
    draft = check_draft(draft_text(), aid_bench.SCHOOL_YEAR)
    t = time.perf_counter()
    raw = raw_population(args.students)
    print(f"built {args.students:,} students in {time.perf_counter() - t:.1f} s (untimed)")

    best = float("inf")
    result = None
    for _ in range(args.rounds):
        t = time.perf_counter()
        result = compare_books(current, draft, raw)
        best = min(best, time.perf_counter() - t)
    if result is None:
        raise SystemExit("no rounds")
    print(
        f"compare_books: {args.students:,} students, 2 books x 2 semesters, in {best:.2f} s "
        f"(best of {args.rounds}) = {args.students / best:,.0f} students/s"
    )
    print(
        f"  total {result.total.current} -> {result.total.draft} "
        f"({result.total.difference:+}); gain {result.gainers:,}, lose {result.losers:,}, "
        f"unchanged {result.unchanged:,}; transition {result.transition.current} -> "
        f"{result.transition.draft}"
    )
    for row in result.programmes:
        print(f"  {row.key:22} {row.current:>16} {row.draft:>16} {row.difference:>+15}")

    sample = raw.slice(0, args.sample)
    t = time.perf_counter()
    loop = loop_totals(current, draft, sample)
    loop_t = time.perf_counter() - t
    extrapolated = loop_t * args.students / args.sample
    print(
        f"baseline per-student loop (evaluate_case): {args.sample:,} students in {loop_t:.2f} s, "
        f"extrapolated to {args.students:,}: {extrapolated:,.0f} s"
    )
    print(f"ratio (loop / compare_books): {extrapolated / best:,.0f}x")
    on_sample = compare_books(current, draft, sample)
    ours = (
        int(on_sample.total.current * 100),
        int(on_sample.total.draft * 100),
        on_sample.gainers,
        on_sample.losers,
    )
    if ours != loop:
        print(f"TOTALS DIFFER on the sample: compare_books {ours}, loop {loop}")
        sys.exit(1)
    print(f"sample totals agree to the cent: {ours}")
    print(f"peak RSS: {aid_bench.peak_mb():,.0f} MB")
    if best > TARGET_SECONDS:
        print(f"TARGET MISSED: {best:.2f} s > {TARGET_SECONDS} s")
        sys.exit(2)
    print(f"target met: {best:.2f} s <= {TARGET_SECONDS} s")


if __name__ == "__main__":
    main()
