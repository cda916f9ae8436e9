"""Benchmark: a county's reads on a province of counties, before and after partitioning.

Builds a province (``--counties`` counties of ``--per-county`` persons, students,
enrolments, entitlements and payments each, set-wise) on PostgreSQL with every migration
but ``core.0009_partition_by_county``, times a county's reads, applies the migration (timed:
the one-off cost), makes the partitions, and times the same reads again. Every read must
return the same rows before and after (checked).

    flock /tmp/bench.lock .venv/bin/python bench/partitions.py \
        --postgres postgres://postgres@127.0.0.1:55432/jzbench_partition
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

PARTITION_MIGRATION = ("core", "0009_partition_by_county")


def build(counties: list[str], per_county: int) -> None:
    """The province, set-wise (the same shape as tests/scaling/test_partitions.py); only the
    named counties' rows are read and written, so a county already there is left alone."""
    from django.db import connection

    from jingzhun.accounts.models import User
    from jingzhun.registry.models import Area

    def sql(statement: str, params: list[Any] | None = None) -> None:
        with connection.cursor() as cursor:
            cursor.execute(statement, params or [])

    for code in counties:
        county = Area.objects.create(code=code, name=f"C{code}", level="county")
        for t in range(1, 5):
            town = Area.objects.create(
                code=f"{code}{t:03d}", name=f"T{code}{t}", level="township", parent=county
            )
            Area.objects.create(
                code=f"{code}{t:03d}001", name=f"V{code}{t}", level="village", parent=town
            )
    sql(
        "INSERT INTO schools_school (code, name, kind, location, township_id, in_poor_village, "
        "boarding, row_hash) SELECT 'S' || a.code, 'School ' || a.code, 'primary', "
        "'in_county', a.id, false, false, '' FROM registry_area a WHERE a.level = 'township' "
        "AND substr(a.code, 1, 6) = ANY(%s)",
        [counties],
    )
    per_village = per_county // 4
    sql(
        "INSERT INTO registry_household (household_no, village_id, status, relapsed, "
        "poverty_cause, minimum_income, bank_name, bank_masked, row_hash) "
        "SELECT 'H' || v.code || '-' || g, v.id, 'registered', false, '', false, '', '', '' "
        "FROM registry_area v, generate_series(1, %s) g WHERE v.level = 'village' "
        "AND substr(v.code, 1, 6) = ANY(%s)",
        [per_village, counties],
    )
    sql(
        "INSERT INTO registry_person (household_id, name, id_masked, id_status, education, "
        "school_status, sex, birth_date, relation, ethnicity, disability_kind, left_behind, "
        "guardian_name, guardian_id_masked, phone, row_hash, id_index, county_code) "
        "SELECT h.id, 'P' || h.id, '', 'valid', '', '', 'M', DATE '2010-01-01', '', '', '', "
        "false, '', '', '', '', 'idx' || h.id, substr(v.code, 1, 6) "
        "FROM registry_household h JOIN registry_area v ON v.id = h.village_id "
        "WHERE substr(v.code, 1, 6) = ANY(%s)",
        [counties],
    )
    sql(
        "INSERT INTO schools_student (roll_index, roll_masked, county_code, name, id_masked, "
        "id_status, shared_id, migrant, sex, poor_flag, row_hash, person_id, id_index) "
        "SELECT 'roll' || p.id, '', p.county_code, p.name, '', 'valid', false, false, 'M', "
        "true, '', p.id, p.id_index FROM registry_person p WHERE p.county_code = ANY(%s)",
        [counties],
    )
    sql(
        "INSERT INTO schools_enrolment (student_id, school_id, school_year, stage, grade, "
        "boarding, status, degree, freshman, row_hash, county_code) "
        "SELECT s.id, sc.id, 2018, 'primary', 3, false, 'enrolled', '', false, '', "
        "s.county_code FROM schools_student s JOIN registry_person p ON p.id = s.person_id "
        "JOIN registry_household h ON h.id = p.household_id "
        "JOIN registry_area v ON v.id = h.village_id "
        "JOIN schools_school sc ON sc.code = 'S' || substr(v.code, 1, 9) "
        "WHERE s.county_code = ANY(%s)",
        [counties],
    )
    sql(
        "INSERT INTO aid_entitlement (student_id, person_id, school_id, village_code, stage, "
        "programme, kind, amount, rule_id, clause, unit, grade, boarding, location, "
        "household_status, exit_year_assumed, school_year, semester, rule_book_id, "
        "computation_id, review, review_reason, county_code) "
        "SELECT e.student_id, s.person_id, e.school_id, substr(sc.code, 2) || '001', 'primary', "
        "'living', 'grant', 500, 'r1', '1', 'semester', 3, false, 'in_county', 'registered', "
        "false, 2018, 'autumn', 1, 1, 'approved', '', e.county_code "
        "FROM schools_enrolment e JOIN schools_student s ON s.id = e.student_id "
        "JOIN schools_school sc ON sc.id = e.school_id WHERE e.county_code = ANY(%s)",
        [counties],
    )
    user = User.objects.create(username="bench-partitions")
    sql(
        "INSERT INTO funds_paymentbatch (county_code, purpose, school_year, semester, "
        "idempotency_key, reference, status, control, gaps, created_by_id, created_at) "
        "SELECT c, 'aid', 2018, 'autumn', 'k' || c, c || '-2018A-001', 'draft', '{}', '[]', "
        "%s, now() FROM unnest(%s::text[]) c",
        [user.pk, counties],
    )
    sql(
        "INSERT INTO funds_payment (batch_id, source, programme, amount, payee_name, "
        "beneficiary, bank_name, account_cipher, account_key, account_index, account_masked, "
        "reference, village_code, status, bank_reason, county_code) "
        "SELECT b.id, 'entitlement:' || t.id, t.programme, t.amount, 'payee', '', '', "
        "'\\x00'::bytea, 1, '', '', b.reference || '-' || lpad(t.id::text, 7, '0'), "
        "t.village_code, 'pending', '', t.county_code FROM aid_entitlement t "
        "JOIN funds_paymentbatch b ON b.county_code = t.county_code "
        "WHERE t.county_code = ANY(%s)",
        [counties],
    )
    sql("ANALYZE")


