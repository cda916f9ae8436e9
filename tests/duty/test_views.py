"""Duty pages: the ledger and its workbook, one case and its evidence, the chain, coverage,
the reports, and the class teacher's mobile page, each for the personas who may see them."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from unittest import mock

import openpyxl
import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from tests.conftest import ID_A, ID_B, County, Personas, make_user

from jingzhun.accounts.models import StaffMember
from jingzhun.accounts.roles import Role
from jingzhun.aid import services as aid_services
from jingzhun.duty import services
from jingzhun.duty.models import Assignment, CaseStep, DropoutCase
from jingzhun.duty.views import chain as chain_views
from jingzhun.identification.services import identification_run
from jingzhun.registry.models import Person
from jingzhun.schools.models import Enrolment

AS_OF = dt.date(2018, 10, 8)
PDFTOTEXT = shutil.which("pdftotext")
JPEG = b"\xff\xd8\xff\xe0 a photo of the visit"


# --------------------------------------------------------------------------- helpers


def identify(as_of: dt.date = AS_OF) -> Any:
    return identification_run(actor=None, county_code="420101", as_of=as_of, fuzzy=None)


def drop_out_a(county: County, on: dt.date = dt.date(2018, 9, 20)) -> None:
    Enrolment.objects.filter(pk=county.enrolment_a.pk).update(status="dropped_out", status_date=on)


def client_for(user: Any, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    return client


def page(user: Any, url: str, **params: Any) -> Any:
    """GET a page and check it shows no whole ID number."""
    response: Any = client_for(user).get(url, params)
    if getattr(response, "streaming", False):
        response.body = b"".join(response.streaming_content)
    else:
        response.body = response.content
    body = response.body.decode("utf-8", "replace")
    assert ID_A not in body and ID_B not in body, url
    return response


def text(response: Any) -> str:
    """Return the visible text of an HTML response, tags dropped and spaces collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def row_text(response: Any, marker: str) -> str:
    """Return the text of the table row carrying `marker` (an attribute such as data-case="1")."""
    html = response.content.decode()
    match = re.search(rf"<tr[^>]*{re.escape(marker)}[^>]*>(.*?)</tr>", html, flags=re.S)
    assert match, f"no row with {marker}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def xlsx_rows(content: bytes) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return [tuple(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def pdf_text(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(content)
    assert PDFTOTEXT is not None
    out = subprocess.run([PDFTOTEXT, "-layout", str(path), "-"], capture_output=True, check=True)
    return re.sub(r"\s+", "", out.stdout.decode("utf-8"))


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def teacher_b(county: County) -> Any:
    return make_user("teacher_b", Role.CLASS_TEACHER, school_class=county.class_b)


@pytest.fixture
def case(county: County, personas: Personas) -> DropoutCase:
    """Child A dropped out on 20 Sep 2018; the run of 8 Oct opened a case for class A."""
    drop_out_a(county)
    identify()
    services.cases_open_from_identification(actor=None, county_code="420101")
    return DropoutCase.objects.get()


def record(user: Any, case: DropoutCase, kind: str, on: dt.date, **extra: Any) -> CaseStep:
    return services.case_step_record(
        actor=user, case_id=case.pk, kind=kind, text=f"{kind} text", happened_on=on, **extra
    )


def close_returned(county: County, personas: Personas, case: DropoutCase) -> DropoutCase:
    Enrolment.objects.filter(pk=county.enrolment_a.pk).update(status="enrolled", status_date=None)
    record(personas.teacher_a, case, "returned", dt.date(2018, 10, 10))
    record(personas.teacher_a, case, "followup_week", dt.date(2018, 10, 17))
    services.case_resolve(
        actor=personas.teacher_a,
        case_id=case.pk,
        outcome="returned",
        enrolment_id=county.enrolment_a.pk,
        on=dt.date(2018, 10, 17),
    )
    return services.case_verify(
        actor=personas.township_a, case_id=case.pk, today=dt.date(2018, 10, 17)
    )


def snapshot() -> tuple[Any, ...]:
    return (
        list(DropoutCase.objects.order_by("pk").values()),
        list(CaseStep.objects.order_by("pk").values()),
        list(Assignment.objects.order_by("pk").values()),
    )


# --------------------------------------------------------------------------- the ledger


