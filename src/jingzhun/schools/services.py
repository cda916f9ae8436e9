"""Writes on schools and classes made by a person (the rolls themselves arrive by import)."""

from __future__ import annotations

from typing import Any, TypedDict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from jingzhun.core import permissions
from jingzhun.core.audit import audit_record
from jingzhun.core.models import DataQualityTask
from jingzhun.core.quality import tasks_sync
from jingzhun.core.scoping import scope_queryset
from jingzhun.registry.models import Area
from jingzhun.schools.models import School, SchoolClass


class SchoolChanges(TypedDict, total=False):
    name: str
    kind: str
    boarding: bool
    township: Area | None


class SchoolClassChanges(TypedDict, total=False):
    head_teacher_name: str


def _check_may_edit(actor: Any, instance: models.Model) -> None:
    if not (getattr(actor, "can", None) and actor.can(permissions.EDIT_SCHOOLS)):
        raise PermissionDenied(_("You may not edit schools."))
    model = type(instance)
    if not scope_queryset(model._default_manager.filter(pk=instance.pk), actor).exists():
        raise PermissionDenied(_("This record is outside your jurisdiction."))


def _audit_value(value: Any) -> Any:
    if isinstance(value, Area):
        return value.code
    return value


def _apply(instance: models.Model, data: dict[str, Any], allowed: set[str]) -> dict[str, list[Any]]:
    """Set the changed fields on `instance`; return {field: [old, new]} of what changed."""
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError(
            _("These fields cannot be edited: %(fields)s") % {"fields": ", ".join(sorted(unknown))}
        )
    changes: dict[str, list[Any]] = {}
    for name, new in data.items():
        old = getattr(instance, name)
        if old != new:
            changes[name] = [_audit_value(old), _audit_value(new)]
            setattr(instance, name, new)
    return changes


@transaction.atomic
def school_update(*, actor: Any, instance: School, data: SchoolChanges) -> School:
    """Change a school's name, kind, boarding or township, and record it in the audit log."""
    _check_may_edit(actor, instance)
    township = data.get("township", instance.township)
    if "township" in data and township is not None:
        in_scope = scope_queryset(
            Area.objects.filter(pk=township.pk, level=Area.Level.TOWNSHIP), actor
        )
        if not in_scope.exists():
            raise ValidationError({"township": _("Choose a township of your jurisdiction.")})
    changes = _apply(instance, dict(data), {"name", "kind", "boarding", "township"})
    if not changes:
        return instance
    instance.full_clean()
    instance.save(update_fields=list(changes))
    audit_record(actor=actor, action="school.update", target=instance, data={"changes": changes})
    if instance.township_id is not None:
        # A school taken from the rolls is placed: its task is done.
        tasks_sync(
            kind=DataQualityTask.Kind.SCHOOL_TOWNSHIP,
            entity="school",
            county_code="",
            findings=[],
            checked=[instance.pk],
        )
    return instance


@transaction.atomic
def school_class_update(
    *, actor: Any, instance: SchoolClass, data: SchoolClassChanges
) -> SchoolClass:
    """Change a class's head teacher, and record it in the audit log."""
    _check_may_edit(actor, instance)
    changes = _apply(instance, dict(data), {"head_teacher_name"})
    if not changes:
        return instance
    instance.full_clean()
    instance.save(update_fields=list(changes))
    audit_record(
        actor=actor, action="school_class.update", target=instance, data={"changes": changes}
    )
    return instance
