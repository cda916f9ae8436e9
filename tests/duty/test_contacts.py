"""Visits, talks and phone calls for any poor student, case or not: the service, the
student's phone page (everything recorded, newest first) and the principal's list grouped by
class with a search."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client
from django.utils import timezone
from tests.conftest import County, Personas, _person, _student, make_user

from jingzhun.accounts.models import StaffMember
from jingzhun.accounts.roles import Role
from jingzhun.core.models import AuditEvent
from jingzhun.core.scoping import scope_queryset
from jingzhun.duty import services
from jingzhun.duty.models import Assignment, CaseStep, DropoutCase, StudentContact
from jingzhun.identification.services import identification_run
from jingzhun.schools.models import Enrolment, SchoolClass, Stage

AS_OF = dt.date(2018, 10, 8)
# Valid resident IDs (GB 11643 checksum) for the extra students of school A.
ID_C = "42010120080303001X"
ID_D = "420101200904040027"


def identify(as_of: dt.date = AS_OF) -> Any:
    return identification_run(actor=None, county_code="420101", as_of=as_of, fuzzy=None)


def client_for(user: Any) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def text(response: Any) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def teacher_b(county: County) -> Any:
    return make_user("teacher_b", Role.CLASS_TEACHER, school_class=county.class_b)


# --------------------------------------------------------------------------- the service


def test_teacher_records_a_phone_call_for_a_student_with_no_case(
    county: County, personas: Personas
) -> None:
    identify()
    # when
    contact = services.contact_record(
        actor=personas.teacher_a,
        student_id=county.student_a.pk,
        kind="phone",
        on=dt.date(2018, 10, 9),
        note="  Called the mother; all is well.  ",
    )
    # then
    assert (
        contact.student,
        contact.person,
        contact.kind,
        contact.happened_on,
        contact.note,
        contact.recorded_by,
        contact.school,
        contact.school_class,
        contact.village_code,
    ) == (
        county.student_a,
        county.person_a,
        "phone",
        dt.date(2018, 10, 9),
        "Called the mother; all is well.",
        personas.teacher_a,
        county.school_a,
        county.class_a,
        county.village_a.code,
    )
    assert DropoutCase.objects.count() == 0
    assert AuditEvent.objects.filter(action="duty.contact").count() == 1
    # scoped like the case steps: the township and school see it, the other township does not
    visible = StudentContact.objects.all()
    assert scope_queryset(visible, personas.township_a).count() == 1
    assert scope_queryset(visible, personas.principal_a).count() == 1
    assert scope_queryset(visible, personas.township_b).count() == 0


def test_a_student_of_another_class_is_404_and_nothing_is_recorded(
    county: County, personas: Personas, teacher_b: Any
) -> None:
    identify()
    with pytest.raises(Http404):
        services.contact_record(
            actor=teacher_b, student_id=county.student_a.pk, kind="visit", note="x"
        )
    with pytest.raises(PermissionDenied):
        services.contact_record(
            actor=personas.inspector, student_id=county.student_a.pk, kind="visit", note="x"
        )
    assert StudentContact.objects.count() == 0


def test_the_named_responsible_person_of_another_class_may_record(
    county: County, personas: Personas, teacher_b: Any
) -> None:
    identify()
    Assignment.objects.create(
        kind="student",
        holder=StaffMember.objects.get(user=teacher_b),
        person=county.person_a,
        area_code=county.village_a.code,
        starts_on=dt.date(2018, 9, 1),
    )
    contact = services.contact_record(
        actor=teacher_b, student_id=county.student_a.pk, kind="visit", note="Visited."
    )
    assert (contact.recorded_by, contact.school_class) == (teacher_b, county.class_a)


@pytest.mark.parametrize(
    ("kind", "on", "note", "message"),
    [
        ("letter", None, "x", "Unknown kind of contact."),
        ("visit", timezone.localdate() + dt.timedelta(days=1), "x", "in the future"),
        ("visit", None, "   ", "Say what happened."),
    ],
)
def test_a_contact_needs_a_kind_a_past_date_and_words(
    county: County, personas: Personas, kind: str, on: Any, note: str, message: str
) -> None:
    identify()
    with pytest.raises(ValidationError) as err:
        services.contact_record(
            actor=personas.teacher_a, student_id=county.student_a.pk, kind=kind, on=on, note=note
        )
    assert message in " ".join(err.value.messages)
    assert StudentContact.objects.count() == 0


# --------------------------------------------------------------------------- the phone page


def test_phone_page_records_a_visit_without_a_case_and_shows_everything_newest_first(
    county: County, personas: Personas
) -> None:
    identify()
    client = client_for(personas.teacher_a)
    url = f"/m/students/{county.student_a.pk}/"
    assert "Nothing is recorded for this student yet." in text(client.get(url))
    # when: a talk without a case
    done = client.post(
        url,
        {
            "action": "visit",
            "kind": "talk",
            "happened_on": "2018-10-09",
            "text": "Talked at school.",
        },
        follow=True,
    )
    assert "Recorded. Thank you." in text(done)
    assert StudentContact.objects.get().kind == "talk" and CaseStep.objects.count() == 0
    # and later a case opens (absence) and a phone call goes onto the case as its step
    services.case_report_absence(
        actor=personas.teacher_a, student_id=county.student_a.pk, days=12, on=dt.date(2018, 10, 20)
    )
    client.post(
        url,
        {
            "action": "visit",
            "kind": "phone",
            "happened_on": timezone.localdate().isoformat(),
            "text": "Called the father.",
        },
    )
    step = CaseStep.objects.get(kind="phone_call")
    assert (step.text, step.recorded_by) == ("Called the father.", personas.teacher_a)
    assert StudentContact.objects.count() == 1
    # then the page lists all three, newest first, the case's steps marked as such
    html = client.get(url).content.decode()
    kinds = re.findall(r'<li data-kind="([a-z_]+)"', html)
    assert kinds == ["phone_call", "absence", "talk"]
    body = text(client.get(url))
    assert "Phone call with the family Case, episode 1 Called the father." in body
    assert "2018-10-09 · Talk with the student or family Talked at school." in body


def test_phone_page_post_of_another_class_changes_nothing(
    county: County, personas: Personas, teacher_b: Any
) -> None:
    identify()
    response = client_for(teacher_b).post(
        f"/m/students/{county.student_a.pk}/",
        {"action": "visit", "kind": "visit", "happened_on": "2018-10-09", "text": "x"},
    )
    assert response.status_code == 404
    assert StudentContact.objects.count() == 0


@pytest.fixture
def school_a_with_three_classes(county: County) -> dict[str, Any]:
    """School A: 张小明 in grade 3 class 1 (the fixture), 王小芳 in grade 5 class 2,
    赵小刚 in grade 1 class 1; all three children of poor families."""
    made = {}
    for grade, name, person_name, id_number, birth in (
        (5, "2班", "王小芳", ID_C, dt.date(2008, 3, 3)),
        (1, "1班", "赵小刚", ID_D, dt.date(2009, 4, 4)),
    ):
        cls = SchoolClass.objects.create(
            school=county.school_a, school_year=2018, stage=Stage.PRIMARY, grade=grade, name=name
        )
        person = _person(county.household_a, person_name, id_number, birth, "F")
        student = _student("G" + id_number, person_name, id_number, birth, "F", person)
        Enrolment.objects.create(
            student=student,
            school=county.school_a,
            school_class=cls,
            school_year=2018,
            stage=Stage.PRIMARY,
            grade=grade,
        )
        made[person_name] = student
    identify()
    return made


def test_principals_list_is_grouped_by_class_in_grade_order(
    county: County, personas: Personas, school_a_with_three_classes: dict[str, Any]
) -> None:
    response = client_for(personas.principal_a).get("/m/")
    body = text(response)
    assert re.search(
        r"Grade 1, 1班 1 student 赵小刚 .* Grade 3, 1班 1 student 张小明 .* "
        r"Grade 5, 2班 1 student 王小芳",
        body,
    ), body
    assert 'id="m-q"' in response.content.decode()
    # in Chinese the classes are named as the schools name them
    zh = Client()
    zh.force_login(personas.principal_a)
    assert "五年级2班" in zh.get("/m/").content.decode()


def test_principals_search_keeps_the_matching_students(
    county: County, personas: Personas, school_a_with_three_classes: dict[str, Any]
) -> None:
    client = client_for(personas.principal_a)
    body = text(client.get("/m/", {"q": "小芳"}))
    assert "王小芳" in body and "张小明" not in body and "赵小刚" not in body
    assert "1 of 3 student match." in body
    assert "No student matches this search." in text(client.get("/m/", {"q": "nobody"}))
    # an ID number is not searched from the address bar
    refused = text(client.get("/m/", {"q": ID_C}))
    assert "An ID number is not searched here" in refused and "王小芳" in refused


def test_a_teachers_short_list_is_not_grouped(county: County, personas: Personas) -> None:
    identify()
    html = client_for(personas.teacher_a).get("/m/").content.decode()
    assert "data-group" not in html and 'id="m-q"' not in html
    assert "张小明" in html
