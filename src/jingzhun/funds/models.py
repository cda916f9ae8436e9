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
    """Funds allocated to one programme for a school year: the document behind a ledger entry."""

    county_code = models.CharField(_("county code"), max_length=6)
    school_year = models.PositiveSmallIntegerField(_("school year"))
    programme = models.CharField(_("programme"), max_length=40)
    amount = MoneyField(_("amount"))
    note = models.CharField(_("document or note"), max_length=200, blank=True)
    # The channel it was received from with its allocation, or blank: from the pooled account.
    channel = models.CharField(_("channel"), max_length=40, blank=True)
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


# --- The fund ledger (III.2): double entry, append-only ------------------------------------


class Account(models.Model):
    """One account of a county's fund ledger.

    Money moves through stages, each an account whose debit balance is the money at that stage:
    a channel's transfer lands in the pooled account, is allocated to a programme (for a school
    year), reserved when a batch is approved (payable to students and teachers), sent to the
    bank, and paid (or returned to the programme when the bank fails a payment). Channel and
    opening accounts are credited with what came in. ``balance`` (debit minus credit) is kept by
    the posting itself, in the same statement that checks it: no stage account ever goes below
    zero and no channel above it.
    """

    class Kind(models.TextChoices):
        CHANNEL = "channel", _("Channel in")
        OPENING = "opening", _("Opening balances")
        POOL = "pool", _("Pooled account")
        PROGRAMME = "programme", _("Programme, available")
        PAYABLE = "payable", _("Payable to students and teachers")
        BANK = "bank", _("At the bank, awaiting its return")
        PAID = "paid", _("Paid out")
        RECEIVABLE = "receivable", _("Overpaid, to recover")

    county_code = models.CharField(_("county code"), max_length=6)
    code = models.CharField(_("code"), max_length=80)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=40, blank=True)
    programme = models.CharField(_("programme"), max_length=40, blank=True)
    school_year = models.PositiveSmallIntegerField(_("school year"), null=True, blank=True)
    balance = MoneyField(_("balance (debit - credit)"), default=0, max_digits=16)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        ordering = ["county_code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["county_code", "code"], name="account_code"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def credit_normal(self) -> bool:
        return self.kind in (self.Kind.CHANNEL, self.Kind.OPENING)

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level == "county":
            return Q(county_code=scope.county_code)
        return None


class JournalEntry(models.Model):
    """One balanced posting: never edited or deleted (the database refuses); corrected only by
    a reversing entry."""

    class Kind(models.TextChoices):
        OPENING = "opening", _("Opening balance")
        TRANSFER_IN = "transfer_in", _("Transfer in from a channel")
        ALLOCATION = "allocation", _("Allocation to a programme")
        APPROVAL = "approval", _("Batch approved")
        SENT = "sent", _("Batch sent to the bank")
        PAID = "paid", _("Paid by the bank")
        RETURNED = "returned", _("Returned by the bank")
        DISBURSEMENT = "disbursement", _("Project disbursement")
        DONATION = "donation", _("Donation received")
        ADJUSTMENT = "adjustment", _("Adjustment after payment")
        REVERSAL = "reversal", _("Reversal")

    county_code = models.CharField(_("county code"), max_length=6)
    kind = models.CharField(_("kind"), max_length=14, choices=Kind.choices)
    posted_on = models.DateField(_("date"))
    posted_at = models.DateTimeField(_("posted at"), auto_now_add=True)
    # What the entry records, as text ("funds.batch:12"): funds knows no app that pays through it.
    source = models.CharField(_("source"), max_length=80, blank=True)
    memo = models.CharField(_("memo"), max_length=200, blank=True)
    # One entry per event: a second posting of the same event is "already done".
    key = models.CharField(_("key"), max_length=100)
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("posted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        ordering = ["posted_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["county_code", "key"], name="journal_entry_key"),
        ]
        indexes = [models.Index(fields=["county_code", "source"], name="journal_entry_source")]

    def __str__(self) -> str:
        return f"{self.posted_on} {self.kind} {self.source}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level == "county":
            return Q(county_code=scope.county_code)
        return None


class JournalLine(models.Model):
    """One side of an entry: a debit or a credit (never both) to one account."""

    entry = models.ForeignKey(
        JournalEntry, verbose_name=_("entry"), on_delete=models.PROTECT, related_name="lines"
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="lines"
    )
    debit = MoneyField(_("debit"), default=0)
    credit = MoneyField(_("credit"), default=0)
    posted_on = models.DateField(_("date"))  # the entry's, for the trial balance at a date

    class Meta:
        verbose_name = _("journal line")
        verbose_name_plural = _("journal lines")
        ordering = ["entry", "id"]
        indexes = [models.Index(fields=["account", "posted_on"], name="journal_line_account_on")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(debit__gt=0, credit=0) | Q(debit=0, credit__gt=0)),
                name="journal_line_one_side",
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.debit}/{self.credit}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level == "county":
            return Q(entry__county_code=scope.county_code)
        return None


class AccountDay(models.Model):
    """An account's debits and credits of one day, kept by the posting (the trial balance at a
    date sums these, not every line)."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="days")
    day = models.DateField()
    debit = MoneyField(default=0, max_digits=16)
    credit = MoneyField(default=0, max_digits=16)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "day"], name="account_day"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level == "county":
            return Q(account__county_code=scope.county_code)
        return None


# Donations (II.1.5, III.2) and projects' money live in modules of their own, loaded with these.
from jingzhun.funds.models_donations import *  # noqa: E402,F403
from jingzhun.funds.models_projects import *  # noqa: E402,F403


class Overpayment(models.Model):
    """Money paid that was not owed: an entitlement withdrawn or reduced after its payment.

    Recorded by the aid centre with the rule it confirms: the family pays it back (recover),
    or it is deducted from a later payment to the same beneficiary (offset). Recording posts
    a receivable (the paid amount is no longer counted as spent); settling posts it back to
    the programme. Nothing is settled silently: an open overpayment stays on the list, and on
    the year-end audit, until an officer settles it.
    """

    class Rule(models.TextChoices):
        RECOVER = "recover", _("The family pays it back")
        OFFSET = "offset", _("Deducted from a later payment")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        SETTLED = "settled", _("Settled")

    county_code = models.CharField(_("county code"), max_length=6)
    payment = models.ForeignKey(
        Payment,
        verbose_name=_("payment"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,  # payments are partitioned on PostgreSQL (core/partitions.py)
    )
    # What withdrew or reduced the entitlement, as text ("aid.adjustment:12").
    cause = models.CharField(_("cause"), max_length=60)
    amount = MoneyField(_("amount"))
    rule = models.CharField(_("rule"), max_length=8, choices=Rule.choices)
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    settled_on = models.DateField(_("settled on"), null=True, blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The later payment the amount was deducted from (rule "offset"), by its reference.
    offset_reference = models.CharField(_("deducted from payment"), max_length=40, blank=True)
    settlement_note = models.CharField(_("how it was settled"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("overpayment")
        verbose_name_plural = _("overpayments")
        ordering = ["-recorded_at", "-id"]
        constraints = [
            # One overpayment per cause: recording it twice is "already done".
            models.UniqueConstraint(fields=["county_code", "cause"], name="overpayment_once"),
        ]

    def __str__(self) -> str:
        return f"{self.cause} {self.amount}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level == "county":
            return Q(county_code=scope.county_code)
        return None
