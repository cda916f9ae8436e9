"""Keeping the roster by hand: a principal adds a teacher to their own school (the ID sealed,
shown masked, never in an address), records a departure and a period of service; bad input is
refused on the form with nothing saved; others may not."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.teachers.helpers import add_teacher, teacher_id
from tests.teachers.views_helpers import client_for, text

from jingzhun.core.sensitive import unseal
from jingzhun.teachers.models import ServicePeriod, Teacher


def test_a_principal_adds_a_teacher_to_their_school(county: Any, personas: Any) -> None:
    client = client_for(personas.principal_a)
    form = client.get("/teachers/new/")
    assert form.status_code == 200 and 'id="jz-teacher-form"' in form.content.decode()
    new_id = teacher_id(31)
    response = client.post(
        "/teachers/new/",
        {
            "name": "孙老师",
            "id_number": new_id,
            "post": "teacher",
            "subject": "数学",
            "title": "intermediate",
            "staffing": "in_establishment",
            "started_on": "2020-09-01",
        },
    )
    assert response.status_code == 302 and new_id not in response["Location"]
    teacher = Teacher.objects.get(name="孙老师")
    assert teacher.school == county.school_a and teacher.county_code == "420101"
    assert unseal(teacher, prefix="id", purpose="id") == new_id
    roster = client.get(response["Location"])
    assert teacher.id_masked in text(roster) and new_id not in roster.content.decode()
    # the same ID again, or a wrong one: refused on the form, nothing saved
    again = client.post(
        "/teachers/new/",
        {"name": "孙老师", "id_number": new_id, "post": "teacher", "title": "none"},
    )
    assert again.status_code == 200 and "A teacher with this ID number is on the roster." in text(
        again
    )
    bad = client.post(
        "/teachers/new/",
        {"name": "钱老师", "id_number": new_id[:-1] + "0", "post": "teacher", "title": "none"},
    )
    assert bad.status_code == 200 and "Not a valid resident ID number." in text(bad)
    assert Teacher.objects.count() == 1


def test_a_county_officer_chooses_the_school_and_a_township_officer_may_not(
    county: Any, personas: Any
) -> None:
    client = client_for(personas.county_officer)
    assert 'id="jz-choose-school"' in client.get("/teachers/new/").content.decode()
    response = client.post(
        "/teachers/new/",
        {
            "school": str(county.school_b.pk),
            "name": "周老师",
            "id_number": teacher_id(32),
            "post": "teacher",
            "title": "none",
        },
    )
    assert response.status_code == 302
    assert Teacher.objects.get(name="周老师").school == county.school_b
    for persona in (personas.township_a, personas.teacher_a):
        assert client_for(persona).get("/teachers/new/").status_code == 403
        assert client_for(persona).post("/teachers/leave/", {}).status_code == 403


def test_a_departure_and_a_period_of_service(county: Any, personas: Any) -> None:
    teacher = add_teacher(county.school_a, 33)
    client = client_for(personas.principal_a)
    # a period at a village school, named in words (a school since closed)
    neither = client.post(
        "/teachers/service/new/",
        {"teacher": str(teacher.pk), "kind": "village_school", "started_on": "1995-09-01"},
    )
    assert neither.status_code == 200 and "Choose the school or name the place." in text(neither)
    saved = client.post(
        "/teachers/service/new/",
        {
            "teacher": str(teacher.pk),
            "kind": "teaching_point",
            "place": "甲村老教学点",
            "started_on": "1995-09-01",
            "ended_on": "2010-08-31",
        },
    )
    assert saved.status_code == 302
    period = ServicePeriod.objects.get(teacher=teacher)
    assert (period.place, period.kind, period.ended_on) == (
        "甲村老教学点",
        "teaching_point",
        dt.date(2010, 8, 31),
    )
    early = client.post("/teachers/leave/", {"teacher": str(teacher.pk), "left_on": "2001-01-01"})
    assert early.status_code == 200 and "cannot leave before" in text(early)
    teacher.refresh_from_db()
    assert teacher.left_on is None
    done = client.post("/teachers/leave/", {"teacher": str(teacher.pk), "left_on": "2026-07-01"})
    assert done.status_code == 302
    teacher.refresh_from_db()
    assert teacher.left_on == dt.date(2026, 7, 1)
    # another school's teacher is not offered, and naming it is a 404
    other = add_teacher(county.school_b, 34)
    assert f'value="{other.pk}"' not in client.get("/teachers/leave/").content.decode()
    assert other.name not in client.get("/teachers/leave/").content.decode()
    assert client.post(
        "/teachers/leave/", {"teacher": str(other.pk), "left_on": "2026-07-01"}
    ).status_code in (200, 404)
    other.refresh_from_db()
    assert other.left_on is None
