"""Student aid pages: entitlements, one student's aid, and the class and school review."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jingzhun.aid import documents, selectors, selectors_ui, services, wording
from jingzhun.aid.models import Entitlement
from jingzhun.aid.views.common import (
    Period,
    _back,
    _choices,
    _errors,
    _forbidden,
    _int,
    _language,
    _page,
    _period,
    _period_context,
    aid_view,
)
from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.core.listing import ListChoices, ListParams, paginate
from jingzhun.core.money import format_yuan
from jingzhun.schools.models import School
from jingzhun.schools.naming import class_name, class_of, class_of_zh
from jingzhun.schools.selectors import list_choices

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# --------------------------------------------------------------------------- entitlements


def _row(e: Entitlement, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "e": e,
        "programme": labels.get(e.programme, e.programme),
        "class": class_of(e.school_class) or "—",
        "amount": format_yuan(e.amount),
        "kind": wording.kind_label(e.kind),
    }


PERIOD_KEYS = ("year", "semester")


def _entitlement_rows(
    request: HttpRequest, period: Period, labels: dict[str, str]
) -> tuple[ListParams, QuerySet[Entitlement]]:
    """Return the list filters and the semester's entitlements they keep (page and export)."""
    params = ListParams.read(
        request.GET,
        statuses=Entitlement.Review.values,
        reasons=list(labels),
        extra=PERIOD_KEYS,
    )
    rows = params.apply(
        selectors.entitlement_list(
            user=request.user, school_year=period.school_year, semester=period.semester
        ),
        township="school__township__code",
        school="school_id",
        klass="school_class_id",
        status="review",
        reason="programme",
        names=("student__name",),
    )
    return params, rows


@aid_view("GET", "HEAD")
def entitlements(request: HttpRequest) -> HttpResponse:
    """List the semester's entitlements: by township, school, class, review state, programme."""
    user: Any = request.user
    period = _period(request.GET, request.user)
    language = _language()
    _version, book = selectors.current_book(user=user, school_year=period.school_year)
    labels = selectors_ui.book_labels(book, language)
    params, rows = _entitlement_rows(request, period, labels)
    page = paginate(request.GET, rows)
    labels |= selectors_ui.programme_labels((e.rule_book for e in page.object_list), language)
    return _page(
        request,
        "aid/entitlements.html",
        {
            "title": _("Entitlements"),
            "active": "entitlements",
            **_period_context(period),
            "page": page,
            "rows": [_row(e, labels) for e in page.object_list],
            "lp": params,
            "choices": list_choices(
                user=user,
                params=params,
                school_year=period.school_year,
                statuses=_choices(Entitlement.Review.choices),
                reasons=sorted(labels.items(), key=lambda kv: kv[1]),
            ),
            "list_query": params.query(),
            "export_url": reverse("aid:entitlements-xlsx"),
        },
    )


