"""The single-case evaluator: one student profile and one semester, in plain Python and Decimal.

It is the reference the bulk evaluator (`aid.bulk`) is tested against, and what
`jingzhun aid explain` and the student's page show.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from jingzhun.aid.rulebook import RuleBook
from jingzhun.core.periods import Semester

# The enrolment's degree levels (schools.models.Degree's values), '' for "not known".
DEGREE_LEVELS = ("", "associate", "bachelor", "graduate")


@dataclass(frozen=True)
class Profile:
    """What the rules look at for one student in one semester.

    Stage, grade, boarding and the school's location come from the student's roll for the
    school year; the household's status from the registry as of the identification date.
    `enrolled_on`/`left_on` bound the enrolment (left_on: the day it stopped being active).
    `degree` and `freshman` are the enrolment's degree level and freshman flag, which the
    university list gives ('' and False where no list was imported).
    """

    stage: str
    grade: int
    boarding: bool = False
    location: str = "in_county"
    household_status: str = "registered"
    exit_year: int | None = None
    enrolled_on: dt.date | None = None
    left_on: dt.date | None = None
    degree: str = ""
    freshman: bool = False

    def __post_init__(self) -> None:
        if self.degree not in DEGREE_LEVELS:
            raise ValueError(
                f"unknown degree {self.degree!r} (allowed: {', '.join(map(repr, DEGREE_LEVELS))})"
            )

    @property
    def rule_degree(self) -> str:
        """Return the rule book's degree: graduate or undergraduate.

        The enrolment's degree level decides; only where it is not known ('': a roll or list
        that does not say) are university students from the fifth year on counted as
        graduate students, as before the university list carried the level.
        """
        if self.stage != "university":
            return "undergraduate"
        if self.degree:
            return "graduate" if self.degree == "graduate" else "undergraduate"
        return "graduate" if self.grade >= 5 else "undergraduate"

    @property
    def new_entrant(self) -> bool:
        """Return whether the student is newly admitted to university (the freshman grant).

        The university list's freshman flag decides where the list was imported (a degree
        level or the flag is set); otherwise a first-year university student is a new entrant.
        """
        if self.stage != "university":
            return False
        if self.degree or self.freshman:
            return self.freshman
        return self.grade == 1

    def case(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "grade": self.grade,
            "boarding": self.boarding,
            "location": self.location,
            "new_entrant": self.new_entrant,
            "degree": self.rule_degree,
        }

    def inputs(self) -> dict[str, Any]:
        """Return the inputs as stored in an explanation (dates as ISO text)."""
        out = asdict(self)
        for key in ("enrolled_on", "left_on"):
            if out[key] is not None:
                out[key] = out[key].isoformat()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        """Build a profile from JSON-like data (unknown keys are an error)."""
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError("unknown profile keys: " + ", ".join(sorted(unknown)))
        values = dict(data)
        for key in ("enrolled_on", "left_on"):
            if isinstance(values.get(key), str):
                values[key] = dt.date.fromisoformat(values[key])
        return cls(**values)


@dataclass(frozen=True)
class Line:
    """One programme line: an amount (cash, waiver) or a note (loan range, record)."""

    programme: str
    kind: str
    amount: Decimal
    rule_id: str
    clause: str
    rule_book_version: int
    unit: str
    minimum: Decimal | None = None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["amount"] = str(self.amount)
        out["minimum"] = None if self.minimum is None else str(self.minimum)
        return out


def attends(profile: Profile, school_year: int, semester: str) -> bool:
    """Return whether the enrolment covers the semester (started by its end, active at its start)."""
    first = Semester.named(school_year, semester).first_day
    last = Semester.named(school_year, semester).last_day
    if profile.enrolled_on is not None and profile.enrolled_on > last:
        return False
    return not (profile.left_on is not None and profile.left_on <= first)


def evaluate_case(book: RuleBook, profile: Profile, semester: str) -> list[Line]:
    """Return every programme line the rule book gives this profile for one semester.

    Nothing is given when the household does not qualify (see RuleBook.household_eligible)
    or the enrolment does not cover the semester. Lines are sorted by programme.
    """
    if not book.household_eligible(profile.household_status, profile.exit_year):
        return []
    if not attends(profile, book.school_year, semester):
        return []
    case = profile.case()
    lines = [
        Line(
            programme=rule.programme,
            kind=rule.kind,
            amount=amount,
            rule_id=rule.id,
            clause=rule.clause,
            rule_book_version=book.version,
            unit=rule.unit,
            minimum=rule.minimum,
        )
        for rule, amount in book.rules_for(semester)
        if rule.when.matches(case)
    ]
    return sorted(lines, key=lambda line: line.programme)


def explain(book: RuleBook, profile: Profile, semester: str) -> dict[str, Any]:
    """Return the evaluation as JSON-ready data: the lines, the inputs and the rule book used."""
    lines = evaluate_case(book, profile, semester)
    return {
        "school_year": book.school_year,
        "semester": semester,
        "rule_book_version": book.version,
        "household_eligible": book.household_eligible(profile.household_status, profile.exit_year),
        "attends": attends(profile, book.school_year, semester),
        "inputs": profile.inputs(),
        "lines": [line.as_dict() for line in lines],
        "total_cash": str(sum((ln.amount for ln in lines if ln.kind == "cash"), Decimal("0.00"))),
        "total_waived": str(
            sum((ln.amount for ln in lines if ln.kind == "waiver"), Decimal("0.00"))
        ),
    }
