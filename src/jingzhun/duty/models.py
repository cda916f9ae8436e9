"""Duty (III.1): the responsibility chain and dropout casework (控辍保学) until close-out (销号)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jingzhun.accounts.models import StaffMember
from jingzhun.core.evidence import suffix_of
from jingzhun.core.models import ChildPlace
from jingzhun.core.scoping import place_scope_q
from jingzhun.registry.models import Area, Person
from jingzhun.schools.models import Enrolment, School, SchoolClass, Student


class Assignment(models.Model):
    """One link of the chain: who answers for what, from when until when.

    Reassigning ends the current assignment and starts a new one, so the history stays.
    A poor student's responsible person is their class's teacher unless an assignment of
    kind STUDENT names someone else.
    """

    class Kind(models.TextChoices):
        TOWNSHIP = "township", _("Bureau leader for a township")
        SCHOOL = "school", _("Central-school head for a school")
        CLASS = "class", _("Principal for a class")
        STUDENT = "student", _("Responsible person for a poor student")
        VILLAGE = "village", _("School contact person for a poor village")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    holder = models.ForeignKey(
        StaffMember,
        verbose_name=_("responsible person"),
        on_delete=models.PROTECT,
        related_name="duty_assignments",
    )
    township = models.ForeignKey(
        Area,
        verbose_name=_("township"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    village = models.ForeignKey(
        Area,
        verbose_name=_("village"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    school = models.ForeignKey(
        School,
        verbose_name=_("school"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    school_class = models.ForeignKey(
        SchoolClass,
        verbose_name=_("class"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("student"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The area the assignment belongs to, for scoping: a township or village code.
    area_code = models.CharField(_("area code"), max_length=12)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    assigned_at = models.DateTimeField(_("assigned at"), auto_now_add=True)
    signed_on = models.DateField(_("letter signed on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    # Made by the chain's derivation from the data (class head teachers, principals, heads);
    # a derivation may replace its own links, never one a person made.
    derived = models.BooleanField(_("derived from the data"), default=False)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["kind", "area_code", "-starts_on", "-id"]
        constraints = [
            # One current holder per target.
            models.UniqueConstraint(
                fields=["township"],
                condition=Q(kind="township", ends_on__isnull=True),
                name="duty_one_leader_per_township",
            ),
            models.UniqueConstraint(
                fields=["school"],
                condition=Q(kind="school", ends_on__isnull=True),
                name="duty_one_head_per_school",
            ),
            models.UniqueConstraint(
                fields=["school_class"],
                condition=Q(kind="class", ends_on__isnull=True),
                name="duty_one_principal_per_class",
            ),
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(kind="student", ends_on__isnull=True),
                name="duty_one_person_per_student",
            ),
            models.UniqueConstraint(
                fields=["village"],
                condition=Q(kind="village", ends_on__isnull=True),
                name="duty_one_contact_per_village",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.holder}"

    @property
    def target(self) -> Any:
        return self.township or self.village or self.school_class or self.school or self.person

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        q = place_scope_q(scope, area_field="area_code")
        if q is not None and scope.level == "class":
            q |= Q(holder__school_class_id=scope.class_id)
        return q


class DropoutCase(ChildPlace):
    """One episode of a compulsory-age child out of school, from opening to verified close-out."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("status", "Open")
        RESOLVED = "resolved", _("Outcome recorded, awaiting verification")
        CLOSED = "closed", _("Verified and closed")

    class Source(models.TextChoices):
        IDENTIFICATION = "identification", _("Identification run")
        ABSENCE = "absence", _("Teacher's absence report")

    class Outcome(models.TextChoices):
        RETURNED = "returned", _("Returned to school")
        HOME_TEACHING = "home_teaching", _("Home teaching (送教上门)")
        EXEMPT = "exempt", _("Exempted, with a documented reason")
        MOVED = "moved", _("Moved away")

    person = models.ForeignKey(
        Person, verbose_name=_("child"), on_delete=models.PROTECT, related_name="+"
    )
    student = models.ForeignKey(
        Student,
        verbose_name=_("student"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    episode = models.PositiveSmallIntegerField(_("episode"), default=1)
    previous = models.OneToOneField(
        "self",
        verbose_name=_("previous episode"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="next_episode",
    )
    source = models.CharField(_("opened from"), max_length=16, choices=Source.choices)
    identification_run_id = models.BigIntegerField(_("identification run"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    absence_days = models.PositiveSmallIntegerField(_("days absent"), null=True, blank=True)
    opened_on = models.DateField(_("opened on"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assignee = models.ForeignKey(
        StaffMember,
        verbose_name=_("responsible person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duty_cases",
    )
    supervisor = models.ForeignKey(
        StaffMember,
        verbose_name=_("supervisor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    return_deadline = models.DateField(_("must return by"), null=True, blank=True)
    last_step_on = models.DateField(_("last step on"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    outcome = models.CharField(_("outcome"), max_length=14, choices=Outcome.choices, blank=True)
    outcome_enrolment = models.ForeignKey(
        Enrolment,
        verbose_name=_("enrolment proving the return"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    home_teacher = models.CharField(_("home-teaching teacher"), max_length=50, blank=True)
    home_schedule = models.CharField(_("home-teaching schedule"), max_length=100, blank=True)
    exemption_reason = models.CharField(_("exemption reason"), max_length=300, blank=True)
    moved_to = models.CharField(_("moved to"), max_length=200, blank=True)
    resolved_on = models.DateField(_("outcome recorded on"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    # Whether the case was overdue when it closed (black), or closed in time (red).
    closed_late = models.BooleanField(_("closed late"), default=False)

    class Meta:
        verbose_name = _("dropout case")
        verbose_name_plural = _("dropout cases")
        ordering = ["status", "opened_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "episode"], name="duty_case_episode_once"),
            models.UniqueConstraint(
                fields=["person"],
                condition=~Q(status="closed"),
                name="duty_one_open_case_per_child",
            ),
        ]
        indexes = [models.Index(fields=["status", "village_code"])]

    def __str__(self) -> str:
        return f"{self.person_id} #{self.episode} {self.status}"


def evidence_path(instance: CaseStep, filename: str) -> str:
    suffix = suffix_of(filename)
    return (
        f"duty/evidence/{instance.case_id}/{instance.happened_on:%Y%m%d}-{instance.kind}.{suffix}"
    )


class CaseStep(ChildPlace):
    """One thing done on a case: a visit, a talk, a notice, a return, a follow-up, a note."""

    class Kind(models.TextChoices):
        HOME_VISIT = "home_visit", _("Home visit")
        PERSUASION = "persuasion", _("Persuasion talk (劝返) with family and village cadres")
        DEADLINE_NOTICE = "deadline_notice", _("Deadline-to-return notice to the guardian")
        RETURNED = "returned", _("Returned to school")
        FOLLOWUP_WEEK = "followup_week", _("Follow-up: attendance after 1 week")
        FOLLOWUP_MONTH = "followup_month", _("Follow-up: attendance after 1 month")
        PHONE_CALL = "phone_call", _("Phone call with the family")
        ABSENCE = "absence", _("Absence reported")
        NOTE = "note", _("Note")

    case = models.ForeignKey(DropoutCase, on_delete=models.PROTECT, related_name="steps")
    kind = models.CharField(_("step"), max_length=16, choices=Kind.choices)
    happened_on = models.DateField(_("date"))
    text = models.TextField(_("what happened"))
    evidence = models.FileField(_("evidence (photo or scan)"), upload_to=evidence_path, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("case step")
        verbose_name_plural = _("case steps")
        ordering = ["case", "happened_on", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.happened_on}"


class StudentContact(ChildPlace):
    """A home visit, a talk or a phone call with a poor student's family, case or not.

    What a responsible person does for a student with an open dropout case is a step of that
    case (:class:`CaseStep`); this is the rest of their work: the visits every poor student
    is owed each semester. Where the student lives and studies is copied at recording time
    so that scoping needs no join (like a case step).
    """

    class Kind(models.TextChoices):
        VISIT = "visit", _("Home visit")
        TALK = "talk", _("Talk with the student or family")
        PHONE = "phone", _("Phone call with the family")

    student = models.ForeignKey(
        Student, verbose_name=_("student"), on_delete=models.PROTECT, related_name="+"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("child"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    happened_on = models.DateField(_("date"))
    note = models.TextField(_("what happened"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("contact with a student's family")
        verbose_name_plural = _("contacts with students' families")
        ordering = ["-happened_on", "-id"]
        indexes = [models.Index(fields=["student", "happened_on"])]

    def __str__(self) -> str:
        return f"{self.student_id} {self.kind} {self.happened_on}"
