"""The audit log: hash chain, verification, append-only."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from jingzhun.core.audit import GENESIS, audit_record, verify_chain
from jingzhun.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_chain_links_each_event_to_the_one_before() -> None:
    first = audit_record(actor=None, action="test.one", data={"n": 1})
    second = audit_record(actor=None, action="test.two", data={"n": 2})
    assert first.prev_hash == (
        AuditEvent.objects.exclude(pk__gte=first.pk)
        .order_by("-id")
        .values_list("hash", flat=True)
        .first()
        or GENESIS
    )
    assert second.prev_hash == first.hash
    assert list(verify_chain()) == []
    call_command("audit_verify")


def test_model_refuses_update_and_delete() -> None:
    event = audit_record(actor=None, action="test.one")
    event.action = "changed"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()


def test_database_refuses_update_and_delete() -> None:
    event = audit_record(actor=None, action="test.one")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.one"


def test_verify_detects_a_changed_event() -> None:
    audit_record(actor=None, action="test.one", data={"amount": "100"})
    victim = audit_record(actor=None, action="test.two", data={"amount": "200"})
    audit_record(actor=None, action="test.three")
    # given someone with database access who lifted the guard and edited a row
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER core_auditevent_no_update")
        else:
            cursor.execute("SET LOCAL session_replication_role = replica")  # skips user triggers
        cursor.execute(
            "UPDATE core_auditevent SET data = %s WHERE id = %s", ['{"amount": "999"}', victim.pk]
        )
    # then verification names the event
    problems = list(verify_chain())
    assert [pk for pk, _problem in problems] == [victim.pk]
    assert problems[0][1].startswith("content does not match its hash")
    with pytest.raises(CommandError):
        call_command("audit_verify")
