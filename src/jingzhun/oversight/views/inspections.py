"""Supervision pages: the semiannual inspections (III.3).

The plans, their visits and samples are the county's pages (users of the county who may view;
the forms for inspectors); the findings and rectifications are also seen by the township and
the school they name, whose principal or township officer reports the progress. A class
teacher and a user with no jurisdiction get the 403 page; a record outside the user's
jurisdiction is a 404, like a missing one. Every read goes through
:mod:`jingzhun.oversight.selectors`, every write through :mod:`jingzhun.oversight.services`.
The phone page of the sample's verification is in :mod:`.inspections_mobile`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from jingzhun.core import permissions as P
from jingzhun.core import xlsx
from jingzhun.core.audit import audit_record
from jingzhun.core.downloads import attachment as download
from jingzhun.core.errors import forbidden
from jingzhun.core.evidence import evidence_response
from jingzhun.core.listing import ListParams, paginate
from jingzhun.core.money import format_yuan
from jingzhun.oversight import selectors, services
from jingzhun.oversight.forms import (
    CloseForm,
    FindingForm,
    PlanForm,
    ProgressForm,
    SampleDrawForm,
    VisitForm,
)
from jingzhun.oversight.models import (
    Finding,
    Flag,
    InspectionPlan,
    Rectification,
    SampleCheck,
    Visit,
)
from jingzhun.oversight.views import inspections_mobile as mobile
from jingzhun.oversight.views.common import form_errors, page
from jingzhun.schools.selectors import list_choices

View = Callable[..., HttpResponseBase]

CN_SEVERITY = {"minor": "一般", "serious": "较重", "critical": "严重"}
CN_STATUS = {"open": "整改中", "closed": "已销号"}
CN_FLAG = {
    "open": "未到期",
    "black": "逾期未整改（黑旗）",
    "red": "按期整改（红旗）",
    "late": "逾期整改",
}
CN_HALF = {"H1": "上半年", "H2": "下半年"}
LIST_HEADERS = (
    "序号",
    "检查计划",
    "乡镇",
    "学校",
    "严重程度",
    "问题",
    "发现日期",
    "整改责任人",
    "整改期限",
    "状态",
    "销号日期",
    "旗帜",
)


def oversight_view(who: Callable[[Any], bool], *methods: str) -> Callable[[View], View]:
    """Require a login, the given HTTP methods and a user `who` accepts (else the 403 page)."""

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not who(request.user):
                return forbidden(request, P.VIEW)
            return view(request, *args, **kwargs)

        return login_required(require_http_methods(list(methods))(inner))

    return wrap


plans_view = functools.partial(oversight_view, selectors.may_see_plans)
findings_view = functools.partial(oversight_view, selectors.may_see_findings)


def half_label(plan: InspectionPlan) -> str:
    """Return "2026 下半年" / "2026, second half-year"."""
    if plan.half == InspectionPlan.Half.H1:
        return _("%(year)s, first half-year") % {"year": plan.year}
    return _("%(year)s, second half-year") % {"year": plan.year}


def item_texts(plan: InspectionPlan, kind: str | None = None) -> list[tuple[str, str]]:
    """Return (id, wording) of the plan's checklist items in the user's language."""
    zh = (get_language() or "en").startswith("zh")
    items = plan.checklist if kind is None else plan.items_for(kind)
    return [(str(i["id"]), str(i["zh"] if zh else i["en"])) for i in items]


def user_label(user: Any) -> str:
    if user is None:
        return ""
    name = user.get_full_name() or user.username
    return f"{name} ({user.get_role_display()})" if user.role else name


def owner_label(r: Rectification) -> str:
    if r.owner is not None:
        return user_label(r.owner)
    return r.finding.place


def flag_labels() -> dict[str, str]:
    return {str(k): str(v) for k, v in Flag.choices}


# --------------------------------------------------------------------------- plans


@plans_view("GET", "HEAD")
def plan_list(request: HttpRequest) -> HttpResponse:
    """Show the county's inspection plans, newest first, with their progress."""
    user: Any = request.user
    plans = selectors.plan_list(user=user).annotate(
        n_visits=Count("visits", distinct=True),
        n_done=Count("visits", filter=Q(visits__status=Visit.Status.DONE), distinct=True),
        n_findings=Count("findings", distinct=True),
    )
    listed = paginate(request.GET, plans)
    return page(
        request,
        "oversight/inspection_plans.html",
        {
            "title": _("Inspections"),
            "active": "plans",
            "plans": listed,
            "lines": [{"p": p, "half": half_label(p)} for p in listed.object_list],
            "may_inspect": selectors.may_inspect(user),
        },
    )


