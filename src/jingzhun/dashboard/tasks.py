"""Every task the platform knows, read set-wise for the wall chart (挂图作战, III.1).

A task is a dropout case, a project's time node, an inspection's rectification or a target
line of the task book, each with its owner, due date, done date, status and flag. The flags
are the ones the apps compute on their own pages, so the wall chart agrees with them:

* ``open``: not done, and its due date has not passed;
* ``black`` (overdue): not done and past its due date;
* ``red`` (done in time): done on or before its due date;
* ``late`` (done late): done after its due date. This is the projects' and inspections'
  convention (their nodes and rectifications say "done late"); the duty ledger's grey flag
  of a case closed late is the same thing.

A dropout case's due date is the ledger's: the last day before the case becomes overdue
(its next step, or its return deadline). A task-book target is due at the end of its plan
year; it is done in time when its progress met the target by then, late when it met it only
afterwards (target lines have no done date of their own). Target lines are the county's:
only a county user sees them on the wall chart; a township or school reads its part in its
task book.

Each source is read in one query (two for the targets' progress per plan year), never one
per task, and always through the acting user's scope.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from jingzhun.core.cache import cached
from jingzhun.core.listing import ListParams
from jingzhun.core.scoping import scope_of, scope_queryset
from jingzhun.duty import selectors as duty_selectors
from jingzhun.duty import selectors_ui as duty_ui
from jingzhun.oversight import selectors as oversight_selectors
from jingzhun.projects import selectors as project_selectors
from jingzhun.projects.models import Project, ProjectNode
from jingzhun.registry.models import Area

# Kinds of task, in the wall chart's order.
CASE = "case"
NODE = "node"
RECTIFICATION = "rectification"
TARGET = "target"
KINDS = (CASE, NODE, RECTIFICATION, TARGET)
KIND_LABELS = {
    CASE: gettext_lazy("Dropout case"),
    NODE: gettext_lazy("Project time node"),
    RECTIFICATION: gettext_lazy("Rectification"),
    TARGET: gettext_lazy("Task-book target"),
}

OPEN = "open"
BLACK = "black"
RED = "red"
LATE = "late"
FLAGS = (OPEN, BLACK, RED, LATE)
FLAG_LABELS = {
    OPEN: pgettext_lazy("status", "Open"),
    BLACK: gettext_lazy("Overdue (black flag)"),
    RED: gettext_lazy("Done in time (red flag)"),
    LATE: gettext_lazy("Done late"),
}
# The duty ledger's flags, in the wall chart's words.
_CASE_FLAGS = {"": OPEN, "black": BLACK, "red": RED, "grey": LATE}

# The longest range the wall chart draws (months).
MAX_MONTHS = 36


@dataclass(frozen=True)
class Task:
    """One task on the wall chart."""

    kind: str
    title: str
    township_code: str
    township: str
    school_id: int | None
    school: str
    owner: str
    start: dt.date | None
    due: dt.date
    done: dt.date | None
    status: str
    flag: str
    url: str
    # What makes the task the same task in a task book (no ID ever shown): kind and record.
    key: str = ""

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS[self.kind])

    @property
    def flag_label(self) -> str:
        return str(FLAG_LABELS[self.flag])

    @property
    def is_done(self) -> bool:
        return self.done is not None or self.flag in (RED, LATE)

    def span(self, today: dt.date) -> tuple[dt.date, dt.date]:
        """Return the first and last day the task occupies on the chart."""
        first = min(self.start or self.due, self.due)
        last = self.done or (max(today, self.due) if self.flag == BLACK else self.due)
        return first, max(first, last, self.due)


@dataclass(frozen=True)
class TaskFilters:
    """The wall chart's filters (all optional)."""

    township: str = ""
    school_id: int | None = None
    owner: str = ""
    kind: str = ""
    flag: str = ""
    state: str = ""  # "open" (not done) or "done"

    @property
    def active(self) -> bool:
        return bool(
            self.township or self.school_id or self.owner or self.kind or self.flag or self.state
        )


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, n: int) -> dt.date:
    """Return the first day of the month n months after day's month."""
    index = day.year * 12 + day.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(day: dt.date) -> dt.date:
    return add_months(day, 1) - dt.timedelta(days=1)


def months_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """Return the first days of the months from start's month to end's month, inclusive."""
    out: list[dt.date] = []
    month = month_start(start)
    while month <= end and len(out) < MAX_MONTHS:
        out.append(month)
        month = add_months(month, 1)
    return out


