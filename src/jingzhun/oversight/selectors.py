"""Reads of the semiannual inspections, each limited to what the acting user may see.

Plans, visits and samples are the county's: a county user sees them, anyone else nothing.
Findings and rectifications are also seen by the township and the school they name. The poor
students of a school and their aid are read through the identification and aid apps'
selectors, as the acting user.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import F, Q, QuerySet

from jingzhun.accounts.models import User
from jingzhun.accounts.roles import Role
from jingzhun.aid import selectors as aid_selectors
from jingzhun.aid.models import Entitlement
from jingzhun.core import permissions as P
from jingzhun.core.scoping import get_object_for_user, scope_of, scope_queryset
from jingzhun.identification import selectors as ident_selectors
from jingzhun.identification.models import ChildStatus
from jingzhun.oversight.models import (
    Finding,
    Flag,
    InspectionPlan,
    Rectification,
    RectificationEntry,
    SampleCheck,
    Visit,
)
from jingzhun.registry.models import Area
from jingzhun.schools import selectors as school_selectors
from jingzhun.schools.models import School

STAFF_LEVELS = ("county", "township", "school")


# --------------------------------------------------------------------------- who may do what


def may_see_plans(user: Any) -> bool:
    """Plans, visits and samples: the county's users who may view."""
    return P.user_can(user, P.VIEW) and scope_of(user).level == "county"


def may_inspect(user: Any) -> bool:
    """Plan, visit, sample, record findings and close rectifications: inspectors at the county."""
    return P.user_can(user, P.INSPECT) and scope_of(user).level == "county"


def may_see_findings(user: Any) -> bool:
    """Findings and rectifications: users of a county, township or school who may view."""
    return P.user_can(user, P.VIEW) and scope_of(user).level in STAFF_LEVELS


def may_report_progress(user: Any) -> bool:
    """A rectification's progress: the township or school it names (casework or editing)."""
    return (P.user_can(user, P.CASEWORK) or P.user_can(user, P.EDIT_SCHOOLS)) and scope_of(
        user
    ).level in ("township", "school")


# --------------------------------------------------------------------------- plans and visits


def plan_list(*, user: Any) -> QuerySet[InspectionPlan]:
    return scope_queryset(InspectionPlan.objects.all(), user).order_by("-year", "-half", "-pk")


def get_plan(*, user: Any, plan_id: int) -> InspectionPlan:
    return get_object_for_user(InspectionPlan.objects.all(), user, pk=plan_id)


def visit_list(*, user: Any, plan: InspectionPlan) -> QuerySet[Visit]:
    return (
        scope_queryset(Visit.objects.filter(plan=plan), user)
        .select_related("school", "township")
        .order_by("planned_on", "township__code", "school__code", "pk")
    )


def get_visit(*, user: Any, visit_id: int) -> Visit:
    return get_object_for_user(
        Visit.objects.select_related("plan", "school", "township"), user, pk=visit_id
    )


def sample_list(*, user: Any, visit: Visit) -> QuerySet[SampleCheck]:
    return (
        scope_queryset(SampleCheck.objects.filter(visit=visit), user)
        .select_related("student", "checked_by")
        .order_by("position")
    )


def plan_samples(*, user: Any, plan: InspectionPlan) -> QuerySet[SampleCheck]:
    return (
        scope_queryset(SampleCheck.objects.filter(visit__plan=plan), user)
        .select_related("student", "visit__school")
        .order_by("visit__school__code", "position")
    )


def get_check(*, user: Any, check_id: int) -> SampleCheck:
    return get_object_for_user(
        SampleCheck.objects.select_related("visit__plan", "visit__school", "student"),
        user,
        pk=check_id,
    )


def school_choices(*, user: Any) -> QuerySet[School]:
    return school_selectors.school_list(user=user).select_related("township").order_by("code")


def township_choices(*, user: Any) -> QuerySet[Area]:
    scope = scope_of(user)
    if scope.level not in ("county", "township"):
        return Area.objects.none()
    return Area.objects.filter(level="township", code__startswith=scope.area_code).order_by("code")


# --------------------------------------------------------------------------- students and aid


