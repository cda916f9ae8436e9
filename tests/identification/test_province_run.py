"""A province's identification, one task per county on the task queue, and its summary.

Two counties: 420101 (the test county) and 420102. A child of each studies at a school of the
other; each county's run must find its own child enrolled outside the county and leave the
other county's child alone, as one province-wide run links them.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
import subprocess
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from tests.identification.helpers import AS_OF, CHILDREN, HH_A, build, registry_rows, roll
from tests.imports.helpers import (
    AREAS_HEADER,
    REGISTRY_HEADER,
    ROLLS_HEADER,
    SCHOOLS_HEADER,
    make_id,
    run_import,
    write_csv,
)

from jingzhun.identification import services
from jingzhun.identification.models import (
    ChildStatus,
    Discrepancy,
    IdentificationRun,
    Link,
    OutOfCountyProof,
    ProvinceCountyRun,
    ProvinceRun,
)
from jingzhun.identification.province import province_run_start, province_summary
from jingzhun.registry.models import Person
from jingzhun.schools.models import Student

pytestmark = pytest.mark.django_db

A, B = "420101", "420102"
HH_C = ["4201020010010001", "420102001001", "2015", "在册", "", "因病", "是", "", ""]
# A child of county A at a school of county B, and one of B at a school of A.
CROSS_A = ("王小虎", make_id(A, "20100101", "015"), "男", "2010-01-01", HH_A, "")
CROSS_B = ("赵小花", make_id(B, "20110202", "026"), "女", "2011-02-02", HH_C, "")
LOCAL_B = ("赵大山", make_id(B, "20090303", "037"), "男", "2009-03-03", HH_C, "")
SCHOOL_A, SCHOOL_B = "2142010001", "2142020001"


def two_counties(tmp: Path) -> None:
    build(tmp, registry=registry_rows([*CHILDREN, CROSS_A]))
    for kind, header, rows in (
        (
            "areas",
            AREAS_HEADER,
            [
                [B, "邻县", "县", "", ""],
                ["420102001", "丙镇", "乡镇", B, ""],
                ["420102001001", "丙村", "村", "420102001", "是"],
            ],
        ),
        (
            "schools",
            SCHOOLS_HEADER,
            [[SCHOOL_B, "丙镇小学", "小学", "420102001", "420102001001", "否", "县内"]],
        ),
        ("registry", REGISTRY_HEADER, registry_rows([CROSS_B, LOCAL_B])),
    ):
        batch = run_import(kind, write_csv(tmp / f"b-{kind}.csv", header, rows))
        assert batch.status == "done", batch.message
    for county, rows in (
        (B, [roll(*_r(LOCAL_B), SCHOOL_B, "小学", "5"), roll(*_r(CROSS_A), SCHOOL_B, "小学", "3")]),
        (A, [roll(*_r(CROSS_B), SCHOOL_A, "小学", "2")]),
    ):
        batch = run_import(
            "rolls", write_csv(tmp / f"rolls-{county}.csv", ROLLS_HEADER, rows), county=county
        )
        assert batch.status == "done", batch.message


def _r(child: tuple) -> tuple[str, str, str]:
    return child[0], child[1], child[3]


@pytest.fixture
def province(tmp_path: Path) -> None:
    two_counties(tmp_path)
    assert Student.objects.get(name=CROSS_A[0]).county_code == B
    assert Student.objects.get(name=CROSS_B[0]).county_code == A


def status(county: str, name: str) -> ChildStatus:
    run = services.current_run(county)
    assert run is not None
    return ChildStatus.objects.get(run=run, person__name=name)


def test_each_county_is_confirmed_and_finds_its_child_across_the_border(province) -> None:
    # Tests run tasks immediately: start runs every county's task before it returns.
    run = province_run_start(actor=None, province="42", as_of=AS_OF)
    summary = province_summary(ProvinceRun.objects.get(pk=run.pk))
    assert summary["counties"] == 2 and summary["done"]
    assert summary["states"]["confirmed"] == 2, summary
    for part in run.counties.all():
        assert part.run is not None and part.run.status == IdentificationRun.Status.DONE
        assert part.run == services.current_run(part.county_code)
    # A's child at B's school: enrolled outside the county, linked by A's run.
    cross_a = status(A, CROSS_A[0])
    assert cross_a.category == ChildStatus.Category.ENROLLED_OUT_OF_COUNTY
    assert cross_a.student.name == CROSS_A[0]
    assert status(B, CROSS_B[0]).category == ChildStatus.Category.ENROLLED_OUT_OF_COUNTY
    assert status(B, LOCAL_B[0]).category == ChildStatus.Category.ENROLLED_IN_COUNTY
    # B's child at A's school is B's: A neither links it nor reports it missing from the registry.
    linked = dict(Link.objects.values_list("student__name", "person__name"))
    assert linked[CROSS_A[0]] == CROSS_A[0] and linked[CROSS_B[0]] == CROSS_B[0]
    run_a = services.current_run(A)
    assert not Discrepancy.objects.filter(run=run_a, student__name=CROSS_B[0]).exists()
    # The summary adds the counties up.
    assert summary["totals"]["children"] == sum(p.counts["children"] for p in run.counties.all())
    assert (
        summary["totals"]["children"]
        == ChildStatus.objects.filter(run__in=[p.run for p in run.counties.all()]).count()
    )


def test_the_county_runs_link_what_one_province_wide_run_links(province) -> None:
    province_run_start(actor=None, province="42", as_of=AS_OF)
    by_county = set(Link.objects.values_list("person_id", "student_id"))
    wide = services.identification_run(actor=None, county_code="42", as_of=AS_OF, confirm=False)
    assert {(p, s) for p, s, _m, _pr in wide.pending["links"]} == by_county
    # The province-wide run finds the same children enrolled.
    enrolled = (
        ChildStatus.Category.ENROLLED_IN_COUNTY,
        ChildStatus.Category.ENROLLED_OUT_OF_COUNTY,
    )
    counties = [services.current_run(A), services.current_run(B)]
    assert ChildStatus.objects.filter(run__in=counties, category__in=enrolled).count() == (
        ChildStatus.objects.filter(run=wide, category__in=enrolled).count()
    )


def test_unchanged_counties_are_reported_unchanged(province) -> None:
    province_run_start(actor=None, province="42", as_of=AS_OF)
    again = province_run_start(actor=None, province="42", as_of=AS_OF)
    assert province_summary(again)["states"]["unchanged"] == 2
    assert IdentificationRun.objects.filter(status="done").count() == 2


def test_a_held_run_stays_held_and_is_reported(province, monkeypatch) -> None:
    province_run_start(actor=None, province="42", as_of=AS_OF)
    # Another county's new input must not disturb A; a run held by the share is left held.
    monkeypatch.setattr(services, "hold_share", lambda: -1.0)
    later = province_run_start(actor=None, province="42", as_of=AS_OF + dt.timedelta(days=1))
    summary = province_summary(later)
    assert summary["states"]["held"] == 2
    assert {h["county"] for h in summary["held"]} == {A, B}
    for part in later.counties.all():
        assert part.run.status == IdentificationRun.Status.PREVIEW and part.run.held
        assert services.current_run(part.county_code).as_of == AS_OF


def test_a_failing_county_is_recorded_and_the_others_go_on(province) -> None:
    run = province_run_start(actor=None, province="42", as_of=AS_OF, counties=[A, "420199"])
    summary = province_summary(run)
    assert summary["done"]
    assert summary["states"]["confirmed"] == 1 and summary["states"]["failed"] == 1
    assert summary["failed"][0]["county"] == "420199"
    assert "rolls" in summary["failed"][0]["error"]


def test_a_proof_in_another_county_does_not_move_a_child(province) -> None:
    province_run_start(actor=None, province="42", as_of=AS_OF)
    OutOfCountyProof.objects.create(
        person=Person.objects.get(name=LOCAL_B[0]),
        school_year=2018,
        school_name="x",
        place="y",
        proof="z",
    )
    later = province_run_start(actor=None, province="42", as_of=AS_OF)
    assert province_summary(later)["states"]["confirmed"] == 2
    assert status(A, CROSS_A[0]).category == ChildStatus.Category.ENROLLED_OUT_OF_COUNTY
    assert Link.objects.filter(student__name=CROSS_A[0]).count() == 1


def test_commands_start_wait_and_summarise(province) -> None:
    out = StringIO()
    call_command(
        "province_run", province="42", as_of=AS_OF, wait=True, stdout=out, stderr=StringIO()
    )
    text = out.getvalue()
    assert "2 counties" in text and "Confirmed: 2" in text
    out = StringIO()
    call_command("province_summary", json=True, stdout=out)
    data = json.loads(out.getvalue())
    assert data["states"]["confirmed"] == 2 and data["totals"]["children"] > 0


def test_a_county_whose_model_cannot_be_trained_goes_on_without_the_fuzzy_stage(
    province, monkeypatch
) -> None:
    def fail(*args, **kwargs):
        raise ValueError("math domain error")

    monkeypatch.setattr(services, "MIN_RESIDUE_TO_TRAIN", 0)
    monkeypatch.setattr(services.splink_stage, "train", fail)
    run = province_run_start(actor=None, province="42", as_of=AS_OF)
    assert province_summary(run)["states"]["confirmed"] == 2
    for part in run.counties.all():
        assert part.run.model == {"skipped": "training failed: math domain error"}


def test_the_linkage_backend_setting_reaches_the_fuzzy_stage(province, monkeypatch) -> None:
    seen = []

    def train(persons, students, config):
        seen.append(config.backend)
        raise ValueError("stop")

    monkeypatch.setattr(services, "MIN_RESIDUE_TO_TRAIN", 0)
    monkeypatch.setattr(services.splink_stage, "train", train)
    with override_settings(IDENTIFICATION_LINKAGE_BACKEND="spark"):
        services.identification_run(
            actor=None,
            county_code=A,
            as_of=AS_OF,
            confirm=False,
            fuzzy=services.fuzzy_stage_factory(),
        )
    assert seen == ["spark"]


# --------------------------------------------------------------------------- RQ on Redis


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def redis_url(tmp_path: Path):
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip(
            "RQ backend not tested: redis-server is not installed (apt-get install redis-server)"
        )
    port = _free_port()
    proc = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_counties_run_on_rq_workers(province, redis_url) -> None:
    import django_rq
    from django_tasks_rq import Job
    from rq import SimpleWorker

    queues = {"default": {"URL": redis_url, "DEFAULT_TIMEOUT": 600}}
    with override_settings(
        TASKS={"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
        RQ_QUEUES=queues,
    ):
        run = province_run_start(actor=None, province="42", as_of=AS_OF)
        # Queued in Redis, not run yet.
        assert set(run.counties.values_list("state", flat=True)) == {"queued"}
        queue = django_rq.get_queue("default", job_class=Job)
        assert queue.count == 2
        SimpleWorker([queue], connection=queue.connection, job_class=Job).work(burst=True)
        summary = province_summary(ProvinceRun.objects.get(pk=run.pk))
        assert summary["states"]["confirmed"] == 2, summary
        assert all(p.task_id for p in run.counties.all())
    assert ProvinceCountyRun.objects.filter(state="confirmed").count() == 2
