"""How the aid screens put rules, entitlements and their inputs into words.

Pure functions of plain data: no database, no request. Page texts go through gettext;
classes are named by :mod:`jingzhun.schools.naming` on every page and document. The few
Chinese texts of official documents are plain Chinese (see :mod:`jingzhun.aid.documents`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jingzhun.aid.models import Loan
from jingzhun.aid.rulebook import Conditions, Rule
from jingzhun.core.money import format_yuan
from jingzhun.registry.models import Household
from jingzhun.schools.models import School, Stage

KIND_LABELS = {
    "cash": gettext_lazy("Cash"),
    "waiver": gettext_lazy("Fee waiver"),
    "record": gettext_lazy("Recorded only"),
    "loan": gettext_lazy("Loan"),
}
UNIT_LABELS = {
    "year": gettext_lazy("a year"),
    "semester": gettext_lazy("a semester"),
    "month": gettext_lazy("a month"),
    "once": gettext_lazy("once"),
}
SEMESTER_LABELS = {
    "autumn": gettext_lazy("Autumn semester"),
    "spring": gettext_lazy("Spring semester"),
}


def stage_label(stage: str) -> str:
    return str(dict(Stage.choices).get(stage, stage))


def location_label(location: str) -> str:
    return str(dict(School.Location.choices).get(location, location))


def household_label(status: str) -> str:
    return str(dict(Household.Status.choices).get(status, status))


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def unit_label(unit: str) -> str:
    return str(UNIT_LABELS.get(unit, unit))


def semester_label(semester: str) -> str:
    return str(SEMESTER_LABELS.get(semester, semester))


def period_label(school_year: int, semester: str) -> str:
    """Return e.g. "2018–2019, Autumn semester"."""
    return _("%(start)s–%(end)s, %(semester)s") % {
        "start": school_year,
        "end": school_year + 1,
        "semester": semester_label(semester),
    }


def conditions_in_words(when: Conditions) -> str:
    """Return who a rule applies to, e.g. "Primary; boarding students"."""
    parts = [", ".join(stage_label(s) for s in when.stage)]
    if when.grade is not None:
        parts.append(_("grade %(grades)s") % {"grades": ", ".join(str(g) for g in when.grade)})
    if when.boarding is True:
        parts.append(_("boarding students"))
    elif when.boarding is False:
        parts.append(_("day students"))
    if when.location is not None:
        parts.append(
            _("school: %(places)s")
            % {"places": ", ".join(location_label(p).lower() for p in when.location)}
        )
    if when.new_entrant is True:
        parts.append(_("new entrants"))
    elif when.new_entrant is False:
        parts.append(_("not new entrants"))
    if when.degree is not None:
        degrees = dict(Loan.Degree.choices)
        parts.append(", ".join(str(degrees.get(d, d)).lower() for d in when.degree))
    return "; ".join(parts)


def rule_amount(rule: Rule) -> str:
    """Return a rule's amount with its unit, e.g. "1,250.00 a year" or "1,000.00–8,000.00"."""
    amount = format_yuan(rule.amount)
    if rule.minimum is not None:
        amount = f"{format_yuan(rule.minimum)}–{amount}"
    return _("%(amount)s %(unit)s") % {"amount": amount, "unit": unit_label(rule.unit)}


BATCH_WORDS = {
    "draft": gettext_lazy("In a draft batch"),
    "approved": gettext_lazy("Approved, not yet sent to the bank"),
    "sent": gettext_lazy("Sent to the bank"),
    "reconciled": gettext_lazy("Reconciled with the bank's return"),
}


def batch_words(batch_status: str) -> str:
    """Return where a payment batch stands, in the words every aid page uses."""
    return str(BATCH_WORDS.get(batch_status, batch_status))


def payment_words(
    *, batch_status: str, status: str, settled_at: dt.datetime | None = None, reason: str = ""
) -> str:
    """Return where one payment stands, matching its batch's real state.

    draft: "in a draft batch"; approved: "approved, not yet sent to the bank"; sent (awaiting
    the bank): "sent to the bank"; after the bank's return: "paid on <date>" or
    "failed: <reason>".
    """
    if status == "paid":
        if settled_at is None:
            return _("Paid")
        day = timezone.localtime(settled_at).date() if timezone.is_aware(settled_at) else settled_at
        return _("Paid on %(date)s") % {"date": f"{day:%Y-%m-%d}"}
    if status == "failed":
        return _("Failed: %(reason)s") % {"reason": reason or _("no reason given")}
    if batch_status == "reconciled":
        return _("Sent to the bank, not in its return")
    return batch_words(batch_status)


def entitlement_sentence(
    *,
    amount: Decimal,
    kind: str,
    programme: str,
    stage: str,
    clause: str,
    school_year: int,
    version: int,
) -> str:
    """Return an entitlement in words.

    E.g. "1,250.00 yuan: Boarding living subsidy, Junior high, clause II.1.2, rule book 2018 v1".
    """
    values = {
        "amount": format_yuan(amount),
        "programme": programme,
        "stage": stage_label(stage),
        "clause": clause,
        "year": school_year,
        "version": version,
    }
    if kind == "waiver":
        return (
            _(
                "%(amount)s yuan waived: %(programme)s, %(stage)s, clause %(clause)s, "
                "rule book %(year)s v%(version)s"
            )
            % values
        )
    return (
        _(
            "%(amount)s yuan: %(programme)s, %(stage)s, clause %(clause)s, "
            "rule book %(year)s v%(version)s"
        )
        % values
    )


def inputs_in_words(inputs: dict[str, Any]) -> list[tuple[str, str]]:
    """Return the inputs an entitlement was computed from as (label, value) pairs.

    Only what the rules look at: stage, grade, boarding, school location, household status
    (and the year it left poverty, or the year assumed when the registry did not give it).
    Never an ID number, an address or a birth date.
    """
    rows: list[tuple[str, str]] = [
        (_("Stage"), stage_label(str(inputs.get("stage", "")))),
        (_("Grade"), str(inputs.get("grade", "—"))),
        (_("Boarding"), _("yes") if inputs.get("boarding") else _("no")),
        (_("School location"), location_label(str(inputs.get("location", "")))),
        (_("Household status"), household_label(str(inputs.get("household_status", "")))),
    ]
    if inputs.get("exit_year") and inputs.get("exit_year_assumed"):
        rows.append((_("Left poverty in"), exit_year_assumed_note(inputs["exit_year"])))
    elif inputs.get("exit_year"):
        rows.append((_("Left poverty in"), str(inputs["exit_year"])))
    return rows


def exit_year_assumed_note(year: int) -> str:
    """Return the note that a household's exit year was assumed, not given by the registry."""
    return _("Exit year unknown: assumed %(year)s (setting JINGZHUN_UNKNOWN_EXIT_YEAR)") % {
        "year": year
    }
