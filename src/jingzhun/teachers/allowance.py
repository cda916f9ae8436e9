"""The rural teacher living allowance rules (II.3.4): load a rule book, explain one month.

Pure functions, no database: :func:`explain` takes a teacher's places over a month (each a
kind of place and the days from and to) and gives the month's amount with one line per place
and rule, as ``jingzhun teachers allowance explain`` prints it and as the stored lines keep it.

Readings (the rule book's comments say them too):

* the place kinds are ``teaching_point`` (a school of kind teaching point) and
  ``village_primary`` (a primary school with a village); any other school pays nothing;
* a place's days run from its first day to its last day, both included; a teacher who leaves
  on a date is no longer there that day;
* the month's amount of a rule is shared by the days (``proration: days``): amount x days /
  days in the month, rounded half up to the fen, per place; the line is their sum.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

BOOK = Path(__file__).parent / "rules" / "allowance.yaml"
PLACES = ("teaching_point", "village_primary")
FEN = Decimal("0.01")


class RuleBookError(ValueError):
    """A rule book that cannot be used, with the rule and field at fault."""


@dataclass(frozen=True)
class Rule:
    id: str
    clause: str
    place: str
    amount: Decimal
    valid_from: dt.date
    valid_to: dt.date | None
    label: Mapping[str, str]

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class Book:
    version: int
    clause: str
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Stay:
    """A teacher's time at one place: its kind, and the first and last day there."""

    place: str  # teaching_point, village_primary, or anything else (paid nothing)
    first: dt.date
    last: dt.date
    school_id: int | None = None
    school: str = ""


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise RuleBookError(f"{where}: not a date (YYYY-MM-DD): {value!r}") from None


def parse_book(data: Mapping[str, Any]) -> Book:
    """Return a checked rule book from its parsed data, or raise naming the rule and field."""
    if not isinstance(data, Mapping):
        raise RuleBookError("the rule book is not a mapping")
    version = data.get("version")
    if not isinstance(version, int) or version < 1:
        raise RuleBookError(f"version: a whole number from 1 is needed, not {version!r}")
    if data.get("proration", "days") != "days":
        raise RuleBookError(f"proration: only 'days' is known, not {data.get('proration')!r}")
    rules = []
    seen = set()
    for n, raw in enumerate(data.get("rules") or [], start=1):
        where = f"rule {n}"
        if not isinstance(raw, Mapping):
            raise RuleBookError(f"{where}: not a mapping")
        rid = raw.get("id")
        if not rid or not isinstance(rid, str):
            raise RuleBookError(f"{where}: id is missing")
        where = f"rule {rid!r}"
        if rid in seen:
            raise RuleBookError(f"{where}: the id is used twice")
        seen.add(rid)
        if raw.get("place") not in PLACES:
            raise RuleBookError(f"{where}: place must be one of {', '.join(PLACES)}")
        if raw.get("unit", "month") != "month":
            raise RuleBookError(f"{where}: unit must be 'month'")
        try:
            amount = Decimal(str(raw.get("amount")))
        except InvalidOperation:
            raise RuleBookError(f"{where}: amount is not a number: {raw.get('amount')!r}") from None
        if amount <= 0 or amount != amount.quantize(FEN):
            raise RuleBookError(f"{where}: amount must be positive yuan with at most two decimals")
        valid_from = _date(raw.get("valid_from"), f"{where}: valid_from")
        valid_to = (
            None if raw.get("valid_to") is None else _date(raw["valid_to"], f"{where}: valid_to")
        )
        if valid_to is not None and valid_to < valid_from:
            raise RuleBookError(f"{where}: valid_to is before valid_from")
        label = raw.get("label") or {}
        if not isinstance(label, Mapping) or not label.get("zh") or not label.get("en"):
            raise RuleBookError(f"{where}: label needs zh and en")
        rules.append(
            Rule(
                id=rid,
                clause=str(raw.get("clause") or data.get("clause") or ""),
                place=raw["place"],
                amount=amount,
                valid_from=valid_from,
                valid_to=valid_to,
                label=dict(label),
            )
        )
    if not rules:
        raise RuleBookError("rules: the book has no rule")
    for a in rules:
        for b in rules:
            if a.id < b.id and a.place == b.place:
                overlap = a.valid_from <= (b.valid_to or dt.date.max) and b.valid_from <= (
                    a.valid_to or dt.date.max
                )
                if overlap:
                    raise RuleBookError(
                        f"rules {a.id!r} and {b.id!r}: both pay {a.place} on the same days"
                    )
    return Book(version=version, clause=str(data.get("clause") or ""), rules=tuple(rules))


