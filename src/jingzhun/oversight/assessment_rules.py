"""The annual assessment's weights as data: ``rules/assessment-<year>.yaml``, loaded strictly.

The bureau publishes one file per school year (version and validity dates inside). A file
that does not load raises :class:`WeightsFileError` listing every problem, each naming the
file, the key and the reason, so that the county can fix the file it edited.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from django.utils.translation import gettext as _

RULES_DIR = Path(__file__).resolve().parent / "rules"
FILE_NAME = re.compile(r"^assessment-(\d{4})\.yaml$")
CLAUSE = re.compile(r"^[IVX]+(\.\d+)*$")
TOP_KEYS = {"version", "year", "valid_from", "valid_until", "indicators"}
INDICATOR_KEYS = {"id", "clause", "school", "township", "scoring", "threshold"}
SCORINGS = ("proportional", "threshold")
LEVELS = ("school", "township")
#: The indicators the platform computes (jingzhun.oversight.assessment); a file may weigh
#: each at most once and may leave one out (then it is not assessed).
INDICATOR_IDS = (
    "identification",
    "aid_coverage",
    "aid_timeliness",
    "dropout_cases",
    "responsibility",
    "project_nodes",
    "rectification",
    "training",
)


class WeightsFileError(Exception):
    """An assessment file that does not load; `errors` lists every problem."""

    def __init__(self, source: str, errors: list[str]) -> None:
        self.source = source
        self.errors = errors
        super().__init__("\n".join(f"{source}: {e}" for e in errors))


@dataclass(frozen=True)
class IndicatorWeight:
    id: str
    clause: str
    school: Decimal
    township: Decimal
    scoring: str = "proportional"
    threshold: Decimal | None = None  # a percentage, for "threshold" scoring

    def weight(self, level: str) -> Decimal:
        return self.school if level == "school" else self.township

    def points(self, level: str, share: Decimal) -> Decimal:
        """Return the points a share (0 to 1) earns at a level."""
        weight = self.weight(level)
        if self.scoring == "threshold":
            assert self.threshold is not None
            return weight if share * 100 >= self.threshold else Decimal(0)
        return weight * share


@dataclass(frozen=True)
class Weights:
    source: str
    version: str
    year: int
    valid_from: dt.date
    valid_until: dt.date | None
    indicators: tuple[IndicatorWeight, ...]

    def of(self, indicator_id: str) -> IndicatorWeight | None:
        return next((i for i in self.indicators if i.id == indicator_id), None)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _indicator(item: Any, n: int, errors: list[str], seen: set[str]) -> IndicatorWeight | None:
    where = f"indicators[{n}]"
    if not isinstance(item, dict):
        errors.append(_("%(where)s: must be a mapping") % {"where": where})
        return None
    before = len(errors)
    for key in item:
        if key not in INDICATOR_KEYS:
            errors.append(_("%(where)s: unknown key %(key)s") % {"where": where, "key": key})
    ident = str(item.get("id", ""))
    if ident:
        where = f"indicators[{n}] ({ident})"
    if ident not in INDICATOR_IDS:
        errors.append(
            _("%(where)s.id: not an indicator the platform computes (one of %(ids)s)")
            % {"where": where, "ids": ", ".join(INDICATOR_IDS)}
        )
    elif ident in seen:
        errors.append(_("%(where)s.id: weighed twice") % {"where": where})
    seen.add(ident)
    clause = str(item.get("clause", ""))
    if not CLAUSE.fullmatch(clause):
        errors.append(_("%(where)s.clause: missing or not a clause like III.1") % {"where": where})
    weights: dict[str, Decimal] = {}
    for level in LEVELS:
        value = _number(item.get(level))
        if value is None or value < 0 or value > 100:
            errors.append(
                _("%(where)s.%(key)s: the weight must be a number from 0 to 100")
                % {"where": where, "key": level}
            )
        else:
            weights[level] = value
    scoring = str(item.get("scoring", "proportional"))
    threshold = None
    if scoring not in SCORINGS:
        errors.append(
            _("%(where)s.scoring: must be one of %(values)s")
            % {"where": where, "values": ", ".join(SCORINGS)}
        )
    elif scoring == "threshold":
        threshold = _number(item.get("threshold"))
        if threshold is None or not 0 <= threshold <= 100:
            errors.append(
                _("%(where)s.threshold: threshold scoring needs a percentage from 0 to 100")
                % {"where": where}
            )
    elif "threshold" in item:
        errors.append(
            _("%(where)s.threshold: only threshold scoring takes a threshold") % {"where": where}
        )
    if len(errors) > before:
        return None
    return IndicatorWeight(
        ident, clause, weights["school"], weights["township"], scoring, threshold
    )


def weights_from_text(text: str, *, source: str) -> Weights:
    """Parse and check an assessment file's text; raise WeightsFileError naming each problem."""
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: a date like 2018-13-01
        raise WeightsFileError(source, [_("not valid YAML: %(error)s") % {"error": exc}]) from exc
    if not isinstance(data, dict):
        raise WeightsFileError(
            source, [_("the file must be a mapping with version, year and indicators")]
        )
    errors = [_("unknown key %(key)s") % {"key": key} for key in data if key not in TOP_KEYS]
    version = str(data.get("version") or "").strip()
    if not version:
        errors.append(_("version: missing"))
    year = data.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        errors.append(_("year: must be a school year's first year, like 2018"))
        year = 0
    valid_from = _date(data.get("valid_from"))
    if valid_from is None:
        errors.append(_("valid_from: missing or not a date like 2018-09-01"))
    valid_until = None
    if data.get("valid_until") is not None:
        valid_until = _date(data.get("valid_until"))
        if valid_until is None:
            errors.append(_("valid_until: not a date like 2019-08-31"))
        elif valid_from is not None and valid_until < valid_from:
            errors.append(_("valid_until: before valid_from"))
    items = data.get("indicators")
    indicators: list[IndicatorWeight] = []
    if not isinstance(items, list) or not items:
        errors.append(_("indicators: must be a non-empty list"))
        items = []
    seen: set[str] = set()
    for n, item in enumerate(items):
        indicator = _indicator(item, n, errors, seen)
        if indicator is not None:
            indicators.append(indicator)
    if not errors:
        for level in LEVELS:
            if not sum(i.weight(level) for i in indicators):
                errors.append(
                    _("indicators: no indicator has a weight for %(level)s") % {"level": level}
                )
    if errors:
        raise WeightsFileError(source, errors)
    assert valid_from is not None
    return Weights(source, version, int(year), valid_from, valid_until, tuple(indicators))


def weights_file(year: int, *, directory: Path = RULES_DIR) -> Path | None:
    """Return the file that holds a school year's weights: its own year's, else the latest
    earlier one (a bureau may keep last year's weights), else None."""
    years = sorted(
        int(m.group(1))
        for p in directory.glob("assessment-*.yaml")
        if (m := FILE_NAME.fullmatch(p.name))
    )
    earlier = [y for y in years if y <= year]
    return directory / f"assessment-{earlier[-1]}.yaml" if earlier else None


def load_weights(year: int, *, directory: Path = RULES_DIR) -> Weights | None:
    """Return the weights that hold for a school year (None when the bureau published none).

    A file whose validity ended before the school year began does not hold. A file that does
    not load raises WeightsFileError.
    """
    path = weights_file(year, directory=directory)
    if path is None:
        return None
    weights = weights_from_text(path.read_text(encoding="utf-8"), source=path.name)
    if FILE_NAME.fullmatch(path.name) and weights.year != int(path.name[11:15]):
        raise WeightsFileError(
            path.name,
            [_("year: %(year)s does not match the file's name") % {"year": weights.year}],
        )
    if weights.valid_until is not None and weights.valid_until < dt.date(year, 9, 1):
        return None
    return weights
