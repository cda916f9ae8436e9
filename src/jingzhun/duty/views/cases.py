"""Duty pages of the casework: the dropout ledger, one case with its steps, the return notice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.core.evidence import evidence_response
from jingzhun.core.listing import ListParams, paginate
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
    person_name,
)
from jingzhun.schools.models import Enrolment
from jingzhun.schools.selectors import latest_school_year, list_choices

# --------------------------------------------------------------------------- ledger


@dataclass
class LedgerLine:
    case: DropoutCase
    flag: str
    flag_label: str
    overdue: bool
    due: dt.date
    township: str
    village: str
    class_name: str
    assignee: str
    supervisor: str


@dataclass
class LedgerGroup:
    township: str
    school: str
    cases: int = 0
    overdue: int = 0


def _show(request: HttpRequest) -> str:
    show = request.GET.get("show", "open")
    return show if show in SHOW_CHOICES else "open"


def ledger_params(request: HttpRequest) -> ListParams:
    """Read the ledger's filters (the shared list filters, plus which cases to show)."""
    return ListParams.read(
        request.GET,
        statuses=[k for k, _label in selectors.ledger_statuses()],
        reasons=DropoutCase.Source.values,
        extra=("show",),
    )


def ledger_lines(
    user: Any, show: str, today: dt.date | None = None, params: ListParams | None = None
) -> list[LedgerLine]:
    """Return the ledger the user may see: not yet closed, closed, or all; overdue first."""
    rows = selectors.ledger(user=user, today=today, include_closed=show != "open", params=params)
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
            township=names.get(r.case.village_code[:9], ""),
            village=r.case.person.household.village.name,
            class_name=class_label(r.case.school_class),
            assignee=person_name(r.case.assignee),
            supervisor=person_name(r.case.supervisor),
        )
        for r in rows
    ]


def _groups(lines: list[LedgerLine]) -> list[LedgerGroup]:
    groups: dict[tuple[str, str], LedgerGroup] = {}
    for line in lines:
        school = line.case.school.name if line.case.school else "—"
        group = groups.setdefault(
            (line.case.village_code[:9], school), LedgerGroup(line.township or "—", school)
        )
        group.cases += 1
        group.overdue += int(line.flag == "black")
    return [groups[k] for k in sorted(groups)]


def _show_tabs(params: ListParams, show: str) -> list[tuple[str, str, str, bool]]:
    """Return (key, label, query, active) for the tabs not yet closed / closed / all."""
    return [
        (key, str(label), params.query(show=key), key == show)
        for key, label in SHOW_CHOICES.items()
    ]


