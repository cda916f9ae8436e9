"""Supervision (III.3): semiannual inspections, their findings and rectifications.

An :class:`InspectionPlan` is the county's inspection of one half-year: the schools and
township education offices to visit (one :class:`Visit` each) and the checklist, copied from
the versioned file in ``rules/`` when the plan is made (a later edit of the file never
rewrites a past plan). A visit answers the checklist item by item (:class:`VisitAnswer`) and
checks a reproducible sample of the school's poor students (:class:`SampleCheck`: was the aid
received, in full?). What is wrong is a :class:`Finding`; each opens a
:class:`Rectification` (整改) with an owner and a deadline, whose log
(:class:`RectificationEntry`) holds the owner's progress notes and the inspector's verified
close-out. Its flag is red when closed by the deadline, black when open past it, "late" when
closed after it (the wall chart's flags, III.1).

Plans, visits and samples are the county's (the inspection team's work); findings and
rectifications are also seen by the township and the school they name.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jingzhun.core.evidence import suffix_of
from jingzhun.core.money import MoneyField
from jingzhun.core.periods import SemesterKind
from jingzhun.registry.models import Area
from jingzhun.schools.models import School, Student

DEFAULT_SAMPLE_SIZE = 5


def _county_q(scope: Any) -> Q | None:
    """The inspection team's records: the county's users only."""
    if scope.level == "county" and scope.county_code:
        return Q(county_code=scope.county_code)
    return None


def _place_q(scope: Any, prefix: str = "") -> Q | None:
    """Scope rows that name a township (and maybe a school): the county and the township see
    them by the township's code, a school its own; a class teacher nothing."""
    if scope.level in ("county", "township"):
        return Q(**{f"{prefix}township__code__startswith": scope.area_code})
    if scope.level == "school":
        return Q(**{f"{prefix}school_id": scope.school_id})
    return None


class Flag(models.TextChoices):
    """A rectification's flag on the wall chart (挂图作战, III.1)."""

    OPEN = "open", _("Open")
    BLACK = "black", _("Overdue (black flag)")
    RED = "red", _("Done in time (red flag)")
    LATE = "late", _("Done late")