def load_book(path: Path = BOOK) -> tuple[Book, dict[str, Any]]:
    """Read and check a rule book file; return it with its data (as stored)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RuleBookError(f"{path.name}: not valid YAML ({exc})") from None
    book = parse_book(data)
    return book, _jsonable(data)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def parse_month(text: str) -> dt.date | None:
    """Return the first day of a month written ``YYYY-MM`` (None when it is not one)."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}", text or ""):
        return None
    try:
        return dt.date.fromisoformat(f"{text}-01")
    except ValueError:
        return None


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    """Return the first and last day of the month of a date."""
    first = month.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _minus(
    span: tuple[dt.date, dt.date], taken: list[tuple[dt.date, dt.date]]
) -> list[tuple[dt.date, dt.date]]:
    """Return the parts of a span of days (both ends included) not in the taken spans."""
    parts = [span]
    for t0, t1 in taken:
        nxt = []
        for p0, p1 in parts:
            if t1 < p0 or p1 < t0:
                nxt.append((p0, p1))
                continue
            if p0 < t0:
                nxt.append((p0, t0 - dt.timedelta(days=1)))
            if t1 < p1:
                nxt.append((t1 + dt.timedelta(days=1), p1))
        parts = nxt
    return parts


def explain(book: Book, stays: Iterable[Stay], month: dt.date) -> dict[str, Any]:
    """Return one teacher's allowance for a month: the amount, the days paid and a line per
    place and rule (place, school, first and last day, days, rule, clause, monthly amount,
    amount). Days at two places on one date count once, for the first place given."""
    first, last = month_bounds(month)
    days_in_month = (last - first).days + 1
    taken: list[tuple[dt.date, dt.date]] = []
    lines: list[dict[str, Any]] = []
    total = Decimal("0.00")
    paid_days = 0
    for stay in stays:
        start, end = max(stay.first, first), min(stay.last, last)
        if end < start or stay.place not in PLACES:
            continue
        for rule in book.rules:
            if rule.place != stay.place:
                continue
            r0, r1 = max(start, rule.valid_from), min(end, rule.valid_to or end)
            if r1 < r0:
                continue
            for p0, p1 in _minus((r0, r1), taken):
                days = (p1 - p0).days + 1
                amount = (rule.amount * days / days_in_month).quantize(FEN, ROUND_HALF_UP)
                total += amount
                paid_days += days
                taken.append((p0, p1))
                lines.append(
                    {
                        "place": stay.place,
                        "school_id": stay.school_id,
                        "school": stay.school,
                        "first": p0.isoformat(),
                        "last": p1.isoformat(),
                        "days": days,
                        "days_in_month": days_in_month,
                        "rule": rule.id,
                        "clause": rule.clause,
                        "monthly": str(rule.amount),
                        "amount": str(amount),
                        "label": dict(rule.label),
                    }
                )
    return {
        "month": first.strftime("%Y-%m"),
        "rule_book": book.version,
        "amount": str(total),
        "days": paid_days,
        "lines": lines,
    }


def stays_from_profile(profile: Mapping[str, Any]) -> list[Stay]:
    """Return the stays of a profile as ``explain`` on the command line reads it:
    ``{"stays": [{"place": "teaching_point", "first": "2018-10-01", "last": "2018-10-15"}]}``
    (``last`` may be left out: to the month's end)."""
    stays = profile.get("stays")
    if not isinstance(stays, Sequence) or isinstance(stays, str | bytes):
        raise RuleBookError("profile: 'stays' must be a list")
    out = []
    for n, raw in enumerate(stays, start=1):
        if not isinstance(raw, Mapping) or "place" not in raw or "first" not in raw:
            raise RuleBookError(f"profile: stay {n} needs place and first")
        first = _date(raw["first"], f"stay {n}: first")
        last = _date(raw["last"], f"stay {n}: last") if raw.get("last") else dt.date.max
        out.append(
            Stay(place=str(raw["place"]), first=first, last=last, school=str(raw.get("school", "")))
        )
    return out
