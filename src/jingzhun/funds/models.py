"""Money going out: allocations, payment batches to bank cards, and the bank's returns.

`funds` knows no app that pays through it: a payment names its source as text
("aid.entitlement:123"), and the paying app asks for the payments of its sources.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jingzhun.core.money import MoneyField
from jingzhun.core.partitions import CountyRow
from jingzhun.core.periods import SemesterKind
from jingzhun.schools.models import School


class Allocation(models.Model):
    """Funds allocated to one programme for a school year (a later issue makes this a ledger)."""

    county_code = models.CharField(_("county code"), max_length=6)
    school_year = models.PositiveSmallIntegerField(_("school year"))
    programme = models.CharField(_("programme"), max_length=40)
    amount = MoneyField(_("amount"))
    note = models.CharField(_("document or note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        ordering = ["-school_year", "programme", "id"]

    def __str__(self) -> str:
        return f"{self.school_year} {self.programme} {self.amount}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level == "county":
            return Q(county_code=scope.county_code)
        return None


class PaymentBatch(models.Model):
    """A semester's payments sent to the bank together: draft -> approved -> sent -> reconciled."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        APPROVED = "approved", _("Approved")
        SENT = "sent", _("Sent to the bank")
        RECONCILED = "reconciled", _("Reconciled")

    county_code = models.CharField(_("county code"), max_length=6)
    purpose = models.CharField(_("purpose"), max_length=20)
    school_year = models.PositiveSmallIntegerField(_("school year"))
    semester = models.CharField(_("semester"), max_length=6, choices=SemesterKind.choices)
    idempotency_key = models.CharField(_("idempotency key"), max_length=80, unique=True)
    reference = models.CharField(_("reference"), max_length=30, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    control = models.JSONField(_("control totals"), default=dict)
    gaps = models.JSONField(_("not paid, with reason"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    reconciled_at = models.DateTimeField(_("reconciled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment batch")
        verbose_name_plural = _("payment batches")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.reference

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level == "county":
            return Q(county_code=scope.county_code)
        return None


class Payment(CountyRow):
    """One transfer to one bank card. At most one live payment per source, by constraint."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting the bank")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")

    batch = models.ForeignKey(
        PaymentBatch, verbose_name=_("batch"), on_delete=models.PROTECT, related_name="payments"
    )
    source = models.CharField(_("source"), max_length=60)
    programme = models.CharField(_("programme"), max_length=40)
    amount = MoneyField(_("amount"))
    payee_name = models.CharField(_("account holder"), max_length=50)
    # Whom the money is for (a student, a teacher): siblings paid into one parent's card are
    # two payments to one account holder, each with its own beneficiary.
    beneficiary = models.CharField(_("paid for"), max_length=50, blank=True, default="")
    bank_name = models.CharField(_("bank"), max_length=100, blank=True)
    account_cipher = models.BinaryField(editable=False)
    account_key = models.PositiveSmallIntegerField(editable=False)
    account_index = models.CharField(max_length=64, editable=False)
    account_masked = models.CharField(_("account"), max_length=40, editable=False)
    # Unique with the county code (the partition key): a reference starts with its batch's.
    reference = models.CharField(_("reference"), max_length=40)
    school = models.ForeignKey(
        School,
        verbose_name=_("school"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    village_code = models.CharField(_("village code"), max_length=12, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    bank_reason = models.CharField(_("bank's reason"), max_length=200, blank=True)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    # The batch's county code (core/partitions.py): the partition key.
    county_code = models.CharField(_("county code"), max_length=6, default="", editable=False)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["batch", "id"]
        constraints = [
            # The database refuses a second live payment for the same entitlement (or other source).
            # With the county code, as a partitioned table's keys must be: a source (an
            # entitlement, a teacher) is paid by batches of its own county only.
            models.UniqueConstraint(
                fields=["source", "county_code"],
                condition=~Q(status="failed"),
                name="payment_once_per_source",
            ),
            models.UniqueConstraint(fields=["reference", "county_code"], name="payment_reference"),
        ]

    def __str__(self) -> str:
        return self.reference

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level == "county":
            return Q(county_code=scope.county_code)
        return None


class BankReturn(models.Model):
    """One bank return file applied to a batch, with what matched and what did not."""

    batch = models.ForeignKey(
        PaymentBatch, verbose_name=_("batch"), on_delete=models.PROTECT, related_name="returns"
    )
    file_name = models.CharField(_("file"), max_length=200)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    counts = models.JSONField(_("counts"), default=dict)
    mismatches = models.JSONField(_("mismatches"), default=list)
    balanced = models.BooleanField(_("balanced"), default=False)

    class Meta:
        verbose_name = _("bank return")
        verbose_name_plural = _("bank returns")
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return self.file_name

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level == "county":
            return Q(batch__county_code=scope.county_code)
        return None
