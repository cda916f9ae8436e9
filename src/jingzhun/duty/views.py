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
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.duty import documents, selectors, selectors_ui, services
from jingzhun.duty.forms import (
    AssignmentCreateForm,
    ReassignForm,
    ReopenForm,
    ResolveForm,
    SignForm,
    StepForm,
)
from jingzhun.duty.models import Assignment, CaseStep, DropoutCase
from jingzhun.schools.models import Enrolment, SchoolClass, Stage

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
CN_DIGITS = "〇一二三四五六七八九"
LEDGER_HEADERS = (
    "序号",
    "标识",
    "状态",
    "乡镇",
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
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def cn_class(cls: SchoolClass | None) -> str:
    """Return a class as an official document names it, e.g. 三年级1班, 七年级2班, 高一3班."""
    if cls is None:
        return ""
    grade = cls.grade
    if cls.stage == Stage.JUNIOR and grade <= 3:
        grade += 6
    if cls.stage in (Stage.SENIOR, Stage.VOCATIONAL) and 1 <= grade <= 3:
        return f"高{CN_DIGITS[grade]}{cls.name}"
    words = CN_DIGITS[grade] if 0 < grade < 10 else str(grade)
    return f"{words}年级{cls.name}"


# --- wording of the pages ------------------------------------------------------------------


def class_label(cls: SchoolClass | None) -> str:
    """Return a class as the pages show it, e.g. "Grade 3, 1班" ("—" for none)."""
    if cls is None:
        return "—"
    return _("Grade %(grade)s, %(name)s") % {"grade": cls.grade, "name": cls.name}


def flag_label(flag: str) -> str:
    return str(FLAG_LABELS.get(flag, ""))


# --- helpers -------------------------------------------------------------------------------


def _nav() -> list[tuple[str, str, str]]:
    return [
        ("ledger", _("Case ledger"), reverse("duty:ledger")),
        ("assignments", _("Responsibility chain"), reverse("duty:assignments")),
        ("coverage", _("Chain coverage"), reverse("duty:coverage")),
        ("monthly", _("Monthly report"), reverse("duty:report-monthly")),
        ("quarterly", _("Quarterly report"), reverse("duty:report-quarterly")),
    ]


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render a page inside the back office's layout (sidebar, language switcher)."""
    return render(
        request,
        template,
        {**admin.site.each_context(request), "jz_nav": _nav(), **context},
        status=status,
    )


def _forbidden(request: HttpRequest, capability: str) -> HttpResponse:
    """Log a refused request and answer with the 403 page."""
    audit_record(
        actor=request.user,
        action="access.denied",
        request=request,
        data={"path": request.path, "capability": capability},
    )
    return _page(request, "duty/forbidden.html", {"title": _("Not allowed"), "active": ""}, 403)


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


# --------------------------------------------------------------------------- the chain


def _allowed_kinds(user: Any) -> list[tuple[str, Any]]:
    level = user.scope.level
    return [(k, label) for k, label in Assignment.Kind.choices if level in services.ASSIGNERS[k]]


def _target_label(a: Assignment) -> str:
    if a.kind == Assignment.Kind.CLASS and a.school_class is not None:
        school = a.school.name if a.school else ""
        return f"{school} {class_label(a.school_class)}".strip()
    if a.kind == Assignment.Kind.STUDENT and a.person is not None:
        return f"{a.person.name} · {a.school.name}" if a.school else a.person.name
    if a.kind == Assignment.Kind.VILLAGE and a.village is not None:
        return f"{a.village.name} · {a.school.name}" if a.school else a.village.name
    target = a.target
    return str(getattr(target, "name", "") or "—")


def _may_manage(user: Any, a: Assignment) -> bool:
    return selectors.may_assign(user) and user.scope.level in services.ASSIGNERS[a.kind]


@duty_view("GET", "POST")
def assignments(request: HttpRequest) -> HttpResponse:
    """Show the chain the user may see (current, or with its history); name a new holder."""
    user: Any = request.user
    may = selectors.may_assign(user)
    history = request.GET.get("history") == "1"
    form = None
    if may:
        form = AssignmentCreateForm(
            request.POST if request.method == "POST" else None,
            targets=selectors_ui.assignment_targets(user=user, class_label=class_label),
            holders=selectors_ui.holder_choices(user=user),
        )
        kind_field: Any = form.fields["kind"]
        kind_field.choices = _allowed_kinds(user)
    if request.method == "POST":
        if not may or form is None:
            return _forbidden(request, P.DUTY_ASSIGN)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.assignment_create(
                    actor=user,
                    kind=data["kind"],
                    target_id=data["target_id"],
                    holder_id=data["holder"],
                    starts_on=data["starts_on"],
                    school_id=data["contact_school"],
                    note=data["note"],
                )
            except PermissionDenied:
                return _forbidden(request, P.DUTY_ASSIGN)
            except ValidationError as exc:
                _errors(request, exc)
            else:
                messages.success(request, _("The responsible person is named."))
                return redirect("duty:assignments")
    rows = _paginate(
        request,
        selectors.assignment_list(user=user, current_only=not history).select_related(
            "assigned_by"
        ),
    )
    return _page(
        request,
        "duty/assignments.html",
        {
            "title": _("Responsibility chain"),
            "active": "assignments",
            "rows": rows,
            "lines": [{"a": a, "target": _target_label(a)} for a in rows.object_list],
            "history": history,
            "form": form,
        },
    )


def _issuer(a: Assignment) -> str:
    """Return the assigning unit as a letter names it."""
    by: Any = a.assigned_by
    if by is None:
        return ""
    if by.school_id:
        return str(by.school.name)
    if by.area_id:
        area = by.area
        return f"{area.name}教育局" if area.level == "county" else f"{area.name}人民政府"
    return ""


def _letter_target(a: Assignment) -> str:
    if a.kind == Assignment.Kind.CLASS and a.school_class is not None:
        return f"{a.school.name if a.school else ''}{cn_class(a.school_class)}"
    if a.kind == Assignment.Kind.STUDENT and a.person is not None:
        return f"{a.person.name}（{a.school.name}）" if a.school else a.person.name
    if a.kind == Assignment.Kind.VILLAGE and a.village is not None:
        return f"{a.village.name}（联系学校：{a.school.name}）" if a.school else a.village.name
    return str(getattr(a.target, "name", ""))


def letter_of(a: Assignment) -> documents.Letter:
    return documents.Letter(
        kind=a.kind,
        issuer=_issuer(a),
        holder_name=str(a.holder),
        holder_post=CN_POSTS.get(getattr(a.holder, "role", ""), ""),
        target=_letter_target(a),
        starts_on=a.starts_on,
        signed_on=a.signed_on,
    )


@duty_view("GET", "POST")
def assignment_detail(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """Show one link of the chain with its history; reassign it or record the signed letter."""
    user: Any = request.user
    a = selectors.get_assignment(user=user, assignment_id=assignment_id)
    may = _may_manage(user, a)
    holders = selectors_ui.holder_choices(user=user) if may else []
    reassign_form = ReassignForm(holders=holders)
    sign_form = SignForm()
    if request.method == "POST":
        action = request.POST.get("action", "")
        if not may or action not in ("reassign", "sign"):
            return _forbidden(request, P.DUTY_ASSIGN)
        try:
            if action == "reassign":
                reassign_form = ReassignForm(request.POST, holders=holders)
                if reassign_form.is_valid():
                    data = reassign_form.cleaned_data
                    new = services.assignment_reassign(
                        actor=user,
                        assignment_id=a.pk,
                        holder_id=data["holder"],
                        on=data["on"],
                        note=data["note"],
                    )
                    messages.success(request, _("The assignment is handed over."))
                    return redirect("duty:assignment", assignment_id=new.pk)
            else:
                sign_form = SignForm(request.POST)
                if sign_form.is_valid():
                    services.assignment_sign(
                        actor=user,
                        assignment_id=a.pk,
                        signed_on=sign_form.cleaned_data["signed_on"],
                    )
                    messages.success(request, _("The signed date is recorded."))
                    return redirect("duty:assignment", assignment_id=a.pk)
        except PermissionDenied:
            return _forbidden(request, P.DUTY_ASSIGN)
        except ValidationError as exc:
            _errors(request, exc)
    field = services.TARGETS[a.kind][1]
    history = (
        selectors.assignment_list(user=user, current_only=False)
        .filter(kind=a.kind, **{f"{field}_id": getattr(a, f"{field}_id")})
        .select_related("assigned_by")
        .order_by("-starts_on", "-id")
    )
    return _page(
        request,
        "duty/assignment.html",
        {
            "title": _("Assignment: %(target)s") % {"target": _target_label(a)},
            "active": "assignments",
            "a": a,
            "target": _target_label(a),
            "history": history,
            "may": may and a.ends_on is None,
            "reassign_form": reassign_form,
            "sign_form": sign_form,
        },
    )


@duty_view("GET")
def assignment_letter(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """Download the letter of responsibility of one assignment (PDF)."""
    a = selectors.get_assignment(user=request.user, assignment_id=assignment_id)
    content = documents.letters_pdf([letter_of(a)])
    return _download(content, f"letter-{a.pk}.pdf", "application/pdf", inline=True)


@duty_view("GET")
def assignment_letters(request: HttpRequest) -> HttpResponse:
    """Download the letters of every current assignment the user may see, one per page."""
    rows = list(
        selectors.assignment_list(user=request.user).select_related(
            "assigned_by__area", "assigned_by__school"
        )
    )
    if not rows:
        messages.warning(request, _("There is no current assignment to print."))
        return redirect("duty:assignments")
    content = documents.letters_pdf([letter_of(a) for a in rows])
    return _download(content, "letters-of-responsibility.pdf", "application/pdf", inline=True)


# --------------------------------------------------------------------------- coverage


@duty_view("GET")
def coverage(request: HttpRequest) -> HttpResponse:
    """Show the share of poor students with a responsible person and of poor villages with a
    contact person, per school, township and in total, with the gaps."""
    return _page(
        request,
        "duty/coverage.html",
        {
            "title": _("Coverage of the responsibility chain"),
            "active": "coverage",
            "coverage": selectors.coverage(user=request.user),
        },
    )


# --------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class Period:
    kind: str  # "monthly" | "quarterly"
    year: int
    number: int  # month or quarter
    first: dt.date
    last: dt.date

    @property
    def param(self) -> str:
        return (
            f"{self.year}-{self.number:02d}"
            if self.kind == "monthly"
            else (f"{self.year}-{self.number}")
        )

    @property
    def label(self) -> str:
        if self.kind == "monthly":
            return _("%(year)d-%(month)02d") % {"year": self.year, "month": self.number}
        return _("%(year)d, quarter %(quarter)d") % {"year": self.year, "quarter": self.number}

    @property
    def cn_label(self) -> str:
        if self.kind == "monthly":
            return f"{self.year}年{self.number}月"
        return f"{self.year}年第{self.number}季度"


def parse_period(kind: str, value: str, today: dt.date) -> Period | None:
    """Return the period of ``2018-10`` (a month) or ``2018-4`` (a quarter); None if invalid.

    An empty value means the period today is in.
    """
    if not value:
        year, number = today.year, today.month if kind == "monthly" else (today.month + 2) // 3
    else:
        parts = value.split("-")
        if len(parts) != 2 or not all(p.isdigit() and len(p) <= 4 for p in parts):
            return None
        year, number = int(parts[0]), int(parts[1])
    top = 12 if kind == "monthly" else 4
    if not (2000 <= year <= 2100 and 1 <= number <= top):
        return None
    bounds = selectors.month_bounds if kind == "monthly" else selectors.quarter_bounds
    first, last = bounds(year, number)
    return Period(kind, year, number, first, last)


def _report_period(request: HttpRequest, kind: str) -> Period:
    param = "month" if kind == "monthly" else "quarter"
    today = timezone.localdate()
    period = parse_period(kind, request.GET.get(param, "").strip()[:10], today)
    if period is None:
        messages.error(
            request,
            _("Give the month as 2018-10.")
            if kind == "monthly"
            else _("Give the quarter as 2018-4."),
        )
        period = parse_period(kind, "", today)
        assert period is not None
    return period


def _tallies(user: Any, period: Period) -> list[selectors.Tally]:
    by = "school" if period.kind == "monthly" else "township"
    return selectors.period_report(user=user, first=period.first, last=period.last, by=by)


def _total(tallies: list[selectors.Tally]) -> selectors.Tally:
    total = selectors.Tally("total", _("Total"))
    for t in tallies:
        total.opened += t.opened
        total.closed += t.closed
        total.closed_in_time += t.closed_in_time
        total.open_at_end += t.open_at_end
        total.overdue_at_end += t.overdue_at_end
    return total


@duty_view("GET")
def report(request: HttpRequest, kind: str) -> HttpResponse:
    """Show the monthly report per school or the quarterly report per township."""
    period = _report_period(request, kind)
    tallies = _tallies(request.user, period)
    monthly = kind == "monthly"
    return _page(
        request,
        "duty/report.html",
        {
            "title": (
                _("Monthly dropout report, %(period)s")
                if monthly
                else _("Quarterly dropout report, %(period)s")
            )
            % {"period": period.label},
            "active": kind,
            "period": period,
            "param": "month" if monthly else "quarter",
            "unit": _("School") if monthly else _("Township"),
            "tallies": tallies,
            "total": _total(tallies),
            "export_url": reverse(f"duty:report-{kind}-xlsx"),
        },
    )


@duty_view("GET")
def report_export(request: HttpRequest, kind: str) -> HttpResponse:
    """Download the monthly or quarterly report (.xlsx)."""
    period = _report_period(request, kind)
    tallies = _tallies(request.user, period)
    total = _total(tallies)
    rows = [
        (t.label, t.opened, t.closed, t.closed_in_time, t.open_at_end, t.overdue_at_end)
        for t in tallies
    ]
    rows.append(
        (
            "合计",
            total.opened,
            total.closed,
            total.closed_in_time,
            total.open_at_end,
            total.overdue_at_end,
        )
    )
    if kind == "monthly":
        sheet = documents.Sheet(
            f"控辍保学月报（{period.cn_label}）", ("学校", *REPORT_HEADERS), rows
        )
    else:
        sheet = documents.Sheet(
            f"控辍保学季报（{period.cn_label}）", ("乡镇", *REPORT_HEADERS), rows
        )
    content = documents.workbook([sheet])
    return _download(content, f"dropout-{kind}-{period.param}.xlsx", XLSX)
