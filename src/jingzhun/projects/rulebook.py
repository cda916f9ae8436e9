"""The basic standard and the task book as data: the YAML files in ``rules/``, loaded strictly.

A file that does not load raises :class:`RulesFileError` listing every problem, each naming
the item (or target) and the field, so that the county can fix the file it edited.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

import yaml
from django.utils.translation import gettext as _

from jingzhun.core.money import to_yuan
from jingzhun.projects.models import Project
from jingzhun.schools.models import School

ITEM_ID = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
CLAUSE = re.compile(r"^[IVX]+(\.\d+)+$")
STANDARD_KEYS = {"name", "valid_from", "items"}
ITEM_KEYS = {"id", "clause", "basis", "zh", "en", "kinds", "boarding_only"}
ITEM_REQUIRED = ("id", "clause", "basis", "zh", "en", "kinds")
TASK_KEYS = {"targets"}
TARGET_KEYS = {"id", "clause", "kind", "measure", "year", "from_year", "target"}
MEASURES = (
    "projects_in_poor_villages",
    "schools",
    "budget_yuan",
    "yuan_per_student",
    "townships_with_poor_villages",
)
MONEY_MEASURES = ("budget_yuan", "yuan_per_student")
STANDARD_FILE = "basic_standard_2018.yaml"
TASK_BOOK_FILE = "task_book_2018.yaml"


class RulesFileError(Exception):
    """A standard or task-book file that does not load; `errors` lists every problem."""

    def __init__(self, source: str, errors: list[str]) -> None:
        self.source = source
        self.errors = errors
        super().__init__("\n".join(f"{source}: {e}" for e in errors))


@dataclass(frozen=True)
class ItemSpec:
    """One item of the basic standard as the file states it."""

    code: str
    clause: str
    basis: str
    text_zh: str
    text_en: str
    kinds: tuple[str, ...]
    boarding_only: bool = False


@dataclass(frozen=True)
class StandardSpec:
    name: str
    valid_from: dt.date
    items: tuple[ItemSpec, ...]


@dataclass(frozen=True)
class TargetSpec:
    """One target of the task book (任务书)."""

    id: str
    clause: str
    kind: str
    measure: str
    target: Decimal
    year: int | None = None
    from_year: int | None = None


def _parse(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulesFileError(source, [_("not valid YAML: %(error)s") % {"error": exc}]) from exc


def _unknown(data: dict[str, Any], allowed: set[str], where: str) -> list[str]:
    return [
        _("%(where)s: unknown field %(field)s") % {"where": where, "field": key}
        for key in data
        if key not in allowed
    ]


def load_standard(text: str, *, source: str = STANDARD_FILE) -> StandardSpec:
    """Parse and check a basic-standard file; raise RulesFileError naming each bad item field."""
    return standard_from_data(_parse(text, source), source=source)


def item_data(item: ItemSpec) -> dict[str, Any]:
    """Return an item as the file writes it (the inverse of the loader)."""
    return {
        "id": item.code,
        "clause": item.clause,
        "basis": item.basis,
        "zh": item.text_zh,
        "en": item.text_en,
        "kinds": list(item.kinds),
        "boarding_only": item.boarding_only,
    }


def standard_from_data(data: Any, *, source: str) -> StandardSpec:
    """Check a parsed standard (a file, or the county's edit of one) and return it."""
    if not isinstance(data, dict):
        raise RulesFileError(source, [_("the file must be a mapping with name, valid_from, items")])
    errors = _unknown(data, STANDARD_KEYS, _("the standard"))
    name = data.get("name")
    if not isinstance(name, str) or not name:
        errors.append(_("the standard: field name is missing"))
    valid_from = data.get("valid_from")
    if not isinstance(valid_from, dt.date) or isinstance(valid_from, dt.datetime):
        errors.append(_("the standard: field valid_from must be a date such as 2016-01-01"))
    raw_items = data.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        errors.append(_("the standard: field items must be a non-empty list"))
        raw_items = []
    kinds = set(School.Kind.values)
    items: list[ItemSpec] = []
    seen: set[str] = set()
    for n, raw in enumerate(raw_items, start=1):
        if not isinstance(raw, dict):
            errors.append(_("item %(n)d: must be a mapping") % {"n": n})
            continue
        code = raw.get("id")
        where = _("item %(id)s") % {"id": code} if code else _("item %(n)d") % {"n": n}
        problems = _unknown(raw, ITEM_KEYS, where)
        for key in ITEM_REQUIRED:
            if raw.get(key) in (None, "", []):
                problems.append(
                    _("%(where)s: field %(field)s is missing") % {"where": where, "field": key}
                )
        if code and (not isinstance(code, str) or not ITEM_ID.match(code)):
            problems.append(
                _("%(where)s: field id must be lower-case letters, digits and _") % {"where": where}
            )
        elif code in seen:
            problems.append(_("%(where)s: field id is used twice") % {"where": where})
        clause = raw.get("clause")
        if clause and (not isinstance(clause, str) or not CLAUSE.match(clause)):
            problems.append(
                _("%(where)s: field clause %(value)s is not like II.2.3")
                % {"where": where, "value": clause}
            )
        for key in ("basis", "zh", "en"):
            if raw.get(key) is not None and not isinstance(raw.get(key), str):
                problems.append(
                    _("%(where)s: field %(field)s must be text") % {"where": where, "field": key}
                )
        item_kinds = raw.get("kinds")
        if item_kinds is not None and not isinstance(item_kinds, list):
            problems.append(_("%(where)s: field kinds must be a list") % {"where": where})
        elif item_kinds:
            for kind in item_kinds:
                if kind not in kinds:
                    problems.append(
                        _("%(where)s: field kinds names an unknown school kind %(kind)s")
                        % {"where": where, "kind": kind}
                    )
        boarding_only = raw.get("boarding_only", False)
        if not isinstance(boarding_only, bool):
            problems.append(
                _("%(where)s: field boarding_only must be true or false") % {"where": where}
            )
        if isinstance(code, str):
            seen.add(code)
        if problems:
            errors.extend(problems)
            continue
        items.append(
            ItemSpec(
                code=str(code),
                clause=str(clause),
                basis=raw["basis"],
                text_zh=raw["zh"],
                text_en=raw["en"],
                kinds=tuple(item_kinds or ()),
                boarding_only=boarding_only,
            )
        )
    if errors:
        raise RulesFileError(source, errors)
    assert isinstance(name, str) and isinstance(valid_from, dt.date)
    return StandardSpec(name=name, valid_from=valid_from, items=tuple(items))


def _money(value: Any) -> Decimal | None:
    if isinstance(value, float | bool):
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount >= 0 and amount == to_yuan(amount) else None


def load_task_book(text: str, *, source: str = TASK_BOOK_FILE) -> tuple[TargetSpec, ...]:
    """Parse and check a task-book file; raise RulesFileError naming each bad target field."""
    data = _parse(text, source)
    if not isinstance(data, dict) or not isinstance(data.get("targets"), list):
        raise RulesFileError(source, [_("the file must be a mapping with a list of targets")])
    errors = _unknown(data, TASK_KEYS, _("the task book"))
    out: list[TargetSpec] = []
    for n, raw in enumerate(data["targets"], start=1):
        if not isinstance(raw, dict):
            errors.append(_("target %(n)d: must be a mapping") % {"n": n})
            continue
        where = _("target %(id)s") % {"id": raw.get("id") or n}
        problems = _unknown(raw, TARGET_KEYS, where)
        for key in ("id", "clause", "kind", "measure", "target"):
            if raw.get(key) in (None, ""):
                problems.append(
                    _("%(where)s: field %(field)s is missing") % {"where": where, "field": key}
                )
        if raw.get("kind") and raw["kind"] not in Project.Kind.values:
            problems.append(_("%(where)s: field kind is not a project kind") % {"where": where})
        measure = raw.get("measure")
        if measure and measure not in MEASURES:
            problems.append(
                _("%(where)s: field measure is not one of %(allowed)s")
                % {"where": where, "allowed": ", ".join(MEASURES)}
            )
        for key in ("year", "from_year"):
            if key in raw and (type(raw[key]) is not int or not 2000 <= raw[key] <= 2100):
                problems.append(
                    _("%(where)s: field %(field)s must be a year") % {"where": where, "field": key}
                )
        if measure == "yuan_per_student" and "from_year" not in raw:
            problems.append(_("%(where)s: field from_year is missing") % {"where": where})
        if measure in ("projects_in_poor_villages", "schools", "budget_yuan") and "year" not in raw:
            problems.append(_("%(where)s: field year is missing") % {"where": where})
        target = raw.get("target")
        if measure in MONEY_MEASURES:
            amount = _money(target) if isinstance(target, str) else None
            if target is not None and amount is None:
                problems.append(
                    _('%(where)s: field target must be an amount written as text, e.g. "6000.00"')
                    % {"where": where}
                )
        else:
            amount = Decimal(target) if type(target) is int and target > 0 else None
            if target is not None and amount is None:
                problems.append(
                    _("%(where)s: field target must be a whole number") % {"where": where}
                )
        if problems or amount is None:
            errors.extend(problems)
            continue
        out.append(
            TargetSpec(
                id=raw["id"],
                clause=raw["clause"],
                kind=raw["kind"],
                measure=str(measure),
                target=amount,
                year=raw.get("year"),
                from_year=raw.get("from_year"),
            )
        )
    if errors:
        raise RulesFileError(source, errors)
    return tuple(out)


def shipped_source(filename: str) -> str:
    """Return the text of a data file shipped in ``jingzhun/projects/rules``."""
    path = resources.files("jingzhun.projects") / "rules" / filename
    return path.read_text(encoding="utf-8")
