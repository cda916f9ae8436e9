"""Student aid (II.1): rule books, computations, entitlements with their reasons, review, notices."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jingzhun.core.models import CountyRun
from jingzhun.core.money import MoneyField
from jingzhun.core.partitions import CountyRow
from jingzhun.core.periods import SemesterKind
from jingzhun.core.scoping import place_scope_q
from jingzhun.registry.models import Person
from jingzhun.schools.models import School, SchoolClass, Student


def _aid_scope(scope: Any) -> Q | None:
    """A township sees its children and its schools' students; a school and a class their own."""
    return place_scope_q(scope)


class RuleBookVersion(models.Model):
    """One version of a county's rule book for a school year; versions are never edited."""

    county_code = models.CharField(_("county code"), max_length=6)
    school_year = models.PositiveSmallIntegerField(_("school year"))
    version = models.PositiveIntegerField(_("version"))
    source = models.TextField(_("rule book (YAML)"))
    reason = models.CharField(_("reason for the change"), max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # A book carried forward from an earlier year is "to confirm" until the county confirms
    # it: entitlements may be computed under it, but nothing is paid.
    confirmed = models.BooleanField(_("confirmed by the county"), default=True, db_default=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("rule book version")
        verbose_name_plural = _("rule book versions")
        ordering = ["county_code", "-school_year", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["county_code", "school_year", "version"], name="rulebook_version_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.school_year} v{self.version}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        # Every user of the county may read its rules; only the aid centre may change them.
        if scope.level == "none" or not scope.county_code:
            return None
        return Q(county_code=scope.county_code)


class AidComputation(CountyRun):
    """One run of `aid compute` for a county and semester, with what it wrote."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    school_year = models.PositiveSmallIntegerField(_("school year"))
    semester = models.CharField(_("semester"), max_length=6, choices=SemesterKind.choices)
    rule_book = models.ForeignKey(
        RuleBookVersion, verbose_name=_("rule book"), on_delete=models.PROTECT, related_name="+"
    )
    identification_run_id = models.BigIntegerField(_("identification run"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.RUNNING
    )

    class Meta:
        verbose_name = _("aid computation")
        verbose_name_plural = _("aid computations")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.school_year} {self.semester} #{self.pk}"


class Entitlement(CountyRow):
    """What one student is due from one programme in one semester, with the reason.

    Unique per (student, programme, school year, semester): a rerun updates it in place and
    records the difference as an Adjustment; it is never duplicated.
    """

    class Review(models.TextChoices):
        PENDING = "pending", _("Awaiting class review")
        CLASS_CHECKED = "class_checked", _("Checked by the class")
        CONFIRMED = "confirmed", _("Confirmed by the school")
        EXCLUDED = "excluded", _("Excluded by the school")
        NOTICED = "noticed", _("On public notice")
        APPROVED = "approved", _("Approved by the county")
        WITHDRAWN = "withdrawn", _("Withdrawn (no longer eligible)")

    # The student is the entitlement's identity: its foreign key is enforced, and the unique
    # constraint (student, programme, year, semester) serves as its index. The other relations
    # are either copies taken, in the computation's own transaction, from the rows the student
    # was read with, or set later by the review services from objects they have just fetched;
    # the database does not re-check them row by row, which a million-row semester cannot
    # afford (PostgreSQL checks each foreign key of each inserted row at commit, even a NULL
    # one; docs/performance.md). None of the rows they point to is ever deleted.
    student = models.ForeignKey(
        Student,
        verbose_name=_("student"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("registry person"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    school_year = models.PositiveSmallIntegerField(_("school year"))
    semester = models.CharField(_("semester"), max_length=6, choices=SemesterKind.choices)
    programme = models.CharField(_("programme"), max_length=40)
    kind = models.CharField(_("kind"), max_length=8)
    amount = MoneyField(_("amount"))
    rule_id = models.CharField(_("rule"), max_length=60)
    clause = models.CharField(_("clause"), max_length=20)
    rule_book = models.ForeignKey(
        RuleBookVersion,
        verbose_name=_("rule book"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # The explanation's inputs, as the rule book read them (typed columns, not a JSON blob:
    # a million of them are written per semester, and they can be queried).
    unit = models.CharField(_("unit"), max_length=8)
    grade = models.PositiveSmallIntegerField(_("grade"))
    boarding = models.BooleanField(_("boarding"), default=False)
    location = models.CharField(_("school location"), max_length=16)
    household_status = models.CharField(_("household status"), max_length=16)
    exit_year = models.PositiveSmallIntegerField(_("year left poverty"), null=True, blank=True)
    # The registry did not give the exit year: `exit_year` is the one assumed under the
    # setting JINGZHUN_UNKNOWN_EXIT_YEAR (the school year computed).
    exit_year_assumed = models.BooleanField(_("exit year assumed"), default=False, db_default=False)
    enrolled_on = models.DateField(_("enrolled on"), null=True, blank=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    school = models.ForeignKey(
        School,
        verbose_name=_("school"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    school_class = models.ForeignKey(
        SchoolClass,
        verbose_name=_("class"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    village_code = models.CharField(_("village code"), max_length=12)
    stage = models.CharField(_("stage"), max_length=12)
    computation = models.ForeignKey(
        AidComputation,
        verbose_name=_("computed by"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    review = models.CharField(
        _("review"), max_length=14, choices=Review.choices, default=Review.PENDING
    )
    review_reason = models.CharField(_("reason"), max_length=200, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    notice = models.ForeignKey(
        "AidNotice",
        verbose_name=_("public notice"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entitlements",
        db_index=False,
        db_constraint=False,
    )
    # The county of `village_code` (core/partitions.py): the partition key.
    county_code = models.CharField(_("county code"), max_length=6, default="", editable=False)

    class Meta:
        verbose_name = _("entitlement")
        verbose_name_plural = _("entitlements")
        ordering = ["school_year", "semester", "school", "student", "programme"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "programme", "school_year", "semester", "county_code"],
                name="entitlement_once_per_period",
            )
        ]
        indexes = [
            models.Index(fields=["school_year", "semester", "school"]),
            # Empty when entitlements are written; filled as schools post notices.
            models.Index(
                fields=["notice"], condition=Q(notice__isnull=False), name="entitlement_notice"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.programme} {self.school_year} {self.semester}"

    @property
    def inputs(self) -> dict[str, Any]:
        """Return what the rule book read for this entitlement (the evaluator's profile)."""
        return {
            "stage": self.stage,
            "grade": self.grade,
            "boarding": self.boarding,
            "location": self.location,
            "household_status": self.household_status,
            "exit_year": self.exit_year,
            "exit_year_assumed": self.exit_year_assumed,
            "enrolled_on": self.enrolled_on.isoformat() if self.enrolled_on else None,
            "left_on": self.left_on.isoformat() if self.left_on else None,
            "unit": self.unit,
        }

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        return _aid_scope(scope)


class Adjustment(models.Model):
    """A difference a rerun found for an entitlement: the old and new amount and rule."""

    class Kind(models.TextChoices):
        CHANGED = "changed", _("Amount or rule changed")
        WITHDRAWN = "withdrawn", _("No longer eligible")
        RESTORED = "restored", _("Eligible again")

    entitlement = models.ForeignKey(
        Entitlement,
        verbose_name=_("entitlement"),
        on_delete=models.PROTECT,
        related_name="adjustments",
    )
    computation = models.ForeignKey(
        AidComputation, verbose_name=_("computation"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("change"), max_length=10, choices=Kind.choices)
    old_amount = MoneyField(_("old amount"))
    new_amount = MoneyField(_("new amount"))
    old_rule_id = models.CharField(_("old rule"), max_length=60)
    new_rule_id = models.CharField(_("new rule"), max_length=60, blank=True)
    # Copied from the entitlement so that scoping needs no join.
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    school_class = models.ForeignKey(
        SchoolClass, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    village_code = models.CharField(_("village code"), max_length=12)

    class Meta:
        verbose_name = _("adjustment")
        verbose_name_plural = _("adjustments")
        ordering = ["-computation_id", "id"]

    def __str__(self) -> str:
        return f"{self.entitlement_id} {self.old_amount} -> {self.new_amount}"

    @property
    def delta(self) -> Any:
        return self.new_amount - self.old_amount

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        return _aid_scope(scope)


class AidNotice(models.Model):
    """A school's public notice of its aid list for a semester (at least 5 working days)."""

    class Status(models.TextChoices):
        POSTED = "posted", _("On notice")
        APPROVED = "approved", _("Approved by the county")

    school = models.ForeignKey(
        School, verbose_name=_("school"), on_delete=models.PROTECT, related_name="+"
    )
    school_year = models.PositiveSmallIntegerField(_("school year"))
    semester = models.CharField(_("semester"), max_length=6, choices=SemesterKind.choices)
    starts_on = models.DateField(_("notice starts"))
    ends_on = models.DateField(_("notice ends"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.POSTED
    )
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("posted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    posted_at = models.DateTimeField(_("posted at"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("public notice")
        verbose_name_plural = _("public notices")
        ordering = ["-school_year", "semester", "school", "-id"]

    def __str__(self) -> str:
        return f"{self.school} {self.school_year} {self.semester}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level in ("county", "township"):
            return Q(school__township__code__startswith=scope.area_code)
        if scope.level == "school":
            return Q(school_id=scope.school_id)
        return None


class NoticeObjection(models.Model):
    """An objection raised during a notice, and how it was resolved."""

    class Resolution(models.TextChoices):
        OPEN = "open", pgettext_lazy("status", "Open")
        UPHELD = "upheld", _("Upheld: the student is excluded")
        DISMISSED = "dismissed", _("Dismissed")

    notice = models.ForeignKey(
        AidNotice, verbose_name=_("notice"), on_delete=models.PROTECT, related_name="objections"
    )
    student = models.ForeignKey(
        Student,
        verbose_name=_("student"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    text = models.TextField(_("objection"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    resolution = models.CharField(
        _("resolution"), max_length=10, choices=Resolution.choices, default=Resolution.OPEN
    )
    resolution_note = models.CharField(_("resolution note"), max_length=300, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["notice", "id"]

    def __str__(self) -> str:
        return f"{self.notice_id} {self.resolution}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level in ("county", "township"):
            return Q(school__township__code__startswith=scope.area_code)
        if scope.level == "school":
            return Q(school_id=scope.school_id)
        return None


class Loan(models.Model):
    """A student-origin credit loan (生源地信用助学贷款) as contracted: recorded, not paid."""

    class Degree(models.TextChoices):
        UNDERGRADUATE = "undergraduate", _("Undergraduate")
        GRADUATE = "graduate", _("Graduate")

    student = models.ForeignKey(
        Student, verbose_name=_("student"), on_delete=models.PROTECT, related_name="+"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    school_year = models.PositiveSmallIntegerField(_("school year"))
    degree = models.CharField(_("degree"), max_length=14, choices=Degree.choices)
    bank = models.CharField(_("bank"), max_length=100)
    amount = MoneyField(_("amount"))
    term_years = models.PositiveSmallIntegerField(_("term (years)"))
    rule_book = models.ForeignKey(RuleBookVersion, on_delete=models.PROTECT, related_name="+")
    rule_id = models.CharField(_("rule"), max_length=60)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    village_code = models.CharField(_("village code"), max_length=12)

    class Meta:
        verbose_name = _("student-origin loan")
        verbose_name_plural = _("student-origin loans")
        ordering = ["-school_year", "id"]
        constraints = [
            models.UniqueConstraint(fields=["student", "school_year"], name="loan_once_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.school_year} {self.amount}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        return place_scope_q(scope, class_field=None)
