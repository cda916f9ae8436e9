"""The wall chart (tasks down, months across; .xlsx and A3 PDF) and the task books (list, PDF
to sign, signature recorded after a preview)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from jingzhun.core import permissions as P
from jingzhun.core.downloads import attachment
from jingzhun.core.errors import forbidden
from jingzhun.core.listing import ListParams, paginate
from jingzhun.core.scoping import scope_of
from jingzhun.core.working_year import working_year
from jingzhun.dashboard import documents_tasks as docs
from jingzhun.dashboard import taskbook as B
from jingzhun.dashboard import tasks as T
from jingzhun.dashboard.common import page
from jingzhun.schools.selectors import list_choices

View = Callable[..., HttpResponse]
CN = "zh-hans"


def _may_see(user: Any) -> bool:
    return P.user_can(user, P.VIEW) and not scope_of(user).is_empty


def _guard(view: View) -> View:
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _may_see(request.user):
            return forbidden(request, P.VIEW)
        return view(request, *args, **kwargs)

    wrapped.__doc__ = view.__doc__
    wrapped.__name__ = view.__name__
    return wrapped


# --------------------------------------------------------------------------- the wall chart


def _month(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(f"{text.strip()}-01") if text else None
    except ValueError:
        return None


@dataclass(frozen=True)
class ChartAsk:
    """What the wall chart is asked for: the range of months and the filters."""

    start: dt.date
    end: dt.date
    filters: T.TaskFilters
    lp: ListParams
    range_note: str

    def query(self) -> str:
        values = {
            "township": self.filters.township,
            "school": self.filters.school_id or "",
            "owner": self.filters.owner,
            "kind": self.filters.kind,
            "flag": self.filters.flag,
            "state": self.filters.state,
            "from": f"{self.start:%Y-%m}",
            "to": f"{self.end:%Y-%m}",
        }
        return urlencode({k: v for k, v in values.items() if v})


def _ask(request: HttpRequest) -> ChartAsk:
    user: Any = request.user
    data = request.GET
    year = working_year(scope_of(user).county_code)
    default_start, default_end = T.school_year_range(year)
    start = _month(str(data.get("from", ""))) or default_start
    end_month = _month(str(data.get("to", "")))
    end = T.month_end(end_month) if end_month else default_end
    note = ""
    if end < start:
        start, end = T.month_start(end), T.month_end(start)
        note = _("The range was given backwards; it was turned round.")
    if (
        len(T.months_between(start, end)) >= T.MAX_MONTHS
        and T.add_months(start, T.MAX_MONTHS) <= end
    ):
        end = T.add_months(start, T.MAX_MONTHS) - dt.timedelta(days=1)
        note = _("The wall chart shows at most %(n)s months; the range was shortened.") % {
            "n": T.MAX_MONTHS
        }
    lp = ListParams.read(data)
    kind = str(data.get("kind", ""))
    flag = str(data.get("flag", ""))
    state = str(data.get("state", ""))
    filters = T.TaskFilters(
        township=lp.township,
        school_id=lp.school_id,
        owner=str(data.get("owner", ""))[:100],
        kind=kind if kind in T.KINDS else "",
        flag=flag if flag in T.FLAGS else "",
        state=state if state in ("open", "done") else "",
    )
    return ChartAsk(start, end, filters, lp, note)


def _issuer(user: Any) -> str:
    """Return the unit printing a document, in Chinese."""
    scope = scope_of(user)
    if scope.level == "county":
        return "县教育局"
    if scope.level == "township":
        return f"{_township_name(user, scope.area_code)}教育办"
    if scope.level == "school" and scope.school_id:
        return B.get_school_unit(user, scope.school_id).school_name
    return ""


def _township_name(user: Any, code: str) -> str:
    found = [u.township_name for u in B.townships(user) if u.township_code == code]
    return found[0] if found else code


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
@_guard
def wall_chart(request: HttpRequest) -> HttpResponse:
    """Show every task of the jurisdiction: tasks down, months across, flags in colour."""
    user: Any = request.user
    today = timezone.localdate()
    ask = _ask(request)
    found = T.tasks_for(user, start=ask.start, end=ask.end, filters=ask.filters, today=today)
    listed = paginate(request.GET, found.tasks)
    months = T.months_between(ask.start, ask.end)
    rows = []
    for t in listed.object_list:
        first, last = t.span(today)
        cells = []
        for m in months:
            end = T.month_end(m)
            cells.append(
                {
                    "on": first <= end and last >= m,
                    "due": m <= t.due <= end,
                    "done": bool(t.done and m <= t.done <= end),
                }
            )
        rows.append({"t": t, "cells": cells})
    return page(
        request,
        "dashboard/tasks/wall_chart.html",
        {
            "title": _("Wall chart"),
            "active": "wall-chart",
            "ask": ask,
            "f": ask.filters,
            "lp": ask.lp,
            "query": ask.query(),
            "choices": list_choices(user=user, params=ask.lp, search=False),
            "owners": found.owners,
            "kinds": [(k, str(T.KIND_LABELS[k])) for k in T.KINDS],
            "flags": [(k, str(T.FLAG_LABELS[k])) for k in T.FLAGS],
            "states": [("open", _("Not done")), ("done", _("Done"))],
            "months": months,
            "rows": rows,
            "tasks": listed,
            "total": len(found.tasks),
            "today": today,
        },
    )


def _chart_tasks_cn(request: HttpRequest) -> tuple[ChartAsk, list[T.Task], dt.date]:
    user: Any = request.user
    today = timezone.localdate()
    ask = _ask(request)
    with translation.override(CN):
        found = T.tasks_for(user, start=ask.start, end=ask.end, filters=ask.filters, today=today)
    return ask, found.tasks, today


def _filters_cn(user: Any, ask: ChartAsk) -> str:
    parts = [f"{ask.start:%Y年%m月}至{ask.end:%Y年%m月}"]
    f = ask.filters
    if f.township:
        parts.append(f"乡镇：{_township_name(user, f.township)}")
    if f.school_id:
        parts.append("已按学校筛选")
    if f.owner:
        parts.append(f"责任人：{f.owner}")
    if f.kind:
        parts.append(f"类别：{docs.CN_KIND[f.kind]}")
    if f.flag:
        parts.append(f"旗帜：{docs.CN_FLAG[f.flag]}")
    if f.state:
        parts.append("未完成" if f.state == "open" else "已完成")
    return "　".join(parts)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
@_guard
def wall_chart_xlsx(request: HttpRequest) -> HttpResponse:
    """Download the filtered tasks of the wall chart (.xlsx, in Chinese)."""
    ask, tasks, _today = _chart_tasks_cn(request)
    content = docs.wall_chart_xlsx(tasks, title="挂图作战任务表")
    return attachment(content, f"挂图作战-{ask.start:%Y%m}-{ask.end:%Y%m}.xlsx")


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
@_guard
def wall_chart_pdf(request: HttpRequest) -> HttpResponse:
    """Print the filtered wall chart on A3 landscape, in Chinese."""
    user: Any = request.user
    ask, tasks, today = _chart_tasks_cn(request)
    content = docs.wall_chart_pdf(
        tasks,
        months=T.months_between(ask.start, ask.end),
        title="教育精准扶贫挂图作战图",
        issuer=_issuer(user),
        today=today,
        filters=_filters_cn(user, ask),
    )
    return attachment(content, f"挂图作战-{ask.start:%Y%m}-{ask.end:%Y%m}.pdf", "application/pdf")


# --------------------------------------------------------------------------- task books


def _year(request: HttpRequest) -> int:
    text = str(request.GET.get("year", "") or request.POST.get("year", ""))
    if text.isdigit() and 2000 <= int(text) <= 2100:
        return int(text)
    return working_year(scope_of(request.user).county_code)


def _book_url(unit: B.Unit, name: str, year: int) -> str:
    if unit.kind == B.SCHOOL:
        url = reverse(f"centre:{name}", kwargs={"school_id": unit.school_id})
    else:
        url = reverse(f"centre:{name}", kwargs={"township_code": unit.township_code})
    return f"{url}?{urlencode({'year': year})}"


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
@_guard
def task_books(request: HttpRequest) -> HttpResponse:
    """List the task books of the jurisdiction for a year: signed, not signed, or signed an
    older version."""
    user: Any = request.user
    if not B.may_see_books(user):
        return forbidden(request, P.VIEW)
    today = timezone.localdate()
    year = _year(request)
    lp = ListParams.read(request.GET)
    units = B.townships(user) if not lp.school_id else []
    if lp.township:
        units = [u for u in units if u.township_code == lp.township]
    schools = B.schools(user, lp.township)
    if lp.school_id:
        schools = [u for u in schools if u.school_id == lp.school_id]
    listed = paginate(request.GET, [*units, *schools])
    shown = list(listed.object_list)
    books = {u: B.book_for(user, u, year, today=today) for u in shown}
    states = B.signature_states(shown, year, {u: b.fingerprint for u, b in books.items()})
    rows = [
        {
            "unit": u,
            "book": books[u],
            "state": states[u],
            "pdf": _book_url(u, "task-book-pdf", year),
            "sign": _book_url(u, "task-book-sign", year) if B.may_record(user, u) else "",
        }
        for u in shown
    ]
    return page(
        request,
        "dashboard/tasks/task_books.html",
        {
            "title": _("Task books"),
            "active": "task-books",
            "year": year,
            "years": list(range(year - 3, year + 2)),
            "lp": lp,
            "choices": list_choices(user=user, params=lp, search=False),
            "rows": rows,
            "books": listed,
            "query": urlencode(
                [("year", str(year))]
                + ([("township", lp.township)] if lp.township else [])
                + ([("school", str(lp.school_id))] if lp.school_id else [])
            ),
        },
    )


def _unit(request: HttpRequest, township_code: str = "", school_id: int | None = None) -> B.Unit:
    if school_id is not None:
        return B.get_school_unit(request.user, school_id)
    return B.get_township_unit(request.user, township_code)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
@_guard
def task_book_pdf(
    request: HttpRequest, township_code: str = "", school_id: int | None = None
) -> HttpResponse:
    """Print a township's or school's task book to sign (Chinese, with its fingerprint)."""
    user: Any = request.user
    unit = _unit(request, township_code, school_id)
    today = timezone.localdate()
    year = _year(request)
    with translation.override(CN):
        book = B.book_for(user, unit, year, today=today)
        issuer = "县教育局" if unit.kind == B.TOWNSHIP else f"{unit.township_name}教育办"
        if scope_of(user).level == "county" and unit.kind == B.SCHOOL:
            issuer = "县教育局"
        content = docs.task_book_pdf(book, issuer=issuer, today=today)
    return attachment(content, f"任务书-{unit.name}-{year}.pdf", "application/pdf")


class SignForm(forms.Form):
    signer_name = forms.CharField(label=gettext_lazy("Signed by"), max_length=50)
    signer_title = forms.CharField(label=gettext_lazy("Title"), max_length=50, required=False)
    signed_on = forms.DateField(
        label=gettext_lazy("Signed on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    fingerprint = forms.CharField(widget=forms.HiddenInput, max_length=64)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@_guard
def task_book_sign(
    request: HttpRequest, township_code: str = "", school_id: int | None = None
) -> HttpResponse:
    """Record that a task book was signed: the form, a preview, then the record."""
    user: Any = request.user
    unit = _unit(request, township_code, school_id)
    if not B.may_record(user, unit):
        return forbidden(request, "task_book_sign")
    today = timezone.localdate()
    year = _year(request)
    book = B.book_for(user, unit, year, today=today)
    back = f"{reverse('centre:task-books')}?{urlencode({'year': year})}"
    preview = False
    if request.method == "POST":
        form = SignForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            if "confirm" in request.POST:
                try:
                    B.task_book_sign(
                        actor=user,
                        book=book,
                        seen_fingerprint=d["fingerprint"],
                        signer_name=d["signer_name"],
                        signer_title=d["signer_title"],
                        signed_on=d["signed_on"],
                        today=today,
                        request=request,
                    )
                except ValidationError as exc:
                    _add_errors(form, exc)
                else:
                    messages.success(
                        request,
                        _("The signature of the task book of %(unit)s for %(year)s is recorded.")
                        % {"unit": unit.name, "year": year},
                    )
                    return redirect(back)
            elif d["fingerprint"] != book.fingerprint:
                form.add_error(
                    None,
                    _("The task book changed since you printed it: print it again."),
                )
            elif d["signed_on"] > today:
                form.add_error("signed_on", _("The date of signing cannot be in the future."))
            elif book.state == "signed":
                form.add_error(
                    None, _("This version of the task book is already recorded as signed.")
                )
            else:
                preview = True
    else:
        form = SignForm(initial={"fingerprint": book.fingerprint, "signed_on": today})
    return page(
        request,
        "dashboard/tasks/task_book_sign.html",
        {
            "title": _("Record a signed task book"),
            "active": "task-books",
            "unit": unit,
            "book": book,
            "year": year,
            "form": form,
            "preview": preview,
            "pdf": _book_url(unit, "task-book-pdf", year),
            "back": back,
        },
    )


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
