"""Accuracy: a generated county in the national layouts, loaded with the documented commands.

Generates the county (`jingzhun demo-data --layout national`), sets it up, imports the
registry export, the GBK roll export, the university list, the outside confirmations and
the poor villages with `jingzhun import`, runs `jingzhun identify`, and scores the result
against the generator's truth: link precision and recall over all true links, precision and
recall of the out-of-school list and of the outside-the-county list. Prints each figure with
its target; exit status 2 when a target is missed.

    .venv/bin/python bench/accuracy.py [--seed 2018] [--data DIR] [--postgres URL]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from jingzhun.demo.national import NATIONAL_FILES  # noqa: E402

JINGZHUN = str(ROOT / ".venv" / "bin" / "jingzhun")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--postgres", default="", help="run on this PostgreSQL database URL")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="jingzhun-accuracy-"))
    data = args.data or work / "county"
    env = dict(os.environ, JINGZHUN_TESTING="1")
    env["DATABASE_URL"] = args.postgres or f"sqlite:///{work / 'db.sqlite3'}"

    def run(*cmd: str) -> None:
        done = subprocess.run([JINGZHUN, *cmd], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.stderr.write(done.stdout + done.stderr)
            raise SystemExit(f"failed: jingzhun {' '.join(cmd)}")

    started = time.perf_counter()
    if not (data / "truth-links.csv").exists():
        run(
            "demo-data",
            "--layout",
            "national",
            "--seed",
            str(args.seed),
            "--school-year",
            "2018",
            "--out",
            str(data),
        )
    run("migrate", "--noinput")
    run(
        "county-setup",
        "--code",
        "422827",
        "--name",
        "清溪县",
        "--school-year",
        "2018",
        "--admin",
        "clerk",
        "--generate-password",
    )
    for kind, name in NATIONAL_FILES:
        run("import", kind, str(data / name), "--school-year", "2018")
    run("identify", "--as-of", "2018-10-08", "--yes")
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jingzhun.settings")
    import django

    django.setup()
    from jingzhun.demo.accuracy import measure, report

    scores = measure(data, "422827")
    missed = False
    print(f"county seed {args.seed}, {time.perf_counter() - started:.0f} s end to end")
    for name, score in scores.items():
        print(
            f"  {name}: {score.true_positive} right of {score.predicted} listed, "
            f"{score.actual} true"
        )
    for name, value, target, met in report(scores):
        print(f"  {name:26s} {value:.4f}  target {target:.3f}  {'met' if met else 'MISSED'}")
        missed |= not met
    return 2 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