@plans_view("GET", "POST")
def plan_new(request: HttpRequest) -> HttpResponse:
    """Make the plan of a half-year (inspectors of the county)."""
    user: Any = request.user
    if not selectors.may_inspect(user):
        return forbidden(request, P.INSPECT)
    schools = list(selectors.school_choices(user=user))
    townships = list(selectors.township_choices(user=user))
    posted = request.method == "POST"
    form = PlanForm(
        request.POST if posted else None,
        schools=[(s.pk, f"{s.name}（{s.township.name if s.township else ''}）") for s in schools],
        townships=[(t.pk, t.name) for t in townships],
    )
    if posted and form.is_valid():
        values = form.cleaned_data
        try:
            plan = services.plan_create(
                actor=user,
                year=values["year"],
                half=values["half"],
                title=values["title"],
                starts_on=values["starts_on"],
                ends_on=values["ends_on"],
                schools=[s for s in schools if s.pk in set(values["schools"])],
                townships=[t for t in townships if t.pk in set(values["townships"])],
                sample_size=values["sample_size"],
                note=values["note"],
            )
        except PermissionDenied:
            return forbidden(request, P.INSPECT)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("The plan %(title)s is made.") % {"title": plan.title})
            return redirect("oversight:plan", plan_id=plan.pk)
    return page(
        request,
        "oversight/inspection_form.html",
        {
            "title": _("Make an inspection plan"),
            "active": "plans",
            "form": form,
            "form_id": "jz-plan-form",
            "back": reverse("oversight:plans"),
        },
    )


@plans_view("GET", "HEAD")
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Show a plan: its checklist, visits (with their sample), findings and flags."""
    user: Any = request.user
    plan = selectors.get_plan(user=user, plan_id=plan_id)
    today = timezone.localdate()
    visits = list(
        selectors.visit_list(user=user, plan=plan).annotate(
            n_samples=Count("samples", distinct=True),
            n_checked=Count(
                "samples",
                filter=~Q(samples__outcome=SampleCheck.Outcome.PENDING),
                distinct=True,
            ),
            n_findings=Count("findings", distinct=True),
        )
    )
    findings = list(selectors.plan_findings(user=user, plan=plan))
    flags = flag_labels()
    samples = list(selectors.plan_samples(user=user, plan=plan))
    return page(
        request,
        "oversight/inspection_plan.html",
        {
            "title": plan.title,
            "active": "plans",
            "plan": plan,
            "half": half_label(plan),
            "items": item_texts(plan),
            "visits": visits,
            "findings": [
                {
                    "f": f,
                    "flag": f.rectification.flag(today),
                    "flag_label": flags[f.rectification.flag(today)],
                }
                for f in findings
            ],
            "samples": [
                {"s": s, "due": format_yuan(s.amount_due), "said": _said(s)} for s in samples
            ],
            "may_inspect": selectors.may_inspect(user),
        },
    )


def _said(s: SampleCheck) -> str:
    return "" if s.amount_said is None else format_yuan(s.amount_said)


# --------------------------------------------------------------------------- visits


@plans_view("GET", "POST")
def visit_form(request: HttpRequest, visit_id: int) -> HttpResponse:
    """Show a visit; an inspector records it once (the day and every checklist item)."""
    user: Any = request.user
    visit = selectors.get_visit(user=user, visit_id=visit_id)
    plan = visit.plan
    texts = dict(item_texts(plan))
    may = selectors.may_inspect(user) and visit.status == Visit.Status.PLANNED
    posted = request.method == "POST"
    if posted and not selectors.may_inspect(user):
        return forbidden(request, P.INSPECT)
    form = VisitForm(request.POST if posted else None, items=item_texts(plan, visit.kind))
    if posted and form.is_valid():
        answers = {i: services.Answer(status, note) for i, (status, note) in form.answers().items()}
        try:
            services.visit_record(
                actor=user,
                visit=visit,
                visited_on=form.cleaned_data["visited_on"],
                answers=answers,
                note=form.cleaned_data["note"],
            )
        except PermissionDenied:
            return forbidden(request, P.INSPECT)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(
                request, _("The visit to %(place)s is recorded.") % {"place": visit.place}
            )
            return redirect("oversight:visit", visit_id=visit.pk)
    answered = [
        {"text": texts.get(a.item_id, a.item_id), "a": a} for a in visit.answers.order_by("id")
    ]
    return page(
        request,
        "oversight/inspection_visit.html",
        {
            "title": visit.place,
            "active": "plans",
            "plan": plan,
            "half": half_label(plan),
            "visit": visit,
            "form": form if may else None,
            "answers": answered,
            "samples": [
                {"s": s, "due": format_yuan(s.amount_due), "said": _said(s)}
                for s in selectors.sample_list(user=user, visit=visit)
            ],
            "findings": list(visit.findings.select_related("rectification").order_by("pk")),
            "may_inspect": selectors.may_inspect(user),
        },
    )


@plans_view("GET", "POST")
def sample_draw(request: HttpRequest, visit_id: int) -> HttpResponse:
    """Draw a school visit's sample of poor students (inspectors; once, reproducible)."""
    user: Any = request.user
    visit = selectors.get_visit(user=user, visit_id=visit_id)
    if not selectors.may_inspect(user):
        return forbidden(request, P.INSPECT)
    posted = request.method == "POST"
    form = SampleDrawForm(
        request.POST if posted else None, initial={"size": visit.plan.sample_size}
    )
    if posted and form.is_valid():
        try:
            rows = services.sample_draw(actor=user, visit=visit, size=form.cleaned_data["size"])
        except PermissionDenied:
            return forbidden(request, P.INSPECT)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("%(n)s students are sampled.") % {"n": len(rows)})
            return redirect("oversight:visit", visit_id=visit.pk)
    return page(
        request,
        "oversight/inspection_form.html",
        {
            "title": _("Draw the sample of poor students"),
            "subtitle": f"{visit.plan.title} · {visit.place}",
            "help": _(
                "The sample is drawn in a fixed order computed from the plan and the school: "
                "drawing it again gives the same students."
            ),
            "active": "plans",
            "form": form,
            "form_id": "jz-sample-form",
            "back": reverse("oversight:visit", kwargs={"visit_id": visit.pk}),
        },
    )


