"""Show one whole ID or bank number to a permitted user, for a stated reason, and log it.

The log records who looked at which number of which record, and why; never the
number itself. A refusal is logged too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jingzhun.core import permissions
from jingzhun.core.audit import audit_record
from jingzhun.core.scoping import scope_queryset
from jingzhun.core.sensitive import unseal

REASON_MIN_LENGTH = 4
REASON_MAX_LENGTH = 500


@dataclass(frozen=True)
class Revealable:
    """A sealed value that may be shown whole: where it is stored and what it is."""

    model_label: str  # app_label.model_name; core refers to app models by label only
    field: str  # the name used in URLs and in the audit log
    prefix: str  # column prefix of the sealed value (<prefix>_cipher, _key, _masked)
    purpose: str  # encryption purpose ("id" or "bank")
    label: Any  # what the number is, for people

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.model_label)


REVEALABLE: dict[tuple[str, str], Revealable] = {
    (r.model_label, r.field): r
    for r in (
        Revealable("registry.person", "id", "id", "id", gettext_lazy("resident ID number")),
        Revealable(
            "registry.person",
            "guardian_id",
            "guardian_id",
            "id",
            gettext_lazy("guardian's ID number"),
        ),
        Revealable("schools.student", "id", "id", "id", gettext_lazy("resident ID number")),
        Revealable(
            "registry.household",
            "bank",
            "bank",
            "bank",
            gettext_lazy("benefits-card account number"),
        ),
    )
}


def revealable_by_name(model_name: str, field: str) -> Revealable | None:
    """Return the revealable value named in a URL (``person``/``id``), or None."""
    for (label, name), spec in REVEALABLE.items():
        if name == field and label.partition(".")[2] == model_name:
            return spec
    return None


def revealable_for(obj: models.Model, field: str) -> Revealable:
    """Return how to reveal `field` of `obj`; raise ValidationError if it cannot be revealed."""
    spec = REVEALABLE.get((obj._meta.label_lower, field))
    if spec is None:
        raise ValidationError(_("This number cannot be shown."))
    return spec


def _deny(*, user: Any, obj: models.Model, field: str, why: str, request: Any) -> PermissionDenied:
    audit_record(
        actor=user,
        action="access.denied",
        target=obj,
        request=request,
        data={"what": "sensitive.reveal", "field": field, "why": why},
    )
    return PermissionDenied(_("You may not see this number whole."))


def sensitive_reveal(
    *, user: Any, obj: models.Model, field: str, reason: str, request: Any = None
) -> str:
    """Return the whole number stored in `field` of `obj`, after logging who asked and why.

    Raise PermissionDenied (and log the refusal) unless the user holds
    VIEW_FULL_ID and the record is in their jurisdiction; raise ValidationError
    for an unknown field, a missing reason or an empty value.
    """
    spec = revealable_for(obj, field)
    if not permissions.user_can(user, permissions.VIEW_FULL_ID):
        raise _deny(user=user, obj=obj, field=field, why="capability", request=request)
    in_scope = scope_queryset(type(obj)._default_manager.filter(pk=obj.pk), user).exists()
    if not in_scope:
        raise _deny(user=user, obj=obj, field=field, why="jurisdiction", request=request)
    reason = " ".join(reason.split())
    if len(reason) < REASON_MIN_LENGTH:
        raise ValidationError(
            _("Give a reason of at least %(n)d characters.") % {"n": REASON_MIN_LENGTH},
            code="reason",
        )
    if getattr(obj, f"{spec.prefix}_cipher") is None:
        raise ValidationError(_("No number is recorded."), code="empty")
    with transaction.atomic():
        value = unseal(obj, prefix=spec.prefix, purpose=spec.purpose)
        audit_record(
            actor=user,
            action="sensitive.reveal",
            target=obj,
            request=request,
            data={"field": field, "reason": reason[:REASON_MAX_LENGTH]},
        )
    return value
