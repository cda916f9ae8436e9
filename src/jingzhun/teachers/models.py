"""Teachers of the county's schools, where they served, their training and exchanges (II.3)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jingzhun.core.money import MoneyField
from jingzhun.registry.models import Person
from jingzhun.schools.models import School


def _in_post_q(on: dt.date, prefix: str = "") -> Q:
    """Rows of teachers in post on a date: started by then (or start unknown), not yet left."""
    return (Q(**{f"{prefix}started_on__isnull": True}) | Q(**{f"{prefix}started_on__lte": on})) & (
        Q(**{f"{prefix}left_on__isnull": True}) | Q(**{f"{prefix}left_on__gt": on})
    )


class Teacher(models.Model):
    """A teacher or principal on a school's roster (教师花名册), keyed by the resident ID."""

    class Post(models.TextChoices):
        TEACHER = "teacher", pgettext_lazy("teaching staff", "Teacher")
        PRINCIPAL = "principal", _("Principal")
        OTHER = "other", _("Other staff")

    class Title(models.TextChoices):
        NONE = "none", _("No title")
        JUNIOR = "junior", _("Junior title (初级)")
        INTERMEDIATE = "intermediate", _("Intermediate title (中级)")
        SENIOR = "senior", _("Senior title (高级)")
        FULL_SENIOR = "full_senior", _("Full senior title (正高级)")

    class Staffing(models.TextChoices):
        IN_ESTABLISHMENT = "in_establishment", _("In the establishment (在编)")
        SPECIAL_POST = "special_post", _("Special-post teacher (特岗)")
        CONTRACT = "contract", _("Contract (合同制)")
        SUBSTITUTE = "substitute", _("Substitute (代课)")

    # "Senior title" in the plan (II.3.4): 高级 or 正高级.
    SENIOR_TITLES = (Title.SENIOR, Title.FULL_SENIOR)
    # The posts that count as teachers of a school (staffing, shares); other staff do not.
    TEACHING_POSTS = (Post.TEACHER, Post.PRINCIPAL)

    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    id_cipher = models.BinaryField(null=True, blank=True, editable=False)
    id_key = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    # The roster's key: every teacher has a valid resident ID (the import refuses a row without).
    id_index = models.CharField(max_length=64, unique=True, editable=False)
    id_masked = models.CharField(_("resident ID"), max_length=32, blank=True, editable=False)
    sex = models.CharField(_("sex"), max_length=1, choices=Person.Sex.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    school = models.ForeignKey(
        School, verbose_name=_("school"), on_delete=models.PROTECT, related_name="teachers"
    )
    post = models.CharField(_("post"), max_length=12, choices=Post.choices, default=Post.TEACHER)
    subject = models.CharField(_("subject taught"), max_length=50, blank=True)
    title = models.CharField(
        _("professional title"), max_length=12, choices=Title.choices, default=Title.NONE
    )
    staffing = models.CharField(
        _("staffing status"), max_length=16, choices=Staffing.choices, blank=True
    )
    started_on = models.DateField(_("at the school since"), null=True, blank=True)
    backbone = models.BooleanField(_("backbone teacher (骨干)"), default=False)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    # The salary card the rural teacher living allowance is paid to (II.3.4), sealed.
    bank_name = models.CharField(_("salary-card bank"), max_length=100, blank=True)
    bank_cipher = models.BinaryField(null=True, blank=True, editable=False)
    bank_key = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    bank_index = models.CharField(max_length=64, null=True, blank=True, editable=False)
    bank_masked = models.CharField(
        _("salary card"), max_length=40, blank=True, default="", editable=False
    )
    county_code = models.CharField(_("county code"), max_length=6, db_index=True)
    row_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = pgettext_lazy("teaching staff", "teacher")
        verbose_name_plural = pgettext_lazy("teaching staff", "teachers")
        ordering = ["county_code", "school", "name", "id"]

    def __str__(self) -> str:
        return f"{self.name} {self.id_masked}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level == "county":
            return Q(county_code=scope.county_code)
        if scope.level == "township":
            return Q(school__township__code__startswith=scope.area_code)
        if scope.level == "school":
            return Q(school_id=scope.school_id)
        # A class teacher's jurisdiction is their pupils, not the staff roster.
        return None

    @classmethod
    def in_post_q(cls, on: dt.date) -> Q:
        """Return the condition of a teacher in a teaching post on a date."""
        return Q(post__in=cls.TEACHING_POSTS) & _in_post_q(on)


def _teacher_scope_q(scope: Any) -> Q | None:
    """Scope rows that belong to a teacher as the teacher is scoped (by their school now)."""
    if scope.level == "county":
        return Q(teacher__county_code=scope.county_code)
    if scope.level == "township":
        return Q(teacher__school__township__code__startswith=scope.area_code)
    if scope.level == "school":
        return Q(teacher__school_id=scope.school_id)
    return None


class ServicePeriod(models.Model):
    """A stretch of a teacher's career at one place: a village school, a teaching point, a town.

    The years served at village schools and teaching points decide commendation (II.3.4).
    """

    class Kind(models.TextChoices):
        VILLAGE_SCHOOL = "village_school", _("Village school")
        TEACHING_POINT = "teaching_point", _("Teaching point")
        TOWN_OR_CITY = "town_or_city", _("Town or city school")

    RURAL = (Kind.VILLAGE_SCHOOL, Kind.TEACHING_POINT)

    teacher = models.ForeignKey(
        Teacher,
        verbose_name=pgettext_lazy("teaching staff", "teacher"),
        on_delete=models.PROTECT,
        related_name="service_periods",
    )
    school = models.ForeignKey(
        School,
        verbose_name=_("school"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # A school that is closed or was never on the school list is named in words.
    place = models.CharField(_("place"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    started_on = models.DateField(_("from"))
    ended_on = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("service period")
        verbose_name_plural = _("service periods")
        ordering = ["teacher", "started_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(school__isnull=False) | ~Q(place=""), name="service_period_where"
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="service_period_dates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.teacher_id} {self.kind} {self.started_on}–{self.ended_on or ''}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        return _teacher_scope_q(scope)

    def days_until(self, on: dt.date) -> int:
        """Return the days served by a date (an ongoing period runs to it)."""
        end = min(self.ended_on or on, on)
        return max(0, (end - self.started_on).days)


class Training(models.Model):
    """One teacher's attendance of one training programme: one person-time (人次, II.3.2)."""

    class Level(models.TextChoices):
        NATIONAL = "national", _("National level")
        PROVINCIAL = "provincial", _("Provincial level")
        MUNICIPAL = "municipal", _("Municipal level")
        COUNTY = "county", _("County level")

    teacher = models.ForeignKey(
        Teacher,
        verbose_name=pgettext_lazy("teaching staff", "teacher"),
        on_delete=models.PROTECT,
        related_name="trainings",
    )
    programme = models.CharField(_("training programme"), max_length=200)
    level = models.CharField(_("level"), max_length=12, choices=Level.choices)
    started_on = models.DateField(_("from"))
    ended_on = models.DateField(_("until"))
    hours = models.PositiveIntegerField(_("hours"), default=0)

    class Meta:
        verbose_name = _("training")
        verbose_name_plural = _("trainings")
        ordering = ["started_on", "teacher", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__gte=models.F("started_on")), name="training_dates"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.teacher_id} {self.programme} {self.started_on}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        return _teacher_scope_q(scope)


class Exchange(models.Model):
    """An urban backbone teacher sent to teach at a poor-village school for a time (II.3.3)."""

    teacher = models.ForeignKey(
        Teacher,
        verbose_name=pgettext_lazy("teaching staff", "teacher"),
        on_delete=models.PROTECT,
        related_name="exchanges",
    )
    from_school = models.ForeignKey(
        School,
        verbose_name=_("from school"),
        on_delete=models.PROTECT,
        related_name="exchanges_out",
    )
    to_school = models.ForeignKey(
        School,
        verbose_name=_("to school"),
        on_delete=models.PROTECT,
        related_name="exchanges_in",
    )
    started_on = models.DateField(_("from"))
    ended_on = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("teacher exchange")
        verbose_name_plural = _("teacher exchanges")
        ordering = ["started_on", "teacher", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="exchange_dates",
            ),
            models.CheckConstraint(
                condition=~Q(from_school=models.F("to_school")), name="exchange_two_schools"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.teacher_id} {self.from_school_id}→{self.to_school_id} {self.started_on}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        # Both schools' jurisdictions see an exchange: the sender and the receiver.
        if scope.level in ("county", "township"):
            return Q(to_school__township__code__startswith=scope.area_code) | Q(
                from_school__township__code__startswith=scope.area_code
            )
        if scope.level == "school":
            return Q(to_school_id=scope.school_id) | Q(from_school_id=scope.school_id)
        return None

    @classmethod
    def at_q(cls, on: dt.date) -> Q:
        """Return the condition of an exchange running on a date."""
        return Q(started_on__lte=on) & (Q(ended_on__isnull=True) | Q(ended_on__gte=on))


class AllowanceRuleBook(models.Model):
    """One version of the rural teacher living allowance rules (II.3.4), as installed.

    The shipped book is ``teachers/rules/allowance.yaml``; a county corrects it by installing
    a new version (``jingzhun teachers allowance install``). Lines keep the version they were
    computed by.
    """

    version = models.PositiveIntegerField(_("version"), unique=True)
    source = models.CharField(_("source"), max_length=200)
    data = models.JSONField(_("rules"))
    installed_at = models.DateTimeField(_("installed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("allowance rule book")
        verbose_name_plural = _("allowance rule books")
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"v{self.version}"


class AllowanceLine(models.Model):
    """One teacher's rural living allowance for one month, with its reason (II.3.4).

    One line per teacher and month, by constraint; it is paid once, through ``funds``.
    """

    class Review(models.TextChoices):
        PENDING = "pending", _("To review")
        REVIEWED = "reviewed", _("Reviewed by the school")
        APPROVED = "approved", _("Approved by the county")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    teacher = models.ForeignKey(
        Teacher,
        verbose_name=pgettext_lazy("teaching staff", "teacher"),
        on_delete=models.PROTECT,
        related_name="allowance_lines",
    )
    month = models.DateField(_("month"))  # its first day
    county_code = models.CharField(_("county code"), max_length=6, db_index=True)
    school = models.ForeignKey(
        School,
        verbose_name=_("school"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    amount = MoneyField(_("amount"))
    days = models.PositiveSmallIntegerField(_("days at a village school or teaching point"))
    rule_book = models.ForeignKey(
        AllowanceRuleBook, verbose_name=_("rule book"), on_delete=models.PROTECT, related_name="+"
    )
    # The rules applied and the days at each place, in order (the explanation).
    explanation = models.JSONField(_("explanation"), default=list)
    review = models.CharField(
        _("review"), max_length=10, choices=Review.choices, default=Review.PENDING
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("allowance line")
        verbose_name_plural = _("allowance lines")
        ordering = ["month", "school", "teacher", "id"]
        constraints = [
            models.UniqueConstraint(fields=["teacher", "month"], name="allowance_once_a_month"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="allowance_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.teacher_id} {self.month:%Y-%m} {self.amount}"

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level == "county":
            return Q(county_code=scope.county_code)
        if scope.level == "township":
            return Q(school__township__code__startswith=scope.area_code)
        if scope.level == "school":
            return Q(school_id=scope.school_id)
        return None
