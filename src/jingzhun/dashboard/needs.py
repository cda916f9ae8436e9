"""What needs me: the top of every role's home page.

Four sections, all within the user's jurisdiction:

* overdue: tasks of the wall chart open past their due date (black flag);
* due this week: open tasks due from today to six days on;
* the newest changes: what the latest confirmed identification run found changed, by kind;
* waiting for me: the reviews and approvals the user's capabilities let them do, each with
  its count and the page where it is done (only those with something waiting).

Everything is plain data (no model instance), computed once per change of the data, scope,
role, language and day (jingzhun.core.cache), so the home page stays fast.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from jingzhun.aid import selectors as aid_selectors
from jingzhun.aid.models import Entitlement
from jingzhun.core import permissions as P
from jingzhun.core.cache import cached
from jingzhun.core.scoping import scope_of
from jingzhun.core.working_year import working_semester
from jingzhun.dashboard import tasks as T
from jingzhun.duty import selectors as duty_selectors
from jingzhun.duty.models import DropoutCase
from jingzhun.funds.models import PaymentBatch
from jingzhun.identification import selectors as ident_selectors
from jingzhun.oversight import selectors as oversight_selectors
from jingzhun.oversight.models import Rectification, RectificationEntry
from jingzhun.projects import selectors as project_selectors
from jingzhun.teachers import selectors as teacher_selectors
from jingzhun.teachers.models import AllowanceLine

# Most items a section lists on the home page (its count and link give the rest).
SHOWN = 8
WEEK = 6  # due this week: today and the six days after


@dataclass(frozen=True)
class Item:
    label: str
    count: int
    url: str


@dataclass
class Needs:
    overdue: list[T.Task] = field(default_factory=list)
    overdue_count: int = 0
    overdue_url: str = ""
    due_week: list[T.Task] = field(default_factory=list)
    due_week_count: int = 0
    due_week_url: str = ""
    run_label: str = ""
    run_url: str = ""
    changes: list[Item] = field(default_factory=list)
    waiting: list[Item] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.overdue_count or self.due_week_count or self.changes or self.waiting)


def _chart_url(**query: str) -> str:
    return f"{reverse('centre:wall-chart')}?{urlencode(query)}"


def _changes(user: Any, needs: Needs) -> None:
    run = ident_selectors.latest_run(user=user)
    if run is None:
        return
    url = reverse("identification:run", args=[run.pk])
    needs.run_label = _("Run as of %(day)s") % {"day": f"{run.as_of:%Y-%m-%d}"}
    needs.run_url = url
    needs.changes = [
        Item(str(t.label), t.n, url) for t in ident_selectors.change_counts(user=user, run=run)
    ]


def _waiting(user: Any, today: dt.date) -> list[Item]:
    """Return the queues waiting for this user's role, with something in them."""
    scope = scope_of(user)
    out: list[Item] = []

    def add(label: str, count: int, url: str) -> None:
        if count:
            out.append(Item(label, count, url))

    if ident_selectors.may_review(user):
        add(
            _("Identification candidates to review"),
            ident_selectors.candidate_list(user=user).count(),
            reverse("identification:candidates"),
        )
    semester = working_semester(scope.county_code, today=today)
    year, kind = semester.school_year.start, str(semester.kind)
    review_url = reverse("aid:review")
    if aid_selectors.may_class_check(user) and scope.level == "class":
        add(
            _("Aid entitlements awaiting the class review"),
            aid_selectors.entitlement_list(
                user=user, school_year=year, semester=kind, review=Entitlement.Review.PENDING
            ).count(),
            review_url,
        )
    if aid_selectors.may_school_review(user) and scope.level == "school":
        add(
            _("Aid entitlements checked by classes, awaiting the school"),
            aid_selectors.entitlement_list(
                user=user, school_year=year, semester=kind, review=Entitlement.Review.CLASS_CHECKED
            ).count(),
            review_url,
        )
    if aid_selectors.may_manage(user):
        add(
            _("Aid entitlements on public notice, awaiting the county's approval"),
            aid_selectors.entitlement_list(
                user=user, school_year=year, semester=kind, review=Entitlement.Review.NOTICED
            ).count(),
            review_url,
        )
    if aid_selectors.may_pay(user):
        add(
            _("Payment batches awaiting approval"),
            aid_selectors.batch_list(user=user).filter(status=PaymentBatch.Status.DRAFT).count(),
            reverse("aid:batches"),
        )
    month = teacher_selectors.allowance_month(today)
    allowance_url = f"{reverse('teachers:allowance')}?{urlencode({'month': f'{month:%Y-%m}'})}"
    if P.user_can(user, P.AID_SCHOOL_REVIEW) and scope.level == "school":
        add(
            _("Teacher allowance lines to review"),
            teacher_selectors.allowance_lines(user=user, month=month)
            .filter(review=AllowanceLine.Review.PENDING)
            .count(),
            allowance_url,
        )
    if aid_selectors.may_manage(user) and aid_selectors.may_pay(user):
        add(
            _("Teacher allowance lines reviewed, awaiting approval"),
            teacher_selectors.allowance_lines(user=user, month=month)
            .filter(review=AllowanceLine.Review.REVIEWED)
            .count(),
            allowance_url,
        )
    if duty_selectors.may_verify(user):
        add(
            _("Dropout cases with an outcome, awaiting verification"),
            duty_selectors.case_list(user=user, status=DropoutCase.Status.RESOLVED).count(),
            f"{reverse('duty:ledger')}?status={DropoutCase.Status.RESOLVED}",
        )
    if oversight_selectors.may_inspect(user):
        add(
            _("Rectifications with progress reported, awaiting verification"),
            oversight_selectors.rectification_list(user=user)
            .filter(
                status=Rectification.Status.OPEN,
                entries__kind=RectificationEntry.Kind.PROGRESS,
            )
            .distinct()
            .count(),
            f"{reverse('oversight:findings')}?status={Rectification.Status.OPEN}",
        )
    if P.user_can(user, P.EDIT_SCHOOLS) and scope.level in project_selectors.STAFF_LEVELS:
        due = today + dt.timedelta(days=WEEK)
        nodes = project_selectors.project_nodes(user=user, on=today)
        add(
            _("Project time nodes due, to close with their evidence"),
            sum(1 for n in nodes if n.closed_on is None and n.due_on <= due),
            reverse("projects:list"),
        )
    return out


