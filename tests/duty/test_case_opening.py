"""Opening cases from identification: a preview per township, then the officer's confirmation
(on the page and with ``jingzhun duty open-cases --yes``)."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import Client
from tests.conftest import County, Personas

from jingzhun.duty import services
from jingzhun.duty.models import DropoutCase
from jingzhun.identification.services import identification_run
from jingzhun.schools.models import Enrolment

AS_OF = dt.date(2018, 10, 8)


def identify(as_of: dt.date = AS_OF) -> Any:
    return identification_run(actor=None, county_code="420101", as_of=as_of, fuzzy=None)


def drop_out(*enrolments: Any) -> None:
    for e in enrolments:
        Enrolment.objects.filter(pk=e.pk).update(
            status="dropped_out", status_date=dt.date(2018, 9, 20)
        )


def text(response: Any) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def client_for(user: Any) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def test_preview_counts_per_township_and_writes_nothing(county: County, personas: Personas) -> None:
    # given: both children dropped out; child A already has an open case from an earlier run
    drop_out(county.enrolment_a)
    identify()
    services.cases_open_from_identification(actor=None, county_code="420101")
    drop_out(county.enrolment_b)
    run = identify(dt.date(2018, 10, 15))
    # when
    preview = services.cases_open_preview(actor=personas.county_officer, county_code="420101")
    # then
    assert (preview.run_id, preview.as_of) == (run.pk, dt.date(2018, 10, 15))
    assert [(r.township_code, r.new, r.new_episode, r.already_open) for r in preview.rows] == [
        ("420101001", 0, 0, 1),
        ("420101002", 1, 0, 0),
    ]
    assert (preview.new, preview.new_episode, preview.already_open) == (1, 0, 1)
    assert DropoutCase.objects.count() == 1


def test_preview_is_the_county_officers(county: County, personas: Personas) -> None:
    identify()
    with pytest.raises(PermissionDenied):
        services.cases_open_preview(actor=personas.township_a, county_code="420101")


def test_confirming_a_run_that_is_no_longer_the_latest_is_refused(
    county: County, personas: Personas
) -> None:
    drop_out(county.enrolment_a)
    old = identify()
    identify(dt.date(2018, 10, 9))
    with pytest.raises(ValidationError):
        services.cases_open_from_identification(
            actor=personas.county_officer, county_code="420101", run_id=old.pk
        )
    assert DropoutCase.objects.count() == 0


def test_page_shows_the_preview_then_opens_on_confirmation(
    county: County, personas: Personas
) -> None:
    drop_out(county.enrolment_a, county.enrolment_b)
    run = identify()
    client = client_for(personas.county_officer)
    # the ledger offers the preview, not a button that writes
    ledger = client.get("/duty/")
    assert 'href="/duty/open-cases/"' in ledger.content.decode()
    preview = client.get("/duty/open-cases/")
    assert preview.status_code == 200
    body = text(preview)
    assert f"Identification run #{run.pk} As of 2018-10-08" in body
    assert "甲镇 1 0 0" in body and "乙乡 1 0 0" in body and "Total 2 0 0" in body
    assert DropoutCase.objects.count() == 0
    # a POST without the run previewed writes nothing
    client.post("/duty/open-cases/")
    assert DropoutCase.objects.count() == 0
    done = client.post("/duty/open-cases/", {"run": str(run.pk)}, follow=True)
    assert "Cases opened: 2 new, 0 as a new episode; 0 children already had an open case." in (
        text(done)
    )
    assert DropoutCase.objects.count() == 2
    again = text(client.get("/duty/open-cases/"))
    assert "Total 0 0 2" in again and "There is nothing to open." in again


@pytest.mark.parametrize("who", ["township_a", "principal_a", "teacher_a", "inspector", "nobody"])
def test_only_the_county_previews_and_opens(county: County, personas: Personas, who: str) -> None:
    drop_out(county.enrolment_a)
    run = identify()
    client = client_for(getattr(personas, who))
    assert client.get("/duty/open-cases/").status_code == 403
    assert client.post("/duty/open-cases/", {"run": str(run.pk)}).status_code == 403
    assert DropoutCase.objects.count() == 0


def test_command_previews_without_yes_and_opens_with_it(county: County, personas: Any) -> None:
    drop_out(county.enrolment_a)
    identify()
    out = io.StringIO()
    call_command("duty", "open-cases", "--county", "420101", stdout=out)
    printed = out.getvalue()
    assert "甲镇: new 1, new episode 0, already open 0" in printed
    assert "preview only: nothing was written" in printed
    assert DropoutCase.objects.count() == 0
    out = io.StringIO()
    call_command("duty", "open-cases", "--county", "420101", "--yes", stdout=out)
    assert "cases opened 1, reopened as a new episode 0, already open 0" in out.getvalue()
    assert DropoutCase.objects.count() == 1
