"""Student aid pages: public notices, their objections and downloads."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jingzhun.aid import documents, selectors, selectors_ui, services, wording
from jingzhun.aid.models import AidNotice, NoticeObjection
from jingzhun.aid.views.common import (
    _choices,
    _errors,
    _forbidden,
    _language,
    _page,
    _period,
    _period_context,
    aid_view,
)
from jingzhun.aid.views.review import (
    _row,
)
from jingzhun.core import permissions as P
from jingzhun.core.listing import ListParams, paginate
from jingzhun.schools.naming import class_of_zh
from jingzhun.schools.selectors import list_choices

PERIOD_KEYS = ("year", "semester")

# --------------------------------------------------------------------------- notices


@aid_view("GET", "HEAD")
def notices(request: HttpRequest) -> HttpResponse:
    """List the public notices the user may see, newest school year first."""
    user: Any = request.user
    period = _period(request.GET, request.user)
    params = ListParams.read(request.GET, statuses=AidNotice.Status.values, extra=PERIOD_KEYS)
    rows = params.apply(
        selectors.notice_list(user=user).filter(
            school_year=period.school_year, semester=period.semester
        ),
        township="school__township__code",
        school="school_id",
        status="status",
        names=("school__name",),
    )
    notices = paginate(request.GET, rows.order_by("school__name", "-starts_on", "-id"))
    return _page(
        request,
        "aid/notices.html",
        {
            "title": _("Public notices"),
            "active": "notices",
            **_period_context(period),
            "notices": notices,
            "lp": params,
            "choices": list_choices(
                user=user, params=params, statuses=_choices(AidNotice.Status.choices), search=False
            ),
            "list_query": params.query(),
        },
    )


class ObjectionForm(forms.Form):
    student = forms.TypedChoiceField(
        label=gettext_lazy("Student (optional)"), coerce=int, required=False, empty_value=None
    )
    text = forms.CharField(
        label=gettext_lazy("Objection"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )

    def __init__(self, *args: Any, students: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["student"].choices = [("", "—"), *students]  # type: ignore[attr-defined]


class ResolveForm(forms.Form):
    objection = forms.IntegerField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"),
        choices=[
            ("dismissed", gettext_lazy("Dismiss: the student stays on the list")),
            ("upheld", gettext_lazy("Uphold: exclude the student")),
        ],
    )
    note = forms.CharField(label=gettext_lazy("How it was resolved"), max_length=300)


def _notice_post(request: HttpRequest, notice: AidNotice, students: list[tuple[int, str]]) -> Any:
    """Carry out one action on a notice; return a response, or the bound form with errors."""
    user: Any = request.user
    action = request.POST.get("action", "")
    may_object = selectors.may_school_review(user) or selectors.may_manage(user)
    if action == "object" and may_object:
        form = ObjectionForm(request.POST, students=students)
        if not form.is_valid():
            return form
        call: Callable[[], Any] = functools.partial(
            services.objection_record,
            actor=user,
            notice_id=notice.pk,
            text=form.cleaned_data["text"],
            student_id=form.cleaned_data["student"],
        )
        done = _("The objection is recorded.")
    elif action == "resolve" and selectors.may_manage(user):
        resolve = ResolveForm(request.POST)
        if not resolve.is_valid():
            return resolve
        objection = selectors_ui.get_objection(
            user=user, notice=notice, objection_id=resolve.cleaned_data["objection"]
        )
        call = functools.partial(
            services.objection_resolve,
            actor=user,
            objection_id=objection.pk,
            upheld=resolve.cleaned_data["outcome"] == "upheld",
            note=resolve.cleaned_data["note"],
        )
        done = _("The objection is resolved.")
    elif action == "approve" and selectors.may_manage(user):
        call = functools.partial(services.notice_approve, actor=user, notice_id=notice.pk)
        done = _("The notice is approved.")
    else:
        return _forbidden(request, P.AID_MANAGE if action != "object" else P.AID_SCHOOL_REVIEW)
    try:
        call()
    except PermissionDenied:
        return _forbidden(request, action)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, done)
    return redirect("aid:notice", notice_id=notice.pk)


@aid_view("GET", "POST")
def notice_detail(request: HttpRequest, notice_id: int) -> HttpResponse:
    """Show a notice: its list, objections; record and resolve objections, approve it."""
    user: Any = request.user
    notice = selectors.get_notice(user=user, notice_id=notice_id)
    rows = list(selectors_ui.notice_entitlements(user=user, notice=notice))
    students = sorted({(e.student_id, e.student.name) for e in rows}, key=lambda s: s[1])
    objection_form = ObjectionForm(students=students)
    status = 200
    if request.method == "POST":
        outcome = _notice_post(request, notice, students)
        if isinstance(outcome, HttpResponseBase):
            return outcome  # type: ignore[return-value]
        if isinstance(outcome, ObjectionForm):
            objection_form = outcome
        else:
            messages.error(request, _("Choose an outcome and say how the objection was resolved."))
        status = 400
    language = _language()
    labels = selectors_ui.programme_labels((e.rule_book for e in rows), language)
    posted = notice.status == AidNotice.Status.POSTED
    objections = list(
        selectors.objection_list(user=user, notice=notice).select_related(
            "recorded_by", "resolved_by"
        )
    )
    return _page(
        request,
        "aid/notice_detail.html",
        {
            "title": _("Public notice of %(school)s") % {"school": notice.school.name},
            "active": "notices",
            "notice": notice,
            "period_label": wording.period_label(notice.school_year, notice.semester),
            "rows": [_row(e, labels) for e in rows],
            "objections": objections,
            "open_objections": any(
                o.resolution == NoticeObjection.Resolution.OPEN for o in objections
            ),
            "objection_form": objection_form,
            "may_object": posted
            and (selectors.may_school_review(user) or selectors.may_manage(user)),
            "may_resolve": selectors.may_manage(user),
            "may_approve": posted and selectors.may_manage(user),
            "outcomes": ResolveForm.base_fields["outcome"].choices,  # type: ignore[attr-defined]
            "today": timezone.localdate(),
        },
        status=status,
    )


@aid_view("GET", "HEAD")
def notice_download(request: HttpRequest, notice_id: int, fmt: str) -> HttpResponse:
    """Download the notice sheet (PDF or Excel): names, classes, programmes and amounts only."""
    user: Any = request.user
    notice = selectors.get_notice(user=user, notice_id=notice_id)
    rows = list(selectors_ui.notice_sheet_entitlements(user=user, notice=notice))
    labels = selectors_ui.programme_labels((e.rule_book for e in rows), "zh-hans")
    sheet = documents.NoticeSheet(
        school_name=notice.school.name,
        township_name=notice.school.township.name if notice.school.township else "",
        school_year=notice.school_year,
        semester=notice.semester,  # type: ignore[arg-type]
        period_start=notice.starts_on,
        period_end=notice.ends_on,
        objection_phone=settings.AID_OBJECTION_PHONE,
        rows=[
            documents.NoticeRow(
                student_name=e.student.name,
                class_name=class_of_zh(e.school_class),
                programme=labels.get(e.programme, e.programme),
                amount=e.amount,
                kind="waiver" if e.kind == "waiver" else "cash",
            )
            for e in rows
        ],
    )
    if fmt == "pdf":
        content, mime = documents.notice_sheet_pdf(sheet), "application/pdf"
    else:
        content = documents.notice_sheet_xlsx(sheet)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(content, content_type=mime)
    name = f"notice-{notice.school.code}-{notice.school_year}-{notice.semester}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
