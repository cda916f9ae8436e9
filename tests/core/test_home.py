"""The home page: per-township counts of each persona's jurisdiction, and login auditing."""

from __future__ import annotations

import datetime as dt
from dataclasses import astuple
from typing import Any

import pytest
from django.test import Client

from conftest import PASSWORD, County, Personas
from jingzhun.core.models import AuditEvent
from jingzhun.core.sensitive import seal
from jingzhun.registry.models import Area, Household, Person
from jingzhun.schools.models import Enrolment, School, Stage, Student
from jingzhun.schools.selectors import home_counts

pytestmark = pytest.mark.django_db

TOTALS = (
    "townships",
    "villages",
    "poor_villages",
    "households",
    "persons",
    "schools",
    "students",
    "enrolments",
)


def _totals(home: Any) -> dict[str, int]:
    return {name: getattr(home, name) for name in TOTALS}


def _rows(home: Any) -> list[tuple[Any, ...]]:
    return [astuple(row) for row in home.rows]


@pytest.fixture
def grown(county: County) -> County:
    """Add to township A a non-poor village, a second household of two and a 2019 enrolment."""
    village = Area.objects.create(
        code="420101001002", name="甲二村", level="village", parent=county.township_a
    )
    household = Household.objects.create(
        household_no="4201010010020001", village=village, registration_year=2017
    )
    for n, (name, id_number) in enumerate(
        [("王大", "420101198001010011"), ("王小", "420101201201010012")]
    ):
        Person.objects.create(
            household=household,
            name=name,
            sex="M",
            birth_date=dt.date(1980 + 32 * n, 1, 1),
            **seal(id_number, prefix="id", purpose="id"),
        )
    Enrolment.objects.create(
        student=county.student_a,
        school=county.school_a,
        school_year=2019,
        stage=Stage.PRIMARY,
        grade=4,
    )
    return county


def test_anonymous_home_redirects_to_login(client: Client) -> None:
    response = client.get("/")
    assert (response.status_code, response["Location"]) == (302, "/admin/login/?next=/")


def test_home_is_the_admin_index(client: Client, personas: Personas, county: County) -> None:
    client.force_login(personas.township_a)
    root, index = client.get("/"), client.get("/admin/")
    assert (root.status_code, index.status_code) == (200, 200)
    assert root.context["home"] == index.context["home"]
    assert root.context["home"].households == 1


def test_county_officer_sees_every_township(
    client: Client, personas: Personas, grown: County
) -> None:
    client.force_login(personas.county_officer)
    response = client.get("/admin/")
    home = response.context["home"]
    assert (home.has_jurisdiction, home.shows_registry, home.school_year) == (True, True, 2019)
    # code, name, villages, poor villages, households, persons, schools, students, enrolments
    assert _rows(home) == [
        ("420101001", "甲镇", 2, 1, 2, 3, 1, 1, 1),
        ("420101002", "乙乡", 1, 1, 1, 1, 1, 1, 0),
    ]
    assert _totals(home) == {
        "townships": 2,
        "villages": 3,
        "poor_villages": 2,
        "households": 3,
        "persons": 4,
        "schools": 2,
        "students": 2,
        "enrolments": 1,
    }
    page = response.content.decode()
    assert "甲镇" in page and "乙乡" in page
    assert response.context["home_table"]["rows"] == [
        ["甲镇", 2, 1, 2, 3, 1, 1, 1],
        ["乙乡", 1, 1, 1, 1, 1, 1, 0],
    ]


def test_township_officer_sees_own_township(personas: Personas, grown: County) -> None:
    home = home_counts(user=personas.township_a)
    assert _rows(home) == [("420101001", "甲镇", 2, 1, 2, 3, 1, 1, 1)]
    assert _totals(home) == {
        "townships": 1,
        "villages": 2,
        "poor_villages": 1,
        "households": 2,
        "persons": 3,
        "schools": 1,
        "students": 1,
        "enrolments": 1,
    }
    home_b = home_counts(user=personas.township_b)
    assert home_b.school_year == 2018
    assert _rows(home_b) == [("420101002", "乙乡", 1, 1, 1, 1, 1, 1, 1)]


