"""Duty pages of the casework: the dropout ledger, one case with its steps, the return notice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.duty import documents, selectors, selectors_ui, services
from jingzhun.duty.forms import (
    ReopenForm,
    ResolveForm,
    StepForm,
)
from jingzhun.duty.models import CaseStep, DropoutCase
from jingzhun.duty.views.common import (
    CN_FLAGS,
    CN_OUTCOMES,
    CN_STATUS,
    LEDGER_HEADERS,
    SHOW_CHOICES,
    XLSX,
    _download,
    _errors,
    _forbidden,
    _page,
    class_label,
    cn_class,
    cn_date,
    duty_view,
    flag_label,
)
from jingzhun.schools.models import Enrolment

# --------------------------------------------------------------------------- ledger


@dataclass
class LedgerLine:
    case: DropoutCase
    flag: str
    flag_label: str
    overdue: bool
    due: dt.date
    township: str
    class_name: str


@dataclass
class LedgerGroup:
    township: str
    school: str
    cases: int = 0
    overdue: int = 0


def _show(request: HttpRequest) -> str:
    show = request.GET.get("show", "open")
    return show if show in SHOW_CHOICES else "open"


def ledger_lines(user: Any, show: str, today: dt.date | None = None) -> list[LedgerLine]:
    """Return the ledger the user may see: not yet closed, closed, or all; overdue first."""
    rows = selectors.ledger(user=user, today=today, include_closed=show != "open")
    if show == "closed":
        rows = [r for r in rows if r.case.status == DropoutCase.Status.CLOSED]
    names = selectors_ui.township_names(user=user)
    return [
        LedgerLine(
            case=r.case,
            flag=r.flag,
            flag_label=flag_label(r.flag),
            overdue=r.overdue,
            due=r.due,
            township=names.get(r.case.village_code[:9], r.case.village_code[:9]),
            class_name=class_label(r.case.school_class),
        )
        for r in rows
    ]


def _groups(lines: list[LedgerLine]) -> list[LedgerGroup]:
    groups: dict[tuple[str, str], LedgerGroup] = {}
    for line in lines:
        school = line.case.school.name if line.case.school else "—"
        group = groups.setdefault(
            (line.case.village_code[:9], school), LedgerGroup(line.township, school)
        )
        group.cases += 1
        group.overdue += int(line.flag == "black")
    return [groups[k] for k in sorted(groups)]


@duty_view("GET")
def ledger(request: HttpRequest) -> HttpResponse:
    """Show the dropout cases the user may see, per township and school, overdue first."""
    user: Any = request.user
    show = _show(request)
    lines = ledger_lines(user, show)
    return _page(
        request,
        "duty/ledger.html",
        {
            "title": _("Dropout case ledger"),
            "active": "ledger",
            "show": show,
            "show_choices": list(SHOW_CHOICES.items()),
            "lines": lines,
            "groups": _groups(lines),
            "overdue": sum(1 for line in lines if line.flag == "black"),
            "may_open": selectors.may_assign(user) and user.scope.level == "county",
            "stale_days": settings.DUTY_STALE_WORKING_DAYS,
        },
    )


def ledger_sheet(lines: list[LedgerLine], today: dt.date) -> documents.Sheet:
    """Return the ledger as the official workbook sheet (Chinese, no ID numbers)."""
    rows = [
        (
            n,
            CN_FLAGS.get(line.flag, ""),
            CN_STATUS.get(line.case.status, line.case.status),
            line.township,
            line.case.school.name if line.case.school else "",
            cn_class(line.case.school_class),
            line.case.person.name,
            line.case.episode,
            line.case.opened_on.isoformat(),
            line.case.reason,
            str(line.case.assignee) if line.case.assignee else "",
            str(line.case.supervisor) if line.case.supervisor else "",
            line.case.last_step_on.isoformat(),
            line.due.isoformat() if line.case.status != DropoutCase.Status.CLOSED else "",
            line.case.return_deadline.isoformat() if line.case.return_deadline else "",
            CN_OUTCOMES.get(line.case.outcome, line.case.outcome),
            line.case.closed_on.isoformat() if line.case.closed_on else "",
        )
        for n, line in enumerate(lines, start=1)
    ]
    return documents.Sheet(f"控辍保学工作台账（{cn_date(today)}）", LEDGER_HEADERS, rows)


@duty_view("GET")
def ledger_export(request: HttpRequest) -> HttpResponse:
    """Download the ledger as on the page (.xlsx)."""
    today = timezone.localdate()
    lines = ledger_lines(request.user, _show(request), today)
    content = documents.workbook([ledger_sheet(lines, today)])
    return _download(content, f"dropout-ledger-{today.isoformat()}.xlsx", XLSX)


@duty_view("POST")
def open_cases(request: HttpRequest) -> HttpResponse:
    """Open a case for every out-of-school child the latest identification run found."""
    user: Any = request.user
    if not (selectors.may_assign(user) and user.scope.level == "county"):
        return _forbidden(request, P.DUTY_ASSIGN)
    try:
        result = services.cases_open_from_identification(
            actor=user, county_code=user.scope.county_code
        )
    except PermissionDenied:
        return _forbidden(request, P.DUTY_ASSIGN)
    messages.success(
        request,
        _(
            "Cases opened: %(opened)d new, %(reopened)d as a new episode; "
            "%(already)d children already had an open case."
        )
        % {"opened": result.opened, "reopened": result.reopened, "already": result.already_open},
    )
    return redirect("duty:ledger")


# --------------------------------------------------------------------------- one case


def _enrolment_choices(user: Any, case: DropoutCase) -> list[tuple[int, str]]:
    statuses = dict(Enrolment.Status.choices)
    return [
        (
            e.pk,
            f"{e.school_year} {e.school.name} {class_label(e.school_class)} "
            f"({statuses.get(e.status, e.status)})",
        )
        for e in selectors_ui.case_enrolments(user=user, case=case)
    ]


def _case_post(
    request: HttpRequest, case: DropoutCase, enrolments: list[tuple[int, str]]
) -> HttpResponse | dict[str, Any]:
    """Carry out one action on a case; return the response, or the forms to show again."""
    user: Any = request.user
    action = request.POST.get("action", "")
    needs = {
        "step": P.CASEWORK,
        "resolve": P.CASEWORK,
        "verify": P.CASE_VERIFY,
        "reopen": P.CASE_VERIFY,
    }
    if action not in needs or not user.can(needs[action]):
        return _forbidden(request, needs.get(action, "duty"))
    back = redirect("duty:case", case_id=case.pk)
    form: Any = None
    try:
        if action == "step":
            form = StepForm(request.POST, request.FILES)
            if not form.is_valid():
                return {"step_form": form}
            data = form.cleaned_data
            services.case_step_record(
                actor=user,
                case_id=case.pk,
                kind=data["kind"],
                text=data["text"],
                happened_on=data["happened_on"],
                evidence=data["evidence"] or None,
                return_deadline=data["return_deadline"],
            )
            messages.success(request, _("The step is recorded."))
        elif action == "resolve":
            form = ResolveForm(request.POST, enrolments=enrolments)
            if not form.is_valid():
                return {"resolve_form": form}
            data = form.cleaned_data
            services.case_resolve(
                actor=user,
                case_id=case.pk,
                outcome=data["outcome"],
                enrolment_id=data["enrolment"],
                home_teacher=data["home_teacher"],
                home_schedule=data["home_schedule"],
                exemption_reason=data["exemption_reason"],
                moved_to=data["moved_to"],
            )
            messages.success(request, _("The outcome is recorded; the township verifies it."))
        elif action == "verify":
            services.case_verify(actor=user, case_id=case.pk)
            messages.success(request, _("The case is verified and closed."))
        else:
            form = ReopenForm(request.POST)
            if not form.is_valid():
                return {"reopen_form": form}
            services.case_reopen(actor=user, case_id=case.pk, reason=form.cleaned_data["reason"])
            messages.success(request, _("The case is sent back to work."))
    except PermissionDenied:
        return _forbidden(request, needs[action])
    except ValidationError as exc:
        _errors(request, exc)
        if form is not None:
            return {f"{action}_form": form}
    return back


@duty_view("GET", "POST")
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    """Show one case with its steps; record a step, the outcome, or verify it."""
    user: Any = request.user
    case = selectors.get_case(user=user, case_id=case_id)
    enrolments = _enrolment_choices(user, case)
    forms: dict[str, Any] = {
        "step_form": StepForm(),
        "resolve_form": ResolveForm(enrolments=enrolments),
        "reopen_form": ReopenForm(),
    }
    if request.method == "POST":
        result = _case_post(request, case, enrolments)
        if isinstance(result, HttpResponse):
            return result
        forms.update(result)
        case = selectors.get_case(user=user, case_id=case_id)
    today = timezone.localdate()
    closed = case.status == DropoutCase.Status.CLOSED
    previous = (
        selectors.case_list(user=user).filter(pk=case.previous_id).first()
        if case.previous_id
        else None
    )
    steps = list(selectors.step_list(user=user, case=case))
    flag = selectors.flag_of(case, today)
    return _page(
        request,
        "duty/case.html",
        {
            "title": _("Dropout case of %(name)s, episode %(n)d")
            % {"name": case.person.name, "n": case.episode},
            "active": "ledger",
            "case": case,
            "flag": flag,
            "flag_label": flag_label(flag),
            "due": None if closed else services.due_on(case),
            "class_name": class_label(case.school_class),
            "steps": steps,
            "problems": [] if closed else services.outcome_problems(case),
            "previous": previous,
            "next": selectors_ui.next_episode(user=user, case=case),
            "may_step": selectors.may_casework(user) and not closed,
            "may_resolve": selectors.may_casework(user) and case.status == DropoutCase.Status.OPEN,
            "may_verify": selectors.may_verify(user) and case.status == DropoutCase.Status.RESOLVED,
            "deadline_kind": CaseStep.Kind.DEADLINE_NOTICE,
            **forms,
        },
    )


# Evidence shown in the browser; anything else is downloaded, never rendered.
INLINE_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "pdf": "application/pdf",
}


@duty_view("GET")
def step_evidence(request: HttpRequest, step_id: int) -> FileResponse:
    """Stream a step's evidence to a user who may see its case (there is no public URL)."""
    step = selectors.get_step(user=request.user, step_id=step_id)
    stored = step.evidence.name
    if not stored:
        raise Http404
    name = stored.rsplit("/", 1)[-1]
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    try:
        handle = step.evidence.storage.open(stored, "rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    audit_record(
        actor=request.user,
        action="duty.evidence_view",
        target=step.case,
        data={"step": step.pk},
        request=request,
    )
    content_type = INLINE_TYPES.get(suffix)
    response = FileResponse(
        handle,
        as_attachment=content_type is None,
        filename=name,
        content_type=content_type or "application/octet-stream",
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _left_on(user: Any, case: DropoutCase) -> dt.date:
    """Return when the child stopped attending: the roll's dropout date, else the opening."""
    for enrolment in selectors_ui.case_enrolments(user=user, case=case):
        if enrolment.status == Enrolment.Status.DROPPED_OUT and enrolment.status_date:
            return enrolment.status_date
    return case.opened_on


def _township_name(user: Any, code: str) -> str:
    return selectors_ui.township_names(user=user).get(code[:9], "")


@duty_view("GET")
def return_notice(request: HttpRequest, case_id: int) -> HttpResponse:
    """Download the deadline-to-return notice to the guardian (PDF, no ID number)."""
    user: Any = request.user
    case = selectors.get_case(user=user, case_id=case_id)
    if case.return_deadline is None:
        messages.warning(
            request, _("Record a deadline-to-return notice with its date first; then print it.")
        )
        return redirect("duty:case", case_id=case.pk)
    issuer = (
        case.school.name if case.school else f"{_township_name(user, case.village_code)}人民政府"
    )
    notice = documents.ReturnNotice(
        guardian_name=case.person.guardian_name or "__________",
        child_name=case.person.name,
        school_name=case.school.name if case.school else "",
        class_name=cn_class(case.school_class),
        left_on=cn_date(_left_on(user, case)),
        return_by=case.return_deadline,
        issuer=issuer,
        issued_on=timezone.localdate(),
        contact=str(case.assignee) if case.assignee else "",
        village_name=case.person.household.village.name,
    )
    content = documents.return_notice_pdf(notice)
    return _download(
        content, f"return-notice-{case.pk}-{case.episode}.pdf", "application/pdf", inline=True
    )
