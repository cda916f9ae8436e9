"""One way for every list page to page, filter, search and export what it shows.

A view reads the request's filters once (``ListParams.read``), applies them to its queryset
(``ListParams.apply``, naming its own fields), pages the result (``paginate``) and hands the
same ``ListParams`` to its export, so the download holds exactly the rows the page filtered.
The template ``jingzhun/list_controls.html`` draws the filter bar, the search box, the total
and the export link; ``jingzhun/pagination.html`` the pager (both keep the filters).

A resident ID is never searched through a URL (it would land in logs and browser history):
a search text that looks like an ID is dropped and the page says to use the child search.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db.models import Model, Q, QuerySet

PAGE_SIZE = 50
SEARCH_MAX = 40
M = TypeVar("M", bound=Model)

_ID_LIKE = re.compile(r"\d{14,17}[\dXx]")


def looks_like_id(text: str) -> bool:
    """True when *text* holds something shaped like a resident ID (15 or 18 characters)."""
    return bool(_ID_LIKE.search(text.replace(" ", "")))


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


@dataclass(frozen=True)
class ListParams:
    """The filters of a list page, read from a query string and checked."""

    township: str = ""
    school_id: int | None = None
    class_id: int | None = None
    status: str = ""
    reason: str = ""
    q: str = ""
    id_refused: bool = False  # the search text looked like an ID and was dropped
    extra: dict[str, str] = field(default_factory=dict)  # a page's own filters, kept in links

    @classmethod
    def read(
        cls,
        data: Any,
        *,
        statuses: Iterable[str] | None = None,
        reasons: Iterable[str] | None = None,
        extra: Sequence[str] = (),
    ) -> ListParams:
        """Read the filters from a QueryDict; unknown values are ignored, never an error."""
        township = str(data.get("township", "")).strip()
        status = str(data.get("status", "")).strip()
        reason = str(data.get("reason", "")).strip()
        q = " ".join(str(data.get("q", "")).split())[:SEARCH_MAX]
        refused = looks_like_id(q)
        return cls(
            township=township if township.isdigit() and len(township) <= 12 else "",
            school_id=_int(data.get("school")),
            class_id=_int(data.get("class")),
            status=status if statuses is not None and status in set(statuses) else "",
            reason=reason if reasons is not None and reason in set(reasons) else "",
            q="" if refused else q,
            id_refused=refused,
            extra={k: str(data.get(k, ""))[:40] for k in extra if data.get(k, "")},
        )

    @property
    def active(self) -> bool:
        """True when any filter or search narrows the list."""
        return bool(
            self.township or self.school_id or self.class_id or self.status or self.reason
        ) or bool(self.q)

    def query(self, **override: Any) -> str:
        """Return the filters as a query string (no page), with some values replaced."""
        values: dict[str, Any] = {
            "township": self.township,
            "school": self.school_id or "",
            "class": self.class_id or "",
            "status": self.status,
            "reason": self.reason,
            "q": self.q,
            **self.extra,
            **override,
        }
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})

    def without(self, *names: str) -> ListParams:
        """Return the filters with some cleared (``"school"`` also clears the class)."""
        changes: dict[str, Any] = {}
        for name in names:
            if name == "township":
                changes.update(township="", school_id=None, class_id=None)
            elif name == "school":
                changes.update(school_id=None, class_id=None)
            elif name == "class":
                changes["class_id"] = None
            else:
                changes[name] = ""
        return replace(self, **changes)

    def apply(
        self,
        queryset: QuerySet[M],
        *,
        township: str | None = None,
        school: str | None = None,
        klass: str | None = None,
        status: str | None = None,
        reason: str | None = None,
        names: Sequence[str] = (),
        exact: Sequence[str] = (),
    ) -> QuerySet[M]:
        """Filter *queryset* by the fields the page names (a filter without a field is ignored).

        ``township`` is a field holding an area code (matched by prefix: a village code
        belongs to its township); ``names`` are searched by substring, ``exact`` by equality.
        """
        if self.township and township:
            queryset = queryset.filter(**{f"{township}__startswith": self.township})
        if self.school_id and school:
            queryset = queryset.filter(**{school: self.school_id})
        if self.class_id and klass:
            queryset = queryset.filter(**{klass: self.class_id})
        if self.status and status:
            queryset = queryset.filter(**{status: self.status})
        if self.reason and reason:
            queryset = queryset.filter(**{reason: self.reason})
        if self.q and (names or exact):
            match = Q()
            for name in names:
                match |= Q(**{f"{name}__icontains": self.q})
            for name in exact:
                match |= Q(**{name: self.q})
            queryset = queryset.filter(match)
        return queryset


@dataclass
class ListChoices:
    """What the filter bar offers: (value, label) pairs, already limited to the user's scope."""

    townships: list[tuple[str, str]] = field(default_factory=list)
    schools: list[tuple[int, str]] = field(default_factory=list)
    classes: list[tuple[int, str]] = field(default_factory=list)
    statuses: list[tuple[str, str]] = field(default_factory=list)
    reasons: list[tuple[str, str]] = field(default_factory=list)
    search: bool = True  # show the search box


def paginate(data: Any, items: Any, *, param: str = "page", size: int = PAGE_SIZE) -> Page[Any]:
    """Return the requested page of *items* (an out-of-range page gives the last one)."""
    return Paginator(items, size).get_page(data.get(param))
