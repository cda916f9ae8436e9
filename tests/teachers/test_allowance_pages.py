"""The allowance page: the county previews then computes the month, a school confirms its own
lines, the county approves them into a batch; each user sees only their lines; the export is
what the page shows."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import openpyxl
from django.test import Client
from tests.threads import english_client

from jingzhun.funds import services as funds
from jingzhun.funds.models import Payment, PaymentBatch
from jingzhun.teachers import services
from jingzhun.teachers.models import AllowanceLine

OCT = dt.date(2018, 10, 1)
URL = "/teachers/allowance/?month=2018-10"


def post(client: Client, action: str, **extra: str) -> Any:
    return client.post("/teachers/allowance/", {"month": "2018-10", "action": action, **extra})


def test_the_county_previews_then_computes(roster: dict[str, Any], personas: Any) -> None:
    client = english_client(personas.aid_officer)
    page = client.get(URL).content.decode()
    assert "Compute the month from the roster (preview)" in page
    assert "No allowance line for this month yet." in page
    preview = post(client, "preview")
    assert preview.status_code == 200
    assert "If computed now: 3 new lines" in preview.content.decode()
    assert not AllowanceLine.objects.exists()  # a preview keeps nothing
    done = post(client, "compute")
    assert done.status_code == 302
    assert AllowanceLine.objects.count() == 3
    page = client.get(URL).content.decode()
    assert "Computed: 3 new, 0 changed" in page
    assert "600.00 × 31/31 = 600.00" in page  # the reason, line by line


def test_a_school_confirms_its_own_lines_and_sees_no_other(
    roster: dict[str, Any], personas: Any, county: Any
) -> None:
    services.allowance_compute(actor=personas.aid_officer, month=OCT)
    principal = english_client(personas.principal_a)
    page = principal.get(URL).content.decode()
    assert roster["village"].name in page
    assert roster["point"].name not in page  # the teaching point is another school
    assert "Compute the month" not in page and "Approve the month" not in page
    # another school's lines cannot be confirmed from here
    assert post(principal, "review", school=str(roster["point_school"].pk)).status_code == 403
    assert post(principal, "review", school=str(county.school_a.pk)).status_code == 302
    assert set(
        AllowanceLine.objects.filter(school=county.school_a).values_list("review", flat=True)
    ) == {"reviewed"}
    assert set(
        AllowanceLine.objects.filter(school=roster["point_school"]).values_list("review", flat=True)
    ) == {"pending"}
    # a township officer elsewhere sees none of township A's lines
    other = english_client(personas.township_b).get(URL).content.decode()
    assert roster["village"].name not in other and "0 lines" in other
    # a class teacher may not open the page
    assert english_client(personas.teacher_a).get(URL).status_code == 403


def test_the_county_approves_into_one_batch(roster: dict[str, Any], personas: Any) -> None:
    services.allowance_compute(actor=personas.aid_officer, month=OCT)
    client = english_client(personas.aid_officer)
    post(client, "approve")
    assert "Some schools have not reviewed" in client.get(URL).content.decode()
    assert not PaymentBatch.objects.exists()
    AllowanceLine.objects.update(review="reviewed")
    funds.allocation_record(
        actor=personas.aid_officer,
        channel="county",
        school_year=2018,
        programme=services.ALLOWANCE_PROGRAMME,
        amount=Decimal("5000.00"),
    )
    assert post(client, "approve").status_code == 302
    batch = PaymentBatch.objects.get()
    page = client.get(URL).content.decode()
    assert f"Payment batch {batch.reference} pays this month" in page
    assert Payment.objects.filter(batch=batch).count() == 2
    post(client, "approve")
    assert "Already done" in client.get(URL).content.decode()
    assert PaymentBatch.objects.count() == 1


def test_the_export_holds_the_filtered_rows(
    roster: dict[str, Any], personas: Any, county: Any
) -> None:
    services.allowance_compute(actor=personas.aid_officer, month=OCT)
    client = english_client(personas.aid_officer)
    response = client.get(f"/teachers/allowance.xlsx?month=2018-10&school={county.school_a.pk}")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    table = list(sheet.iter_rows(values_only=True))
    rows = table[[r[0] for r in table].index("序号") + 1 :]
    assert [(r[1], r[7]) for r in rows] == [(roster["village"].name, "400.00")]
    assert "400.00元×31/31天 (II.3.4)" in rows[0][8]
    assert roster["village"].id_masked == rows[0][2] and "*" in rows[0][2]