def test_ledger_shows_the_case_to_its_township_overdue_and_in_black(
    case: DropoutCase, personas: Personas
) -> None:
    # when
    response = page(personas.township_a, "/duty/")
    # then: the case of 2018 is long overdue today
    assert response.status_code == 200
    assert row_text(response, f'data-case="{case.pk}"') == (
        "Overdue 张小明 甲镇 甲村 甲镇中心小学 Grade 3, 1班 Open teacher_a town_a "
        f"2018-10-08 2018-10-08 {services.due_on(case).isoformat()} —"
    )
    assert 'data-flag="black"' in response.content.decode()
    assert "甲镇 甲镇中心小学 1 1" in text(response)  # per township and school: 1 case, 1 overdue


def test_ledger_of_the_other_township_and_a_school_outside_is_empty(
    case: DropoutCase, personas: Personas
) -> None:
    response = page(personas.township_b, "/duty/")
    assert response.status_code == 200
    assert "张小明" not in response.content.decode()
    assert "No case in your jurisdiction." in text(response)


def test_ledger_is_refused_to_a_user_without_jurisdiction(
    case: DropoutCase, personas: Personas
) -> None:
    response = page(personas.nobody, "/duty/")
    assert response.status_code == 403
    assert "张小明" not in response.content.decode()


def test_ledger_filter_shows_closed_cases_in_red(
    case: DropoutCase, county: County, personas: Personas
) -> None:
    close_returned(county, personas, case)
    # the default shows cases not yet closed: none
    assert "No case in your jurisdiction." in text(page(personas.county_officer, "/duty/"))
    closed = page(personas.county_officer, "/duty/", show="closed")
    assert row_text(closed, f'data-case="{case.pk}"').startswith(
        "Closed in time 张小明 甲镇 甲村 甲镇中心小学 Grade 3, 1班 Verified and closed · 2018-10-17"
    )
    assert 'data-flag="red"' in closed.content.decode()


def test_ledger_workbook_has_the_rows_of_the_page(case: DropoutCase, personas: Personas) -> None:
    # when
    response = page(personas.township_a, "/duty/ledger.xlsx")
    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = xlsx_rows(response.content)
    assert rows[0][0].startswith("控辍保学工作台账（")
    assert rows[1][:8] == ("序号", "标识", "状态", "乡镇", "行政村", "学校", "班级", "学生姓名")
    assert rows[2] == (
        1,
        "黑（逾期）",
        "在办",
        "甲镇",
        "甲村",
        "甲镇中心小学",
        "三年级1班",
        "张小明",
        1,
        "2018-10-08",
        "Dropped out (roll status)",
        "teacher_a",
        "town_a",
        "2018-10-08",
        services.due_on(case).isoformat(),
        None,
        None,
        None,
    )
    assert len(rows) == 3
    # township B's workbook has the headers only
    assert len(xlsx_rows(page(personas.township_b, "/duty/ledger.xlsx").content)) == 2


def test_ledger_filters_pages_and_exports_exactly_the_filtered_rows(
    county: County, personas: Personas
) -> None:
    # given: both children out of school, cases in township A and B
    drop_out_a(county)
    Enrolment.objects.filter(pk=county.enrolment_b.pk).update(
        status="dropped_out", status_date=dt.date(2018, 9, 20)
    )
    identify()
    services.cases_open_from_identification(actor=None, county_code="420101")
    b = DropoutCase.objects.get(person=county.person_b)
    # when: the county filters on township B
    response = page(personas.county_officer, "/duty/", township=county.township_b.code)
    html = response.content.decode()
    # then: only B's case, the total, and an export link that keeps the filter
    assert re.findall(r'data-case="(\d+)"', html) == [str(b.pk)]
    assert "1 row (filtered)" in text(response)
    assert f'href="/duty/ledger.xlsx?township={county.township_b.code}"' in html
    # the filter bar offers township names, never codes on screen
    assert f'<option value="{county.township_b.code}" selected>乙乡</option>' in html
    rows = xlsx_rows(
        page(personas.county_officer, "/duty/ledger.xlsx", township=county.township_b.code).content
    )
    assert [r[7] for r in rows[2:]] == ["李小红"]
    assert rows[2][3:7] == ("乙乡", "乙村", "乙乡中学", "七年级2班")
    # a search by name, and the class named in the user's language
    found = page(personas.county_officer, "/duty/", q="小明")
    assert re.findall(r'data-case="(\d+)"', found.content.decode()) == [
        str(DropoutCase.objects.get(person=county.person_a).pk)
    ]
    assert "Grade 3, 1班" in text(found)
    assert "No case matches these filters." in text(
        page(personas.county_officer, "/duty/", q="无此人")
    )


