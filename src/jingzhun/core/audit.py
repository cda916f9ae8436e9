"""Write and verify the audit log: a keyed hash chain with signed checkpoints outside the database.

Services call :func:`audit_record` inside their own transaction, so an event
exists exactly when the change it describes does.

Each event's hash is HMAC-SHA256, under ``settings.AUDIT_KEY`` (``JINGZHUN_AUDIT_KEY``, which
the database does not hold), of the previous event's hash and the event's content. Whoever can
write to the database but does not hold the key can neither edit an event nor recompute the
chain after an edit.

What a chain cannot show is its own end: removing the newest events, or all of them, leaves a
shorter chain that still verifies. So every ``AUDIT_CHECKPOINT_EVERY`` events, and whenever
``jingzhun audit-checkpoint`` runs, one signed line (count, last id, last hash, time) is
appended to ``AUDIT_CHECKPOINT_FILE``, a file outside the database that the operator ships
elsewhere. :func:`verify_chain` checks the chain against every checkpoint.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.core.models import AuditEvent

GENESIS = "0" * 64
_LOCK_KEY = 748_392_001  # PostgreSQL advisory lock for appending to the chain
_CHECKPOINT_DOMAIN = b"jingzhun-audit-checkpoint\n"  # a checkpoint's MAC is never an event's
MIN_KEY_BYTES = 32

logger = logging.getLogger(__name__)


def audit_key() -> bytes:
    """Return the chain's HMAC key (``JINGZHUN_AUDIT_KEY``: base64 of at least 32 bytes)."""
    try:
        key = base64.b64decode(settings.AUDIT_KEY, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured("JINGZHUN_AUDIT_KEY is not valid base64.") from exc
    if len(key) < MIN_KEY_BYTES:
        raise ImproperlyConfigured(
            f"JINGZHUN_AUDIT_KEY must hold at least {MIN_KEY_BYTES} bytes (base64)."
        )
    return key


@checks.register(checks.Tags.security)
def check_audit_key(**kwargs: Any) -> list[checks.CheckMessage]:
    """Refuse to start commands with an audit key that cannot be used."""
    try:
        audit_key()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="jingzhun.E101")]
    return []


def chain_digest(prev_hash: str, fields: dict[str, Any], key: bytes) -> str:
    """Return an event's hash: HMAC-SHA256 of the previous hash and the event's content."""
    payload = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return hmac.new(key, (prev_hash + payload).encode(), hashlib.sha256).hexdigest()


def event_fields(event: Any) -> dict[str, Any]:
    """Return the content of an event that its hash covers."""
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


