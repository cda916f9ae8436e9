"""Writes of donations (II.1.5, III.2): donors, pledges, and receipts posted to the ledger.

"All donated funds are managed centrally": every yuan a donor gives comes in through the
ledger's "donation" channel. A general gift lands in the pooled account and is allocated from
there like any other channel's money. A designated gift lands in a programme account for the
pledge's school year: the programme the donor named, or, for a school or named students, a
programme of its own, ``donation:<pledge id>``.

Paying designated money out
---------------------------
It goes through the same payment batches as every other programme: a paying app (aid, for
instance) builds its ``funds.services.PaymentLine`` objects with ``programme`` set to
:func:`donation_programme` of the pledge, and calls ``funds.services.payment_batch_make`` with
the pledge's school year. The batch is refused when the donation holds less than it asks;
approving it reserves the money from the donation's programme account, the bank file and the
bank's return pay it (or return it) exactly as for any programme, and the donor report reads
those payments back by that programme code. funds itself never decides whom to pay.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.core.audit import audit_record
from jingzhun.core.money import to_yuan
from jingzhun.core.scoping import get_object_for_user
from jingzhun.core.working_year import working_year
from jingzhun.funds import ledger
from jingzhun.funds.models import Account, JournalEntry
from jingzhun.funds.models_donations import Donor, Pledge, Receipt
from jingzhun.funds.services import _require_pay
from jingzhun.schools.models import School, Student

K = Account.Kind
D = Pledge.Designation
DONATION_PREFIX = "donation:"
_PROGRAMME_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def donation_programme(pledge: Pledge) -> str:
    """Return the programme code a paying app names to pay out the pledge's money.

    A programme designation gives the programme the donor named; a school or named students
    designation gives the pledge's own programme, ``donation:<pledge id>``; a general pledge
    gives "" (its money is in the pooled account and is allocated like any other channel's).
    """
    if pledge.designation == D.PROGRAMME:
        return pledge.programme
    if pledge.designation in (D.SCHOOL, D.STUDENTS):
        return f"{DONATION_PREFIX}{pledge.pk}"
    return ""


def _target(pledge: Pledge | None) -> dict[str, Any]:
    if pledge is None or pledge.designation == D.GENERAL:
        return {"kind": K.POOL}
    return {
        "kind": K.PROGRAMME,
        "programme": donation_programme(pledge),
        "school_year": pledge.school_year,
    }


def donation_account(pledge: Pledge | None, county_code: str) -> Account:
    """Return the ledger account a receipt for the pledge (None: general) is debited to,
    opening it on first use."""
    t = _target(pledge)
    return ledger.account(county_code, t.pop("kind"), **t)


def donation_account_preview(pledge: Pledge | None, county_code: str) -> Account:
    """Return that account as it stands, or an unsaved one holding nothing (a preview opens
    no account)."""
    t = _target(pledge)
    code = ledger.account_code(t["kind"], **{k: v for k, v in t.items() if k != "kind"})
    found = Account.objects.filter(county_code=county_code, code=code).first()
    return found or Account(county_code=county_code, code=code, **t)


@transaction.atomic
def donor_create(
    *,
    actor: Any,
    name: str,
    kind: str,
    contact_name: str = "",
    phone: str = "",
    note: str = "",
) -> Donor:
    """Record a donor of the actor's county."""
    _require_pay(actor)
    phone = "".join(phone.split())
    if phone and not re.fullmatch(r"\+?[0-9-]{5,20}", phone):
        raise ValidationError({"phone": _("A phone number holds digits only.")})
    donor = Donor(
        county_code=actor.scope.county_code,
        name=" ".join(name.split()),
        kind=kind,
        contact_name=contact_name.strip(),
        phone=phone,
        note=note.strip(),
        created_by=actor,
    )
    donor.full_clean()
    donor.save()
    # The phone stays out of the audit trail: it is personal data.
    audit_record(
        actor=actor,
        action="funds.donor_create",
        target=donor,
        data={"name": donor.name, "kind": kind},
    )
    return donor


def _students_checked(county_code: str, student_ids: Sequence[int]) -> list[int]:
    ids = sorted({int(i) for i in student_ids})
    if not ids:
        raise ValidationError({"students": _("Name at least one student.")})
    found = set(
        Student.objects.filter(county_code=county_code, pk__in=ids).values_list("pk", flat=True)
    )
    if missing := [i for i in ids if i not in found]:
        raise ValidationError(
            {
                "students": _("No student of this county has the number %(ids)s.")
                % {"ids": ", ".join(map(str, missing))}
            }
        )
    return ids


@transaction.atomic
def pledge_record(
    *,
    actor: Any,
    donor_id: int,
    amount: Decimal,
    pledged_on: dt.date,
    designation: str = D.GENERAL,
    school_year: int | None = None,
    programme: str = "",
    school_id: int | None = None,
    student_ids: Sequence[int] = (),
    note: str = "",
) -> Pledge:
    """Record what a donor pledges, general or designated to a programme, a school or students.

    A designated pledge's money goes to a programme account of a school year (the county's
    working year unless given).
    """
    _require_pay(actor)
    county = actor.scope.county_code
    donor = get_object_for_user(Donor.objects.all(), actor, pk=donor_id)
    amount = to_yuan(amount)
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be more than zero.")})
    if designation not in D.values:
        raise ValidationError({"designation": _("Choose a designation.")})
    school = None
    students: list[int] = []
    programme = programme.strip()
    if designation == D.PROGRAMME:
        if not _PROGRAMME_CODE.match(programme):
            raise ValidationError(
                {
                    "programme": _(
                        "Name the programme by its code: small letters, digits and _ "
                        "(for example nutrition)."
                    )
                }
            )
    else:
        programme = ""
    if designation == D.SCHOOL:
        if school_id is None:
            raise ValidationError({"school": _("Choose the school.")})
        try:
            school = get_object_for_user(School.objects.all(), actor, pk=school_id)
        except Http404:  # another county's school: a form error here
            raise ValidationError({"school": _("Choose a school of this county.")}) from None
    if designation == D.STUDENTS:
        students = _students_checked(county, student_ids)
    if designation != D.GENERAL and school_year is None:
        school_year = working_year(county)
    pledge = Pledge(
        county_code=county,
        donor=donor,
        amount=amount,
        pledged_on=pledged_on,
        designation=designation,
        school_year=school_year if designation != D.GENERAL else None,
        programme=programme,
        school=school,
        students=students,
        note=note.strip(),
        recorded_by=actor,
    )
    pledge.full_clean()
    pledge.save()
    audit_record(
        actor=actor,
        action="funds.pledge_record",
        target=pledge,
        data={
            "donor": donor.pk,
            "amount": str(amount),
            "designation": designation,
            "programme": donation_programme(pledge),
            "school_year": pledge.school_year,
            "students": len(students),
        },
    )
    return pledge


@transaction.atomic
def receipt_record(
    *,
    actor: Any,
    donor_id: int,
    amount: Decimal,
    pledge_id: int | None = None,
    received_on: dt.date | None = None,
    document: str = "",
) -> Receipt:
    """Record money received from a donor and post it: Dr the pooled account (general) or the
    pledge's programme account, Cr the donation channel; one entry, key
    ``donation-receipt:<id>``.

    Refused when the amount is not positive or exceeds what the pledge has still open (checked
    and counted by one guarded update, so two receipts at once cannot both pass).
    """
    _require_pay(actor)
    county = actor.scope.county_code
    donor = get_object_for_user(Donor.objects.all(), actor, pk=donor_id)
    amount = to_yuan(amount)
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be more than zero.")})
    pledge = None
    if pledge_id is not None:
        pledge = get_object_for_user(Pledge.objects.all(), actor, pk=pledge_id, donor=donor)
        counted = Pledge.objects.filter(pk=pledge.pk, received__lte=F("amount") - amount).update(
            received=F("received") + amount
        )
        if counted != 1:
            pledge.refresh_from_db()
            raise ValidationError(
                {
                    "amount": _(
                        "%(amount)s yuan is more than the pledge has still open: "
                        "%(open)s yuan of %(pledged)s yuan."
                    )
                    % {
                        "amount": amount,
                        "open": pledge.open_amount,
                        "pledged": pledge.amount,
                    }
                },
                code="over_pledge",
            )
        pledge.refresh_from_db()
    on = received_on or timezone.localdate()
    receipt = Receipt(
        county_code=county,
        donor=donor,
        pledge=pledge,
        amount=amount,
        received_on=on,
        document=document.strip(),
        recorded_by=actor,
    )
    receipt.full_clean()
    receipt.save()
    entry = ledger.post(
        county_code=county,
        kind=JournalEntry.Kind.DONATION,
        key=f"donation-receipt:{receipt.pk}",
        legs=[
            ledger.debit(donation_account(pledge, county), amount),
            ledger.credit(ledger.account(county, K.CHANNEL, channel="donation"), amount),
        ],
        posted_on=on,
        source=f"funds.donation_receipt:{receipt.pk}",
        memo=f"{donor.name} {receipt.document}".strip(),
        actor=actor,
    )
    Receipt.objects.filter(pk=receipt.pk).update(entry=entry)
    receipt.entry = entry
    audit_record(
        actor=actor,
        action="funds.donation_receipt",
        target=receipt,
        data={
            "donor": donor.pk,
            "pledge": pledge.pk if pledge else None,
            "amount": str(amount),
            "entry": entry.pk,
        },
    )
    return receipt


__all__ = [
    "DONATION_PREFIX",
    "donation_account",
    "donation_account_preview",
    "donation_programme",
    "donor_create",
    "pledge_record",
    "receipt_record",
]
