"""The aid rule book: one year's rules as data, loaded and checked strictly.

A rule book is YAML (format in docs/rulebook.md). Loading refuses unknown keys, a
missing or malformed clause, amounts written as floats, overlapping validity
intervals for the same programme and case, and two programmes that can apply to
the same case without a stacking rule that lets them combine. Every error names
the file and line, and all errors are reported at once.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

import yaml
from django.utils.translation import gettext as _

from jingzhun.core.money import to_yuan
from jingzhun.core.periods import Semester

STAGES = ("preschool", "primary", "junior", "senior", "vocational", "university")
LOCATIONS = ("in_county", "in_province", "out_of_province")
DEGREES = ("undergraduate", "graduate")
KINDS = ("cash", "waiver", "record", "loan")
UNITS = ("year", "semester", "month", "once")
SEMESTER_KINDS = ("autumn", "spring")
# Programme kinds that become stored entitlements; loans are applied for and records are notes.
ENTITLED_KINDS = ("cash", "waiver")
CLAUSE = re.compile(r"^[IVX]+(\.\d+)+$")

TOP_KEYS = {
    "school_year",
    "transition_years",
    "months_per_semester",
    "programmes",
    "rules",
    "stacking",
}
PROGRAMME_KEYS = {"clause", "kind", "label"}
RULE_KEYS = {"id", "programme", "clause", "when", "amount", "minimum", "unit", "valid", "pay_in"}
WHEN_KEYS = {"stage", "grade", "boarding", "location", "new_entrant", "degree"}
STACK_KEYS = {"clause", "programmes"}


class RuleBookError(Exception):
    """A rule book that does not load; `errors` holds (source, line, message) for each problem."""

    def __init__(self, errors: list[tuple[str, int, str]]) -> None:
        self.errors = errors
        super().__init__("\n".join(f"{src}:{line}: {msg}" for src, line, msg in errors))


class _Map(dict):  # type: ignore[type-arg]
    """A mapping that remembers the line of itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> _Map:  # type: ignore[override]
        result = _Map()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            if key in result:
                raise yaml.constructor.ConstructorError(
                    None, None, _("duplicate key %(key)s") % {"key": key}, key_node.start_mark
                )
            result[key] = self.construct_object(value_node, deep=True)  # type: ignore[no-untyped-call]
            result.key_lines[key] = key_node.start_mark.line + 1
        return result


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_mapping)


@dataclass(frozen=True)
class Conditions:
    """Who a rule applies to; None means "any"."""

    stage: tuple[str, ...]
    grade: tuple[int, ...] | None = None
    boarding: bool | None = None
    location: tuple[str, ...] | None = None
    new_entrant: bool | None = None
    degree: tuple[str, ...] | None = None

    def matches(self, case: dict[str, Any]) -> bool:
        """Return whether a case (stage, grade, boarding, location, new_entrant, degree) is covered."""
        return (
            case["stage"] in self.stage
            and (self.grade is None or case["grade"] in self.grade)
            and (self.boarding is None or case["boarding"] == self.boarding)
            and (self.location is None or case["location"] in self.location)
            and (self.new_entrant is None or case["new_entrant"] == self.new_entrant)
            and (self.degree is None or case["degree"] in self.degree)
        )

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"stage": list(self.stage)}
        for name in ("grade", "boarding", "location", "new_entrant", "degree"):
            value = getattr(self, name)
            if value is not None:
                out[name] = list(value) if isinstance(value, tuple) else value
        return out


@dataclass(frozen=True)
class Rule:
    id: str
    programme: str
    clause: str
    kind: str
    when: Conditions
    amount: Decimal
    unit: str
    valid_from: dt.date
    valid_to: dt.date
    minimum: Decimal | None = None
    pay_in: str = "autumn"
    line: int = 0

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day <= self.valid_to


