"""Training person-times per calendar year against the plan's targets (II.3.2), and the share of
poor-village school teachers trained in the year."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.teachers.helpers import add_teacher

from conftest import County, Personas
from jingzhun.teachers.models import Training
from jingzhun.teachers.selectors import roll_up, training_summary, training_target


def _training(teacher: Any, start: dt.date, end: dt.date) -> None:
    Training.objects.create(
        teacher=teacher,
        programme="国培计划",
        level=Training.Level.NATIONAL,
        started_on=start,
        ended_on=end,
        hours=40,
    )


def test_the_plan_sets_targets_for_2016_to_2018(settings: Any) -> None:
    assert [training_target(y) for y in (2015, 2016, 2017, 2018, 2019)] == [
        None,
        220,
        230,
        230,
        None,
    ]
    settings.TEACHER_TRAINING_TARGETS = {2019: 250}
    assert training_target(2019) == 250


def test_person_times_count_trainings_starting_in_the_year(
    county: County, personas: Personas, settings: Any
) -> None:
    # given: two teachers at school A (poor village), two at school B
    t1, t2 = add_teacher(county.school_a, 1), add_teacher(county.school_a, 2)
    t3, t4 = add_teacher(county.school_b, 3), add_teacher(county.school_b, 4)
    _training(t1, dt.date(2018, 3, 1), dt.date(2018, 3, 5))
    _training(t1, dt.date(2018, 7, 10), dt.date(2018, 7, 20))  # twice: two person-times
    _training(t3, dt.date(2018, 12, 31), dt.date(2019, 1, 4))
    _training(t4, dt.date(2017, 5, 1), dt.date(2017, 5, 2))
    _training(t2, dt.date(2017, 12, 20), dt.date(2018, 1, 5))  # started in 2017

    # when
    summary = training_summary(user=personas.county_officer, year=2018)

    # then: 3 person-times against the 230 the plan sets for 2018
    assert (summary.person_times, summary.target, summary.target_met) == (3, 230, False)
    rows = {r.school_name: r for r in summary.rows}
    a, b = rows["甲镇中心小学"], rows["乙乡中学"]
    assert (a.person_times, a.teachers, a.trained_teachers) == (2, 2, 1)
    assert (b.person_times, b.teachers, b.trained_teachers) == (1, 2, 1)
    # only school A lies in a poor village: half its teachers were trained
    assert (a.poor_village_teachers, a.poor_village_trained, b.poor_village_teachers) == (2, 1, 0)
    assert summary.total.poor_village_trained_share == 0.5
    assert {r.township_code: r.person_times for r in roll_up(summary.rows)} == {
        "420101001": 2,
        "420101002": 1,
    }
    last_year = training_summary(user=personas.county_officer, year=2017)
    assert (last_year.person_times, last_year.target) == (2, 230)
    # a target reached
    settings.TEACHER_TRAINING_TARGETS = {2018: 3}
    assert training_summary(user=personas.county_officer, year=2018).target_met is True
    # a year without a target says so
    assert training_summary(user=personas.county_officer, year=2019).target_met is None
