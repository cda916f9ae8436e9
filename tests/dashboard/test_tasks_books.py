"""Task books: contents checked by hand, the fingerprint, the PDF to sign, recording a signature
(preview, confirm, audit, refused twice, also at once) and who may do it."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess  # nosec B404 - pdftotext on a file we made
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation
from tests.conftest import County, Personas
from tests.dashboard.tasks_world import TODAY, Tasks, build, node
from tests.threads import at_once

from jingzhun.core.models import AuditEvent
from jingzhun.dashboard import taskbook as B
from jingzhun.dashboard.models import TaskBookSignature
from jingzhun.projects.models import Project, ProjectNode


@pytest.fixture
def world(county: County, personas: Personas) -> Tasks:
    return build(county, personas)


def client_for(user: Any) -> Client:
    c = Client()
    c.cookies["django_language"] = "en"
    c.force_login(user)
    return c


def book(user: Any, unit: B.Unit, year: int = 2018) -> B.Book:
    return B.book_for(user, unit, year, today=TODAY)


def test_township_book_checked_by_hand(county: County, personas: Personas, world: Tasks) -> None:
    unit = B.get_township_unit(personas.county_officer, county.township_a.code)
    b = book(personas.county_officer, unit)
    # its renovation of 2018 (not accepted yet), a care centre (it has a poor village, none
    # built), dropout control
    assert [(t.code, t.clause, t.target, t.done) for t in b.targets] == [
        ("projects:renovation", "II.2.3", 1, 0),
        ("care_centre", "II.2.6", 1, 0),
        ("dropout_control", "III.1", 0, None),
    ]
    # the project's four nodes due in 2018 and the rectification due 2018-11-30
    assert [(t.title, t.due) for t in b.tasks] == [
        ("甲校改薄: Set-up (立项)", dt.date(2018, 9, 15)),
        ("甲校改薄: Approval (审批)", dt.date(2018, 10, 15)),
        ("甲校改薄: Tender (招标)", dt.date(2018, 11, 30)),
        ("Rectification: 甲镇中心小学资助公示缺失", dt.date(2018, 11, 30)),
        ("甲校改薄: Start of works (开工)", dt.date(2018, 12, 14)),
    ]
    assert b.state == "unsigned"
    # school B's book: its node of 2019 is not in the book of 2018
    school_b = B.get_school_unit(personas.county_officer, county.school_b.pk)
    assert [t.title for t in book(personas.county_officer, school_b).tasks] == [
        "Rectification: 乙乡中学资助公示缺失"
    ]
    assert [t.title for t in book(personas.county_officer, school_b, 2019).tasks] == [
        "乙校改薄: Set-up (立项)"
    ]


def test_fingerprint_is_stable_and_follows_the_targets(
    county: County, personas: Personas, world: Tasks
) -> None:
    unit = B.get_school_unit(personas.county_officer, county.school_a.pk)
    first = book(personas.county_officer, unit).fingerprint
    assert len(first) == 64
    # the same content in another language, or seen by the township: the same fingerprint
    with translation.override("zh-hans"):
        assert book(personas.county_officer, unit).fingerprint == first
    assert book(personas.township_a, unit).fingerprint == first
    # progress is not content: closing the tender changes nothing
    ProjectNode.objects.filter(project=world.project_a, kind="tender").update(
        closed_on=dt.date(2018, 11, 28)
    )
    assert book(personas.county_officer, unit).fingerprint == first
    # a second renovation of 2018 at school A: the target becomes 2, another book
    extra = Project.objects.create(
        kind="renovation",
        name="甲校操场",
        school=county.school_a,
        township_code=county.township_a.code,
        plan_year=2018,
    )
    node(extra, "setup", 1, dt.date(2019, 3, 1), None)
    changed = book(personas.county_officer, unit)
    assert changed.targets[0].target == 2
    assert changed.fingerprint != first
    # a deadline moved: another book again
    ProjectNode.objects.filter(project=world.project_a, kind="works_start").update(
        due_on=dt.date(2018, 12, 20)
    )
    assert book(personas.county_officer, unit).fingerprint not in (first, changed.fingerprint)


def test_books_are_scoped(county: County, personas: Personas, world: Tasks) -> None:
    assert [u.name for u in B.townships(personas.county_officer)] == ["甲镇", "乙乡"]
    assert [u.name for u in B.townships(personas.township_b)] == ["乙乡"]
    assert [u.name for u in B.schools(personas.township_b)] == ["乙乡中学"]
    assert [u.name for u in B.schools(personas.principal_a)] == ["甲镇中心小学"]
    assert B.townships(personas.teacher_a) == [] and B.schools(personas.teacher_a) == []
    town_b = client_for(personas.township_b)
    a_code, a_school = county.township_a.code, county.school_a.pk
    assert town_b.get(f"/centre/task-books/township/{a_code}.pdf").status_code == 404
    assert town_b.get(f"/centre/task-books/school/{a_school}.pdf").status_code == 404
    page = town_b.get("/centre/task-books/?year=2018").content.decode()
    assert "乙乡中学" in page and "甲镇中心小学" not in page


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext is not installed")
def test_pdf_to_sign_shows_the_fingerprint(
    county: County, personas: Personas, world: Tasks, tmp_path: Any
) -> None:
    response = client_for(personas.county_officer).get(
        f"/centre/task-books/township/{county.township_a.code}.pdf?year=2018"
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    path = tmp_path / "book.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(  # noqa: S603
        ["pdftotext", str(path), "-"],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    unit = B.get_township_unit(personas.county_officer, county.township_a.code)
    with translation.override("zh-hans"):
        fingerprint = book(personas.county_officer, unit).fingerprint
    assert fingerprint in text.replace("\n", "")
    assert "甲镇2018年度教育精准扶贫任务书" in text
    assert "负责人签字" in text and "甲校改薄" in text and "乙校改薄" not in text


def sign_url(county: County) -> str:
    return f"/centre/task-books/school/{county.school_a.pk}/sign/?year=2018"


def test_record_a_signature_preview_then_confirm(
    county: County, personas: Personas, world: Tasks
) -> None:
    c = client_for(personas.township_a)
    form = c.get(sign_url(county))
    assert form.status_code == 200
    fingerprint = form.context["book"].fingerprint
    data = {
        "signer_name": "王校长",
        "signer_title": "校长",
        "signed_on": "2018-12-05",
        "fingerprint": fingerprint,
        "year": "2018",
    }
    # preview: nothing stored
    preview = c.post(sign_url(county), {**data, "preview": "1"})
    assert preview.status_code == 200 and preview.context["preview"]
    assert TaskBookSignature.objects.count() == 0
    # confirm: stored with the fingerprint, audited
    done = c.post(sign_url(county), {**data, "confirm": "1"})
    assert done.status_code == 302
    row = TaskBookSignature.objects.get()
    assert (row.unit, row.school_id, row.year, row.document_sha256, row.signer_name) == (
        "school",
        county.school_a.pk,
        2018,
        fingerprint,
        "王校长",
    )
    assert AuditEvent.objects.filter(action="dashboard.task_book_signed").count() == 1
    # a second record of the same book is refused, nothing more stored
    again = c.post(sign_url(county), {**data, "confirm": "1"})
    assert again.status_code == 200
    assert "already recorded" in again.content.decode()
    assert TaskBookSignature.objects.count() == 1
    # the list: signed; then a target changes: signed an older version
    listing = c.get("/centre/task-books/?year=2018").content.decode()
    assert 'data-state="signed"' in listing
    Project.objects.create(
        kind="renovation",
        name="甲校操场",
        school=county.school_a,
        township_code=county.township_a.code,
        plan_year=2018,
    )
    listing = c.get("/centre/task-books/?year=2018").content.decode()
    assert 'data-state="older"' in listing


def test_bad_input_and_changed_book_are_refused(
    county: County, personas: Personas, world: Tasks
) -> None:
    c = client_for(personas.township_a)
    data = {
        "signer_name": "",
        "signed_on": "2019-01-05",
        "fingerprint": "0" * 64,
        "year": "2018",
        "confirm": "1",
    }
    response = c.post(sign_url(county), data)
    assert response.status_code == 200
    assert response.context["form"].errors["signer_name"]
    data["signer_name"] = "王校长"
    response = c.post(sign_url(county), data)
    assert "changed since you previewed it" in response.content.decode()
    assert TaskBookSignature.objects.count() == 0


def test_who_may_record(county: County, personas: Personas, world: Tasks) -> None:
    township_url = f"/centre/task-books/township/{county.township_a.code}/sign/?year=2018"
    assert client_for(personas.county_officer).get(township_url).status_code == 200
    assert client_for(personas.county_officer).get(sign_url(county)).status_code == 200
    # a township officer records its schools' books, not its own
    assert client_for(personas.township_a).get(township_url).status_code == 403
    assert client_for(personas.township_b).get(sign_url(county)).status_code == 404
    for who in (personas.bureau_leader, personas.inspector, personas.principal_a):
        assert client_for(who).get(sign_url(county)).status_code == 403
    with pytest.raises(ValidationError):
        unit = B.get_school_unit(personas.principal_a, county.school_a.pk)
        b = book(personas.principal_a, unit)
        B.task_book_sign(
            actor=personas.principal_a,
            book=b,
            seen_fingerprint=b.fingerprint,
            signer_name="王校长",
            signer_title="",
            signed_on=TODAY,
            today=TODAY,
        )
    assert TaskBookSignature.objects.count() == 0


def test_two_records_at_once_give_one(
    audit_flushable: Any, county: County, personas: Personas
) -> None:
    build(county, personas)
    officer = personas.township_a

    def work(i: int, _state: Any) -> Any:
        unit = B.get_school_unit(officer, county.school_a.pk)
        b = B.book_for(officer, unit, 2018, today=TODAY)
        return B.task_book_sign(
            actor=officer,
            book=b,
            seen_fingerprint=b.fingerprint,
            signer_name=f"签字人{i}",
            signer_title="",
            signed_on=TODAY,
            today=TODAY,
        )

    results = at_once(4, work)
    stored = [r for r in results if isinstance(r, TaskBookSignature)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(stored) == 1, results
    assert len(refused) == 3
    assert all("already recorded" in " ".join(r.messages) for r in refused)
    assert TaskBookSignature.objects.count() == 1