def school_year_range(year: int) -> tuple[dt.date, dt.date]:
    """Return 1 September of year and 31 August of the next year."""
    return dt.date(year, 9, 1), dt.date(year + 1, 8, 31)


def _overlaps(task: Task, start: dt.date, end: dt.date, today: dt.date) -> bool:
    first, last = task.span(today)
    return first <= end and last >= start


def _township_names(codes: Iterable[str]) -> dict[str, str]:
    wanted = {c[:9] for c in codes if c}
    if not wanted:
        return {}
    return dict(
        Area.objects.filter(level=Area.Level.TOWNSHIP, code__in=wanted).values_list("code", "name")
    )


def office_of(township: str) -> str:
    """Return the owner named for a township's own work: its education office."""
    return _("%(township)s education office") % {"township": township} if township else ""


# --------------------------------------------------------------------------- the sources


def _cases(user: object, f: TaskFilters, today: dt.date) -> list[Task]:
    params = ListParams(township=f.township, school_id=f.school_id)
    rows = duty_selectors.ledger(user=user, today=today, include_closed=True, params=params)
    names = _township_names(r.case.village_code for r in rows)
    out = []
    for r in rows:
        c = r.case
        code = c.village_code[:9]
        owner = duty_ui.person_name(c.assignee) or duty_ui.person_name(c.supervisor)
        township = names.get(code, "")
        out.append(
            Task(
                kind=CASE,
                title=_("Dropout case of %(child)s") % {"child": c.person.name},
                township_code=code,
                township=township,
                school_id=c.school_id,
                school=c.school.name if c.school else "",
                owner=owner or office_of(township),
                start=c.opened_on,
                due=r.due,
                done=c.closed_on,
                status=c.get_status_display(),
                flag=_CASE_FLAGS.get(r.flag, OPEN),
                url=reverse("duty:case", args=[c.pk]),
                key=f"case:{c.pk}",
            )
        )
    return out


def _nodes(user: object, f: TaskFilters, today: dt.date) -> list[Task]:
    if scope_of(user).level not in project_selectors.STAFF_LEVELS:
        return []
    rows = scope_queryset(ProjectNode.objects.all(), user).select_related(
        "project__school", "project__village"
    )
    if f.township:
        rows = rows.filter(project__township_code__startswith=f.township)
    if f.school_id:
        rows = rows.filter(project__school_id=f.school_id)
    rows = rows.order_by("due_on", "project_id", "position")
    nodes = list(rows)
    names = _township_names(n.project.township_code for n in nodes)
    # The node before each one (same project) starts it: work on a node begins when the one
    # before is due. The first node starts when the project's plan year does.
    previous: dict[tuple[int, int], dt.date] = {(n.project_id, n.position): n.due_on for n in nodes}
    out = []
    for n in nodes:
        p = n.project
        township = names.get(p.township_code[:9], "")
        start = previous.get((n.project_id, n.position - 1)) or min(
            dt.date(p.plan_year, 1, 1), n.due_on
        )
        closed = n.closed_on if n.closed_by_date(today) else None
        out.append(
            Task(
                kind=NODE,
                title=f"{p.name}: {n.get_kind_display()}",
                township_code=p.township_code[:9],
                township=township,
                school_id=p.school_id,
                school=p.school.name if p.school else "",
                owner=p.school.name if p.school else office_of(township),
                start=start,
                due=n.due_on,
                done=closed,
                status=_("Closed") if closed else pgettext("status", "Open"),
                flag=n.flag(today),
                url=reverse("projects:detail", args=[p.pk]),
                key=f"node:{n.pk}",
            )
        )
    return out


def _rectifications(user: object, f: TaskFilters, today: dt.date) -> list[Task]:
    if not oversight_selectors.may_see_findings(user):
        return []
    rows = oversight_selectors.rectification_list(user=user)
    if f.township:
        rows = rows.filter(finding__township__code__startswith=f.township)
    if f.school_id:
        rows = rows.filter(finding__school_id=f.school_id)
    out = []
    for r in rows.order_by("deadline", "pk"):
        x = r.finding
        closed = r.closed_on if r.closed_on is not None and r.closed_on <= today else None
        owner = duty_ui.person_name(r.owner) or (r.owner.get_username() if r.owner else "")
        out.append(
            Task(
                kind=RECTIFICATION,
                title=_("Rectification: %(finding)s") % {"finding": x.text[:80]},
                township_code=x.township.code,
                township=x.township.name,
                school_id=x.school_id,
                school=x.school.name if x.school else "",
                owner=owner or (x.school.name if x.school else office_of(x.township.name)),
                start=x.found_on,
                due=r.deadline,
                done=closed,
                status=r.get_status_display(),
                flag=r.flag(today),
                url=reverse("oversight:rectification", args=[r.pk]),
                key=f"rectification:{r.pk}",
            )
        )
    return out


