"""The poverty registry: areas, poor households and their members."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jingzhun.core.partitions import CountyRow


class Area(models.Model):
    """A county (6-digit code), township (9) or village (12-digit statistical code)."""

    class Level(models.TextChoices):
        COUNTY = "county", _("County")
        TOWNSHIP = "township", _("Township")
        VILLAGE = "village", _("Village")

    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    is_poor = models.BooleanField(_("poor village"), default=False)
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def county_code(self) -> str:
        return self.code[:6]

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level in ("county", "township"):
            # A township officer also sees the county it lies in, as a label.
            return Q(code__startswith=scope.area_code) | Q(code=scope.area_code[:6])
        return None


class Household(models.Model):
    """A registered-poor household with its filed card (建档立卡户)."""

    class Status(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        LEFT_POVERTY = "left_poverty", _("Left poverty")
        REMOVED = "removed", _("Removed")

    household_no = models.CharField(_("filed-card number"), max_length=32, unique=True)
    village = models.ForeignKey(
        Area, verbose_name=_("village"), on_delete=models.PROTECT, related_name="households"
    )
    # The national export carries no registration year.
    registration_year = models.PositiveSmallIntegerField(
        _("registration year"), null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.REGISTERED
    )
    exit_year = models.PositiveSmallIntegerField(_("year left poverty"), null=True, blank=True)
    # 返贫: left poverty once and registered again (its status history shows when).
    relapsed = models.BooleanField(_("returned to poverty (返贫)"), default=False, db_default=False)
    poverty_cause = models.CharField(_("poverty cause"), max_length=100, blank=True)
    minimum_income = models.BooleanField(_("minimum-income (dibao)"), default=False)
    bank_name = models.CharField(_("benefits-card bank"), max_length=100, blank=True)
    bank_cipher = models.BinaryField(null=True, blank=True, editable=False)
    bank_key = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    # NULL, not '': rows without a value must not collide in the index.
    bank_index = models.CharField(
        max_length=64, null=True, blank=True, db_index=True, editable=False
    )
    bank_masked = models.CharField(
        _("benefits-card account"), max_length=32, blank=True, editable=False
    )
    row_hash = models.CharField(max_length=64, blank=True, editable=False)
    import_batch = models.ForeignKey(
        "core.ImportBatch",
        verbose_name=_("import"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = _("poor household")
        verbose_name_plural = _("poor households")
        ordering = ["household_no"]

    def __str__(self) -> str:
        return self.household_no

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level in ("county", "township"):
            return Q(village__code__startswith=scope.area_code)
        return None


class HouseholdStatusChange(models.Model):
    """One dated entry of a household's status history."""

    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.CASCADE,
        related_name="status_history",
    )
    status = models.CharField(_("status"), max_length=16, choices=Household.Status.choices)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    recorded_on = models.DateField(_("recorded on"))
    import_batch = models.ForeignKey(
        "core.ImportBatch",
        verbose_name=_("import"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("household status change")
        verbose_name_plural = _("household status changes")
        ordering = ["household", "recorded_on", "id"]

    def __str__(self) -> str:
        return f"{self.household_id} {self.status} {self.recorded_on}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level in ("county", "township"):
            return Q(household__village__code__startswith=scope.area_code)
        return None


class Person(CountyRow):
    """A member of a registered-poor household."""

    class Sex(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="members"
    )

    class IdStatus(models.TextChoices):
        VALID = "valid", _("Valid")
        MISSING = "missing", _("Blank")
        EXCEL_NUMBER = "excel_number", _("Turned into a number by Excel")
        INVALID = "invalid", _("Fails its checks")

    # 人口编号: the person's number in the national poverty-alleviation system. It keys a
    # person whose ID number is blank or unusable.
    # Unique with the county code (a partitioned table's keys include it; the import keys
    # persons across counties, so a number is still held once).
    person_no = models.CharField(_("person number"), max_length=40, null=True, blank=True)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    id_cipher = models.BinaryField(null=True, blank=True, editable=False)
    id_key = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    # NULL when the registry gives no usable ID (then person_no keys the person).
    id_index = models.CharField(max_length=64, null=True, editable=False)
    id_masked = models.CharField(_("resident ID"), max_length=32, blank=True, editable=False)
    id_status = models.CharField(
        _("ID number"),
        max_length=16,
        choices=IdStatus.choices,
        default=IdStatus.VALID,
        db_default=IdStatus.VALID,
    )
    # The digits an Excel-mangled ID still holds (the first 15), as a keyed index: partial
    # evidence for linking.
    id15_index = models.CharField(
        max_length=64, null=True, blank=True, db_index=True, editable=False
    )
    education = models.CharField(
        _("education (文化程度)"), max_length=20, blank=True, db_default=""
    )
    school_status = models.CharField(
        _("in-school status (在校生状况)"), max_length=20, blank=True, db_default=""
    )
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    relation = models.CharField(_("relation to head"), max_length=20, blank=True)
    ethnicity = models.CharField(_("ethnicity"), max_length=20, blank=True)
    disability_kind = models.CharField(_("disability kind"), max_length=20, blank=True)
    disability_grade = models.PositiveSmallIntegerField(
        _("disability grade"), null=True, blank=True
    )
    left_behind = models.BooleanField(_("left-behind child"), default=False)
    guardian_name = models.CharField(_("guardian name"), max_length=50, blank=True)
    guardian_id_cipher = models.BinaryField(null=True, blank=True, editable=False)
    guardian_id_key = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    # NULL, not '': rows without a value must not collide in the index.
    guardian_id_index = models.CharField(
        max_length=64, null=True, blank=True, db_index=True, editable=False
    )
    guardian_id_masked = models.CharField(
        _("guardian ID"), max_length=32, blank=True, editable=False
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    row_hash = models.CharField(max_length=64, blank=True, editable=False)
    # The county of the household's village (core/partitions.py): the partition key.
    county_code = models.CharField(_("county code"), max_length=6, default="", editable=False)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering = ["household", "id"]
        constraints = [
            models.UniqueConstraint(fields=["person_no", "county_code"], name="person_no_unique"),
            models.UniqueConstraint(fields=["id_index", "county_code"], name="person_id_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.id_masked}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        # The row's own county code first: PostgreSQL reads only the county's partition.
        if scope.level == "county":
            return Q(county_code=scope.area_code[:6])
        if scope.level == "township":
            return Q(county_code=scope.area_code[:6]) & Q(
                household__village__code__startswith=scope.area_code
            )
        # Schools and classes see their students (schools.Student), not the registry itself.
        return None
