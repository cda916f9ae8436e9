"""Models of projects' money (III.2): set-up (立项), approval, implementation, performance
evaluation (绩效评价) (loaded by jingzhun.funds.models).

A fund project is the money side of a school-condition project: its budget, its ledger
programme (``project:<id>``) to which allocations are made, the disbursements paid against
its time nodes, and the evaluation of what the money achieved. ``funds`` knows no app that
pays through it, so a fund project names its school project as text
(``projects.project:12``) and a disbursement its time node (``projects.node:34``).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jingzhun.core.money import MoneyField

__all__ = [
    "Disbursement",
    "Evaluation",
    "FundProject",
    "Indicator",
    "evaluation_grade",
    "indicator_points",
]

POINT = Decimal("0.01")


def indicator_points(weight: Decimal, target: Decimal, actual: Decimal) -> Decimal:
    """Return what one indicator scores: its weight times the share of its target reached,
    capped at the whole weight (over-achieving one indicator does not make up for another),
    rounded half-up to 0.01.

    weight x min(actual / target, 1); a target of zero or less scores nothing.
    """
    if target <= 0 or actual <= 0:
        return Decimal("0.00")
    share = min(actual / target, Decimal(1))
    return (weight * share).quantize(POINT, rounding=ROUND_HALF_UP)


def evaluation_grade(score: Decimal) -> str:
    """Return the grade of a score out of 100, as the Ministry of Finance grades performance
    evaluations (财预〔2020〕10号): 优 90 and above, 良 80 to under 90, 中 60 to under 80,
    差 under 60."""
    if score >= 90:
        return "excellent"
    if score >= 80:
        return "good"
    if score >= 60:
        return "fair"
    return "poor"


class FundProject(models.Model):
    """A project's money: set up (立项), approved by another officer, implemented through
    disbursements against its time nodes, and evaluated (绩效评价)."""

    class Status(models.TextChoices):
        SET_UP = "set_up", _("Set up, awaiting approval")
        APPROVED = "approved", _("Approved")
        IMPLEMENTING = "implementing", _("Being implemented")
        EVALUATED = "evaluated", _("Evaluated")

    county_code = models.CharField(_("county code"), max_length=6)
    name = models.CharField(_("name"), max_length=200)
    # The school project it pays for, as text ("projects.project:12"), or blank.
    source = models.CharField(_("school project (reference)"), max_length=80, blank=True)
    # Its ledger programme: allocations to it are the project's money ("project:<id>").
    programme = models.CharField(_("programme"), max_length=40)
    school_year = models.PositiveSmallIntegerField(_("school year"))
    budget = MoneyField(_("budget (yuan)"))
    purpose = models.CharField(_("purpose"), max_length=300, blank=True)
    set_up_document = models.CharField(_("set-up document"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.SET_UP
    )
    # What has been disbursed, kept by the disbursement itself in the statement that checks
    # it against the budget (never by hand); the disbursements add up to it.
    disbursed = MoneyField(_("disbursed"), default=0)
    set_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set up by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    set_up_on = models.DateField(_("set up on"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_on = models.DateField(_("approved on"), null=True, blank=True)
    approval_document = models.CharField(_("approval document"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("fund project")
        verbose_name_plural = _("fund projects")
        ordering = ["-school_year", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["county_code", "programme"], name="fund_project_programme"
            ),
            models.UniqueConstraint(
                fields=["county_code", "source"],
                condition=~Q(source=""),
                name="fund_project_source",
            ),
            models.CheckConstraint(condition=Q(budget__gt=0), name="fund_project_budget"),
            models.CheckConstraint(
                condition=Q(disbursed__gte=0, disbursed__lte=models.F("budget")),
                name="fund_project_within_budget",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school_year} {self.name}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level == "county":
            return Q(county_code=scope.county_code)
        return None

    @property
    def remaining(self) -> Decimal:
        """Return the budget not yet disbursed."""
        return Decimal(self.budget) - Decimal(self.disbursed)


class Disbursement(models.Model):
    """Money paid out of a project's programme against one of its time nodes; posted to the
    ledger as Dr paid / Cr programme (entry kind "disbursement", key ``disbursement:<id>``)."""

    county_code = models.CharField(_("county code"), max_length=6)
    fund_project = models.ForeignKey(
        FundProject,
        verbose_name=_("fund project"),
        on_delete=models.PROTECT,
        related_name="disbursements",
    )
    amount = MoneyField(_("amount (yuan)"))
    paid_on = models.DateField(_("paid on"))
    # The time node it pays against, as text ("projects.node:34"), and its name as shown.
    node = models.CharField(_("time node (reference)"), max_length=80, blank=True)
    node_label = models.CharField(_("time node"), max_length=60)
    payee = models.CharField(_("payee"), max_length=100)
    document = models.CharField(_("document"), max_length=200)
    entry = models.OneToOneField(
        "funds.JournalEntry",
        verbose_name=_("journal entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="disbursement",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("disbursement")
        verbose_name_plural = _("disbursements")
        ordering = ["fund_project", "paid_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="disbursement_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.fund_project_id} {self.paid_on} {self.amount}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level == "county":
            return Q(county_code=scope.county_code)
        return None


class Evaluation(models.Model):
    """The performance evaluation (绩效评价) of a fund project: indicators with targets and
    what was achieved, and the score they add up to (see :func:`indicator_points`)."""

    county_code = models.CharField(_("county code"), max_length=6)
    fund_project = models.OneToOneField(
        FundProject,
        verbose_name=_("fund project"),
        on_delete=models.PROTECT,
        related_name="evaluation",
    )
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2)
    conclusion = models.TextField(_("conclusion"), blank=True)
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("evaluated by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    evaluated_on = models.DateField(_("evaluated on"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("performance evaluation")
        verbose_name_plural = _("performance evaluations")
        ordering = ["-evaluated_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=0, score__lte=100), name="evaluation_score_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fund_project_id} {self.score}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level == "county":
            return Q(county_code=scope.county_code)
        return None

    @property
    def grade(self) -> str:
        return evaluation_grade(Decimal(self.score))


class Indicator(models.Model):
    """One row of an evaluation: an output, effect or satisfaction indicator."""

    class Category(models.TextChoices):
        OUTPUT = "output", _("Output")
        EFFECT = "effect", _("Effect")
        SATISFACTION = "satisfaction", _("Satisfaction")

    evaluation = models.ForeignKey(
        Evaluation,
        verbose_name=_("evaluation"),
        on_delete=models.CASCADE,
        related_name="indicators",
    )
    position = models.PositiveSmallIntegerField(_("position"))
    category = models.CharField(_("category"), max_length=12, choices=Category.choices)
    name = models.CharField(_("indicator"), max_length=100)
    target = models.DecimalField(_("target"), max_digits=14, decimal_places=2)
    actual = models.DecimalField(_("actual"), max_digits=14, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    weight = models.DecimalField(_("weight"), max_digits=5, decimal_places=2)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["evaluation", "position"]
        constraints = [
            models.CheckConstraint(condition=Q(target__gt=0), name="indicator_target_positive"),
            models.CheckConstraint(condition=Q(actual__gte=0), name="indicator_actual"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="indicator_weight_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level == "county":
            return Q(evaluation__county_code=scope.county_code)
        return None

    @property
    def category_label(self) -> str:
        return str(self.get_category_display())

    @property
    def points(self) -> Decimal:
        return indicator_points(Decimal(self.weight), Decimal(self.target), Decimal(self.actual))