def reads(code: str) -> dict[str, Callable[[], Any]]:
    """A county's reads, as the app makes them (scoping querysets, aid and identification)."""
    from django.db.models import Count, Sum

    from jingzhun.aid.compute import EXISTING_SCHEMA
    from jingzhun.core.bulk import fetch_arrow
    from jingzhun.core.scoping import Scope
    from jingzhun.funds.models import Payment
    from jingzhun.identification import engine
    from jingzhun.registry.models import Person
    from jingzhun.schools.models import Enrolment, Student

    county = Scope(level="county", county_code=code, area_code=code)
    town = Scope(level="township", county_code=code, area_code=f"{code}002")
    return {
        "persons of the county (count)": lambda: Person.objects.filter(
            Person.scope_q(county)
        ).count(),
        "persons of a township (first page)": lambda: list(
            Person.objects.filter(Person.scope_q(town)).values_list("id", flat=True)[:50]
        ),
        "students of the county (count)": lambda: Student.objects.filter(
            Student.scope_q(county)
        ).count(),
        "enrolments of the county by school": lambda: list(
            Enrolment.objects.filter(Enrolment.scope_q(county))
            .values("school_id")
            .annotate(n=Count("id"))
            .order_by("school_id")
        ),
        "payments of the county (sum)": lambda: Payment.objects.filter(
            Payment.scope_q(county)
        ).aggregate(s=Sum("amount"))["s"],
        "aid: stored entitlements of the county": lambda: (
            fetch_arrow(
                "SELECT id, student_id, programme, amount, rule_id, review FROM aid_entitlement "
                "WHERE school_year = %s AND semester = %s AND village_code LIKE %s "
                "AND county_code = %s",
                [2018, "autumn", f"{code}%", code],
                EXISTING_SCHEMA,
            ).num_rows
        ),
        "identification: the county's inputs": lambda: (
            lambda i: (i.persons.num_rows, i.students.num_rows, i.enrolments.num_rows)
        )(engine.load_inputs(county_code=code, as_of=dt.date(2018, 10, 1))),
    }


def timed(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    run()  # warm the cache
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", required=True, help="PostgreSQL URL (dropped, made again)")
    parser.add_argument("--counties", type=int, default=5)
    parser.add_argument("--per-county", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "jingzhun.settings",
            "JINGZHUN_VAR_DIR": tempfile.mkdtemp(prefix="jz-bench-"),
            "JINGZHUN_SECRET_KEY": "bench",
            "JINGZHUN_FIELD_KEYS": "1:" + base64.b64encode(os.urandom(32)).decode(),
            "JINGZHUN_BLIND_INDEX_KEY": base64.b64encode(os.urandom(32)).decode(),
            "JINGZHUN_AUDIT_KEY": base64.b64encode(os.urandom(32)).decode(),
            "DATABASE_URL": args.postgres,
        }
    )
    import psycopg

    admin_url, _, name = args.postgres.rpartition("/")
    with psycopg.connect(f"{admin_url}/postgres", autocommit=True) as pg:
        pg.execute(f'DROP DATABASE IF EXISTS "{name}"')
        pg.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from jingzhun.core.partitions import ensure_partitions, partitions

    executor = MigrationExecutor(connection)
    graph = executor.loader.graph
    before = [n for n in graph.leaf_nodes() if n != PARTITION_MIGRATION]
    if PARTITION_MIGRATION in graph.leaf_nodes():
        before += [p for p in graph.node_map[PARTITION_MIGRATION].parents if p[0] == "core"]
    executor.migrate(before)
    counties = [f"4590{n:02d}" for n in range(1, args.counties + 1)]
    start = time.perf_counter()
    build(counties, args.per_county)
    built = time.perf_counter() - start
    code = counties[len(counties) // 2]
    plain = {label: timed(run, args.repeat) for label, run in reads(code).items()}

    executor = MigrationExecutor(connection)
    start = time.perf_counter()
    executor.migrate(executor.loader.graph.leaf_nodes())
    migrated = time.perf_counter() - start
    ensure_partitions()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    split = {label: timed(run, args.repeat) for label, run in reads(code).items()}

    rows = args.counties * args.per_county
    print(
        f"{args.counties} counties x {args.per_county:,} rows in each of 5 tables "
        f"({rows * 5:,} rows), built in {built:.1f} s; partitioning migration {migrated:.1f} s; "
        f"{len(partitions())} partitions"
    )
    print(f"| read of county {code} | one table (ms) | partitioned (ms) | speed-up |")
    print("|---|---:|---:|---:|")
    for label, (t0, out0) in plain.items():
        t1, out1 = split[label]
        if out0 != out1:
            raise SystemExit(f"{label}: results differ ({out0!r} != {out1!r})")
        print(f"| {label} | {t0 * 1000:.1f} | {t1 * 1000:.1f} | {t0 / t1:.1f}x |")


if __name__ == "__main__":
    main()