@dataclass(frozen=True)
class Programme:
    code: str
    clause: str
    kind: str
    label_zh: str
    label_en: str

    def label(self, language: str) -> str:
        return self.label_zh if language.startswith("zh") else self.label_en


@dataclass
class RuleBook:
    """A checked rule book. `version` is set when it comes from the database."""

    school_year: int
    transition_years: int
    months_per_semester: dict[str, int]
    programmes: dict[str, Programme]
    rules: list[Rule]
    stacking: list[frozenset[str]]
    version: int = 0
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def household_eligible(self, status: str, exit_year: int | None) -> bool:
        """Return whether a household's status gives its children the policies this year.

        Registered households qualify; a household that left poverty keeps its policies for
        `transition_years` school years starting with the one in which it left.
        """
        if status == "registered":
            return True
        if status == "left_poverty" and exit_year is not None:
            return self.school_year < exit_year + self.transition_years
        return False

    def semester_amount(self, rule: Rule, semester_kind: str) -> Decimal | None:
        """Return what a rule gives for one semester, or None if it pays nothing then.

        A loan's amount is the most a student may borrow for the year: it is offered in full
        in autumn, when loans are contracted, and not halved.
        """
        if rule.kind == "loan":
            return rule.amount if semester_kind == "autumn" else None
        if rule.unit == "year":
            first = to_yuan(rule.amount / 2)
            return first if semester_kind == "autumn" else rule.amount - first
        if rule.unit == "semester":
            return rule.amount
        if rule.unit == "month":
            return to_yuan(rule.amount * self.months_per_semester[semester_kind])
        # "once": the whole amount in the semester the rule names.
        return rule.amount if semester_kind == rule.pay_in else None

    def rules_for(self, semester_kind: str) -> list[tuple[Rule, Decimal]]:
        """Return the rules in force on the first day of a semester, with their semester amount."""
        start = Semester.named(self.school_year, semester_kind).first_day
        out = []
        for rule in self.rules:
            if not rule.valid_on(start):
                continue
            amount = self.semester_amount(rule, semester_kind)
            if amount is not None:
                out.append((rule, amount))
        return out

    def may_stack(self, a: str, b: str) -> bool:
        return a == b or any(a in group and b in group for group in self.stacking)


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source
        self.errors: list[tuple[str, int, str]] = []

    def error(self, line: int, message: str) -> None:
        self.errors.append((self.source, line, message))

    def keys(self, data: Any, allowed: set[str], where: str, line: int) -> bool:
        if not isinstance(data, dict):
            self.error(line, _("%(where)s must be a mapping") % {"where": where})
            return False
        for key in data:
            if key not in allowed:
                self.error(
                    _line(data, key, line),
                    _("unknown key %(key)s in %(where)s (allowed: %(allowed)s)")
                    % {"key": key, "where": where, "allowed": ", ".join(sorted(allowed))},
                )
        return True

    def money(self, value: Any, line: int, what: str) -> Decimal | None:
        if isinstance(value, float):
            self.error(
                line,
                _('%(what)s must be written as a quoted string, e.g. "1250.00"') % {"what": what},
            )
            return None
        try:
            amount = Decimal(str(value))
        except (InvalidOperation, ValueError):
            self.error(
                line, _("%(what)s is not an amount: %(value)s") % {"what": what, "value": value}
            )
            return None
        if amount < 0 or amount != to_yuan(amount):
            self.error(
                line,
                _("%(what)s must be zero or more, with at most two decimals: %(value)s")
                % {"what": what, "value": value},
            )
            return None
        return amount

    def clause(self, value: Any, line: int) -> str | None:
        if value in (None, ""):
            self.error(line, _("the clause is missing"))
            return None
        if not isinstance(value, str) or not CLAUSE.match(value):
            self.error(line, _("the clause %(value)s is not like II.1.2") % {"value": value})
            return None
        return value


def _line(data: Any, key: str, default: int) -> int:
    return getattr(data, "key_lines", {}).get(key, getattr(data, "line", default))


