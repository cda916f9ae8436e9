"""demo_setup builds a county through the real import path, runs the main jobs, and is rerunnable."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.core.management import call_command

from jingzhun.accounts.models import User
from jingzhun.aid.models import AidNotice, Entitlement
from jingzhun.duty.models import DropoutCase
from jingzhun.funds.models import Payment, PaymentBatch
from jingzhun.identification.models import IdentificationRun


def run(out: Path) -> str:
    buffer = io.StringIO()
    call_command(
        "demo_setup", "--scale", "tiny", "--out", str(out), stdout=buffer, stderr=io.StringIO()
    )
    return buffer.getvalue()


def test_demo_setup_twice_gives_the_same_county(db: Any, tmp_path: Path) -> None:
    first = run(tmp_path)
    counts = (
        IdentificationRun.objects.count(),
        Entitlement.objects.count(),
        AidNotice.objects.count(),
        PaymentBatch.objects.count(),
        Payment.objects.count(),
        DropoutCase.objects.count(),
    )
    second = run(tmp_path)
    assert counts == (
        IdentificationRun.objects.count(),
        Entitlement.objects.count(),
        AidNotice.objects.count(),
        PaymentBatch.objects.count(),
        Payment.objects.count(),
        DropoutCase.objects.count(),
    )
    # the principal's school went through review and notice to an approved batch
    principal = User.objects.get(username="principal")
    notice = AidNotice.objects.get()
    assert notice.school == principal.school and notice.status == "approved"
    batch = PaymentBatch.objects.get()
    assert batch.status == "approved" and batch.control["count"] == Payment.objects.count() > 0
    assert "aid 2018 autumn:" in first and f"payment batch {batch.reference}" in second
    assert Entitlement.objects.filter(kind="waiver").exists()
    # every compulsory-age child found out of school has a case, opened once
    assert DropoutCase.objects.count() > 0
    assert "dropout cases: opened 0" in second
