"""Benchmark: import a province-scale student roll (1M rows) through the real import path.

Prints rows per second of the platform's import, and of a per-row ORM loop (the baseline:
update_or_create per student, class and enrolment) run in the same process on a sample,
and their ratio. Targets: >= 50,000 rows/s and >= 20x the baseline.

    .venv/bin/python bench/import_rolls.py [--rows 1000000] [--sample 2000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import base64
import csv
import datetime as dt
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from stdnum.cn import ric


def write_rolls(path: Path, n: int, schools: list[str]) -> None:
    """Write n roll rows in the province generator's shape (about 1 in 7 without an ID)."""
    stages = [("小学", 6), ("初中", 3), ("学前", 3), ("高中", 3)]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "学籍号",
                "姓名",
                "身份证号",
                "性别",
                "出生日期",
                "学校标识码",
                "学年",
                "学段",
                "年级",
                "班级",
                "班主任",
                "是否寄宿",
                "学籍状态",
                "状态日期",
                "入学日期",
                "是否建档立卡",
            ]
        )
        base = dt.date(2000, 1, 1)
        for i in range(n):
            born = base + dt.timedelta(days=i // 900)
            body = f"420101{born:%Y%m%d}{i % 900:03d}"
            pid = body + ric.calc_check_digit(body + "0")  # stdnum ignores the last character
            stage, grades = stages[i % 4]
            w.writerow(
                [
                    f"G{pid}",
                    f"学生{i}",
                    pid if i % 7 else "",
                    "男" if i % 2 else "女",
                    born.isoformat(),
                    schools[i % len(schools)],
                    "2018",
                    stage,
                    1 + (i // 4) % grades,
                    f"{1 + i % 8}班",
                    "王老师",
                    "是" if i % 3 == 0 else "否",
                    "在读",
                    "",
                    "2018-09-01",
                    "是" if i % 5 == 0 else "否",
                ]
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument(
        "--postgres", default="", help="run against this PostgreSQL URL instead of SQLite"
    )
    parser.add_argument(
        "--profile", action="store_true", help="print a pyinstrument profile of the import"
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="jz-bench-"))
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
    from django.db import transaction

    from jingzhun.core.crypto import blind_index
    from jingzhun.core.importing import import_create, import_run
    from jingzhun.core.sensitive import seal
    from jingzhun.registry.models import Area
    from jingzhun.schools.models import Enrolment, School, SchoolClass, Student

    call_command("migrate", verbosity=0)
    county = Area.objects.create(code="420101", name="县", level="county")
    town = Area.objects.create(code="420101001", name="镇", level="township", parent=county)
    schools = [
        School.objects.create(
            code=f"21420{i:05d}", name=f"学校{i}", kind="nine_year", township=town
        ).code
        for i in range(200)
    ]
    path = work / "rolls.csv"
    t = time.perf_counter()
    write_rolls(path, args.rows, schools)
    print(f"wrote {args.rows:,} rows in {time.perf_counter() - t:.1f} s")

    # The platform: the real import path (read, map, validate, encrypt, write in one transaction).
    batch = import_create(actor=None, kind="rolls", path=path, file_name="rolls.csv")
    batch.county_code = "420101"
    batch.save()
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.005)
        profiler.start()
    t = time.perf_counter()
    batch = import_run(batch=batch)
    ours = time.perf_counter() - t
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    assert batch.status == "done", batch.message
    assert Enrolment.objects.count() == args.rows
    ours_rate = args.rows / ours
    print(f"platform import: {args.rows:,} rows in {ours:.1f} s", flush=True)

    # The baseline: a per-row ORM loop on a sample of other rows, in the same process and database.
    with open(path, encoding="utf-8") as f:
        rows = list(csv.reader(f))[1 : args.sample + 1]
    school_ids = dict(School.objects.values_list("code", "id"))
    stage_codes = {"小学": "primary", "初中": "junior", "学前": "preschool", "高中": "senior"}
    t = time.perf_counter()
    with transaction.atomic():
        for r in rows:
            roll = "B" + r[0]
            student, _ = Student.objects.update_or_create(
                roll_index=blind_index(roll, purpose="roll"),
                defaults={
                    **seal(roll, prefix="roll", purpose="roll"),
                    "county_code": "420101",
                    "name": r[1],
                    "sex": "M" if r[3] == "男" else "F",
                    "birth_date": r[4],
                    "poor_flag": r[15] == "是",
                    "id_status": "valid" if r[2] else "missing",
                    **{k: v for k, v in seal(r[2] or None, prefix="id", purpose="id").items()},
                },
            )
            klass, _ = SchoolClass.objects.get_or_create(
                school_id=school_ids[r[5]],
                school_year=2019,
                stage=stage_codes[r[7]],
                grade=int(r[8]),
                name=r[9],
                defaults={"head_teacher_name": r[10]},
            )
            Enrolment.objects.update_or_create(
                student=student,
                school_year=2019,
                school_id=school_ids[r[5]],
                defaults={
                    "school_class": klass,
                    "stage": stage_codes[r[7]],
                    "grade": int(r[8]),
                    "boarding": r[11] == "是",
                    "status": "enrolled",
                    "enrolled_on": r[14],
                },
            )
    base = time.perf_counter() - t
    base_rate = len(rows) / base

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    db = "PostgreSQL" if args.postgres else "SQLite"
    print(f"database: {db}")
    print(
        f"platform import: {args.rows:,} rows in {ours:.1f} s = {ours_rate:,.0f} rows/s (target >= 50,000)"
    )
    print(f"per-row ORM baseline: {len(rows):,} rows in {base:.1f} s = {base_rate:,.0f} rows/s")
    print(f"ratio: {ours_rate / base_rate:.1f}x (target >= 20x); peak RSS {peak_mb:,.0f} MB")
    ok = ours_rate >= 50_000 and ours_rate / base_rate >= 20
    print("targets met" if ok else "TARGETS NOT MET")
    from django.db import connection

    connection.close()
    shutil.rmtree(work, ignore_errors=True)  # the file and the SQLite database (~1 GB)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
