"""Read API for the poverty registry: areas, households, persons.

Lists come from ``registry.selectors`` (scoped by ``core.scoping``), single records from
``get_object_for_user``: a record outside the caller's jurisdiction is a 404, like a
missing one. Only masked ID and bank numbers leave this module; cipher and index
columns never do.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Router, Schema

from jingzhun.core import crypto
from jingzhun.core.api import QueryText, RowId, acting_user, answers, invalid, paged
from jingzhun.core.audit import audit_record
from jingzhun.core.resident_id import birth_month
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
    birth_month: str
    relation: str
    ethnicity: str
    disability_kind: str
    disability_grade: int | None
    left_behind: bool
    guardian_name: str
    guardian_id_masked: str

    @staticmethod
    def resolve_birth_month(obj: Person) -> str:
        return birth_month(obj.birth_date)

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


class PersonSearchIn(Schema):
    id_number: str = Field(
        ..., max_length=40, description="A whole 18-character resident ID number"
    )


class PersonSearchOut(Schema):
    """What an ID search finds, in the shape of a page of ``GET /api/persons``."""

    items: list[PersonOut]
    count: int


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
        raise invalid(
            ["body", "payload", "id_number"],
            "Not an 18-character resident ID number.",
            "id_format",
        )
    return crypto.blind_index(cleaned, purpose="id")


# --------------------------------------------------------------------------- endpoints


@router.get("/areas", response=answers(list[AreaOut], 422), summary="List areas")
@paged
def area_list(
    request: HttpRequest, level: QueryText | None = None, parent: QueryText | None = None
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


@router.get(
    "/households", response=answers(list[HouseholdOut], 422), summary="List poor households"
)
@paged
def household_list(
    request: HttpRequest,
    village: QueryText | None = None,
    status: QueryText | None = None,
    household_no: QueryText | None = None,
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
    response=answers(HouseholdDetail, 404, 422),
    summary="One poor household with its members",
)
def household_detail(request: HttpRequest, household_id: RowId) -> Household:
    """Return one household; 404 if it does not exist or lies outside the caller's jurisdiction."""
    qs = Household.objects.select_related("village")
    return get_object_for_user(qs, acting_user(request), pk=household_id)


@router.get("/persons", response=answers(list[PersonOut], 422), summary="List registry persons")
@paged
def person_list(
    request: HttpRequest,
    name: QueryText | None = None,
    village: QueryText | None = None,
) -> QuerySet[Person]:
    """List members of poor households; filter by `name` (contains) or `village` code.

    To find a person by whole ID number use `POST /api/persons/search`: a number in an
    address is refused (400).
    """
    qs = person_queryset(acting_user(request))
    if name:
        qs = qs.filter(name__contains=name.strip())
    if village:
        qs = qs.filter(household__village__code=village)
    return qs


@router.post(
    "/persons/search",
    response=answers(PersonSearchOut, 403, 422),
    summary="Find registry persons by whole ID number",
)
def person_search(request: HttpRequest, payload: PersonSearchIn) -> dict[str, Any]:
    """Find the persons with this whole resident ID number, within the caller's jurisdiction
    exactly as `GET /api/persons` lists them (another township's person is not found).

    The number travels in the JSON body, so that it stays out of addresses and logs; it is
    matched through its blind index (never stored in clear). The search is recorded in the
    audit log with what it found, never the number.
    """
    user = acting_user(request)
    found = list(person_queryset(user).filter(id_index=id_number_index(payload.id_number)))
    audit_record(
        actor=user, action="person.search_by_number", request=request, data={"found": len(found)}
    )
    return {"items": found, "count": len(found)}


@router.get(
    "/persons/{int:person_id}",
    response=answers(PersonOut, 404, 422),
    summary="One registry person",
)
def person_detail(request: HttpRequest, person_id: RowId) -> Person:
    """Return one person; 404 if it does not exist or lies outside the caller's jurisdiction."""
    qs = Person.objects.select_related("household__village")
    return get_object_for_user(qs, acting_user(request), pk=person_id)