def target_title(clause: str, measure: str, kind: str, year: int | None, target: Decimal) -> str:
    """Return a task-book target in words, e.g. "Renovation (II.2.3): 18 schools (2016)"."""
    figure = (
        f"{target:,.2f}" if measure in ("budget_yuan", "yuan_per_student") else f"{target:,.0f}"
    )
    unit = {
        "projects_in_poor_villages": _("projects in poor villages"),
        "schools": _("schools"),
        "budget_yuan": _("yuan"),
        "yuan_per_student": _("yuan"),
        "townships_with_poor_villages": _("townships with poor villages"),
    }.get(measure, "")
    label = project_kind_label(kind)
    if year:
        return _("%(kind)s: %(figure)s %(unit)s (%(year)s)") % {
            "kind": label,
            "figure": figure,
            "unit": unit,
            "year": year,
        }
    return _("%(kind)s: target %(figure)s %(unit)s") % {
        "kind": label,
        "figure": figure,
        "unit": unit,
    }


def project_kind_label(kind: str) -> str:
    return str(dict(Project.Kind.choices).get(kind, kind))


def _targets(user: object, f: TaskFilters, today: dt.date) -> list[Task]:
    """Return the task book's targets that have a plan year (county users only)."""
    if scope_of(user).level != "county" or f.township or f.school_id:
        return []
    # The target lines read the task book's progress year by year: kept per data change.
    return cached(
        "dashboard.targets", user=user, parts=(today,), compute=lambda: _target_lines(user, today)
    )


def _target_lines(user: object, today: dt.date) -> list[Task]:
    now = project_selectors.task_book(user, on=today)
    years = sorted({t.year for t in now if t.year})
    by_due = {
        y: {(t.id, t.year): t for t in project_selectors.task_book(user, on=dt.date(y, 12, 31))}
        for y in years
        if dt.date(y, 12, 31) < today
    }
    out = []
    for t in now:
        if not t.year:
            continue
        due = dt.date(t.year, 12, 31)
        then = by_due.get(t.year, {}).get((t.id, t.year))
        if then is not None and then.met:
            flag = RED
        elif t.met:
            flag = LATE if due < today else RED
        else:
            flag = BLACK if due < today else OPEN
        out.append(
            Task(
                kind=TARGET,
                title=target_title(t.clause, t.measure, t.kind, t.year, t.target),
                township_code="",
                township="",
                school_id=None,
                school="",
                owner=_("County education bureau"),
                start=dt.date(t.year, 1, 1),
                due=due,
                done=None,
                status=_("Met (%(done)s)") % {"done": f"{t.done:,.0f}"}
                if t.met
                else _("Not met (%(done)s)") % {"done": f"{t.done:,.0f}"},
                flag=flag,
                url=reverse("projects:task-book"),
                key=f"target:{t.id}:{t.year}",
            )
        )
    return out


@dataclass
class TaskList:
    """The tasks of a range, and what the filter bar offers."""

    tasks: list[Task]
    owners: list[str] = field(default_factory=list)


def tasks_for(
    user: object,
    *,
    start: dt.date,
    end: dt.date,
    filters: TaskFilters | None = None,
    today: dt.date,
) -> TaskList:
    """Return the user's tasks that occupy some day from start to end, in the chart's order
    (due date, kind, title), narrowed by the filters; owners are those before the owner
    filter (for its choices)."""
    f = filters or TaskFilters()
    if scope_of(user).is_empty:
        return TaskList([])
    sources = {
        CASE: _cases,
        NODE: _nodes,
        RECTIFICATION: _rectifications,
        TARGET: _targets,
    }
    tasks: list[Task] = []
    for kind, read in sources.items():
        if f.kind and f.kind != kind:
            continue
        tasks.extend(read(user, f, today))
    tasks = [t for t in tasks if _overlaps(t, start, end, today)]
    if f.flag:
        tasks = [t for t in tasks if t.flag == f.flag]
    if f.state == "open":
        tasks = [t for t in tasks if not t.is_done]
    elif f.state == "done":
        tasks = [t for t in tasks if t.is_done]
    owners = sorted({t.owner for t in tasks if t.owner})
    if f.owner:
        tasks = [t for t in tasks if t.owner == f.owner]
    tasks.sort(key=lambda t: (t.due, KINDS.index(t.kind), t.township_code, t.title, t.key))
    return TaskList(tasks, owners)
