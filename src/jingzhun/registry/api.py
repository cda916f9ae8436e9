"""Read API for the poverty registry: areas, households, persons.

Lists come from ``registry.selectors`` (scoped by ``core.scoping``), single records from
``get_object_for_user``: a record outside the caller's jurisdiction is a 404, like a
missing one. Only masked ID and bank numbers leave this module; cipher and index
columns never do.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import ValidationError
from ninja.pagination import paginate

from jingzhun.core import crypto
from jingzhun.core.api import Page, acting_user
from jingzhun.core.scoping import get_object_for_user
from jingzhun.registry import selectors
from jingzhun.registry.models import Area, Household, Person

router = Router(tags=["registry"])

ID_FORM = re.compile(r"\d{17}[\dX]")


# --------------------------------------------------------------------------- schemas


class AreaOut(Schema):
    id: int
    code: str
    name: str
    level: str
    parent_code: str | None
    is_poor: bool

    @staticmethod
    def resolve_parent_code(obj: Area) -> str | None:
        return obj.parent.code if obj.parent_id and obj.parent else None


class PersonOut(Schema):
    id: int
    household_id: int
    household_no: str
    village_code: str
    name: str
    id_masked: str
    sex: str
    birth_date: date
    relation: str
    ethnicity: str
    disability_kind: str
    disability_grade: int | None
    left_behind: bool
    guardian_name: str
    guardian_id_masked: str

    @staticmethod
    def resolve_household_no(obj: Person) -> str:
        return obj.household.household_no

    @staticmethod
    def resolve_village_code(obj: Person) -> str:
        return obj.household.village.code


class HouseholdOut(Schema):
    id: int
    household_no: str
    village_code: str
    village_name: str
    registration_year: int
    status: str
    exit_year: int | None
    poverty_cause: str
    minimum_income: bool
    bank_name: str
    bank_masked: str

    @staticmethod
    def resolve_village_code(obj: Household) -> str:
        return obj.village.code

    @staticmethod
    def resolve_village_name(obj: Household) -> str:
        return obj.village.name


class HouseholdDetail(HouseholdOut):
    members: list[PersonOut]

    @staticmethod
    def resolve_members(obj: Household, context: dict[str, Any]) -> list[Person]:
        # Members are scoped on their own, not trusted through the household.
        return list(person_queryset(acting_user(context["request"])).filter(household=obj))


# --------------------------------------------------------------------------- reads
# Scoping comes from registry.selectors; these add only what the API shows and its order.


def area_queryset(user: Any) -> QuerySet[Area]:
    """Return the areas the user may see, ordered by code."""
    return selectors.area_list(user=user).select_related("parent").order_by("code")


def household_queryset(user: Any) -> QuerySet[Household]:
    """Return the households the user may see, ordered by filed-card number."""
    qs = selectors.household_list(user=user).select_related("village")
    return qs.order_by("household_no", "pk")


def person_queryset(user: Any) -> QuerySet[Person]:
    """Return the registry persons the user may see, ordered by household."""
    qs = selectors.person_list(user=user).select_related("household__village")
    return qs.order_by("household__household_no", "pk")


def id_number_index(id_number: str) -> str:
    """Return the blind index of a resident ID as typed, or raise a 422 if it is not one.

    Only the form is normalised (spaces, full-width characters, a lower-case x), the way
    imports normalise it; the checksum is not tested, so a stored number with a wrong
    check digit can still be found.
    """
    cleaned = "".join(unicodedata.normalize("NFKC", id_number).split()).upper()
    if not ID_FORM.fullmatch(cleaned):
        raise ValidationError(
            [
                {
                    "loc": ["query", "id_number"],
                    "msg": "Not an 18-character resident ID number.",
                    "type": "id_format",
                }
            ]
        )
    return crypto.blind_index(cleaned, purpose="id")


# --------------------------------------------------------------------------- endpoints


@router.get("/areas", response=list[AreaOut], summary="List areas")
@paginate(Page)
def area_list(
    request: HttpRequest, level: str | None = None, parent: str | None = None
) -> QuerySet[Area]:
    """List counties, townships and villages in the caller's jurisdiction.

    Filter by `level` (county, township, village) or by the `parent` area's code.
    """
    qs = area_queryset(acting_user(request))
    if level:
        qs = qs.filter(level=level)
    if parent:
        qs = qs.filter(parent__code=parent)
    return qs


@router.get("/households", response=list[HouseholdOut], summary="List poor households")
@paginate(Page)
def household_list(
    request: HttpRequest,
    village: str | None = None,
    status: str | None = None,
    household_no: str | None = None,
) -> QuerySet[Household]:
    """List poor households; filter by `village` code, `status` or filed-card number."""
    qs = household_queryset(acting_user(request))
    if village:
        qs = qs.filter(village__code=village)
    if status:
        qs = qs.filter(status=status)
    if household_no:
        qs = qs.filter(household_no=household_no)
    return qs


@router.get(
    "/households/{int:household_id}",
    response=HouseholdDetail,
    summary="One poor household with its members",
)
def household_detail(request: HttpRequest, household_id: int) -> Household:
    """Return one household; 404 if it does not exist or lies outside the caller's jurisdiction."""
    qs = Household.objects.select_related("village")
    return get_object_for_user(qs, acting_user(request), pk=household_id)


@router.get("/persons", response=list[PersonOut], summary="List registry persons")
@paginate(Page)
def person_list(
    request: HttpRequest,
    name: str | None = None,
    id_number: str | None = None,
    village: str | None = None,
) -> QuerySet[Person]:
    """List members of poor households.

    Filter by `name` (contains), by whole resident `id_number` (matched through its
    blind index; the number itself is never stored in clear) or by `village` code.
    """
    qs = person_queryset(acting_user(request))
    if name:
        qs = qs.filter(name__contains=name.strip())
    if id_number:
        qs = qs.filter(id_index=id_number_index(id_number))
    if village:
        qs = qs.filter(household__village__code=village)
    return qs


@router.get("/persons/{int:person_id}", response=PersonOut, summary="One registry person")
def person_detail(request: HttpRequest, person_id: int) -> Person:
    """Return one person; 404 if it does not exist or lies outside the caller's jurisdiction."""
    qs = Person.objects.select_related("household__village")
    return get_object_for_user(qs, acting_user(request), pk=person_id)
