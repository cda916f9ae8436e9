"""A run is a preview until an officer confirms it; a run that empties the schools is held."""

from __future__ import annotations

import datetime as dt
import threading
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from tests.identification.helpers import AS_OF, LATE, TWIN1, TWIN2
from tests.identification.world import World, make_world

from jingzhun.core.importing import duck
from jingzhun.core.models import AuditEvent
from jingzhun.identification import selectors
from jingzhun.identification.engine import current_enrolment_sql, load_inputs
from jingzhun.identification.models import ChildStatus, IdentificationRun, Link, RunChange
from jingzhun.identification.services import (
    RunRefused,
    identification_run,
    identification_run_confirm,
    identification_run_discard,
)
from jingzhun.schools.models import Enrolment, Student

pytestmark = pytest.mark.django_db

NEXT_DAY = AS_OF + dt.timedelta(days=1)  # a new as-of date is a new input


@pytest.fixture
def w(tmp_path: Path) -> World:
    return make_world(tmp_path, ming_without_id=False)


def login(user: Any) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def preview(actor: Any = None, as_of: dt.date = NEXT_DAY) -> IdentificationRun:
    return identification_run(actor=actor, county_code="420101", as_of=as_of, confirm=False)


def drop_out(*names: str) -> None:
    Enrolment.objects.filter(student__name__in=names).update(
        status="dropped_out", status_date=AS_OF
    )


# --------------------------------------------------------------------------- lifecycle


def test_a_preview_is_read_by_nothing_until_confirmed(w: World) -> None:
    # given the current run links four children; TWIN1 drops out since
    links_before = set(Link.objects.values_list("person_id", "student_id", "run_id"))
    drop_out(TWIN1[0])
    # when a preview is computed
    run = preview(w.aid_officer)
    # then it is a preview, the current run is unchanged, and no link was rewritten
    assert run.status == IdentificationRun.Status.PREVIEW
    assert run.previous == w.run
    assert selectors.latest_run(user=w.county_officer) == w.run
    assert set(Link.objects.values_list("person_id", "student_id", "run_id")) == links_before
    page = login(w.county_officer).get("/identification/ledgers/dropped/")
    assert page.context["run"] == w.run and page.context["total"] == 0
    # and its differences are counted against the current run
    assert run.diff["previous"] == w.run.pk
    assert run.diff["enrolled_before"] == 5
    assert run.diff["moved_out"] == 1
    assert run.diff["new_dropped"] == 1
    assert run.diff["categories"]["dropped_out"] == [0, 1]
    assert AuditEvent.objects.filter(action="identification.preview", object_id=str(run.pk))
    # when an officer confirms it (1 of 5 = 20% moved out: held, so the tick is needed)
    assert run.held
    confirmed = identification_run_confirm(actor=w.aid_officer, run_id=run.pk, checked_held=True)
    # then it is the current run, confirmed by the officer, and the ledger reads it
    assert confirmed.status == IdentificationRun.Status.DONE
    assert confirmed.confirmed_by == w.aid_officer and confirmed.confirmed_at is not None
    assert selectors.latest_run(user=w.county_officer) == confirmed
    page = login(w.county_officer).get("/identification/ledgers/dropped/")
    assert page.context["total"] == 1
    event = AuditEvent.objects.get(action="identification.confirm", object_id=str(run.pk))
    assert event.data["held"] is True and event.data["checked_held"] is True
    assert event.data["moved_out"] == 1


def test_a_second_confirmation_is_already_done(w: World) -> None:
    drop_out(TWIN1[0])
    run = preview()
    identification_run_confirm(actor=None, run_id=run.pk, checked_held=True)
    with pytest.raises(RunRefused) as refused:
        identification_run_confirm(actor=None, run_id=run.pk, checked_held=True)
    assert refused.value.code == "already_done"
    confirmations = AuditEvent.objects.filter(
        action="identification.confirm", object_id=str(run.pk)
    )
    assert confirmations.count() == 1


