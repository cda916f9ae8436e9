"""Accuracy of identification against a generated county's truth (national layout).

Compares what the platform concluded, after the county's files went through the documented
commands, with the generator's truth files:
- links: every roll row's true registry person (truth-links.csv) against the link the run
  made for that roll row's student (a duplicate roll record counts through the record it
  duplicates), precision and recall over all true links;
- the out-of-school list (suspected dropouts and dropouts) against the children truly out of
  school, precision and recall;
- the outside-the-county list (enrolled outside, or to verify as studying outside) against
  the children truly studying outside the county, precision and recall.
Used by `bench/accuracy.py` and the accuracy test.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from jingzhun.core import crypto
from jingzhun.identification.models import ChildStatus, IdentificationRun, Link, RollDuplicate
from jingzhun.registry.models import Person
from jingzhun.schools.models import Student

OUT_OF_SCHOOL = ("suspected_dropout", "dropped_out")
OUTSIDE = ("out_of_county", "to_verify_outside")
TARGETS = {
    "links_precision": 0.999,
    "links_recall": 0.998,
    "out_of_school_precision": 0.95,
    "out_of_school_recall": 0.99,
    "outside_recall": 0.95,
}


@dataclass
class Score:
    true_positive: int
    predicted: int
    actual: int

    @property
    def precision(self) -> float:
        return self.true_positive / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.true_positive / self.actual if self.actual else 1.0


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def measure(truth_dir: Path, county_code: str) -> dict[str, Score]:
    """Score the latest identification run of a county against the truth files."""
    person_no = dict(Person.objects.values_list("id", "person_no"))
    roll_of: dict[int, str] = {}
    for pk, cipher, key in Student.objects.filter(county_code=county_code).values_list(
        "id", "roll_cipher", "roll_key"
    ):
        if cipher is not None and key is not None:
            roll_of[pk] = crypto.decrypt(bytes(cipher), version=key, purpose="roll")
    linked: dict[str, str] = {}
    for student_id, person_id in Link.objects.values_list("student_id", "person_id"):
        if student_id in roll_of:
            linked[roll_of[student_id]] = person_no.get(person_id) or ""
    for student_id, person_id in _duplicates():
        if student_id in roll_of:
            linked.setdefault(roll_of[student_id], person_no.get(person_id) or "")
    truth = {r["roll_number"]: r["person_no"] for r in _read(truth_dir / "truth-links.csv")}
    true_links = {roll: p for roll, p in truth.items() if p}
    predicted = {roll: p for roll, p in linked.items() if p and roll in truth}
    correct = sum(1 for roll, p in predicted.items() if true_links.get(roll) == p)
    scores = {"links": Score(correct, len(predicted), len(true_links))}

    run = IdentificationRun.objects.filter(county_code=county_code, status="done").latest("id")
    category = {
        person_no.get(pid) or "": cat
        for pid, cat in ChildStatus.objects.filter(run=run).values_list("person_id", "category")
    }
    children = _read(truth_dir / "truth-children.csv")
    for name, listed_as, truly in (
        ("out_of_school", OUT_OF_SCHOOL, "out_of_school"),
        ("outside", OUTSIDE, "outside_county"),
    ):
        listed = {p for p, c in category.items() if c in listed_as}
        actual = {r["person_no"] for r in children if r["true_status"] == truly}
        scores[name] = Score(len(listed & actual), len(listed), len(actual))
    return scores


def _duplicates() -> list[tuple[int, int]]:
    """(student, person) of roll records identification found to duplicate a linked one."""
    return list(RollDuplicate.objects.values_list("student_id", "person_id"))


def report(scores: dict[str, Score]) -> list[tuple[str, float, float, bool]]:
    """Return (measure, value, target, met) for every target."""
    values = {
        "links_precision": scores["links"].precision,
        "links_recall": scores["links"].recall,
        "out_of_school_precision": scores["out_of_school"].precision,
        "out_of_school_recall": scores["out_of_school"].recall,
        "outside_recall": scores["outside"].recall,
        "outside_precision": scores["outside"].precision,
    }
    return [(k, v, TARGETS.get(k, 0.0), v >= TARGETS.get(k, 0.0)) for k, v in values.items()]
