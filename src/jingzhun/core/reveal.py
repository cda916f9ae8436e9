"""Show one whole ID or bank number to a permitted user, for a stated reason, and log it.

The log records who looked at which number of which record, and why; never the
number itself. A refusal is logged too.

The reason must say something (:func:`clean_reason`: letters or digits, not dots, spaces or
invisible characters), and a user sees at most ``REVEAL_LIMIT_PER_HOUR`` whole numbers
(``JINGZHUN_REVEAL_LIMIT_PER_HOUR``, default 20) in any hour: past that, each request is
refused and leaves an ``alert.reveal_limit`` event in the audit log (and a warning in the
server log) for the county's oversight to follow up.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jingzhun.core import permissions
from jingzhun.core.audit import audit_record
from jingzhun.core.models import AuditEvent
from jingzhun.core.scoping import scope_queryset
from jingzhun.core.sensitive import unseal

# A reason needs this many letters or digits (spaces, punctuation, symbols and invisible
# characters do not count), at least two of them letters and three of them different.
REASON_MIN_LENGTH = 4
REASON_MAX_LENGTH = 500
REVEAL_ACTION = "sensitive.reveal"
REVEAL_ALERT_ACTION = "alert.reveal_limit"
REVEAL_WINDOW = timedelta(hours=1)

logger = logging.getLogger(__name__)


def clean_reason(reason: str) -> str:
    """Return a stated reason tidied (NFKC, no invisible characters, single spaces).

    Raise ValidationError (code ``reason``) unless it holds at least ``REASON_MIN_LENGTH``
    letters or digits, two of them letters and three different: "....", "    ", "1111" or a
    string of zero-width characters are not reasons.
    """
    kept = []
    for char in unicodedata.normalize("NFKC", reason or ""):
        category = unicodedata.category(char)
        if category == "Cc":
            kept.append(" ")  # line breaks and tabs separate words
        elif category[0] != "C":  # format (zero-width), private-use, unassigned: dropped
            kept.append(char)
    text = " ".join("".join(kept).split())
    meaningful = [c.casefold() for c in text if unicodedata.category(c)[0] in "LN"]
    letters = [c for c in meaningful if unicodedata.category(c)[0] == "L"]
    if len(meaningful) < REASON_MIN_LENGTH or len(letters) < 2 or len(set(meaningful)) < 3:
        raise ValidationError(
            _(
                "Give a real reason: at least %(n)d letters or digits (dots, spaces and "
                "symbols do not count)."
            )
            % {"n": REASON_MIN_LENGTH},
            code="reason",
        )
    return text[:REASON_MAX_LENGTH]


class RevealLimitReached(PermissionDenied):
    """The user has seen as many whole numbers as the hourly limit allows."""


def reveals_recently(user: Any) -> int:
    """How many whole numbers the user was shown within the last ``REVEAL_WINDOW``."""
    since = timezone.now() - REVEAL_WINDOW
    return AuditEvent.objects.filter(actor=user, action=REVEAL_ACTION, at__gte=since).count()


def reveal_limit() -> int:
    return int(settings.REVEAL_LIMIT_PER_HOUR)


def reveal_within_limit(user: Any) -> bool:
    """Whether the user may be shown one more whole number now.

    Call inside the transaction that records the reveal: the user's row is locked, so two
    requests of one user at once are counted one after the other.
    """
    get_user_model()._default_manager.select_for_update().filter(pk=user.pk).exists()
    return reveals_recently(user) < reveal_limit()


def reveal_limit_refusal(*, user: Any, target: Any, field: str, request: Any) -> RevealLimitReached:
    """Write the alert for a refused reveal over the limit and return the error to raise."""
    limit = reveal_limit()
    audit_record(
        actor=user,
        action=REVEAL_ALERT_ACTION,
        target=target,
        request=request,
        data={"field": field, "limit": limit, "window_minutes": REVEAL_WINDOW.seconds // 60},
    )
    logger.warning(
        "Reveal limit reached: user %s asked for more than %d whole numbers in an hour.",
        getattr(user, "pk", None),
        limit,
    )
    return RevealLimitReached(
        _(
            "You have been shown %(n)d whole numbers within the last hour, the most allowed. "
            "Try again later; the county's oversight has been notified."
        )
        % {"n": limit}
    )


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
    VIEW_FULL_ID and the record is in their jurisdiction; RevealLimitReached (and write an
    alert) past the hourly limit; ValidationError for an unknown field, a missing or empty
    reason, or an empty value.
    """
    spec = revealable_for(obj, field)
    if not permissions.user_can(user, permissions.VIEW_FULL_ID):
        raise _deny(user=user, obj=obj, field=field, why="capability", request=request)
    in_scope = scope_queryset(type(obj)._default_manager.filter(pk=obj.pk), user).exists()
    if not in_scope:
        raise _deny(user=user, obj=obj, field=field, why="jurisdiction", request=request)
    reason = clean_reason(reason)
    if getattr(obj, f"{spec.prefix}_cipher") is None:
        raise ValidationError(_("No number is recorded."), code="empty")
    value = ""
    with transaction.atomic():
        allowed = reveal_within_limit(user)
        if allowed:
            value = unseal(obj, prefix=spec.prefix, purpose=spec.purpose)
            audit_record(
                actor=user,
                action=REVEAL_ACTION,
                target=obj,
                request=request,
                data={"field": field, "reason": reason},
            )
    if not allowed:
        raise reveal_limit_refusal(user=user, target=obj, field=field, request=request)
    return value
