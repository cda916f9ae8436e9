"""The deadline-to-return notice: who to contact (never blank, never a login name) and since
when the child stopped attending (never after the case opened)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from tests.conftest import County, Personas

from jingzhun.accounts.models import StaffMember
from jingzhun.duty import services
from jingzhun.duty.documents import ReturnNotice, contact_line
from jingzhun.duty.models import DropoutCase
from jingzhun.duty.views.cases import left_on
from jingzhun.identification.services import identification_run
from jingzhun.schools.models import Enrolment

PDFTOTEXT = shutil.which("pdftotext")
needs_pdftotext = pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) missing")


def drop_out_a(county: County, on: dt.date) -> None:
    Enrolment.objects.filter(pk=county.enrolment_a.pk).update(status="dropped_out", status_date=on)


@pytest.fixture
def case(county: County, personas: Personas) -> DropoutCase:
    """Child A dropped out on 20 Sep 2018; the run of 8 Oct opened the case; a deadline notice
    of 9 Oct asks for the return by 22 Oct."""
    drop_out_a(county, dt.date(2018, 9, 20))
    identification_run(actor=None, county_code="420101", as_of=dt.date(2018, 10, 8), fuzzy=None)
    services.cases_open_from_identification(actor=None, county_code="420101")
    case = DropoutCase.objects.get()
    services.case_step_record(
        actor=personas.teacher_a,
        case_id=case.pk,
        kind="deadline_notice",
        text="notice handed over",
        happened_on=dt.date(2018, 10, 9),
        return_deadline=dt.date(2018, 10, 22),
    )
    return DropoutCase.objects.get()


def notice_text(user: Any, case: DropoutCase, tmp_path: Path) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/duty/cases/{case.pk}/return-notice.pdf")
    assert response["Content-Type"] == "application/pdf"
    path = tmp_path / "notice.pdf"
    path.write_bytes(response.content)
    assert PDFTOTEXT is not None
    out = subprocess.run([PDFTOTEXT, "-layout", str(path), "-"], capture_output=True, check=True)
    return re.sub(r"\s+", "", out.stdout.decode("utf-8"))


# --------------------------------------------------------------------------- the contact


@needs_pdftotext
def test_notice_names_the_responsible_person_and_phone(
    case: DropoutCase, personas: Personas, tmp_path: Path
) -> None:
    assert case.assignee is not None
    StaffMember.objects.filter(pk=case.assignee.pk).update(name="王老师", phone="13812345678")
    words = notice_text(personas.teacher_a, case, tmp_path)
    assert "联系人：王老师，联系电话：13812345678" in words
    assert "teacher_a" not in words


@needs_pdftotext
def test_without_a_responsible_person_the_principal_of_the_directory_is_named(
    case: DropoutCase, county: County, personas: Personas, tmp_path: Path
) -> None:
    DropoutCase.objects.filter(pk=case.pk).update(assignee=None)
    StaffMember.objects.filter(school=county.school_a, post="principal").update(active=False)
    StaffMember.objects.create(
        name="陈校长",
        phone="0710-7654321",
        post="principal",
        school=county.school_a,
        area_code=county.township_a.code,
    )
    words = notice_text(personas.township_a, case, tmp_path)
    assert "联系人：陈校长，联系电话：0710-7654321" in words


@needs_pdftotext
def test_when_nobody_is_known_the_notice_sends_the_guardian_to_the_school(
    case: DropoutCase, county: County, personas: Personas, tmp_path: Path
) -> None:
    DropoutCase.objects.filter(pk=case.pk).update(assignee=None)
    StaffMember.objects.filter(school=county.school_a, post="principal").update(active=False)
    words = notice_text(personas.township_a, case, tmp_path)
    assert "联系人：请与甲镇中心小学联系" in words


def test_contact_line_is_never_blank() -> None:
    base = ReturnNotice(
        "张大山",
        "张小明",
        "",
        "",
        "2018年9月20日",
        dt.date(2018, 10, 22),
        "甲镇人民政府",
        dt.date(2018, 10, 9),
        "",
    )
    assert contact_line(base) == "联系人：请与甲镇人民政府联系"
    named = ReturnNotice(**{**base.__dict__, "contact": "王老师"})
    assert contact_line(named) == "联系人：王老师"


# --------------------------------------------------------------------------- stopped since


def test_left_on_is_the_roll_date_before_the_opening(case: DropoutCase, county: County) -> None:
    enrolments = list(Enrolment.objects.filter(student=county.student_a))
    assert left_on(case, enrolments) == dt.date(2018, 9, 20)


def test_a_roll_date_after_the_opening_is_not_the_stop_date(
    case: DropoutCase, county: County
) -> None:
    # the roll was updated late: it marks the dropout on 20 Oct, after the case opened on 8 Oct
    drop_out_a(county, dt.date(2018, 10, 20))
    enrolments = list(Enrolment.objects.filter(student=county.student_a))
    assert left_on(case, enrolments) == case.opened_on == dt.date(2018, 10, 8)


@needs_pdftotext
def test_notice_never_says_stopped_after_the_opening(
    case: DropoutCase, county: County, personas: Personas, tmp_path: Path
) -> None:
    drop_out_a(county, dt.date(2018, 10, 20))
    words = notice_text(personas.teacher_a, case, tmp_path)
    assert "自2018年10月8日起未到校上课" in words
    assert "三年级1班" in words


def test_a_new_episode_does_not_take_the_stop_date_of_the_last(
    case: DropoutCase, county: County
) -> None:
    # given: the first episode closed on 10 Oct; the roll still carries the old date of 20 Sep
    DropoutCase.objects.filter(pk=case.pk).update(
        status="closed", outcome="returned", closed_on=dt.date(2018, 10, 10)
    )
    second = DropoutCase.objects.create(
        person=county.person_a,
        student=county.student_a,
        episode=2,
        previous=DropoutCase.objects.get(pk=case.pk),
        source="absence",
        reason="Absent for 12 days",
        opened_on=dt.date(2018, 12, 3),
        village_code=case.village_code,
        school=county.school_a,
        school_class=county.class_a,
        last_step_on=dt.date(2018, 12, 3),
    )
    enrolments = list(Enrolment.objects.filter(student=county.student_a))
    assert left_on(second, enrolments) == dt.date(2018, 12, 3)
    # a dropout recorded between the close and the new opening is the stop date
    drop_out_a(county, dt.date(2018, 11, 20))
    enrolments = list(Enrolment.objects.filter(student=county.student_a))
    assert left_on(second, enrolments) == dt.date(2018, 11, 20)
