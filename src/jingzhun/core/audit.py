"""Write and verify the hash-chained audit log.

Services call :func:`audit_record` inside their own transaction, so an event
exists exactly when the change it describes does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from jingzhun.core.models import AuditEvent

GENESIS = "0" * 64
_LOCK_KEY = 748_392_001  # PostgreSQL advisory lock for appending to the chain


def _digest(prev_hash: str, fields: dict[str, Any]) -> str:
    payload = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def _fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "data": event.data,
        "ip": event.ip,
    }


def client_ip(request: Any) -> str:
    """Return the client address of a request (REMOTE_ADDR; proxies must set it)."""
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR", ""))


@transaction.atomic
def audit_record(
    *,
    actor: Any,
    action: str,
    target: Any = None,
    object_type: str = "",
    object_id: str = "",
    data: dict[str, Any] | None = None,
    request: Any = None,
    actor_name: str = "",
) -> AuditEvent:
    """Append one event to the chain and return it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or str(target.pk)
    user = actor if getattr(actor, "is_authenticated", False) else None
    last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    event = AuditEvent(
        at=timezone.now().replace(microsecond=0),
        actor=user,
        actor_name=actor_name or (user.get_username() if user else ""),
        action=action,
        object_type=object_type,
        object_id=object_id,
        data=json.loads(json.dumps(data or {}, default=str)),
        ip=client_ip(request),
        prev_hash=last or GENESIS,
    )
    event.hash = _digest(event.prev_hash, _fields(event))
    event.save()
    return event


def verify_chain(batch_size: int = 5000) -> Iterator[tuple[int, str]]:
    """Yield (event id, problem) for every break in the chain; nothing when it is intact."""
    prev = GENESIS
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=batch_size):
        if event.prev_hash != prev:
            yield event.pk, "previous hash does not match the event before"
        if _digest(event.prev_hash, _fields(event)) != event.hash:
            yield event.pk, "content does not match its hash"
        prev = event.hash
