"""Read API for duty: dropout cases (with their steps) and coverage of the responsibility chain.

Everything comes from ``duty.selectors`` (scoped by ``core.scoping``): a case outside the
caller's jurisdiction is a 404, like a missing one. No ID number leaves through here, and a
step's evidence is only named by the URL of the scoped download, never by a media path.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from ninja import Field, Router, Schema

from jingzhun.core.api import QueryText, RowId, acting_user, answers, paged
from jingzhun.duty import selectors, services
from jingzhun.duty.models import CaseStep, DropoutCase

router = Router(tags=["duty"])

STATUS = Literal["unclosed", "open", "resolved", "closed"]


# --------------------------------------------------------------------------- schemas


class CaseOut(Schema):
    id: int
    child_name: str
    episode: int
    previous_id: int | None
    status: str
    flag: str = Field(
        description='"black" overdue, "red" closed in time, "grey" closed late, "" open in time'
    )
    overdue: bool
    due_on: dt.date | None = Field(None, description="Last day for the next step (open cases)")
    source: str
    reason: str
    opened_on: dt.date
    last_step_on: dt.date
    return_deadline: dt.date | None
    village_code: str
    school_id: int | None
    school_name: str
    class_id: int | None
    class_name: str
    assignee: str
    supervisor: str
    outcome: str
    resolved_on: dt.date | None
    closed_on: dt.date | None
    closed_late: bool

    @staticmethod
    def resolve_child_name(obj: DropoutCase) -> str:
        return obj.person.name

    @staticmethod
    def resolve_flag(obj: DropoutCase) -> str:
        return selectors.flag_of(obj, timezone.localdate())

    @staticmethod
    def resolve_overdue(obj: DropoutCase) -> bool:
        return services.is_overdue(obj, timezone.localdate())

    @staticmethod
    def resolve_due_on(obj: DropoutCase) -> dt.date | None:
        return None if obj.status == DropoutCase.Status.CLOSED else services.due_on(obj)

    @staticmethod
    def resolve_school_name(obj: DropoutCase) -> str:
        return obj.school.name if obj.school is not None else ""

    @staticmethod
    def resolve_class_id(obj: DropoutCase) -> int | None:
        return obj.school_class_id

    @staticmethod
    def resolve_class_name(obj: DropoutCase) -> str:
        return obj.school_class.name if obj.school_class is not None else ""

    @staticmethod
    def resolve_assignee(obj: DropoutCase) -> str:
        return str(obj.assignee) if obj.assignee is not None else ""

    @staticmethod
    def resolve_supervisor(obj: DropoutCase) -> str:
        return str(obj.supervisor) if obj.supervisor is not None else ""


class StepOut(Schema):
    id: int
    kind: str
    happened_on: dt.date
    text: str
    recorded_by: str
    recorded_at: dt.datetime
    has_evidence: bool
    evidence_url: str = Field(description="The scoped download, empty without evidence")

    @staticmethod
    def resolve_recorded_by(obj: CaseStep) -> str:
        return str(obj.recorded_by)

    @staticmethod
    def resolve_has_evidence(obj: CaseStep) -> bool:
        return bool(obj.evidence)

    @staticmethod
    def resolve_evidence_url(obj: CaseStep) -> str:
        if not obj.evidence:
            return ""
        try:
            return reverse("duty:step-evidence", args=[obj.pk])
        except NoReverseMatch:  # the pages are not mounted: the API alone names no file
            return ""


class CaseDetailOut(CaseOut):
    absence_days: int | None
    home_teacher: str
    home_schedule: str
    exemption_reason: str
    moved_to: str
    problems: list[str] = Field(description="What the outcome still lacks to close the case")
    steps: list[StepOut]

    @staticmethod
    def resolve_problems(obj: DropoutCase) -> list[str]:
        if obj.status == DropoutCase.Status.CLOSED:
            return []
        return services.outcome_problems(obj)

    @staticmethod
    def resolve_steps(obj: DropoutCase, context: dict[str, Any]) -> list[CaseStep]:
        user = acting_user(context["request"])
        return list(selectors.step_list(user=user, case=obj))


class DutyCoverageRowOut(Schema):
    key: str
    label: str
    total: int
    covered: int
    share: Decimal | None = Field(None, description="Per cent covered, one decimal")


class StudentGapOut(Schema):
    person_id: int
    name: str
    village_code: str
    school_id: int | None
    school_name: str
    grade: int | None


class VillageGapOut(Schema):
    id: int
    code: str
    name: str


class DutyCoverageOut(Schema):
    students: DutyCoverageRowOut
    villages: DutyCoverageRowOut
    by_school: list[DutyCoverageRowOut]
    by_township: list[DutyCoverageRowOut]
    student_gaps: list[StudentGapOut]
    village_gaps: list[VillageGapOut]


def _row(row: selectors.CoverageRow) -> dict[str, Any]:
    return {
        "key": row.key,
        "label": row.label,
        "total": row.total,
        "covered": row.covered,
        "share": row.share,
    }


# --------------------------------------------------------------------------- endpoints


@router.get("/duty/cases", response=answers(list[CaseOut], 422), summary="List dropout cases")
@paged
def case_list(
    request: HttpRequest,
    status: STATUS | None = None,
    township: QueryText | None = None,
    school_id: RowId | None = None,
) -> QuerySet[DropoutCase]:
    """List the dropout cases in the caller's jurisdiction, oldest first.

    ``status=unclosed`` gives the open and resolved ones; ``township`` is a township code.
    """
    return selectors.case_list(
        user=acting_user(request),
        status=status or "",
        township=(township or "")[:12],
        school_id=school_id,
    ).order_by("opened_on", "id")


@router.get(
    "/duty/cases/{int:case_id}",
    response=answers(CaseDetailOut, 404, 422),
    summary="One dropout case with its steps",
)
def case_detail(request: HttpRequest, case_id: RowId) -> DropoutCase:
    """Return one case with its steps and what its outcome still lacks."""
    return selectors.get_case(user=acting_user(request), case_id=case_id)


@router.get(
    "/duty/coverage",
    response=answers(DutyCoverageOut),
    summary="Coverage of the responsibility chain, with the gaps",
)
def coverage(request: HttpRequest) -> dict[str, Any]:
    """Return the share of poor students with a responsible person and of poor villages with
    a contact person, per school and township, and who is not covered."""
    cov = selectors.coverage(user=acting_user(request))
    return {
        "students": _row(cov.students),
        "villages": _row(cov.villages),
        "by_school": [_row(r) for r in cov.by_school],
        "by_township": [_row(r) for r in cov.by_township],
        "student_gaps": [
            {
                "person_id": s.person_id,
                "name": s.person.name,
                "village_code": s.village_code,
                "school_id": s.school_id,
                "school_name": s.school.name if s.school is not None else "",
                "grade": s.grade,
            }
            for s in cov.student_gaps
        ],
        "village_gaps": [{"id": v.pk, "code": v.code, "name": v.name} for v in cov.village_gaps],
    }