def _concurrently(n: int, work: Any) -> list[Any]:
    """Run `work` in n threads released together; return each result or exception."""
    results: list[Any] = [None] * n
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the test counts outcomes
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_simultaneous_confirmations_make_one_current_run(w: World, audit_flushable: Any) -> None:
    # given two previews computed from the same current run
    drop_out(TWIN1[0])
    first, second = preview(), preview(as_of=NEXT_DAY + dt.timedelta(days=1))
    # when eight officers confirm at once, half the first preview, half the second
    runs = [first.pk, second.pk] * 4
    results = _concurrently(
        8,
        lambda i: identification_run_confirm(actor=None, run_id=runs[i], checked_held=True),
    )
    # then one run is confirmed; every other click ends as a clear refusal, never a driver error
    done = [r for r in results if isinstance(r, IdentificationRun)]
    refused = [r for r in results if isinstance(r, RunRefused)]
    assert (len(done), len(refused)) == (1, 7), results
    winner = done[0].pk
    codes = {runs[i]: set() for i in range(8)}
    for i, r in enumerate(results):
        if isinstance(r, RunRefused):
            codes[runs[i]].add(r.code)
    loser = second.pk if winner == first.pk else first.pk
    assert codes[winner] == {"already_done"} and codes[loser] == {"stale"}
    statuses = dict(IdentificationRun.objects.values_list("pk", "status"))
    assert (statuses[winner], statuses[loser]) == ("done", "preview")
    confirms = AuditEvent.objects.filter(action="identification.confirm")
    assert list(confirms.filter(object_id__in=[str(first.pk), str(second.pk)])) == list(
        confirms.filter(object_id=str(winner))
    )
    assert confirms.filter(object_id=str(winner)).count() == 1


def test_a_held_preview_needs_the_tick(w: World) -> None:
    # given a preview that moves 2 of 5 enrolled children out of school
    drop_out(TWIN1[0], TWIN2[0])
    run = preview()
    assert run.held and run.diff["moved_out"] == 2
    assert run.diff["moved_out_share"] == 0.4
    # when confirmed without the tick: refused, nothing changes
    with pytest.raises(RunRefused) as refused:
        identification_run_confirm(actor=w.aid_officer, run_id=run.pk)
    assert refused.value.code == "held"
    run.refresh_from_db()
    assert run.status == "preview"
    assert selectors.latest_run(user=w.county_officer) == w.run


def test_the_hold_share_is_a_setting(w: World, settings: Any) -> None:
    settings.IDENTIFICATION_RUN_HOLD_SHARE = 0.5
    drop_out(TWIN1[0], TWIN2[0])
    run = preview()
    assert not run.held and run.diff["hold_share"] == 0.5
    assert identification_run_confirm(actor=None, run_id=run.pk).status == "done"


def test_a_preview_without_changes_is_not_held(w: World) -> None:
    run = preview()
    assert run.diff["moved_out"] == 0 and not run.held
    assert identification_run_confirm(actor=None, run_id=run.pk).status == "done"


def test_discard_keeps_the_current_run(w: World) -> None:
    drop_out(TWIN1[0])
    run = preview(w.aid_officer)
    # when discarded
    identification_run_discard(actor=w.aid_officer, run_id=run.pk)
    # then its rows are gone, the run stays (discarded), the current run is unchanged
    run.refresh_from_db()
    assert run.status == "discarded"
    assert not ChildStatus.objects.filter(run=run).exists()
    assert not RunChange.objects.filter(run=run).exists()
    assert selectors.latest_run(user=w.county_officer) == w.run
    with pytest.raises(RunRefused):
        identification_run_confirm(actor=w.aid_officer, run_id=run.pk, checked_held=True)


