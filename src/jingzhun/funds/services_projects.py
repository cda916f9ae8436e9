"""Writes of projects' money (III.2): set-up (立项), approval by a second officer, allocation,
disbursements against time nodes, and the performance evaluation (绩效评价).

Only the aid centre (PAY, at the county) writes here. State changes are guarded updates
(``UPDATE ... WHERE status = ...`` with a row-count check), and a disbursement raises the
project's ``disbursed`` in the statement that checks it against the budget
(``WHERE disbursed <= budget - amount``), so two officers paying at once cannot together pay a
project beyond its budget; the ledger's own guard refuses a disbursement beyond what was
allocated to the project's programme. Each function is atomic: a refusal leaves nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.core.audit import audit_record
from jingzhun.core.money import format_yuan, to_yuan
from jingzhun.core.scoping import get_object_for_user
from jingzhun.funds import ledger
from jingzhun.funds.models import (
    Account,
    Allocation,
    Disbursement,
    Evaluation,
    FundProject,
    Indicator,
    JournalEntry,
    indicator_points,
)
from jingzhun.funds.services import _require_pay, allocation_record

K = Account.Kind
S = FundProject.Status
ZERO = Decimal("0.00")
HUNDRED = Decimal("100.00")

# A reference to another app's record: "projects.project:12", "projects.node:34".
REFERENCE = re.compile(r"[a-z][a-z_]*\.[a-z][a-z_]*:[0-9A-Za-z_-]{1,40}")


def _check_reference(text: str) -> str:
    text = text.strip()
    if text and not REFERENCE.fullmatch(text):
        raise ValidationError(
            _('A reference reads like "projects.project:12": app, record and number.'),
            code="reference",
        )
    return text


def _get(actor: Any, fund_project_id: int) -> FundProject:
    return get_object_for_user(FundProject.objects.all(), actor, pk=fund_project_id)


def _refuse_status(fp: FundProject) -> ValidationError:
    fp.refresh_from_db()
    return ValidationError(
        _("The project is %(status)s; this step is not possible now.")
        % {"status": fp.get_status_display()},
        code="status",
    )


def fund_project_for(reference: str, *, county_code: str | None = None) -> FundProject | None:
    """Return the fund project that pays for a record named by its text reference
    (``"projects.project:12"``), or None; for another app that shows a project's money."""
    reference = reference.strip()
    if not reference:
        return None
    found = FundProject.objects.filter(source=reference)
    if county_code is not None:
        found = found.filter(county_code=county_code)
    return found.order_by("id").first()


@transaction.atomic
def fund_project_set_up(
    *,
    actor: Any,
    name: str,
    school_year: int,
    budget: Decimal,
    source: str = "",
    purpose: str = "",
    document: str = "",
    set_up_on: dt.date | None = None,
) -> FundProject:
    """Set up (立项) a project's money with its budget; its ledger programme is ``project:<id>``."""
    _require_pay(actor)
    county = actor.scope.county_code
    source = _check_reference(source)
    budget = to_yuan(budget)
    if budget <= 0:
        raise ValidationError(_("The budget must be more than zero."), code="budget")
    if source and FundProject.objects.filter(county_code=county, source=source).exists():
        raise ValidationError(
            _("This school project already has its fund project."), code="already_done"
        )
    fp = FundProject(
        county_code=county,
        name=name.strip(),
        source=source,
        # Unique until the id is known; then "project:<id>", in the same transaction.
        programme=f"new:{uuid.uuid4().hex[:30]}",
        school_year=school_year,
        budget=budget,
        purpose=purpose.strip(),
        set_up_document=document.strip(),
        set_up_by=actor,
        set_up_on=set_up_on or timezone.localdate(),
    )
    fp.full_clean()
    try:
        with transaction.atomic():
            fp.save()
    except IntegrityError:  # the same school project set up at the same moment
        raise ValidationError(
            _("This school project already has its fund project."), code="already_done"
        ) from None
    fp.programme = f"project:{fp.pk}"
    FundProject.objects.filter(pk=fp.pk).update(programme=fp.programme)
    audit_record(
        actor=actor,
        action="funds.project_set_up",
        target=fp,
        data={"name": fp.name, "budget": str(budget), "source": source, "year": school_year},
    )
    return fp