def poor_student_ids(*, user: Any, school: School) -> list[int]:
    """Return the poor students enrolled at a school, as the latest confirmed identification
    run found them (the user's view of it)."""
    run = ident_selectors.latest_run(user=user)
    if run is None:
        return []
    rows = ident_selectors.status_list(user=user, run=run).filter(
        school=school,
        student__isnull=False,
        category=ChildStatus.Category.ENROLLED_IN_COUNTY,
    )
    return sorted({int(s) for s in rows.values_list("student_id", flat=True)})


def aid_approved(
    *, user: Any, student_ids: Iterable[int], school_year: int, semester: str
) -> dict[int, Decimal]:
    """Return the aid approved by the county for each student in a semester (yuan)."""
    ids = list(student_ids)
    totals: dict[int, Decimal] = {}
    rows = aid_selectors.entitlement_list(
        user=user, school_year=school_year, semester=semester
    ).filter(student_id__in=ids, review=Entitlement.Review.APPROVED)
    for student_id, amount in rows.values_list("student_id", "amount"):
        totals[student_id] = totals.get(student_id, Decimal("0.00")) + amount
    return totals


# --------------------------------------------------------------------------- findings


def finding_list(*, user: Any) -> QuerySet[Finding]:
    return scope_queryset(Finding.objects.all(), user).select_related(
        "plan", "visit", "school", "township", "student", "rectification__owner"
    )


def plan_findings(*, user: Any, plan: InspectionPlan) -> QuerySet[Finding]:
    return finding_list(user=user).filter(plan=plan).order_by("township__code", "-found_on", "pk")


def get_finding(*, user: Any, finding_id: int) -> Finding:
    return get_object_for_user(
        Finding.objects.select_related("plan", "visit", "school", "township", "student"),
        user,
        pk=finding_id,
    )


def rectification_list(*, user: Any) -> QuerySet[Rectification]:
    """Return the rectifications the user may see (the assessment's "findings rectified")."""
    return scope_queryset(Rectification.objects.all(), user).select_related(
        "finding__school", "finding__township", "finding__plan", "owner", "closed_by"
    )


def get_rectification(*, user: Any, rectification_id: int) -> Rectification:
    return get_object_for_user(
        Rectification.objects.select_related(
            "finding__plan",
            "finding__visit",
            "finding__school",
            "finding__township",
            "finding__student",
            "owner",
            "closed_by",
        ),
        user,
        pk=rectification_id,
    )


def entry_list(*, user: Any, rectification: Rectification) -> QuerySet[RectificationEntry]:
    return (
        scope_queryset(RectificationEntry.objects.filter(rectification=rectification), user)
        .select_related("written_by")
        .order_by("happened_on", "pk")
    )


def get_entry(*, user: Any, entry_id: int) -> RectificationEntry:
    return get_object_for_user(RectificationEntry.objects.all(), user, pk=entry_id)


def flag_q(flag: str, on: dt.date, prefix: str = "") -> Q:
    """Return the rows whose rectification has a flag on a date (see Rectification.flag)."""
    closed = Q(**{f"{prefix}closed_on__isnull": False, f"{prefix}closed_on__lte": on})
    in_time = Q(**{f"{prefix}closed_on__lte": F(f"{prefix}deadline")})
    if flag == Flag.RED:
        return closed & in_time
    if flag == Flag.LATE:
        return closed & ~in_time
    if flag == Flag.BLACK:
        return ~closed & Q(**{f"{prefix}deadline__lt": on})
    return ~closed & Q(**{f"{prefix}deadline__gte": on})


def owner_choices(*, user: Any, township_code: str = "") -> QuerySet[User]:
    """Return the users who may own rectifications: principals and township officers the
    acting user may see (optionally of one township)."""
    rows = scope_queryset(User.objects.all(), user).filter(
        is_active=True, role__in=(Role.PRINCIPAL, Role.TOWNSHIP_OFFICER)
    )
    if township_code:
        rows = rows.filter(Q(area__code=township_code) | Q(school__township__code=township_code))
    return rows.select_related("area", "school").order_by("role", "username")