@duty_view("GET")
def ledger(request: HttpRequest) -> HttpResponse:
    """Show the dropout cases the user may see, per township and school, overdue first."""
    user: Any = request.user
    show = _show(request)
    params = ledger_params(request)
    lines = ledger_lines(user, show, params=params)
    choices = list_choices(
        user=user,
        params=params,
        school_year=latest_school_year(user=user),
        statuses=selectors.ledger_statuses(),
        reasons=[(k, str(v)) for k, v in DropoutCase.Source.choices],
    )
    return _page(
        request,
        "duty/ledger.html",
        {
            "title": _("Dropout case ledger"),
            "active": "ledger",
            "show": show,
            "show_tabs": _show_tabs(params, show),
            "lp": params,
            "choices": choices,
            "page": paginate(request.GET, lines),
            "query": params.query(),
            "total": len(lines),
            "groups": _groups(lines),
            "overdue": sum(1 for line in lines if line.flag == "black"),
            "may_open": selectors.may_assign(user) and user.scope.level == "county",
            "stale_days": settings.DUTY_STALE_WORKING_DAYS,
            "export_url": reverse("duty:ledger-xlsx"),
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
            line.village,
            line.case.school.name if line.case.school else "",
            cn_class(line.case.school_class),
            line.case.person.name,
            line.case.episode,
            line.case.opened_on.isoformat(),
            line.case.reason,
            line.assignee,
            line.supervisor,
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
    """Download the ledger as filtered on the page, every page of it (.xlsx)."""
    today = timezone.localdate()
    lines = ledger_lines(request.user, _show(request), today, params=ledger_params(request))
    content = documents.workbook([ledger_sheet(lines, today)])
    return _download(content, f"dropout-ledger-{today.isoformat()}.xlsx", XLSX)


# --------------------------------------------------------------------------- opening cases


def _may_open(user: Any) -> bool:
    return bool(selectors.may_assign(user) and user.scope.level == "county")


@dataclass
class PreviewLine:
    township: str
    new: int
    new_episode: int
    already_open: int


@duty_view("GET", "POST")
def open_cases(request: HttpRequest) -> HttpResponse:
    """Preview the cases the latest identification run would open, per township; on the
    officer's confirmation (naming the run previewed) open them."""
    user: Any = request.user
    if not _may_open(user):
        return _forbidden(request, P.DUTY_ASSIGN)
    county = user.scope.county_code
    try:
        if request.method == "POST":
            run_id = request.POST.get("run", "")
            if not run_id.isdigit():
                return redirect("duty:open-cases")
            result = services.cases_open_from_identification(
                actor=user, county_code=county, run_id=int(run_id)
            )
            messages.success(
                request,
                _(
                    "Cases opened: %(opened)d new, %(reopened)d as a new episode; "
                    "%(already)d children already had an open case."
                )
                % {
                    "opened": result.opened,
                    "reopened": result.reopened,
                    "already": result.already_open,
                },
            )
            return redirect("duty:ledger")
        preview = services.cases_open_preview(actor=user, county_code=county)
    except PermissionDenied:
        return _forbidden(request, P.DUTY_ASSIGN)
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("duty:open-cases")
    names = selectors_ui.township_names(user=user)
    lines = [
        PreviewLine(names.get(r.township_code, "—"), r.new, r.new_episode, r.already_open)
        for r in preview.rows
    ]
    lines.sort(key=lambda line: line.township)
    return _page(
        request,
        "duty/open_cases.html",
        {
            "title": _("Open dropout cases from the latest identification run"),
            "active": "ledger",
            "preview": preview,
            "lines": lines,
            "to_open": preview.new + preview.new_episode,
        },
    )


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


@duty_view("GET")
def step_evidence(request: HttpRequest, step_id: int) -> FileResponse:
    """Stream a step's evidence to a user who may see its case (there is no public URL)."""
    step = selectors.get_step(user=request.user, step_id=step_id)
    response = evidence_response(step.evidence)
    audit_record(
        actor=request.user,
        action="duty.evidence_view",
        target=step.case,
        data={"step": step.pk},
        request=request,
    )
    return response


def left_on(case: DropoutCase, enrolments: Any) -> dt.date:
    """Return when the child stopped attending, never after the case opened: the latest
    dropout date on the rolls on or before the opening (and after the previous episode
    closed), else the opening date itself.

    A roll can mark a dropout after the case opened (a late roll update, or a later drop
    in a new school year); that date is no "stopped since" of this case.
    """
    after = case.previous.closed_on if case.previous is not None else None
    dates = [
        e.status_date
        for e in enrolments
        if e.status == Enrolment.Status.DROPPED_OUT
        and e.status_date is not None
        and e.status_date <= case.opened_on
        and (after is None or e.status_date > after)
    ]
    return max(dates, default=case.opened_on)


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
    contact = selectors_ui.case_contact(case=case)
    notice = documents.ReturnNotice(
        guardian_name=case.person.guardian_name or "__________",
        child_name=case.person.name,
        school_name=case.school.name if case.school else "",
        class_name=cn_class(case.school_class),
        left_on=cn_date(left_on(case, selectors_ui.case_enrolments(user=user, case=case))),
        return_by=case.return_deadline,
        issuer=issuer,
        issued_on=timezone.localdate(),
        contact=contact.name,
        contact_phone=contact.phone,
        contact_unit=case.school.name if case.school else issuer,
        village_name=case.person.household.village.name,
    )
    content = documents.return_notice_pdf(notice)
    return _download(
        content, f"return-notice-{case.pk}-{case.episode}.pdf", "application/pdf", inline=True
    )
