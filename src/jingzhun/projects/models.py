"""School conditions in poor villages (II.2): the basic standard, condition surveys, projects.

The basic standard (义务教育学校基本办学条件) is data: a versioned list of items shipped in
``rules/`` and loaded into :class:`StandardVersion` and :class:`StandardItem`; the county edits
it in the platform, and each edit makes a new version valid from a date. A
:class:`Survey` records, for one school on one date, whether each item is met; a school
reaches the standard when every item that applies to it is met (or not applicable) in its
latest survey (coverage I.2). A :class:`Project` (kindergarten, 全面改薄, 三通两平台, ...)
brings items up to standard through dated time nodes, red when closed in time and black when
overdue (III.1 挂图作战); its acceptance (验收) writes a new survey.
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
from jingzhun.registry.models import Area
from jingzhun.schools.models import School


def _everyone_q(scope: Any) -> Q | None:
    """The standard is public within the county: anyone with a jurisdiction sees it."""
    return Q() if scope.level in ("county", "township", "school", "class") else None


def _school_scope_q(scope: Any, prefix: str = "") -> Q | None:
    """Scope rows that belong to a school as the school is scoped (by its township)."""
    if scope.level in ("county", "township"):
        return Q(**{f"{prefix}school__township__code__startswith": scope.area_code})
    if scope.level == "school":
        return Q(**{f"{prefix}school_id": scope.school_id})
    # A class teacher's jurisdiction is their pupils, not the school's buildings.
    return None


class StandardVersion(models.Model):
    """One version of the basic standard, valid from a date until the next version's."""

    number = models.PositiveIntegerField(_("version"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    valid_from = models.DateField(_("valid from"))
    # The file it was loaded from, or empty when the county edited the previous version.
    source = models.CharField(_("loaded from"), max_length=100, blank=True)
    digest = models.CharField(max_length=64, blank=True, editable=False)
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
        verbose_name = _("basic standard version")
        verbose_name_plural = _("basic standard versions")
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"

    @classmethod
    def current(cls, on: dt.date) -> StandardVersion | None:
        """Return the version valid on a date: the latest begun by then."""
        return cls.objects.filter(valid_from__lte=on).order_by("-valid_from", "-number").first()

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        return _everyone_q(scope)


class StandardItem(models.Model):
    """One item of a version of the basic standard, and the school kinds it applies to."""

    version = models.ForeignKey(
        StandardVersion,
        verbose_name=_("version"),
        on_delete=models.PROTECT,
        related_name="items",
    )
    code = models.CharField(_("item"), max_length=40)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    clause = models.CharField(_("clause"), max_length=20)
    basis = models.CharField(_("basis"), max_length=200)
    text_zh = models.CharField(_("wording (Chinese)"), max_length=300)
    text_en = models.CharField(_("wording (English)"), max_length=300)
    kinds = models.JSONField(_("school kinds"), default=list)
    boarding_only = models.BooleanField(_("boarding schools only"), default=False)

    class Meta:
        verbose_name = _("basic standard item")
        verbose_name_plural = _("basic standard items")
        ordering = ["version", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="standard_item_once")
        ]

    def __str__(self) -> str:
        return self.code

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        return _everyone_q(scope)

    def applies_to(self, school: School) -> bool:
        """Return whether the item applies to a school of its kind (and boarding)."""
        return school.kind in self.kinds and (school.boarding or not self.boarding_only)

    def wording(self, language: str) -> str:
        return self.text_zh if language.startswith("zh") else self.text_en


class Survey(models.Model):
    """A survey of one school's conditions on a date, item by item (its answers)."""

    school = models.ForeignKey(
        School, verbose_name=_("school"), on_delete=models.PROTECT, related_name="+"
    )
    surveyed_on = models.DateField(_("surveyed on"))
    standard = models.ForeignKey(
        StandardVersion,
        verbose_name=_("basic standard version"),
        on_delete=models.PROTECT,
        related_name="surveys",
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    # Set when the survey was written by a project's acceptance (验收).
    project = models.ForeignKey(
        "Project",
        verbose_name=_("accepted project"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="surveys",
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
        verbose_name = _("condition survey")
        verbose_name_plural = _("condition surveys")
        ordering = ["school", "surveyed_on", "id"]
        indexes = [models.Index(fields=["school", "surveyed_on"])]

    def __str__(self) -> str:
        return f"{self.school_id} {self.surveyed_on}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        return _school_scope_q(scope)


class SurveyAnswer(models.Model):
    """Whether one item is met at the school, as the survey found it."""

    class Status(models.TextChoices):
        MET = "met", _("Met")
        NOT_MET = "not_met", _("Not met")
        NOT_APPLICABLE = "not_applicable", _("Not applicable")

    survey = models.ForeignKey(
        Survey, verbose_name=_("survey"), on_delete=models.PROTECT, related_name="answers"
    )
    # The item's code, not its row: an edit of the standard makes new rows with the same codes.
    item_code = models.CharField(_("item"), max_length=40)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    evidence_ref = models.CharField(_("evidence (file reference)"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        ordering = ["survey", "item_code"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "item_code"], name="survey_answer_once")
        ]

    def __str__(self) -> str:
        return f"{self.survey_id} {self.item_code} {self.status}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        return _school_scope_q(scope, "survey__")


class Project(models.Model):
    """A construction or equipment project at a school or in a village (II.2)."""

    class Kind(models.TextChoices):
        KINDERGARTEN = "kindergarten", _("Kindergarten (II.2.2)")
        RENOVATION = "renovation", _("Weak-school renovation, 全面改薄 (II.2.3)")
        INFORMATIZATION = "informatization", _("Informatization, 三通两平台 (II.2.4)")
        SPECIAL_EDUCATION = "special_education", _("Special-education resource classroom (II.2.6)")
        CARE_CENTRE = "care_centre", _("Left-behind children care centre (II.2.6)")
        TEACHING_POINT = "teaching_point", _("New teaching point (II.2.1)")
        NINE_YEAR = "nine_year", _("Nine-year school (II.2.1)")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    school = models.ForeignKey(
        School,
        verbose_name=_("school"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # A project for a school not yet built (a new kindergarten or teaching point) names the
    # village; one at an existing school may name its village too.
    village = models.ForeignKey(
        Area,
        verbose_name=_("village"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The township (9 digits) the project lies in, copied at creation so that scoping and the
    # task book need no join: the school's township, else the village's.
    township_code = models.CharField(_("township code"), max_length=9, db_index=True)
    in_poor_village = models.BooleanField(_("in a poor village"), default=False)
    plan_year = models.PositiveSmallIntegerField(_("plan year"))
    # The checklist items (StandardItem codes) the project brings up to standard.
    items = models.JSONField(_("items brought up to standard"), default=list, blank=True)
    note = models.TextField(_("note"), blank=True)
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
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["plan_year", "township_code", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(school__isnull=False) | Q(village__isnull=False),
                name="project_school_or_village",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan_year} {self.name}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level in ("county", "township"):
            return Q(township_code__startswith=scope.area_code)
        if scope.level == "school":
            return Q(school_id=scope.school_id)
        return None


class BudgetLine(models.Model):
    """A part of a project's budget from one funding source, in yuan."""

    class Source(models.TextChoices):
        CENTRAL = "central", _("Central government")
        PROVINCIAL = "provincial", _("Provincial government")
        MUNICIPAL = "municipal", _("Municipal government")
        COUNTY = "county", _("County government")
        DONATION = "donation", _("Social donation")
        OTHER = "other", _("Other")

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="budget_lines"
    )
    source = models.CharField(_("funding source"), max_length=12, choices=Source.choices)
    amount = MoneyField(_("amount (yuan)"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("budget line")
        verbose_name_plural = _("budget lines")
        ordering = ["project", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="budget_line_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.source} {self.amount}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        inner = Project.scope_q(scope)
        return None if inner is None else Q(project__in=Project.objects.filter(inner))


class Flag(models.TextChoices):
    """A time node's flag on the wall chart (挂图作战, III.1)."""

    OPEN = "open", _("Open")
    BLACK = "black", _("Overdue (black flag)")
    RED = "red", _("Done in time (red flag)")
    LATE = "late", _("Done late")


def node_evidence_path(instance: ProjectNode, filename: str) -> str:
    day = instance.closed_on or timezone.localdate()
    return (
        f"projects/evidence/{instance.project_id}/{day:%Y%m%d}-{instance.kind}"
        f".{suffix_of(filename)}"
    )


class ProjectNode(models.Model):
    """One time node of a project (立项, 审批, 招标, 开工, 竣工, 验收) with its due date."""

    class Kind(models.TextChoices):
        SETUP = "setup", _("Set-up (立项)")
        APPROVAL = "approval", _("Approval (审批)")
        TENDER = "tender", _("Tender (招标)")
        WORKS_START = "works_start", _("Start of works (开工)")
        COMPLETION = "completion", _("Completion (竣工)")
        ACCEPTANCE = "acceptance", _("Acceptance (验收)")

    ORDER = (
        Kind.SETUP,
        Kind.APPROVAL,
        Kind.TENDER,
        Kind.WORKS_START,
        Kind.COMPLETION,
        Kind.ACCEPTANCE,
    )

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="nodes"
    )
    kind = models.CharField(_("node"), max_length=12, choices=Kind.choices)
    position = models.PositiveSmallIntegerField(_("position"))
    due_on = models.DateField(_("due on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    evidence_ref = models.CharField(_("evidence (file reference)"), max_length=200, blank=True)
    # The photo or scan itself (sealed on disk, streamed only through the scoped view).
    evidence = models.FileField(
        _("evidence (photo or scan)"), upload_to=node_evidence_path, blank=True, max_length=200
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("project time node")
        verbose_name_plural = _("project time nodes")
        ordering = ["project", "position"]
        constraints = [
            models.UniqueConstraint(fields=["project", "kind"], name="project_node_once"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.kind} {self.due_on}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        inner = Project.scope_q(scope)
        return None if inner is None else Q(project__in=Project.objects.filter(inner))

    def closed_by_date(self, on: dt.date) -> bool:
        return self.closed_on is not None and self.closed_on <= on

    def flag(self, on: dt.date) -> str:
        """Return the node's flag on a date: open, black (overdue), red (in time) or late."""
        if not self.closed_by_date(on):
            return Flag.BLACK if on > self.due_on else Flag.OPEN
        assert self.closed_on is not None
        return Flag.RED if self.closed_on <= self.due_on else Flag.LATE


class QualityHighSchool(models.Model):
    """A high school the county counts as a quality one (优质高中) for the quotas of II.2.5:
    the share of its places taken by children of poor villages and townships is tracked."""

    school = models.OneToOneField(
        School,
        verbose_name=_("school"),
        on_delete=models.PROTECT,
        related_name="quality_high",
    )
    designated_on = models.DateField(_("designated on"))
    designated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("designated by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("quality high school")
        verbose_name_plural = _("quality high schools")
        ordering = ["school__code"]

    def __str__(self) -> str:
        return str(self.school_id)

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        # The list of quality schools is public within the county, as the standard is.
        return _everyone_q(scope)
