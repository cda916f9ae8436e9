"""Dropout casework: opening from identification, episodes, steps, outcomes, verification."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from tests.conftest import make_user

from jingzhun.accounts.roles import Role
from jingzhun.core.models import AuditEvent
from jingzhun.duty import services
from jingzhun.duty.models import CaseStep, DropoutCase
from jingzhun.identification.models import ChildStatus
from jingzhun.identification.services import identification_run
from jingzhun.schools.models import Enrolment

AS_OF = dt.date(2018, 10, 8)


def identify(as_of: dt.date = AS_OF) -> Any:
    return identification_run(actor=None, county_code="420101", as_of=as_of, fuzzy=None)


def drop_out_a(county: Any, on: dt.date = dt.date(2018, 9, 20)) -> None:
    Enrolment.objects.filter(pk=county.enrolment_a.pk).update(status="dropped_out", status_date=on)


def open_cases(actor: Any = None) -> services.OpenResult:
    return services.cases_open_from_identification(actor=actor, county_code="420101")


def test_identification_opens_a_case_for_the_dropout(county: Any, personas: Any) -> None:
    drop_out_a(county)
    identify()
    result = open_cases()
    assert (result.opened, result.reopened, result.already_open) == (1, 0, 0)
    case = DropoutCase.objects.get()
    assert (case.person, case.episode, case.status, case.source) == (
        county.person_a,
        1,
        "open",
        "identification",
    )
    # assigned to the child's class teacher, supervised by the township officer
    assert (case.assignee.user, case.supervisor.user) == (personas.teacher_a, personas.township_a)
    assert case.school_class == county.class_a and case.opened_on == AS_OF
    assert AuditEvent.objects.filter(action="duty.case_open").count() == 1


def test_rerun_opens_nothing_new(county: Any, personas: Any) -> None:
    drop_out_a(county)
    identify()
    open_cases()
    again = open_cases()
    assert (again.opened, again.reopened, again.already_open) == (0, 0, 1)
    assert DropoutCase.objects.count() == 1


def _close_returned(county: Any, personas: Any, case: DropoutCase, on: dt.date) -> DropoutCase:
    Enrolment.objects.filter(pk=county.enrolment_a.pk).update(status="enrolled", status_date=None)
    services.case_step_record(
        actor=personas.teacher_a,
        case_id=case.pk,
        kind="returned",
        text="back in class 1",
        happened_on=on,
    )
    services.case_step_record(
        actor=personas.teacher_a,
        case_id=case.pk,
        kind="followup_week",
        text="attends daily",
        happened_on=on,
    )
    services.case_resolve(
        actor=personas.teacher_a,
        case_id=case.pk,
        outcome="returned",
        enrolment_id=county.enrolment_a.pk,
        on=on,
    )
    return services.case_verify(actor=personas.township_a, case_id=case.pk, today=on)


def test_dropping_out_again_opens_a_new_episode(
    county: Any, personas: Any, monkeypatch: Any
) -> None:
    drop_out_a(county)
    identify()
    open_cases()
    first = DropoutCase.objects.get()
    closed = _close_returned(county, personas, first, dt.date(2018, 10, 10))
    assert closed.status == "closed" and not closed.closed_late
    # the child drops out again in November; the December run finds it
    drop_out_a(county, dt.date(2018, 11, 20))
    identify(dt.date(2018, 12, 3))
    result = open_cases()
    assert (result.opened, result.reopened) == (0, 1)
    second = DropoutCase.objects.get(episode=2)
    assert second.previous == first and second.status == "open"


def test_a_run_older_than_the_close_does_not_reopen(county: Any, personas: Any) -> None:
    drop_out_a(county)
    identify()
    open_cases()
    _close_returned(county, personas, DropoutCase.objects.get(), dt.date(2018, 10, 10))
    # the roll still shows the dropout in a run as of before the close
    drop_out_a(county)
    identify(dt.date(2018, 10, 9))
    assert open_cases().reopened == 0
    assert DropoutCase.objects.count() == 1


def test_closing_is_refused_without_the_evidence_the_outcome_needs(
    county: Any, personas: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    drop_out_a(county)
    identify()
    open_cases()
    case = DropoutCase.objects.get()
    with pytest.raises(ValidationError) as err:
        services.case_resolve(actor=personas.teacher_a, case_id=case.pk, outcome="returned")
    assert "An active enrolment must prove the return." in err.value.messages
    assert "The follow-up after one week is missing." in err.value.messages
    case.refresh_from_db()
    assert (case.status, case.outcome) == ("open", "")
    with pytest.raises(ValidationError):
        services.case_resolve(
            actor=personas.teacher_a, case_id=case.pk, outcome="exempt", exemption_reason="ill"
        )
    # with a scanned certificate on a step the exemption is complete
    services.case_step_record(
        actor=personas.teacher_a,
        case_id=case.pk,
        kind="note",
        text="hospital certificate",
        happened_on=dt.date(2018, 10, 9),
        evidence=SimpleUploadedFile("cert.jpg", b"\xff\xd8\xff jpeg", content_type="image/jpeg"),
    )
    resolved = services.case_resolve(
        actor=personas.teacher_a, case_id=case.pk, outcome="exempt", exemption_reason="long illness"
    )
    assert resolved.status == "resolved"


def test_only_the_township_verifies(county: Any, personas: Any) -> None:
    drop_out_a(county)
    identify()
    open_cases()
    case = DropoutCase.objects.get()
    services.case_resolve(
        actor=personas.teacher_a, case_id=case.pk, outcome="moved", moved_to="Wuhan, Hongshan"
    )
    for who in ("teacher_a", "principal_a", "county_officer", "aid_officer"):
        with pytest.raises(PermissionDenied):
            services.case_verify(actor=getattr(personas, who), case_id=case.pk)
    with pytest.raises(Http404):
        services.case_verify(actor=personas.township_b, case_id=case.pk)
    case.refresh_from_db()
    assert case.status == "resolved"
    services.case_verify(actor=personas.township_a, case_id=case.pk)
    case.refresh_from_db()
    assert (case.status, case.verified_by) == ("closed", personas.township_a)


def test_steps_outside_the_jurisdiction_are_refused(county: Any, personas: Any) -> None:
    drop_out_a(county)
    identify()
    open_cases()
    case = DropoutCase.objects.get()
    outsider = make_user("teacher_b", Role.CLASS_TEACHER, school_class=county.class_b)
    with pytest.raises(Http404):
        services.case_step_record(actor=outsider, case_id=case.pk, kind="home_visit", text="x")
    with pytest.raises(PermissionDenied):
        services.case_step_record(
            actor=personas.inspector, case_id=case.pk, kind="home_visit", text="x"
        )
    assert CaseStep.objects.count() == 0


def test_deadline_notice_sets_the_return_date(county: Any, personas: Any) -> None:
    drop_out_a(county)
    identify()
    open_cases()
    case = DropoutCase.objects.get()
    services.case_step_record(
        actor=personas.teacher_a,
        case_id=case.pk,
        kind="deadline_notice",
        text="notice handed to the grandmother",
        happened_on=dt.date(2018, 10, 9),
        return_deadline=dt.date(2018, 10, 22),
    )
    services.case_step_record(
        actor=personas.teacher_a,
        case_id=case.pk,
        kind="home_visit",
        text="the family promises to bring him back",
        happened_on=dt.date(2018, 10, 19),
    )
    case.refresh_from_db()
    assert (case.return_deadline, case.last_step_on) == (
        dt.date(2018, 10, 22),
        dt.date(2018, 10, 19),
    )
    # steps are recent, but past the return date without a return the case is overdue
    assert services.is_overdue(case, dt.date(2018, 10, 22)) is False
    assert services.is_overdue(case, dt.date(2018, 10, 23)) is True


def test_overdue_counts_working_days_across_a_weekend_and_a_holiday(
    county: Any, personas: Any
) -> None:
    drop_out_a(county)
    identify()
    open_cases()
    case = DropoutCase.objects.get()
    DropoutCase.objects.filter(pk=case.pk).update(last_step_on=dt.date(2018, 9, 28))
    case.refresh_from_db()
    # Sat 29 and Sun 30 Sep are make-up working days (1, 2); 1-7 Oct is National Day;
    # 8-12 Oct are days 3-7.
    assert services.due_on(case) == dt.date(2018, 10, 12)
    assert services.is_overdue(case, dt.date(2018, 10, 12)) is False
    assert services.is_overdue(case, dt.date(2018, 10, 13)) is True


def test_teacher_absence_report_opens_a_case_after_the_threshold(
    county: Any, personas: Any, settings: Any
) -> None:
    settings.DUTY_ABSENCE_DAYS = 10
    identify()
    with pytest.raises(ValidationError):
        services.case_report_absence(
            actor=personas.teacher_a, student_id=county.student_a.pk, days=10
        )
    assert DropoutCase.objects.count() == 0
    case = services.case_report_absence(
        actor=personas.teacher_a, student_id=county.student_a.pk, days=11, note="no answer at home"
    )
    assert (case.source, case.absence_days, case.assignee.user) == (
        "absence",
        11,
        personas.teacher_a,
    )
    # a second report adds to the open case
    again = services.case_report_absence(
        actor=personas.teacher_a, student_id=county.student_a.pk, days=14
    )
    assert again == case and case.steps.filter(kind="absence").count() == 2


def test_teacher_transfer_hands_open_cases_to_the_new_teacher(county: Any, personas: Any) -> None:
    drop_out_a(county)
    identify()
    open_cases()
    successor = make_user("teacher_a2", Role.CLASS_TEACHER, school_class=county.class_a)
    moved = services.teacher_transfer(
        actor=personas.principal_a,
        teacher_id=personas.teacher_a.pk,
        school_class_id=county.class_a.pk,
    )
    # moving within the same class hands nothing over; to another class it does
    assert moved == 1
    case = DropoutCase.objects.get()
    assert case.assignee.user == successor


def test_home_teaching_close_out_is_known_to_identification(county: Any, personas: Any) -> None:
    drop_out_a(county)
    identify()
    open_cases()
    case = DropoutCase.objects.get()
    services.case_resolve(
        actor=personas.teacher_a,
        case_id=case.pk,
        outcome="home_teaching",
        home_teacher="王老师",
        home_schedule="Tuesdays and Fridays",
        on=dt.date(2018, 10, 10),
    )
    services.case_verify(actor=personas.township_a, case_id=case.pk, today=dt.date(2018, 10, 11))
    # the next run classifies the child as taught at home, and no new episode opens
    run = identify(dt.date(2018, 12, 3))
    status = ChildStatus.objects.get(run=run, person=county.person_a)
    assert status.category == "home_teaching"
    assert open_cases().reopened == 0
    assert DropoutCase.objects.count() == 1


def test_a_move_away_is_not_reopened_by_later_runs(county: Any, personas: Any) -> None:
    drop_out_a(county)
    identify()
    open_cases()
    case = DropoutCase.objects.get()
    services.case_resolve(
        actor=personas.teacher_a, case_id=case.pk, outcome="moved", moved_to="Shenzhen, Bao'an"
    )
    services.case_verify(actor=personas.township_a, case_id=case.pk, today=dt.date(2018, 10, 11))
    identify(dt.date(2018, 12, 3))
    assert open_cases().reopened == 0
