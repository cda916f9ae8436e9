"""The class teacher's mobile page (mounted at /m/): my poor students, their aid this
semester and their open cases, and recording a visit, a talk, a phone call or an absence in
a few taps, for any poor student, case or not.

A principal sees their school's poor students the same way; other roles get a short
message pointing to the back office. Reads go through :mod:`jingzhun.duty.selectors` and
:mod:`jingzhun.duty.selectors_ui`, writes through :mod:`jingzhun.duty.services`.

The one exception to the import rules: this page also shows each student's aid, which lives
in the sibling app ``aid``. Duty must not depend on aid, so only this module reads it
(``aid.models.Entitlement`` through the scoping helper, and ``aid.selectors.current_book``
for the programme names); it is downstream of both, and moves to the dashboard app when
that app exists. Nothing else in duty imports aid.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from jingzhun.aid import selectors as aid_selectors
from jingzhun.aid.models import Entitlement
from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.core.listing import SEARCH_MAX, looks_like_id
from jingzhun.core.money import format_yuan
from jingzhun.core.periods import SemesterKind
from jingzhun.core.scoping import scope_of, scope_queryset
from jingzhun.duty import selectors, selectors_ui, services
from jingzhun.duty.forms import CASE_STEP_OF_CONTACT, AbsenceForm, VisitForm
from jingzhun.duty.models import DropoutCase
from jingzhun.duty.views.common import class_label, flag_label
from jingzhun.identification.models import ChildStatus

# --------------------------------------------------------------------------- what the page shows


@dataclass
class AidLine:
    programme: str
    amount: str
    review: str
    review_code: str


@dataclass
class AidPeriod:
    label: str
    lines: list[AidLine] = field(default_factory=list)


@dataclass
class CaseLine:
    case: DropoutCase
    flag: str
    flag_label: str
    due: dt.date


@dataclass
class StudentCard:
    status: ChildStatus
    class_name: str
    aid: AidPeriod | None
    cases: list[CaseLine]

    @property
    def overdue(self) -> bool:
        return any(c.flag == "black" for c in self.cases)


def period_label(school_year: int, semester: str) -> str:
    return _("%(start)s–%(end)s, %(semester)s") % {
        "start": school_year,
        "end": school_year + 1,
        "semester": dict(SemesterKind.choices).get(semester, semester),
    }


def _period_key(e: Entitlement) -> tuple[int, int]:
    return (e.school_year, 0 if e.semester == SemesterKind.AUTUMN else 1)


def aid_by_student(user: Any, student_ids: list[int]) -> dict[int, AidPeriod]:
    """Return each student's aid of their latest semester with aid, as the user may see it."""
    rows = list(
        scope_queryset(Entitlement.objects.filter(student_id__in=student_ids), user).order_by(
            "programme", "pk"
        )
    )
    newest: dict[int, tuple[int, int]] = {}
    for e in rows:
        newest[e.student_id] = max(newest.get(e.student_id, (0, 0)), _period_key(e))
    language = translation.get_language() or settings.LANGUAGE_CODE
    books: dict[int, Any] = {}
    out: dict[int, AidPeriod] = {}
    for e in rows:
        if _period_key(e) != newest[e.student_id]:
            continue
        if e.school_year not in books:
            books[e.school_year] = aid_selectors.current_book(user=user, school_year=e.school_year)[
                1
            ]
        book = books[e.school_year]
        programme = book.programmes.get(e.programme) if book is not None else None
        period = out.setdefault(e.student_id, AidPeriod(period_label(e.school_year, e.semester)))
        period.lines.append(
            AidLine(
                programme=programme.label(language) if programme is not None else e.programme,
                amount=_("%(amount)s yuan") % {"amount": format_yuan(Decimal(e.amount))},
                review=e.get_review_display(),
                review_code=e.review,
            )
        )
    return out


def cards(user: Any, statuses: list[ChildStatus]) -> list[StudentCard]:
    """Return one card per student: aid, open cases with what is due; overdue students first."""
    today = timezone.localdate()
    ids = [s.student_id for s in statuses if s.student_id is not None]
    aid = aid_by_student(user, ids)
    cases = selectors_ui.unclosed_cases_by_person(
        user=user, person_ids=[s.person_id for s in statuses]
    )
    out = []
    for s in statuses:
        enrolment = s.enrolment
        lines = []
        for case in cases.get(s.person_id, []):
            flag = selectors.flag_of(case, today)
            lines.append(CaseLine(case, flag, flag_label(flag), services.due_on(case)))
        out.append(
            StudentCard(
                status=s,
                class_name=class_label(enrolment.school_class if enrolment else None),
                aid=aid.get(s.student_id or 0),
                cases=lines,
            )
        )
    by_case: dict[bool, list[StudentCard]] = defaultdict(list)
    for card in out:
        by_case[card.overdue].append(card)
    # Overdue first, then those with an open case, then the rest (each by name, as given).
    return by_case[True] + sorted(by_case[False], key=lambda c: not c.cases)


@dataclass
class ClassGroup:
    name: str
    cards: list[StudentCard]

    @property
    def overdue(self) -> int:
        return sum(1 for c in self.cards if c.overdue)


