"""Reads of the poverty registry, each limited to what the acting user may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr

from jingzhun.core.scoping import scope_of, scope_queryset
from jingzhun.registry.models import Area, Household, Person

TOWNSHIP_CODE_LENGTH = 9


def area_list(*, user: Any) -> QuerySet[Area]:
    """Return the areas the user may see."""
    return scope_queryset(Area.objects.all(), user)


def household_list(*, user: Any) -> QuerySet[Household]:
    """Return the poor households the user may see."""
    return scope_queryset(Household.objects.all(), user)


def person_list(*, user: Any) -> QuerySet[Person]:
    """Return the registry persons the user may see."""
    return scope_queryset(Person.objects.all(), user)


def registry_visible(*, user: Any) -> bool:
    """Return whether the user's jurisdiction includes the registry at all (not schools only)."""
    scope = scope_of(user)
    return not scope.is_empty and Household.scope_q(scope) is not None


def township_names(*, user: Any) -> dict[str, str]:
    """Return {code: name} of the townships the user may see."""
    rows = area_list(user=user).filter(level=Area.Level.TOWNSHIP).values_list("code", "name")
    return dict(rows)


@dataclass
class RegistryCounts:
    villages: int = 0
    poor_villages: int = 0
    households: int = 0
    persons: int = 0


def registry_counts_by_township(*, user: Any) -> dict[str, RegistryCounts]:
    """Return villages, poor villages, households and persons per township code, counted in the DB."""
    counts: dict[str, RegistryCounts] = {}

    def township(code: str) -> RegistryCounts:
        return counts.setdefault(code, RegistryCounts())

    villages = (
        area_list(user=user)
        .filter(level=Area.Level.VILLAGE)
        .order_by()
        .values(township=Substr("code", 1, TOWNSHIP_CODE_LENGTH))
        .annotate(n=Count("pk"), poor=Count("pk", filter=Q(is_poor=True)))
    )
    for village in villages:
        township(village["township"]).villages = village["n"]
        township(village["township"]).poor_villages = village["poor"]
    households = (
        household_list(user=user)
        .order_by()
        .values(township=Substr("village__code", 1, TOWNSHIP_CODE_LENGTH))
        .annotate(n=Count("pk"))
    )
    for household in households:
        township(household["township"]).households = household["n"]
    persons = (
        person_list(user=user)
        .order_by()
        .values(township=Substr("household__village__code", 1, TOWNSHIP_CODE_LENGTH))
        .annotate(n=Count("pk"))
    )
    for person in persons:
        township(person["township"]).persons = person["n"]
    return counts
