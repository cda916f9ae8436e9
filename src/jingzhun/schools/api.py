"""Read API for schools and the student rolls (enrolments).

Lists come from ``schools.selectors`` (scoped by ``core.scoping``), single records from
``get_object_for_user``: a record outside the caller's jurisdiction is a 404, like a
missing one. A student's ID number and roll number (学籍号, often "G" + the ID
number) leave only masked.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Schema

from jingzhun.core.api import QueryInt, QueryText, RowId, acting_user, answers, paged
from jingzhun.core.resident_id import birth_month
from jingzhun.core.scoping import get_object_for_user
from jingzhun.schools import selectors
from jingzhun.schools.models import Enrolment, School

router = Router(tags=["schools"])


# --------------------------------------------------------------------------- schemas


class SchoolOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    location: str
    township_code: str | None
    township_name: str | None
    village_code: str | None
    in_poor_village: bool
    boarding: bool

    @staticmethod
    def resolve_township_code(obj: School) -> str | None:
        return obj.township.code if obj.township else None

    @staticmethod
    def resolve_township_name(obj: School) -> str | None:
        return obj.township.name if obj.township else None

    @staticmethod
    def resolve_village_code(obj: School) -> str | None:
        return obj.village.code if obj.village else None


class StudentOut(Schema):
    id: int
    name: str
    id_masked: str
    id_status: str
    roll_masked: str
    sex: str
    birth_month: str
    poor_flag: bool
    person_id: int | None

    @staticmethod
    def resolve_birth_month(obj: Any) -> str:
        return birth_month(obj.birth_date)


class EnrolmentOut(Schema):
    id: int
    school_year: int
    stage: str
    grade: int
    boarding: bool
    status: str
    status_date: date | None
    enrolled_on: date | None
    school_id: int
    school_code: str
    school_name: str
    class_id: int | None
    class_name: str | None
    student: StudentOut

    @staticmethod
    def resolve_school_code(obj: Enrolment) -> str:
        return obj.school.code

    @staticmethod
    def resolve_school_name(obj: Enrolment) -> str:
        return obj.school.name

    @staticmethod
    def resolve_class_id(obj: Enrolment) -> int | None:
        return obj.school_class_id

    @staticmethod
    def resolve_class_name(obj: Enrolment) -> str | None:
        return obj.school_class.name if obj.school_class else None


# --------------------------------------------------------------------------- reads
# Scoping comes from schools.selectors; these add only what the API shows and its order.


def school_queryset(user: Any) -> QuerySet[School]:
    """Return the schools the user may see, ordered by code."""
    return selectors.school_list(user=user).select_related("township", "village").order_by("code")


def enrolment_queryset(user: Any) -> QuerySet[Enrolment]:
    """Return the enrolments the user may see, by school year and school."""
    qs = selectors.enrolment_list(user=user).select_related("school", "school_class", "student")
    return qs.order_by("school_year", "school__code", "pk")


# --------------------------------------------------------------------------- endpoints


@router.get("/schools", response=answers(list[SchoolOut], 422), summary="List schools")
@paged
def school_list(
    request: HttpRequest,
    township: QueryText | None = None,
    kind: QueryText | None = None,
    code: QueryText | None = None,
) -> QuerySet[School]:
    """List schools in the caller's jurisdiction; filter by `township` code, `kind` or `code`."""
    qs = school_queryset(acting_user(request))
    if township:
        qs = qs.filter(township__code=township)
    if kind:
        qs = qs.filter(kind=kind)
    if code:
        qs = qs.filter(code=code)
    return qs


@router.get("/enrolments", response=answers(list[EnrolmentOut], 422), summary="List enrolments")
@paged
def enrolment_list(
    request: HttpRequest,
    school_year: QueryInt | None = None,
    school: QueryText | None = None,
    status: QueryText | None = None,
) -> QuerySet[Enrolment]:
    """List enrolments; filter by `school_year` (its first year, e.g. 2018), `school` code or `status`."""
    qs = enrolment_queryset(acting_user(request))
    if school_year is not None:
        qs = qs.filter(school_year=school_year)
    if school:
        qs = qs.filter(school__code=school)
    if status:
        qs = qs.filter(status=status)
    return qs


@router.get(
    "/enrolments/{int:enrolment_id}",
    response=answers(EnrolmentOut, 404, 422),
    summary="One enrolment",
)
def enrolment_detail(request: HttpRequest, enrolment_id: RowId) -> Enrolment:
    """Return one enrolment; 404 if it does not exist or lies outside the caller's jurisdiction."""
    qs = Enrolment.objects.select_related("school", "school_class", "student")
    return get_object_for_user(qs, acting_user(request), pk=enrolment_id)