# A list this long is grouped by class (a principal's list always is).
GROUP_FROM = 15


def _class_key(card: StudentCard) -> tuple[Any, ...]:
    enrolment = card.status.enrolment
    cls = enrolment.school_class if enrolment else None
    if cls is None:
        return (1, "", 0, "")
    return (0, cls.stage, cls.grade, cls.name)


def by_class(student_cards: list[StudentCard]) -> list[ClassGroup]:
    """Return the cards grouped by class (in grade order), each group in the cards' order."""
    groups: dict[tuple[Any, ...], ClassGroup] = {}
    for card in sorted(student_cards, key=_class_key):
        key = _class_key(card)
        if key not in groups:
            groups[key] = ClassGroup(card.class_name if key[0] == 0 else _("No class"), [])
    for card in student_cards:
        groups[_class_key(card)].cards.append(card)
    return list(groups.values())


# --------------------------------------------------------------------------- views


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET"])
def home(request: HttpRequest) -> HttpResponse:
    """List my poor students with their aid and open cases (a principal: the school's)."""
    user: Any = request.user
    scope = scope_of(user)
    if scope.is_empty or not user.can(P.VIEW):
        return _render(request, "duty/mobile_message.html", {"reason": "none"})
    if scope.level not in ("class", "school"):
        return _render(request, "duty/mobile_message.html", {"reason": "office"})
    everyone = selectors_ui.mobile_students(user=user)
    q = " ".join(request.GET.get("q", "").split())[:SEARCH_MAX]
    if looks_like_id(q):
        messages.warning(request, _("An ID number is not searched here; search a name."))
        q = ""
    statuses = selectors_ui.search_students(everyone, q)
    student_cards = cards(user, statuses)
    grouped = scope.level == "school" or len(everyone) >= GROUP_FROM
    return _render(
        request,
        "duty/mobile_home.html",
        {
            "cards": student_cards,
            "groups": by_class(student_cards) if grouped else [],
            "searchable": grouped,
            "q": q,
            "everyone": len(everyone),
            "open_cases": sum(len(c.cases) for c in student_cards),
            "overdue": sum(1 for c in student_cards for line in c.cases if line.flag == "black"),
        },
    )


def _forbidden(request: HttpRequest, capability: str) -> HttpResponse:
    audit_record(
        actor=request.user,
        action="access.denied",
        request=request,
        data={"path": request.path, "capability": capability},
    )
    return _render(request, "duty/mobile_message.html", {"reason": "forbidden"}, status=403)


@login_required
@require_http_methods(["GET", "POST"])
def student(request: HttpRequest, student_id: int) -> HttpResponse:
    """Show one student; record a visit on their open case, or report an absence."""
    user: Any = request.user
    status = selectors_ui.get_mobile_student(user=user, student_id=student_id)
    card = cards(user, [status])[0]
    open_case = next(
        (c.case for c in card.cases if c.case.status == DropoutCase.Status.OPEN), None
    ) or next((c.case for c in card.cases), None)
    visit_form = VisitForm()
    absence_form = AbsenceForm()
    if request.method == "POST":
        if not selectors.may_casework(user):
            return _forbidden(request, P.CASEWORK)
        action = request.POST.get("action", "")
        try:
            if action == "visit":
                visit_form = VisitForm(request.POST, request.FILES)
                if visit_form.is_valid():
                    data = visit_form.cleaned_data
                    if open_case is not None:
                        # On an open case the visit is a step of the case (it keeps it in time).
                        services.case_step_record(
                            actor=user,
                            case_id=open_case.pk,
                            kind=CASE_STEP_OF_CONTACT[data["kind"]],
                            text=data["text"],
                            happened_on=data["happened_on"],
                            evidence=data["photo"] or None,
                        )
                    else:
                        services.contact_record(
                            actor=user,
                            student_id=student_id,
                            kind=data["kind"],
                            on=data["happened_on"],
                            note=data["text"],
                        )
                    messages.success(request, _("Recorded. Thank you."))
                    return redirect("mobile:student", student_id=student_id)
            elif action == "absence":
                absence_form = AbsenceForm(request.POST)
                if absence_form.is_valid():
                    case = services.case_report_absence(
                        actor=user,
                        student_id=student_id,
                        days=absence_form.cleaned_data["days"],
                        note=absence_form.cleaned_data["note"],
                    )
                    messages.success(
                        request,
                        _("The absence is recorded on the case opened %(date)s.")
                        % {"date": case.opened_on.isoformat()},
                    )
                    return redirect("mobile:student", student_id=student_id)
            else:
                messages.error(request, _("Choose what to record."))
        except PermissionDenied:
            return _forbidden(request, P.CASEWORK)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
    return _render(
        request,
        "duty/mobile_student.html",
        {
            "card": card,
            "open_case": open_case,
            "history": selectors_ui.student_history(user=user, status=status),
            "may_record": selectors.may_casework(user),
            "visit_form": visit_form,
            "absence_form": absence_form,
            "threshold": settings.DUTY_ABSENCE_DAYS,
            "today": timezone.localdate(),
        },
    )
