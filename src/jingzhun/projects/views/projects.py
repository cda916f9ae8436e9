"""The task book (II.2 targets with their progress) and the projects: a filtered, paged and
exportable list, one project's page with its budget, items and time nodes, closing a node,
and setting up a project (county editors)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from jingzhun.core import permissions as P
from jingzhun.core import xlsx
from jingzhun.core.audit import audit_record
from jingzhun.core.downloads import attachment as download
from jingzhun.core.errors import forbidden
from jingzhun.core.evidence import evidence_response
from jingzhun.core.listing import ListParams, paginate
from jingzhun.core.pages import date_asked
from jingzhun.core.scoping import scope_of
from jingzhun.funds import selectors as funds_selectors
from jingzhun.funds.services_projects import fund_project_for
from jingzhun.projects import selectors, services
from jingzhun.projects.forms import NodeCloseForm, ProjectForm
from jingzhun.projects.models import BudgetLine, Flag, Project
from jingzhun.projects.views.common import (
    form_errors,
    may_create,
    may_record,
    page,
    projects_view,
)
from jingzhun.schools.selectors import list_choices

CN_STATE = {"accepted": "已验收", "black": "有逾期节点（黑旗）", "open": "进行中"}
CN_SOURCE = {
    "central": "中央",
    "provincial": "省级",
    "municipal": "市级",
    "county": "县级",
    "donation": "社会捐赠",
    "other": "其他",
}
CN_KIND = {
    "kindergarten": "幼儿园",
    "renovation": "全面改薄",
    "informatization": "三通两平台",
    "special_education": "特殊教育资源教室",
    "care_centre": "留守儿童关爱中心",
    "teaching_point": "新建教学点",
    "nine_year": "九年一贯制学校",
}
LIST_HEADERS = (
    "序号",
    "项目名称",
    "类别",
    "乡镇",
    "学校",
    "村",
    "贫困村",
    "计划年度",
    "预算合计（元）",
    *(f"{v}（元）" for v in CN_SOURCE.values()),
    "状态",
)


def _measures() -> dict[str, str]:
    return {
        "projects_in_poor_villages": _("kindergartens in poor villages accepted"),
        "schools": _("schools renovated and accepted"),
        "budget_yuan": _("yuan of equipment accepted"),
        "yuan_per_student": _("yuan for special education against 6,000 per pupil"),
        "townships_with_poor_villages": _("townships with poor villages that have a care centre"),
    }


def _states() -> list[tuple[str, str]]:
    return [
        ("accepted", pgettext("project", "Accepted")),
        ("black", _("Overdue node (black flag)")),
        ("open", _("Open, in time")),
    ]


# --------------------------------------------------------------------------- the task book


@dataclass(frozen=True)
class TargetLine:
    """One target of the task book as the page shows it, with its flag."""

    progress: selectors.TargetProgress
    label: str
    flag: str  # Flag.RED met in time, Flag.BLACK unmet or met after its year, Flag.OPEN
    late: bool
    link: str
    done: str
    target: str


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


@projects_view("GET", "HEAD")
def task_book(request: HttpRequest) -> HttpResponse:
    """Show each II.2 target with its progress computed from accepted projects, per year:
    red when met in its year, black when its year is past and it was not met in it."""
    user: Any = request.user
    on = date_asked(request.GET)
    rows = selectors.task_book(user, on=on)
    met_in_year: dict[tuple[str, int | None], bool] = {}
    for year in sorted({r.year for r in rows if r.year is not None}):
        year_end = dt.date(year, 12, 31)
        if year_end < on:
            for r in selectors.task_book(user, on=year_end):
                if r.year == year:
                    met_in_year[(r.id, r.year)] = r.met
    measures = _measures()
    lines = []
    money = ("budget_yuan", "yuan_per_student")
    for r in rows:
        if r.target == 0:
            flag, late = "none", False  # e.g. no pupil at a special-education school that year
        elif r.year is None or dt.date(r.year, 12, 31) >= on:
            flag, late = (Flag.RED if r.met else Flag.OPEN), False
        elif met_in_year.get((r.id, r.year), False):
            flag, late = Flag.RED, False
        else:
            flag, late = Flag.BLACK, r.met
        query = f"kind={r.kind}&state=accepted&on={on.isoformat()}"
        if r.year is not None:
            query += f"&year={r.year}"
        lines.append(
            TargetLine(
                progress=r,
                label=measures.get(r.measure, r.measure),
                flag=flag,
                late=late,
                link=f"{reverse('projects:list')}?{query}",
                done=_money(r.done) if r.measure in money else f"{r.done:.0f}",
                target=_money(r.target) if r.measure in money else f"{r.target:.0f}",
            )
        )
    return page(
        request,
        "projects/task_book.html",
        {
            "title": _("Task book"),
            "active": "task-book",
            "on": on,
            "lines": lines,
        },
    )


# --------------------------------------------------------------------------- the list


@dataclass(frozen=True)
class Filters:
    lp: ListParams
    kind: str
    year: int | None
    state: str
    on: dt.date


def _filters(request: HttpRequest) -> Filters:
    lp = ListParams.read(request.GET, extra=("kind", "year", "state", "on"))
    kind = lp.extra.get("kind", "")
    year_text = lp.extra.get("year", "")
    state = lp.extra.get("state", "")
    return Filters(
        lp=lp,
        kind=kind if kind in Project.Kind.values else "",
        year=int(year_text) if year_text.isdigit() and 2000 <= int(year_text) <= 2100 else None,
        state=state if state in selectors.PROJECT_STATES else "",
        on=date_asked(request.GET),
    )


def filtered_projects(user: Any, f: Filters) -> QuerySet[Project]:
    """Return the projects the user may see, as the filters narrow them, with their state."""
    rows = f.lp.apply(
        selectors.project_list(user=user),
        township="township_code",
        school="school_id",
        names=("name",),
    )
    if f.kind:
        rows = rows.filter(kind=f.kind)
    if f.year is not None:
        rows = rows.filter(plan_year=f.year)
    if f.state:
        rows = rows.filter(selectors.project_state_q(f.state, f.on))
    return (
        selectors.with_state(rows, f.on)
        .select_related("school", "village")
        .order_by("-plan_year", "township_code", "name", "pk")
    )


def _state(p: Any) -> str:
    return "accepted" if p.accepted else ("black" if p.overdue else "open")


@projects_view("GET", "HEAD")
def project_list(request: HttpRequest) -> HttpResponse:
    """Show the projects (filtered, paged) with the totals of their budget by funding source."""
    user: Any = request.user
    f = _filters(request)
    rows = filtered_projects(user, f)
    listed = paginate(request.GET, rows)
    names = selectors.township_names(p.township_code for p in listed.object_list)
    states = dict(_states())
    sources = dict(BudgetLine.Source.choices)
    totals = [(sources.get(s, s), _money(v)) for s, v in selectors.budget_totals(rows)]
    grand = sum((v for _s, v in selectors.budget_totals(rows)), Decimal("0.00"))
    return page(
        request,
        "projects/list.html",
        {
            "title": _("Projects"),
            "active": "list",
            "f": f,
            "lp": f.lp,
            "choices": list_choices(user=user, params=f.lp, statuses=[]),
            "kinds": Project.Kind.choices,
            "states": _states(),
            "projects": listed,
            "lines": [
                {
                    "p": p,
                    "township": names.get(p.township_code, p.township_code),
                    "budget": _money(p.budget_total or Decimal("0.00")),
                    "state": _state(p),
                    "state_label": states[_state(p)],
                }
                for p in listed.object_list
            ],
            "listed_total": listed.paginator.count,
            "totals": totals,
            "grand_total": _money(grand),
            "filtered": f.lp.active or bool(f.kind or f.year or f.state),
            "may_create": may_create(user),
        },
    )


@projects_view("GET", "HEAD")
def project_list_export(request: HttpRequest) -> HttpResponse:
    """Download the projects as filtered on the page, with the budget by funding source."""
    user: Any = request.user
    f = _filters(request)
    rows: list[Any] = list(filtered_projects(user, f))
    by_source: dict[tuple[int, str], Decimal] = {}
    for line in BudgetLine.objects.filter(project__in=[p.pk for p in rows]).values_list(
        "project_id", "source", "amount"
    ):
        key = (line[0], line[1])
        by_source[key] = by_source.get(key, Decimal("0.00")) + line[2]
    names = selectors.township_names(p.township_code for p in rows)
    data = [
        [
            n,
            p.name,
            CN_KIND.get(p.kind, p.kind),
            names.get(p.township_code, p.township_code),
            p.school.name if p.school else "",
            p.village.name if p.village else "",
            "是" if p.in_poor_village else "否",
            p.plan_year,
            float(p.budget_total or 0),
            *(float(by_source.get((p.pk, s), 0)) for s in CN_SOURCE),
            CN_STATE[_state(p)],
        ]
        for n, p in enumerate(rows, 1)
    ]
    totals = [
        "合计",
        f"{len(rows)}个项目",
        "",
        "",
        "",
        "",
        "",
        "",
        float(sum((p.budget_total or Decimal(0) for p in rows), Decimal(0))),
        *(float(sum(v for (_pk, s2), v in by_source.items() if s2 == s)) for s in CN_SOURCE),
        "",
    ]
    sheet = xlsx.Sheet(f"项目清单（截至{f.on.isoformat()}）", LIST_HEADERS, [*data, totals])
    return download(xlsx.workbook([sheet]), f"projects-{f.on.isoformat()}.xlsx")


# --------------------------------------------------------------------------- one project


@projects_view("GET", "HEAD")
def project_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    """Show a project: its budget lines, the items it brings up to standard, its time nodes
    (due, closed, by whom, evidence, flag) and the surveys its acceptance wrote."""
    user: Any = request.user
    project = selectors.get_project(user=user, project_id=project_id)
    on = date_asked(request.GET)
    wording = {
        i.code: i.wording(get_language() or "en") for i in selectors.standard_items(user=user)
    }
    nodes = list(project.nodes.select_related("closed_by").order_by("position"))
    next_open = next((n for n in nodes if n.closed_on is None), None)
    flags = dict(Flag.choices)
    names = selectors.township_names([project.township_code])
    lines = list(project.budget_lines.order_by("id"))
    # The project's money on the fund ledger, for those who read the county's books.
    money = (
        fund_project_for(f"projects.project:{project.pk}", county_code=scope_of(user).county_code)
        if funds_selectors.may_read(user)
        else None
    )
    return page(
        request,
        "projects/detail.html",
        {
            "title": project.name,
            "active": "list",
            "project": project,
            "township": names.get(project.township_code, project.township_code),
            "budget": [
                {"line": b, "amount": _money(b.amount), "source": b.get_source_display()}
                for b in lines
            ],
            "budget_total": _money(sum((b.amount for b in lines), Decimal("0.00"))),
            "items": [(code, wording.get(code, code)) for code in project.items],
            "nodes": [
                {
                    "n": n,
                    "flag": n.flag(on),
                    "flag_label": flags[n.flag(on)],
                    "may_close": may_record(user) and next_open is not None and n == next_open,
                }
                for n in nodes
            ],
            "surveys": list(project.surveys.order_by("surveyed_on", "id")),
            "on": on,
            "money": money,
            "money_disbursed": _money(money.disbursed) if money else "",
            "money_budget": _money(money.budget) if money else "",
        },
    )


@projects_view("GET", "POST")
def node_close(request: HttpRequest, node_id: int) -> HttpResponse:
    """Close a project's time node with its evidence, through the service."""
    user: Any = request.user
    node = selectors.get_node(user=user, node_id=node_id)
    if not may_record(user):
        return forbidden(request, P.EDIT_SCHOOLS)
    posted = request.method == "POST"
    form = NodeCloseForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        values = form.cleaned_data
        try:
            closed = services.project_node_close(
                actor=user,
                node=node,
                closed_on=values["closed_on"],
                evidence_ref=values["evidence_ref"],
                note=values["note"],
                evidence=values["evidence"] or None,
            )
        except PermissionDenied:
            return forbidden(request, P.EDIT_SCHOOLS)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(node)s is closed: %(flag)s.")
                % {
                    "node": closed.get_kind_display(),
                    "flag": dict(Flag.choices)[closed.flag(closed.closed_on or node.due_on)],
                },
            )
            return redirect("projects:detail", project_id=node.project_id)
    return page(
        request,
        "projects/form.html",
        {
            "title": _("Close a time node"),
            "active": "list",
            "subtitle": f"{node.project.name} · {node.get_kind_display()} · "
            + _("due %(day)s") % {"day": node.due_on.isoformat()},
            "form": form,
            "form_id": "jz-node-form",
            "multipart": True,
            "back": reverse("projects:detail", kwargs={"project_id": node.project_id}),
        },
    )