@plans_view("GET", "POST")
def finding_new(request: HttpRequest, visit_id: int) -> HttpResponse:
    """Record a finding of a visit and open its rectification (inspectors)."""
    user: Any = request.user
    visit = selectors.get_visit(user=user, visit_id=visit_id)
    if not selectors.may_inspect(user):
        return forbidden(request, P.INSPECT)
    samples = list(selectors.sample_list(user=user, visit=visit))
    owners = list(selectors.owner_choices(user=user, township_code=visit.township.code))
    owners = [
        o
        for o in owners
        if o.role != "principal" or (visit.school_id and o.school_id == visit.school_id)
    ]
    posted = request.method == "POST"
    form = FindingForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        items=item_texts(visit.plan, visit.kind),
        students=[(s.student_id, f"{s.student.name} {s.student.id_masked}") for s in samples],
        owners=[(o.pk, user_label(o)) for o in owners],
        found_on=visit.visited_on or timezone.localdate(),
    )
    if posted and form.is_valid():
        values = form.cleaned_data
        by_student = {s.student_id: s.student for s in samples}
        by_owner = {o.pk: o for o in owners}
        try:
            finding = services.finding_record(
                actor=user,
                visit=visit,
                severity=values["severity"],
                text=values["text"],
                deadline=values["deadline"],
                found_on=values["found_on"],
                owner=by_owner.get(values["owner"]) if values["owner"] else None,
                student=by_student.get(values["student"]) if values["student"] else None,
                item_id=values["item_id"] or "",
                evidence=values["evidence"] or None,
            )
        except PermissionDenied:
            return forbidden(request, P.INSPECT)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("The finding is recorded; its rectification is open."))
            return redirect("oversight:rectification", rectification_id=finding.rectification.pk)
    return page(
        request,
        "oversight/inspection_form.html",
        {
            "title": _("Record a finding"),
            "subtitle": f"{visit.plan.title} · {visit.place}",
            "active": "plans",
            "form": form,
            "form_id": "jz-finding-form",
            "multipart": True,
            "back": reverse("oversight:visit", kwargs={"visit_id": visit.pk}),
        },
    )


# --------------------------------------------------------------------------- findings


@dataclass(frozen=True)
class Filters:
    lp: ListParams
    severity: str
    flag: str
    plan_id: int | None
    on: dt.date


def _filters(request: HttpRequest) -> Filters:
    lp = ListParams.read(
        request.GET, statuses=Rectification.Status.values, extra=("severity", "flag", "plan")
    )
    severity = lp.extra.get("severity", "")
    flag = lp.extra.get("flag", "")
    plan = lp.extra.get("plan", "")
    return Filters(
        lp=lp,
        severity=severity if severity in Finding.Severity.values else "",
        flag=flag if flag in Flag.values else "",
        plan_id=int(plan) if plan.isdigit() and len(plan) < 10 else None,
        on=timezone.localdate(),
    )