class InspectionPlan(models.Model):
    """The county's inspection of one half-year: its visits and its checklist."""

    class Half(models.TextChoices):
        H1 = "H1", _("First half-year")
        H2 = "H2", _("Second half-year")

    county_code = models.CharField(_("county code"), max_length=6)
    year = models.PositiveSmallIntegerField(_("year"))
    half = models.CharField(_("half-year"), max_length=2, choices=Half.choices)
    title = models.CharField(_("title"), max_length=200)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    # The checklist as the file held it when the plan was made: [{id, zh, en, applies_to}].
    checklist = models.JSONField(_("checklist"), default=list)
    checklist_source = models.CharField(_("checklist file"), max_length=100)
    checklist_digest = models.CharField(max_length=64, editable=False)
    sample_size = models.PositiveSmallIntegerField(
        _("students sampled per school"), default=DEFAULT_SAMPLE_SIZE
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("inspection plan")
        verbose_name_plural = _("inspection plans")
        ordering = ["-year", "-half", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["county_code", "year", "half"], name="inspection_plan_once_per_half"
            ),
            models.CheckConstraint(
                condition=Q(starts_on__lte=models.F("ends_on")), name="inspection_plan_dates"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.half} {self.title}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        return _county_q(scope)

    @staticmethod
    def half_bounds(year: int, half: str) -> tuple[dt.date, dt.date]:
        """Return the first and last day of a half-year."""
        if half == InspectionPlan.Half.H1:
            return dt.date(year, 1, 1), dt.date(year, 6, 30)
        return dt.date(year, 7, 1), dt.date(year, 12, 31)

    @staticmethod
    def half_of(day: dt.date) -> tuple[int, str]:
        """Return the (year, half) a date falls in."""
        return day.year, (InspectionPlan.Half.H1 if day.month <= 6 else InspectionPlan.Half.H2)

    @property
    def semester(self) -> tuple[int, str]:
        """Return the (school year, semester) whose aid the plan checks: spring in the first
        half-year (of the school year begun the autumn before), autumn in the second."""
        if self.half == self.Half.H1:
            return self.year - 1, str(SemesterKind.SPRING)
        return self.year, str(SemesterKind.AUTUMN)

    def item_ids(self) -> list[str]:
        return [str(i["id"]) for i in self.checklist]

    def items_for(self, kind: str) -> list[dict[str, Any]]:
        """Return the checklist items for a visit to a school or a township office."""
        return [i for i in self.checklist if kind in i.get("applies_to", ("school", "township"))]


class Visit(models.Model):
    """One planned visit of a plan: to a school, or to a township's education office."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        DONE = "done", _("Visited")

    plan = models.ForeignKey(
        InspectionPlan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="visits"
    )
    # The township visited, or the school's township (for scoping without a join).
    township = models.ForeignKey(
        Area, verbose_name=_("township"), on_delete=models.PROTECT, related_name="+"
    )
    school = models.ForeignKey(
        School,
        verbose_name=_("school"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    planned_on = models.DateField(_("planned on"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PLANNED
    )
    visited_on = models.DateField(_("visited on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("inspection visit")
        verbose_name_plural = _("inspection visits")
        ordering = ["plan", "planned_on", "township__code", "school__code", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "school"],
                condition=Q(school__isnull=False),
                name="inspection_visit_school_once",
            ),
            models.UniqueConstraint(
                fields=["plan", "township"],
                condition=Q(school__isnull=True),
                name="inspection_visit_township_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} {self.school_id or self.township_id}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        inner = _county_q(scope)
        return None if inner is None else Q(plan__county_code=scope.county_code)

    @property
    def kind(self) -> str:
        return "school" if self.school_id else "township"

    @property
    def place(self) -> str:
        return self.school.name if self.school is not None else self.township.name


class VisitAnswer(models.Model):
    """One checklist item as a visit found it."""

    class Status(models.TextChoices):
        MET = "met", _("Met")
        NOT_MET = "not_met", _("Not met")
        NOT_APPLICABLE = "not_applicable", _("Not applicable")

    visit = models.ForeignKey(
        Visit, verbose_name=_("visit"), on_delete=models.PROTECT, related_name="answers"
    )
    item_id = models.CharField(_("item"), max_length=40)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("checklist answer")
        verbose_name_plural = _("checklist answers")
        ordering = ["visit", "id"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "item_id"], name="visit_answer_once")
        ]

    def __str__(self) -> str:
        return f"{self.visit_id} {self.item_id} {self.status}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        inner = _county_q(scope)
        return None if inner is None else Q(visit__plan__county_code=scope.county_code)


class SampleCheck(models.Model):
    """One poor student of a visit's sample: was the aid received, in full?"""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Not checked yet")
        FULL = "full", _("Received in full")
        PARTLY = "partly", _("Received in part")
        NONE = "none", _("Not received at all")
        UNREACHABLE = "unreachable", _("Could not reach")

    visit = models.ForeignKey(
        Visit, verbose_name=_("visit"), on_delete=models.PROTECT, related_name="samples"
    )
    # No database constraint: the students' table is partitioned on PostgreSQL
    # (core/partitions.py), and a partitioned table's id alone is not a unique key.
    student = models.ForeignKey(
        Student,
        verbose_name=_("student"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    position = models.PositiveSmallIntegerField(_("position in the sample"))
    # The aid approved for the student in the semester checked, when the sample was drawn.
    amount_due = MoneyField(_("aid approved (yuan)"), default=0)
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=Outcome.choices, default=Outcome.PENDING
    )
    amount_said = MoneyField(_("amount the family says it received"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    checked_on = models.DateField(_("checked on"), null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("verification of aid received")
        verbose_name_plural = _("verifications of aid received")
        ordering = ["visit", "position"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "student"], name="sample_check_once"),
            models.UniqueConstraint(fields=["visit", "position"], name="sample_position_once"),
        ]

    def __str__(self) -> str:
        return f"{self.visit_id} {self.student_id} {self.outcome}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        inner = _county_q(scope)
        return None if inner is None else Q(visit__plan__county_code=scope.county_code)


def finding_evidence_path(instance: Finding, filename: str) -> str:
    day = instance.found_on or timezone.localdate()
    return f"oversight/findings/{instance.plan_id}/{day:%Y%m%d}-{instance.visit_id}.{suffix_of(filename)}"


def entry_evidence_path(instance: RectificationEntry, filename: str) -> str:
    day = instance.happened_on or timezone.localdate()
    return (
        f"oversight/rectifications/{instance.rectification_id}/{day:%Y%m%d}-{instance.kind}"
        f".{suffix_of(filename)}"
    )


class Finding(models.Model):
    """Something a visit found wrong, at a school or a township office (or about a student)."""

    class Severity(models.TextChoices):
        MINOR = "minor", _("Minor")
        SERIOUS = "serious", _("Serious")
        CRITICAL = "critical", _("Critical")

    plan = models.ForeignKey(
        InspectionPlan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="findings"
    )
    visit = models.ForeignKey(
        Visit, verbose_name=_("visit"), on_delete=models.PROTECT, related_name="findings"
    )
    township = models.ForeignKey(
        Area, verbose_name=_("township"), on_delete=models.PROTECT, related_name="+"
    )
    school = models.ForeignKey(
        School,
        verbose_name=_("school"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    student = models.ForeignKey(
        Student,
        verbose_name=_("student"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,  # partitioned on PostgreSQL, as above
    )
    item_id = models.CharField(_("checklist item"), max_length=40, blank=True)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    text = models.CharField(_("finding"), max_length=500)
    found_on = models.DateField(_("found on"))
    evidence = models.FileField(
        _("evidence (photo or scan)"), upload_to=finding_evidence_path, blank=True, max_length=200
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("inspection finding")
        verbose_name_plural = _("inspection findings")
        ordering = ["-found_on", "-id"]
        indexes = [models.Index(fields=["plan", "severity"])]

    def __str__(self) -> str:
        return f"{self.plan_id} {self.severity} {self.text[:30]}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        return _place_q(scope)

    @property
    def place(self) -> str:
        return self.school.name if self.school is not None else self.township.name


class Rectification(models.Model):
    """The rectification (整改) a finding opens: its owner, deadline and close-out."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed (verified)")

    finding = models.OneToOneField(
        Finding,
        verbose_name=_("finding"),
        on_delete=models.PROTECT,
        related_name="rectification",
    )
    # A named person (a principal or a township officer of the place), else the school or
    # township office of the finding as a whole.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    deadline = models.DateField(_("deadline"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rectification")
        verbose_name_plural = _("rectifications")
        ordering = ["deadline", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", closed_on__isnull=True)
                | Q(status="closed", closed_on__isnull=False),
                name="rectification_closed_has_date",
            )
        ]

    def __str__(self) -> str:
        return f"{self.finding_id} {self.deadline} {self.status}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        return _place_q(scope, "finding__")

    def flag(self, on: dt.date) -> str:
        """Return the flag on a date: open, black (overdue), red (closed in time) or late."""
        if self.closed_on is None or self.closed_on > on:
            return Flag.BLACK if on > self.deadline else Flag.OPEN
        return Flag.RED if self.closed_on <= self.deadline else Flag.LATE


class RectificationEntry(models.Model):
    """One line of a rectification's log: its opening, a progress note or the close-out."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Opened")
        PROGRESS = "progress", _("Progress")
        CLOSED = "closed", _("Closed (verified)")

    rectification = models.ForeignKey(
        Rectification,
        verbose_name=_("rectification"),
        on_delete=models.PROTECT,
        related_name="entries",
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    happened_on = models.DateField(_("date"))
    text = models.CharField(_("text"), max_length=1000)
    evidence = models.FileField(
        _("evidence (photo or scan)"), upload_to=entry_evidence_path, blank=True, max_length=200
    )
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("written by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    written_at = models.DateTimeField(_("written at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rectification log entry")
        verbose_name_plural = _("rectification log entries")
        ordering = ["rectification", "happened_on", "id"]

    def __str__(self) -> str:
        return f"{self.rectification_id} {self.kind} {self.happened_on}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        return _place_q(scope, "rectification__finding__")
