"""Schools, classes, and the student rolls (学籍): students and their enrolments."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from jingzhun.core.partitions import CountyRow
from jingzhun.registry.models import Area, Person


class Stage(models.TextChoices):
    PRESCHOOL = "preschool", _("Preschool")
    PRIMARY = "primary", _("Primary")
    JUNIOR = "junior", _("Junior high")
    SENIOR = "senior", _("General high")
    VOCATIONAL = "vocational", _("Secondary vocational")
    UNIVERSITY = "university", _("University")


class School(models.Model):
    """A school in the county, or an out-of-county school or university a student attends."""

    class Kind(models.TextChoices):
        KINDERGARTEN = "kindergarten", _("Kindergarten")
        TEACHING_POINT = "teaching_point", _("Teaching point")
        PRIMARY = "primary", _("Primary school")
        JUNIOR_HIGH = "junior_high", _("Junior high school")
        NINE_YEAR = "nine_year", _("Nine-year school")
        COMPLETE_SECONDARY = "complete_secondary", _("Complete secondary school")
        GENERAL_HIGH = "general_high", _("General high school")
        VOCATIONAL = "vocational", _("Secondary vocational school")
        SPECIAL = "special", _("Special education school")
        UNIVERSITY = "university", _("University")

    class Location(models.TextChoices):
        IN_COUNTY = "in_county", _("In the county")
        IN_PROVINCE = "in_province", _("Elsewhere in the province")
        OUT_OF_PROVINCE = "out_of_province", _("Outside the province")

    code = models.CharField(_("school code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    location = models.CharField(
        _("location"), max_length=16, choices=Location.choices, default=Location.IN_COUNTY
    )
    township = models.ForeignKey(
        Area,
        verbose_name=_("township"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="schools",
    )
    village = models.ForeignKey(
        Area,
        verbose_name=_("village"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="village_schools",
    )
    in_poor_village = models.BooleanField(_("in a poor village"), default=False)
    boarding = models.BooleanField(_("boarding school"), default=False)
    row_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level == "county":
            # Out-of-county schools are shared reference records, visible to county users.
            return Q(township__code__startswith=scope.area_code) | Q(township__isnull=True)
        if scope.level == "township":
            return Q(township__code__startswith=scope.area_code)
        if scope.level == "school":
            return Q(pk=scope.school_id)
        if scope.level == "class":
            return Q(classes__pk=scope.class_id)
        return None


class SchoolClass(models.Model):
    """A class of one school year, with its head teacher (班主任)."""

    school = models.ForeignKey(
        School, verbose_name=_("school"), on_delete=models.PROTECT, related_name="classes"
    )
    school_year = models.PositiveSmallIntegerField(_("school year"))
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices)
    grade = models.PositiveSmallIntegerField(_("grade"))
    name = models.CharField(_("class"), max_length=30)
    head_teacher_name = models.CharField(_("head teacher"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("class")
        verbose_name_plural = _("classes")
        ordering = ["school", "school_year", "stage", "grade", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "school_year", "stage", "grade", "name"], name="class_unique"
            )
        ]

    def __str__(self) -> str:
        return gettext("%(school)s %(stage)s grade %(grade)d %(class)s") % {
            "school": self.school.name,
            "stage": self.get_stage_display(),
            "grade": self.grade,
            "class": self.name,
        }

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level in ("county", "township"):
            return Q(school__township__code__startswith=scope.area_code)
        if scope.level == "school":
            return Q(school_id=scope.school_id)
        if scope.level == "class":
            return Q(pk=scope.class_id)
        return None


class Student(models.Model):
    """A student as the rolls record them, keyed by the lifelong roll number (学籍号).

    The link to a registry person is made by identification, not by the import:
    rolls carry their own (sometimes wrong or missing) ID numbers.
    """

    class IdStatus(models.TextChoices):
        VALID = "valid", _("Valid")
        MISSING = "missing", _("Missing")
        INVALID = "invalid", _("Invalid")

    # The roll number is usually "G" + the resident ID: it is sealed like the ID itself.
    roll_cipher = models.BinaryField(null=True, blank=True, editable=False)
    roll_key = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    # Unique with the county code (the partition key); the import keys students across counties.
    roll_index = models.CharField(max_length=64, editable=False)
    roll_masked = models.CharField(_("roll number"), max_length=48, editable=False)
    county_code = models.CharField(_("county code"), max_length=6)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    id_cipher = models.BinaryField(null=True, blank=True, editable=False)
    id_key = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    # NULL, not '': rows without a value must not collide in the index.
    id_index = models.CharField(max_length=64, null=True, blank=True, db_index=True, editable=False)
    id_masked = models.CharField(_("resident ID"), max_length=32, blank=True, editable=False)
    id_status = models.CharField(
        _("ID status"), max_length=8, choices=IdStatus.choices, default=IdStatus.MISSING
    )
    # The first 15 digits of a valid ID as a keyed index: what an Excel-mangled registry ID
    # still holds, for linking.
    id15_index = models.CharField(
        max_length=64, null=True, blank=True, db_index=True, editable=False
    )
    # The ID inside a national roll number ("G" + the ID at first registration), when it
    # differs from the ID column: a second witness of who the student is.
    roll_id_index = models.CharField(
        max_length=64, null=True, blank=True, db_index=True, editable=False
    )
    # Several roll rows give one ID to different children (a sibling's ID typed in), or
    # one child has two roll records (重复学籍); identification decides.
    shared_id = models.BooleanField(
        _("ID shared with another roll row"), default=False, db_default=False
    )
    migrant = models.BooleanField(_("migrant child (随迁子女)"), default=False, db_default=False)
    sex = models.CharField(_("sex"), max_length=1, choices=Person.Sex.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    poor_flag = models.BooleanField(_("marked registered-poor on the roll"), default=False)
    person = models.ForeignKey(
        Person,
        verbose_name=_("registry person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="students",
    )
    row_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("student")
        verbose_name_plural = _("students")
        ordering = ["county_code", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["roll_index", "county_code"], name="student_roll_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.roll_masked}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level == "county":
            return Q(county_code=scope.county_code)
        if scope.level == "township":
            return Q(enrolments__school__township__code__startswith=scope.area_code)
        if scope.level == "school":
            return Q(enrolments__school_id=scope.school_id)
        if scope.level == "class":
            return Q(enrolments__school_class_id=scope.class_id)
        return None


class Degree(models.TextChoices):
    ASSOCIATE = "associate", _("Associate (专科)")
    BACHELOR = "bachelor", _("Bachelor (本科)")
    GRADUATE = "graduate", _("Graduate (研究生)")


class Enrolment(CountyRow):
    """A student's enrolment in one school for one school year."""

    class Status(models.TextChoices):
        ENROLLED = "enrolled", _("Enrolled")
        SUSPENDED = "suspended", _("Suspended")
        TRANSFERRED_OUT = "transferred_out", _("Transferred out")
        DROPPED_OUT = "dropped_out", _("Dropped out")
        GRADUATED = "graduated", _("Graduated")

    ACTIVE = (Status.ENROLLED, Status.SUSPENDED)

    # No separate index: the natural-key unique constraint leads with student.
    student = models.ForeignKey(
        Student,
        verbose_name=_("student"),
        on_delete=models.PROTECT,
        related_name="enrolments",
        db_index=False,
    )
    school = models.ForeignKey(
        School, verbose_name=_("school"), on_delete=models.PROTECT, related_name="enrolments"
    )
    school_class = models.ForeignKey(
        SchoolClass,
        verbose_name=_("class"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enrolments",
    )
    school_year = models.PositiveSmallIntegerField(_("school year"))
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices)
    grade = models.PositiveSmallIntegerField(_("grade"))
    boarding = models.BooleanField(_("boarding"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ENROLLED
    )
    # University study: the degree level (never guessed from the grade) and a freshman flag.
    degree = models.CharField(
        _("degree level"), max_length=12, choices=Degree.choices, blank=True, db_default=""
    )
    freshman = models.BooleanField(_("freshman"), default=False, db_default=False)
    status_date = models.DateField(_("status date"), null=True, blank=True)
    enrolled_on = models.DateField(_("enrolled on"), null=True, blank=True)
    row_hash = models.CharField(max_length=64, blank=True, editable=False)
    import_batch = models.ForeignKey(
        "core.ImportBatch",
        verbose_name=_("import"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    # The student's county code (core/partitions.py): the partition key.
    county_code = models.CharField(_("county code"), max_length=6, default="", editable=False)

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        ordering = ["school_year", "school", "stage", "grade"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "school_year", "school", "county_code"],
                name="enrolment_natural_key",
            ),
            models.UniqueConstraint(
                fields=["student", "school_year", "county_code"],
                condition=Q(status__in=["enrolled", "suspended"]),
                name="enrolment_one_active_per_year",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.school_year} {self.school_id}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level == "county":
            return Q(county_code=scope.county_code)
        if scope.level == "township":
            return Q(school__township__code__startswith=scope.area_code)
        if scope.level == "school":
            return Q(school_id=scope.school_id)
        if scope.level == "class":
            return Q(school_class_id=scope.class_id)
        return None