def _compute(user: Any, today: dt.date) -> Needs:
    needs = Needs()
    if scope_of(user).is_empty or not P.user_can(user, P.VIEW):
        return needs
    week_end = today + dt.timedelta(days=WEEK)
    found = T.tasks_for(
        user, start=dt.date(2000, 1, 1), end=week_end, today=today, filters=T.TaskFilters()
    ).tasks
    overdue = [t for t in found if t.flag == T.BLACK]
    overdue.sort(key=lambda t: (t.due, t.title), reverse=True)
    due = [t for t in found if t.flag == T.OPEN and today <= t.due <= week_end]
    needs.overdue, needs.overdue_count = overdue[:SHOWN], len(overdue)
    needs.due_week, needs.due_week_count = due[:SHOWN], len(due)
    needs.overdue_url = _chart_url(flag=T.BLACK, **{"from": "2000-01"})
    needs.due_week_url = _chart_url(
        state="open", **{"from": f"{today:%Y-%m}", "to": f"{week_end:%Y-%m}"}
    )
    _changes(user, needs)
    needs.waiting = _waiting(user, today)
    return needs


def needs_me(user: Any, today: dt.date) -> Needs:
    """Return what needs the user, computed once per change of the data (see module doc)."""
    return cached(
        "needs-me",
        user=user,
        parts=(getattr(user, "role", ""), today.isoformat()),
        compute=lambda: _compute(user, today),
    )
