"""The audit log resists rewriting: keyed chain, signed checkpoints outside the database,
TRUNCATE refused, and a PostgreSQL role for the app without DDL or TRUNCATE rights.

Each test plays someone with write access to the database (who can lift the triggers) but
without the key, unless it says otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from jingzhun.core.audit import (
    GENESIS,
    audit_key,
    audit_record,
    chain_digest,
    check_audit_key,
    event_fields,
    read_checkpoints,
    verify_chain,
)
from jingzhun.core.dbrole import app_role_sql
from jingzhun.core.models import AuditEvent

pytestmark = pytest.mark.django_db

migration = importlib.import_module("jingzhun.core.migrations.0008_audit_keyed_chain")


@pytest.fixture
def checkpoint_file(settings: Any, tmp_path: Path) -> Path:
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "audit-checkpoints.jsonl"
    return settings.AUDIT_CHECKPOINT_FILE


def tamper(sql: str, params: list[Any] | None = None) -> None:
    """Run SQL on the audit table with its guard lifted, as a database superuser could."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'core_auditevent'"
            )
            for (name,) in cursor.fetchall():
                cursor.execute(f'DROP TRIGGER "{name}"')
            cursor.execute(sql, params or [])
        else:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no foreign-key check waits
            cursor.execute("SET LOCAL session_replication_role = replica")  # no user triggers
            cursor.execute(sql, params or [])
            cursor.execute("SET LOCAL session_replication_role = origin")


def verify(*options: str) -> tuple[str, str]:
    """Run audit-verify; return (stdout, stderr), or raise CommandError with stderr attached."""
    out, err = StringIO(), StringIO()
    try:
        call_command("audit_verify", *options, stdout=out, stderr=err)
    except CommandError as exc:
        raise CommandError(f"{exc}\n{err.getvalue()}") from exc
    return out.getvalue(), err.getvalue()


def record(n: int, start: int = 0) -> list[AuditEvent]:
    return [audit_record(actor=None, action="test.event", data={"n": start + i}) for i in range(n)]


def checkpoint() -> str:
    out = StringIO()
    call_command("audit_checkpoint", stdout=out)
    return out.getvalue()


def sha256_digest(prev_hash: str, fields: dict[str, Any]) -> str:
    """The public, unkeyed chain anyone can recompute (the scheme before the key)."""
    payload = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


# --- (a) the keyed chain ---------------------------------------------------------------------


def test_each_hash_is_an_hmac_under_the_audit_key(settings: Any) -> None:
    event = record(1)[0]
    payload = json.dumps(event_fields(event), sort_keys=True, ensure_ascii=False, default=str)
    expected = hmac.new(audit_key(), (event.prev_hash + payload).encode(), hashlib.sha256)
    assert event.hash == expected.hexdigest()
    assert event.hash != sha256_digest(event.prev_hash, event_fields(event))
    # the same rows under another key do not verify: the key, not the database, vouches
    settings.AUDIT_KEY = base64.b64encode(b"k" * 32).decode()
    assert [pk for pk, _p in verify_chain()] == [event.pk]


def test_a_chain_recomputed_without_the_key_is_detected(checkpoint_file: Path) -> None:
    first, victim, last = record(3)
    # given an edit, then the public SHA-256 chain recomputed over it and everything after
    tamper("UPDATE core_auditevent SET data = %s WHERE id = %s", ['{"n": 999}', victim.pk])
    prev = first.hash
    for event in AuditEvent.objects.filter(pk__gte=victim.pk).order_by("id"):
        new_hash = sha256_digest(prev, event_fields(event))
        tamper(
            "UPDATE core_auditevent SET prev_hash = %s, hash = %s WHERE id = %s",
            [prev, new_hash, event.pk],
        )
        prev = new_hash
    # then every recomputed event fails, and the command says so with a non-zero exit
    problems = list(verify_chain())
    assert [pk for pk, _p in problems] == [victim.pk, last.pk]
    assert all("recomputed without the key" in p for _pk, p in problems)
    with pytest.raises(CommandError, match="fails verification: 2 problems"):
        verify()


def test_an_edited_row_is_detected(checkpoint_file: Path) -> None:
    _first, victim, _last = record(3)
    tamper("UPDATE core_auditevent SET actor_name = 'someone else' WHERE id = %s", [victim.pk])
    assert [pk for pk, _p in verify_chain()] == [victim.pk]
    with pytest.raises(CommandError, match=rf"event #{victim.pk}: content does not match"):
        verify()


