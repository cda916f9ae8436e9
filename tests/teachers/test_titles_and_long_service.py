"""Senior titles at village schools, and the teachers with 20 years or more at village schools and
teaching points (II.3.4)."""

from __future__ import annotations

import datetime as dt

from tests.teachers.helpers import ON, add_teacher

from conftest import County, Personas
from jingzhun.schools.models import School
from jingzhun.teachers.models import ServicePeriod, Teacher
from jingzhun.teachers.selectors import (
    long_service_teachers,
    roll_up,
    rural_service_days,
    senior_title_shares,
)

AS_OF = dt.date(2026, 12, 6)


def test_senior_title_share_in_village_schools(county: County, personas: Personas) -> None:
    # given: school A lies in a village; school B (in the township seat) does not
    add_teacher(county.school_a, 1, title=Teacher.Title.SENIOR)
    add_teacher(county.school_a, 2, title=Teacher.Title.FULL_SENIOR)
    add_teacher(county.school_a, 3, title=Teacher.Title.INTERMEDIATE)
    add_teacher(county.school_a, 4, title=Teacher.Title.NONE)
    add_teacher(county.school_a, 5, title=Teacher.Title.SENIOR, left_on=dt.date(2018, 1, 1))
    add_teacher(county.school_b, 6, title=Teacher.Title.SENIOR)
    point = School.objects.create(
        code="2142010003",
        name="乙村教学点",
        kind=School.Kind.TEACHING_POINT,
        township=county.township_b,
    )
    add_teacher(point, 7, title=Teacher.Title.JUNIOR)

    # when
    rows = senior_title_shares(user=personas.county_officer, on=ON)

    # then: 2 of school A's 4 teachers in post; the teaching point counts, school B not
    assert [(r.school_name, r.teachers, r.senior, r.senior_share) for r in rows] == [
        ("甲镇中心小学", 4, 2, 0.5),
        ("乙村教学点", 1, 0, 0.0),
    ]
    (total,) = roll_up(rows, by="county")
    assert (total.teachers, total.senior, total.senior_share) == (5, 2, 0.4)


def test_service_days_merge_overlaps_and_run_ongoing_periods_to_the_date() -> None:
    on = dt.date(2020, 1, 11)
    periods = [
        (dt.date(2020, 1, 1), dt.date(2020, 1, 6)),  # 5 days
        (dt.date(2020, 1, 4), dt.date(2020, 1, 8)),  # overlaps: 2 more
        (dt.date(2020, 1, 9), None),  # ongoing: 2 more, to the date
        (dt.date(2020, 2, 1), None),  # after the date: none
    ]
    assert rural_service_days(periods, on) == 9


def test_teachers_with_twenty_years_at_village_schools(county: County, personas: Personas) -> None:
    # given
    ongoing = add_teacher(county.school_a, 1, name="张老师")
    # exactly 20 years to the day, still serving (ongoing)
    ServicePeriod.objects.create(
        teacher=ongoing,
        school=county.school_a,
        kind=ServicePeriod.Kind.VILLAGE_SCHOOL,
        started_on=dt.date(2006, 12, 6),
    )
    mixed = add_teacher(county.school_b, 2, name="李老师")
    # 12 years at a teaching point, 6 in town (not counted), then 9 at a village school
    ServicePeriod.objects.create(
        teacher=mixed,
        place="老村教学点（已撤并）",
        kind=ServicePeriod.Kind.TEACHING_POINT,
        started_on=dt.date(1990, 9, 1),
        ended_on=dt.date(2002, 9, 1),
    )
    ServicePeriod.objects.create(
        teacher=mixed,
        school=county.school_b,
        kind=ServicePeriod.Kind.TOWN_OR_CITY,
        started_on=dt.date(2002, 9, 1),
        ended_on=dt.date(2008, 9, 1),
    )
    ServicePeriod.objects.create(
        teacher=mixed,
        school=county.school_a,
        kind=ServicePeriod.Kind.VILLAGE_SCHOOL,
        started_on=dt.date(2008, 9, 1),
        ended_on=dt.date(2017, 9, 1),
    )
    short = add_teacher(county.school_a, 3, name="王老师")
    # one day short of 20 years
    ServicePeriod.objects.create(
        teacher=short,
        school=county.school_a,
        kind=ServicePeriod.Kind.VILLAGE_SCHOOL,
        started_on=dt.date(2006, 12, 7),
    )
    retired = add_teacher(county.school_a, 4, name="赵老师", left_on=dt.date(2025, 7, 1))
    ServicePeriod.objects.create(
        teacher=retired,
        school=county.school_a,
        kind=ServicePeriod.Kind.VILLAGE_SCHOOL,
        started_on=dt.date(1985, 9, 1),
        ended_on=dt.date(2025, 7, 1),
    )

    # when
    found = long_service_teachers(user=personas.county_officer, on=AS_OF)

    # then: longest first; the teacher one day short and the one who left are not listed
    assert [(t.name, t.days, t.years) for t in found] == [
        ("李老师", 7670, 21.0),
        ("张老师", 7305, 20.0),
    ]
    assert found[1].id_masked == "420101************"
    # a year earlier, the ongoing period was 19 years long
    earlier = long_service_teachers(user=personas.county_officer, on=dt.date(2025, 12, 6))
    assert [t.name for t in earlier] == ["李老师"]
