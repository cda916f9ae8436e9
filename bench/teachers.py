"""Benchmark: one month's rural teacher living allowance for a province roster (II.3.4).

Prints allowance lines per second of the platform's service (`allowance_compute`, county by
county: read the roster as of the month, explain every teacher's month, write the lines with
their explanations) and of a per-row ORM loop over a sample (per teacher: the school and
service periods by ORM query, `explain`, `AllowanceLine.objects.create`), in the same run and
database, and their ratio. Target: >= 50x.

    .venv/bin/python bench/teachers.py [--teachers 400000] [--counties 40] [--sample 2000]
                                       [--postgres URL]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

MONTH = dt.date(2018, 10, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--teachers", type=int, default=400_000)
    parser.add_argument("--counties", type=int, default=40)
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--postgres", default="", help="a PostgreSQL URL instead of SQLite")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="jz-bench-teachers-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "jingzhun.settings",
            "JINGZHUN_VAR_DIR": str(work),
            "JINGZHUN_SECRET_KEY": "bench",
            "JINGZHUN_FIELD_KEYS": "1:" + base64.b64encode(os.urandom(32)).decode(),
            "JINGZHUN_BLIND_INDEX_KEY": base64.b64encode(os.urandom(32)).decode(),
            "JINGZHUN_AUDIT_KEY": base64.b64encode(os.urandom(32)).decode(),
        }
    )
    os.environ.pop("DATABASE_URL", None)
    if args.postgres:
        os.environ["DATABASE_URL"] = args.postgres
        import psycopg

        admin_url, _, name = args.postgres.rpartition("/")
        with psycopg.connect(f"{admin_url}/postgres", autocommit=True) as pg:
            pg.execute(f'DROP DATABASE IF EXISTS "{name}"')
            pg.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from jingzhun.accounts.roles import Role
    from jingzhun.accounts.services import user_create
    from jingzhun.core.bulk import insert_rows
    from jingzhun.registry.models import Area
    from jingzhun.schools.models import School
    from jingzhun.teachers import allowance
    from jingzhun.teachers import services as teachers
    from jingzhun.teachers.models import AllowanceLine, ServicePeriod, Teacher

    call_command("migrate", verbosity=0)
    teachers.allowance_book_install(actor=None)
    book_row, book = teachers.allowance_book_current()  # type: ignore[misc]

    # Untimed set-up: counties of schools (a third teaching points, a third village primary
    # schools, a third town schools), the roster written set-wise, one teacher in 50 moved
    # mid-month (two service periods).
    t = time.perf_counter()
    officers = []
    per_county = args.teachers // args.counties
    next_id = 1
    codes = [f"42{n:04d}" for n in range(1, args.counties + 2)]  # the last: the ORM sample
    for code in codes:
        county = Area.objects.create(code=code, name=f"县{code}", level="county")
        town = Area.objects.create(code=f"{code}001", name="镇", level="township", parent=county)
        village = Area.objects.create(
            code=f"{code}001001", name="村", level="village", parent=town, is_poor=True
        )
        kinds = [
            (School.Kind.TEACHING_POINT, village),
            (School.Kind.PRIMARY, village),
            (School.Kind.PRIMARY, None),
        ]
        schools = [
            School.objects.create(
                code=f"{code}{n:05d}",
                name=f"学校{n}",
                kind=kinds[n % 3][0],
                township=town,
                village=kinds[n % 3][1],
                in_poor_village=kinds[n % 3][1] is not None,
            )
            for n in range(60)
        ]
        size = args.sample if code == codes[-1] else per_county
        rows = []
        for i in range(size):
            rows.append(
                (
                    next_id,
                    f"教师{next_id}",
                    f"{next_id:064d}",
                    "",
                    "",
                    schools[i % len(schools)].pk,
                    "teacher",
                    "",
                    "none",
                    "",
                    dt.date(2010, 9, 1),
                    False,
                    "",
                    "",
                    code,
                    "",
                )
            )
            next_id += 1
        with transaction.atomic():
            insert_rows(
                "teachers_teacher",
                [
                    "id",
                    "name",
                    "id_index",
                    "id_masked",
                    "sex",
                    "school_id",
                    "post",
                    "subject",
                    "title",
                    "staffing",
                    "started_on",
                    "backbone",
                    "bank_name",
                    "bank_masked",
                    "county_code",
                    "row_hash",
                ],
                rows,
            )
            moved = [r for n, r in enumerate(rows) if n % 50 == 7]
            periods = []
            for r in moved:
                school = r[5]
                other = schools[
                    (schools.index(next(s for s in schools if s.pk == school)) + 1) % 60
                ]
                periods.append(
                    (r[0], school, "village_school", dt.date(2010, 9, 1), dt.date(2018, 10, 15), "")
                )
                periods.append((r[0], other.pk, "teaching_point", dt.date(2018, 10, 16), None, ""))
            insert_rows(
                "teachers_serviceperiod",
                ["teacher_id", "school_id", "kind", "started_on", "ended_on", "place"],
                periods,
            )
        officers.append(
            user_create(
                actor=None,
                username=f"aid{code}",
                password=base64.b64encode(os.urandom(18)).decode(),
                role=Role.AID_OFFICER,
                area=county,
            )
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('teachers_teacher', 'id'), %s)", [next_id]
            )
            cursor.execute("ANALYZE")
    print(
        f"set up {next_id - 1:,} teachers in {len(codes)} counties in {time.perf_counter() - t:.1f} s"
    )

    # The platform: the real service, county by county.
    t = time.perf_counter()
    for officer in officers[:-1]:
        teachers.allowance_compute(actor=officer, month=MONTH)
    ours = time.perf_counter() - t
    lines = AllowanceLine.objects.exclude(county_code=codes[-1]).count()
    ours_rate = lines / ours

    # The baseline: a per-row ORM loop over the sample county, same rules and explanations.
    sample = list(Teacher.objects.filter(county_code=codes[-1]).order_by("id"))
    t = time.perf_counter()
    made = 0
    with transaction.atomic():
        for teacher in sample:
            school = School.objects.get(pk=teacher.school_id)
            spans = list(
                ServicePeriod.objects.filter(teacher=teacher, school__isnull=False).select_related(
                    "school"
                )
            )
            stays = [
                allowance.Stay(
                    place=teachers._place(p.school.kind, p.school.village_id),
                    first=p.started_on,
                    last=p.ended_on or dt.date.max,
                    school_id=p.school_id,
                    school=p.school.name,
                )
                for p in spans
            ] or [
                allowance.Stay(
                    place=teachers._place(school.kind, school.village_id),
                    first=teacher.started_on or MONTH,
                    last=dt.date.max,
                    school_id=school.pk,
                    school=school.name,
                )
            ]
            result = allowance.explain(book, stays, MONTH)
            if result["amount"] == "0.00":
                continue
            AllowanceLine.objects.create(
                teacher=teacher,
                month=MONTH,
                county_code=teacher.county_code,
                school_id=max(result["lines"], key=lambda x: x["days"])["school_id"],
                amount=result["amount"],
                days=result["days"],
                rule_book=book_row,
                explanation=result["lines"],
            )
            made += 1
    base = time.perf_counter() - t
    base_rate = made / base

    # Both wrote the same lines for the same kinds of month.
    ours_sum = {
        (amount, days)
        for amount, days in AllowanceLine.objects.exclude(county_code=codes[-1])
        .values_list("amount", "days")
        .distinct()
    }
    base_sum = {
        (amount, days)
        for amount, days in AllowanceLine.objects.filter(county_code=codes[-1])
        .values_list("amount", "days")
        .distinct()
    }
    assert ours_sum == base_sum, (ours_sum, base_sum)

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    db = "PostgreSQL" if args.postgres else "SQLite"
    print(f"database: {db}")
    print(f"platform allowance_compute: {lines:,} lines in {ours:.1f} s = {ours_rate:,.0f} lines/s")
    print(f"per-row ORM baseline: {made:,} lines in {base:.1f} s = {base_rate:,.0f} lines/s")
    ok = ours_rate / base_rate >= 50
    print(f"ratio: {ours_rate / base_rate:.1f}x (target >= 50x); peak RSS {peak_mb:,.0f} MB")
    print("target met" if ok else "TARGET NOT MET")
    connection.close()
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