@transaction.atomic
def fund_project_approve(
    *,
    actor: Any,
    fund_project_id: int,
    document: str,
    approved_on: dt.date | None = None,
) -> FundProject:
    """Approve a project set up by another officer (four eyes); approved once."""
    _require_pay(actor)
    fp = _get(actor, fund_project_id)
    if fp.set_up_by_id == actor.pk:
        raise ValidationError(
            _("Another officer approves: you set this project up."), code="same_person"
        )
    if not document.strip():
        raise ValidationError(_("Name the approval document."), code="document")
    updated = (
        FundProject.objects.filter(pk=fp.pk, status=S.SET_UP)
        .exclude(set_up_by=actor)
        .update(
            status=S.APPROVED,
            approved_by=actor,
            approved_on=approved_on or timezone.localdate(),
            approval_document=document.strip()[:200],
        )
    )
    if updated != 1:
        raise _refuse_status(fp)
    fp.refresh_from_db()
    audit_record(
        actor=actor,
        action="funds.project_approve",
        target=fp,
        data={"document": fp.approval_document},
    )
    return fp


def allocated_to(fp: FundProject) -> Decimal:
    """Return what was allocated to the project's programme (less reversed allocations)."""
    for row in ledger.programme_balances(fp.county_code, fp.school_year):
        if row.programme == fp.programme:
            return row.allocated
    return ZERO


@transaction.atomic
def fund_project_allocate(
    *,
    actor: Any,
    fund_project_id: int,
    amount: Decimal,
    note: str,
    channel: str = "",
    received_on: dt.date | None = None,
) -> Allocation:
    """Allocate money to an approved project's programme (from the pooled account, or received
    from a channel with the allocation); no more than its budget in all."""
    _require_pay(actor)
    fp = _get(actor, fund_project_id)
    if fp.status not in (S.APPROVED, S.IMPLEMENTING):
        raise ValidationError(
            _("Money is allocated to a project once it is approved and until it is evaluated."),
            code="status",
        )
    amount = to_yuan(amount)
    if amount <= 0:
        raise ValidationError(_("The amount must be more than zero."), code="amount")
    already = allocated_to(fp)
    if already + amount > fp.budget:
        raise ValidationError(
            _(
                "Beyond the budget: %(budget)s yuan budgeted, %(already)s allocated; "
                "%(amount)s more would exceed it."
            )
            % {
                "budget": format_yuan(fp.budget),
                "already": format_yuan(already),
                "amount": format_yuan(amount),
            },
            code="over_budget",
        )
    return allocation_record(
        actor=actor,
        school_year=fp.school_year,
        programme=fp.programme,
        amount=amount,
        note=note or fp.name,
        channel=channel,
        received_on=received_on,
    )


def _over_budget(fp: FundProject, amount: Decimal) -> ValidationError:
    return ValidationError(
        _(
            "Beyond the budget: %(budget)s yuan budgeted, %(disbursed)s disbursed, "
            "%(remaining)s remaining; %(amount)s asked. Nothing was paid."
        )
        % {
            "budget": format_yuan(fp.budget),
            "disbursed": format_yuan(fp.disbursed),
            "remaining": format_yuan(fp.remaining),
            "amount": format_yuan(amount),
        },
        code="over_budget",
    )


@transaction.atomic
def disbursement_record(
    *,
    actor: Any,
    fund_project_id: int,
    amount: Decimal,
    paid_on: dt.date,
    node_label: str,
    payee: str,
    document: str,
    node: str = "",
) -> Disbursement:
    """Pay money out of an approved project against one of its time nodes and post it
    (Dr paid / Cr programme); refused beyond the budget and beyond what was allocated."""
    _require_pay(actor)
    fp = _get(actor, fund_project_id)
    node = _check_reference(node)
    amount = to_yuan(amount)
    if amount <= 0:
        raise ValidationError(_("The amount must be more than zero."), code="amount")
    if paid_on > timezone.localdate():
        raise ValidationError(
            _("A disbursement is recorded once paid: the date cannot be in the future."),
            code="date",
        )
    if fp.status not in (S.APPROVED, S.IMPLEMENTING):
        raise _refuse_status(fp)
    if amount > fp.remaining:
        raise _over_budget(fp, amount)
    # The guard and the new total in one statement: a concurrent disbursement that took the
    # room first makes this one match no row.
    updated = FundProject.objects.filter(
        pk=fp.pk,
        status__in=(S.APPROVED, S.IMPLEMENTING),
        disbursed__lte=F("budget") - amount,
    ).update(disbursed=F("disbursed") + amount, status=S.IMPLEMENTING)
    if updated != 1:
        fp.refresh_from_db()
        if fp.status not in (S.APPROVED, S.IMPLEMENTING):
            raise _refuse_status(fp)
        raise _over_budget(fp, amount)
    disbursement = Disbursement(
        county_code=fp.county_code,
        fund_project=fp,
        amount=amount,
        paid_on=paid_on,
        node=node,
        node_label=node_label.strip(),
        payee=payee.strip(),
        document=document.strip(),
        recorded_by=actor,
    )
    disbursement.full_clean()
    disbursement.save()
    county, year = fp.county_code, fp.school_year
    try:
        entry = ledger.post(
            county_code=county,
            kind=JournalEntry.Kind.DISBURSEMENT,
            key=f"disbursement:{disbursement.pk}",
            legs=[
                ledger.debit(
                    ledger.account(county, K.PAID, programme=fp.programme, school_year=year),
                    amount,
                ),
                ledger.credit(
                    ledger.account(county, K.PROGRAMME, programme=fp.programme, school_year=year),
                    amount,
                ),
            ],
            posted_on=paid_on,
            source=f"funds.disbursement:{disbursement.pk}",
            memo=f"{fp.name} · {disbursement.node_label} · {disbursement.document}",
            actor=actor,
        )
    except ValidationError as exc:
        if getattr(exc, "code", None) != "overdraft":
            raise
        raise ValidationError(
            _(
                "Beyond what was allocated: the project's programme holds %(held)s yuan; "
                "%(amount)s asked. Allocate money to the project first. Nothing was paid."
            )
            % {
                "held": format_yuan(ledger.available(county, fp.programme, year)),
                "amount": format_yuan(amount),
            },
            code="overdraft",
        ) from None
    Disbursement.objects.filter(pk=disbursement.pk).update(entry=entry)
    disbursement.entry = entry
    audit_record(
        actor=actor,
        action="funds.project_disburse",
        target=disbursement,
        data={
            "fund_project": fp.pk,
            "amount": str(amount),
            "node": node,
            "node_label": disbursement.node_label,
            "entry": entry.pk,
        },
    )
    return disbursement


