"""Why a child is on a list, and what would take them off it, in the user's language."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _


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
        " " + _("No usable ID number in the registry: check the review queue.")
        if id_status != "valid"
        else ""
    )
    if category == "suspected_dropout":
        return (
            _(
                "Aged %(age)s on 31 August; on no roll and no confirmation list; the registry "
                "says: %(said)s."
            )
            % {"age": age, "said": said}
            + no_id,
            _(
                "An enrolment, a confirmation of study elsewhere, home teaching, or the child back "
                "at school."
            ),
        )
    if category == "dropped_out":
        return (
            _("Marked dropped out on the school's roll."),
            _("Back on a roll as enrolled (the dropout case records the return)."),
        )
    if category == "to_verify_outside":
        return (
            _("The registry says in school (%(said)s); on no roll and no confirmation list.")
            % {"said": said}
            + no_id,
            _(
                "The receiving school's confirmation; if a visit finds the child out of school, "
                "a dropout case."
            ),
        )
    if category == "not_continuing":
        return (
            _("Aged %(age)s on 31 August, education %(education)s, studying nowhere (两后生).")
            % {"age": age, "education": education or _("unknown")},
            _("An enrolment in a high or vocational school."),
        )
    return "", ""
