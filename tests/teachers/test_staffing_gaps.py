"""Staffing gaps (II.3.1): required posts from the rolls by stage, boarders and teaching points,
minus the teachers in post; per school, township and county."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from tests.teachers.helpers import ON, add_pupils, add_teacher

from conftest import County, Personas
from jingzhun.schools.models import School, Stage
from jingzhun.teachers.selectors import required_posts, roll_up, staffing_gaps


@pytest.mark.parametrize(
    ("pupils", "posts"),
    [
        ({Stage.PRIMARY: 19}, 1),
        ({Stage.PRIMARY: 20}, 2),
        ({Stage.PRIMARY: 38}, 2),
        ({Stage.JUNIOR: 27}, 2),
        ({Stage.JUNIOR: 28}, 3),
        ({Stage.SENIOR: 25}, 2),
        ({Stage.SENIOR: 26}, 3),
        # fractions of posts of several stages add up before rounding
        ({Stage.PRIMARY: 19, Stage.JUNIOR: 27, Stage.SENIOR: 25}, 5),
        ({}, 0),
    ],
)
def test_each_stage_has_its_ratio(pupils: dict[str, int], posts: int) -> None:
    assert required_posts(pupils=pupils) == posts


def test_boarders_and_teaching_points_add_posts() -> None:
    assert required_posts(pupils={Stage.PRIMARY: 38}, boarders=40) == 3
    assert required_posts(pupils={Stage.PRIMARY: 38}, boarders=1) == 3
    assert required_posts(pupils={Stage.PRIMARY: 38}, boarders=0) == 2
    assert required_posts(pupils={Stage.PRIMARY: 5}, teaching_point=True) == 2
    assert required_posts(pupils={}, teaching_point=True) == 1


def test_the_ratios_are_settings(settings: Any) -> None:
    settings.TEACHER_RATIO_PRIMARY = 10
    settings.TEACHER_BOARDERS_PER_EXTRA_POST = 20
    settings.TEACHER_EXTRA_POSTS_PER_TEACHING_POINT = 2
    assert required_posts(pupils={Stage.PRIMARY: 20}) == 2
    assert required_posts(pupils={Stage.PRIMARY: 20}, boarders=20, teaching_point=True) == 5


def test_gaps_per_school_township_and_county(county: County, personas: Personas) -> None:
    # given: school A (primary, boarding) has 38 pupils enrolled in 2018, all boarders, and
    # pupils who do not count (suspended, another year)
    add_pupils(county.school_a, Stage.PRIMARY, 37, boarding=True)
    add_pupils(county.school_a, Stage.PRIMARY, 2, status="suspended", boarding=True)
    add_pupils(county.school_a, Stage.PRIMARY, 3, school_year=2017)
    add_teacher(county.school_a, 1)
    add_teacher(county.school_a, 2, post="principal")
    add_teacher(county.school_a, 3, left_on=dt.date(2018, 7, 1))  # gone
    add_teacher(county.school_a, 4, started_on=dt.date(2018, 11, 1))  # not yet there
    add_teacher(county.school_a, 5, post="other")  # not a teaching post
    # a teaching point in township A with 5 pupils and one teacher
    point = School.objects.create(
        code="2142010003",
        name="甲村教学点",
        kind=School.Kind.TEACHING_POINT,
        township=county.township_a,
        village=county.village_a,
        in_poor_village=True,
    )
    add_pupils(point, Stage.PRIMARY, 5)
    add_teacher(point, 6)
    # school B (junior high): 27 pupils, 3 teachers: no gap, and no negative one
    add_pupils(county.school_b, Stage.JUNIOR, 26)
    for seq in (7, 8, 9):
        add_teacher(county.school_b, seq)

    # when
    rows = staffing_gaps(user=personas.county_officer, school_year=2018, on=ON)

    # then
    by_school = {r.school_name: r for r in rows}
    a = by_school["甲镇中心小学"]
    assert (a.primary_pupils, a.boarders, a.required, a.teachers, a.gap) == (38, 38, 3, 2, 1)
    p = by_school["甲村教学点"]
    assert (p.primary_pupils, p.required, p.teachers, p.gap) == (5, 2, 1, 1)
    b = by_school["乙乡中学"]
    assert (b.junior_pupils, b.required, b.teachers, b.gap) == (27, 2, 3, 0)
    towns = {r.township_code: (r.schools, r.required, r.teachers, r.gap) for r in roll_up(rows)}
    assert towns == {"420101001": (2, 5, 3, 2), "420101002": (1, 2, 3, 0)}
    (total,) = roll_up(rows, by="county")
    assert (total.township_code, total.schools, total.required, total.gap) == ("420101", 3, 7, 2)