def _lock_chain() -> None:
    """Serialise appends to the chain (SQLite's IMMEDIATE transactions already do)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


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
    key = audit_key()
    _lock_chain()
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or str(target.pk)
    user = actor if getattr(actor, "is_authenticated", False) else None
    last = AuditEvent.objects.order_by("-id").values_list("id", "hash").first()
    prev_id, prev_hash = last or (0, GENESIS)
    event = AuditEvent(
        at=timezone.now().replace(microsecond=0),
        actor=user,
        actor_name=actor_name or (user.get_username() if user else ""),
        action=action,
        object_type=object_type,
        object_id=object_id,
        data=json.loads(json.dumps(data or {}, default=str)),
        ip=client_ip(request),
        prev_hash=prev_hash,
    )
    event.hash = chain_digest(event.prev_hash, event_fields(event), key)
    event.save()
    every = settings.AUDIT_CHECKPOINT_EVERY
    if event.pk // every != prev_id // every:  # crossed a multiple of N (ids may have gaps)
        checkpoint = Checkpoint(
            count=AuditEvent.objects.count(),
            last_id=event.pk,
            last_hash=event.hash,
            at=_now_text(),
        )
        # Only once the event is committed: a checkpoint must never vouch for a rolled-back one.
        transaction.on_commit(partial(_append_quietly, checkpoint))
    return event


# --- Checkpoints ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """The chain as it was at one moment: ``count`` events, the last with this id and hash."""

    count: int
    last_id: int
    last_hash: str
    at: str
    line: int = 0  # line number in the checkpoint file, when read from it

    def body(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "last_id": self.last_id,
            "last_hash": self.last_hash,
            "at": self.at,
        }


def _now_text() -> str:
    return timezone.now().isoformat(timespec="seconds")


def _signature(body: dict[str, Any], key: bytes) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, _CHECKPOINT_DOMAIN + text.encode(), hashlib.sha256).hexdigest()


def checkpoint_line(checkpoint: Checkpoint, key: bytes | None = None) -> str:
    """Return the signed JSON line of a checkpoint."""
    body = checkpoint.body()
    signed = {**body, "sig": _signature(body, key or audit_key())}
    return json.dumps(signed, sort_keys=True, ensure_ascii=True) + "\n"


def checkpoint_path() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_FILE)


def append_checkpoint(checkpoint: Checkpoint, path: Path | None = None) -> Path:
    """Append a checkpoint to the file (created with mode 600); return the file's path."""
    path = Path(path or checkpoint_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    data = checkpoint_line(checkpoint).encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        # One write of a short line to a file opened for appending: lines that several
        # processes write at once never interleave.
        if os.write(fd, data) != len(data):
            raise OSError(f"short write to {path}")
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def _append_quietly(checkpoint: Checkpoint) -> None:
    """Write an automatic checkpoint; a failure is logged, never undoes the committed work."""
    try:
        append_checkpoint(checkpoint)
    except (OSError, ImproperlyConfigured):
        logger.exception(
            "Could not write the audit checkpoint of event #%s to %s",
            checkpoint.last_id,
            checkpoint_path(),
        )


@transaction.atomic
def take_checkpoint() -> Checkpoint | None:
    """Return a checkpoint of the chain as committed now (None when the log is empty)."""
    _lock_chain()  # no append is half done while we count
    last = AuditEvent.objects.order_by("-id").values_list("id", "hash").first()
    if last is None:
        return None
    return Checkpoint(
        count=AuditEvent.objects.count(), last_id=last[0], last_hash=last[1], at=_now_text()
    )


def read_checkpoints(path: Path | None = None) -> tuple[list[Checkpoint], list[str]]:
    """Return the file's checkpoints whose signature is good, and a problem per bad line."""
    path = Path(path or checkpoint_path())
    if not path.exists():
        return [], []
    key = audit_key()
    good: list[Checkpoint] = []
    problems: list[str] = []
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, text in enumerate(lines, 1):
            if not text.strip():
                continue
            try:
                raw = json.loads(text)
                checkpoint = Checkpoint(
                    count=int(raw["count"]),
                    last_id=int(raw["last_id"]),
                    last_hash=str(raw["last_hash"]),
                    at=str(raw["at"]),
                    line=number,
                )
                signature = str(raw["sig"])
            except (ValueError, KeyError, TypeError):
                problems.append(
                    _("checkpoint file %(path)s, line %(line)d: not a checkpoint")
                    % {"path": path, "line": number}
                )
                continue
            expected = _signature(checkpoint.body(), key)
            if not hmac.compare_digest(signature.encode(), expected.encode()):
                problems.append(
                    _(
                        "checkpoint file %(path)s, line %(line)d: the signature does not match "
                        "(the line was forged or edited, or signed with another key)"
                    )
                    % {"path": path, "line": number}
                )
                continue
            good.append(checkpoint)
    return good, problems


# --- Verification --------------------------------------------------------------------------


def verify_chain(
    batch_size: int = 5000, checkpoints: Iterable[Checkpoint] = ()
) -> Iterator[tuple[int | None, str]]:
    """Yield (event id or None, problem) for every break; nothing when all is intact.

    Each event must link to the one before and carry the keyed hash of its content; each
    checkpoint's event must still be there with the same hash and the same number of events
    up to it; and the log must hold at least as many events as any checkpoint counted.
    """
    key = audit_key()
    checkpoints = list(checkpoints)
    pending: dict[int, list[Checkpoint]] = {}
    for checkpoint in checkpoints:
        pending.setdefault(checkpoint.last_id, []).append(checkpoint)
    prev, count, last_id = GENESIS, 0, 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=batch_size):
        count += 1
        last_id = event.pk
        if event.prev_hash != prev:
            yield (
                event.pk,
                _("the previous hash does not match the event before (an event was removed)"),
            )
        expected = chain_digest(event.prev_hash, event_fields(event), key)
        if not hmac.compare_digest(expected.encode(), event.hash.encode()):
            yield (
                event.pk,
                _(
                    "content does not match its hash (the event was edited, or the chain "
                    "was recomputed without the key)"
                ),
            )
        for checkpoint in pending.pop(event.pk, ()):
            where = {"at": checkpoint.at, "line": checkpoint.line}
            if checkpoint.last_hash != event.hash:
                yield (
                    event.pk,
                    _(
                        "its hash differs from the one the checkpoint of %(at)s (line "
                        "%(line)d) recorded: the event was replaced"
                    )
                    % where,
                )
            elif checkpoint.count != count:
                yield (
                    event.pk,
                    _(
                        "the checkpoint of %(at)s (line %(line)d) counted %(expected)d events "
                        "up to this one; there are %(found)d"
                    )
                    % {**where, "expected": checkpoint.count, "found": count},
                )
        prev = event.hash
    for checkpoint in sorted(
        (c for group in pending.values() for c in group), key=lambda c: c.last_id
    ):
        where = {"at": checkpoint.at, "line": checkpoint.line, "last": last_id}
        if count == 0:
            problem = _(
                "missing: the checkpoint of %(at)s (line %(line)d) recorded it, but the log is "
                "empty"
            )
        elif checkpoint.last_id > last_id:
            problem = _(
                "missing: the checkpoint of %(at)s (line %(line)d) recorded it, but the log "
                "now ends at event #%(last)d (the newest events were deleted)"
            )
        else:
            problem = _(
                "missing: the checkpoint of %(at)s (line %(line)d) recorded it (events were "
                "deleted)"
            )
        yield checkpoint.last_id, problem % where
    largest = max(checkpoints, key=lambda c: c.count, default=None)
    if largest is not None and count < largest.count:
        yield (
            None,
            _(
                "the log holds %(found)d events, fewer than the %(expected)d the checkpoint "
                "of %(at)s (line %(line)d) counted: it was truncated or events were deleted"
            )
            % {
                "found": count,
                "expected": largest.count,
                "at": largest.at,
                "line": largest.line,
            },
        )
