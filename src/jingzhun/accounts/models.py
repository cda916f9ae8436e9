"""Users, their role and their one jurisdiction."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from jingzhun.accounts.roles import CAPABILITIES, ROLE_LEVELS, Role
from jingzhun.core.scoping import NO_SCOPE, Scope, place_scope_q


class User(AbstractUser):
    """A staff member. Jurisdiction: a county or township area, a school, or a class."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)
    area = models.ForeignKey(
        "registry.Area",
        verbose_name=_("county or township"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
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
    county_code = models.CharField(_("county code"), max_length=6, blank=True, db_index=True)
    preferred_language = models.CharField(_("language"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @cached_property
    def scope(self) -> Scope:
        """Return where this user may look; no role or no jurisdiction means nowhere."""
        if not self.role or not self.county_code:
            return NO_SCOPE
        levels = ROLE_LEVELS.get(self.role, ())
        if self.school_class_id and "class" in levels:
            return Scope(level="class", county_code=self.county_code, class_id=self.school_class_id)
        if self.school_id and "school" in levels:
            return Scope(level="school", county_code=self.county_code, school_id=self.school_id)
        if self.area_id and self.area is not None:
            level = "county" if self.area.level == "county" else "township"
            if level in levels and self.area.level in ("county", "township"):
                return Scope(level=level, county_code=self.county_code, area_code=self.area.code)
        return NO_SCOPE

    def can(self, capability: str) -> bool:
        """Return whether the user's role grants a capability (and they have a jurisdiction)."""
        if not self.is_active or self.scope.is_empty:
            return False
        return capability in CAPABILITIES.get(self.role, frozenset())

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        if scope.level == "county":
            return Q(county_code=scope.county_code)
        if scope.level == "township":
            return (
                Q(area__code=scope.area_code)
                | Q(school__township__code=scope.area_code)
                | Q(school_class__school__township__code=scope.area_code)
            )
        if scope.level == "school":
            return Q(school_id=scope.school_id) | Q(school_class__school_id=scope.school_id)
        return None


class ApiToken(models.Model):
    """A bearer token for the API; only its hash is stored."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    # Set at creation to API_TOKEN_DAYS later (JINGZHUN_API_TOKEN_DAYS); a token is refused
    # from then on, and `jingzhun api-token rotate` replaces it.
    expires_at = models.DateTimeField(_("expires at"))
    revoked = models.BooleanField(_("revoked"), default=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.user} {self.name}"


def mask_phone(phone: str) -> str:
    """Return a phone number masked like 138****1234 (short numbers keep only their tail)."""
    digits = "".join(phone.split())
    if not digits:
        return ""
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    return f"****{digits[-min(4, len(digits)) :]}" if len(digits) > 4 else "****"


class StaffMember(models.Model):
    """A person of the staff directory, who may have no login: a teacher, a principal, a
    central-school head, a township officer, a village cadre.

    The responsibility chain names these people; a login (`user`) can be attached later
    without touching what they answer for.
    """

    class Post(models.TextChoices):
        CLASS_TEACHER = "class_teacher", _("Class head teacher")
        PRINCIPAL = "principal", _("Principal")
        CENTRAL_SCHOOL_HEAD = "central_school_head", _("Central-school head")
        TOWNSHIP_OFFICER = "township_officer", _("Township education officer")
        VILLAGE_CADRE = "village_cadre", _("Village cadre")
        COUNTY_OFFICER = "county_officer", _("County bureau officer")
        OTHER = "other", _("Other")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Entered by hand")
        IMPORT = "import", _("Staff import")
        ROSTER = "roster", _("Teacher roster of the rolls")
        ACCOUNT = "account", _("User account")

    name = models.CharField(_("name"), max_length=50)
    sex = models.CharField(_("sex"), max_length=1, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    post = models.CharField(_("post"), max_length=24, choices=Post.choices)
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
        verbose_name=_("class headed"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    township = models.ForeignKey(
        "registry.Area",
        verbose_name=_("township"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    village = models.ForeignKey(
        "registry.Area",
        verbose_name=_("village"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Where the person works, for scoping: a village, township or county code.
    area_code = models.CharField(_("area code"), max_length=12, db_index=True)
    active = models.BooleanField(_("active"), default=True)
    source = models.CharField(
        _("entered from"), max_length=10, choices=Source.choices, default=Source.MANUAL
    )
    user = models.OneToOneField(
        User,
        verbose_name=_("login"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff_member",
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff directory")
        ordering = ["area_code", "name", "id"]
        indexes = [
            models.Index(fields=["post", "school_class"]),
            models.Index(fields=["name"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @classmethod
    def scope_q(cls, scope: Any) -> Q | None:
        return place_scope_q(scope, area_field="area_code")