@aid_view("GET", "HEAD")
def entitlements_download(request: HttpRequest) -> HttpResponse:
    """Download exactly the entitlements the list's filters keep, as a workbook (Chinese)."""
    user: Any = request.user
    period = _period(request.GET, request.user)
    _version, book = selectors.current_book(user=user, school_year=period.school_year)
    labels = selectors_ui.book_labels(book, "zh-hans")
    _params, rows = _entitlement_rows(request, period, labels)
    reviews = dict(Entitlement.Review.choices)
    with translation.override("zh-hans"):
        sheet = documents.CoverageSheet(
            title=f"{period.school_year}-{period.school_year + 1}学年"
            f"{wording.semester_label(period.semester)}资助名单",
            headers=["学生", "学校", "班级", "资助项目", "金额", "审核状态", "条款", "规则版本"],
            rows=[
                [
                    e.student.name,
                    e.school.name,
                    class_of_zh(e.school_class),
                    labels.get(e.programme, e.programme),
                    e.amount,
                    str(reviews.get(e.review, e.review)),
                    e.clause,
                    f"{e.rule_book.school_year} v{e.rule_book.version}"
                    + ("" if e.rule_book.confirmed else "(待确认)"),
                ]
                for e in rows.iterator(chunk_size=2000)
            ],
        )
    audit_record(
        actor=user,
        action="aid.entitlements_export",
        request=request,
        data={"count": len(sheet.rows), "filters": _params.query()},
    )
    response = HttpResponse(
        documents.coverage_xlsx([sheet]),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"aid-entitlements-{period.school_year}-{period.semester}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@aid_view("GET", "HEAD")
def student(request: HttpRequest, student_id: int) -> HttpResponse:
    """Show every entitlement of one student in words, with the inputs it was computed from."""
    user: Any = request.user
    pupil = selectors_ui.get_student(user=user, student_id=student_id)
    lines = selectors.student_entitlements(user=user, student_id=pupil.pk)
    language = _language()
    labels = selectors_ui.programme_labels((e.rule_book for e in lines), language)
    paid = selectors_ui.entitlement_payments(entitlements=lines)
    periods: dict[tuple[int, str], dict[str, Any]] = {}
    for e in lines:
        entry = periods.setdefault(
            (e.school_year, e.semester),
            {
                "label": wording.period_label(e.school_year, e.semester),
                "school": e.school.name,
                "class": class_of(e.school_class),
                "inputs": wording.inputs_in_words(e.inputs),
                "lines": [],
            },
        )
        payment = paid.get(e.pk)
        entry["lines"].append(
            {
                "e": e,
                "to_confirm": not e.rule_book.confirmed,
                "payment": wording.payment_words(
                    batch_status=payment.batch_status,
                    status=payment.status,
                    settled_at=payment.settled_at,
                    reason=payment.reason,
                )
                if payment is not None
                else "",
                "payment_status": payment.status if payment is not None else "",
                "sentence": wording.entitlement_sentence(
                    amount=e.amount,
                    kind=e.kind,
                    programme=labels.get(e.programme, e.programme),
                    stage=e.stage,
                    clause=e.clause,
                    school_year=e.rule_book.school_year,
                    version=e.rule_book.version,
                ),
            }
        )
    # Class teachers see no notices (AidNotice.scope_q): link only the notices the user sees.
    notices = set(
        selectors.notice_list(user=user)
        .filter(pk__in={e.notice_id for e in lines if e.notice_id})
        .values_list("pk", flat=True)
    )
    return _page(
        request,
        "aid/student.html",
        {
            "title": _("Aid of %(name)s") % {"name": pupil.name},
            "active": "entitlements",
            "student": pupil,
            "notices": notices,
            "periods": list(periods.values())[::-1],  # newest period first
        },
    )


# --------------------------------------------------------------------------- review


def _review_post(request: HttpRequest, period: Period) -> HttpResponse:
    """Carry out one review action (class check, school review, post a notice)."""
    user: Any = request.user
    action = request.POST.get("action", "")
    may_class, may_school = selectors.may_class_check(user), selectors.may_school_review(user)
    if not (may_class or may_school):
        return _forbidden(request, P.AID_CLASS_REVIEW)
    try:
        if action == "class_check":
            own = selectors_ui.own_class(user=user)
            class_id = _int(request.POST.get("class_id")) or (own.pk if own else None)
            if class_id is None:
                raise ValidationError(_("Choose the class you checked."))
            n = services.entitlement_class_check(
                actor=user,
                school_class_id=class_id,
                school_year=period.school_year,
                semester=period.semester,
            )
            messages.success(request, _("Checked: %(n)d entitlements.") % {"n": n})
        elif action == "school_review":
            school = selectors_ui.own_school(user=user)
            if school is None:
                return _forbidden(request, P.AID_SCHOOL_REVIEW)
            exclude = {
                int(sid): request.POST.get(f"reason_{sid}", "")
                for sid in request.POST.getlist("exclude")
                if sid.isdigit()
            }
            counts = services.entitlement_school_review(
                actor=user,
                school_id=school.pk,
                school_year=period.school_year,
                semester=period.semester,
                exclude=exclude,
            )
            messages.success(
                request,
                _(
                    "Confirmed %(confirmed)d and excluded %(excluded)d entitlements; "
                    "%(awaiting)d still await the class check."
                )
                % {
                    "confirmed": counts["confirmed"],
                    "excluded": counts["excluded"],
                    "awaiting": counts["awaiting_class"],
                },
            )
        elif action == "notice_post":
            school = selectors_ui.own_school(user=user)
            if school is None:
                return _forbidden(request, P.AID_SCHOOL_REVIEW)
            form = NoticePostForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Give the day the notice starts."))
            notice = services.notice_post(
                actor=user,
                school_id=school.pk,
                school_year=period.school_year,
                semester=period.semester,
                starts_on=form.cleaned_data["starts_on"],
            )
            messages.success(
                request,
                _("The notice is posted until %(date)s.") % {"date": notice.ends_on.isoformat()},
            )
            return redirect("aid:notice", notice_id=notice.pk)
        else:
            raise ValidationError(_("Choose what to do."))
    except PermissionDenied:
        return _forbidden(request, action or P.AID_CLASS_REVIEW)
    except ValidationError as exc:
        _errors(request, exc)
    return _back("aid:review", period)


def _student_rows(
    students: list[selectors_ui.StudentLines], labels: dict[str, str]
) -> list[dict[str, Any]]:
    """Return students with their lines (programme label, amount) as the review page lists them."""
    return [
        {
            "student": s.student,
            "class": class_of(s.school_class) or "—",
            "lines": [
                {
                    "e": e,
                    "programme": labels.get(e.programme, e.programme),
                    "amount": format_yuan(e.amount),
                }
                for e in s.lines
            ],
        }
        for s in students
    ]


class NoticePostForm(forms.Form):
    starts_on = forms.DateField(
        label=gettext_lazy("Notice starts on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


# The review queue: the schools (for a township or the county) or the classes (for a school)
# with their entitlements in each review state, filtered by one ListParams for the page and
# for its download (``?export=xlsx`` on the same address: exactly the rows the page keeps).
EXPORT_PARAM, EXPORT_XLSX = "export", "xlsx"


def _queue_params(request: HttpRequest) -> ListParams:
    return ListParams.read(request.GET, statuses=Entitlement.Review.values, extra=PERIOD_KEYS)


def _cells(counts: dict[str, int]) -> list[int]:
    """Return the counts in the order of the review states (the table's columns)."""
    return [int(counts.get(value, 0)) for value in Entitlement.Review.values]


def _school_queue(*, user: Any, period: Period, lp: ListParams) -> list[dict[str, Any]]:
    """Return the schools of the user's jurisdiction with entitlements, as the filters keep.

    Township, school and search narrow the (scoped) entitlements whose schools are listed;
    a review state keeps the schools with at least one entitlement in that state.
    """
    rows = selectors_ui.period_rows(
        user=user, school_year=period.school_year, semester=period.semester
    )
    kept = dict(
        lp.apply(
            rows,
            township="school__township__code",
            school="school_id",
            names=("school__name",),
        )
        .order_by()
        .values_list("school_id", "school__township__name")
        .distinct()
    )
    queue = []
    for s in selectors_ui.review_by_school(
        user=user, school_year=period.school_year, semester=period.semester
    ):
        if s.school_id not in kept or (lp.status and not s.counts.get(lp.status)):
            continue
        cells = _cells(s.counts)
        queue.append(
            {
                "school": s,
                "township": kept[s.school_id] or "",
                "cells": cells,
                "total": sum(cells),
            }
        )
    return queue


def _class_queue(
    *, user: Any, school: School, period: Period, lp: ListParams
) -> list[dict[str, Any]]:
    """Return the classes of the user's school (or own class) with entitlements, as filtered."""
    queue = []
    for c in selectors_ui.class_counts(
        user=user, school=school, school_year=period.school_year, semester=period.semester
    ):
        if lp.class_id and c["id"] != lp.class_id:
            continue
        if lp.status and not c["counts"].get(lp.status):
            continue
        c["label"] = class_name(c["stage"], c["grade"], c["name"]) or "—"
        c["pending"] = c["counts"].get(Entitlement.Review.PENDING, 0)
        c["cells"] = _cells(c["counts"])
        c["total"] = sum(c["cells"])
        queue.append(c)
    return queue


def _column_totals(queue: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the sum of each review state over the queue's rows, and the grand total."""
    cells = [sum(column) for column in zip(*(r["cells"] for r in queue), strict=True)]
    cells = cells or [0] * len(Entitlement.Review.values)
    return {
        "cells": cells,
        "by_state": dict(zip(Entitlement.Review.values, cells, strict=True)),
        "total": sum(cells),
    }


def _queue_download(
    request: HttpRequest, period: Period, lp: ListParams, school: School | None
) -> HttpResponse:
    """Return the queue's rows that the filters keep, every page of them, as a workbook."""
    user: Any = request.user
    states = [str(label) for _value, label in Entitlement.Review.choices]
    if school is not None:
        queue = _class_queue(user=user, school=school, period=period, lp=lp)
        headers = [_("Class"), *states, _("Total")]
        rows: list[list[Any]] = [[c["label"], *c["cells"], c["total"]] for c in queue]
    else:
        queue = _school_queue(user=user, period=period, lp=lp)
        headers = [_("School"), _("Township"), *states, _("Total")]
        rows = [[r["school"].school_name, r["township"], *r["cells"], r["total"]] for r in queue]
    sheet = documents.CoverageSheet(
        title=f"{_('Review')} {period.label}", headers=headers, rows=rows
    )
    audit_record(
        actor=user,
        action="aid.review_export",
        request=request,
        data={"count": len(rows), "filters": lp.query()},
    )
    response = HttpResponse(documents.coverage_xlsx([sheet]), content_type=XLSX)
    name = f"aid-review-{period.school_year}-{period.semester}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@aid_view("GET", "POST")
def review(request: HttpRequest) -> HttpResponseBase:
    """Class teachers check their class, principals confirm and post; others follow progress."""
    user: Any = request.user
    if request.method == "POST":
        return _review_post(request, _period(request.POST, request.user))
    period = _period(request.GET, request.user)
    lp = _queue_params(request)
    own_class = selectors_ui.own_class(user=user)
    own_school = selectors_ui.own_school(user=user)
    if request.GET.get(EXPORT_PARAM) == EXPORT_XLSX:
        school = own_school or (own_class.school if own_class is not None else None)
        return _queue_download(request, period, lp, school)
    rows = selectors_ui.period_rows(
        user=user, school_year=period.school_year, semester=period.semester
    )
    language = _language()
    _version, book = selectors.current_book(user=user, school_year=period.school_year)
    labels = selectors_ui.book_labels(book, language)
    context: dict[str, Any] = {
        "title": _("Review"),
        "active": "review",
        **_period_context(period),
        "reviews": dict(Entitlement.Review.choices),
        "review_choices": Entitlement.Review.choices,
        "labels": labels,
        "own_class": own_class,
        "own_school": own_school,
    }
    if own_class is not None:
        class_rows = list(rows.filter(school_class=own_class))
        labels |= selectors_ui.programme_labels((e.rule_book for e in class_rows), language)
        context.update(
            class_name=class_of(own_class),
            students=_student_rows(selectors_ui.by_student(class_rows), labels),
            pending=sum(1 for e in class_rows if e.review == Entitlement.Review.PENDING),
            may_class_check=selectors.may_class_check(user),
        )
    elif own_school is not None:
        school_rows = list(rows.filter(school=own_school))
        labels |= selectors_ui.programme_labels((e.rule_book for e in school_rows), language)
        classes = _class_queue(user=user, school=own_school, period=period, lp=lp)
        # The form below confirms the whole school: it is never narrowed by the filters.
        checked = [
            s
            for s in selectors_ui.by_student(school_rows)
            if Entitlement.Review.CLASS_CHECKED in s.reviews
        ]
        context.update(
            classes=classes,
            class_totals=_column_totals(classes),
            lp=lp,
            choices=list_choices(
                user=user,
                params=lp,
                school_year=period.school_year,
                statuses=_choices(Entitlement.Review.choices),
                search=False,
            ),
            list_query=lp.query(),
            export_query=lp.query(**{EXPORT_PARAM: EXPORT_XLSX}),
            checked=_student_rows(checked, labels),
            confirmed=sum(1 for e in school_rows if e.review == Entitlement.Review.CONFIRMED),
            may_class_check=selectors.may_class_check(user),
            may_school_review=selectors.may_school_review(user),
            notice_form=NoticePostForm(initial={"starts_on": timezone.localdate()}),
            school_notices=selectors.notice_list(user=user).filter(
                school=own_school, school_year=period.school_year, semester=period.semester
            ),
        )
    else:
        queue = _school_queue(user=user, period=period, lp=lp)
        page = paginate(request.GET, queue)
        choices: ListChoices = list_choices(
            user=user,
            params=lp,
            school_year=period.school_year,
            statuses=_choices(Entitlement.Review.choices),
        )
        choices.classes = []  # the queue lists schools: a class does not narrow it
        context.update(
            page=page,
            schools=list(page.object_list),
            totals=_column_totals(queue),
            states=Entitlement.Review.choices,
            lp=lp,
            choices=choices,
            list_query=lp.query(),
            export_query=lp.query(**{EXPORT_PARAM: EXPORT_XLSX}),
        )
    return _page(request, "aid/review.html", context)
