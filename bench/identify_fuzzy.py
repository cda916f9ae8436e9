"""Benchmark: the fuzzy identification stage against a bare Splink run, in one process.

Generates a registry residue of --persons persons (all ages, several counties, villages with
local surnames) and a roll residue of --students students: perturbed copies of registry
children (missing, mistyped and transposed IDs, homophones, day/month swaps, missing sex and
village) and children who are in no registry. Trains a model once (timed, not compared), then
runs, alternately and --repeat times each:

(a) the platform: `fuzzy.link(raw persons, raw students, model)`, i.e. prepare (pinyin and ID
    fragments) + Splink predict + one-to-one + evidence columns;
(b) bare Splink: the same model (same comparisons, blocking rules and parameters) in a
    Linker over the already prepared tables on a default DuckDBAPI(), predict at the same
    threshold, then the same greedy one-to-one selection in plain Python.

Prints the best time of each, the ratio (target <= 1.2x), the peak RSS of each run and of
the process (target <= 6 GB), and precision / recall of the platform's links against the
truth.

    .venv/bin/python bench/identify_fuzzy.py [--persons 1500000] [--students 50000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import sys
import time
from pathlib import Path
from statistics import median

import pyarrow as pa
from stdnum.cn import ric

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from jingzhun.demo import names  # noqa: E402
from jingzhun.identification import fuzzy  # noqa: E402


def check_char(body: str) -> str:
    """Return the check character of a 17-digit body (stdnum ignores the last character)."""
    return str(ric.calc_check_digit(body + "0"))


def _rss_now_and_peak() -> tuple[int, int]:
    """Current and peak RSS in bytes (from /proc; peak resettable with clear_refs)."""
    cur = peak = 0
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    cur = int(line.split()[1]) * 1024
                elif line.startswith("VmHWM:"):
                    peak = int(line.split()[1]) * 1024
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return cur, peak


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def gb(n: float) -> str:
    return f"{n / 2**30:.2f} GB"


class Picker:
    def __init__(self, items: list[str], weights: list[float]) -> None:
        self.items = items
        total = float(sum(weights))
        acc = 0.0
        self.cum = []
        for w in weights:
            acc += w / total
            self.cum.append(acc)

    def __call__(self, rng: random.Random) -> str:
        import bisect

        return self.items[min(bisect.bisect(self.cum, rng.random()), len(self.items) - 1)]


MALE = names.MALE_CHARS + names.NEUTRAL_CHARS
FEMALE = names.FEMALE_CHARS + names.NEUTRAL_CHARS
SURNAMES = Picker([s for s, _ in names.SURNAMES], [w for _, w in names.SURNAMES])
EPOCH = dt.date(1970, 1, 1)


def given(rng: random.Random, male: bool) -> str:
    pool = MALE if male else FEMALE
    if rng.random() < 0.2:
        return pool[int(rng.random() * len(pool))]
    return pool[int(rng.random() * len(pool))] + pool[int(rng.random() * len(pool))]


def homophone(rng: random.Random, name: str) -> str:
    positions = [i for i in range(1, len(name)) if name[i] in names.HOMOPHONES]
    if not positions:
        return name
    i = rng.choice(positions)
    return name[:i] + rng.choice(names.HOMOPHONES[name[i]]) + name[i + 1 :]


def generate(n_persons: int, n_students: int, seed: int = 7):
    """Return (persons, students, truth) Arrow tables; truth = (person_id, student_id)."""
    rng = random.Random(seed)
    n_counties = max(1, round(n_persons / 100_000))
    counties = [f"52{27 + i // 99:02d}{1 + i % 99:02d}" for i in range(n_counties)]
    villages = []  # (county, township, village, local surname picker)
    for c in counties:
        for t in range(1, 13):
            township = f"{c}{t:03d}"
            for v in range(1, 16):
                local = rng.sample([s for s, _ in names.SURNAMES[:40]], 3)
                villages.append((c, township, f"{township}{v:03d}", local))
    first_day = (dt.date(1938, 1, 1) - EPOCH).days
    last_day = (dt.date(2022, 12, 31) - EPOCH).days
    child_from = (dt.date(2000, 9, 1) - EPOCH).days
    child_to = (dt.date(2015, 8, 31) - EPOCH).days

    cols: dict[str, list] = {
        k: []
        for k in (
            "person_id",
            "name",
            "id_number",
            "birth_date",
            "sex",
            "village_code",
            "township_code",
        )
    }
    children: list[int] = []
    for i in range(n_persons):
        county, township, village, local = villages[int(rng.random() * len(villages))]
        surname = local[int(rng.random() * 3)] if rng.random() < 0.4 else SURNAMES(rng)
        male = rng.random() < 0.52
        day = (
            child_from + int(rng.random() * (child_to - child_from))
            if rng.random() < 0.12
            else first_day + int(rng.random() * (last_day - first_day))
        )
        born = EPOCH + dt.timedelta(days=day)
        seq = int(rng.random() * 500) * 2 + (1 if male else 0)
        body = f"{county}{born:%Y%m%d}{seq:03d}"
        cols["person_id"].append(i + 1)
        cols["name"].append(surname + given(rng, male))
        cols["id_number"].append(body + check_char(body))
        cols["birth_date"].append(day)
        cols["sex"].append("M" if male else "F")
        cols["village_code"].append(village)
        cols["township_code"].append(township)
        if child_from <= day <= child_to:
            children.append(i)
    persons = pa.table(
        {
            "person_id": pa.array(cols["person_id"], pa.int64()),
            "name": pa.array(cols["name"], pa.string()),
            "id_number": pa.array(cols["id_number"], pa.string()),
            "birth_date": pa.array(cols["birth_date"], pa.int32()).cast(pa.date32()),
            "sex": pa.array(cols["sex"], pa.string()),
            "village_code": pa.array(cols["village_code"], pa.string()),
            "township_code": pa.array(cols["township_code"], pa.string()),
        }
    )

    s: dict[str, list] = {
        k: []
        for k in (
            "student_id",
            "name",
            "id_number",
            "birth_date",
            "sex",
            "village_code",
            "township_code",
        )
    }
    truth_p: list[int] = []
    truth_s: list[int] = []
    n_match = min(int(n_students * 0.6), len(children))
    matched = rng.sample(children, n_match)
    digits = "0123456789"
    for k in range(n_students):
        sid = 10_000_000 + k
        if k < n_match:
            i = matched[k]
            name = cols["name"][i]
            pid = cols["id_number"][i]
            day = cols["birth_date"][i]
            sex = cols["sex"][i]
            village = cols["village_code"][i]
            township = cols["township_code"][i]
            truth_p.append(cols["person_id"][i])
            truth_s.append(sid)
        else:  # a child in no registry
            county, township, village, local = villages[int(rng.random() * len(villages))]
            surname = local[int(rng.random() * 3)] if rng.random() < 0.4 else SURNAMES(rng)
            male = rng.random() < 0.52
            day = child_from + int(rng.random() * (child_to - child_from))
            born = EPOCH + dt.timedelta(days=day)
            seq = int(rng.random() * 500) * 2 + (1 if male else 0)
            body = f"{county}{born:%Y%m%d}{seq:03d}"
            name, pid, sex = (
                surname + given(rng, male),
                body + check_char(body),
                "M" if male else "F",
            )
        # clerical mess
        r = rng.random()
        if r < 0.10:
            name = homophone(rng, name)
        elif r < 0.13:
            pool = MALE if sex == "M" else FEMALE
            name = name[:-1] + pool[int(rng.random() * len(pool))]
        r = rng.random()
        if r < 0.45:
            pid = None
        elif r < 0.75:
            j = int(rng.random() * 18)
            pid = pid[:j] + rng.choice(digits.replace(pid[j], "")) + pid[j + 1 :]
        elif r < 0.85:
            j = int(rng.random() * 17)
            pid = pid[:j] + pid[j + 1] + pid[j] + pid[j + 2 :]
        elif r < 0.90:
            pid = pid[:17]
        born = EPOCH + dt.timedelta(days=day)
        r = rng.random()
        if r < 0.05 and born.day <= 12 and born.day != born.month:
            day = (dt.date(born.year, born.day, born.month) - EPOCH).days
        elif r < 0.10:
            day = day + rng.choice((-10, -1, 1, 10))
        elif r < 0.14:
            day = None
        if rng.random() < 0.1:
            sex = ""
        if rng.random() < 0.4:
            village = None
        if rng.random() < 0.2:
            township = villages[int(rng.random() * len(villages))][1]
        s["student_id"].append(sid)
        s["name"].append(name)
        s["id_number"].append(pid)
        s["birth_date"].append(day)
        s["sex"].append(sex)
        s["village_code"].append(village)
        s["township_code"].append(township)
    students = pa.table(
        {
            "student_id": pa.array(s["student_id"], pa.int64()),
            "name": pa.array(s["name"], pa.string()),
            "id_number": pa.array(s["id_number"], pa.string()),
            "birth_date": pa.array(s["birth_date"], pa.int32()).cast(pa.date32()),
            "sex": pa.array(s["sex"], pa.string()),
            "village_code": pa.array(s["village_code"], pa.string()),
            "township_code": pa.array(s["township_code"], pa.string()),
        }
    )
    truth = pa.table(
        {"person_id": pa.array(truth_p, pa.int64()), "student_id": pa.array(truth_s, pa.int64())}
    )
    return persons, students, truth


def bare_splink(
    persons_prepared: pa.Table, students_prepared: pa.Table, model: dict, threshold: float
) -> int:
    """Splink as documented: Linker over the prepared tables, predict, greedy one-to-one."""
    import copy

    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI()
    linker = Linker(
        [
            db_api.register(persons_prepared, dataset_display_name="persons"),
            db_api.register(students_prepared, dataset_display_name="students"),
        ],
        copy.deepcopy(model),
        log_level=None,
    )
    pred = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
    rows = db_api.duckdb_con.sql(
        f"SELECT unique_id_l, unique_id_r, match_probability FROM {pred.physical_name} "
        "ORDER BY match_probability DESC, unique_id_l, unique_id_r"
    ).fetchall()
    used_l: set[int] = set()
    used_r: set[int] = set()
    links = 0
    for a, b, _ in rows:
        if a in used_l or b in used_r:
            continue
        used_l.add(a)
        used_r.add(b)
        links += 1
    db_api.duckdb_con.close()
    return links


def spark_versus_duckdb(
    persons: pa.Table, students: pa.Table, model: dict, settings: fuzzy.FuzzySettings, repeat: int
) -> None:
    """Time `fuzzy.link` on DuckDB and on Spark (same model, thresholds); check equal links."""
    import dataclasses

    reason = fuzzy.spark_available()
    if reason:
        print(f"Spark not measured: {reason}")
        return
    spark = dataclasses.replace(settings, backend="spark", spark_master="local[*]")
    t0 = time.perf_counter()
    fuzzy.spark_session(spark.spark_master)
    print(f"Spark session started in {time.perf_counter() - t0:.1f} s (not counted)")
    times: dict[str, list[float]] = {"duckdb": [], "spark": []}
    results = {}
    for _ in range(repeat):
        for name, config in (("duckdb", settings), ("spark", spark)):
            t0 = time.perf_counter()
            results[name] = fuzzy.link(persons, students, model, config)
            times[name].append(time.perf_counter() - t0)
    for name, runs in times.items():
        print(
            f"link on {name}: best {min(runs):.1f} s (runs: {', '.join(f'{x:.1f}' for x in runs)})"
        )

    def rows(table: pa.Table) -> dict:
        return {
            (r["person_id"], r["student_id"]): (r["decision"], round(r["match_probability"], 9))
            for r in table.select(
                ["person_id", "student_id", "decision", "match_probability"]
            ).to_pylist()
        }

    a, b = rows(results["duckdb"]), rows(results["spark"])
    same = set(a) == set(b) and all(a[k][0] == b[k][0] for k in a)
    print(
        f"links: DuckDB {len(a):,}, Spark {len(b):,}; {'identical pairs and decisions' if same else 'DIFFERENT'}"
        f"; Spark/DuckDB time {min(times['spark']) / min(times['duckdb']):.2f}x"
    )
    if not same:
        raise SystemExit(1)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--persons", type=int, default=1_500_000)
    ap.add_argument("--students", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--spark",
        action="store_true",
        help="instead of bare Splink, compare the platform's link on DuckDB with the same link "
        "on Splink's Spark backend (local[*]; needs pyspark and Java): times and equal links",
    )
    args = ap.parse_args()

    t0 = time.perf_counter()
    persons, students, truth = generate(args.persons, args.students, args.seed)
    print(
        f"generated {persons.num_rows:,} persons, {students.num_rows:,} students, {truth.num_rows:,} true pairs in {time.perf_counter() - t0:.1f} s"
    )
    print(f"rss after generation: {gb(_rss_now_and_peak()[0])}")

    settings = fuzzy.FuzzySettings()
    t0 = time.perf_counter()
    pp, sp = fuzzy.prepare(persons, students)
    t_prepare = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = fuzzy.train(pp, sp, settings)
    t_train = time.perf_counter() - t0
    print(f"prepare {t_prepare:.2f} s; train {t_train:.1f} s (not compared)")
    if args.spark:
        spark_versus_duckdb(persons, students, model, settings, args.repeat)
        return

    ours: list[float] = []
    bare: list[float] = []
    cpu: dict[str, list[float]] = {"platform": [], "bare": []}
    peaks: dict[str, int] = {"platform": 0, "bare": 0}
    result = None
    for _ in range(args.repeat):
        for which in ("bare", "platform"):
            resettable = _reset_peak()
            c0 = _cpu_seconds()
            t0 = time.perf_counter()
            if which == "platform":
                result = fuzzy.link(persons, students, model, settings)
                ours.append(time.perf_counter() - t0)
            else:
                n_bare = bare_splink(pp, sp, model, settings.review_threshold)
                bare.append(time.perf_counter() - t0)
            cpu[which].append(_cpu_seconds() - c0)
            if resettable:
                peaks[which] = max(peaks[which], _rss_now_and_peak()[1])
    assert result is not None
    a, b = min(ours), min(bare)
    print(
        f"platform prepare+link: best {a:.2f} s, median {median(ours):.2f} s (runs: {', '.join(f'{x:.2f}' for x in ours)})"
    )
    print(
        f"bare Splink predict+1:1: best {b:.2f} s, median {median(bare):.2f} s (runs: {', '.join(f'{x:.2f}' for x in bare)}; {n_bare:,} links)"
    )
    print(f"ratio: {a / b:.2f}x best, {median(ours) / median(bare):.2f}x median (target <= 1.2x)")
    ca, cb = min(cpu["platform"]), min(cpu["bare"])
    print(
        f"CPU time (user+sys, all threads; less sensitive to other load): platform {ca:.2f} s, bare {cb:.2f} s, ratio {ca / cb:.2f}x"
    )
    if peaks["platform"]:
        print(
            f"peak RSS during platform run: {gb(peaks['platform'])}; bare run: {gb(peaks['bare'])}"
        )
    print(
        f"peak RSS of the process: {gb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)} (target <= 6 GB)"
    )

    got = {
        (p, s)
        for p, s in zip(
            result.column("person_id").to_pylist(),
            result.column("student_id").to_pylist(),
            strict=True,
        )
    }
    auto = {
        (p, s)
        for p, s, d in zip(
            result.column("person_id").to_pylist(),
            result.column("student_id").to_pylist(),
            result.column("decision").to_pylist(),
            strict=True,
        )
        if d == "auto"
    }
    true = set(
        zip(
            truth.column("person_id").to_pylist(),
            truth.column("student_id").to_pylist(),
            strict=True,
        )
    )
    for label, found in (("auto", auto), ("auto+review", got)):
        tp = len(found & true)
        precision = tp / len(found) if found else 1.0
        print(
            f"{label}: {len(found):,} links, precision {precision:.4f}, recall {tp / len(true):.4f}"
        )
    print(f"cpus: {os.cpu_count()}")


if __name__ == "__main__":
    main()