def test_a_short_or_missing_key_is_refused(settings: Any) -> None:
    settings.AUDIT_KEY = base64.b64encode(b"short").decode()
    with pytest.raises(ImproperlyConfigured, match="JINGZHUN_AUDIT_KEY"):
        audit_record(actor=None, action="test.event")
    assert [e.id for e in check_audit_key()] == ["jingzhun.E101"]
    settings.AUDIT_KEY = "not base64!"
    with pytest.raises(ImproperlyConfigured, match="JINGZHUN_AUDIT_KEY"):
        audit_key()


def test_production_settings_require_the_audit_key(tmp_path: Path) -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in {"JINGZHUN_TESTING", "JINGZHUN_AUDIT_KEY"}
    }
    env.update(
        JINGZHUN_VAR_DIR=str(tmp_path),
        JINGZHUN_SECRET_KEY="x" * 50,
        JINGZHUN_FIELD_KEYS="1:" + base64.b64encode(os.urandom(32)).decode(),
        JINGZHUN_BLIND_INDEX_KEY=base64.b64encode(os.urandom(32)).decode(),
    )
    run = subprocess.run(
        [sys.executable, "-c", "import jingzhun.settings"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode != 0
    assert "Set the environment variable JINGZHUN_AUDIT_KEY" in run.stderr


# --- (b) signed checkpoints outside the database ----------------------------------------------


def test_checkpoints_are_written_every_n_events_once_committed(
    settings: Any, checkpoint_file: Path, django_capture_on_commit_callbacks: Any
) -> None:
    settings.AUDIT_CHECKPOINT_EVERY = 3
    record(1)  # (the first event after an empty log may cross a multiple of 3 from 0)
    with django_capture_on_commit_callbacks(execute=True):
        events = record(6)
    # a checkpoint whose event is rolled back is never written
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            record(3, start=6)
            _ = 1 / 0
    checkpoints, bad = read_checkpoints()
    assert bad == []
    assert [c.last_id % 3 for c in checkpoints] == [0, 0]  # 6 consecutive ids cross 3n twice
    for c in checkpoints:
        assert c.count == AuditEvent.objects.filter(pk__lte=c.last_id).count()
        assert c.last_hash == AuditEvent.objects.get(pk=c.last_id).hash
    assert {c.last_id for c in checkpoints} <= {e.pk for e in events}
    assert oct(checkpoint_file.stat().st_mode & 0o777) == "0o600"
    out, _err = verify()
    assert "All 2 checkpoints agree" in out


def test_audit_checkpoint_command_writes_a_signed_line(checkpoint_file: Path) -> None:
    assert "empty" in checkpoint()
    assert not checkpoint_file.exists()
    events = record(2)
    assert f"2 events, the last #{events[-1].pk}" in checkpoint()
    line = json.loads(checkpoint_file.read_text())
    assert line["count"] == 2 and line["last_id"] == events[-1].pk
    assert line["last_hash"] == events[-1].hash and line["at"] and len(line["sig"]) == 64
    out, _err = verify()
    assert "The checkpoint agrees" in out


def test_a_forged_checkpoint_is_detected(checkpoint_file: Path) -> None:
    record(2)
    checkpoint()
    line = json.loads(checkpoint_file.read_text())
    line["count"] = 1  # to hide a later deletion of an event, say
    checkpoint_file.write_text(json.dumps(line) + "\n")
    with pytest.raises(CommandError, match="line 1: the signature does not match"):
        verify()
    with pytest.raises(CommandError, match="signature does not match"):
        checkpoint()
    # nor does a line that is no checkpoint at all, or a signature that is not even hex
    checkpoint_file.write_text(json.dumps({**line, "sig": "签名"}) + "\n[1, 2]\nnot json\n")
    with pytest.raises(CommandError) as refused:
        verify()
    assert "line 1: the signature does not match" in str(refused.value)
    assert "line 2: not a checkpoint" in str(refused.value)
    assert "line 3: not a checkpoint" in str(refused.value)


def test_no_checkpoint_where_one_was_due_fails(settings: Any, checkpoint_file: Path) -> None:
    record(3)
    _out, err = verify()  # fewer events than one checkpoint's worth: a warning only
    assert "no checkpoint yet" in err
    settings.AUDIT_CHECKPOINT_EVERY = 2  # one was due: the file was removed or never written
    with pytest.raises(CommandError, match="no checkpoint in .* although the log holds 3"):
        verify()


def test_verify_against_a_shipped_copy(checkpoint_file: Path, tmp_path: Path) -> None:
    record(2)
    checkpoint()
    shipped = tmp_path / "shipped.jsonl"
    shipped.write_bytes(checkpoint_file.read_bytes())
    checkpoint_file.unlink()  # whoever deleted the tail deleted the local file too
    tamper("DELETE FROM core_auditevent WHERE id = %s", [AuditEvent.objects.latest("id").pk])
    with pytest.raises(CommandError, match="newest events were deleted"):
        verify("--checkpoints", str(shipped))
    with pytest.raises(CommandError, match="No checkpoint file"):
        verify("--checkpoints", str(tmp_path / "nowhere.jsonl"))


# --- (c) and (d): truncation and the tail ----------------------------------------------------


def test_truncation_is_detected(checkpoint_file: Path) -> None:
    record(3)
    checkpoint()
    if connection.vendor == "postgresql":
        tamper("TRUNCATE core_auditevent")  # the statement trigger lifted, as a superuser can
    else:
        tamper("DELETE FROM core_auditevent")
    assert AuditEvent.objects.count() == 0
    with pytest.raises(CommandError, match="holds 0 events, fewer than the 3 .* truncated"):
        verify()


def test_postgresql_refuses_truncate() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (SQLite has no TRUNCATE; its DELETE fires the row trigger)")
    record(2)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no foreign-key check waits
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute("TRUNCATE core_auditevent")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute("TRUNCATE core_auditevent CASCADE")
    assert AuditEvent.objects.count() == 2


def test_deleting_the_newest_events_is_detected(checkpoint_file: Path) -> None:
    events = record(4)
    checkpoint()
    newer = record(1, start=4)
    tamper("DELETE FROM core_auditevent WHERE id >= %s", [events[-1].pk])
    assert list(verify_chain()) == []  # the shortened chain alone still links up
    with pytest.raises(CommandError) as refused:
        verify()
    message = str(refused.value)
    assert f"event #{events[-1].pk}: missing" in message
    assert "newest events were deleted" in message
    assert "holds 3 events, fewer than the 4" in message
    assert newer[0].pk > events[-1].pk
    # and the next checkpoint is refused rather than vouching for the shortened log
    with pytest.raises(CommandError, match="no longer holds what the checkpoint"):
        checkpoint()


def test_a_tail_rewritten_even_with_the_key_is_caught_by_the_checkpoint(
    checkpoint_file: Path,
) -> None:
    first, second, third = record(3)
    checkpoint()
    # given someone holding the key too, who replaces the newest event by a forged one
    tamper("DELETE FROM core_auditevent WHERE id = %s", [third.pk])
    forged = AuditEvent(
        id=third.pk,
        at=third.at,
        actor_name="",
        action="test.event",
        data={"n": "forged"},
        prev_hash=second.hash,
    )
    forged.hash = chain_digest(second.hash, event_fields(forged), audit_key())
    AuditEvent.objects.bulk_create([forged])
    assert list(verify_chain()) == []  # a valid keyed chain
    with pytest.raises(CommandError, match=rf"event #{third.pk}: its hash differs .* replaced"):
        verify()
    assert first.pk < third.pk


def test_deleting_an_event_in_the_middle_is_detected(checkpoint_file: Path) -> None:
    _first, victim, _last = record(3)
    checkpoint()
    tamper("DELETE FROM core_auditevent WHERE id = %s", [victim.pk])
    with pytest.raises(CommandError) as refused:
        verify()
    assert "previous hash does not match" in str(refused.value)
    assert "counted 3 events up to this one; there are 2" in str(refused.value)


# --- the upgrade: re-keying the unkeyed chain ------------------------------------------------


def unkeyed_events(n: int) -> list[AuditEvent]:
    """Events as the release before the key wrote them (plain SHA-256 chain)."""
    prev, events = GENESIS, []
    for i in range(n):
        event = AuditEvent(
            at=timezone.now().replace(microsecond=0),
            actor_name="old",
            action="old.event",
            data={"n": i},
            prev_hash=prev,
        )
        event.hash = sha256_digest(prev, event_fields(event))
        event.save()
        events.append(event)
        prev = event.hash
    return events


def test_the_upgrade_rekeys_an_intact_unkeyed_chain(
    checkpoint_file: Path, django_capture_on_commit_callbacks: Any
) -> None:
    events = unkeyed_events(3)
    assert len(list(verify_chain())) == 3  # the old hashes are not keyed
    with django_capture_on_commit_callbacks(execute=True):
        migration.rekey(apps, SimpleNamespace(connection=connection))
    assert list(verify_chain()) == []
    assert [e.data for e in AuditEvent.objects.order_by("id")] == [e.data for e in events]
    # a checkpoint of the re-keyed chain was written, and new events continue the chain
    out, _err = verify()
    assert "The checkpoint agrees; written at" in out and "recorded 3 events" in out
    record(1)
    verify()
    # the triggers are back
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=events[0].pk).update(action="changed")
    # and reversing the migration gives the plain chain back
    migration.unkey(apps, SimpleNamespace(connection=connection))
    assert len(list(verify_chain())) == 4


def test_the_upgrade_refuses_to_rekey_a_broken_chain(
    checkpoint_file: Path, monkeypatch: Any
) -> None:
    events = unkeyed_events(3)
    tamper("UPDATE core_auditevent SET data = %s WHERE id = %s", ['{"n": 9}', events[1].pk])
    with pytest.raises(RuntimeError, match=rf"broken at 1 event\(s\) \(#{events[1].pk}\)"):
        with transaction.atomic():
            migration.rekey(apps, SimpleNamespace(connection=connection))
    assert AuditEvent.objects.get(pk=events[0].pk).hash == events[0].hash  # nothing re-keyed
    monkeypatch.setenv(migration.FORCE, "1")
    migration.rekey(apps, SimpleNamespace(connection=connection))
    assert list(verify_chain()) == []


def test_an_empty_log_needs_no_rekeying(checkpoint_file: Path) -> None:
    migration.rekey(apps, SimpleNamespace(connection=connection))
    assert not checkpoint_file.exists()


# --- (e) the application's PostgreSQL role ---------------------------------------------------


def test_the_app_role_cannot_truncate_drop_or_alter_the_audit_table() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    role = f"jingzhun_app_test_{os.getpid()}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (owner,) = cursor.fetchone()
        for statement in app_role_sql(role, owner=owner, database=connection.settings_dict["NAME"]):
            cursor.execute(statement)
        cursor.execute(f'SET LOCAL ROLE "{role}"')
        # the app works: it reads, and it appends to the chain
        event = audit_record(actor=None, action="test.as_app_role")
        assert list(verify_chain()) == []
        # but it cannot rewrite the log, even before any trigger is reached
        refused = {
            "TRUNCATE core_auditevent": "permission denied",
            "DROP TABLE core_auditevent": "must be owner",
            "ALTER TABLE core_auditevent DISABLE TRIGGER ALL": "must be owner",
            "DROP TRIGGER core_auditevent_no_truncate ON core_auditevent": "must be owner",
            "DELETE FROM core_auditevent": "permission denied",
            "UPDATE core_auditevent SET action = 'x'": "permission denied",
            "CREATE TABLE scratch (id int)": "permission denied",
            "SET session_replication_role = replica": "permission denied",
            # the fund journal is append-only for the app as well (funds.0005)
            "DELETE FROM funds_journalline": "permission denied",
            "UPDATE funds_journalentry SET memo = 'x'": "permission denied",
            "TRUNCATE funds_journalentry CASCADE": "permission denied",
        }
        for sql, reason in refused.items():
            with pytest.raises(DatabaseError, match=reason), transaction.atomic():
                cursor.execute(sql)
        cursor.execute("RESET ROLE")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_db_app_role_prints_the_statements() -> None:
    out = StringIO()
    call_command(
        "db_app_role", "--role", "jz_app", "--owner", "jz_owner", "--database", "jz", stdout=out
    )
    text = out.getvalue()
    assert 'CREATE ROLE "jz_app" LOGIN NOSUPERUSER' in text
    assert 'REVOKE UPDATE, DELETE ON "public"."core_auditevent" FROM "jz_app";' in text
    assert "TRUNCATE" not in text and "OWNER" not in text
    with pytest.raises(CommandError, match="plain PostgreSQL name"):
        call_command("db_app_role", "--role", 'x"; DROP', "--owner", "o", "--database", "d")


# --- the test suite's own teardown ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_with_events_still_tears_down(audit_flushable: Any) -> None:
    """Teardown flushes the audit table (TRUNCATE on PostgreSQL); an error there fails this."""
    record(2)
    assert AuditEvent.objects.count() == 2