def test_ledger_pages_by_fifty_and_keeps_the_filters(
    case: DropoutCase, county: County, personas: Personas
) -> None:
    # given: 60 more open cases of made-up children in township A
    people = Person.objects.bulk_create(
        Person(
            household=county.household_a,
            name=f"孩子{n:02d}",
            sex="M",
            relation="之子",
            birth_date=dt.date(2010, 1, 1),
        )
        for n in range(60)
    )
    DropoutCase.objects.bulk_create(
        DropoutCase(
            person=p,
            source="absence",
            reason="Absent for 12 days",
            opened_on=dt.date(2018, 10, 8),
            village_code=case.village_code,
            school=county.school_a,
            school_class=county.class_a,
            last_step_on=dt.date(2018, 10, 8),
        )
        for p in people
    )
    first = page(personas.county_officer, "/duty/", reason="absence")
    html = first.content.decode()
    assert len(re.findall(r"<tr[^>]*data-case=", html)) == 50
    assert "60 rows (filtered)" in text(first)
    assert re.search(r'href="\?reason=absence(&amp;|&)page=2"', html)  # the pager keeps it
    second = page(personas.county_officer, "/duty/", reason="absence", page="2")
    assert len(re.findall(r"<tr[^>]*data-case=", second.content.decode())) == 10
    # the export holds all 60 filtered rows, not one page
    assert (
        len(xlsx_rows(page(personas.county_officer, "/duty/ledger.xlsx", reason="absence").content))
        == 62
    )


def test_county_opens_cases_from_identification_once(county: County, personas: Personas) -> None:
    drop_out_a(county)
    run = identify()
    client = client_for(personas.county_officer)
    response = client.post("/duty/open-cases/", {"run": str(run.pk)}, follow=True)
    assert "Cases opened: 1 new, 0 as a new episode; 0 children already had an open case." in (
        text(response)
    )
    again = client.post("/duty/open-cases/", {"run": str(run.pk)}, follow=True)
    assert "Cases opened: 0 new, 0 as a new episode; 1 children already had an open case." in (
        text(again)
    )
    assert DropoutCase.objects.count() == 1


@pytest.mark.parametrize("who", ["township_a", "principal_a", "teacher_a", "inspector", "nobody"])
def test_only_the_county_opens_cases_from_identification(
    county: County, personas: Personas, who: str
) -> None:
    drop_out_a(county)
    identify()
    response = client_for(getattr(personas, who)).post("/duty/open-cases/")
    assert response.status_code == 403
    assert DropoutCase.objects.count() == 0
    # the button is not offered either
    assert "Open cases from the latest identification run" not in text(
        page(getattr(personas, who), "/duty/")
    )


# --------------------------------------------------------------------------- one case


def test_case_page_shows_the_case_its_steps_and_what_it_lacks(
    case: DropoutCase, personas: Personas
) -> None:
    record(personas.teacher_a, case, "home_visit", dt.date(2018, 10, 9))
    response = page(personas.township_a, f"/duty/cases/{case.pk}/")
    assert response.status_code == 200
    body = text(response)
    assert "Dropout case of 张小明, episode 1" in body
    assert "To close this case, the outcome still lacks: No outcome is recorded." in body
    assert row_text(response, 'data-kind="home_visit"') == (
        "2018-10-09 Home visit home_visit text teacher_a —"
    )
    assert "First episode" in body
    # the teacher may record; the township officer may also verify, but nothing is resolved
    assert 'id="jz-step-form"' in response.content.decode()
    assert 'id="jz-verify"' not in response.content.decode()


def test_class_b_teacher_gets_404_for_a_class_a_case(
    case: DropoutCase, personas: Personas, teacher_b: Any
) -> None:
    before = snapshot()
    assert page(teacher_b, f"/duty/cases/{case.pk}/").status_code == 404
    assert page(personas.township_b, f"/duty/cases/{case.pk}/").status_code == 404
    assert page(teacher_b, f"/duty/cases/{case.pk}/return-notice.pdf").status_code == 404
    response = client_for(teacher_b).post(
        f"/duty/cases/{case.pk}/",
        {"action": "step", "kind": "home_visit", "happened_on": "2018-10-09", "text": "x"},
    )
    assert response.status_code == 404
    assert snapshot() == before


