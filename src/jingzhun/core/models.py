"""Shared kernel models: the audit log, the import records, and the abstract bases of runs and
of rows that carry where a child lives and studies."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jingzhun.core.periods import SemesterKind
from jingzhun.core.scoping import place_scope_q


class CountyRun(models.Model):
    """A county-wide job a person (or the CLI, with no one) started: who, when, what it counted.

    Subclasses add their own statuses, inputs and results; every user of the county may read
    its runs (their counts are aggregates), nobody outside it.
    """

    county_code = models.CharField(_("county code"), max_length=6, db_index=True)
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
    counts = models.JSONField(_("counts"), default=dict)
    message = models.TextField(_("message"), blank=True)

    class Meta:
        abstract = True

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.is_empty or not scope.county_code:
            return None
        return Q(county_code=scope.county_code)


class ChildPlace(models.Model):
    """Where a child lives (village code) and studies (school, class), copied onto a row when it
    is written so that scoping needs no join: a township sees the children who live in it and
    those who study in its schools, a school its own, a class its own."""

    village_code = models.CharField(_("village code"), max_length=12)
    school = models.ForeignKey(
        "schools.School",
        verbose_name=_("school"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    school_class = models.ForeignKey(
        "schools.SchoolClass",
        verbose_name=_("class"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        abstract = True

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        return place_scope_q(scope)


class AuditEvent(models.Model):
    """One append-only, hash-chained entry of the audit log."""

    at = models.DateTimeField(_("at"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    data = models.JSONField(_("data"), default=dict)
    ip = models.CharField(_("IP address"), max_length=64, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.actor_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("Audit events are append-only.")

    @classmethod
    def scope_q(cls, scope: Any) -> models.Q | None:
        """The log is county oversight: county-level users see what their county's users did."""
        if scope.level != "county":
            return None
        return models.Q(actor__county_code=scope.county_code)


