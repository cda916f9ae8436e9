"""Duty pages: the dropout ledger, one case with its steps, the responsibility chain, its
coverage, and the monthly and quarterly reports.

Every page renders inside the back office's layout; every read goes through
:mod:`jingzhun.duty.selectors` or :mod:`jingzhun.duty.selectors_ui` (scoped to the acting
user), every write through :mod:`jingzhun.duty.services`. A service's refusal
(PermissionDenied) is the 403 page, a ValidationError a message on the page with nothing
changed, and a record outside the user's jurisdiction a 404, like a missing one.

The workbooks and PDFs are official documents and always in Chinese (see
:mod:`jingzhun.duty.documents`): their column headers and words are Chinese constants here,
deliberately not wrapped in gettext. No page or document shows an ID number.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from jingzhun.core import permissions as P
from jingzhun.core.errors import forbidden
from jingzhun.core.pages import back_office_page
from jingzhun.core.pdf import cn_date as official_date
from jingzhun.duty.selectors_ui import person_name as person_name  # re-exported for the views
from jingzhun.schools.models import SchoolClass
from jingzhun.schools.naming import class_of, class_of_zh

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

View = Callable[..., HttpResponseBase]

FLAG_LABELS = {
    "black": gettext_lazy("Overdue"),
    "red": gettext_lazy("Closed in time"),
    "grey": gettext_lazy("Closed late"),
    "": gettext_lazy("In time"),
}
SHOW_CHOICES = {
    "open": gettext_lazy("Not yet closed"),
    "closed": gettext_lazy("Closed"),
    "all": gettext_lazy("All"),
}

# --- Chinese words of the official documents -------------------------------------------------

CN_FLAGS = {"black": "黑（逾期）", "red": "红（按期销号）", "grey": "灰（逾期销号）", "": ""}
CN_STATUS = {"open": "在办", "resolved": "待核验", "closed": "已销号"}
CN_OUTCOMES = {
    "returned": "已返校",
    "home_teaching": "送教上门",
    "exempt": "缓学（免学）",
    "moved": "已迁出",
    "": "",
}
CN_POSTS = {
    "county_admin": "县教育局工作人员",
    "aid_officer": "县学生资助管理中心工作人员",
    "bureau_leader": "县教育局领导",
    "township_officer": "乡镇教育专干",
    "principal": "校长",
    "class_teacher": "班主任",
    "inspector": "督学",
}
LEDGER_HEADERS = (
    "序号",
    "标识",
    "状态",
    "乡镇",
    "行政村",
    "学校",
    "班级",
    "学生姓名",
    "第几次",
    "立案日期",
    "立案原因",
    "责任人",
    "督办人",
    "最近工作日期",
    "应办截止日",
    "限期复学日期",
    "结果",
    "销号日期",
)
REPORT_HEADERS = ("本期新增", "本期销号", "其中按期销号", "期末未销号", "期末逾期")


def cn_date(day: dt.date | None) -> str:
    return official_date(day) if day else ""


def cn_class(cls: SchoolClass | None) -> str:
    """Return a class as an official document names it, e.g. 三年级1班, 八年级9班, 高一3班."""
    return class_of_zh(cls)


# --- wording of the pages ------------------------------------------------------------------


def class_label(cls: SchoolClass | None) -> str:
    """Return a class as the pages show it, in the user's language ("—" for none)."""
    return class_of(cls) or "—"


def flag_label(flag: str) -> str:
    return str(FLAG_LABELS.get(flag, ""))


# --- helpers -------------------------------------------------------------------------------


def _nav() -> list[tuple[str, str, str]]:
    return [
        ("ledger", _("Case ledger"), reverse("duty:ledger")),
        ("assignments", _("Responsibility chain"), reverse("duty:assignments")),
        ("coverage", _("Chain coverage"), reverse("duty:coverage")),
        ("staff", _("Staff directory"), reverse("duty:staff")),
        ("monthly", _("Monthly report"), reverse("duty:report-monthly")),
        ("quarterly", _("Quarterly report"), reverse("duty:report-quarterly")),
    ]


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render a page inside the back office's layout (sidebar, language switcher)."""
    return back_office_page(request, template, context, tabs=_nav(), status=status)


def _forbidden(request: HttpRequest, capability: str) -> HttpResponse:
    """Log a refused request and answer with the site's 403 page."""
    return forbidden(request, capability)


def duty_view(*methods: str) -> Callable[[View], View]:
    """Require a login, the given HTTP methods and the VIEW capability (else the 403 page)."""

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.can(P.VIEW):  # type: ignore[union-attr]
                return _forbidden(request, P.VIEW)
            return view(request, *args, **kwargs)

        return login_required(require_http_methods(list(methods))(inner))

    return wrap


def _paginate(request: HttpRequest, items: Any) -> Page[Any]:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


def _errors(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _download(
    content: bytes, filename: str, content_type: str, *, inline: bool = False
) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(not inline, filename) or ""
    response["Cache-Control"] = "private, no-store"
    return response
