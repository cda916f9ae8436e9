"""Computations started at once: one computes, the others find it already done.

On PostgreSQL two computations used to read the same stored entitlements, and the second's
COPY hit the unique constraint as a raw psycopg error (issue 11, item 6: 3 crashes in 20).
"""

from __future__ import annotations

import io
from typing import Any

from django.core.management import call_command
from django.urls import reverse
from tests.threads import at_once, english_client, messages_of

from jingzhun.aid import services
from jingzhun.aid.models import Adjustment, AidComputation, Entitlement, RuleBookVersion
from jingzhun.core.models import AuditEvent
from jingzhun.schools.models import Enrolment

from .world import identify, lines

FIRST_LINES = [
    ("张小明", "boarding_subsidy", "500.00", "pending"),
    ("张小明", "compulsory_waiver", "90.00", "pending"),
    ("李小红", "compulsory_waiver", "130.00", "pending"),
]


def compute(actor: Any) -> services.ComputeResult:
    return services.aid_compute(
        actor=actor, county_code="420101", school_year=2018, semester="autumn"
    )


def test_eight_computations_at_once_give_one_and_seven_already_done(
    county: Any, personas: Any, audit_flushable: Any
) -> None:
    identify()
    results = at_once(8, lambda i, _state: compute(personas.aid_officer))
    assert all(isinstance(r, services.ComputeResult) for r in results), results
    assert [r.already_done for r in results].count(False) == 1, results
    assert lines() == FIRST_LINES
    assert AidComputation.objects.count() == 1
    # the rule book the first one installed, once
    assert RuleBookVersion.objects.count() == 1
    assert AuditEvent.objects.filter(action="aid.rulebook_version").count() == 1
    # one event for the one computation; the others record that they found nothing to do
    computed = AuditEvent.objects.filter(action="aid.compute").exclude(object_id="")
    assert computed.count() == 1
    for event in AuditEvent.objects.filter(action="aid.compute", object_id=""):
        counts = event.data["counts"]
        assert counts["inserted"] == counts["changed"] == counts["withdrawn"] == 0


def test_eight_recomputations_at_once_write_each_adjustment_once(
    county: Any, personas: Any, audit_flushable: Any
) -> None:
    identify()
    compute(personas.aid_officer)
    # given: A stops boarding, B starts boarding
    Enrolment.objects.filter(pk=county.enrolment_a.pk).update(boarding=False)
    Enrolment.objects.filter(pk=county.enrolment_b.pk).update(boarding=True)
    # when
    results = at_once(8, lambda i, _state: compute(personas.aid_officer))
    # then
    assert all(isinstance(r, services.ComputeResult) for r in results), results
    done = [r for r in results if not r.already_done]
    assert len(done) == 1 and done[0].counts["withdrawn"] == 1, results
    assert lines() == [
        ("张小明", "boarding_subsidy", "500.00", "withdrawn"),
        ("张小明", "compulsory_waiver", "90.00", "pending"),
        ("李小红", "boarding_subsidy", "625.00", "pending"),
        ("李小红", "compulsory_waiver", "130.00", "pending"),
    ]
    adjustment = Adjustment.objects.get()
    assert (adjustment.kind, adjustment.old_amount, adjustment.new_amount) == ("withdrawn", 500, 0)
    assert AidComputation.objects.count() == 2
    assert Entitlement.objects.count() == 4


def test_eight_cli_computations_at_once_print_one_result_and_seven_up_to_date(
    county: Any, personas: Any, audit_flushable: Any
) -> None:
    identify()

    def run(i: int, _state: Any) -> str:
        out, err = io.StringIO(), io.StringIO()
        call_command(
            "aid",
            "compute",
            "--county",
            "420101",
            "--school-year",
            "2018",
            "--semester",
            "autumn",
            stdout=out,
            stderr=err,
        )
        return out.getvalue().splitlines()[0]

    results = at_once(8, run)
    assert all(isinstance(r, str) for r in results), results
    assert sum(r.startswith("aid 2018 autumn: computation #") for r in results) == 1, results
    assert results.count("aid 2018 autumn: already up to date, no changes") == 7, results
    assert AidComputation.objects.count() == 1 and Entitlement.objects.count() == 3


def test_eight_computations_started_at_once_on_the_page_are_never_an_error(
    county: Any, personas: Any, audit_flushable: Any
) -> None:
    identify()

    def post(i: int, client: Any) -> tuple[int, list[str]]:
        response = client.post(reverse("aid:overview"), {"year": 2018, "semester": "autumn"})
        return response.status_code, messages_of(response)

    results = at_once(8, post, prepare=lambda i: english_client(personas.aid_officer))
    assert all(isinstance(r, tuple) and r[0] == 302 for r in results), results
    texts = [text for _status, found in results for text in found]
    assert len(texts) == 8, texts
    assert sum(t.startswith("The computation started") for t in texts) == 1, texts
    assert sum(t.startswith("Already done: the entitlements of") for t in texts) == 7, texts
    assert lines() == FIRST_LINES
    assert AidComputation.objects.count() == 1
