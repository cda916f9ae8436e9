"""Models of the fund ledger's donations (loaded by jingzhun.funds.models).

Social donations (II.1.5, III.2) are managed centrally: a donor pledges an amount, general or
designated (a programme, a school, named students); each receipt of money is posted to the
ledger from the "donation" channel into the pooled account (general) or a programme account
(designated), and the designated money is paid out through the same payment batches as any
other programme's (see :func:`jingzhun.funds.services_donations.donation_programme`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jingzhun.core.money import MoneyField
from jingzhun.schools.models import School

__all__ = ["Donor", "Pledge", "Receipt"]


class Donor(models.Model):
    """A person, company or organisation that gives money to the county's pooled fund."""

    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        COMPANY = "company", _("Company")
        ORGANISATION = "organisation", _("Organisation")

    county_code = models.CharField(_("county code"), max_length=6)
    name = models.CharField(_("donor's name"), max_length=100)
    kind = models.CharField(_("kind of donor"), max_length=12, choices=Kind.choices)
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    # Personal data: optional, shown whole only to the aid centre and masked to everyone else.
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("donor")
        verbose_name_plural = _("donors")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["county_code", "name"], name="donor_county_name")]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level == "county":
            return Q(county_code=scope.county_code)
        return None


class Pledge(models.Model):
    """An amount a donor promises, general or designated; receipts pay it in."""

    class Designation(models.TextChoices):
        GENERAL = "general", _("General: the pooled fund")
        PROGRAMME = "programme", _("A programme")
        SCHOOL = "school", _("A school")
        STUDENTS = "students", _("Named students")

    county_code = models.CharField(_("county code"), max_length=6)
    donor = models.ForeignKey(
        Donor, verbose_name=_("donor"), on_delete=models.PROTECT, related_name="pledges"
    )
    amount = MoneyField(_("amount pledged"))
    # What its receipts have brought in, kept by the receipt itself with a guarded update
    # (``received + x <= amount``): two receipts at once cannot exceed the pledge.
    received = MoneyField(_("received"), default=0, editable=False)
    pledged_on = models.DateField(_("pledged on"))
    designation = models.CharField(
        _("designation"), max_length=10, choices=Designation.choices, default=Designation.GENERAL
    )
    # The school year whose programme account a designated pledge's money goes to.
    school_year = models.PositiveSmallIntegerField(_("school year"), null=True, blank=True)
    programme = models.CharField(_("programme"), max_length=40, blank=True)
    school = models.ForeignKey(
        School,
        verbose_name=_("school"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Ids of schools.Student (a partitioned table on PostgreSQL: no foreign key to it).
    students = models.JSONField(_("named students"), default=list, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("pledge")
        verbose_name_plural = _("pledges")
        ordering = ["-pledged_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="pledge_amount_positive"),
            models.CheckConstraint(
                condition=Q(received__gte=0, received__lte=models.F("amount")),
                name="pledge_received_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.donor_id} {self.pledged_on} {self.amount}"

    @property
    def open_amount(self) -> Any:
        """Return what is pledged and not yet received."""
        return self.amount - self.received

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level == "county":
            return Q(county_code=scope.county_code)
        return None


class Receipt(models.Model):
    """Money received from a donor (for a pledge, or without one: general), and its entry."""

    county_code = models.CharField(_("county code"), max_length=6)
    donor = models.ForeignKey(
        Donor, verbose_name=_("donor"), on_delete=models.PROTECT, related_name="receipts"
    )
    pledge = models.ForeignKey(
        Pledge,
        verbose_name=_("pledge"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="receipts",
    )
    amount = MoneyField(_("amount received"))
    received_on = models.DateField(_("received on"))
    document = models.CharField(_("document or note"), max_length=200, blank=True)
    entry = models.OneToOneField(
        "funds.JournalEntry",
        verbose_name=_("journal entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="donation_receipt",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("donation receipt")
        verbose_name_plural = _("donation receipts")
        ordering = ["-received_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="receipt_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.donor_id} {self.received_on} {self.amount}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level == "county":
            return Q(county_code=scope.county_code)
        return None
