"""Duty pages of the responsibility chain: assignments, letters of responsibility, coverage,
the derivation from the data, bulk assignment (from lists and by Excel) and the
autocomplete endpoints that replace the big dropdowns.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.accounts.models import StaffMember
from jingzhun.core import permissions as P
from jingzhun.core.listing import ListParams, paginate
from jingzhun.duty import bulk, documents, selectors, selectors_ui, services
from jingzhun.duty.forms import (
    AssignmentCreateForm,
    BulkAssignForm,
    BulkUploadForm,
    ReassignForm,
    SignForm,
)
from jingzhun.duty.models import Assignment
from jingzhun.duty.views.common import (
    XLSX,
    _download,
    _errors,
    _forbidden,
    _page,
    duty_view,
)
from jingzhun.registry.models import Area
from jingzhun.schools.naming import class_of, class_of_zh
from jingzhun.schools.selectors import list_choices

# The posts of the directory as letters name them (official documents: Chinese constants).
CN_STAFF_POSTS = {
    "class_teacher": "班主任",
    "principal": "校长",
    "central_school_head": "中心学校校长",
    "township_officer": "乡镇教育专干",
    "village_cadre": "村干部",
    "county_officer": "县教育局工作人员",
    "other": "教师",
}
EXPORT_HEADERS = (
    "序号",
    "类型",
    "对象",
    "乡镇",
    "责任人",
    "岗位",
    "起始日期",
    "终止日期",
    "责任书签订日期",
    "来源",
)
SESSION_PLAN = "duty-bulk-plan"

# --------------------------------------------------------------------------- helpers


def _allowed_kinds(user: Any) -> list[tuple[str, Any]]:
    level = user.scope.level
    return [(k, label) for k, label in Assignment.Kind.choices if level in services.ASSIGNERS[k]]


def _target_label(a: Assignment) -> str:
    if a.kind == Assignment.Kind.CLASS and a.school_class is not None:
        school = a.school.name if a.school else ""
        return f"{school} {class_of(a.school_class)}".strip()
    if a.kind == Assignment.Kind.STUDENT and a.person is not None:
        return f"{a.person.name} · {a.school.name}" if a.school else a.person.name
    if a.kind == Assignment.Kind.VILLAGE and a.village is not None:
        return f"{a.village.name} · {a.school.name}" if a.school else a.village.name
    target = a.target
    return str(getattr(target, "name", "") or "—")


def _may_manage(user: Any, a: Assignment) -> bool:
    return selectors.may_assign(user) and user.scope.level in services.ASSIGNERS[a.kind]


def _json(data: Any) -> JsonResponse:
    response = JsonResponse({"results": data})
    response["Cache-Control"] = "private, no-store"
    return response


def assignment_params(request: HttpRequest) -> ListParams:
    return ListParams.read(
        request.GET,
        statuses=Assignment.Kind.values,
        reasons=("manual", "derived"),
        extra=("history",),
    )


def filtered_assignments(user: Any, lp: ListParams) -> QuerySet[Assignment]:
    """Return the assignments the page shows: the user's, filtered as the page says."""
    rows = selectors.assignment_list(user=user, current_only=lp.extra.get("history") != "1")
    rows = lp.apply(
        rows,
        township="area_code",
        school="school_id",
        klass="school_class_id",
        status="kind",
        names=("holder__name", "person__name", "village__name", "township__name", "school__name"),
    )
    if lp.reason:
        rows = rows.filter(derived=lp.reason == "derived")
    return rows.select_related("assigned_by", "holder__school")


# --------------------------------------------------------------------------- the chain