def filtered_findings(user: Any, f: Filters) -> QuerySet[Finding]:
    rows = f.lp.apply(
        selectors.finding_list(user=user),
        township="township__code",
        school="school_id",
        status="rectification__status",
        names=("text", "school__name"),
    )
    if f.severity:
        rows = rows.filter(severity=f.severity)
    if f.flag:
        rows = rows.filter(selectors.flag_q(f.flag, f.on, "rectification__"))
    if f.plan_id is not None:
        rows = rows.filter(plan_id=f.plan_id)
    return rows.order_by("-found_on", "township__code", "pk")


@findings_view("GET", "HEAD")
def finding_list(request: HttpRequest) -> HttpResponse:
    """Show the findings with their rectifications (filtered, paged, exportable)."""
    user: Any = request.user
    f = _filters(request)
    rows = filtered_findings(user, f)
    listed = paginate(request.GET, rows)
    flags = flag_labels()
    return page(
        request,
        "oversight/rectification_list.html",
        {
            "title": _("Findings and rectifications"),
            "active": "findings",
            "f": f,
            "lp": f.lp,
            "choices": list_choices(user=user, params=f.lp, statuses=[]),
            "severities": Finding.Severity.choices,
            "statuses": Rectification.Status.choices,
            "flags": Flag.choices,
            "findings": listed,
            "lines": [
                {
                    "f": x,
                    "r": x.rectification,
                    "owner": owner_label(x.rectification),
                    "flag": x.rectification.flag(f.on),
                    "flag_label": flags[x.rectification.flag(f.on)],
                }
                for x in listed.object_list
            ],
            "listed_total": listed.paginator.count,
            "filtered": f.lp.active or bool(f.severity or f.flag or f.plan_id),
        },
    )


@findings_view("GET", "HEAD")
def finding_list_export(request: HttpRequest) -> HttpResponse:
    """Download the findings as filtered on the page (an official list, in Chinese)."""
    user: Any = request.user
    f = _filters(request)
    rows = list(filtered_findings(user, f))
    data = []
    for n, x in enumerate(rows, 1):
        r = x.rectification
        owner = r.owner.get_full_name() or r.owner.username if r.owner else x.place
        data.append(
            [
                n,
                f"{x.plan.year}年{CN_HALF.get(x.plan.half, '')} {x.plan.title}",
                x.township.name,
                x.school.name if x.school else "",
                CN_SEVERITY.get(x.severity, x.severity),
                x.text,
                x.found_on.isoformat(),
                owner,
                r.deadline.isoformat(),
                CN_STATUS.get(r.status, r.status),
                r.closed_on.isoformat() if r.closed_on else "",
                CN_FLAG.get(r.flag(f.on), ""),
            ]
        )
    sheet = xlsx.Sheet(f"督导检查问题整改台账（截至{f.on.isoformat()}）", LIST_HEADERS, data)
    return download(xlsx.workbook([sheet]), f"inspection-findings-{f.on.isoformat()}.xlsx")


@findings_view("GET")
def finding_evidence(request: HttpRequest, finding_id: int) -> FileResponse:
    """Stream a finding's photo or scan to a user who may see the finding."""
    finding = selectors.get_finding(user=request.user, finding_id=finding_id)
    response = evidence_response(finding.evidence)
    audit_record(
        actor=request.user,
        action="inspection_finding.evidence_view",
        target=finding,
        request=request,
    )
    return response


# --------------------------------------------------------------------------- rectifications


@findings_view("GET", "HEAD")
def rectification_detail(request: HttpRequest, rectification_id: int) -> HttpResponse:
    """Show a rectification: its finding, owner, deadline, flag and log, and the forms of
    progress (the school or township) and close-out (inspectors)."""
    user: Any = request.user
    r = selectors.get_rectification(user=user, rectification_id=rectification_id)
    today = timezone.localdate()
    is_open = r.status == Rectification.Status.OPEN
    texts = dict(item_texts(r.finding.plan))
    return page(
        request,
        "oversight/rectification_detail.html",
        {
            "title": _("Rectification"),
            "active": "findings",
            "r": r,
            "finding": r.finding,
            "half": half_label(r.finding.plan),
            "item": texts.get(r.finding.item_id, ""),
            "owner": owner_label(r),
            "flag": r.flag(today),
            "flag_label": flag_labels()[r.flag(today)],
            "entries": list(selectors.entry_list(user=user, rectification=r)),
            "progress_form": ProgressForm()
            if is_open and selectors.may_report_progress(user)
            else None,
            "close_form": CloseForm() if is_open and selectors.may_inspect(user) else None,
            "may_see_plan": selectors.may_see_plans(user),
        },
    )


