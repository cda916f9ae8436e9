"""The one scoping mechanism: every read that a person triggers goes through it.

A model is visible to users only if it defines ``scope_q(scope) -> Q | None``;
``None`` means "nothing". A user with no jurisdiction sees nothing, and a
record outside the user's jurisdiction is a 404, like a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured, ObjectDoesNotExist
from django.db.models import Model, Q, QuerySet
from django.http import Http404

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Scope:
    """Where a user may look: one county, township, school or class (or nowhere)."""

    level: str  # "none" | "county" | "township" | "school" | "class"
    county_code: str = ""
    area_code: str = ""  # code prefix of the county (6 digits) or township (9 digits)
    school_id: int | None = None
    class_id: int | None = None

    @property
    def is_empty(self) -> bool:
        return self.level == "none"


NO_SCOPE = Scope(level="none")


def scope_of(user: Any) -> Scope:
    """Return the user's scope; anonymous and inactive users get none."""
    if user is None or not getattr(user, "is_authenticated", False):
        return NO_SCOPE
    if not getattr(user, "is_active", False):
        return NO_SCOPE
    scope = getattr(user, "scope", NO_SCOPE)
    return scope if isinstance(scope, Scope) else NO_SCOPE


def place_scope_q(
    scope: Scope,
    *,
    area_field: str = "village_code",
    school_field: str = "school",
    class_field: str | None = "school_class",
) -> Q | None:
    """Scope rows that name where a child lives (an area code) and where they study.

    A county or township sees the rows of children who live in it and of those who study in
    its schools; a school its own; a class its own (only when the row knows the class).
    """
    if scope.level in ("county", "township"):
        return Q(**{f"{area_field}__startswith": scope.area_code}) | Q(
            **{f"{school_field}__township__code__startswith": scope.area_code}
        )
    if scope.level == "school":
        return Q(**{f"{school_field}_id": scope.school_id})
    if scope.level == "class" and class_field is not None:
        return Q(**{f"{class_field}_id": scope.class_id})
    return None


def scope_queryset(queryset: QuerySet[M], user: Any) -> QuerySet[M]:
    """Return only the rows of `queryset` the user may see (fail closed)."""
    scope = scope_of(user)
    if scope.is_empty:
        return queryset.none()
    scope_q = getattr(queryset.model, "scope_q", None)
    if scope_q is None:
        raise ImproperlyConfigured(f"{queryset.model.__name__} defines no scope_q.")
    q = scope_q(scope)
    if q is None:
        return queryset.none()
    return queryset.filter(q)


def get_object_for_user(queryset: QuerySet[M], user: Any, **lookup: Any) -> M:
    """Return the one object the user may see, else 404 (missing and forbidden look the same).

    Scopes that follow a to-many relation (a student's enrolments) can match one row several
    times, so the scoped rows are taken as a set of keys.
    """
    try:
        visible = scope_queryset(queryset.model._default_manager.all(), user).values("pk")
        return queryset.filter(pk__in=visible).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