def test_principal_and_teacher_see_their_school_without_the_registry(
    client: Client, personas: Personas, county: County
) -> None:
    for user in (personas.principal_a, personas.teacher_a):
        client.force_login(user)
        response = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en")
        home = response.context["home"]
        assert (home.has_jurisdiction, home.shows_registry, home.school_year) == (True, False, 2018)
        assert _rows(home) == [("420101001", "甲镇", 0, 0, 0, 0, 1, 1, 1)]
        assert _totals(home) == {
            "townships": 1,
            "villages": 0,
            "poor_villages": 0,
            "households": 0,
            "persons": 0,
            "schools": 1,
            "students": 1,
            "enrolments": 1,
        }
        table = response.context["home_table"]
        assert [str(header) for header in table["headers"]] == [
            "Township",
            "Schools",
            "Students",
            "Enrolments",
        ]
        assert table["rows"] == [["甲镇", 1, 1, 1]]


def test_schools_outside_the_county_have_their_own_row(personas: Personas, county: County) -> None:
    university = School.objects.create(
        code="4142010001", name="省城大学", kind="university", location="in_province"
    )
    student = Student.objects.create(roll_index="U1", county_code="420101", name="考上了")
    Enrolment.objects.create(
        student=student, school=university, school_year=2018, stage=Stage.UNIVERSITY, grade=1
    )
    home = home_counts(user=personas.county_officer)
    assert _rows(home)[-1] == ("", "", 0, 0, 0, 0, 1, 1, 1)
    assert (home.townships, home.schools, home.students, home.enrolments) == (2, 3, 3, 3)


def test_nobody_sees_a_message_and_no_numbers(
    client: Client, personas: Personas, county: County
) -> None:
    client.force_login(personas.nobody)
    response = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    home = response.context["home"]
    assert (home.has_jurisdiction, home.rows, _totals(home)) == (
        False,
        [],
        dict.fromkeys(TOTALS, 0),
    )
    page = response.content.decode()
    assert 'id="no-jurisdiction"' in page
    assert 'id="home-totals"' not in page


def test_counts_take_a_fixed_number_of_queries(
    personas: Personas, grown: County, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(12):
        home_counts(user=personas.county_officer)


def test_language_switch_is_in_view(client: Client, personas: Personas) -> None:
    client.force_login(personas.township_a)
    page = client.get("/admin/").content.decode()
    assert 'id="language-switch"' in page
    assert 'name="language" type="hidden" value="en"' in page
    assert 'name="language" type="hidden" value="zh-hans"' in page
    login = Client().get("/admin/login/").content.decode()
    assert 'id="language-switch"' in login


def test_switching_to_english(client: Client, personas: Personas) -> None:
    client.force_login(personas.township_a)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    assert response.status_code == 302
    assert client.get("/admin/").context["LANGUAGE_CODE"] == "en"


def test_login_and_failed_login_are_audited(client: Client, personas: Personas) -> None:
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "town_a", "password": PASSWORD, "next": "/admin/"},
    )
    assert response.status_code == 302
    [login] = AuditEvent.objects.filter(action="auth.login")
    assert (login.actor, login.object_id, login.ip) == (
        personas.township_a,
        str(personas.township_a.pk),
        "127.0.0.1",
    )
    other = Client()
    other.post("/admin/login/", {"username": "town_b", "password": "wrong-password"})
    [failed] = AuditEvent.objects.filter(action="auth.login_failed")
    assert (failed.actor, failed.data, failed.ip) == (None, {"username": "town_b"}, "127.0.0.1")
    assert "wrong-password" not in str(failed.data)