@dataclass(frozen=True)
class IndicatorRow:
    """One indicator of an evaluation as entered: target and actual in the same unit."""

    category: str
    name: str
    target: Decimal
    actual: Decimal
    weight: Decimal
    unit: str = ""

    @property
    def points(self) -> Decimal:
        return indicator_points(self.weight, self.target, self.actual)

    @property
    def category_label(self) -> str:
        return str(dict(Indicator.Category.choices).get(self.category, self.category))


def evaluation_score(rows: Sequence[IndicatorRow]) -> Decimal:
    """Return the score out of 100: the sum of each indicator's weight x min(actual/target, 1)."""
    return sum((row.points for row in rows), ZERO)


def check_indicators(rows: Sequence[IndicatorRow]) -> None:
    """Refuse indicators that cannot be scored: each named, in a known category, with a
    positive target and weight and an actual of zero or more; the weights total 100."""
    if not rows:
        raise ValidationError(_("An evaluation needs at least one indicator."), code="empty")
    for n, row in enumerate(rows, start=1):
        if row.category not in Indicator.Category.values or not row.name.strip():
            raise ValidationError(
                _("Indicator %(n)s: name it and choose output, effect or satisfaction.") % {"n": n},
                code="indicator",
            )
        if row.target <= 0 or row.weight <= 0 or row.actual < 0:
            raise ValidationError(
                _(
                    "Indicator %(n)s: the target and the weight must be more than zero, "
                    "the actual zero or more."
                )
                % {"n": n},
                code="indicator",
            )
    total = sum((row.weight for row in rows), ZERO)
    if total != HUNDRED:
        raise ValidationError(
            _("The weights total %(total)s; they must total 100.") % {"total": total},
            code="weights",
        )


@transaction.atomic
def evaluation_record(
    *,
    actor: Any,
    fund_project_id: int,
    indicators: Sequence[IndicatorRow],
    conclusion: str = "",
    evaluated_on: dt.date | None = None,
) -> Evaluation:
    """Record the performance evaluation of a project whose money has been disbursed; the
    score is computed from the indicators (:func:`evaluation_score`); evaluated once."""
    _require_pay(actor)
    fp = _get(actor, fund_project_id)
    check_indicators(indicators)
    updated = FundProject.objects.filter(pk=fp.pk, status=S.IMPLEMENTING).update(status=S.EVALUATED)
    if updated != 1:
        raise _refuse_status(fp)
    evaluation = Evaluation(
        county_code=fp.county_code,
        fund_project=fp,
        score=evaluation_score(indicators),
        conclusion=conclusion.strip(),
        evaluated_by=actor,
        evaluated_on=evaluated_on or timezone.localdate(),
    )
    evaluation.full_clean()
    evaluation.save()
    Indicator.objects.bulk_create(
        [
            Indicator(
                evaluation=evaluation,
                position=n,
                category=row.category,
                name=row.name.strip()[:100],
                target=row.target,
                actual=row.actual,
                unit=row.unit.strip()[:20],
                weight=row.weight,
            )
            for n, row in enumerate(indicators, start=1)
        ]
    )
    audit_record(
        actor=actor,
        action="funds.project_evaluate",
        target=evaluation,
        data={"fund_project": fp.pk, "score": str(evaluation.score)},
    )
    return evaluation