@duty_view("GET", "POST")
def assignments(request: HttpRequest) -> HttpResponse:
    """Show the chain the user may see (current, or with its history); name a new holder."""
    user: Any = request.user
    may = selectors.may_assign(user)
    form = None
    if may:
        form = AssignmentCreateForm(
            request.POST if request.method == "POST" else None,
            schools=selectors_ui.contact_schools(user=user),
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
    lp = assignment_params(request)
    rows = filtered_assignments(user, lp)
    page = paginate(request.GET, rows)
    return _page(
        request,
        "duty/assignments.html",
        {
            "title": _("Responsibility chain"),
            "active": "assignments",
            "rows": page,
            "lines": [{"a": a, "target": _target_label(a)} for a in page.object_list],
            "history": lp.extra.get("history") == "1",
            "lp": lp,
            "choices": list_choices(
                user=user,
                params=lp,
                statuses=[(k, str(label)) for k, label in Assignment.Kind.choices],
                reasons=[
                    ("manual", _("Named by a person")),
                    ("derived", _("Derived from the data")),
                ],
            ),
            "total": page.paginator.count,
            "form": form,
            "may_bulk": may,
            "kinds": _allowed_kinds(user) if may else [],
            "may_derive": _may_derive(user),
        },
    )


@duty_view("GET")
def assignments_export(request: HttpRequest) -> HttpResponse:
    """Download the assignments as filtered on the page, every page of them (.xlsx)."""
    user: Any = request.user
    lp = assignment_params(request)
    rows = filtered_assignments(user, lp)
    townships = selectors_ui.township_names(user=user)
    lines = [
        [
            n,
            bulk.KIND_ZH.get(a.kind, a.kind),
            _letter_target(a),
            townships.get(a.area_code[:9], ""),
            a.holder.name,
            CN_STAFF_POSTS.get(a.holder.post, ""),
            a.starts_on.isoformat(),
            a.ends_on.isoformat() if a.ends_on else "",
            a.signed_on.isoformat() if a.signed_on else "",
            "自动生成" if a.derived else "人工指定",
        ]
        for n, a in enumerate(rows.iterator(chunk_size=1000), start=1)
    ]
    content = documents.workbook([documents.Sheet("责任链", EXPORT_HEADERS, lines)])
    today = timezone.localdate()
    return _download(content, f"responsibility-chain-{today.isoformat()}.xlsx", XLSX)


def _issuer(a: Assignment) -> str:
    """Return the assigning unit as a letter names it."""
    by: Any = a.assigned_by
    if by is None or not (by.school_id or by.area_id):
        county = Area.objects.filter(code=a.area_code[:6]).first()
        return f"{county.name}教育局" if county else ""
    if by.school_id:
        return str(by.school.name)
    area = by.area
    return f"{area.name}教育局" if area.level == "county" else f"{area.name}人民政府"


def _letter_target(a: Assignment) -> str:
    if a.kind == Assignment.Kind.CLASS and a.school_class is not None:
        return f"{a.school.name if a.school else ''}{class_of_zh(a.school_class)}"
    if a.kind == Assignment.Kind.STUDENT and a.person is not None:
        return f"{a.person.name}（{a.school.name}）" if a.school else a.person.name
    if a.kind == Assignment.Kind.VILLAGE and a.village is not None:
        return f"{a.village.name}（联系学校：{a.school.name}）" if a.school else a.village.name
    return str(getattr(a.target, "name", ""))


def letter_of(a: Assignment) -> documents.Letter:
    holder: StaffMember = a.holder
    post = CN_STAFF_POSTS.get(holder.post, "")
    place = holder.school.name if holder.school_id and holder.school else ""
    return documents.Letter(
        kind=a.kind,
        issuer=_issuer(a),
        holder_name=holder.name,
        holder_post=f"{place}{post}",
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
    reassign_form = ReassignForm()
    sign_form = SignForm()
    if request.method == "POST":
        action = request.POST.get("action", "")
        if not may or action not in ("reassign", "sign"):
            return _forbidden(request, P.DUTY_ASSIGN)
        try:
            if action == "reassign":
                reassign_form = ReassignForm(request.POST)
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


LETTERS_MAX = 300  # letters in one PDF, so a download stays a few seconds


@duty_view("GET")
def assignment_letters(request: HttpRequest) -> HttpResponse:
    """Download the letters of the current assignments as filtered on the page, one a page."""
    lp = assignment_params(request)
    current = filtered_assignments(request.user, lp).filter(ends_on__isnull=True)
    back = f"{reverse('duty:assignments')}?{request.GET.urlencode()}"
    count = current.count()
    if not count:
        messages.warning(request, _("There is no current assignment to print."))
        return redirect(back)
    if count > LETTERS_MAX:
        # One file is printed at once; thousands of pages would only tie up the server.
        messages.warning(
            request,
            _(
                "%(count)s letters are too many for one file (at most %(max)s): filter the "
                "list by township, school or kind first."
            )
            % {"count": count, "max": LETTERS_MAX},
        )
        return redirect(back)
    rows = list(current.select_related("assigned_by__area", "assigned_by__school"))
    content = documents.letters_pdf([letter_of(a) for a in rows])
    return _download(content, "letters-of-responsibility.pdf", "application/pdf", inline=True)


# --------------------------------------------------------------------------- autocomplete


@duty_view("GET")
def people_search(request: HttpRequest) -> HttpResponse:
    """Return up to 20 people of the directory matching ?q= (name, post, place; no phone)."""
    return _json(selectors_ui.people_search(user=request.user, q=request.GET.get("q", "")))


@duty_view("GET")
def targets_search(request: HttpRequest) -> HttpResponse:
    """Return up to 20 targets of ?kind= matching ?q=."""
    return _json(
        selectors_ui.target_search(
            user=request.user, kind=request.GET.get("kind", ""), q=request.GET.get("q", "")
        )
    )


# --------------------------------------------------------------------------- bulk


@duty_view("POST")
def assign_bulk(request: HttpRequest) -> HttpResponse:
    """Name one person for the targets ticked on a list."""
    user: Any = request.user
    if not selectors.may_assign(user):
        return _forbidden(request, P.DUTY_ASSIGN)
    form = BulkAssignForm(request.POST)
    back = request.POST.get("next", "")
    if not back.startswith("/duty/"):
        back = reverse("duty:assignments")
    if not form.is_valid():
        messages.error(request, _("Tick at least one row and choose the responsible person."))
        return redirect(back)
    data = form.cleaned_data
    try:
        result = services.assignments_bulk(
            actor=user,
            rows=[(data["kind"], t, data["holder"]) for t in data["targets"]],
            source="list",
        )
    except PermissionDenied:
        return _forbidden(request, P.DUTY_ASSIGN)
    except ValidationError as exc:
        _errors(request, exc)
        return redirect(back)
    messages.success(
        request,
        _("Named: %(created)d new, %(reassigned)d handed over, %(unchanged)d unchanged.")
        % {
            "created": result.created,
            "reassigned": result.reassigned,
            "unchanged": result.unchanged,
        },
    )
    return redirect(back)


@duty_view("GET")
def bulk_template(request: HttpRequest) -> HttpResponse:
    """Download the template of targets to fill: the coverage page's gaps, as filtered."""
    user: Any = request.user
    if not selectors.may_assign(user):
        return _forbidden(request, P.DUTY_ASSIGN)
    lp = coverage_params(request)
    cov = selectors.coverage(user=user)
    students = _filter_gaps(cov.student_gaps, lp)
    targets: list[tuple[str, int, str]] = [
        (
            Assignment.Kind.STUDENT,
            s.student_id,
            f"{s.person.name}（{s.school.name if s.school else ''}"
            f"{class_of_zh(s.enrolment.school_class) if s.enrolment else ''}）",
        )
        for s in students
        if s.student_id is not None
    ]
    if not (lp.school_id or lp.class_id or lp.q):
        villages = cov.village_gaps
        if lp.township:
            villages = [v for v in villages if v.code.startswith(lp.township)]
        targets += [(Assignment.Kind.VILLAGE, v.pk, v.name) for v in villages]
    content = documents.workbook(
        [documents.Sheet(bulk.TEMPLATE_TITLE, bulk.HEADERS, bulk.template_rows(targets))]
    )
    return _download(content, "responsible-persons-template.xlsx", XLSX)


@duty_view("GET", "POST")
def bulk_upload(request: HttpRequest) -> HttpResponse:
    """Read a filled template and show the plan (nothing written); confirm writes it."""
    user: Any = request.user
    if not selectors.may_assign(user):
        return _forbidden(request, P.DUTY_ASSIGN)
    form = BulkUploadForm()
    plan = None
    if request.method == "POST" and request.POST.get("action") == "confirm":
        triples = request.session.pop(SESSION_PLAN, None)
        if not triples:
            messages.error(request, _("Nothing to confirm; upload the file again."))
            return redirect("duty:bulk-upload")
        try:
            result = services.assignments_bulk(
                actor=user, rows=[(k, int(t), int(h)) for k, t, h in triples], source="excel"
            )
        except PermissionDenied:
            return _forbidden(request, P.DUTY_ASSIGN)
        except ValidationError as exc:
            _errors(request, exc)
            return redirect("duty:bulk-upload")
        messages.success(
            request,
            _("Named: %(created)d new, %(reassigned)d handed over, %(unchanged)d unchanged.")
            % {
                "created": result.created,
                "reassigned": result.reassigned,
                "unchanged": result.unchanged,
            },
        )
        return redirect("duty:assignments")
    if request.method == "POST":
        form = BulkUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "upload.xlsx"
                with open(path, "wb") as out:
                    for chunk in upload.chunks():
                        out.write(chunk)
                plan = bulk.read_plan(user=user, path=path)
            request.session[SESSION_PLAN] = plan.as_triples() if not plan.errors else []
    return _page(
        request,
        "duty/bulk_upload.html",
        {
            "title": _("Responsible persons by Excel"),
            "active": "assignments",
            "form": form,
            "plan": plan,
            "plan_lines": [
                {"r": r, "kind": dict(Assignment.Kind.choices).get(r.kind, r.kind)}
                for r in (plan.rows[:200] if plan else [])
            ],
        },
    )


# --------------------------------------------------------------------------- derivation


def _may_derive(user: Any) -> bool:
    return bool(selectors.may_assign(user) and user.scope.level == "county")


@duty_view("GET", "POST")
def chain_derive(request: HttpRequest) -> HttpResponse:
    """Preview what the derivation from the data would do; derive on confirmation."""
    user: Any = request.user
    if not _may_derive(user):
        return _forbidden(request, P.DUTY_ASSIGN)
    county = user.scope.county_code
    if request.method == "POST":
        result = services.chain_derive(actor=user, county_code=county)
        messages.success(
            request,
            _(
                "The chain is derived: %(created)d links created, %(replaced)d handed to a new "
                "person, %(cases)d cases given a responsible person; %(gaps)d targets have no "
                "one to name."
            )
            % {
                "created": result.total_created,
                "replaced": result.total_replaced,
                "cases": result.cases_assigned,
                "gaps": result.total_gaps,
            },
        )
        return redirect("duty:coverage")
    result = services.chain_derive(actor=user, county_code=county, preview=True)
    lines = [
        {
            "label": label,
            "created": result.created[kind],
            "replaced": result.replaced[kind],
            "unchanged": result.unchanged[kind],
            "manual": result.manual[kind],
            "gaps": result.gaps[kind],
        }
        for kind, label in Assignment.Kind.choices
    ]
    return _page(
        request,
        "duty/derive.html",
        {
            "title": _("Derive the chain from the data"),
            "active": "assignments",
            "result": result,
            "lines": lines,
        },
    )


# --------------------------------------------------------------------------- coverage


def coverage_params(request: HttpRequest) -> ListParams:
    return ListParams.read(request.GET)


def _filter_gaps(gaps: list[Any], lp: ListParams) -> list[Any]:
    out = gaps
    if lp.township:
        out = [s for s in out if s.village_code.startswith(lp.township)]
    if lp.school_id:
        out = [s for s in out if s.school_id == lp.school_id]
    if lp.class_id:
        out = [s for s in out if s.enrolment and s.enrolment.school_class_id == lp.class_id]
    if lp.q:
        out = [s for s in out if lp.q in s.person.name]
    return out


def _filter_gap_rows(gaps: list[selectors_ui.GapRow], lp: ListParams) -> list[selectors_ui.GapRow]:
    out = gaps
    if lp.township:
        out = [s for s in out if s.village_code.startswith(lp.township)]
    if lp.school_id:
        out = [s for s in out if s.school_id == lp.school_id]
    if lp.class_id:
        out = [s for s in out if s.class_id == lp.class_id]
    if lp.q:
        out = [s for s in out if lp.q in s.name]
    return out


@duty_view("GET")
def coverage(request: HttpRequest) -> HttpResponse:
    """Show the share of poor students with a responsible person and of poor villages with a
    contact person, per township and school, with the gaps (paged and filtered)."""
    user: Any = request.user
    lp = coverage_params(request)
    cov = selectors_ui.chain_coverage(user=user)
    gaps = _filter_gap_rows(cov.student_gaps, lp)
    schools = cov.by_school
    if lp.township:
        schools = [r for r in schools if r.township.startswith(lp.township)]
    villages = cov.village_gaps
    if lp.township:
        villages = [v for v in villages if v.code.startswith(lp.township)]
    gap_page = paginate(request.GET, gaps)
    return _page(
        request,
        "duty/coverage.html",
        {
            "title": _("Coverage of the responsibility chain"),
            "active": "coverage",
            "coverage": cov,
            "lp": lp,
            "choices": list_choices(user=user, params=lp),
            "total": len(gaps),
            "gaps": gap_page,
            "gap_lines": [{"s": s, "class": s.class_label} for s in gap_page.object_list],
            "schools_page": paginate(request.GET, schools, param="spage"),
            "villages": paginate(request.GET, villages, param="vpage"),
            "links": cov.links,
            "may_bulk": selectors.may_assign(user),
            "may_derive": _may_derive(user),
        },
    )
