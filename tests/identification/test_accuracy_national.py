"""Accuracy on a generated county in the national layouts, through the documented commands.

The county's files (registry export, GBK roll export, university list, outside
confirmations, poor villages) go in through `jingzhun import`, identification runs through
`jingzhun identify`, and the result is scored against the generator's truth
(`jingzhun.demo.accuracy`). `bench/accuracy.py` does the same at county scale.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from jingzhun.demo.accuracy import measure, report
from jingzhun.demo.generator import generate
from jingzhun.demo.national import NATIONAL_FILES

pytestmark = pytest.mark.django_db(transaction=False)


def load_county(out: Path, paths: dict[str, Path]) -> None:
    call_command(
        "county_setup",
        "--code",
        "422827",
        "--name",
        "清溪县",
        "--school-year",
        "2018",
        "--admin",
        "clerk",
        "--generate-password",
        stdout=io.StringIO(),
    )
    for kind, name in NATIONAL_FILES:
        call_command(
            "import",
            kind,
            str(out / name),
            "--school-year",
            "2018",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    call_command(
        "identify", "--as-of", "2018-10-08", "--yes", stdout=io.StringIO(), stderr=io.StringIO()
    )


@pytest.mark.slow
def test_county_in_national_layouts_meets_the_accuracy_targets(tmp_path: Path) -> None:
    # given the demo county (seed 2018) as a county holds it, with its mess
    paths = generate(school_year=2018, seed=2018, scale="county", out=tmp_path, layout="national")
    # when a clerk loads it with the documented commands and runs identification
    load_county(tmp_path, paths)
    scores = measure(tmp_path, "422827")
    # then links are right and the out-of-school and outside lists can be trusted
    values = {name: value for name, value, _target, _met in report(scores)}
    assert values["links_precision"] >= 0.999
    assert values["links_recall"] >= 0.998
    assert values["out_of_school_precision"] >= 0.95
    assert values["outside_recall"] >= 0.95
    # recall of the out-of-school list: the registry's stale 在校生状况 sends a few truly
    # out-of-school children to "verify outside" (as the issue asks); measured, not hidden
    assert values["out_of_school_recall"] >= 0.97
