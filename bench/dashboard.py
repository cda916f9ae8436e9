"""The command centre under load, and one township's coverage on a province.

Two measurements, each with its baseline taken in the same run:

1. Pages (SQLite by default): the demo county built through the real path (as bench/load.py
   does, whose machinery this reuses), gunicorn on loopback, 50 users logged in as the
   bureau leader in a closed loop over the county home page and the coverage pages (one in
   five on the wall chart and the map). Baseline: the same load with the page cache off.
   Target: p95 <= 300 ms on every target page, no errors.

2. Province (``--province URL``, PostgreSQL): the demo county built on PostgreSQL, then
   ``--counties`` other counties of ``--per-county`` persons, students, enrolments,
   entitlements and payments each added set-wise (bench/partitions.py's builder) and their
   partitions made. A township officer's coverage page (every measure, at township, village
   and school level, each as one page asks it) is computed with the cache off before the
   province is added (the baseline) and after. Target: <= 1 s on the province.

    .venv/bin/python bench/dashboard.py [--reuse] [--seconds 60] [--users 50]
    .venv/bin/python bench/dashboard.py --province postgres://postgres@127.0.0.1:55432/jzbench_dash
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import load  # bench/load.py: build, serve, log in, drive, report

TARGET_PROVINCE_S = 1.0
PAGES = [
    "/",
    "/centre/coverage/",
    "/centre/coverage/?level=township",
    "/centre/coverage/?level=village",
    "/centre/coverage/?level=school",
    "/centre/coverage/trends/",
]
LISTS = ["/centre/wall-chart/", "/centre/map/"]


def pages(argv: list[str]) -> int:
    """The pages under 50 users: bench/load.py with the command centre's pages."""
    load.TARGET_PAGES = PAGES
    load.LIST_PAGES = LISTS
    sys.argv = [sys.argv[0], *argv]
    return load.main()


PROBE = r"""
import datetime as dt, json, statistics, sys, time
import django
django.setup()
from jingzhun.accounts.models import User
from jingzhun.dashboard import coverage
repeat = int(sys.argv[1])
user = User.objects.get(username="township")
today = dt.date.today()
coverage.coverage_at(user=user, on=today, level="township")  # the process warmed once
out = {"levels": {}, "figures": 0, "units": 0}
for level in ("township", "village", "school"):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        units = coverage.coverage_at(user=user, on=today, level=level)  # what one page asks
        times.append(time.perf_counter() - start)
    out["levels"][level] = {"median": statistics.median(times), "max": max(times)}
    out["units"] += len(units)
    out["figures"] += sum(len(u.figures) for u in units)
out["median"] = max(v["median"] for v in out["levels"].values())
out["max"] = max(v["max"] for v in out["levels"].values())
print(json.dumps(out))
"""

ADD = r"""
import sys
import django
django.setup()
sys.path.insert(0, sys.argv[3])
from django.db import connection
from partitions import build
from jingzhun.core.partitions import ensure_partitions
counties = [f"4590{n:02d}" for n in range(1, int(sys.argv[1]) + 1)]
build(counties, int(sys.argv[2]))
ensure_partitions()
with connection.cursor() as cursor:
    cursor.execute("ANALYZE")
print(len(counties))
"""


def _run(code: str, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(load.BIN / "python"), "-c", code, *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit("failed")
    return done.stdout.strip().splitlines()[-1]


def province(args: argparse.Namespace) -> int:
    import json

    var = args.province_var.resolve()
    if not (args.reuse and (var / ".built").exists()):
        load.build(var, args.seed, args.province)
    env = load.environment(var, "off", args.province)
    env["DJANGO_SETTINGS_MODULE"] = "jingzhun.settings"
    alone = json.loads(_run(PROBE, env, str(args.repeat)))
    print(
        f"baseline, the demo county alone: a township officer's coverage page ({alone['units']} "
        f"units at three levels, {alone['figures']} figures), slowest level "
        f"{alone['median'] * 1000:.0f} ms (median of {args.repeat}; "
        + ", ".join(f"{k} {v['median'] * 1000:.0f} ms" for k, v in alone["levels"].items())
        + ")",
        flush=True,
    )
    started = time.perf_counter()
    _run(ADD, env, str(args.counties), str(args.per_county), str(Path(__file__).parent))
    rows = args.counties * args.per_county
    print(
        f"province: {args.counties} more counties x {args.per_county:,} persons, students, "
        f"enrolments, entitlements and payments ({rows * 5:,} rows) added in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    big = json.loads(_run(PROBE, env, str(args.repeat)))
    print(
        f"province: the same pages, slowest level {big['median'] * 1000:.0f} ms (median; "
        f"slowest run {big['max'] * 1000:.0f} ms; "
        + ", ".join(f"{k} {v['median'] * 1000:.0f} ms" for k, v in big["levels"].items())
        + f"): {big['median'] / alone['median']:.2f}x the county alone"
    )
    if big["figures"] != alone["figures"]:
        print("the township's figures changed when other counties were added: a scoping fault")
        return 2
    if big["max"] > TARGET_PROVINCE_S:
        print(f"target <= {TARGET_PROVINCE_S:.0f} s MISSED")
        return 2
    print(f"target <= {TARGET_PROVINCE_S:.0f} s met")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], add_help=False)
    parser.add_argument("--province", default="", help="PostgreSQL URL (recreated)")
    parser.add_argument("--counties", type=int, default=30)
    parser.add_argument("--per-county", type=int, default=35_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--province-var", type=Path, default=Path("/tmp/jingzhun-dashboard-pg"))
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--seed", type=int, default=2018)
    known, rest = parser.parse_known_args()
    if known.province:
        return province(known)
    if known.reuse:
        rest.append("--reuse")
    return pages(rest)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