@findings_view("GET", "POST")
def rectification_progress(request: HttpRequest, rectification_id: int) -> HttpResponse:
    """Report progress on a rectification (the principal or the township officer)."""
    user: Any = request.user
    r = selectors.get_rectification(user=user, rectification_id=rectification_id)
    if not selectors.may_report_progress(user):
        return forbidden(request, P.CASEWORK)
    posted = request.method == "POST"
    form = ProgressForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        values = form.cleaned_data
        try:
            services.rectification_note_add(
                actor=user,
                rectification=r,
                text=values["text"],
                happened_on=values["happened_on"],
                evidence=values["evidence"] or None,
            )
        except PermissionDenied:
            return forbidden(request, P.CASEWORK)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("The progress is recorded."))
            return redirect("oversight:rectification", rectification_id=r.pk)
    return page(
        request,
        "oversight/inspection_form.html",
        {
            "title": _("Report progress"),
            "subtitle": f"{r.finding.place} · {r.finding.text}",
            "active": "findings",
            "form": form,
            "form_id": "jz-progress-form",
            "multipart": True,
            "back": reverse("oversight:rectification", kwargs={"rectification_id": r.pk}),
        },
    )


@findings_view("GET", "POST")
def rectification_close(request: HttpRequest, rectification_id: int) -> HttpResponse:
    """Close a rectification after verifying it (inspectors)."""
    user: Any = request.user
    r = selectors.get_rectification(user=user, rectification_id=rectification_id)
    if not selectors.may_inspect(user):
        return forbidden(request, P.INSPECT)
    posted = request.method == "POST"
    form = CloseForm(request.POST if posted else None)
    if posted and form.is_valid():
        try:
            closed = services.rectification_close(
                actor=user,
                rectification=r,
                closed_on=form.cleaned_data["closed_on"],
                note=form.cleaned_data["note"],
            )
        except PermissionDenied:
            return forbidden(request, P.INSPECT)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            assert closed.closed_on is not None
            messages.success(
                request,
                _("The rectification is closed: %(flag)s.")
                % {"flag": flag_labels()[closed.flag(closed.closed_on)]},
            )
            return redirect("oversight:rectification", rectification_id=r.pk)
    return page(
        request,
        "oversight/inspection_form.html",
        {
            "title": _("Verify and close"),
            "subtitle": f"{r.finding.place} · {r.finding.text}",
            "active": "findings",
            "form": form,
            "form_id": "jz-close-form",
            "back": reverse("oversight:rectification", kwargs={"rectification_id": r.pk}),
        },
    )


@findings_view("GET")
def entry_evidence(request: HttpRequest, entry_id: int) -> FileResponse:
    """Stream a progress note's photo or scan to a user who may see the rectification."""
    entry = selectors.get_entry(user=request.user, entry_id=entry_id)
    response = evidence_response(entry.evidence)
    audit_record(
        actor=request.user,
        action="rectification.evidence_view",
        target=entry,
        request=request,
    )
    return response


urlpatterns: list[URLPattern] = [
    path("inspections/", plan_list, name="plans"),
    path("inspections/new/", plan_new, name="plan-new"),
    path("inspections/<int:plan_id>/", plan_detail, name="plan"),
    path("inspections/visits/<int:visit_id>/", visit_form, name="visit"),
    path("inspections/visits/<int:visit_id>/sample/", sample_draw, name="sample-draw"),
    path("inspections/visits/<int:visit_id>/findings/new/", finding_new, name="finding-new"),
    path("findings/", finding_list, name="findings"),
    path("findings.xlsx", finding_list_export, name="findings-xlsx"),
    path("findings/<int:finding_id>/evidence/", finding_evidence, name="finding-evidence"),
    path("rectifications/<int:rectification_id>/", rectification_detail, name="rectification"),
    path(
        "rectifications/<int:rectification_id>/progress/",
        rectification_progress,
        name="rectification-progress",
    ),
    path(
        "rectifications/<int:rectification_id>/close/",
        rectification_close,
        name="rectification-close",
    ),
    path(
        "rectifications/entries/<int:entry_id>/evidence/",
        entry_evidence,
        name="entry-evidence",
    ),
    *mobile.urlpatterns,
]