def test_a_preview_overtaken_by_another_confirmation_is_refused(w: World) -> None:
    first = preview(as_of=NEXT_DAY)
    second = preview(as_of=NEXT_DAY + dt.timedelta(days=1))
    identification_run_confirm(actor=None, run_id=second.pk)
    with pytest.raises(RunRefused) as refused:
        identification_run_confirm(actor=None, run_id=first.pk)
    assert refused.value.code == "stale"
    first.refresh_from_db()
    assert first.status == "preview"


def test_only_users_who_import_may_confirm(w: World) -> None:
    run = preview()
    response = login(w.township_a).post(f"/identification/runs/{run.pk}/confirm/")
    assert response.status_code == 403
    run.refresh_from_db()
    assert run.status == "preview"


def test_identification_run_keeps_the_old_behaviour_for_programs(w: World) -> None:
    drop_out(TWIN1[0], TWIN2[0])
    run = identification_run(actor=None, county_code="420101", as_of=NEXT_DAY)
    assert run.status == "done" and run.held
    assert selectors.latest_run(user=w.county_officer) == run


# --------------------------------------------------------------------------- no rolls


def test_a_school_year_without_rolls_is_refused(w: World) -> None:
    before = IdentificationRun.objects.count()
    with pytest.raises(RunRefused) as refused:
        preview(as_of=dt.date(2019, 10, 8))
    assert refused.value.code == "no_rolls"
    assert "2019-2020" in refused.value.messages[0]
    assert IdentificationRun.objects.count() == before


def test_the_start_form_refuses_a_school_year_without_rolls(w: World) -> None:
    before = IdentificationRun.objects.count()
    response = login(w.aid_officer).post("/identification/", {"as_of": "2019-10-08"})
    assert response.status_code == 400
    text = response.content.decode()
    assert 'id="jz-start-error"' in text and "2019-2020" in text
    assert IdentificationRun.objects.count() == before


def test_the_start_form_shows_the_inputs(w: World) -> None:
    text = login(w.aid_officer).get("/identification/").content.decode()
    assert 'id="jz-batches"' in text and "rolls.csv" in text and "registry.csv" in text
    assert 'id="jz-rolls"' in text and "2018-2019" in text
    assert 'name="as_of"' in text


# --------------------------------------------------------------------------- the preview page


def test_the_preview_page_shows_differences_inputs_and_the_hold(w: World) -> None:
    drop_out(TWIN1[0], TWIN2[0])
    run = preview(w.aid_officer)
    text = login(w.aid_officer).get(f"/identification/runs/{run.pk}/").content.decode()
    assert 'id="jz-preview"' in text and 'id="jz-held"' in text
    assert "2 of 5 enrolled children (40.0%)" in text
    assert 'name="checked_held"' in text and 'id="jz-discard"' in text
    assert "rolls.csv" in text
    # a township officer sees the preview but no buttons
    text = login(w.township_a).get(f"/identification/runs/{run.pk}/").content.decode()
    assert 'id="jz-preview"' in text and 'id="jz-confirm"' not in text
    # confirming without the tick through the page changes nothing
    client = login(w.aid_officer)
    client.post(f"/identification/runs/{run.pk}/confirm/")
    run.refresh_from_db()
    assert run.status == "preview"
    client.post(f"/identification/runs/{run.pk}/confirm/", {"checked_held": "1"})
    run.refresh_from_db()
    assert run.status == "done" and run.confirmed_by == w.aid_officer


# --------------------------------------------------------------------------- the command line


def test_cli_without_yes_leaves_a_preview(w: World) -> None:
    drop_out(TWIN1[0])
    out = StringIO()
    call_command("identify", "--as-of", NEXT_DAY.isoformat(), stdout=out, stderr=StringIO())
    run = IdentificationRun.objects.order_by("-id").first()
    assert run is not None and run.status == "preview"
    text = out.getvalue()
    assert "Moved out of school: 1" in text and "HELD" in text and "--yes" in text
    assert selectors.latest_run(user=w.county_officer) == w.run


