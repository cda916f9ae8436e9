"""Read API for student aid: coverage, entitlements, a student's aid, and explaining a profile.

Everything comes from ``aid.selectors`` and ``aid.selectors_ui`` (scoped by
``core.scoping``): a student outside the caller's jurisdiction is a 404, like a missing one.
No ID, address or bank number leaves through here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import translation
from ninja import Field, Router, Schema

from jingzhun.aid import selectors, selectors_ui
from jingzhun.aid.evaluate import Profile, explain
from jingzhun.aid.models import Entitlement
from jingzhun.core.api import RowId, acting_user, answers, paged
from jingzhun.core.working_year import working_semester
from jingzhun.schools.naming import class_of

router = Router(tags=["aid"])

STAGE = Literal["preschool", "primary", "junior", "senior", "vocational", "university"]
SEMESTER = Literal["autumn", "spring"]
# A school year by its first calendar year, e.g. 2018 for 2018-2019.
SchoolYear = Annotated[int, Field(ge=2000, le=2100, description="A school year such as 2018")]


def _period(year: int | None, semester: str | None, user: Any = None) -> tuple[int, str]:
    """Return the period asked for (the county's working school year and semester by default).

    The year and the semester are already checked by their types (else a 422).
    """
    county = getattr(getattr(user, "scope", None), "county_code", "") or ""
    working = working_semester(county)
    return (year or working.school_year.start, semester or str(working.kind))


# --------------------------------------------------------------------------- schemas


class AidCoverageRowOut(Schema):
    key: str
    label: str
    students: int
    covered: int
    share: Decimal | None = Field(None, description="Per cent covered, one decimal")


class AidGapOut(Schema):
    student_id: int
    student_name: str
    school_name: str
    programme: str
    amount: Decimal | None
    reason: str
    reason_label: str
    detail: str


class AidCoverageOut(Schema):
    school_year: int
    semester: str
    county: AidCoverageRowOut
    by_stage: list[AidCoverageRowOut]
    by_township: list[AidCoverageRowOut]
    by_school: list[AidCoverageRowOut]
    gaps: list[AidGapOut]


class EntitlementOut(Schema):
    id: int
    school_year: int
    semester: str
    student_id: int
    student_name: str
    school_id: int
    school_name: str
    class_name: str
    stage: str
    programme: str
    kind: str
    amount: Decimal
    review: str
    review_reason: str
    rule_id: str
    clause: str
    rule_book_year: int
    rule_book_version: int
    notice_id: int | None

    @staticmethod
    def resolve_student_name(obj: Entitlement) -> str:
        return obj.student.name

    @staticmethod
    def resolve_school_name(obj: Entitlement) -> str:
        return obj.school.name

    @staticmethod
    def resolve_class_name(obj: Entitlement) -> str:
        return class_of(obj.school_class)

    @staticmethod
    def resolve_rule_book_year(obj: Entitlement) -> int:
        return obj.rule_book.school_year

    @staticmethod
    def resolve_rule_book_version(obj: Entitlement) -> int:
        return obj.rule_book.version


class InputsOut(Schema):
    """What the rules looked at; never an ID number, an address or a birth date."""

    stage: str
    grade: int
    boarding: bool
    location: str
    household_status: str
    exit_year: int | None = None
    exit_year_assumed: bool = False


class StudentEntitlementOut(EntitlementOut):
    inputs: InputsOut

    @staticmethod
    def resolve_inputs(obj: Entitlement) -> dict[str, Any]:
        data = obj.inputs
        return {
            "stage": data.get("stage", obj.stage),
            "grade": data.get("grade", 0),
            "boarding": bool(data.get("boarding", False)),
            "location": data.get("location", ""),
            "household_status": data.get("household_status", ""),
            "exit_year": data.get("exit_year"),
            "exit_year_assumed": bool(data.get("exit_year_assumed", False)),
        }


class StudentAidOut(Schema):
    student_id: int
    name: str
    entitlements: list[StudentEntitlementOut]


class ExplainIn(Schema):
    school_year: int = Field(..., ge=2000, le=2100)
    semester: SEMESTER = "autumn"
    stage: STAGE
    grade: int = Field(..., ge=1, le=9)
    boarding: bool = False
    location: Literal["in_county", "in_province", "out_of_province"] = "in_county"
    household_status: Literal["registered", "left_poverty", "removed"] = "registered"
    exit_year: int | None = None
    enrolled_on: dt.date | None = None
    left_on: dt.date | None = None
    # University: the degree level and freshman flag the university list gives ('' and
    # false: not known, the grade decides).
    degree: Literal["", "associate", "bachelor", "graduate"] = ""
    freshman: bool = False


class LineOut(Schema):
    programme: str
    label: str
    kind: str
    amount: Decimal
    minimum: Decimal | None
    rule_id: str
    clause: str
    unit: str
    rule_book_version: int


class ExplainOut(Schema):
    school_year: int
    semester: str
    rule_book_version: int
    household_eligible: bool
    attends: bool
    lines: list[LineOut]
    total_cash: Decimal
    total_waived: Decimal


# --------------------------------------------------------------------------- endpoints


@router.get(
    "/aid/coverage", response=answers(AidCoverageOut, 422), summary="Aid coverage with every gap"
)
def coverage(
    request: HttpRequest, year: SchoolYear | None = None, semester: SEMESTER | None = None
) -> Any:
    """Return aid coverage of the caller's jurisdiction: totals, by stage, township and school,
    and each student not covered with the reason (the school year and semester of today by
    default)."""
    school_year, kind = _period(year, semester, acting_user(request))
    return selectors.coverage(user=acting_user(request), school_year=school_year, semester=kind)


@router.get(
    "/aid/entitlements",
    response=answers(list[EntitlementOut], 422),
    summary="Entitlements of a semester",
)
@paged
def entitlement_list(
    request: HttpRequest,
    year: SchoolYear | None = None,
    semester: SEMESTER | None = None,
    school_id: RowId | None = None,
) -> QuerySet[Entitlement]:
    """List the semester's entitlements in the caller's jurisdiction; filter by `school_id`."""
    school_year, kind = _period(year, semester, acting_user(request))
    return selectors.entitlement_list(
        user=acting_user(request), school_year=school_year, semester=kind, school_id=school_id
    ).order_by("school__name", "student__name", "programme", "pk")


@router.get(
    "/aid/students/{int:student_id}/entitlements",
    response=answers(StudentAidOut, 404, 422),
    summary="Every entitlement of one student, with the inputs used",
)
def student_entitlements(request: HttpRequest, student_id: RowId) -> dict[str, Any]:
    """Return a student's entitlements (every period) that the caller may see."""
    user = acting_user(request)
    student = selectors_ui.get_student(user=user, student_id=student_id)
    return {
        "student_id": student.pk,
        "name": student.name,
        "entitlements": selectors.student_entitlements(user=user, student_id=student.pk),
    }


@router.post(
    "/aid/explain",
    response=answers(ExplainOut, 403, 404, 422),
    summary="What the county's current rule book gives one profile",
)
def explain_profile(request: HttpRequest, payload: ExplainIn) -> dict[str, Any]:
    """Evaluate one student profile with the caller's county's current rule book for the year.

    Nothing is stored. A 404 when the county has no rule book for that school year.
    """
    user = acting_user(request)
    _version, book = selectors.current_book(user=user, school_year=payload.school_year)
    if book is None:
        raise Http404
    data = payload.model_dump()
    del data["school_year"]
    semester = data.pop("semester")
    result = explain(book, Profile(**data), semester)
    language = translation.get_language() or settings.LANGUAGE_CODE
    labels = {code: p.label(language) for code, p in book.programmes.items()}
    result["lines"] = [
        {**line, "label": labels.get(line["programme"], "")} for line in result["lines"]
    ]
    return result
