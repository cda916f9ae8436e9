"""Identification (数据比对): registry x rolls links, each child's status, and what changed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jingzhun.core.models import CountyRun
from jingzhun.core.partitions import CountyRow
from jingzhun.core.scoping import place_scope_q
from jingzhun.registry.models import Person
from jingzhun.schools.models import Enrolment, School, Student

USER_MODEL = settings.AUTH_USER_MODEL  # (a run has a field named `settings`)


def _township_scope(scope: Any, *, by_class: bool = False) -> Q | None:
    """Scope rows that carry a child's home village and school.

    A township sees the children who live in it and those who study in its schools;
    a school its own students; a class (only where the row knows the enrolment) its own.
    """
    return place_scope_q(scope, class_field="enrolment__school_class" if by_class else None)


class IdentificationRun(CountyRun):
    """One run of matching and classification, with its inputs, settings and counts."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        # Computed, waiting for an officer to confirm it: nothing reads it as the current run.
        PREVIEW = "preview", _("Preview, not confirmed")
        # Confirmed: the latest such run is the county's current picture.
        DONE = "done", _("Confirmed")
        DISCARDED = "discarded", _("Discarded")
        FAILED = "failed", _("Failed")

    as_of = models.DateField(_("as of"))
    school_year = models.PositiveSmallIntegerField(_("school year"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    inputs = models.JSONField(_("inputs"), default=dict)
    inputs_hash = models.CharField(_("inputs hash"), max_length=64, db_index=True)
    settings = models.JSONField(_("settings"), default=dict)
    model = models.JSONField(_("linkage model"), default=dict, blank=True)
    previous = models.ForeignKey(
        "self",
        verbose_name=_("previous run"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # A preview that would move more than the set share of enrolled children out of school.
    held = models.BooleanField(_("held"), default=False)
    # What the preview changes against the run that was current when it was computed.
    diff = models.JSONField(_("differences"), default=dict, blank=True)
    # The county-wide state (links, duplicates, candidates) written only when confirmed.
    pending = models.JSONField(_("waiting for confirmation"), default=dict, blank=True)

    class Meta:
        verbose_name = _("identification run")
        verbose_name_plural = _("identification runs")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.as_of}"


class Link(CountyRow):
    """A registry person recognised as a student on the rolls (one to one)."""

    class Method(models.TextChoices):
        EXACT = "exact", _("ID number, verified")
        FUZZY = "fuzzy", _("Probabilistic, automatic")
        REVIEWED = "reviewed", _("Confirmed by a person")

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="links"
    )
    student = models.OneToOneField(
        Student, verbose_name=_("student"), on_delete=models.CASCADE, related_name="link"
    )
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    probability = models.FloatField(_("match probability"), null=True, blank=True)
    run = models.ForeignKey(
        IdentificationRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="links"
    )
    # The student's county code (core/partitions.py); links stay one table (see there).
    county_code = models.CharField(
        _("county code"), max_length=6, default="", editable=False, db_index=True
    )

    class Meta:
        verbose_name = _("link")
        verbose_name_plural = _("links")
        constraints = [
            models.UniqueConstraint(fields=["person"], name="link_one_student_per_person")
        ]

    def __str__(self) -> str:
        return f"{self.person_id} = {self.student_id}"


class ChildStatus(models.Model):
    """Where one registry child (aged 3-22) stands as of a run."""

    class Category(models.TextChoices):
        ENROLLED_IN_COUNTY = "in_county", _("Enrolled in the county")
        ENROLLED_OUT_OF_COUNTY = "out_of_county", _("Enrolled outside the county")
        HOME_TEACHING = "home_teaching", _("Taught at home (送教上门)")
        PRESCHOOL_NOT_ENROLLED = "preschool_not_enrolled", _("Preschool age, not in kindergarten")
        SUSPECTED_DROPOUT = (
            "suspected_dropout",
            _("Compulsory age, not enrolled (suspected dropout)"),
        )
        DROPPED_OUT = "dropped_out", _("Dropped out")
        TO_VERIFY_OUTSIDE = (
            "to_verify_outside",
            _("Reported in school, not on the county's rolls: verify study outside the county"),
        )
        NOT_CONTINUING = (
            "not_continuing",
            _("Finished junior or senior high, not continuing (两后生)"),
        )
        FINISHED_STUDY = "finished_study", _("Finished study")

    run = models.ForeignKey(IdentificationRun, on_delete=models.CASCADE, related_name="statuses")
    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="+"
    )
    category = models.CharField(_("status"), max_length=24, choices=Category.choices)
    age = models.PositiveSmallIntegerField(_("age"))
    household_status = models.CharField(_("household status"), max_length=16)
    village_code = models.CharField(_("village code"), max_length=12)
    student = models.ForeignKey(
        Student,
        verbose_name=_("student"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    enrolment = models.ForeignKey(
        Enrolment,
        verbose_name=_("enrolment"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    school = models.ForeignKey(
        School,
        verbose_name=_("school"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    stage = models.CharField(_("stage"), max_length=12, blank=True)
    grade = models.PositiveSmallIntegerField(_("grade"), null=True, blank=True)
    boarding = models.BooleanField(_("boarding"), default=False)
    enrolment_status = models.CharField(_("roll status"), max_length=16, blank=True)
    returned = models.BooleanField(_("returned after dropping out"), default=False)
    link_method = models.CharField(_("found by"), max_length=10, blank=True)
    known = models.BooleanField(_("status known"), default=False)

    class Meta:
        verbose_name = _("child status")
        verbose_name_plural = _("child statuses")
        constraints = [
            models.UniqueConstraint(fields=["run", "person"], name="status_once_per_run")
        ]
        indexes = [models.Index(fields=["run", "category"])]

    def __str__(self) -> str:
        return f"{self.person_id} {self.category}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        return _township_scope(scope, by_class=True)


class RunChange(models.Model):
    """What a run found different from the run before it."""

    class Kind(models.TextChoices):
        NEW_POOR_STUDENT = "new_poor_student", _("Newly identified poor student")
        LEFT_POVERTY = "left_poverty", _("Household left poverty")
        TRANSFER = "transfer", _("Changed school")
        NEW_DROPOUT = "new_dropout", _("New dropout or suspected dropout")
        RETURNED = "returned", _("Returned to school")
        GRADUATED = "graduated", _("Graduated")

    run = models.ForeignKey(IdentificationRun, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(_("change"), max_length=20, choices=Kind.choices)
    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="+"
    )
    village_code = models.CharField(_("village code"), max_length=12)
    school = models.ForeignKey(
        School,
        verbose_name=_("school"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    before = models.CharField(_("before"), max_length=24, blank=True)
    after = models.CharField(_("after"), max_length=24, blank=True)

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("changes")

    def __str__(self) -> str:
        return f"{self.kind} {self.person_id}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        return _township_scope(scope)


class Discrepancy(models.Model):
    """A disagreement between the registry and the rolls that someone should look at."""

    class Kind(models.TextChoices):
        POOR_ON_ROLL_NOT_IN_REGISTRY = (
            "not_in_registry",
            _("Marked poor on the roll, not in the registry"),
        )
        BIRTH_DATE = "birth_date", _("Birth dates disagree")
        SEX = "sex", _("Sex disagrees")

    run = models.ForeignKey(
        IdentificationRun, on_delete=models.CASCADE, related_name="discrepancies"
    )
    kind = models.CharField(_("discrepancy"), max_length=20, choices=Kind.choices)
    student = models.ForeignKey(
        Student, verbose_name=_("student"), on_delete=models.CASCADE, related_name="+"
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    school = models.ForeignKey(
        School,
        verbose_name=_("school"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    village_code = models.CharField(_("village code"), max_length=12, blank=True)

    class Meta:
        verbose_name = _("discrepancy")
        verbose_name_plural = _("discrepancies")

    def __str__(self) -> str:
        return f"{self.kind} {self.student_id}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        return _township_scope(scope)


class ReviewCandidate(models.Model):
    """A probable link a person of the right jurisdiction must accept or reject."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="+"
    )
    student = models.ForeignKey(
        Student, verbose_name=_("student"), on_delete=models.CASCADE, related_name="+"
    )
    probability = models.FloatField(_("match probability"))
    evidence = models.JSONField(_("evidence"), default=dict)
    village_code = models.CharField(_("village code"), max_length=12)
    school = models.ForeignKey(
        School,
        verbose_name=_("school"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decision = models.CharField(
        _("decision"), max_length=10, choices=Decision.choices, default=Decision.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    run = models.ForeignKey(IdentificationRun, on_delete=models.CASCADE, related_name="candidates")

    class Meta:
        verbose_name = _("review candidate")
        verbose_name_plural = _("review candidates")
        constraints = [models.UniqueConstraint(fields=["person", "student"], name="candidate_once")]

    def __str__(self) -> str:
        return f"{self.person_id} ? {self.student_id}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        return _township_scope(scope)


class HomeTeaching(models.Model):
    """A severely disabled child taught at home (送教上门): not a dropout."""

    person = models.ForeignKey(
        Person, verbose_name=_("child"), on_delete=models.CASCADE, related_name="+"
    )
    teacher_name = models.CharField(_("teacher"), max_length=50)
    schedule = models.CharField(_("schedule"), max_length=100, blank=True)
    since = models.DateField(_("since"))
    until = models.DateField(_("until"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("home teaching")
        verbose_name_plural = _("home teaching")

    def __str__(self) -> str:
        return f"{self.person_id} {self.teacher_name}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level in ("county", "township"):
            return Q(person__household__village__code__startswith=scope.area_code)
        return None


class RollDuplicate(models.Model):
    """A second roll record of a linked child (重复学籍): the same child, not another one.

    The child's link stays on one record (aid and casework follow it, so nothing is paid
    twice); this one is tied to the same person so the county can ask the school to merge
    the records. Current state, rewritten by every run.
    """

    run = models.ForeignKey(
        IdentificationRun, on_delete=models.CASCADE, related_name="roll_duplicates"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="+"
    )
    student = models.OneToOneField(
        Student, verbose_name=_("duplicate record"), on_delete=models.CASCADE, related_name="+"
    )
    primary = models.ForeignKey(
        Student, verbose_name=_("linked record"), on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("duplicate roll record")
        verbose_name_plural = _("duplicate roll records")

    def __str__(self) -> str:
        return f"{self.student_id} = {self.primary_id}"


class OutOfCountyProof(models.Model):
    """A recorded proof that a child studies outside the county (a migrant child's school)."""

    person = models.ForeignKey(
        Person, verbose_name=_("child"), on_delete=models.CASCADE, related_name="+"
    )
    school_year = models.PositiveSmallIntegerField(_("school year"))
    school_name = models.CharField(_("school"), max_length=100)
    place = models.CharField(_("place"), max_length=100)
    proof = models.CharField(_("proof"), max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("proof of study outside the county")
        verbose_name_plural = _("proofs of study outside the county")

    def __str__(self) -> str:
        return f"{self.person_id} {self.school_name}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level in ("county", "township"):
            return Q(person__household__village__code__startswith=scope.area_code)
        return None


class ProvinceRun(models.Model):
    """A province's identification: one task per county on the task queue (province.py).

    Each county's run is that county's own run, confirmed as its current run unless held;
    this record only follows them (one :class:`ProvinceCountyRun` per county) and sums them up.
    """

    province = models.CharField(_("province code"), max_length=2, db_index=True)
    as_of = models.DateField(_("as of"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("province run")
        verbose_name_plural = _("province runs")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.province} {self.as_of}"


class ProvinceCountyRun(models.Model):
    """One county's part of a province run: its state, its run, its counts or its error."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        # Confirmed as the county's current run (or its inputs were unchanged since it).
        CONFIRMED = "confirmed", _("Confirmed")
        UNCHANGED = "unchanged", _("Unchanged since the current run")
        # A preview moving too many enrolled children out of school: an officer decides.
        HELD = "held", _("Held for an officer")
        FAILED = "failed", _("Failed")

    province_run = models.ForeignKey(
        ProvinceRun,
        verbose_name=_("province run"),
        on_delete=models.CASCADE,
        related_name="counties",
    )
    county_code = models.CharField(_("county code"), max_length=6)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    run = models.ForeignKey(
        IdentificationRun,
        verbose_name=_("run"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("county of a province run")
        verbose_name_plural = _("counties of a province run")
        ordering = ["county_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["province_run", "county_code"], name="province_run_county_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.county_code} {self.state}"