def _choices(
    check: _Checker, value: Any, allowed: tuple[str, ...], line: int, what: str
) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not value:
        check.error(line, _("%(what)s must be a non-empty list") % {"what": what})
        return None
    bad = [v for v in value if v not in allowed]
    if bad:
        check.error(
            line,
            _("%(what)s has unknown values %(bad)s (allowed: %(allowed)s)")
            % {"what": what, "bad": ", ".join(map(str, bad)), "allowed": ", ".join(allowed)},
        )
        return None
    return tuple(value)


def _conditions(check: _Checker, when: Any, line: int) -> Conditions | None:
    if not check.keys(when, WHEN_KEYS, "when", line):
        return None
    ok = True
    stage = _choices(check, when.get("stage"), STAGES, _line(when, "stage", line), "stage")
    ok &= stage is not None
    grade = None
    if "grade" in when:
        raw = when["grade"]
        if (
            not isinstance(raw, list)
            or not raw
            or not all(type(g) is int and 1 <= g <= 9 for g in raw)
        ):
            check.error(_line(when, "grade", line), _("grade must be a list of whole numbers 1-9"))
            ok = False
        else:
            grade = tuple(raw)
    flags: dict[str, bool | None] = {}
    for name in ("boarding", "new_entrant"):
        value = when.get(name)
        if value is not None and not isinstance(value, bool):
            check.error(
                _line(when, name, line), _("%(name)s must be true or false") % {"name": name}
            )
            ok = False
        flags[name] = value
    location = degree = None
    if "location" in when:
        location = _choices(
            check, when["location"], LOCATIONS, _line(when, "location", line), "location"
        )
        ok &= location is not None
    if "degree" in when:
        degree = _choices(check, when["degree"], DEGREES, _line(when, "degree", line), "degree")
        ok &= degree is not None
    if not ok or stage is None:
        return None
    return Conditions(
        stage=stage,
        grade=grade,
        boarding=flags["boarding"],
        location=location,
        new_entrant=flags["new_entrant"],
        degree=degree,
    )


def _cases(rules: list[Rule]) -> list[dict[str, Any]]:
    """Return every distinct case the rules can tell apart (a small finite grid)."""
    grades = sorted({g for r in rules for g in (r.when.grade or ())} | {0})
    return [
        dict(
            zip(
                ("stage", "grade", "boarding", "location", "new_entrant", "degree"),
                combo,
                strict=True,
            )
        )
        for combo in itertools.product(
            STAGES, grades, (False, True), LOCATIONS, (False, True), DEGREES
        )
    ]


def _overlap(a: Rule, b: Rule) -> bool:
    return a.valid_from <= b.valid_to and b.valid_from <= a.valid_to


