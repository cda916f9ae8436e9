"""The 2018 student-aid rules as an OpenFisca tax-benefit system (benchmark peer only).

`bench/aid.py` runs this model over the same population as the platform's bulk evaluator
and checks that both give the same per-programme totals to the cent. openfisca-core is in
the `bench` extra, never a runtime dependency of the platform.

Mapping: one entity (the student); a semester is the OpenFisca month it starts with
(2018-09 for autumn, 2019-03 for spring), and every variable is defined per month, so a
semester's amounts are computed at that one period. The conditions of each programme are
written as OpenFisca formulas, the way a country package states its legislation; the
amounts, their validity dates, units and the transition rule are OpenFisca parameters
built from the loaded rule book (`parameters_from_rulebook`), not typed in again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from openfisca_core.entities import build_entity
from openfisca_core.errors import ParameterNotFoundError
from openfisca_core.indexed_enums import Enum
from openfisca_core.model_api import MONTH, Variable, select, where
from openfisca_core.parameters import ParameterNode
from openfisca_core.simulations import SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem

# Every programme line of the rule book, as OpenFisca output variables. Amount variables are
# yuan (float, OpenFisca's money type); `vocational_placement` is a record (no amount): a flag.
AMOUNT_PROGRAMMES = (
    "preschool_living",
    "compulsory_waiver",
    "boarding_subsidy",
    "senior_waiver",
    "senior_grant",
    "vocational_waiver",
    "vocational_grant",
    "vocational_extra",
    "freshman_grant",
    "origin_loan",
)
FLAG_PROGRAMMES = ("vocational_placement",)
PROGRAMMES = AMOUNT_PROGRAMMES + FLAG_PROGRAMMES

NOT_ENROLLED_YET = dt.date(1970, 1, 1)  # enrolled_on unknown: enrolled all along
NOT_LEFT = dt.date(2999, 12, 31)  # left_on unknown: still enrolled

Student = build_entity(
    key="student",
    plural="students",
    label="A student of a registered-poor household",
    is_person=True,
)


class StageKind(Enum):
    preschool = "Preschool"
    primary = "Primary"
    junior = "Junior high"
    senior = "General high"
    vocational = "Secondary vocational"
    university = "University"


class Location(Enum):
    in_county = "In the county"
    in_province = "Elsewhere in the province"
    out_of_province = "Outside the province"


class HouseholdStatus(Enum):
    registered = "Registered"
    left_poverty = "Left poverty"
    removed = "Removed"


ENUM_INPUTS = {"stage": StageKind, "location": Location, "household_status": HouseholdStatus}


def parameters_from_rulebook(book: Any) -> ParameterNode:
    """Return the rule book's amounts and settings as an OpenFisca parameter tree.

    Each rule becomes `aid.rules.<rule id>`: its amount from its first valid day, ended (null)
    the day after its last one; its unit, kind and pay_in travel as the parameter's metadata.
    """
    start = min(rule.valid_from for rule in book.rules).isoformat()
    rules: dict[str, Any] = {}
    for rule in book.rules:
        rules[rule.id] = {
            "description": f"{rule.programme} ({rule.clause})",
            "metadata": {"unit": rule.unit, "kind": rule.kind, "pay_in": rule.pay_in},
            "values": {
                rule.valid_from.isoformat(): {"value": float(rule.amount)},
                (rule.valid_to + dt.timedelta(days=1)).isoformat(): {"value": None},
            },
        }
    data = {
        "aid": {
            "transition_years": {"values": {start: {"value": book.transition_years}}},
            "months_per_semester": {
                kind: {"values": {start: {"value": months}}}
                for kind, months in book.months_per_semester.items()
            },
            "rules": rules,
        }
    }
    return ParameterNode("", data=data)


def _semester(period: Any) -> tuple[str, int, np.datetime64, np.datetime64]:
    """Return (kind, school year, first day, last day) of the semester starting at `period`."""
    start = period.start
    if start.month == 9:
        kind, school_year = "autumn", start.year
        first, nxt = dt.date(start.year, 9, 1), dt.date(start.year + 1, 3, 1)
    elif start.month == 3:
        kind, school_year = "spring", start.year - 1
        first, nxt = dt.date(start.year, 3, 1), dt.date(start.year, 9, 1)
    else:
        raise ValueError(f"a semester starts in September or March, not {period}")
    last = nxt - dt.timedelta(days=1)
    return kind, school_year, np.datetime64(first, "D"), np.datetime64(last, "D")


def build_system(book: Any) -> TaxBenefitSystem:
    """Return the tax-benefit system for a rule book (its parameters; the formulas below)."""
    tbs = TaxBenefitSystem([Student])
    tbs.parameters = parameters_from_rulebook(book)
    meta = {rule.id: (rule.unit, rule.kind, rule.pay_in) for rule in book.rules}

    def per_semester(parameters: Any, period: Any, rule_id: str) -> float:
        """A rule's amount for the semester starting at `period` (0 if it pays nothing then)."""
        kind, _, _, _ = _semester(period)
        p = parameters(period).aid
        try:
            amount = getattr(p.rules, rule_id)
        except ParameterNotFoundError:  # not in force on the semester's first day
            return 0.0
        unit, rule_kind, pay_in = meta[rule_id]
        if rule_kind == "loan":  # the year's cap, offered once, in autumn
            return float(amount) if kind == "autumn" else 0.0
        cents = round(float(amount) * 100)
        if unit == "year":  # autumn takes the half rounded up to the cent, spring the rest
            first = (cents + 1) // 2
            return (first if kind == "autumn" else cents - first) / 100
        if unit == "semester":
            return cents / 100
        if unit == "month":
            return cents * int(getattr(p.months_per_semester, kind)) / 100
        return cents / 100 if kind == pay_in else 0.0  # once

    def input_variable(name: str, value_type: Any, **extra: Any) -> type[Variable]:
        attrs = {
            "value_type": value_type,
            "entity": Student,
            "definition_period": MONTH,
            "label": name,
            **extra,
        }
        return type(name, (Variable,), attrs)

    inputs = [
        input_variable("stage", Enum, possible_values=StageKind, default_value=StageKind.preschool),
        input_variable("grade", int),
        input_variable("boarding", bool),
        input_variable(
            "location", Enum, possible_values=Location, default_value=Location.in_county
        ),
        input_variable(
            "household_status",
            Enum,
            possible_values=HouseholdStatus,
            default_value=HouseholdStatus.removed,
        ),
        input_variable("exit_year", int),  # 0: none recorded
        input_variable("enrolled_on", dt.date, default_value=NOT_ENROLLED_YET),
        input_variable("left_on", dt.date, default_value=NOT_LEFT),
    ]

    class household_eligible(Variable):
        value_type = bool
        entity = Student
        definition_period = MONTH
        label = "The household's status gives the policies this school year (II.1, transition)"

        def formula(student, period, parameters):  # noqa: N805 - OpenFisca's signature
            _, school_year, _, _ = _semester(period)
            status = student("household_status", period)
            exit_year = student("exit_year", period)
            transition = parameters(period).aid.transition_years
            left = (
                (status == HouseholdStatus.left_poverty)
                * (exit_year > 0)
                * (school_year < exit_year + transition)
            )
            return (status == HouseholdStatus.registered) + left

    class attends(Variable):
        value_type = bool
        entity = Student
        definition_period = MONTH
        label = "The enrolment covers the semester (started by its end, active at its start)"

        def formula(student, period, parameters):  # noqa: N805
            _, _, first, last = _semester(period)
            return (student("enrolled_on", period) <= last) * (student("left_on", period) > first)

    class entitled(Variable):
        value_type = bool
        entity = Student
        definition_period = MONTH
        label = "Eligible household and enrolled for the semester"

        def formula(student, period, parameters):  # noqa: N805
            return student("household_eligible", period) * student("attends", period)

    def amount_variable(name: str, formula: Any) -> type[Variable]:
        return type(
            name,
            (Variable,),
            {
                "value_type": float,
                "entity": Student,
                "definition_period": MONTH,
                "label": name,
                "formula": formula,
            },
        )

    def preschool_living(student, period, parameters):
        stage = student("stage", period)
        return (
            student("entitled", period)
            * (stage == StageKind.preschool)
            * per_semester(parameters, period, "preschool_living")
        )

    def compulsory_waiver(student, period, parameters):
        stage = student("stage", period)
        amount = select(
            [stage == StageKind.primary, stage == StageKind.junior],
            [
                per_semester(parameters, period, "compulsory_waiver_primary"),
                per_semester(parameters, period, "compulsory_waiver_junior"),
            ],
            0,
        )
        return student("entitled", period) * amount

    def boarding_subsidy(student, period, parameters):
        stage = student("stage", period)
        amount = select(
            [stage == StageKind.primary, stage == StageKind.junior],
            [
                per_semester(parameters, period, "boarding_primary"),
                per_semester(parameters, period, "boarding_junior"),
            ],
            0,
        )
        return student("entitled", period) * student("boarding", period) * amount

    def stage_only(rule_id: str, stage_kind: StageKind) -> Any:
        def formula(student, period, parameters):
            stage = student("stage", period)
            return (
                student("entitled", period)
                * (stage == stage_kind)
                * per_semester(parameters, period, rule_id)
            )

        return formula

    def vocational_grant(student, period, parameters):
        grade = student("grade", period)
        in_years = (grade == 1) + (grade == 2)
        stage = student("stage", period)
        return (
            student("entitled", period)
            * (stage == StageKind.vocational)
            * in_years
            * per_semester(parameters, period, "vocational_grant")
        )

    def freshman_grant(student, period, parameters):
        stage = student("stage", period)
        location = student("location", period)
        freshman = (stage == StageKind.university) * (student("grade", period) == 1)
        amount = where(
            location == Location.out_of_province,
            per_semester(parameters, period, "freshman_grant_out_of_province"),
            per_semester(parameters, period, "freshman_grant_in_province"),
        )
        return student("entitled", period) * freshman * amount

    def origin_loan(student, period, parameters):
        stage = student("stage", period)
        graduate = student("grade", period) >= 5  # from the fifth year on: graduate
        amount = where(
            graduate,
            per_semester(parameters, period, "origin_loan_graduate"),
            per_semester(parameters, period, "origin_loan_undergraduate"),
        )
        return student("entitled", period) * (stage == StageKind.university) * amount

    class vocational_placement(Variable):
        value_type = bool
        entity = Student
        definition_period = MONTH
        label = "Vocational year-3 placement (recorded, not paid)"

        def formula(student, period, parameters):  # noqa: N805
            stage = student("stage", period)
            return (
                student("entitled", period)
                * (stage == StageKind.vocational)
                * (student("grade", period) == 3)
            )

    outputs = [
        amount_variable("preschool_living", preschool_living),
        amount_variable("compulsory_waiver", compulsory_waiver),
        amount_variable("boarding_subsidy", boarding_subsidy),
        amount_variable("senior_waiver", stage_only("senior_waiver", StageKind.senior)),
        amount_variable("senior_grant", stage_only("senior_grant", StageKind.senior)),
        amount_variable("vocational_waiver", stage_only("vocational_waiver", StageKind.vocational)),
        amount_variable("vocational_grant", vocational_grant),
        amount_variable("vocational_extra", stage_only("vocational_extra", StageKind.vocational)),
        amount_variable("freshman_grant", freshman_grant),
        amount_variable("origin_loan", origin_loan),
    ]
    tbs.add_variables(
        *inputs, household_eligible, attends, entitled, *outputs, vocational_placement
    )
    return tbs


