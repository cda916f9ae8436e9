"""Figures computed per run, shared by the web workers through Django's cache.

The home counts and the coverage pages recompute the same figures on every request although
they change only when the data does. They are cached under a key that names everything they
depend on, so nothing is ever invalidated by hand: a change makes a new key, and old entries
age out.

- The data version: the id of the latest audit event that records a change. Every write goes
  through a service that records its audit event in the same transaction as the change (an
  import, a confirmed identification run, an aid computation, a review, a payment, a closed
  case), so a committed change always gives a new version. Events that change nothing
  (logins, exports, views of a whole number, refusals) are left out, so they do not empty
  the cache. The version is read before the figures, so figures stored under a version are
  never older than it.
- The user's scope (level, county, area, school, class): figures computed for one
  jurisdiction are never served to another.
- The language (labels are computed in it) and the day (overdue cases and ages move with it).
- The page's own parts (period, run).

The key is a digest and holds no data. What callers cache are figures, names and row ids in
plain rows, never model instances, so no whole ID or bank number is ever written to the cache.
The rows still hold children's names, so a value is sealed before it reaches the cache
(AES-GCM under the field keys, the key bound as associated data), as whole pages are
(core.pagecache): the cache's files or rows hold nothing readable, and a value stored under
one key never opens under another.
"""

from __future__ import annotations

import base64
import hashlib
import pickle  # nosec B403  # only values this module sealed itself are ever unpickled
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Q
from django.utils import timezone, translation

from jingzhun.core.crypto import decrypt, encrypt
from jingzhun.core.models import AuditEvent
from jingzhun.core.scoping import scope_of

T = TypeVar("T")

# Figures are recomputed at the latest this long after they were stored, whatever happens.
TIMEOUT = 60 * 60
# How long a request waits for another worker computing the same figures before it computes
# them itself, and how long that worker's claim lasts.
WAIT_SECONDS = 20.0
CLAIM_SECONDS = 120
_POLL = 0.05
_MISSING = object()

# Audit events that record no change to what any page shows.
READ_ONLY_PREFIXES = ("auth.", "export.", "access.", "sensitive.", "alert.", "setup.token")
READ_ONLY_ACTIONS = (
    "child.search_by_number",
    "person.search_by_number",
    "duty.evidence_view",
    "aid.review_export",
    "aid.entitlements_export",
    "funds.batch_export",
    "backup.created",
)


def _read_only() -> Q:
    q = Q(action__in=READ_ONLY_ACTIONS)
    for prefix in READ_ONLY_PREFIXES:
        q |= Q(action__startswith=prefix)
    return q


def data_version() -> int:
    """Return the id of the latest audit event that records a change (0 when there is none)."""
    found = (
        AuditEvent.objects.exclude(_read_only())
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return int(found or 0)


def scope_parts(user: Any) -> tuple[Any, ...]:
    """Return what identifies the user's jurisdiction (the same for everyone who shares it)."""
    s = scope_of(user)
    return (s.level, s.county_code, s.area_code, s.school_id, s.class_id)


def key_for(name: str, *, user: Any, parts: Iterable[Any] = ()) -> str:
    """Return the cache key of figures *name* for *user*'s scope, now, in the active language."""
    described = repr(
        (
            name,
            data_version(),
            scope_parts(user),
            translation.get_language() or "",
            timezone.localdate().isoformat(),
            tuple(parts),
        )
    )
    return f"jz:{name}:{hashlib.sha256(described.encode()).hexdigest()}"


def seal_value(key: str, value: Any) -> tuple[str, int, bytes]:
    """Return *value* sealed for the cache under *key*."""
    text = base64.b64encode(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)).decode()
    blob, version = encrypt(text, purpose=key)
    return ("sealed", version, blob)


def open_value(key: str, stored: Any) -> Any:
    """Return the value sealed under *key*, or _MISSING when there is none that opens."""
    if not (isinstance(stored, tuple) and len(stored) == 3 and stored[0] == "sealed"):
        return _MISSING
    try:
        text = decrypt(stored[2], version=stored[1], purpose=key)
    except Exception:  # noqa: BLE001 - a rotated key or a moved entry: compute again
        return _MISSING
    # The blob was authenticated under our own key just now: it is a value this module pickled.
    return pickle.loads(base64.b64decode(text))  # noqa: S301  # nosec B301  # sealed by us


def cached(
    name: str,
    *,
    user: Any,
    compute: Callable[[], T],
    parts: Iterable[Any] = (),
    timeout: int = TIMEOUT,
) -> T:
    """Return figures *name* for the user's scope from the cache, computing them on a miss.

    When another worker is already computing the same figures, wait for them (up to
    WAIT_SECONDS) rather than compute them a second time.
    """
    key = key_for(name, user=user, parts=parts)
    value = open_value(key, cache.get(key))
    if value is not _MISSING:
        return value  # type: ignore[return-value]
    claim = f"{key}:claim"
    if not cache.add(claim, 1, CLAIM_SECONDS):
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(_POLL)
            value = open_value(key, cache.get(key))
            if value is not _MISSING:
                return value  # type: ignore[return-value]
    try:
        value = compute()
        cache.set(key, seal_value(key, value), timeout)
    finally:
        cache.delete(claim)
    return value  # type: ignore[return-value]


class _PageRows(Sequence[Any]):
    """The rows of one page standing for the whole list, as a paginator slices it."""

    def __init__(self, total: int, start: int, rows: list[Any]) -> None:
        self.total, self.start, self.rows = total, start, rows

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, index: Any) -> Any:
        if not isinstance(index, slice):
            return self.rows[index - self.start]
        return self.rows[(index.start or 0) - self.start : (index.stop or self.total) - self.start]


def page_of(total: int, number: int, rows: list[Any], size: int) -> Page[Any]:
    """Return page *number* of a list of *total* rows, given only that page's *rows* (a page
    cached on its own), with the paginator a template expects."""
    return Paginator(_PageRows(total, (number - 1) * size, rows), size).page(number)
