"""The duty API under /api/: cases (paginated, scoped), one case with its steps, chain coverage."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from tests.conftest import ID_A, ID_B, County, Personas, make_user

from jingzhun.accounts.roles import Role
from jingzhun.accounts.services import api_token_create
from jingzhun.duty import services
from jingzhun.duty.models import DropoutCase
from jingzhun.identification.services import identification_run
from jingzhun.schools.models import Enrolment

API = "/api"


def call(user: Any, url: str, **params: Any) -> Any:
    """GET an API URL with a bearer token of `user`; check no whole ID number leaves."""
    token = api_token_create(actor=None, user=user, name=uuid.uuid4().hex[:12])[1]
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    response = Client(headers=headers).get(f"{API}{url}", params)
    body = response.content.decode()
    decoded = json.dumps(json.loads(body), ensure_ascii=False) if body.startswith("{") else body
    for whole in (ID_A, ID_B):
        assert whole not in body and whole not in decoded, url
    return response


@pytest.fixture
def case(county: County, personas: Personas, settings: Any, tmp_path: Path) -> DropoutCase:
    settings.MEDIA_ROOT = str(tmp_path)
    Enrolment.objects.filter(pk=county.enrolment_a.pk).update(
        status="dropped_out", status_date=dt.date(2018, 9, 20)
    )
    identification_run(actor=None, county_code="420101", as_of=dt.date(2018, 10, 8), fuzzy=None)
    services.cases_open_from_identification(actor=None, county_code="420101")
    case = DropoutCase.objects.get()
    services.case_step_record(
        actor=personas.teacher_a,
        case_id=case.pk,
        kind="home_visit",
        text="Talked with the grandmother.",
        happened_on=dt.date(2018, 10, 9),
        evidence=SimpleUploadedFile("v.jpg", b"\xff\xd8\xff photo", content_type="image/jpeg"),
    )
    case.refresh_from_db()
    return case


def test_case_list_for_the_township(case: DropoutCase, personas: Personas) -> None:
    data = call(personas.township_a, "/duty/cases").json()
    assert data["count"] == 1
    (item,) = data["items"]
    assert item == {
        "id": case.pk,
        "child_name": "张小明",
        "episode": 1,
        "previous_id": None,
        "status": "open",
        "flag": "black",
        "overdue": True,
        "due_on": services.due_on(case).isoformat(),
        "source": "identification",
        "reason": "Dropped out (roll status)",
        "opened_on": "2018-10-08",
        "last_step_on": "2018-10-09",
        "return_deadline": None,
        "village_code": "420101001001",
        "school_id": case.school_id,
        "school_name": "甲镇中心小学",
        "class_id": case.school_class_id,
        "class_name": "1班",
        "assignee": "teacher_a",
        "supervisor": "town_a",
        "outcome": "",
        "resolved_on": None,
        "closed_on": None,
        "closed_late": False,
    }


@pytest.mark.parametrize(
    ("who", "count"),
    [
        ("county_officer", 1),
        ("inspector", 1),
        ("township_a", 1),
        ("principal_a", 1),
        ("teacher_a", 1),
        ("township_b", 0),
        ("nobody", 0),
    ],
)
def test_case_list_is_scoped(case: DropoutCase, personas: Personas, who: str, count: int) -> None:
    data = call(getattr(personas, who), "/duty/cases").json()
    assert (data["count"], len(data["items"])) == (count, count)


def test_case_list_filters_and_paginates(case: DropoutCase, personas: Personas) -> None:
    officer = personas.county_officer
    assert call(officer, "/duty/cases", status="closed").json()["count"] == 0
    assert call(officer, "/duty/cases", status="unclosed").json()["count"] == 1
    assert call(officer, "/duty/cases", township="420101002").json()["count"] == 0
    page = call(officer, "/duty/cases", limit=1, offset=1).json()
    assert (page["count"], page["items"]) == (1, [])
    assert call(officer, "/duty/cases", status="bogus").status_code == 422


def test_case_detail_with_steps_and_what_it_lacks(case: DropoutCase, personas: Personas) -> None:
    data = call(personas.teacher_a, f"/duty/cases/{case.pk}").json()
    assert data["problems"] == ["No outcome is recorded."]
    (step,) = data["steps"]
    assert {k: step[k] for k in ("kind", "happened_on", "text", "recorded_by")} == {
        "kind": "home_visit",
        "happened_on": "2018-10-09",
        "text": "Talked with the grandmother.",
        "recorded_by": "teacher_a",
    }
    # the evidence is named by the scoped download only, never by its storage path
    assert step["has_evidence"] is True
    assert step["evidence_url"] == f"/duty/steps/{step['id']}/evidence/"
    assert "duty/evidence" not in json.dumps(data)


def test_case_detail_outside_the_jurisdiction_is_404(
    case: DropoutCase, county: County, personas: Personas
) -> None:
    teacher_b = make_user("teacher_b", Role.CLASS_TEACHER, school_class=county.class_b)
    for outsider in (teacher_b, personas.township_b, personas.nobody):
        assert call(outsider, f"/duty/cases/{case.pk}").status_code == 404
    assert call(personas.county_officer, f"/duty/cases/{case.pk + 99}").status_code == 404


def test_api_needs_authentication(case: DropoutCase) -> None:
    assert Client().get(f"{API}/duty/cases").status_code == 401


def test_coverage(county: County, personas: Personas) -> None:
    identification_run(actor=None, county_code="420101", as_of=dt.date(2018, 10, 8), fuzzy=None)
    data = call(personas.county_officer, "/duty/coverage").json()
    assert data["students"] == {
        "key": "students",
        "label": "",
        "total": 2,
        "covered": 1,
        "share": "50.0",
    }
    assert data["villages"]["total"] == 2 and data["villages"]["covered"] == 0
    assert [(r["label"], r["total"], r["covered"]) for r in data["by_township"]] == [
        ("甲镇", 1, 1),
        ("乙乡", 1, 0),
    ]
    assert [g["name"] for g in data["student_gaps"]] == ["李小红"]
    assert [g["name"] for g in data["village_gaps"]] == ["甲村", "乙村"]
    mine = call(personas.township_a, "/duty/coverage").json()
    assert (mine["students"]["total"], mine["student_gaps"], mine["by_school"][0]["label"]) == (
        1,
        [],
        "甲镇中心小学",
    )
    assert call(personas.nobody, "/duty/coverage").json()["students"]["total"] == 0