def test_teacher_records_a_step_with_a_photo_and_only_insiders_can_open_it(
    case: DropoutCase, personas: Personas, teacher_b: Any, media: Path
) -> None:
    # given: the class teacher posts a home visit with a photo
    response = client_for(personas.teacher_a).post(
        f"/duty/cases/{case.pk}/",
        {
            "action": "step",
            "kind": "home_visit",
            "happened_on": "2018-10-09",
            "text": "Talked with the grandmother.",
            "evidence": SimpleUploadedFile("visit.jpg", JPEG, content_type="image/jpeg"),
        },
    )
    assert response.status_code == 302
    step = CaseStep.objects.get()
    assert (step.kind, step.happened_on, step.text, step.recorded_by) == (
        "home_visit",
        dt.date(2018, 10, 9),
        "Talked with the grandmother.",
        personas.teacher_a,
    )
    url = f"/duty/steps/{step.pk}/evidence/"
    # the case page links the scoped download, never the storage path
    html = page(personas.township_a, f"/duty/cases/{case.pk}/").content.decode()
    assert f'href="{url}"' in html and step.evidence.name not in html
    # when / then: insiders get the photo, outsiders a 404 like a missing one
    for insider in (personas.teacher_a, personas.township_a, personas.county_officer):
        served = page(insider, url)
        assert served.status_code == 200
        assert served.body == JPEG
        assert served["Content-Type"] == "image/jpeg"
        assert served["Cache-Control"] == "private, no-store"
    for outsider in (teacher_b, personas.township_b):
        assert page(outsider, url).status_code == 404
    assert page(personas.nobody, url).status_code == 403
    assert page(personas.teacher_a, f"/duty/steps/{step.pk + 99}/evidence/").status_code == 404


def test_a_step_without_evidence_has_no_download(case: DropoutCase, personas: Personas) -> None:
    step = record(personas.teacher_a, case, "note", dt.date(2018, 10, 9))
    assert page(personas.teacher_a, f"/duty/steps/{step.pk}/evidence/").status_code == 404


def test_evidence_of_the_wrong_kind_is_refused_and_nothing_is_recorded(
    case: DropoutCase, personas: Personas, media: Path
) -> None:
    response = client_for(personas.teacher_a).post(
        f"/duty/cases/{case.pk}/",
        {
            "action": "step",
            "kind": "note",
            "happened_on": "2018-10-09",
            "text": "see file",
            "evidence": SimpleUploadedFile("page.html", b"<script>x</script>"),
        },
    )
    assert response.status_code == 200
    assert "File extension “html” is not allowed." in text(response)
    assert CaseStep.objects.count() == 0


@pytest.mark.parametrize(
    ("who", "data"),
    [
        ("inspector", {"action": "step", "kind": "note", "happened_on": "2018-10-09", "text": "x"}),
        ("bureau_leader", {"action": "resolve", "outcome": "moved", "moved_to": "Wuhan"}),
        ("teacher_a", {"action": "verify"}),
        ("principal_a", {"action": "reopen", "reason": "no"}),
        (
            "aid_officer",
            {"action": "step", "kind": "note", "happened_on": "2018-10-09", "text": "x"},
        ),
        ("township_a", {}),
    ],
)
def test_forbidden_posts_on_a_case_change_nothing(
    case: DropoutCase, personas: Personas, who: str, data: dict[str, str]
) -> None:
    services.case_resolve(
        actor=personas.teacher_a, case_id=case.pk, outcome="moved", moved_to="Wuhan, Hongshan"
    )
    before = snapshot()
    response = client_for(getattr(personas, who)).post(f"/duty/cases/{case.pk}/", data)
    assert response.status_code == 403
    assert "Your role may not do this. Nothing was changed." in text(response)
    assert snapshot() == before


