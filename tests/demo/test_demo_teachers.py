"""The demo county's teachers (II.3): the roster file, its import, and what demo_setup records.

The roster is checked on the county scale (its mess needs a county to show); the import and
the figures on the tiny county that demo_setup builds, as in test_demo_setup.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command
from django.db.models import Q

from jingzhun.accounts.models import User
from jingzhun.core.models import ImportBatch, SetAsideRow
from jingzhun.demo.generator import generate
from jingzhun.demo.generator.teachers import TEACHER_HEADERS
from jingzhun.demo.teachers import TRAINING_PERSON_TIMES
from jingzhun.schools.models import School
from jingzhun.teachers import selectors
from jingzhun.teachers.importers import POSTS, STAFFING, TITLES
from jingzhun.teachers.models import Exchange, ServicePeriod, Teacher, Training

TODAY = dt.date(2026, 12, 4)  # as in test_demo_setup
# The roster's header is its third row (a title and a subtitle above it).
HEADER_ROW = 2
OLD_TITLES = {"小学高级教师", "小学一级教师", "中学高级教师", "中学一级教师", "中学二级教师"}


def ric_valid(s: str) -> bool:
    if not re.fullmatch(r"\d{17}[\dX]", s):
        return False
    total = sum(int(c) * (2 ** (17 - i) % 11) for i, c in enumerate(s[:17]))
    return "10X98765432"[total % 11] == s[17]


def sheet(path: Path) -> list[list[Any]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = [list(r) for r in wb.active.iter_rows(values_only=True)]
    wb.close()
    return rows


def roster(path: Path) -> list[dict[str, str]]:
    rows = sheet(path)
    header = [str(h) for h in rows[HEADER_ROW]]
    return [
        {k: "" if v is None else str(v) for k, v in zip(header, r, strict=True)}
        for r in rows[HEADER_ROW + 1 :]
    ]


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("teachers-county")
    paths = generate(seed=2018, scale="county", out=out, layout="national", school_year=2026)
    rolls = list(csv.DictReader(io.StringIO(paths["rolls"].read_bytes().decode("gbk"))))
    registry = sheet(paths["registry"])
    id_col = [str(h) for h in registry[2]].index("证件号码")
    return {
        "paths": paths,
        "teachers": roster(paths["teachers"]),
        "rolls": rolls,
        "registry_ids": {str(r[id_col]) for r in registry[3:] if r[id_col]},
    }


# --- the roster file ---------------------------------------------------------------------


def test_roster_layout_title_and_header(county: dict[str, Any]) -> None:
    rows = sheet(county["paths"]["teachers"])
    assert rows[0][0] == "清溪县2026年秋季学期中小学（幼儿园）教职工花名册"
    assert str(rows[1][0]).startswith("填报单位：清溪县教育局人事股")
    assert tuple(rows[HEADER_ROW]) == TEACHER_HEADERS
    teachers = county["teachers"]
    assert [int(t["序号"]) for t in teachers] == list(range(1, len(teachers) + 1))


def test_every_school_has_staff_and_a_principal(county: dict[str, Any]) -> None:
    schools = {r["学校标识码"]: r["学校名称"] for r in county["rolls"]}
    teachers = county["teachers"]
    by_school = Counter(t["学校标识码"] for t in teachers if POSTS[t["岗位"]] != "other")
    assert set(by_school) == set(schools)
    principals = {t["学校标识码"] for t in teachers if t["岗位"] == "校长"}
    # a teaching point has no principal: the township's central school runs it
    assert principals == {c for c, name in schools.items() if not name.endswith("教学点")}
    # about one teacher per 15 pupils on the county's rolls
    pupils = len(county["rolls"])
    assert 12 <= pupils / sum(by_school.values()) <= 16


def test_ids_are_valid_unique_and_nobody_elses(county: dict[str, Any]) -> None:
    ids = [t["身份证号"] for t in county["teachers"]]
    bad = [i for i in ids if not ric_valid(i)]
    # the clerk's planted typos: the check digit only
    assert len(bad) == 2
    assert all(re.fullmatch(r"\d{17}[\dX]", i) for i in bad)
    assert len(set(ids)) == len(ids)
    children = {r["身份证号"] for r in county["rolls"] if r["身份证号"]}
    assert not set(ids) & children
    assert not set(ids) & county["registry_ids"]
    # born in the county or nearby, as adults of working age
    assert all(i.startswith(("4228", "4201")) for i in ids)
    years = Counter(int(i[6:10]) for i in ids)
    assert min(years) >= 2026 - 60 and max(years) <= 2026 - 22


def test_the_mess_the_import_handles(county: dict[str, Any]) -> None:
    teachers = county["teachers"]
    n = len(teachers)
    assert 0 < sum(1 for t in teachers if not t["出生日期"]) < 0.06 * n
    assert 0 < sum(1 for t in teachers if not t["性别"]) < 0.04 * n
    assert sum(1 for t in teachers if t["职称"] in OLD_TITLES) > 0.03 * n
    staffing = Counter(t["编制"] for t in teachers)
    assert staffing["特岗"] + staffing["特岗教师"] > 0.03 * n
    assert staffing["代课"] + staffing["代课教师"] + staffing["临聘"] > 0.01 * n
    # every value is one the import knows
    assert {t["职称"] for t in teachers} <= set(TITLES)
    assert {t["编制"] for t in teachers} <= set(STAFFING)
    assert {t["岗位"] for t in teachers} <= set(POSTS)
    starts = Counter(
        "iso" if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t["到校日期"]) else "other" for t in teachers
    )
    assert starts["iso"] > 0.7 * n and starts["other"] > 0


def test_same_seed_same_roster(tmp_path: Path) -> None:
    again = generate(seed=2018, scale="tiny", out=tmp_path / "a", layout="national")
    other = generate(seed=2018, scale="tiny", out=tmp_path / "b", layout="national")
    assert again["teachers"].read_bytes() == other["teachers"].read_bytes()
    third = generate(seed=2019, scale="tiny", out=tmp_path / "c", layout="national")
    assert third["teachers"].read_bytes() != again["teachers"].read_bytes()


# --- demo_setup: the import and the II.3 figures -----------------------------------------


def run(out: Path) -> str:
    buffer = io.StringIO()
    call_command(
        "demo_setup",
        "--scale",
        "tiny",
        "--out",
        str(out),
        "--today",
        TODAY.isoformat(),
        stdout=buffer,
        stderr=io.StringIO(),
    )
    return buffer.getvalue()


def recorded() -> tuple[int, ...]:
    return (
        Teacher.objects.count(),
        ServicePeriod.objects.count(),
        Training.objects.count(),
        Exchange.objects.count(),
        SetAsideRow.objects.filter(kind="teachers", status="open").count(),
    )


def test_demo_setup_imports_the_roster_and_records_ii3(db: Any, tmp_path: Path) -> None:
    # given the tiny demo county set up
    first = run(tmp_path)
    admin = User.objects.get(username="admin")
    rows = roster(tmp_path / "teachers.xlsx")
    # then the roster landed but for the planted typo, set aside to fix
    batch = ImportBatch.objects.get(kind="teachers")
    assert batch.status == ImportBatch.Status.DONE
    typos = [r for r in rows if not ric_valid(r["身份证号"])]
    assert len(typos) == 1
    assert (batch.rows_total, batch.rows_created, batch.rows_set_aside) == (
        len(rows),
        len(rows) - 1,
        1,
    )
    (aside,) = SetAsideRow.objects.filter(batch=batch)
    assert aside.line == int(typos[0]["序号"]) + HEADER_ROW + 1
    assert Teacher.objects.count() == len(rows) - 1
    # every teacher has a birth date and a sex (read from the ID where the roster has none)
    assert not Teacher.objects.filter(birth_date__isnull=True).exists()
    assert not Teacher.objects.filter(sex="").exists()
    assert Teacher.objects.filter(county_code="422827").count() == Teacher.objects.count()
    # the village schools are placed in their villages
    assert School.objects.filter(in_poor_village=True).count() >= 2
    staffing_has_gaps_and_full_schools(admin)
    trainings_near_the_plan(admin)
    exchanges_both_ways(admin)
    twenty_years_listed(admin)
    assert "teachers (II.3): schools short of staff 1;" in first
    # when it is set up again, nothing changes
    before = recorded()
    second = run(tmp_path)
    assert recorded() == before
    assert "recorded service periods 0, trainings none, exchanges 0" in second


def staffing_has_gaps_and_full_schools(admin: User) -> None:
    rows = selectors.staffing_gaps(user=admin, school_year=2026, on=TODAY)
    short = [r for r in rows if r.gap > 0]
    assert len(short) == 1
    (gap,) = short
    school = School.objects.get(pk=gap.school_id)
    # a poor-village primary school or teaching point, clearly short
    assert school.kind in ("primary", "teaching_point") and school.village_id is not None
    assert gap.teachers < gap.required
    full = [r for r in rows if r.required > 0 and r.gap == 0]
    assert len(full) >= 5 and all(r.teachers >= r.required for r in full)


def trainings_near_the_plan(admin: User) -> None:
    times = {}
    for year, target in ((2016, 220), (2017, 230), (2018, 230)):
        summary = selectors.training_summary(user=admin, year=year)
        assert summary.target == target
        times[year] = sum(r.person_times for r in summary.rows)
        assert abs(times[year] - target) <= 0.1 * target, year
    assert times == TRAINING_PERSON_TIMES
    under = [y for y, n in times.items() if n < selectors.training_target(y)]
    assert under == [2017]
    # this year's too, all started by today
    now = Training.objects.filter(started_on__year=2026)
    assert now.count() > 100 and not now.filter(ended_on__gt=TODAY).exists()
    assert not Training.objects.exclude(started_on__year__in=[2016, 2017, 2018, 2026]).exists()


def exchanges_both_ways(admin: User) -> None:
    rows = selectors.exchange_shares(user=admin, on=TODAY)
    assert [r for r in rows if r.meeting_target] and [r for r in rows if not r.meeting_target]
    running = Exchange.objects.filter(Exchange.at_q(TODAY)).select_related("teacher__school")
    assert running.exists()
    for exchange in running:
        # urban backbone teachers, from the county seat's schools
        assert exchange.teacher.backbone
        assert exchange.from_school.village_id is None and exchange.to_school.in_poor_village
    for row in rows:
        share = row.exchanged_in / row.working_there
        assert (share >= 0.1) == bool(row.meeting_target)


def twenty_years_listed(admin: User) -> None:
    listed = selectors.long_service_teachers(user=admin, on=TODAY)
    assert 1 <= len(listed) < Teacher.objects.count() // 3
    assert all(t.days >= 20 * 365 for t in listed)
    # most teachers served at village schools or teaching points; some still do
    rural = ServicePeriod.objects.filter(kind__in=ServicePeriod.RURAL)
    assert rural.values("teacher").distinct().count() > Teacher.objects.count() // 2
    assert rural.filter(ended_on__isnull=True).exists()
    at_village_schools = Teacher.objects.filter(
        Q(school__village__isnull=False) | Q(school__kind="teaching_point")
    )
    ongoing = ServicePeriod.objects.filter(ended_on__isnull=True)
    assert ongoing.count() == at_village_schools.count() > 0
