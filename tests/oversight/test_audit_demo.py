"""The year-end audit runs on the demo county (the tiny one demo_setup builds) and completes."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

from django.core.management import call_command

from jingzhun.funds.models import PaymentBatch
from jingzhun.oversight.audit_checks import audit_report
from jingzhun.oversight.audit_documents import audit_pdf, audit_xlsx

TODAY = dt.date(2026, 12, 4)  # as in tests/demo/test_demo_setup.py


def test_audit_of_the_demo_county_completes(db: Any, tmp_path: Path) -> None:
    call_command(
        "demo_setup",
        "--scale",
        "tiny",
        "--out",
        str(tmp_path),
        "--today",
        TODAY.isoformat(),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    batch = PaymentBatch.objects.order_by("id").first()
    assert batch is not None
    report = audit_report(county_code=batch.county_code, school_year=batch.school_year)
    counts = {c.kind.key: c.count for c in report.counts}
    print("demo audit:", batch.county_code, batch.school_year, counts)  # noqa: T201
    # every checkable kind has a count (the registry records no deaths)
    assert counts["after_death"] is None
    assert all(counts[k] is not None for k in counts if k != "after_death")
    assert audit_xlsx(report).startswith(b"PK")
    assert audit_pdf(report, issuer="demo").startswith(b"%PDF")
