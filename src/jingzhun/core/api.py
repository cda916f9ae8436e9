"""Helpers shared by the apps' API routers (the NinjaAPI itself lives in ``jingzhun.api``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.pagination import LimitOffsetPagination

# Upper bound for ``?limit=``; the default page size is settings.NINJA_PAGINATION_PER_PAGE.
MAX_PAGE_SIZE = 500


class Page(LimitOffsetPagination):
    """``?limit=&offset=`` pagination; the response is ``{"items": [...], "count": n}``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_limit", MAX_PAGE_SIZE)
        super().__init__(**kwargs)


def acting_user(request: HttpRequest) -> Any:
    """Return the user the API authenticated (``request.auth``), or None."""
    return getattr(request, "auth", None)