def test_outcome_and_verification_through_the_page(
    case: DropoutCase, county: County, personas: Personas
) -> None:
    teacher = client_for(personas.teacher_a)
    # an incomplete outcome is refused with what it lacks, and nothing changes
    response = teacher.post(f"/duty/cases/{case.pk}/", {"action": "resolve", "outcome": "exempt"})
    body = text(response)
    assert "An exemption needs its reason." in body
    assert "An exemption needs a document (photo or scan) on a step." in body
    case.refresh_from_db()
    assert (case.status, case.outcome) == ("open", "")
    # a move with its destination is complete
    teacher.post(
        f"/duty/cases/{case.pk}/",
        {"action": "resolve", "outcome": "moved", "moved_to": "Wuhan, Hongshan"},
    )
    case.refresh_from_db()
    assert (case.status, case.outcome, case.moved_to) == ("resolved", "moved", "Wuhan, Hongshan")
    shown = page(personas.township_a, f"/duty/cases/{case.pk}/")
    assert "The outcome is complete; the township may verify and close the case." in text(shown)
    assert 'id="jz-verify"' in shown.content.decode()
    # the township sends it back once, then verifies it
    township = client_for(personas.township_a)
    township.post(f"/duty/cases/{case.pk}/", {"action": "reopen", "reason": "Call the new school"})
    case.refresh_from_db()
    assert (case.status, case.steps.get().text) == ("open", "Call the new school")
    teacher.post(
        f"/duty/cases/{case.pk}/",
        {"action": "resolve", "outcome": "moved", "moved_to": "Wuhan, Hongshan"},
    )
    response = township.post(f"/duty/cases/{case.pk}/", {"action": "verify"}, follow=True)
    assert "The case is verified and closed." in text(response)
    case.refresh_from_db()
    assert (case.status, case.verified_by) == ("closed", personas.township_a)


def test_previous_episode_is_linked(case: DropoutCase, county: County, personas: Personas) -> None:
    close_returned(county, personas, case)
    drop_out_a(county, dt.date(2018, 11, 20))
    identify(dt.date(2018, 12, 3))
    services.cases_open_from_identification(actor=None, county_code="420101")
    second = DropoutCase.objects.get(episode=2)
    response = page(personas.teacher_a, f"/duty/cases/{second.pk}/")
    assert f'href="/duty/cases/{case.pk}/"' in response.content.decode()
    assert "Episodes Previous episode 1 (closed 2018-10-17)" in text(response)
    first = page(personas.teacher_a, f"/duty/cases/{case.pk}/")
    assert "Next episode 2" in text(first)


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) missing")
def test_return_notice_names_guardian_school_class_and_deadline(
    case: DropoutCase, county: County, personas: Personas, tmp_path: Path
) -> None:
    # without a deadline notice there is nothing to print yet
    early = page(personas.teacher_a, f"/duty/cases/{case.pk}/return-notice.pdf")
    assert (early.status_code, early["Location"]) == (302, f"/duty/cases/{case.pk}/")
    county.person_a.guardian_name = "张大山"
    county.person_a.save()
    record(
        personas.teacher_a,
        case,
        "deadline_notice",
        dt.date(2018, 10, 9),
        return_deadline=dt.date(2018, 10, 22),
    )
    StaffMember.objects.filter(pk=case.assignee_id).update(name="王老师", phone="13812345678")
    response = page(personas.teacher_a, f"/duty/cases/{case.pk}/return-notice.pdf")
    assert response["Content-Type"] == "application/pdf"
    words = pdf_text(response.content, tmp_path)
    assert "张大山（监护人）" in words
    assert "您的子女张小明系甲镇中心小学三年级1班学生，自2018年9月20日起未到校上课" in words
    assert "请您于2018年10月22日前送子女返校复学" in words
    assert "联系人：王老师，联系电话：13812345678" in words
    assert ID_A not in words and "4201" not in words


# --------------------------------------------------------------------------- the chain