class ImportBatch(models.Model):
    """One file a user imported, with its outcome and counts."""

    class Kind(models.TextChoices):
        AREAS = "areas", _("Areas")
        SCHOOLS = "schools", _("Schools")
        REGISTRY = "registry", _("Poverty registry")
        ROLLS = "rolls", _("Student rolls")
        UNIVERSITY = "university", _("University students list")
        OUTSIDE = "outside", _("Out-of-county study confirmations")
        POOR_VILLAGES = "poor_villages", _("Poor villages list")
        TEACHERS = "teachers", _("Teacher roster")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        NEEDS_MAPPING = "needs_mapping", _("Columns need mapping")
        REJECTED = "rejected", _("Rejected")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    source = models.CharField(_("source"), max_length=100, blank=True)
    file_name = models.CharField(_("file name"), max_length=255)
    stored_path = models.CharField(_("stored file"), max_length=500)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    county_code = models.CharField(_("county code"), max_length=6, blank=True)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_created = models.PositiveIntegerField(_("created"), default=0)
    rows_updated = models.PositiveIntegerField(_("updated"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rejected"), default=0)
    warnings = models.PositiveIntegerField(_("warnings"), default=0)
    progress_done = models.PositiveIntegerField(_("progress"), default=0)
    progress_total = models.PositiveIntegerField(_("progress total"), default=0)
    progress_stage = models.CharField(
        pgettext_lazy("import progress", "stage"), max_length=64, blank=True
    )
    message = models.TextField(_("message"), blank=True)
    report_path = models.CharField(_("error report"), max_length=500, blank=True)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    proposed_mapping = models.JSONField(_("proposed mapping"), default=dict, blank=True)
    file_headers = models.JSONField(_("file headers"), default=list, blank=True)
    # The school year a file's rows belong to when the file does not say (the national roll
    # export has no school-year column); None: the working year.
    school_year = models.PositiveSmallIntegerField(_("school year"), null=True, blank=True)
    # Strict: the whole file is refused when any row has an error (all or nothing).
    strict = models.BooleanField(_("all or nothing"), default=False)
    rows_set_aside = models.PositiveIntegerField(_("set aside"), default=0)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name}"

    @classmethod
    def scope_q(cls, scope: Any) -> models.Q | None:
        """Imports are county work: visible to county-level users of that county."""
        if scope.level != "county":
            return None
        return models.Q(county_code=scope.county_code)


class ImportChange(models.Model):
    """What an import changed in one existing record (old and new values)."""

    batch = models.ForeignKey(
        ImportBatch, verbose_name=_("import"), on_delete=models.CASCADE, related_name="changes"
    )
    entity = models.CharField(_("entity"), max_length=32)
    key = models.CharField(_("key"), max_length=100)
    action = models.CharField(_("action"), max_length=16)
    changes = models.JSONField(_("changes"), default=dict)

    class Meta:
        verbose_name = _("import change")
        verbose_name_plural = _("import changes")

    def __str__(self) -> str:
        return f"{self.entity} {self.key} {self.action}"


class ColumnMapping(models.Model):
    """A confirmed mapping of a source's file headers to our fields, reused next time."""

    kind = models.CharField(_("kind"), max_length=16, choices=ImportBatch.Kind.choices)
    source = models.CharField(_("source"), max_length=100)
    mapping = models.JSONField(_("mapping"), default=dict)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("column mapping")
        verbose_name_plural = _("column mappings")
        constraints = [
            models.UniqueConstraint(fields=["kind", "source"], name="column_mapping_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.source}"


class SetAsideRow(models.Model):
    """A row an import could not land: kept (encrypted) with its reasons, to fix and land later.

    The original values are sealed, since a row holds ID and bank numbers; only a user who may
    import sees them. A later import that lands a row with the same key closes it.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("To fix")
        FIXED = "fixed", _("Fixed")
        SUPERSEDED = "superseded", _("Set aside again by a later import")
        DISMISSED = "dismissed", _("Dismissed")

    batch = models.ForeignKey(
        ImportBatch, verbose_name=_("import"), on_delete=models.CASCADE, related_name="set_aside"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ImportBatch.Kind.choices)
    county_code = models.CharField(_("county code"), max_length=6, blank=True, db_index=True)
    line = models.PositiveIntegerField(_("line"))
    # The row's natural key as a keyed blind index (never in plaintext), for closing it when
    # a corrected file lands the same record.
    row_key = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    label = models.CharField(_("record"), max_length=100, blank=True)
    reasons = models.JSONField(_("reasons"), default=list)
    values_cipher = models.BinaryField(editable=False)
    values_key = models.PositiveSmallIntegerField(editable=False)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    fixed_by = models.ForeignKey(
        ImportBatch,
        verbose_name=_("fixed by import"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("set-aside row")
        verbose_name_plural = _("set-aside rows")
        ordering = ["batch", "line"]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.line}"

    @classmethod
    def scope_q(cls, scope: Any) -> models.Q | None:
        """County work, like the imports themselves."""
        if scope.level != "county":
            return None
        return models.Q(county_code=scope.county_code)


class DataQualityTask(models.Model):
    """A record that landed with a problem someone outside the platform must fix.

    For example a registry person without a usable ID number (sent back to the poverty
    office), a household that left poverty without its exit year, or one ID on two
    children's roll rows. The record itself is kept and used; the task says what to check.
    """

    class Kind(models.TextChoices):
        ID_MISSING = "id_missing", _("ID number blank")
        ID_EXCEL_NUMBER = "id_excel_number", _("ID number turned into a number by Excel")
        ID_DISABILITY_CARD = "id_disability_card", _("Disability-card number in the ID column")
        ID_INVALID = "id_invalid", _("ID number fails its checks")
        EXIT_YEAR_UNKNOWN = "exit_year_unknown", _("Left poverty, exit year unknown")
        SHARED_ID = "shared_id", _("One ID number on two children's roll rows")
        DUPLICATE_ROLL = "duplicate_roll", _("Duplicate roll records of one child (重复学籍)")
        VERIFY_OUTSIDE = "verify_outside", _("Reported in school, not on the county's rolls")
        SCHOOL_TOWNSHIP = "school_township", _("School taken from the rolls without its township")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices, db_index=True)
    county_code = models.CharField(_("county code"), max_length=6, db_index=True)
    # Where the record lies, for scoping: a village code or a school's township code.
    area_code = models.CharField(_("area code"), max_length=12, blank=True, db_index=True)
    entity = models.CharField(_("entity"), max_length=32)
    object_id = models.BigIntegerField(_("object id"))
    label = models.CharField(_("record"), max_length=100, blank=True)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    batch = models.ForeignKey(
        ImportBatch,
        verbose_name=_("import"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("data-quality task")
        verbose_name_plural = _("data-quality tasks")
        ordering = ["kind", "area_code", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "entity", "object_id"],
                condition=models.Q(status="open"),
                name="dq_task_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.entity}:{self.object_id}"

    @classmethod
    def scope_q(cls, scope: Any) -> models.Q | None:
        if scope.level == "county":
            return models.Q(county_code=scope.county_code)
        if scope.level == "township":
            return models.Q(area_code__startswith=scope.area_code)
        return None


class CountyProfile(models.Model):
    """A county's own settings, set by ``jingzhun county-setup``: its name and working year.

    The working school year is the year imports and pages assume when a file or a request
    does not say (see ``jingzhun.core.working_year``).
    """

    county_code = models.CharField(_("county code"), max_length=6, unique=True)
    name = models.CharField(_("name"), max_length=100)
    # Null: follow today's date. Set while last year still closes (or to plan ahead).
    working_year = models.PositiveSmallIntegerField(
        _("working school year"),
        null=True,
        blank=True,
        help_text=_("Leave empty to follow today's date (a school year starts on 1 September)."),
    )
    working_semester = models.CharField(
        _("working semester"),
        max_length=8,
        blank=True,
        default="",
        db_default="",
        choices=SemesterKind.choices,
        help_text=_("Leave empty to follow today's date."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("county profile")
        verbose_name_plural = _("county profiles")
        ordering = ["county_code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.county_code})"

    @classmethod
    def scope_q(cls, scope: Any) -> models.Q | None:
        """County settings: visible to the county's users."""
        if not scope.county_code:
            return None
        return models.Q(county_code=scope.county_code)
