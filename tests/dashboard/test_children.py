"""Find a child and read their whole story, each part scoped; an ID number never in a URL."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse
from tests.conftest import ID_A, ID_B, County, Personas

from jingzhun.core.models import AuditEvent
from jingzhun.core.sensitive import seal
from jingzhun.identification.models import IdentificationRun, Link
from jingzhun.schools.models import Enrolment, Stage, Student

pytestmark = pytest.mark.django_db


def _en(client: Client) -> Client:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_search_by_name_lists_the_child_with_village_school_and_class(
    client: Client, personas: Personas, county: County
) -> None:
    _en(client).force_login(personas.county_officer)
    response = client.get(reverse("dashboard:children"), {"q": "小明"})
    text = response.content.decode()
    assert response.status_code == 200
    assert reverse("dashboard:child", args=[county.person_a.pk]) in text
    assert "甲村" in text and "甲镇中心小学" in text and "Grade 3, 1班" in text
    assert "李小红" not in text


def test_class_is_named_in_chinese_on_a_chinese_page(
    client: Client, personas: Personas, county: County
) -> None:
    client.force_login(personas.county_officer)
    text = client.get(reverse("dashboard:children"), {"q": "小明"}).content.decode()
    assert "三年级1班" in text


def test_search_is_scoped(client: Client, personas: Personas, county: County) -> None:
    _en(client).force_login(personas.township_b)
    text = client.get(reverse("dashboard:children"), {"q": "小明"}).content.decode()
    assert "张小明" not in text
    assert "李小红" in client.get(reverse("dashboard:children"), {"q": "小红"}).content.decode()


def test_an_id_in_the_address_is_refused(client: Client, personas: Personas) -> None:
    _en(client).force_login(personas.county_officer)
    text = client.get(reverse("dashboard:children"), {"q": ID_A}).content.decode()
    assert 'id="jz-id-refused"' in text
    assert "张小明" not in text


def test_id_search_by_post_goes_to_the_child_and_leaves_no_trace(
    client: Client, personas: Personas, county: County
) -> None:
    _en(client).force_login(personas.county_officer)
    response = client.post(reverse("dashboard:children"), {"number": ID_A})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:child", args=[county.person_a.pk])
    assert ID_A not in response["Location"]
    event = AuditEvent.objects.filter(action="child.search_by_number").get()
    assert ID_A not in json.dumps(event.data) and event.data == {"found": 1}
    page = client.get(response["Location"])
    assert page.status_code == 200 and ID_A not in page.content.decode()


def test_roll_number_by_post_finds_the_student(
    client: Client, personas: Personas, county: County
) -> None:
    _en(client).force_login(personas.principal_a)
    response = client.post(reverse("dashboard:children"), {"number": "g" + ID_A})
    assert response.status_code == 302
    # A principal does not see the registry: the page is the student's.
    assert response["Location"] == reverse("dashboard:student", args=[county.student_a.pk])


def test_id_outside_the_jurisdiction_is_not_found(
    client: Client, personas: Personas, county: County
) -> None:
    _en(client).force_login(personas.township_a)
    response = client.post(reverse("dashboard:children"), {"number": ID_B})
    assert response.status_code == 200
    text = response.content.decode()
    assert 'id="jz-none"' in text and "李小红" not in text and ID_B not in text


def test_child_page_tells_the_story(client: Client, personas: Personas, county: County) -> None:
    _en(client).force_login(personas.county_officer)
    response = client.get(reverse("dashboard:child", args=[county.person_a.pk]))
    text = response.content.decode()
    assert response.status_code == 200
    assert county.person_a.id_masked in text and ID_A not in text
    assert "4201010010010001" in text  # the household's filed card
    assert "甲镇" in text and "甲村" in text
    assert 'id="jz-enrolments"' in text and "2018-2019" in text and "Grade 3, 1班" in text
    for section in ("jz-identification", "jz-aid", "jz-payments", "jz-responsible", "jz-cases"):
        assert f'id="{section}"' in text
    assert "王老师" in text  # the class's head teacher answers for the child


def test_child_outside_jurisdiction_is_a_404(
    client: Client, personas: Personas, county: County
) -> None:
    _en(client).force_login(personas.township_b)
    assert client.get(reverse("dashboard:child", args=[county.person_a.pk])).status_code == 404
    assert client.get(reverse("dashboard:child", args=[999999])).status_code == 404
    assert client.get(reverse("dashboard:student", args=[county.student_a.pk])).status_code == 404


def test_principal_sees_their_student_without_the_registry(
    client: Client, personas: Personas, county: County
) -> None:
    _en(client).force_login(personas.principal_a)
    response = client.get(reverse("dashboard:child", args=[county.person_a.pk]))
    text = response.content.decode()
    assert response.status_code == 200
    assert "甲镇中心小学" in text
    assert 'id="jz-household"' not in text and "4201010010010001" not in text
    assert client.get(reverse("dashboard:child", args=[county.person_b.pk])).status_code == 404


def test_roll_only_student_has_a_page(client: Client, personas: Personas, county: County) -> None:
    roll = "L2018000001"
    pupil = Student.objects.create(
        county_code="420101", name="赵小华", sex="M", **seal(roll, prefix="roll", purpose="roll")
    )
    Enrolment.objects.create(
        student=pupil,
        school=county.school_a,
        school_class=county.class_a,
        school_year=2018,
        stage=Stage.PRIMARY,
        grade=3,
    )
    _en(client).force_login(personas.county_officer)
    rows = client.get(reverse("dashboard:children"), {"q": "赵小华"}).content.decode()
    assert reverse("dashboard:student", args=[pupil.pk]) in rows
    page = client.get(reverse("dashboard:student", args=[pupil.pk])).content.decode()
    assert 'id="jz-no-registry"' in page and pupil.roll_masked in page
    # A roll number without an ID in it may be searched from the box.
    found = client.get(reverse("dashboard:children"), {"q": roll}).content.decode()
    assert reverse("dashboard:student", args=[pupil.pk]) in found


def test_no_jurisdiction_is_refused(client: Client, personas: Personas) -> None:
    _en(client).force_login(personas.nobody)
    response = client.get(reverse("dashboard:children"))
    assert response.status_code == 403
    assert AuditEvent.objects.filter(action="access.denied").exists()


def test_search_box_is_in_the_header_of_app_pages(
    client: Client, personas: Personas, county: County
) -> None:
    _en(client).force_login(personas.county_officer)
    for name in ("aid:overview", "duty:ledger", "identification:runs", "home"):
        text = client.get(reverse(name)).content.decode()
        assert 'id="header-child-search"' in text, name
        assert 'id="working-period"' in text, name


def test_a_student_linked_by_identification_belongs_to_the_child(
    client: Client, personas: Personas, county: County
) -> None:
    # given: the roll does not mark the registry person; an identification run linked them
    Student.objects.filter(pk=county.student_a.pk).update(person=None)
    run = IdentificationRun.objects.create(
        county_code="420101",
        as_of=dt.date(2018, 10, 8),
        school_year=2018,
        status="done",
        inputs_hash="0" * 64,
        counts={},
    )
    Link.objects.create(person=county.person_a, student=county.student_a, method="exact", run=run)
    _en(client).force_login(personas.county_officer)
    # when / then: the child's page shows the linked student's enrolment
    page = client.get(reverse("dashboard:child", args=[county.person_a.pk])).content.decode()
    assert "甲镇中心小学" in page and "Grade 3, 1班" in page and "On no roll" not in page
    # and the search lists the child once, with the school
    rows = client.get(reverse("dashboard:children"), {"q": "张小明"}).content.decode()
    assert rows.count(">张小明</a>") == 1 and "甲镇中心小学" in rows
    # and the student's own address leads to the child's page
    response = client.get(reverse("dashboard:student", args=[county.student_a.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:child", args=[county.person_a.pk])