def test_principal_names_a_responsible_person_and_prints_the_letter(
    county: County, personas: Personas, tmp_path: Path
) -> None:
    identify()
    StaffMember.objects.filter(user=personas.principal_a).update(name="周校长")
    client = client_for(personas.principal_a)
    form = page(personas.principal_a, "/duty/assignments/")
    html = form.content.decode()
    # the form embeds no students: they are searched, within the principal's own school
    assert "张小明" not in html and "李小红" not in html
    create = html[html.index('id="jz-create-form"') :]
    assert 'value="township"' not in create  # a school does not name bureau leaders
    found = page(personas.principal_a, "/duty/targets/search/", kind="student", q="张").json()
    assert found == {
        "results": [{"id": county.student_a.pk, "label": "张小明 · 甲镇中心小学 · Grade 3, 1班"}]
    }
    assert page(personas.principal_a, "/duty/targets/search/", kind="student", q="李").json() == {
        "results": []
    }
    people = page(personas.principal_a, "/duty/people/search/", q="").json()["results"]
    assert {p["name"] for p in people} == {"周校长", "teacher_a"}
    assert all("phone" not in p for p in people)
    response = client.post(
        "/duty/assignments/",
        {
            "kind": "student",
            "student": county.student_a.pk,
            "holder": personas.principal_a.staff_member.pk,
            "starts_on": "2018-09-03",
            "note": "",
        },
        follow=True,
    )
    assert "The responsible person is named." in text(response)
    a = Assignment.objects.get()
    assert (a.kind, a.person, a.holder.user, a.starts_on, a.school) == (
        "student",
        county.person_a,
        personas.principal_a,
        dt.date(2018, 9, 3),
        county.school_a,
    )
    assert row_text(response, f'data-assignment="{a.pk}"').startswith(
        "Responsible person for a poor student 张小明 · 甲镇中心小学 周校长 Principal 2018-09-03 — — By hand"
    )
    letter = page(personas.principal_a, f"/duty/assignments/{a.pk}/letter.pdf")
    assert letter["Content-Type"] == "application/pdf"
    if PDFTOTEXT is not None:
        words = pdf_text(letter.content, tmp_path)
        assert "发文单位：甲镇中心小学" in words
        assert "责任人：周校长（甲镇中心小学校长）" in words
        assert "principal_a" not in words
        assert "帮扶学生：张小明（甲镇中心小学）" in words
    everything = page(personas.principal_a, "/duty/assignments/letters.pdf")
    assert everything.content.startswith(b"%PDF")
    # more letters than one file holds: back to the filtered list with a message, no PDF
    with mock.patch.object(chain_views, "LETTERS_MAX", 0):
        refused = page(personas.principal_a, "/duty/assignments/letters.pdf", kind="student")
    assert refused.status_code == 302
    assert refused["Location"] == "/duty/assignments/?kind=student"
    shown = [str(m) for m in get_messages(refused.wsgi_request)]
    assert shown == [
        "1 letters are too many for one file (at most 0): filter the list by township, "
        "school or kind first."
    ]
    # township B sees neither the assignment nor its letter
    assert page(personas.township_b, f"/duty/assignments/{a.pk}/").status_code == 404
    assert page(personas.township_b, f"/duty/assignments/{a.pk}/letter.pdf").status_code == 404


def test_sign_and_reassign_keep_the_history(
    county: County, personas: Personas, case: DropoutCase
) -> None:
    a = services.assignment_create(
        actor=personas.principal_a,
        kind="student",
        target_id=county.student_a.pk,
        holder_id=personas.teacher_a.staff_member.pk,
        starts_on=dt.date(2018, 9, 1),
    )
    client = client_for(personas.principal_a)
    client.post(f"/duty/assignments/{a.pk}/", {"action": "sign", "signed_on": "2018-09-05"})
    a.refresh_from_db()
    assert a.signed_on == dt.date(2018, 9, 5)
    response = client.post(
        f"/duty/assignments/{a.pk}/",
        {"action": "reassign", "holder": personas.principal_a.staff_member.pk, "on": "2018-10-15"},
        follow=True,
    )
    assert "The assignment is handed over." in text(response)
    new = Assignment.objects.get(ends_on__isnull=True)
    assert (new.holder.user, new.starts_on) == (personas.principal_a, dt.date(2018, 10, 15))
    history = page(personas.township_a, f"/duty/assignments/{new.pk}/")
    assert "principal_a 2018-10-15 — — principal_a teacher_a 2018-09-01 2018-10-15 2018-09-05" in (
        text(history)
    )
    # the open case went with the assignment
    case.refresh_from_db()
    assert case.assignee.user == personas.principal_a
    # the whole chain with its history
    listing = page(personas.township_a, "/duty/assignments/", history="1")
    assert f'data-assignment="{a.pk}"' in listing.content.decode()


@pytest.mark.parametrize("who", ["inspector", "bureau_leader", "teacher_a", "nobody"])
def test_users_who_may_not_assign_change_nothing(
    county: County, personas: Personas, who: str
) -> None:
    identify()
    a = services.assignment_create(
        actor=personas.principal_a,
        kind="student",
        target_id=county.student_a.pk,
        holder_id=personas.teacher_a.staff_member.pk,
    )
    before = snapshot()
    client = client_for(getattr(personas, who))
    create = client.post(
        "/duty/assignments/",
        {
            "kind": "class",
            "school_class": county.class_a.pk,
            "holder": personas.teacher_a.staff_member.pk,
        },
    )
    sign = client.post(f"/duty/assignments/{a.pk}/", {"action": "sign", "signed_on": "2018-09-05"})
    assert create.status_code == 403
    assert sign.status_code in (403, 404)
    assert snapshot() == before


