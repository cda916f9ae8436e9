"""The rural teacher living allowance of a month (II.3.4): computed by the county (preview,
then confirm), reviewed by each school, approved by the county into one payment batch.

Every read goes through :mod:`jingzhun.teachers.selectors`, every write through
:mod:`jingzhun.teachers.services`; a refusal is the 403 page, a ValidationError a message.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.core import permissions as P
from jingzhun.core import xlsx
from jingzhun.core.downloads import attachment as download
from jingzhun.core.errors import forbidden
from jingzhun.core.listing import paginate
from jingzhun.core.scoping import scope_of
from jingzhun.teachers import allowance as rules
from jingzhun.teachers import selectors, services
from jingzhun.teachers.models import AllowanceLine
from jingzhun.teachers.views.common import XLSX, page, teachers_view

REVIEWS = tuple(AllowanceLine.Review.values)
CN_REVIEWS = {
    "pending": "待学校审核",
    "reviewed": "学校已审核",
    "approved": "县已审批",
    "withdrawn": "已撤回",
}
HEADERS = (
    "序号",
    "姓名",
    "身份证号",
    "乡镇",
    "学校",
    "月份",
    "在村小或教学点天数",
    "金额(元)",
    "依据",
    "状态",
)


def month_of(data: QueryDict) -> dt.date:
    """Return the month asked for (``?month=2018-10``), else the current month."""
    return rules.parse_month(str(data.get("month", ""))) or timezone.localdate().replace(day=1)


def _rows(user: Any, data: QueryDict, month: dt.date) -> Any:
    rows = selectors.allowance_lines(user=user, month=month)
    school = str(data.get("school", ""))
    if school.isdigit():
        rows = rows.filter(school_id=int(school))
    review = str(data.get("review", ""))
    if review in REVIEWS:
        rows = rows.filter(review=review)
    return rows


def _query(data: QueryDict, month: dt.date) -> str:
    q = QueryDict(mutable=True)
    q["month"] = month.strftime("%Y-%m")
    for key in ("school", "review"):
        value = str(data.get(key, ""))
        if value:
            q[key] = value
    return q.urlencode()


def _reason(line: AllowanceLine) -> str:
    parts = []
    for x in line.explanation:
        label = x.get("label", {}).get("zh", x.get("rule", ""))
        parts.append(f"{label} {x['monthly']}元×{x['days']}/{x['days_in_month']}天 ({x['clause']})")
    return "; ".join(parts)


@teachers_view("GET", "HEAD", "POST")
def allowance(request: HttpRequest) -> HttpResponse:
    """The month's lines with their reasons, what is left to do, and the actions of the user."""
    user: Any = request.user
    month = month_of(request.POST if request.method == "POST" else request.GET)
    here = reverse("teachers:allowance") + "?month=" + month.strftime("%Y-%m")
    preview = None
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "preview":
                preview = services.allowance_compute(actor=user, month=month, dry_run=True)
            elif action == "compute":
                run = services.allowance_compute(actor=user, month=month)
                messages.success(
                    request,
                    _(
                        "Computed: %(c)d new, %(u)d changed, %(w)d withdrawn, %(s)d unchanged; "
                        "%(f)d approved lines the roster would now change are left as approved."
                    )
                    % {
                        "c": run.created,
                        "u": run.updated,
                        "w": run.withdrawn,
                        "s": run.unchanged,
                        "f": run.frozen,
                    },
                )
                return HttpResponseRedirect(here)
            elif action == "review":
                school = request.POST.get("school", "")
                if not school.isdigit():
                    raise ValidationError(_("Choose a school."))
                n = services.allowance_review(actor=user, month=month, school_id=int(school))
                messages.success(request, _("%(n)d lines confirmed for the county.") % {"n": n})
                return HttpResponseRedirect(here)
            elif action == "approve":
                batch = services.allowance_approve(actor=user, month=month)
                messages.success(
                    request,
                    _("Approved: payment batch %(ref)s is made (a draft to send).")
                    % {"ref": batch.reference},
                )
                return HttpResponseRedirect(here)
            else:
                raise ValidationError(_("Unknown action."))
        except PermissionDenied:
            return forbidden(request, P.AID_MANAGE)
        except ValidationError as exc:
            for text in exc.messages:
                messages.error(request, text)
            if action != "preview":
                return HttpResponseRedirect(here)
    rows = _rows(user, request.GET, month)
    totals = {
        r["review"]: (r["n"], r["amount"])
        for r in selectors.allowance_lines(user=user, month=month)
        .order_by()
        .values("review")
        .annotate(n=Count("pk"), amount=Sum("amount"))
    }
    scope = scope_of(user)
    county = scope.level == "county"
    page_ = paginate(request.GET, rows.select_related("teacher", "school__township"))
    return page(
        request,
        "teachers/allowance.html",
        {
            "title": _("Rural teacher living allowance"),
            "active": "allowance",
            "month": month,
            "month_text": month.strftime("%Y-%m"),
            "prev": (month - dt.timedelta(days=1)).replace(day=1).strftime("%Y-%m"),
            "next": (month + dt.timedelta(days=31)).replace(day=1).strftime("%Y-%m"),
            "totals": [
                (key, str(label), *totals.get(key, (0, None)))
                for key, label in AllowanceLine.Review.choices
            ],
            "rows": page_,
            "total": page_.paginator.count,
            "query": _query(request.GET, month),
            "review_choices": [(k, str(v)) for k, v in AllowanceLine.Review.choices],
            "schools": selectors.allowance_schools(user=user, month=month),
            "filter_school": request.GET.get("school", ""),
            "filter_review": request.GET.get("review", ""),
            "may_compute": county and P.user_can(user, P.AID_MANAGE),
            "may_approve": county and P.user_can(user, P.AID_MANAGE) and P.user_can(user, P.PAY),
            "may_review": P.user_can(user, P.AID_SCHOOL_REVIEW),
            "preview": preview,
            "batch": selectors.allowance_batch(user=user, month=month),
        },
    )


@teachers_view("GET", "HEAD")
def allowance_export(request: HttpRequest) -> HttpResponse:
    """Download the month's lines as filtered on the page (.xlsx), with their reasons."""
    user: Any = request.user
    month = month_of(request.GET)
    rows = [
        [
            n,
            line.teacher.name,
            line.teacher.id_masked,
            line.school.township.name if line.school.township else "",
            line.school.name,
            line.month.strftime("%Y-%m"),
            line.days,
            str(line.amount),
            _reason(line),
            CN_REVIEWS.get(line.review, line.review),
        ]
        for n, line in enumerate(
            _rows(user, request.GET, month)
            .select_related("teacher", "school__township")
            .iterator(chunk_size=1000),
            start=1,
        )
    ]
    content = xlsx.workbook([xlsx.Sheet("乡村教师生活补助", HEADERS, rows)])
    return download(content, f"teacher-allowance-{month:%Y-%m}.xlsx", XLSX)
