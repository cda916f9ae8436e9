"""Reads of projects' money (III.2), for the acting user: county users with VIEW only, as for
the rest of the books (:func:`jingzhun.funds.selectors.county_of`); and the year-end audit's
check that no project was paid beyond its budget."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    DecimalField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from jingzhun.core.scoping import get_object_for_user, scope_queryset
from jingzhun.funds import ledger
from jingzhun.funds.models import (
    Account,
    Disbursement,
    Evaluation,
    FundProject,
    JournalEntry,
    JournalLine,
)
from jingzhun.funds.selectors import county_of

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=16, decimal_places=2)


def fund_projects(
    user: Any, *, status: str = "", school_year: int | None = None, q: str = ""
) -> QuerySet[FundProject]:
    """Return the county's fund projects, newest school year first, filtered."""
    county_of(user)
    rows = scope_queryset(FundProject.objects.all(), user)
    if status:
        rows = rows.filter(status=status)
    if school_year is not None:
        rows = rows.filter(school_year=school_year)
    if q:
        rows = rows.filter(Q(name__icontains=q) | Q(source__icontains=q))
    return rows.select_related("set_up_by", "approved_by").order_by("-school_year", "-id")


def fund_project_get(user: Any, fund_project_id: int) -> FundProject:
    """Return one fund project of the user's county, else 404."""
    county_of(user)
    return get_object_for_user(
        FundProject.objects.select_related("set_up_by", "approved_by"), user, pk=fund_project_id
    )


@dataclass(frozen=True)
class ProjectMoney:
    """A project's money: budgeted, allocated to its programme, disbursed, and what is left."""

    budget: Decimal
    allocated: Decimal
    disbursed: Decimal
    available: Decimal  # allocated and not yet disbursed: the programme account's balance

    @property
    def remaining(self) -> Decimal:
        """Return the budget not yet disbursed."""
        return self.budget - self.disbursed

    @property
    def unallocated(self) -> Decimal:
        """Return the budget not yet allocated (never below zero)."""
        return max(self.budget - self.allocated, ZERO)


def money_of(user: Any, projects: list[FundProject]) -> dict[int, ProjectMoney]:
    """Return each project's money, from one pass over the county's programme balances."""
    county = county_of(user)
    wanted = {(p.programme, p.school_year) for p in projects}
    balances = {
        (r.programme, r.school_year): r
        for r in ledger.programme_balances(county)
        if (r.programme, r.school_year) in wanted
    }
    out = {}
    for p in projects:
        r = balances.get((p.programme, p.school_year))
        out[p.pk] = ProjectMoney(
            budget=Decimal(p.budget),
            allocated=r.allocated if r else ZERO,
            disbursed=Decimal(p.disbursed),
            available=r.available if r else ZERO,
        )
    return out


def disbursements(user: Any, fp: FundProject) -> list[Disbursement]:
    """Return the project's disbursements, oldest first."""
    county_of(user)
    return list(
        scope_queryset(Disbursement.objects.all(), user)
        .filter(fund_project=fp)
        .select_related("recorded_by", "entry")
        .order_by("paid_on", "id")
    )


def evaluation_of(user: Any, fp: FundProject) -> Evaluation | None:
    """Return the project's evaluation with its indicators, or None."""
    county_of(user)
    return (
        scope_queryset(Evaluation.objects.all(), user)
        .filter(fund_project=fp)
        .select_related("evaluated_by")
        .prefetch_related("indicators")
        .first()
    )


def over_budget(county_code: str) -> QuerySet[FundProject]:
    """Return the county's fund projects paid beyond their budget, set-wise, annotated with
    ``paid`` (the sum of their disbursements) and ``paid_in_ledger`` (the disbursement entries
    posted to their programme account, less reversed ones): either above the budget is a
    finding. The services refuse it; this is the year-end audit's check that they did."""
    paid = (
        Disbursement.objects.filter(fund_project=OuterRef("pk"))
        .order_by()
        .values("fund_project")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    E = JournalEntry.Kind
    in_ledger = (
        JournalLine.objects.filter(
            account__county_code=OuterRef("county_code"),
            account__kind=Account.Kind.PROGRAMME,
            account__programme=OuterRef("programme"),
            account__school_year=OuterRef("school_year"),
        )
        .filter(Q(entry__kind=E.DISBURSEMENT) | Q(entry__reverses__kind=E.DISBURSEMENT))
        .order_by()
        .values("account")
        .annotate(
            # A disbursement credits the programme; its reversal debits it back.
            total=Sum(F("credit") - F("debit"), output_field=MONEY)
        )
        .values("total")
    )
    return (
        FundProject.objects.filter(county_code=county_code)
        .annotate(
            paid=Coalesce(Subquery(paid, output_field=MONEY), Value(ZERO), output_field=MONEY),
            paid_in_ledger=Coalesce(
                Subquery(in_ledger, output_field=MONEY), Value(ZERO), output_field=MONEY
            ),
        )
        .filter(Q(paid__gt=F("budget")) | Q(paid_in_ledger__gt=F("budget")))
        .order_by("school_year", "id")
    )