def test_township_b_cannot_reassign_township_a(county: County, personas: Personas) -> None:
    identify()
    a = services.assignment_create(
        actor=personas.principal_a,
        kind="student",
        target_id=county.student_a.pk,
        holder_id=personas.teacher_a.staff_member.pk,
    )
    before = snapshot()
    response = client_for(personas.township_b).post(
        f"/duty/assignments/{a.pk}/",
        {"action": "reassign", "holder": personas.township_b.staff_member.pk},
    )
    assert response.status_code == 404
    assert snapshot() == before


# --------------------------------------------------------------------------- coverage, reports


def test_coverage_page_per_township_and_school_with_the_gaps(
    county: County, personas: Personas
) -> None:
    identify()
    response = page(personas.county_officer, "/duty/coverage/")
    body = text(response)
    assert "50.0% Poor students with a responsible person: 1 of 2" in body
    assert "0.0% Poor villages with a contact person: 0 of 2" in body
    assert row_text(response, 'data-key="420101001"') == "甲镇 1 1 100.0%"
    assert row_text(response, 'data-key="420101002"') == "乙乡 1 0 0.0%"
    assert "Student School Class 李小红 乙乡中学 Grade 7, 2班" in body
    mine = page(personas.township_a, "/duty/coverage/")
    assert "100.0% Poor students with a responsible person: 1 of 1" in text(mine)
    assert "乙乡" not in mine.content.decode() and "李小红" not in mine.content.decode()


def test_monthly_report_per_school_on_screen_and_in_excel(
    case: DropoutCase, personas: Personas
) -> None:
    response = page(personas.county_officer, "/duty/reports/monthly/", month="2018-10")
    assert "Monthly dropout report, 2018-10" in text(response)
    assert row_text(response, f'data-key="{case.school_id}"') == "甲镇中心小学 1 0 0 1 1"
    workbook = page(personas.county_officer, "/duty/reports/monthly.xlsx", month="2018-10")
    assert xlsx_rows(workbook.content) == [
        ("控辍保学月报（2018年10月）", None, None, None, None, None),
        ("学校", "本期新增", "本期销号", "其中按期销号", "期末未销号", "期末逾期"),
        ("甲镇中心小学", 1, 0, 0, 1, 1),
        ("合计", 1, 0, 0, 1, 1),
    ]
    # the month before, nothing had happened yet
    september = page(personas.county_officer, "/duty/reports/monthly/", month="2018-09")
    assert "No case in your jurisdiction in this period." in text(september)


def test_quarterly_report_per_township_counts_the_close(
    case: DropoutCase, county: County, personas: Personas
) -> None:
    close_returned(county, personas, case)
    response = page(personas.county_officer, "/duty/reports/quarterly/", quarter="2018-4")
    assert "Quarterly dropout report, 2018, quarter 4" in text(response)
    assert row_text(response, 'data-key="420101001"') == "甲镇 1 1 1 0 0"
    rows = xlsx_rows(
        page(personas.county_officer, "/duty/reports/quarterly.xlsx", quarter="2018-4").content
    )
    assert rows[0][0] == "控辍保学季报（2018年第4季度）"
    assert rows[2:] == [("甲镇", 1, 1, 1, 0, 0), ("合计", 1, 1, 1, 0, 0)]
    assert (
        page(personas.township_b, "/duty/reports/quarterly/", quarter="2018-4").status_code == 200
    )


def test_the_current_month_counts_as_of_today(county: County, personas: Personas) -> None:
    # given: a case opened today from an absence report: its next step is due in 7 working days
    identify()
    today = timezone.localdate()
    case = services.case_report_absence(
        actor=personas.teacher_a, student_id=county.student_a.pk, days=12, on=today
    )
    assert services.due_on(case) > today
    # when: this month's report is read (its last day is after the due date, or not)
    response = page(personas.county_officer, "/duty/reports/monthly/")
    # then: the case is open at the end, and not overdue
    assert row_text(response, f'data-key="{case.school_id}"') == "甲镇中心小学 1 0 0 1 0"
    assert f"counted as of today, {today.isoformat()}" in text(response)
    rows = xlsx_rows(page(personas.county_officer, "/duty/reports/monthly.xlsx").content)
    assert rows[0][0] == (
        f"控辍保学月报（{today.year}年{today.month}月，"
        f"截至{today.year}年{today.month}月{today.day}日）"
    )
    assert rows[2] == ("甲镇中心小学", 1, 0, 0, 1, 0)