@projects_view("GET")
def node_evidence(request: HttpRequest, node_id: int) -> FileResponse:
    """Stream a time node's photo or scan to a user who may see its project (no public URL)."""
    node = selectors.get_node(user=request.user, node_id=node_id)
    response = evidence_response(node.evidence)
    audit_record(
        actor=request.user,
        action="project_node.evidence_view",
        target=node,
        data={"project": node.project_id, "node": node.kind},
        request=request,
    )
    return response


@projects_view("GET", "POST")
def project_new(request: HttpRequest) -> HttpResponse:
    """Set up a project with its budget and the due dates of its time nodes (county editors)."""
    user: Any = request.user
    if not may_create(user):
        return forbidden(request, P.EDIT_SCHOOLS)
    lang = get_language() or "en"
    form = ProjectForm(
        request.POST if request.method == "POST" else None,
        schools=selectors.school_choices(user=user),
        villages=selectors.village_choices(user=user),
        items=[(i.code, i.wording(lang)) for i in selectors.standard_items(user=user)],
    )
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        school = (
            selectors.get_school(user=user, school_id=values["school"])
            if values.get("school")
            else None
        )
        village = (
            selectors.get_village(user=user, village_id=values["village"])
            if values.get("village")
            else None
        )
        try:
            project = services.project_create(
                actor=user,
                kind=values["kind"],
                name=values["name"],
                plan_year=values["plan_year"],
                school=school,
                village=village,
                items=values["items"],
                budget=[services.Budget(s, amount) for s, amount in form.budget()],
                nodes=form.nodes(),
                note=values["note"],
            )
        except PermissionDenied:
            return forbidden(request, P.EDIT_SCHOOLS)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("The project %(name)s is set up.") % {"name": project.name})
            return redirect("projects:detail", project_id=project.pk)
    return page(
        request,
        "projects/form.html",
        {
            "title": _("Set up a project"),
            "active": "list",
            "form": form,
            "form_id": "jz-project-form",
            "back": reverse("projects:list"),
        },
    )
