"""Key the audit chain and refuse TRUNCATE of the audit table on PostgreSQL.

Until now each event's hash was a plain SHA-256 of the previous hash and its content, which
anyone able to write to the database could recompute after editing a row. From now on it is an
HMAC-SHA256 under JINGZHUN_AUDIT_KEY, which the database does not hold
(:mod:`jingzhun.core.audit`).

At upgrade the existing chain is re-keyed: it is first checked end to end under the old scheme,
and only if it is intact is every hash recomputed with the key; a checkpoint of the re-keyed
chain is then written to JINGZHUN_AUDIT_CHECKPOINT_FILE. A broken old chain stops the upgrade
with the ids of the broken events: investigate first (a backup from before the break, the
previous release's `jingzhun audit-verify`). Only then, to re-key it anyway, set
JINGZHUN_AUDIT_REKEY_BROKEN=1: the ids are printed and logged, since the re-keyed chain no
longer shows the break. Reversing this migration recomputes the plain SHA-256 chain.

Row triggers (0002) refuse UPDATE and DELETE, but TRUNCATE does not fire them; a statement
trigger now refuses TRUNCATE too. SQLite has no TRUNCATE (its DELETE fires the row trigger).
"""

import hashlib
import json
import logging
import os
from functools import partial

from django.db import migrations, transaction
from django.utils import timezone

FORCE = "JINGZHUN_AUDIT_REKEY_BROKEN"
TABLE = "core_auditevent"
ROW_TRIGGER = "core_auditevent_no_change"  # PostgreSQL, from 0002
BATCH = 2000

logger = logging.getLogger("jingzhun.core.audit")


def sha256_digest(prev_hash, fields, key=None):
    """The hash of an event before this migration (unkeyed)."""
    payload = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def _pages(model, alias):
    """Yield the events in id order, a page at a time (safe to update rows between pages)."""
    after = 0
    while True:
        page = list(model.objects.using(alias).filter(pk__gt=after).order_by("pk")[:BATCH])
        if not page:
            return
        yield page
        after = page[-1].pk


def _broken(model, alias, digest, key):
    from jingzhun.core.audit import GENESIS, event_fields

    broken, prev = [], GENESIS
    for page in _pages(model, alias):
        for event in page:
            if (
                event.prev_hash != prev
                or digest(event.prev_hash, event_fields(event), key) != event.hash
            ):
                broken.append(event.pk)
            prev = event.hash
    return broken


def _lift_guard(cursor, vendor):
    """Let this migration rewrite the hashes; return what puts the guard back."""
    if vendor == "postgresql":
        # ALTER TABLE refuses while deferred foreign-key checks wait: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {ROW_TRIGGER}")
        return [f"ALTER TABLE {TABLE} ENABLE TRIGGER {ROW_TRIGGER}"]
    cursor.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE]
    )
    triggers = cursor.fetchall()
    for name, _sql in triggers:
        cursor.execute(f'DROP TRIGGER "{name}"')
    return [sql for _name, sql in triggers]


def rechain(connection, model, *, old_digest, new_digest, key_old=None, key_new=None):
    """Check the chain under the old scheme, then recompute it under the new one.

    Return (count, last id, last hash) of the new chain, or None when the log is empty.
    """
    from jingzhun.core.audit import GENESIS, event_fields

    alias = connection.alias
    if not model.objects.using(alias).exists():
        return None
    broken = _broken(model, alias, old_digest, key_old)
    if broken:
        shown = ", ".join(f"#{pk}" for pk in broken[:20]) + (" …" if len(broken) > 20 else "")
        if os.environ.get(FORCE) != "1":
            raise RuntimeError(
                f"The audit chain is broken at {len(broken)} event(s) ({shown}), so it is not "
                f"re-keyed. Investigate (see the migration's notes); to re-key it anyway set "
                f"{FORCE}=1."
            )
        logger.warning("Re-keying a broken audit chain (%s=1); broken events: %s", FORCE, shown)
        print(f"  Re-keying a broken audit chain; broken events: {shown}")  # noqa: T201
    count, prev, last_id = 0, GENESIS, 0
    with connection.cursor() as cursor:
        restore = _lift_guard(cursor, connection.vendor)
        for page in _pages(model, alias):
            rows = []
            for event in page:
                new_hash = new_digest(prev, event_fields(event), key_new)
                rows.append((prev, new_hash, event.pk))
                prev, last_id, count = new_hash, event.pk, count + 1
            cursor.executemany(f"UPDATE {TABLE} SET prev_hash = %s, hash = %s WHERE id = %s", rows)
        for sql in restore:
            cursor.execute(sql)
    return count, last_id, prev


def _write_checkpoint(checkpoint):
    from jingzhun.core.audit import append_checkpoint

    try:
        path = append_checkpoint(checkpoint)
    except OSError as exc:
        print(f"  Could not write the audit checkpoint ({exc}); run `jingzhun audit-checkpoint`.")  # noqa: T201
    else:
        print(f"  Audit chain re-keyed; checkpoint written to {path}.")  # noqa: T201


def rekey(apps, schema_editor):
    from jingzhun.core.audit import Checkpoint, audit_key, chain_digest

    connection = schema_editor.connection
    tail = rechain(
        connection,
        apps.get_model("core", "AuditEvent"),
        old_digest=sha256_digest,
        new_digest=chain_digest,
        key_new=audit_key(),
    )
    if tail is not None:
        count, last_id, last_hash = tail
        checkpoint = Checkpoint(
            count=count,
            last_id=last_id,
            last_hash=last_hash,
            at=timezone.now().isoformat(timespec="seconds"),
        )
        transaction.on_commit(partial(_write_checkpoint, checkpoint), using=connection.alias)


def unkey(apps, schema_editor):
    from jingzhun.core.audit import audit_key, chain_digest

    key = audit_key()
    rechain(
        schema_editor.connection,
        apps.get_model("core", "AuditEvent"),
        old_digest=chain_digest,
        new_digest=sha256_digest,
        key_old=key,
    )


def refuse_truncate(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE TRIGGER core_auditevent_no_truncate BEFORE TRUNCATE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION core_auditevent_append_only()"
        )


def allow_truncate(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON {TABLE}")


class Migration(migrations.Migration):
    dependencies = [("core", "0007_county_working_period")]
    operations = [
        migrations.RunPython(rekey, unkey),
        migrations.RunPython(refuse_truncate, allow_truncate),
    ]
