"""The back office's sidebar: every app's pages, each shown only to users who may use it.

Read by django-unfold (``UNFOLD["SIDEBAR"]["navigation"]`` names :func:`sidebar`). Pages are
named by URL name, so core imports no app; a page that a deployment leaves out is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from jingzhun.core import permissions as P
from jingzhun.core.permissions import user_can
from jingzhun.core.scoping import scope_of

Check = Callable[[Any], bool]


def _in_scope(user: Any) -> bool:
    return user_can(user, P.VIEW) and not scope_of(user).is_empty


def _can(capability: str) -> Check:
    return lambda user: _in_scope(user) and user_can(user, capability)


def _county(capability: str) -> Check:
    return lambda user: _can(capability)(user) and scope_of(user).level == "county"


def _places(user: Any) -> bool:
    """Users of a county or township (the registry and the quality tasks are theirs)."""
    return _in_scope(user) and scope_of(user).level in ("county", "township")


def _staff_levels(user: Any) -> bool:
    """Users of a county, township or school (the teacher roster is theirs, not a class's)."""
    return _in_scope(user) and scope_of(user).level in ("county", "township", "school")


def _staff(user: Any) -> bool:
    return bool(getattr(user, "is_staff", False)) and _in_scope(user)


# (group title, [(title, icon, URL name, who may see it)])
_GROUPS: list[tuple[Callable[[], str], list[tuple[Callable[[], str], str, str, Check]]]] = [
    (
        lambda: _("Overview"),
        [
            (lambda: _("Home"), "home", "home", _in_scope),
            (lambda: _("Find a child"), "person_search", "dashboard:children", _in_scope),
            (lambda: _("My poor students"), "smartphone", "mobile:home", _in_scope),
        ],
    ),
    (
        lambda: _("Command centre"),
        [
            (lambda: _("Coverages"), "donut_large", "centre:coverage", _in_scope),
            (lambda: _("Wall chart"), "view_timeline", "centre:wall-chart", _in_scope),
            (lambda: _("Task books"), "assignment", "centre:task-books", _places),
            (lambda: _("Map"), "map", "centre:map", _in_scope),
            (lambda: _("Early warning"), "crisis_alert", "centre:warning", _in_scope),
            (lambda: _("Policy what-if"), "science", "centre:what-if", _county(P.VIEW)),
            (lambda: _("Reports"), "summarize", "centre:reports", _in_scope),
        ],
    ),
    (
        lambda: _("Imports"),
        [
            (lambda: _("Imports"), "upload_file", "imports:list", _can(P.IMPORT_DATA)),
            (lambda: _("Set-aside rows"), "rule", "imports:set-aside", _can(P.IMPORT_DATA)),
            (lambda: _("Data quality tasks"), "fact_check", "imports:quality", _places),
        ],
    ),
    (
        lambda: _("Identification"),
        [
            (lambda: _("Identification runs"), "manage_search", "identification:runs", _in_scope),
            (
                lambda: _("Ledger of school-age children"),
                "list_alt",
                "identification:ledger-school-age",
                _in_scope,
            ),
            (
                lambda: _("Ledger of suspected dropouts"),
                "person_alert",
                "identification:ledger-suspected",
                _in_scope,
            ),
            (
                lambda: _("Ledger of confirmed dropouts"),
                "person_off",
                "identification:ledger-dropped",
                _in_scope,
            ),
            (lambda: _("Review queue"), "compare", "identification:candidates", _in_scope),
            (
                lambda: _("Identification coverage"),
                "donut_small",
                "identification:coverage",
                _in_scope,
            ),
        ],
    ),
    (
        lambda: _("Student aid"),
        [
            (lambda: _("Student aid"), "savings", "aid:overview", _in_scope),
            (lambda: _("Entitlements"), "receipt_long", "aid:entitlements", _in_scope),
            (lambda: _("Review"), "checklist", "aid:review", _in_scope),
            (lambda: _("Public notices"), "campaign", "aid:notices", _in_scope),
            (lambda: _("Payment batches"), "payments", "aid:batches", _county(P.PAY)),
            (lambda: _("Aid coverage"), "donut_large", "aid:coverage", _in_scope),
        ],
    ),
    (
        lambda: _("Dropout control"),
        [
            (lambda: _("Dropout case ledger"), "assignment_late", "duty:ledger", _in_scope),
            (lambda: _("Responsibility chain"), "account_tree", "duty:assignments", _in_scope),
            (
                lambda: _("Coverage of the responsibility chain"),
                "donut_small",
                "duty:coverage",
                _in_scope,
            ),
            (lambda: _("Monthly report"), "calendar_month", "duty:report-monthly", _in_scope),
            (lambda: _("Quarterly report"), "date_range", "duty:report-quarterly", _in_scope),
        ],
    ),
    (
        lambda: _("Teachers"),
        [
            (lambda: _("Teacher roster"), "badge", "teachers:roster", _staff_levels),
            (lambda: _("Staffing gaps"), "group_add", "teachers:staffing", _staff_levels),
            (lambda: _("Teacher training"), "school", "teachers:training", _staff_levels),
            (lambda: _("Teacher exchanges"), "swap_horiz", "teachers:exchanges", _staff_levels),
            (
                lambda: _("Titles and commendation"),
                "workspace_premium",
                "teachers:titles",
                _staff_levels,
            ),
            (lambda: _("Teacher coverage"), "donut_small", "teachers:coverage", _staff_levels),
            (
                lambda: _("Teacher living allowance"),
                "payments",
                "teachers:allowance",
                _staff_levels,
            ),
        ],
    ),
    (
        lambda: _("School conditions"),
        [
            (lambda: _("Task book"), "task_alt", "projects:task-book", _staff_levels),
            (lambda: _("Projects"), "construction", "projects:list", _staff_levels),
            (lambda: _("School conditions"), "domain", "projects:schools", _staff_levels),
            (lambda: _("Standard coverage"), "donut_small", "projects:coverage", _staff_levels),
            (lambda: _("High-school quotas"), "school", "projects:quotas", _staff_levels),
        ],
    ),
    (
        lambda: _("Fund ledger"),
        [
            (lambda: _("Programme balances"), "account_balance", "funds:home", _county(P.VIEW)),
            (lambda: _("Journal"), "receipt_long", "funds:journal", _county(P.VIEW)),
            (lambda: _("Trial balance"), "balance", "funds:trial-balance", _county(P.VIEW)),
            (
                lambda: _("Bank reconciliation"),
                "price_check",
                "funds:reconciliation",
                _county(P.VIEW),
            ),
            (lambda: _("Trace a payment"), "route", "funds:trace", _county(P.VIEW)),
            (lambda: _("Overpayments"), "undo", "funds:overpayments", _county(P.VIEW)),
            (lambda: _("Donations"), "volunteer_activism", "funds:donations", _county(P.VIEW)),
            (lambda: _("Project money"), "savings", "funds:project-money", _county(P.VIEW)),
        ],
    ),
    (
        lambda: _("Supervision"),
        [
            (lambda: _("Inspections"), "fact_check", "oversight:plans", _county(P.VIEW)),
            (
                lambda: _("Findings and rectifications"),
                "rule",
                "oversight:findings",
                _staff_levels,
            ),
            (
                lambda: _("Annual assessment"),
                "leaderboard",
                "oversight:assessment",
                _staff_levels,
            ),
            (lambda: _("Year-end audit"), "gavel", "oversight:audit", _county(P.VIEW)),
        ],
    ),
    (
        lambda: _("Administration"),
        [
            (
                lambda: _("Users"),
                "manage_accounts",
                "admin:accounts_user_changelist",
                _can(P.MANAGE_USERS),
            ),
            (
                lambda: _("County settings"),
                "tune",
                "admin:core_countyprofile_changelist",
                _county(P.MANAGE_USERS),
            ),
            (
                lambda: _("Audit log"),
                "history",
                "admin:core_auditevent_changelist",
                _can(P.VIEW_AUDIT),
            ),
            (lambda: _("All records"), "database", "admin:index", _staff),
        ],
    ),
]


def _link(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def sidebar(request: HttpRequest) -> list[dict[str, Any]]:
    """Return unfold's navigation groups for the requesting user (empty groups left out)."""
    user = getattr(request, "user", None)
    groups: list[dict[str, Any]] = []
    for title, entries in _GROUPS:
        items = []
        for label, icon, name, may in entries:
            link = _link(name)
            if link is None or not may(user):
                continue
            items.append({"title": label(), "icon": icon, "link": link})
        if items:
            groups.append(
                {"title": title(), "separator": True, "collapsible": True, "items": items}
            )
    # One entry is marked where the user is: the one whose link is the longest start of the
    # address (the roster at /teachers/ is not marked on /teachers/coverage/).
    path = getattr(request, "path", "")
    links = [item["link"] for group in groups for item in group["items"]]
    best = max((link for link in links if path.startswith(link)), key=len, default=None)
    for group in groups:
        for item in group["items"]:
            item["active"] = item["link"] == best
    return groups


def sidebar_links(request: HttpRequest) -> set[str]:
    """Return the links the sidebar offers the requesting user (for tests and checks)."""
    return {item["link"] for group in sidebar(request) for item in group["items"]}