def test_a_bad_period_is_explained(case: DropoutCase, personas: Personas) -> None:
    response = page(personas.county_officer, "/duty/reports/monthly/", month="2018-13")
    assert response.status_code == 200
    assert "Give the month as 2018-10." in text(response)


# --------------------------------------------------------------------------- the mobile page


@pytest.fixture
def aid_computed(county: County) -> None:
    aid_services.aid_compute(actor=None, county_code="420101", school_year=2018, semester="autumn")


def test_mobile_page_lists_my_students_with_aid_and_what_is_due(
    case: DropoutCase, personas: Personas, aid_computed: None
) -> None:
    response = page(personas.teacher_a, "/m/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="viewport"' in html and "sidebar" not in html  # no back-office chrome
    body = text(response)
    assert "1 Poor students 1 Open cases 1 Overdue" in body
    assert f"Overdue Next step due by {services.due_on(case).isoformat()}" in body
    assert "Aid, 2018–2019, Autumn semester" in body
    assert "李小红" not in html


def test_mobile_page_of_a_principal_shows_the_school(case: DropoutCase, personas: Personas) -> None:
    body = text(page(personas.principal_a, "/m/"))
    assert "张小明" in body and "李小红" not in body


def test_mobile_page_for_other_roles_says_what_to_use(personas: Personas) -> None:
    assert "This page is for class teachers and principals." in text(
        page(personas.township_a, "/m/")
    )
    assert "You have no jurisdiction yet." in text(page(personas.nobody, "/m/"))
    assert page(personas.township_a, "/m/students/1/").status_code == 404


def test_mobile_page_asks_for_a_login_first() -> None:
    response = Client().get("/m/")
    assert (response.status_code, response["Location"]) == (302, "/admin/login/?next=/m/")


def test_mobile_page_is_chinese_by_default(case: DropoutCase, personas: Personas) -> None:
    client = Client()
    client.force_login(personas.teacher_a)
    html = client.get("/m/").content.decode()
    assert '<html lang="zh-CN">' in html
    assert "My poor students" not in html  # the title is translated


def test_teacher_records_a_home_visit_from_the_phone(
    case: DropoutCase, county: County, personas: Personas, media: Path
) -> None:
    client = client_for(personas.teacher_a)
    url = f"/m/students/{county.student_a.pk}/"
    assert "It is recorded on the student's open dropout case." in text(client.get(url))
    response = client.post(
        url,
        {
            "action": "visit",
            "kind": "visit",
            "happened_on": timezone.localdate().isoformat(),
            "text": "The family promises to bring the child back.",
            "photo": SimpleUploadedFile("p.jpg", JPEG, content_type="image/jpeg"),
        },
        follow=True,
    )
    assert "Recorded. Thank you." in text(response)
    step = CaseStep.objects.get()
    assert (step.case, step.kind, step.recorded_by, bool(step.evidence)) == (
        case,
        "home_visit",
        personas.teacher_a,
        True,
    )


def test_teacher_reports_an_absence_that_opens_a_case(
    county: County, personas: Personas, settings: Any
) -> None:
    settings.DUTY_ABSENCE_DAYS = 10
    identify()
    client = client_for(personas.teacher_a)
    url = f"/m/students/{county.student_a.pk}/"
    # no case yet: a visit is recorded for the student, not on a case
    assert "It is recorded on the student's open dropout case." not in text(client.get(url))
    short = client.post(url, {"action": "absence", "days": "3"}, follow=True)
    assert "A case opens after more than 10 days of absence." in text(short)
    assert DropoutCase.objects.count() == 0
    client.post(url, {"action": "absence", "days": "12", "note": "no answer"})
    case = DropoutCase.objects.get()
    assert (case.source, case.absence_days, case.assignee.user) == (
        "absence",
        12,
        personas.teacher_a,
    )


def test_mobile_student_of_another_class_is_404_and_unchanged(
    case: DropoutCase, county: County, personas: Personas, teacher_b: Any
) -> None:
    before = snapshot()
    url = f"/m/students/{county.student_a.pk}/"
    assert page(teacher_b, url).status_code == 404
    response = client_for(teacher_b).post(
        url, {"action": "visit", "kind": "note", "happened_on": "2018-10-09", "text": "x"}
    )
    assert response.status_code == 404
    assert snapshot() == before
