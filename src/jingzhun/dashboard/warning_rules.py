"""The early-warning weights: a versioned data file, loaded and checked.

The rule is transparent on purpose: a student's score is the sum of the weights of the signals
found in their records. The weights live in ``rules/early-warning-<version>.yaml``; the file in
force on a day is the one with the latest ``valid_from`` on or before it. A file that does not
hold together is refused with the key and the reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.utils import translation

RULES_DIR = Path(__file__).resolve().parent / "rules"
PATTERN = "early-warning-*.yaml"

# Every signal the rule knows, in the order the pages list them.
SIGNALS = (
    "absences",
    "earlier_dropout",
    "over_age",
    "repeated_grade",
    "left_behind",
    "disability",
    "household_change",
    "transition",
    "boarding_distance",
)
STAGES = ("primary", "junior", "senior", "vocational")
# The settings each signal needs beside its weight and label: name -> type.
_NEEDS: dict[str, dict[str, type]] = {
    "absences": {"lookback_days": int},
    "over_age": {"min_years": int, "entry_age": dict},
    "household_change": {"lookback_days": int},
    "transition": {"grades": list},
    "boarding_distance": {"km": int},
}


class WeightsError(ValueError):
    """The weights file does not hold together: the message names the key and the reason."""


@dataclass(frozen=True)
class Signal:
    """One signal of the rule: its weight, its name in both languages and its thresholds."""

    key: str
    weight: int
    label_zh: str
    label_en: str
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """Return the signal's name in the user's language."""
        zh = (translation.get_language() or "").startswith("zh")
        return self.label_zh if zh else self.label_en


@dataclass(frozen=True)
class Weights:
    """A loaded weights file."""

    version: str
    valid_from: dt.date
    list_from: int
    stages: tuple[str, ...]
    signals: dict[str, Signal]
    digest: str  # sha256 of the file's bytes
    file_name: str

    @property
    def short_digest(self) -> str:
        return self.digest[:12]

    def weight(self, key: str) -> int:
        return self.signals[key].weight

    def setting(self, key: str, name: str) -> Any:
        return self.signals[key].settings[name]


def _fail(where: str, key: str, reason: str) -> WeightsError:
    return WeightsError(f"{where}: {key}: {reason}")


def _int(where: str, key: str, value: Any, *, minimum: int = 0) -> int:
    if value is None:
        raise _fail(where, key, "missing")
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(where, key, f"must be a whole number, not {value!r}")
    if value < minimum:
        raise _fail(where, key, f"must be at least {minimum}, not {value}")
    return value


def parse_weights(text: bytes, *, where: str = "weights") -> Weights:
    """Return the weights a file's bytes hold, else raise WeightsError naming key and reason."""
    try:
        data = yaml.safe_load(text.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise _fail(where, "(file)", f"not readable YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise _fail(where, "(file)", "must be a mapping of keys")
    unknown = set(data) - {"version", "valid_from", "list_from", "stages", "signals"}
    if unknown:
        raise _fail(where, sorted(unknown)[0], "unknown key")
    version = data.get("version")
    if not isinstance(version, str | int) or isinstance(version, bool) or not str(version):
        raise _fail(where, "version", "missing or empty")
    valid_from = data.get("valid_from")
    if isinstance(valid_from, dt.datetime) or not isinstance(valid_from, dt.date):
        raise _fail(where, "valid_from", f"must be a date YYYY-MM-DD, not {valid_from!r}")
    list_from = _int(where, "list_from", data.get("list_from"), minimum=1)
    stages = data.get("stages")
    if not isinstance(stages, list) or not stages or any(s not in STAGES for s in stages):
        raise _fail(where, "stages", f"must be a list of {', '.join(STAGES)}")
    raw = data.get("signals")
    if not isinstance(raw, dict):
        raise _fail(where, "signals", "missing, or not a mapping")
    for key in raw:
        if key not in SIGNALS:
            raise _fail(where, f"signals.{key}", "not a signal the rule knows")
    signals: dict[str, Signal] = {}
    for key in SIGNALS:
        entry = raw.get(key)
        name = f"signals.{key}"
        if not isinstance(entry, dict):
            raise _fail(where, name, "missing: every signal keeps a weight, even if unrecorded")
        weight = _int(where, f"{name}.weight", entry.get("weight"))
        label = entry.get("label")
        if not isinstance(label, dict) or not all(
            isinstance(label.get(lang), str) and label.get(lang) for lang in ("zh-hans", "en")
        ):
            raise _fail(where, f"{name}.label", "needs zh-hans and en wording")
        settings: dict[str, Any] = {}
        for setting, kind in _NEEDS.get(key, {}).items():
            value = entry.get(setting)
            if kind is int:
                value = _int(where, f"{name}.{setting}", value)
            elif not isinstance(value, kind) or not value:
                raise _fail(where, f"{name}.{setting}", f"missing, or not a {kind.__name__}")
            settings[setting] = value
        extra = set(entry) - {"weight", "label", *settings}
        if extra:
            raise _fail(where, f"{name}.{sorted(extra)[0]}", "unknown key")
        signals[key] = Signal(key, weight, label["zh-hans"], label["en"], settings)
    entry_age = signals["over_age"].settings["entry_age"]
    for stage in stages:
        _int(where, f"signals.over_age.entry_age.{stage}", entry_age.get(stage), minimum=1)
    grades = signals["transition"].settings["grades"]
    for i, pair in enumerate(grades):
        if not (isinstance(pair, list) and len(pair) == 2 and pair[0] in STAGES):
            raise _fail(where, f"signals.transition.grades[{i}]", "must be [stage, grade]")
        _int(where, f"signals.transition.grades[{i}]", pair[1], minimum=1)
    return Weights(
        version=str(version),
        valid_from=valid_from,
        list_from=list_from,
        stages=tuple(stages),
        signals=signals,
        digest=hashlib.sha256(text).hexdigest(),
        file_name=where,
    )


def load_weights(path: Path) -> Weights:
    """Return the weights of one file (WeightsError names the file, key and reason)."""
    return parse_weights(path.read_bytes(), where=path.name)


def weights_on(day: dt.date, *, folder: Path = RULES_DIR) -> Weights:
    """Return the weights in force on a day: the latest valid_from on or before it.

    Before the first file's valid_from, the first file applies (a back-test of an older day
    uses the rule as it is written, not no rule).
    """
    loaded = sorted(
        (load_weights(path) for path in folder.glob(PATTERN)), key=lambda w: w.valid_from
    )
    if not loaded:
        raise WeightsError(f"{folder}: no {PATTERN} file")
    valid = [w for w in loaded if w.valid_from <= day]
    return valid[-1] if valid else loaded[0]
