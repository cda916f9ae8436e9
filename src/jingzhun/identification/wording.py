"""Why a child is on a list, and what would take them off it, in the user's language."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

NOT_IN_SCHOOL = ("", "非在校生", "否", "不在校")


def school_age(birth_date: dt.date, school_year: int) -> int:
    """Return the child's age on 31 August of the school year (when school age is counted)."""
    return (
        school_year - birth_date.year - (1 if (birth_date.month, birth_date.day) > (8, 31) else 0)
    )


def why_listed(
    *,
    category: str,
    birth_date: dt.date | None,
    school_year: int,
    school_status: str = "",
    education: str = "",
    id_status: str = "valid",
) -> tuple[str, str]:
    """Return (why the child is on this list, what evidence would take them off it)."""
    age = school_age(birth_date, school_year) if birth_date else None
    said = school_status or _("nothing")
    no_id = (
        " "
        + _(
            "The registry gives no usable ID number: a roll row may exist that could not be "
            "matched by name and birth date; see the review queue."
        )
        if id_status != "valid"
        else ""
    )
    if category == "suspected_dropout":
        return (
            _(
                "Compulsory school age (%(age)s on 31 August); on no roll of the county and on "
                "no confirmation of study elsewhere; the registry's in-school status says: "
                "%(said)s."
            )
            % {"age": age, "said": said}
            + no_id,
            _(
                "An enrolment on the county's rolls, a receiving school's confirmation (outside "
                "or university list), home teaching recorded, or the child's return found at a "
                "home visit."
            ),
        )
    if category == "dropped_out":
        return (
            _("The school's roll marks the child dropped out."),
            _("Back on a roll as enrolled; the dropout case records the persuasion and return."),
        )
    if category == "to_verify_outside":
        return (
            _(
                "The registry says the child studies (%(said)s), but the child is on no roll of "
                "the county and on no confirmation list."
            )
            % {"said": said}
            + no_id,
            _(
                "The receiving school's confirmation (import an outside or university list); a "
                "visit that finds the child out of school makes them a suspected dropout."
            ),
        )
    if category == "not_continuing":
        return (
            _(
                "Aged %(age)s on 31 August with junior high behind them (education: "
                "%(education)s), and studying nowhere: 两后生."
            )
            % {"age": age, "education": education or _("unknown")},
            _("An enrolment in a high or vocational school, or a confirmation of one elsewhere."),
        )
    return "", ""
