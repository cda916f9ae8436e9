"""The command centre's own records: what it keeps beside what it reads from the other apps.

The dashboard reads the county's picture through the other apps' selectors and writes none of
their tables. What it keeps is its own: monthly snapshots of the coverages (so that trends can
be drawn), the task books signed by townships and schools, the county's map (boundaries and
points imported from GeoJSON or a shapefile), and draft rule books evaluated before adoption.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jingzhun.schools.models import School


def _county_q(scope: Any) -> Q | None:
    if scope.level == "county" and scope.county_code:
        return Q(county_code=scope.county_code)
    return None


def _unit_q(scope: Any) -> Q | None:
    """Rows about a place (a township and what lies in it) or a school of it."""
    if scope.level == "county" and scope.county_code:
        return Q(county_code=scope.county_code)
    if scope.level == "township":
        return Q(township_code=scope.area_code)
    if scope.level == "school":
        return Q(school_id=scope.school_id)
    return None


class Measure(models.TextChoices):
    IDENTIFICATION = "identification", _("Identification coverage")
    AID = "aid", _("Aid coverage (I.1)")
    SCHOOLS = "schools", _("Schools at the basic standard (I.2)")
    TEACHERS = "teachers", _("Teacher coverage (I.3)")
    DROPOUT = "dropout", _("Dropout control")


class Level(models.TextChoices):
    COUNTY = "county", _("county")
    TOWNSHIP = "township", _("township")
    VILLAGE = "village", _("village")
    SCHOOL = "school", _("school")


class CoverageSnapshot(models.Model):
    """One coverage of one unit (county, township, village or school) as of a month's end."""

    county_code = models.CharField(_("county"), max_length=6, db_index=True)
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    measure = models.CharField(_("measure"), max_length=20, choices=Measure.choices)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    # The area code of a county, township or village, or "school:<id>".
    unit_code = models.CharField(_("unit"), max_length=30)
    unit_name = models.CharField(_("name"), max_length=100, blank=True)
    # The township a unit lies in ("" for the county), for scoping and for drawing per township.
    township_code = models.CharField(_("township"), max_length=12, blank=True, db_index=True)
    school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    covered = models.PositiveIntegerField(_("covered"))
    total = models.PositiveIntegerField(_("total"))
    computed_at = models.DateTimeField(_("computed at"), auto_now=True)

    class Meta:
        verbose_name = _("coverage snapshot")
        verbose_name_plural = _("coverage snapshots")
        ordering = ["month", "measure", "level", "unit_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["county_code", "month", "measure", "level", "unit_code"],
                name="coverage_snapshot_once",
            )
        ]
        indexes = [models.Index(fields=["county_code", "measure", "level", "month"])]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.measure} {self.unit_code}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        return _unit_q(scope)


class TaskBookSignature(models.Model):
    """A township's or school's task book (任务书) for a year, printed, signed and recorded."""

    class Unit(models.TextChoices):
        TOWNSHIP = "township", _("township")
        SCHOOL = "school", _("school")

    county_code = models.CharField(_("county"), max_length=6, db_index=True)
    year = models.PositiveSmallIntegerField(_("year"))
    unit = models.CharField(_("signed by a"), max_length=10, choices=Unit.choices)
    township_code = models.CharField(_("township"), max_length=12, db_index=True)
    school = models.ForeignKey(
        School,
        verbose_name=_("school"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    unit_name = models.CharField(_("name"), max_length=100)
    # The SHA-256 of the PDF that was signed: a later change of targets makes another book.
    document_sha256 = models.CharField(_("document fingerprint"), max_length=64)
    signer_name = models.CharField(_("signed by"), max_length=50)
    signer_title = models.CharField(_("title"), max_length=50, blank=True)
    signed_on = models.DateField(_("signed on"))
    note = models.CharField(_("note"), max_length=300, blank=True)
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
        verbose_name = _("signed task book")
        verbose_name_plural = _("signed task books")
        ordering = ["-year", "township_code", "unit_name", "-recorded_at"]
        constraints = [
            # A township's book names no school: NULLs are distinct on PostgreSQL, so the two
            # kinds of book each have their own rule.
            models.UniqueConstraint(
                fields=[
                    "county_code",
                    "year",
                    "unit",
                    "township_code",
                    "school",
                    "document_sha256",
                ],
                condition=Q(school__isnull=False),
                name="task_book_school_signed_once",
            ),
            models.UniqueConstraint(
                fields=["county_code", "year", "unit", "township_code", "document_sha256"],
                condition=Q(school__isnull=True),
                name="task_book_township_signed_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.unit_name}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        return _unit_q(scope)


class MapFeature(models.Model):
    """One shape of the county's map: a township or village boundary, or a school's point.

    Geometry is a GeoJSON geometry object in longitude/latitude (WGS 84 or CGCS 2000, which
    agree to within a metre at county scale).
    """

    class Kind(models.TextChoices):
        COUNTY = "county", _("county boundary")
        TOWNSHIP = "township", _("township boundary")
        VILLAGE = "village", _("village boundary")
        SCHOOL = "school", _("school")

    county_code = models.CharField(_("county"), max_length=6, db_index=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # The area code of a boundary, or the school's code for a school's point.
    code = models.CharField(_("code"), max_length=20)
    township_code = models.CharField(_("township"), max_length=12, blank=True, db_index=True)
    school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    geometry = models.JSONField(_("geometry"))
    # Bounding box in longitude/latitude, for drawing and for a quick "which shapes are here".
    min_x = models.FloatField()
    min_y = models.FloatField()
    max_x = models.FloatField()
    max_y = models.FloatField()
    source = models.CharField(_("imported from"), max_length=200, blank=True)
    imported_at = models.DateTimeField(_("imported at"), auto_now=True)

    class Meta:
        verbose_name = _("map feature")
        verbose_name_plural = _("map features")
        ordering = ["kind", "code"]
        constraints = [
            models.UniqueConstraint(fields=["county_code", "kind", "code"], name="map_feature_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.code}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        # The map of the county is not personal data: everyone of the county sees its shapes.
        if scope.level in ("county", "township", "school", "class") and scope.county_code:
            return Q(county_code=scope.county_code)
        return None


class RuleDraft(models.Model):
    """A draft of the aid rule book (a copy of the current one, edited) for a what-if."""

    county_code = models.CharField(_("county"), max_length=6, db_index=True)
    school_year = models.PositiveSmallIntegerField(_("school year"))
    name = models.CharField(_("name"), max_length=100)
    # The rule book's YAML, as edited.
    text = models.TextField(_("rule book (YAML)"))
    # The version of the current book the draft was copied from.
    based_on = models.CharField(_("based on"), max_length=100, blank=True)
    digest = models.CharField(max_length=64, editable=False, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("draft rule book")
        verbose_name_plural = _("draft rule books")
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        return _county_q(scope)
