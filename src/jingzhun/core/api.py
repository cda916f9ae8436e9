"""Helpers shared by the apps' API routers (the NinjaAPI itself lives in ``jingzhun.api``).

Every route states what it answers with :func:`answers`: its 200 schema and the error codes
it really gives, each with the body it has. Every list pages with :class:`Page`, whose
``limit`` and ``offset`` are bounded; every integer read from an address is a
:data:`QueryInt` (or narrower) and every text a :data:`QueryText`, so no value reaches the
database out of its range (an overflow, a NUL byte): it is a 422, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar, get_type_hints

from django.http import HttpRequest
from ninja import Field, Schema
from ninja.conf import settings as ninja_settings
from ninja.errors import ValidationError
from ninja.pagination import LimitOffsetPagination, paginate

# Upper bound for ``?limit=``; the default page size is settings.NINJA_PAGINATION_PER_PAGE.
MAX_PAGE_SIZE = 500
# The largest integer an address may carry (a 32-bit signed integer, which every database
# column holds); larger is a 422, never a database overflow.
MAX_QUERY_INT = 2**31 - 1

# The longest text an address may carry for one parameter (a name, a code, a status).
MAX_QUERY_TEXT = 100

QueryInt = Annotated[int, Field(ge=0, le=MAX_QUERY_INT)]
RowId = Annotated[int, Field(ge=1, le=MAX_QUERY_INT, description="A row's id")]
# Text from an address: bounded, and without NUL, which PostgreSQL text cannot hold (a 500).
QueryText = Annotated[str, Field(max_length=MAX_QUERY_TEXT, pattern=r"^[^\x00]*$")]


class PageInput(Schema):
    """``?limit=&offset=``, both bounded: beyond :data:`MAX_QUERY_INT` a 422, never a 500."""

    limit: int = Field(ninja_settings.PAGINATION_PER_PAGE, ge=1, le=MAX_QUERY_INT)
    offset: int = Field(0, ge=0, le=MAX_QUERY_INT)


class Page(LimitOffsetPagination):
    """``?limit=&offset=`` pagination; the response is ``{"items": [...], "count": n}``.

    A ``limit`` above :data:`MAX_PAGE_SIZE` gives that many.
    """

    Input = PageInput  # type: ignore[assignment]

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_limit", MAX_PAGE_SIZE)
        super().__init__(**kwargs)


F = TypeVar("F", bound=Callable[..., Any])


def paged(view: F) -> F:
    """``@paginate(Page)`` for a list route.

    The view's annotations are resolved in its own module first: ninja reads them through
    the pagination wrapper, in ninja's namespace, where a type of ours (``QueryInt``, a
    schema) is unknown.
    """
    view.__annotations__ = get_type_hints(view, include_extras=True)
    return paginate(Page)(view)  # type: ignore[no-any-return]


class ErrorOut(Schema):
    """A refusal: 400, 401, 403 or 404."""

    detail: str


class FieldErrorOut(Schema):
    """One reason a request does not validate (the value itself is never echoed)."""

    type: str
    loc: list[str | int]
    msg: str
    ctx: dict[str, Any] | None = None


class ValidationErrorOut(Schema):
    """A 422: what in the request does not validate."""

    detail: list[FieldErrorOut]


ERROR_BODIES: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ValidationErrorOut,
}


def answers(ok: Any, *errors: int) -> dict[int, Any]:
    """Return a route's documented responses: *ok* for 200 and each error code it can give.

    400 (a whole ID or bank number in the address, ``jingzhun.api``) and 401 (no valid token
    or session) can come from every route and are always listed; a route adds 403 (a
    session's CSRF check, on writes), 404 (a record missing or outside the jurisdiction)
    and 422 (parameters or body that do not validate) as it gives them.
    """
    codes = sorted({400, 401, *errors})
    unknown = set(codes) - set(ERROR_BODIES)
    if unknown:
        raise ValueError(f"no error body for {sorted(unknown)}")
    return {200: ok, **{code: ERROR_BODIES[code] for code in codes}}


def invalid(loc: list[str | int], msg: str, kind: str) -> ValidationError:
    """Return a 422 in the shape of every other validation error (never echoing the value)."""
    return ValidationError([{"type": kind, "loc": loc, "msg": msg}])


def acting_user(request: HttpRequest) -> Any:
    """Return the user the API authenticated (``request.auth``), or None."""
    return getattr(request, "auth", None)
