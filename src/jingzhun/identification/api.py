"""Read API for identification: runs, what changed, each child's status, the review queue.

Lists come from ``identification.selectors`` (scoped by ``core.scoping``); a run of another
county is a 404, like a missing one. ID and roll numbers leave masked only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Schema

from jingzhun.core.api import QueryText, RowId, acting_user, answers, paged
from jingzhun.core.resident_id import birth_month
from jingzhun.identification import selectors
from jingzhun.identification.models import (
    ChildStatus,
    IdentificationRun,
    ReviewCandidate,
    RunChange,
)
from jingzhun.identification.wording import why_listed

router = Router(tags=["identification"])


# --------------------------------------------------------------------------- schemas


class RunOut(Schema):
    id: int
    county_code: str
    as_of: dt.date
    school_year: int
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    previous_id: int | None


class RunDetail(RunOut):
    children: int
    categories: dict[str, int]
    changes: dict[str, int]
    discrepancies: int
    candidates_pending: int


class ChangeOut(Schema):
    id: int
    kind: str
    person_id: int
    name: str
    id_masked: str
    village_code: str
    school_id: int | None
    school_name: str
    before: str
    after: str

    @staticmethod
    def resolve_name(obj: RunChange) -> str:
        return obj.person.name

    @staticmethod
    def resolve_id_masked(obj: RunChange) -> str:
        return obj.person.id_masked

    @staticmethod
    def resolve_school_name(obj: RunChange) -> str:
        return obj.school.name if obj.school is not None else ""


def _why(obj: ChildStatus) -> tuple[str, str]:
    return why_listed(
        category=obj.category,
        birth_date=obj.person.birth_date,
        school_year=obj.run.school_year,
        school_status=obj.person.school_status,
        education=obj.person.education,
        id_status=obj.person.id_status,
    )


class StatusOut(Schema):
    person_id: int
    name: str
    id_masked: str
    sex: str
    birth_month: str
    age: int
    household_status: str
    village_code: str
    category: str
    known: bool
    returned: bool
    school_id: int | None
    school_name: str
    stage: str
    grade: int | None
    boarding: bool
    enrolment_status: str
    link_method: str
    student_id: int | None
    roll_masked: str
    why_listed: str
    what_takes_them_off: str

    @staticmethod
    def resolve_name(obj: ChildStatus) -> str:
        return obj.person.name

    @staticmethod
    def resolve_why_listed(obj: ChildStatus) -> str:
        return _why(obj)[0]

    @staticmethod
    def resolve_what_takes_them_off(obj: ChildStatus) -> str:
        return _why(obj)[1]

    @staticmethod
    def resolve_id_masked(obj: ChildStatus) -> str:
        return obj.person.id_masked

    @staticmethod
    def resolve_sex(obj: ChildStatus) -> str:
        return obj.person.sex

    @staticmethod
    def resolve_birth_month(obj: ChildStatus) -> str:
        return birth_month(obj.person.birth_date)

    @staticmethod
    def resolve_school_name(obj: ChildStatus) -> str:
        return obj.school.name if obj.school is not None else ""

    @staticmethod
    def resolve_roll_masked(obj: ChildStatus) -> str:
        return obj.student.roll_masked if obj.student is not None else ""


class CandidateOut(Schema):
    id: int
    run_id: int
    probability: float
    decision: str
    person_id: int
    person_name: str
    person_id_masked: str
    village_code: str
    student_id: int
    student_name: str
    student_id_masked: str
    roll_masked: str
    school_name: str
    evidence: dict[str, Any]

    @staticmethod
    def resolve_person_name(obj: ReviewCandidate) -> str:
        return obj.person.name

    @staticmethod
    def resolve_person_id_masked(obj: ReviewCandidate) -> str:
        return obj.person.id_masked

    @staticmethod
    def resolve_student_name(obj: ReviewCandidate) -> str:
        return obj.student.name

    @staticmethod
    def resolve_student_id_masked(obj: ReviewCandidate) -> str:
        return obj.student.id_masked

    @staticmethod
    def resolve_roll_masked(obj: ReviewCandidate) -> str:
        return obj.student.roll_masked

    @staticmethod
    def resolve_school_name(obj: ReviewCandidate) -> str:
        return obj.school.name if obj.school is not None else ""

    @staticmethod
    def resolve_evidence(obj: ReviewCandidate) -> dict[str, Any]:
        return selectors.masked_evidence(obj.evidence)


# --------------------------------------------------------------------------- endpoints


@router.get(
    "/identification/runs",
    response=answers(list[RunOut], 422),
    summary="List identification runs",
)
@paged
def run_list(request: HttpRequest) -> QuerySet[IdentificationRun]:
    """List the identification runs of the caller's county, newest first."""
    return selectors.run_list(user=acting_user(request))


@router.get(
    "/identification/runs/{int:run_id}",
    response=answers(RunDetail, 404, 422),
    summary="One identification run, with counts in the caller's jurisdiction",
)
def run_detail(request: HttpRequest, run_id: RowId) -> dict[str, Any]:
    """Return one run; its counts are those of the caller's jurisdiction, not the county's."""
    user = acting_user(request)
    run = selectors.get_run(user=user, run_id=run_id)
    return {
        **RunOut.from_orm(run).model_dump(),
        "children": selectors.status_list(user=user, run=run).count(),
        "categories": {c.code: c.n for c in selectors.category_counts(user=user, run=run)},
        "changes": {c.code: c.n for c in selectors.change_counts(user=user, run=run)},
        "discrepancies": selectors.discrepancy_list(user=user, run=run).count(),
        "candidates_pending": selectors.candidate_list(user=user).filter(run=run).count(),
    }


@router.get(
    "/identification/runs/{int:run_id}/changes",
    response=answers(list[ChangeOut], 404, 422),
    summary="What a run found changed since the run before it",
)
@paged
def run_changes(
    request: HttpRequest, run_id: RowId, kind: QueryText | None = None
) -> QuerySet[RunChange]:
    """List a run's changes in the caller's jurisdiction; filter by `kind`."""
    user = acting_user(request)
    run = selectors.get_run(user=user, run_id=run_id)
    qs = selectors.change_list(user=user, run=run)
    return qs.filter(kind=kind) if kind else qs


@router.get(
    "/identification/statuses",
    response=answers(list[StatusOut], 404, 422),
    summary="Each child's status in a run (the latest by default)",
)
@paged
def status_list(
    request: HttpRequest, run: RowId | None = None, category: QueryText | None = None
) -> QuerySet[ChildStatus]:
    """List the children of a run in the caller's jurisdiction; filter by `category`.

    Without `run`, the latest finished run is used (an empty list if there is none).
    """
    user = acting_user(request)
    found = (
        selectors.get_run(user=user, run_id=run)
        if run is not None
        else selectors.latest_run(user=user)
    )
    if found is None:
        return ChildStatus.objects.none()
    qs = selectors.status_list(user=user, run=found).select_related(
        "person", "school", "student", "run"
    )
    if category:
        qs = qs.filter(category=category)
    return qs.order_by("village_code", "person__name", "pk")


@router.get(
    "/identification/candidates",
    response=answers(list[CandidateOut], 422),
    summary="Probable links waiting for review",
)
@paged
def candidate_list(request: HttpRequest) -> QuerySet[ReviewCandidate]:
    """List the pending review candidates of the caller's jurisdiction, most probable first."""
    return selectors.candidate_list(user=acting_user(request))
