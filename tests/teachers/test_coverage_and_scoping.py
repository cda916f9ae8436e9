"""Teacher coverage of poor-village schools (I.3), and every figure scoped to the user's
jurisdiction: a township officer sees their township's schools only, a class teacher none."""

from __future__ import annotations

import datetime as dt

from tests.teachers.helpers import ON, add_pupils, add_teacher

from conftest import County, Personas
from jingzhun.schools.models import School, Stage
from jingzhun.teachers.models import Exchange, Training
from jingzhun.teachers.selectors import (
    exchange_shares,
    long_service_teachers,
    roll_up,
    senior_title_shares,
    staffing_gaps,
    teacher_coverage,
    teacher_list,
    training_summary,
)


def _poor_school_b(county: County) -> School:
    """Put school B in township B's poor village, so that each township has one."""
    county.school_b.village = county.village_b
    county.school_b.in_poor_village = True
    county.school_b.save()
    return county.school_b


def test_coverage_of_poor_village_schools(county: County, personas: Personas) -> None:
    school_b = _poor_school_b(county)
    # school A: 1 pupil (1 boarder) needs 1 post; 9 teachers, one trained, one on exchange
    teachers_a = [add_teacher(county.school_a, seq) for seq in range(1, 10)]
    Training.objects.create(
        teacher=teachers_a[0],
        programme="省培",
        level=Training.Level.PROVINCIAL,
        started_on=dt.date(2018, 4, 1),
        ended_on=dt.date(2018, 4, 3),
    )
    urban = add_teacher(school_b, 30, backbone=True)
    Exchange.objects.create(
        teacher=urban,
        from_school=school_b,
        to_school=county.school_a,
        started_on=dt.date(2018, 9, 1),
    )
    # school B: 27 junior pupils need 2 posts, it has 1 teacher (the exchanged one is away but
    # still its own): a gap of 1, no training, no exchange in
    add_pupils(school_b, Stage.JUNIOR, 26)

    rows = teacher_coverage(user=personas.county_officer, school_year=2018, year=2018, on=ON)

    # School A (a village primary school) is owed the living allowance and nobody was paid
    # last month's: it misses that part; school B (a junior high) is not owed it.
    assert [
        (
            r.school_name,
            r.supplemented,
            r.trained,
            r.exchanged,
            r.allowance_due,
            r.allowance_paid,
            r.covered,
        )
        for r in rows
    ] == [
        ("甲镇中心小学", 1, 1, 1, 1, 0, 0),
        ("乙乡中学", 0, 0, 0, 0, 0, 0),
    ]
    (total,) = roll_up(rows, by="county")
    assert (total.schools, total.supplemented, total.allowance_due, total.covered) == (2, 1, 1, 0)


def test_a_township_officer_sees_only_their_townships_schools(
    county: County, personas: Personas
) -> None:
    _poor_school_b(county)
    a = add_teacher(county.school_a, 1)
    b = add_teacher(county.school_b, 2)
    Training.objects.create(
        teacher=b,
        programme="县培",
        level=Training.Level.COUNTY,
        started_on=dt.date(2018, 4, 1),
        ended_on=dt.date(2018, 4, 1),
    )
    officer = personas.township_a

    assert list(teacher_list(user=officer)) == [a]
    assert list(teacher_list(user=personas.township_b)) == [b]
    assert {t.pk for t in teacher_list(user=personas.county_officer)} == {a.pk, b.pk}
    assert [r.school_name for r in staffing_gaps(user=officer, school_year=2018, on=ON)] == [
        "甲镇中心小学"
    ]
    summary = training_summary(user=officer, year=2018, on=ON)
    assert ([r.school_name for r in summary.rows], summary.person_times) == (["甲镇中心小学"], 0)
    assert [r.school_name for r in exchange_shares(user=officer, on=ON)] == ["甲镇中心小学"]
    assert [r.school_name for r in senior_title_shares(user=officer, on=ON)] == ["甲镇中心小学"]
    assert [
        r.school_name for r in teacher_coverage(user=officer, school_year=2018, year=2018, on=ON)
    ] == ["甲镇中心小学"]
    county_rows = staffing_gaps(user=personas.county_officer, school_year=2018, on=ON)
    assert len(county_rows) == 2


def test_a_principal_sees_their_school_and_a_class_teacher_or_nobody_nothing(
    county: County, personas: Personas
) -> None:
    add_teacher(county.school_a, 1)
    add_teacher(county.school_b, 2)
    principal = personas.principal_a
    assert [t.school_id for t in teacher_list(user=principal)] == [county.school_a.pk]
    assert [r.school_name for r in staffing_gaps(user=principal, school_year=2018, on=ON)] == [
        "甲镇中心小学"
    ]
    for user in (personas.teacher_a, personas.nobody):
        assert list(teacher_list(user=user)) == []
        assert staffing_gaps(user=user, school_year=2018, on=ON) == []
        assert training_summary(user=user, year=2018).rows == []
        assert long_service_teachers(user=user, on=ON) == []
