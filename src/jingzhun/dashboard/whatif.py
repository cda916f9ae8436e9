"""Policy what-if: a draft aid rule book evaluated beside the current one, writing nothing.

A draft (dashboard.RuleDraft) is a copy of the county's current rule book for a school year,
edited as YAML or through its amounts. It is checked with the aid app's own loader, then the
current book and the draft are evaluated over the same population (every identified student
of the county with an enrolment in the draft's school year, both semesters) by the aid app's
bulk evaluator, and compared: cost by programme, stage, township and semester, who gains or
loses and by how much, and the cost of the transition rule (households that left poverty).

The comparison itself (`compare_books`) is pure: Arrow tables in, figures out, with the
per-student sums done in NumPy on integer cents. Nothing is written to the aid tables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from jingzhun.aid import selectors as aid_selectors
from jingzhun.aid.bulk import evaluate_bulk
from jingzhun.aid.compute import load_raw, semester_enrolments
from jingzhun.aid.rulebook import ENTITLED_KINDS, STAGES, RuleBook, RuleBookError, load_rulebook
from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.core.scoping import scope_of
from jingzhun.dashboard.models import RuleDraft
from jingzhun.registry.selectors import township_names
from jingzhun.schools.models import Stage
from jingzhun.schools.selectors import school_list, student_list

SEMESTERS = ("autumn", "spring")
# Edges of the difference bands, in yuan (a student's change over the school year).
BAND_EDGES = (-1000, -500, 0, 500, 1000)
TOP = 10  # the largest gains and the largest losses listed


# --- who may ----------------------------------------------------------------------------------


def may_read(user: Any) -> bool:
    """Return whether the user may see drafts and their comparisons (county users, P.VIEW)."""
    scope = scope_of(user)
    return scope.level == "county" and bool(scope.county_code) and P.user_can(user, P.VIEW)


def may_edit(user: Any) -> bool:
    """Return whether the user may make, edit and delete drafts (the aid centre's capability)."""
    return may_read(user) and aid_selectors.may_manage(user)


def draft_list(*, user: Any) -> Any:
    """Return the drafts of the user's county (none outside a county's jurisdiction)."""
    if not may_read(user):
        return RuleDraft.objects.none()
    return RuleDraft.objects.filter(county_code=scope_of(user).county_code)


# --- checking and editing a draft's text ------------------------------------------------------


def check_draft(text: str, school_year: int) -> RuleBook:
    """Return the checked draft book; RuleBookError lists every problem (line and reason)."""
    book = load_rulebook(text, source=_("draft"))
    if book.school_year != school_year:
        raise RuleBookError(
            [
                (
                    _("draft"),
                    1,
                    _("school_year is %(found)s but the draft is for %(year)s")
                    % {"found": book.school_year, "year": school_year},
                )
            ]
        )
    return book


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def rule_amounts(text: str) -> list[dict[str, Any]]:
    """Return the draft's rules as {id, programme, clause, amount (text), line} for the amount form.

    Read from the YAML nodes, so that an amount can be written back where it stands.
    """
    out = []
    for rule_id, node, mapping in _amount_nodes(text):
        values = {k.value: v for k, v in mapping.value if isinstance(v, yaml.ScalarNode)}
        out.append(
            {
                "id": rule_id,
                "programme": str(getattr(values.get("programme"), "value", "")),
                "clause": str(getattr(values.get("clause"), "value", "")),
                "unit": str(getattr(values.get("unit"), "value", "")),
                "amount": str(node.value),
                "line": node.start_mark.line + 1,
            }
        )
    return out


def _amount_nodes(text: str) -> list[tuple[str, yaml.ScalarNode, yaml.MappingNode]]:
    """Return (rule id, amount node, rule node) of every rule with an id and an amount."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    rules = next(
        (v for k, v in root.value if getattr(k, "value", None) == "rules"),
        None,
    )
    if not isinstance(rules, yaml.SequenceNode):
        return []
    out = []
    for item in rules.value:
        if not isinstance(item, yaml.MappingNode):
            continue
        found = {getattr(k, "value", None): v for k, v in item.value}
        rule_id, amount = found.get("id"), found.get("amount")
        if isinstance(rule_id, yaml.ScalarNode) and isinstance(amount, yaml.ScalarNode):
            out.append((str(rule_id.value), amount, item))
    return out


def set_amounts(text: str, amounts: dict[str, Decimal]) -> str:
    """Return the text with the amounts of the named rules replaced (comments and layout kept).

    Each amount is written as a quoted string with two decimals, as the loader requires.
    """
    spans = []
    for rule_id, node, _rule in _amount_nodes(text):
        if rule_id in amounts:
            spans.append((node.start_mark.index, node.end_mark.index, amounts[rule_id]))
    for start, end, amount in sorted(spans, reverse=True):
        text = f'{text[:start]}"{amount.quantize(Decimal("0.01"))}"{text[end:]}'
    return text


# --- drafts: create, save, delete (only RuleDraft is written) --------------------------------


def _require_edit(actor: Any) -> str:
    if not may_edit(actor):
        raise PermissionDenied
    return str(scope_of(actor).county_code)


def current_source(*, user: Any, school_year: int) -> tuple[str, str]:
    """Return the text of the current book for the year and what it is ("2018 v3"), or ("", "")."""
    version, book = aid_selectors.current_book(user=user, school_year=school_year)
    if version is not None:
        return version.source, f"{school_year} v{version.version}"
    if book is not None:
        return book.source, _("%(year)s as shipped") % {"year": school_year}
    return "", ""


@transaction.atomic
def draft_create(*, actor: Any, school_year: int, name: str, request: Any = None) -> RuleDraft:
    """Make a draft: a copy of the county's current rule book for the school year."""
    county = _require_edit(actor)
    text, based_on = current_source(user=actor, school_year=school_year)
    if not text:
        raise ValidationError(
            _("There is no rule book for the school year %(year)s to copy.") % {"year": school_year}
        )
    name = name.strip() or _("Draft of %(book)s") % {"book": based_on}
    draft = RuleDraft.objects.create(
        county_code=county,
        school_year=school_year,
        name=name[:100],
        text=text,
        based_on=based_on[:100],
        digest=digest(text),
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="dashboard.rule_draft_create",
        target=draft,
        request=request,
        data={"school_year": school_year, "based_on": based_on, "name": draft.name},
    )
    return draft


@transaction.atomic
def draft_save(
    *, actor: Any, draft: RuleDraft, text: str, name: str, request: Any = None
) -> RuleDraft:
    """Store an edited draft once it checks (RuleBookError lists the problems; nothing saved)."""
    county = _require_edit(actor)
    if draft.county_code != county:
        raise PermissionDenied
    text = text.replace("\r\n", "\n")
    check_draft(text, draft.school_year)
    before = draft.digest
    draft.text = text
    draft.name = (name.strip() or draft.name)[:100]
    draft.digest = digest(text)
    draft.save(update_fields=["text", "name", "digest", "updated_at"])
    audit_record(
        actor=actor,
        action="dashboard.rule_draft_save",
        target=draft,
        request=request,
        data={"name": draft.name, "digest_before": before, "digest": draft.digest},
    )
    return draft


@transaction.atomic
def draft_delete(*, actor: Any, draft: RuleDraft, request: Any = None) -> None:
    county = _require_edit(actor)
    if draft.county_code != county:
        raise PermissionDenied
    audit_record(
        actor=actor,
        action="dashboard.rule_draft_delete",
        target=draft,
        request=request,
        data={"name": draft.name, "school_year": draft.school_year, "digest": draft.digest},
    )
    draft.delete()


def amount_changes(old: str, new: str) -> list[dict[str, Any]]:
    """Return the rules whose amount differs between two texts, or that one of them lacks."""
    a = {r["id"]: r for r in rule_amounts(old)}
    b = {r["id"]: r for r in rule_amounts(new)}
    out = []
    for rule_id in [*a, *(k for k in b if k not in a)]:
        before, after = a.get(rule_id), b.get(rule_id)
        if before is None or after is None or before["amount"] != after["amount"]:
            out.append(
                {
                    "id": rule_id,
                    "before": before["amount"] if before else None,
                    "after": after["amount"] if after else None,
                }
            )
    return out


# --- the comparison ---------------------------------------------------------------------------


@dataclass
class Row:
    """One line of a side-by-side table: current and draft amount (yuan) and students."""

    key: str
    label: str
    current: Decimal = Decimal("0.00")
    draft: Decimal = Decimal("0.00")
    students_current: int = 0
    students_draft: int = 0
    kind: str = ""

    @property
    def difference(self) -> Decimal:
        return self.draft - self.current


@dataclass
class Change:
    """One student's change over the school year (cost programmes, both semesters)."""

    student_id: int
    current: Decimal
    draft: Decimal
    name: str = ""
    school: str = ""
    township: str = ""

    @property
    def difference(self) -> Decimal:
        return self.draft - self.current


@dataclass
class Comparison:
    """The current book and the draft side by side (errors: the draft does not load)."""

    school_year: int
    current_label: str = ""
    errors: list[tuple[str, int, str]] = field(default_factory=list)
    students: int = 0
    programmes: list[Row] = field(default_factory=list)
    stages: list[Row] = field(default_factory=list)
    townships: list[Row] = field(default_factory=list)
    semesters: list[Row] = field(default_factory=list)
    total: Row = field(default_factory=lambda: Row("total", ""))
    transition: Row = field(default_factory=lambda: Row("transition", ""))
    transition_years: tuple[int, int] = (0, 0)
    gainers: int = 0
    losers: int = 0
    unchanged: int = 0
    bands: list[Row] = field(default_factory=list)  # current: students; draft unused
    gains: list[Change] = field(default_factory=list)
    losses: list[Change] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors


CENT = Decimal("0.01")


def _yuan(cents: int | np.integer[Any]) -> Decimal:
    return (Decimal(int(cents)) / 100).quantize(CENT)


def _codes(column: pa.ChunkedArray, names: list[str]) -> np.ndarray:
    """Return per row the index of its text value in `names` (new values are added; null is "")."""
    array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if not pa.types.is_dictionary(array.type):
        array = array.dictionary_encode()
    values = [*array.dictionary.to_pylist(), ""]  # the last one stands for null
    for v in values:
        if v not in names:
            names.append(v)
    table = np.array([names.index(v) for v in values], dtype=np.int32)
    indices = array.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    return table[indices]


def _cents(column: pa.ChunkedArray) -> np.ndarray:
    """Return a decimal amount column (dictionary-encoded or not) as integer cents."""
    array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if pa.types.is_dictionary(array.type):
        values = [int(Decimal(v) * 100) for v in array.dictionary.to_pylist()]
        table = np.array([*values, 0], dtype=np.int64)
        return table[array.indices.fill_null(-1).to_numpy(zero_copy_only=False)]
    return np.array([int(v * 100) for v in array.to_pylist()], dtype=np.int64)


@dataclass
class _Lines:
    """One book's lines of one semester as arrays (see _lines)."""

    student: np.ndarray  # index into the population's sorted student ids
    programme: np.ndarray  # index into the shared programme list
    cents: np.ndarray
    cost: np.ndarray  # a cash or waiver line (a cost to the county)
    stage: np.ndarray
    township: np.ndarray
    left_poverty: np.ndarray


def _lines(
    book: RuleBook,
    profiles: pa.Table,
    semester: str,
    ids: np.ndarray,
    names: dict[str, list[str]],
) -> _Lines:
    lines = evaluate_bulk(book, profiles, semester)
    if not lines.num_rows:
        empty = np.zeros(0, dtype=np.int64)
        return _Lines(empty, empty, empty, empty.astype(bool), empty, empty, empty.astype(bool))
    kinds = names["kind"]
    kind = _codes(lines.column("kind"), kinds)
    cost = np.isin(kind, [kinds.index(k) for k in ENTITLED_KINDS if k in kinds])
    village = _codes(lines.column("village_code"), names["village"])
    statuses = names["status"]
    status = _codes(lines.column("household_status"), statuses)
    return _Lines(
        student=np.searchsorted(ids, lines.column("student_id").to_numpy()),
        programme=_codes(lines.column("programme"), names["programme"]),
        cents=_cents(lines.column("amount")),
        cost=cost,
        stage=_codes(lines.column("stage"), names["stage"]),
        township=village,  # mapped to townships once every village is known
        left_poverty=status == statuses.index("left_poverty"),
    )


def _sum(index: np.ndarray, cents: np.ndarray, size: int) -> np.ndarray:
    """Return per index value the sum of cents (exact: float64 holds any sum below 2**53)."""
    if not len(index):
        return np.zeros(size, dtype=np.int64)
    return np.rint(np.bincount(index, weights=cents, minlength=size)).astype(np.int64)


def _unique(values: np.ndarray) -> np.ndarray:
    """Return the distinct values, sorted (a sort: faster here than NumPy's hashing unique)."""
    if not len(values):
        return values
    ordered = np.sort(values)
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _distinct(index: np.ndarray, student: np.ndarray, size: int, n: int) -> np.ndarray:
    """Return per index value how many distinct students have a line."""
    if not len(index):
        return np.zeros(size, dtype=np.int64)
    pairs = _unique(index.astype(np.int64) * max(n, 1) + student)
    return np.bincount(pairs // max(n, 1), minlength=size)


def population(county_code: str, school_year: int) -> pa.Table:
    """Return every enrolment of the year of every identified student of the county."""
    return load_raw(county_code, school_year)


def compare_books(current: RuleBook, draft: RuleBook, raw: pa.Table) -> Comparison:
    """Compare two books over one population (aid.compute.load_raw's table), set-wise.

    Labels are codes here (township codes, stage codes, programme codes); `evaluate_draft`
    puts names on them. Amounts are yuan (Decimal, to the cent).
    """
    started = time.perf_counter()
    year = draft.school_year
    ids = _unique(raw.column("student_id").to_numpy())
    n = len(ids)
    names: dict[str, list[str]] = {
        "kind": [],
        "village": [],
        "status": ["left_poverty"],
        "programme": [
            *current.programmes,
            *(p for p in draft.programmes if p not in current.programmes),
        ],
        "stage": list(STAGES),
    }
    evaluated: dict[tuple[str, str], _Lines] = {}
    for semester in SEMESTERS:
        chosen = semester_enrolments(raw, year, semester)
        profiles = chosen.filter(chosen.column("attends")).drop_columns(["attends"])
        for tag, book in (("current", current), ("draft", draft)):
            evaluated[tag, semester] = _lines(book, profiles, semester, ids, names)
    townships = sorted({v[:9] for v in names["village"] if v})
    townships.append("")  # a household without a village (should not happen)
    of_village = np.array(
        [townships.index(v[:9] if v else "") for v in names["village"]], dtype=np.int32
    )
    for lines in evaluated.values():
        lines.township = of_village[lines.township] if len(lines.township) else lines.township

    out = Comparison(school_year=year, students=n)
    out.transition_years = (current.transition_years, draft.transition_years)

    def rows(
        what: str, keys: list[str], *, cost_only: bool = True, kinds: dict[str, str] | None = None
    ) -> list[Row]:
        size = len(keys)
        result = [Row(k, k, kind=(kinds or {}).get(k, "")) for k in keys]
        for tag in ("current", "draft"):
            sums = np.zeros(size, dtype=np.int64)
            every_student = []
            every_index = []
            for semester in SEMESTERS:
                lines = evaluated[tag, semester]
                keep = lines.cost if cost_only else np.ones(len(lines.cents), dtype=bool)
                index = getattr(lines, what)[keep]
                sums += _sum(index, lines.cents[keep], size)
                every_index.append(index)
                every_student.append(lines.student[keep])
            students = _distinct(
                np.concatenate(every_index), np.concatenate(every_student), size, n
            )
            for i, row in enumerate(result):
                setattr(row, tag, _yuan(sums[i]))
                setattr(row, f"students_{tag}", int(students[i]))
        return result

    kinds = {p.code: p.kind for p in [*draft.programmes.values(), *current.programmes.values()]}
    out.programmes = [
        r
        for r in rows("programme", names["programme"], cost_only=False, kinds=kinds)
        if r.current or r.draft or r.students_current or r.students_draft
    ]
    out.stages = [r for r in rows("stage", names["stage"]) if r.current or r.draft]
    out.townships = [r for r in rows("township", townships) if r.current or r.draft]

    per_student: dict[str, np.ndarray] = {}
    left: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for tag in ("current", "draft"):
        total = np.zeros(n, dtype=np.int64)
        left_students, left_cents = [], []
        for semester in SEMESTERS:
            lines = evaluated[tag, semester]
            cost = lines.cost
            total += _sum(lines.student[cost], lines.cents[cost], n)
            keep = cost & lines.left_poverty
            left_students.append(lines.student[keep])
            left_cents.append(lines.cents[keep])
        per_student[tag] = total
        left[tag] = (np.concatenate(left_students), np.concatenate(left_cents))
    for semester in SEMESTERS:
        row = Row(semester, semester)
        for tag in ("current", "draft"):
            lines = evaluated[tag, semester]
            setattr(row, tag, _yuan(int(lines.cents[lines.cost].sum())))
            setattr(row, f"students_{tag}", len(_unique(lines.student[lines.cost])))
        out.semesters.append(row)
    out.total = Row(
        "total",
        "total",
        current=_yuan(int(per_student["current"].sum())),
        draft=_yuan(int(per_student["draft"].sum())),
        students_current=int((per_student["current"] > 0).sum()),
        students_draft=int((per_student["draft"] > 0).sum()),
    )
    out.transition = Row(
        "transition",
        "transition",
        current=_yuan(int(left["current"][1].sum())),
        draft=_yuan(int(left["draft"][1].sum())),
        students_current=len(_unique(left["current"][0])),
        students_draft=len(_unique(left["draft"][0])),
    )

    # Who gains or loses: among students with a cost line under either book.
    diff = per_student["draft"] - per_student["current"]
    concerned = (per_student["draft"] > 0) | (per_student["current"] > 0)
    out.gainers = int((diff > 0).sum())
    out.losers = int((diff < 0).sum())
    out.unchanged = int((concerned & (diff == 0)).sum())
    edges = [e * 100 for e in BAND_EDGES]
    changed = diff[diff != 0]
    band_of = np.searchsorted(np.array(edges), changed, side="right")
    # Bands: [<= -1000], (-1000, -500], (-500, 0), (0, 500), [500, 1000), [>= 1000];
    # searchsorted(side=right) puts -1000 in band 1; shift the exact lower edges of losses down.
    band_of = np.where(np.isin(changed, edges[:2]), band_of - 1, band_of)
    counts = np.bincount(band_of, minlength=len(edges) + 1)
    out.bands = [
        Row(str(i), _band_label(i), students_current=int(counts[i])) for i in range(len(counts))
    ]

    def top(order: Iterable[int]) -> list[Change]:
        return [
            Change(
                student_id=int(ids[i]),
                current=_yuan(per_student["current"][i]),
                draft=_yuan(per_student["draft"][i]),
            )
            for i in order
        ]

    gain_rows = np.flatnonzero(diff > 0)
    loss_rows = np.flatnonzero(diff < 0)
    out.gains = top(gain_rows[np.lexsort((ids[gain_rows], -diff[gain_rows]))][:TOP])
    out.losses = top(loss_rows[np.lexsort((ids[loss_rows], diff[loss_rows]))][:TOP])
    out.seconds = time.perf_counter() - started
    return out


def _band_label(i: int) -> str:
    return [
        _("lose 1,000 yuan or more"),
        _("lose 500 to 999.99 yuan"),
        _("lose less than 500 yuan"),
        _("gain less than 500 yuan"),
        _("gain 500 to 999.99 yuan"),
        _("gain 1,000 yuan or more"),
    ][i]


def evaluate_draft(*, user: Any, draft: RuleDraft) -> Comparison:
    """Check the draft and compare it with the current book over the county's population.

    A draft that does not load gives a Comparison with its errors and nothing evaluated.
    Nothing is written anywhere.
    """
    if not may_read(user) or draft.county_code != scope_of(user).county_code:
        raise PermissionDenied
    started = time.perf_counter()
    out = Comparison(school_year=draft.school_year)
    try:
        draft_book = check_draft(draft.text, draft.school_year)
    except RuleBookError as exc:
        out.errors = list(exc.errors)
        return out
    version, current = aid_selectors.current_book(user=user, school_year=draft.school_year)
    if current is None:
        out.errors = [
            (
                "",
                0,
                _("There is no current rule book for the school year %(year)s to compare with.")
                % {"year": draft.school_year},
            )
        ]
        return out
    raw = population(draft.county_code, draft.school_year)
    out = compare_books(current, draft_book, raw)
    out.current_label = (
        f"{draft.school_year} v{version.version}"
        if version is not None
        else _("%(year)s as shipped") % {"year": draft.school_year}
    )
    _name(out, user, current, draft_book, raw)
    out.seconds = time.perf_counter() - started
    return out


def _name(out: Comparison, user: Any, current: RuleBook, draft: RuleBook, raw: pa.Table) -> None:
    """Put names on the comparison's codes, as the user may see them."""
    language = get_language() or "zh-hans"
    labels = {code: p.label(language) for code, p in current.programmes.items()}
    labels.update({c: p.label(language) for c, p in draft.programmes.items() if c not in labels})
    kinds = {
        "cash": _("cash"),
        "waiver": _("fee waiver"),
        "loan": _("loan (most one may borrow)"),
        "record": _("record (not paid)"),
    }
    for row in out.programmes:
        row.label = labels.get(row.key, row.key)
        row.kind = kinds.get(row.kind, row.kind)
    stages = dict(Stage.choices)
    for row in out.stages:
        row.label = str(stages.get(row.key, row.key))
    towns = township_names(user=user)
    for row in out.townships:
        row.label = towns.get(row.key, row.key) if row.key else _("(no village)")
    semesters = {"autumn": _("Autumn semester"), "spring": _("Spring semester")}
    for row in out.semesters:
        row.label = semesters[row.key]
    out.total.label = _("Total cost (cash and waivers)")
    out.transition.label = _("Transition rule (households that left poverty)")
    changes = [*out.gains, *out.losses]
    wanted = [c.student_id for c in changes]
    if not wanted:
        return
    people = dict(student_list(user=user).filter(id__in=wanted).values_list("id", "name"))
    picked = raw.filter(pc.is_in(raw.column("student_id"), value_set=pa.array(wanted, pa.int64())))
    where: dict[int, tuple[int | None, str]] = {}
    for sid, school, village in zip(
        picked.column("student_id").to_pylist(),
        picked.column("school_id").to_pylist(),
        picked.column("village_code").to_pylist(),
        strict=True,
    ):
        where[sid] = (school, (village or "")[:9])  # the last enrolment read wins
    schools = dict(
        school_list(user=user)
        .filter(id__in=[s for s, _t in where.values() if s is not None])
        .values_list("id", "name")
    )
    for change in changes:
        school, town = where.get(change.student_id, (None, ""))
        change.name = people.get(change.student_id, "")
        change.school = schools.get(school, "") if school is not None else ""
        change.township = towns.get(town, "")


def default_name(school_year: int, today: dt.date) -> str:
    return _("Draft %(year)s (%(day)s)") % {"year": school_year, "day": today.isoformat()}