def openfisca_version() -> str:
    from importlib.metadata import version

    return "openfisca-core " + version("openfisca-core")


def semester_period(school_year: int, semester: str) -> str:
    return f"{school_year}-09" if semester == "autumn" else f"{school_year + 1}-03"


def arrays_from_arrow(profiles: pa.Table) -> dict[str, np.ndarray]:
    """Return OpenFisca input arrays for a profile table (PROFILE_SCHEMA's columns).

    Strings become enum indices through Arrow's dictionary encoding (what a careful OpenFisca
    user does with a large table); missing dates and exit years take the model's defaults.
    """
    out: dict[str, np.ndarray] = {}
    for name, enum in ENUM_INPUTS.items():
        encoded = pc.dictionary_encode(profiles[name]).combine_chunks()
        codes = np.array(
            [enum[value].index for value in encoded.dictionary.to_pylist()], dtype=np.int16
        )
        out[name] = codes[encoded.indices.to_numpy(zero_copy_only=False)]
    out["grade"] = profiles["grade"].to_numpy().astype(np.int32)
    out["boarding"] = profiles["boarding"].to_numpy(zero_copy_only=False).astype(bool)
    out["exit_year"] = pc.fill_null(profiles["exit_year"], 0).to_numpy().astype(np.int32)
    out["enrolled_on"] = pc.fill_null(profiles["enrolled_on"], NOT_ENROLLED_YET).to_numpy()
    out["left_on"] = pc.fill_null(profiles["left_on"], NOT_LEFT).to_numpy()
    return out


def compute(
    tbs: TaxBenefitSystem, inputs: dict[str, np.ndarray], period: str
) -> dict[str, np.ndarray]:
    """Build a simulation over the input arrays and compute every programme line."""
    count = len(inputs["grade"])
    simulation = SimulationBuilder().build_default_simulation(tbs, count=count)
    for name, values in inputs.items():
        simulation.set_input(name, period, values)
    return {name: simulation.calculate(name, period) for name in PROGRAMMES}


def totals(results: dict[str, np.ndarray]) -> dict[str, tuple[int, int]]:
    """Return {programme: (lines, cents)}: students with the line, and its total in cents."""
    out = {}
    for name in AMOUNT_PROGRAMMES:
        cents = np.rint(results[name].astype(np.float64) * 100).astype(np.int64)
        out[name] = (int(np.count_nonzero(cents)), int(cents.sum()))
    for name in FLAG_PROGRAMMES:
        out[name] = (int(np.count_nonzero(results[name])), 0)
    return out