def load_rulebook(text: str, *, source: str = "rule book") -> RuleBook:
    """Parse and check a rule book; raise RuleBookError listing every problem."""
    check = _Checker(source)
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506  # nosec B506  # _Loader is a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise RuleBookError(
            [(source, line, _("not valid YAML: %(error)s") % {"error": exc})]
        ) from exc
    if not check.keys(data, TOP_KEYS, _("the rule book"), 1):
        raise RuleBookError(check.errors)
    for key in ("school_year", "programmes", "rules"):
        if key not in data:
            check.error(1, _("%(key)s is missing") % {"key": key})
    school_year = data.get("school_year")
    if school_year is not None and (
        type(school_year) is not int or not 2000 <= school_year <= 2100
    ):
        check.error(_line(data, "school_year", 1), _("school_year must be a year such as 2018"))
    transition = data.get("transition_years", 0)
    if type(transition) is not int or not 0 <= transition <= 10:
        check.error(
            _line(data, "transition_years", 1), _("transition_years must be a whole number 0-10")
        )
        transition = 0
    months = data.get("months_per_semester", {"autumn": 5, "spring": 5})
    mline = _line(data, "months_per_semester", 1)
    if check.keys(months, set(SEMESTER_KINDS), "months_per_semester", mline):
        if set(months) != set(SEMESTER_KINDS) or not all(
            type(v) is int and 1 <= v <= 6 for v in months.values()
        ):
            check.error(mline, _("months_per_semester needs autumn and spring, each 1-6"))

    programmes: dict[str, Programme] = {}
    raw_programmes = data.get("programmes", {})
    pline = _line(data, "programmes", 1)
    if raw_programmes is None:
        raw_programmes = {}
    if check.keys(
        raw_programmes,
        set(raw_programmes) if isinstance(raw_programmes, dict) else set(),
        "programmes",
        pline,
    ):
        for code, spec in raw_programmes.items():
            line = _line(raw_programmes, code, pline)
            if not check.keys(spec, PROGRAMME_KEYS, _("programme %(code)s") % {"code": code}, line):
                continue
            clause = check.clause(spec.get("clause"), line)
            kind = spec.get("kind")
            if kind not in KINDS:
                check.error(
                    _line(spec, "kind", line),
                    _("kind must be one of %(kinds)s") % {"kinds": ", ".join(KINDS)},
                )
            label = spec.get("label")
            if (
                not isinstance(label, dict)
                or set(label) != {"zh", "en"}
                or not all(isinstance(v, str) and v for v in label.values())
            ):
                check.error(_line(spec, "label", line), _("label needs zh and en text"))
                label = {"zh": code, "en": code}
            if clause and kind in KINDS:
                programmes[code] = Programme(code, clause, kind, label["zh"], label["en"])

    rules: list[Rule] = []
    seen: dict[str, int] = {}
    raw_rules = data.get("rules", [])
    rline = _line(data, "rules", 1)
    if not isinstance(raw_rules, list):
        check.error(rline, _("rules must be a list"))
        raw_rules = []
    for spec in raw_rules:
        line = getattr(spec, "line", rline)
        if not check.keys(spec, RULE_KEYS, _("a rule"), line):
            continue
        rule_id = spec.get("id")
        if not isinstance(rule_id, str) or not rule_id:
            check.error(line, _("the rule has no id"))
            continue
        if rule_id in seen:
            check.error(
                line,
                _("rule id %(id)s is used twice (first on line %(first)d)")
                % {"id": rule_id, "first": seen[rule_id]},
            )
        seen[rule_id] = line
        clause = check.clause(spec.get("clause"), _line(spec, "clause", line))
        programme = programmes.get(spec.get("programme", ""))
        if (
            programme is not None
            and clause
            and not (clause == programme.clause or clause.startswith(programme.clause + "."))
        ):
            check.error(
                _line(spec, "clause", line),
                _("rule %(id)s cites clause %(clause)s but its programme comes from %(pclause)s")
                % {"id": rule_id, "clause": clause, "pclause": programme.clause},
            )
        if programme is None:
            check.error(
                _line(spec, "programme", line),
                _("rule %(id)s names an unknown programme %(programme)s")
                % {"id": rule_id, "programme": spec.get("programme")},
            )
        unit = spec.get("unit")
        if unit not in UNITS:
            check.error(
                _line(spec, "unit", line),
                _("unit must be one of %(units)s") % {"units": ", ".join(UNITS)},
            )
        amount = check.money(spec.get("amount"), _line(spec, "amount", line), _("amount"))
        minimum = None
        if "minimum" in spec:
            minimum = check.money(spec["minimum"], _line(spec, "minimum", line), _("minimum"))
        pay_in = spec.get("pay_in", "autumn")
        if pay_in not in SEMESTER_KINDS:
            check.error(_line(spec, "pay_in", line), _("pay_in must be autumn or spring"))
        valid = spec.get("valid")
        vline = _line(spec, "valid", line)
        valid_from = valid_to = None
        if check.keys(valid, {"from", "to"}, "valid", vline):
            valid_from, valid_to = valid.get("from"), valid.get("to")
            if not isinstance(valid_from, dt.date) or not isinstance(valid_to, dt.date):
                check.error(vline, _("valid needs from and to dates (YYYY-MM-DD)"))
                valid_from = valid_to = None
            elif valid_from > valid_to:
                check.error(vline, _("the validity interval ends before it starts"))
                valid_from = valid_to = None
        when = _conditions(check, spec.get("when"), _line(spec, "when", line))
        if None in (clause, programme, amount, valid_from, valid_to, when) or unit not in UNITS:
            continue
        assert programme is not None and amount is not None and when is not None
        assert valid_from is not None and valid_to is not None and clause is not None
        rules.append(
            Rule(
                id=rule_id,
                programme=programme.code,
                clause=clause,
                kind=programme.kind,
                when=when,
                amount=amount,
                unit=unit,
                valid_from=valid_from,
                valid_to=valid_to,
                minimum=minimum,
                pay_in=pay_in,
                line=line,
            )
        )

    stacking: list[frozenset[str]] = []
    raw_stacking = data.get("stacking", [])
    sline = _line(data, "stacking", 1)
    if not isinstance(raw_stacking, list):
        check.error(sline, _("stacking must be a list"))
        raw_stacking = []
    for spec in raw_stacking:
        line = getattr(spec, "line", sline)
        if not check.keys(spec, STACK_KEYS, _("a stacking rule"), line):
            continue
        check.clause(spec.get("clause"), line)
        names = spec.get("programmes")
        if not isinstance(names, list) or len(names) < 2:
            check.error(line, _("a stacking rule lists two or more programmes"))
            continue
        unknown = [n for n in names if n not in programmes]
        if unknown:
            check.error(
                line,
                _("stacking names unknown programmes %(names)s")
                % {"names": ", ".join(map(str, unknown))},
            )
        stacking.append(frozenset(names))

    if not check.errors:
        _check_conflicts(check, rules, stacking)
    if check.errors:
        raise RuleBookError(check.errors)
    assert isinstance(school_year, int)
    return RuleBook(
        school_year=school_year,
        transition_years=transition,
        months_per_semester=dict(months),
        programmes=programmes,
        rules=rules,
        stacking=stacking,
        source=text,
    )