def test_cli_yes_refuses_a_held_run_without_force(w: World) -> None:
    drop_out(TWIN1[0])
    with pytest.raises(CommandError, match="held"):
        call_command(
            "identify",
            "--as-of",
            NEXT_DAY.isoformat(),
            "--yes",
            stdout=StringIO(),
            stderr=StringIO(),
        )
    assert selectors.latest_run(user=w.county_officer) == w.run
    out = StringIO()
    call_command(
        "identify",
        "--as-of",
        NEXT_DAY.isoformat(),
        "--yes",
        "--force-held",
        stdout=out,
        stderr=StringIO(),
    )
    run = IdentificationRun.objects.order_by("-id").first()
    assert run is not None and run.status == "done"
    assert selectors.latest_run(user=w.county_officer) == run
    assert "Confirmed" in out.getvalue()


def test_cli_refuses_a_school_year_without_rolls(w: World) -> None:
    with pytest.raises(CommandError, match="2019-2020"):
        call_command("identify", "--as-of", "2019-10-08", stdout=StringIO(), stderr=StringIO())


# --------------------------------------------------------------------------- current enrolment


def _two_enrolments(w: World, **second: Any) -> tuple[Enrolment, Enrolment]:
    """LATE's enrolment at school A and a second one the same year at school B (the database
    allows one enrolment in school per student and year: the second is another status)."""
    first = Enrolment.objects.get(student__name=LATE[0])
    other = Enrolment.objects.get(student__name=TWIN1[0])
    twin = Enrolment.objects.create(
        student=first.student,
        school=other.school,
        school_year=first.school_year,
        stage=other.stage,
        grade=other.grade,
        **second,
    )
    return first, twin


def _engine_pick(student_id: int, school_year: int) -> int:
    inputs = load_inputs(county_code="420101", as_of=AS_OF)
    con = duck()
    con.register("e", inputs.enrolments)
    rows = con.sql(
        current_enrolment_sql(school_year, columns="student_id, enrolment_id")
    ).fetchall()
    con.close()
    return dict(rows)[student_id]


SEP_1, SEP_20 = dt.date(2018, 9, 1), dt.date(2018, 9, 20)


@pytest.mark.parametrize(
    ("first_fields", "second_fields", "winner"),
    [
        # in school beats a later record (higher id, later date) that says transferred out
        (
            {"status": "enrolled", "status_date": SEP_1},
            {"status": "transferred_out", "status_date": SEP_20},
            "first",
        ),
        # neither in school: the later status date wins over the higher id
        (
            {"status": "transferred_out", "status_date": SEP_20},
            {"status": "dropped_out", "status_date": SEP_1},
            "first",
        ),
        # a dated record beats an undated one
        (
            {"status": "transferred_out", "status_date": None},
            {"status": "dropped_out", "status_date": SEP_1},
            "second",
        ),
        # all else equal: the highest id (the record that landed last)
        (
            {"status": "transferred_out", "status_date": SEP_1},
            {"status": "dropped_out", "status_date": SEP_1},
            "second",
        ),
    ],
)
def test_current_enrolment_tie_break(
    w: World, first_fields: dict[str, Any], second_fields: dict[str, Any], winner: str
) -> None:
    Enrolment.objects.filter(student__name=LATE[0]).update(**first_fields)
    first, second = _two_enrolments(w, **second_fields)
    expected = first if winner == "first" else second
    student = Student.objects.get(name=LATE[0])
    # the ORM selector and the engine's SQL pick the same enrolment
    picked = selectors.current_enrolment(student_id=student.pk, school_year=first.school_year)
    assert picked is not None and picked.pk == expected.pk
    assert _engine_pick(student.pk, first.school_year) == expected.pk
    many = selectors.current_enrolments(Enrolment.objects.all(), school_year=first.school_year)
    assert [e.pk for e in many if e.student_id == student.pk] == [expected.pk]