def _check_conflicts(check: _Checker, rules: list[Rule], stacking: list[frozenset[str]]) -> None:
    """Report overlapping rules of one programme, and programmes that meet without stacking."""
    reported: set[tuple[str, str]] = set()
    cases = _cases(rules)
    for case in cases:
        applying = [r for r in rules if r.when.matches(case)]
        for a, b in itertools.combinations(applying, 2):
            if not _overlap(a, b) or (a.id, b.id) in reported:
                continue
            if a.programme == b.programme:
                reported.add((a.id, b.id))
                check.error(
                    b.line,
                    _(
                        "rules %(a)s (line %(line)d) and %(b)s both give %(programme)s to the same "
                        "students in overlapping periods"
                    )
                    % {"a": a.id, "line": a.line, "b": b.id, "programme": a.programme},
                )
            elif not any(a.programme in g and b.programme in g for g in stacking):
                reported.add((a.id, b.id))
                check.error(
                    b.line,
                    _(
                        "rules %(a)s (line %(line)d) and %(b)s can apply to the same student but no "
                        "stacking rule lets %(pa)s and %(pb)s combine"
                    )
                    % {"a": a.id, "line": a.line, "b": b.id, "pa": a.programme, "pb": b.programme},
                )


def shipped_source(school_year: int) -> str:
    """Return the text of the rule book shipped for a school year (KeyError if none)."""
    path = resources.files("jingzhun.aid") / "rules" / f"{school_year}.yaml"
    if not path.is_file():
        raise KeyError(school_year)
    return path.read_text(encoding="utf-8")
