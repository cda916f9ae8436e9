"""Student aid pages: rule book, entitlements, review and notice, payment, coverage.

Every page renders inside the back office's layout; every read goes through
:mod:`jingzhun.aid.selectors` or :mod:`jingzhun.aid.selectors_ui` (scoped to the acting
user), every write through :mod:`jingzhun.aid.services`, :mod:`jingzhun.funds.services` or
the ``compute`` task that calls them. A service's refusal (PermissionDenied) is a 403 page,
a ValidationError a message on the page with nothing changed, and a record outside the
user's jurisdiction a 404, like a missing one.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from django_tasks import TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist, TaskResultMismatch

from jingzhun.aid import documents, selectors, selectors_ui, services, wording
from jingzhun.aid.models import AidNotice, Entitlement, Loan, NoticeObjection
from jingzhun.aid.rulebook import RuleBook, RuleBookError
from jingzhun.aid.tasks import compute as compute_task
from jingzhun.aid.tasks import progress_job
from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.core.money import format_yuan
from jingzhun.core.periods import Semester, SemesterKind
from jingzhun.core.progress import read_progress
from jingzhun.funds import services as funds
from jingzhun.funds.models import PaymentBatch

PAGE_SIZE = 50
# The largest bank return file accepted (bytes); a county's batch is a few thousand rows.
MAX_RETURN_FILE = 20 * 1024 * 1024

View = Callable[..., HttpResponseBase]


# --------------------------------------------------------------------------- helpers


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def _nav(user: Any) -> list[tuple[str, str, str]]:
    nav = [
        ("overview", _("Overview"), reverse("aid:overview")),
        ("rulebook", _("Rule book"), reverse("aid:rulebook")),
        ("entitlements", _("Entitlements"), reverse("aid:entitlements")),
        ("review", _("Review"), reverse("aid:review")),
        ("notices", _("Notices"), reverse("aid:notices")),
        ("adjustments", _("Adjustments"), reverse("aid:adjustments")),
        ("coverage", _("Aid coverage"), reverse("aid:coverage")),
        ("loans", _("Loans"), reverse("aid:loans")),
    ]
    if user.scope.level == "county":
        nav += [
            ("batches", _("Payment batches"), reverse("aid:batches")),
            ("allocations", _("Allocations"), reverse("aid:allocations")),
        ]
    return nav


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render a page inside the back office's layout (sidebar, language switcher)."""
    return render(
        request,
        template,
        {**admin.site.each_context(request), "jz_nav": _nav(request.user), **context},
        status=status,
    )


def _forbidden(request: HttpRequest, capability: str) -> HttpResponse:
    """Log a refused request and answer with the 403 page."""
    audit_record(
        actor=request.user,
        action="access.denied",
        request=request,
        data={"path": request.path, "capability": capability},
    )
    return _page(
        request,
        "aid/forbidden.html",
        {"title": _("Not allowed"), "active": ""},
        status=403,
    )


def aid_view(*methods: str) -> Callable[[View], View]:
    """Require a login, the given HTTP methods and the VIEW capability (else the 403 page)."""

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.can(P.VIEW):  # type: ignore[union-attr]
                return _forbidden(request, P.VIEW)
            return view(request, *args, **kwargs)

        return login_required(require_http_methods(list(methods))(inner))

    return wrap


def _paginate(request: HttpRequest, items: Any, param: str = "page") -> Page[Any]:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get(param))


def _errors(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@dataclass(frozen=True)
class Period:
    """The school year and semester a page shows (query parameters ``year`` and ``semester``)."""

    school_year: int
    semester: str

    @property
    def label(self) -> str:
        return wording.period_label(self.school_year, self.semester)

    @property
    def year_label(self) -> str:
        return f"{self.school_year}–{self.school_year + 1}"

    @property
    def query(self) -> str:
        return urlencode({"year": str(self.school_year), "semester": self.semester})


def _period(data: QueryDict) -> Period:
    """Return the period asked for, else the school year and semester of today."""
    today = Semester.of(timezone.localdate())
    year = data.get("year", "")
    semester = data.get("semester", "")
    return Period(
        int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else today.school_year.start,
        semester if semester in SemesterKind.values else today.kind,
    )


def _period_context(period: Period) -> dict[str, Any]:
    return {
        "period": period,
        "semesters": SemesterKind.choices,
    }


def _back(name: str, period: Period | None = None, **kwargs: Any) -> HttpResponse:
    url = reverse(name, kwargs=kwargs or None)
    return redirect(f"{url}?{period.query}" if period is not None else url)


def _int(value: Any) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() else None


# --------------------------------------------------------------------------- overview


class PeriodForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("School year"), min_value=2000, max_value=2100)
    semester = forms.ChoiceField(label=gettext_lazy("Semester"), choices=SemesterKind.choices)


def _task_param(request: HttpRequest) -> str:
    task = request.GET.get("task", "")
    return task if len(task) <= 64 and task.replace("-", "").isalnum() else ""


def _task_state(task_id: str) -> str:
    """Return "running", "failed" or "finished" for a queued computation.

    A result the backend cannot find (or cannot look up at all) ends waiting.
    """
    try:
        result = compute_task.get_result(task_id)
    except (NotImplementedError, TaskResultDoesNotExist, TaskResultMismatch, ValidationError):
        return "finished"
    if result.status == TaskResultStatus.FAILED:
        return "failed"
    return "finished" if result.is_finished else "running"


def _book_available(user: Any, school_year: int) -> bool:
    """Return whether a computation finds a rule book (this year's, or last year's to copy)."""
    return any(
        selectors.current_book(user=user, school_year=year)[1] is not None
        for year in (school_year, school_year - 1)
    )


@aid_view("GET", "POST")
def overview(request: HttpRequest) -> HttpResponse:
    """Show the review counts and last computations; the aid centre starts a computation."""
    user: Any = request.user
    period = _period(request.GET)
    form = PeriodForm(initial={"year": period.school_year, "semester": period.semester})
    if request.method == "POST":
        if not selectors.may_manage(user):
            return _forbidden(request, P.AID_MANAGE)
        form = PeriodForm(request.POST)
        if form.is_valid():
            period = Period(form.cleaned_data["year"], form.cleaned_data["semester"])
            if not _book_available(user, period.school_year):
                messages.error(
                    request,
                    _("There is no rule book for %(year)s or the year before; install one first.")
                    % {"year": period.school_year},
                )
                return _back("aid:overview", period)
            result = compute_task.enqueue(
                user.scope.county_code, period.school_year, period.semester, user.pk
            )
            if result.status == TaskResultStatus.FAILED:
                messages.error(request, _("The computation failed; nothing was changed."))
                return _back("aid:overview", period)
            messages.info(request, _("The computation started. This page shows its progress."))
            return redirect(
                f"{reverse('aid:overview')}?{period.query}&{urlencode({'task': result.id})}"
            )
    counts = selectors.review_counts(
        user=user, school_year=period.school_year, semester=period.semester
    )
    task = _task_param(request) if selectors.may_manage(user) else ""
    return _page(
        request,
        "aid/overview.html",
        {
            "title": _("Student aid"),
            "active": "overview",
            **_period_context(period),
            "counts": [
                (value, label, counts[value]) for value, label in Entitlement.Review.choices
            ],
            "total": sum(counts.values()),
            "computations": selectors.computation_list(user=user)[:5],
            "may_manage": selectors.may_manage(user),
            "form": form,
            "task": task,
            "progress": read_progress(progress_job(user.scope.county_code)) if task else {},
        },
    )


@aid_view("GET", "HEAD")
def compute_progress(request: HttpRequest) -> JsonResponse:
    """Return whether the computation a user started has finished, and its progress (polled)."""
    user: Any = request.user
    task = _task_param(request) if selectors.may_manage(user) else ""
    if not task:
        return JsonResponse({"task": False})
    state = _task_state(task)
    return JsonResponse(
        {
            "task": True,
            "state": state,
            **(read_progress(progress_job(user.scope.county_code)) if state == "running" else {}),
        }
    )


# --------------------------------------------------------------------------- rule book


def _rule_rows(book: RuleBook, language: str) -> list[dict[str, Any]]:
    labels = selectors_ui.book_labels(book, language)
    return [
        {
            "rule": rule,
            "programme": labels.get(rule.programme, rule.programme),
            "kind": wording.kind_label(rule.kind),
            "who": wording.conditions_in_words(rule.when),
            "amount": wording.rule_amount(rule),
        }
        for rule in book.rules
    ]


@aid_view("GET", "POST")
def rulebook(request: HttpRequest) -> HttpResponse:
    """Show the year's rule book as a table, with its versions; the aid centre installs one."""
    user: Any = request.user
    period = _period(request.GET)
    if request.method == "POST":
        if not selectors.may_manage(user):
            return _forbidden(request, P.AID_MANAGE)
        try:
            installed = services.rulebook_install(
                actor=user, county_code=user.scope.county_code, school_year=period.school_year
            )
        except PermissionDenied:
            return _forbidden(request, P.AID_MANAGE)
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(
                request,
                _("Rule book %(year)s v%(version)s is in force.")
                % {"year": installed.school_year, "version": installed.version},
            )
        return _back("aid:rulebook", period)
    version, book = selectors.current_book(user=user, school_year=period.school_year)
    language = _language()
    labels = selectors_ui.book_labels(book, language)
    return _page(
        request,
        "aid/rulebook.html",
        {
            "title": _("Rule book"),
            "active": "rulebook",
            **_period_context(period),
            "version": version,
            "book": book,
            "rules": _rule_rows(book, language) if book is not None else [],
            "programmes": [
                {
                    "code": p.code,
                    "label": p.label(language),
                    "clause": p.clause,
                    "kind": wording.kind_label(p.kind),
                }
                for p in (book.programmes.values() if book is not None else [])
            ],
            "stacking": [
                [labels[code] for code in labels if code in group]  # in the book's order
                for group in (book.stacking if book is not None else [])
            ],
            "versions": selectors.rulebook_versions(
                user=user, school_year=period.school_year
            ).select_related("created_by"),
            "may_manage": selectors.may_manage(user),
        },
    )


class RuleBookForm(forms.Form):
    source = forms.CharField(
        label=gettext_lazy("Rule book (YAML)"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 30, "cols": 100, "spellcheck": "false"}),
    )
    reason = forms.CharField(label=gettext_lazy("Why it changes"), max_length=300)


@aid_view("GET", "POST")
def rulebook_edit(request: HttpRequest) -> HttpResponse:
    """Edit the year's rule book; saving checks it and makes a new version with who and why."""
    user: Any = request.user
    period = _period(request.GET)
    if not selectors.may_manage(user):
        return _forbidden(request, P.AID_MANAGE)
    version, book = selectors.current_book(user=user, school_year=period.school_year)
    source = version.source if version is not None else (book.source if book is not None else "")
    form = RuleBookForm(initial={"source": source})
    problems: list[tuple[str, int, str]] = []
    if request.method == "POST":
        form = RuleBookForm(request.POST)
        if form.is_valid():
            text = form.cleaned_data["source"].replace("\r\n", "\n")
            try:
                saved = services.rulebook_save(
                    actor=user,
                    school_year=period.school_year,
                    source=text,
                    reason=form.cleaned_data["reason"],
                )
            except PermissionDenied:
                return _forbidden(request, P.AID_MANAGE)
            except RuleBookError as exc:
                problems = list(exc.errors)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    _("Saved as rule book %(year)s v%(version)s.")
                    % {"year": saved.school_year, "version": saved.version},
                )
                return _back("aid:rulebook", period)
    return _page(
        request,
        "aid/rulebook_edit.html",
        {
            "title": _("Edit the rule book"),
            "active": "rulebook",
            **_period_context(period),
            "version": version,
            "form": form,
            "problems": problems,
        },
    )


# --------------------------------------------------------------------------- entitlements


def _row(e: Entitlement, labels: dict[str, str]) -> dict[str, Any]:
    cls = e.school_class
    return {
        "e": e,
        "programme": labels.get(e.programme, e.programme),
        "class": wording.class_label(cls.stage, cls.grade, cls.name) if cls else "—",
        "amount": format_yuan(e.amount),
        "kind": wording.kind_label(e.kind),
    }


@aid_view("GET", "HEAD")
def entitlements(request: HttpRequest) -> HttpResponse:
    """List the semester's entitlements, filtered by school, programme and review state."""
    user: Any = request.user
    period = _period(request.GET)
    school_id = _int(request.GET.get("school"))
    programme = request.GET.get("programme", "")[:40]
    review = request.GET.get("review", "")
    review = review if review in Entitlement.Review.values else ""
    rows = selectors.entitlement_list(
        user=user,
        school_year=period.school_year,
        semester=period.semester,
        school_id=school_id,
        programme=programme,
        review=review,
    )
    page = _paginate(request, rows)
    language = _language()
    _version, book = selectors.current_book(user=user, school_year=period.school_year)
    labels = selectors_ui.book_labels(book, language)
    labels |= selectors_ui.programme_labels((e.rule_book for e in page.object_list), language)
    query = request.GET.copy()
    query.pop("page", None)
    return _page(
        request,
        "aid/entitlements.html",
        {
            "title": _("Entitlements"),
            "active": "entitlements",
            **_period_context(period),
            "page": page,
            "rows": [_row(e, labels) for e in page.object_list],
            "schools": selectors.school_choices(user=user),
            "programmes": sorted(labels.items(), key=lambda kv: kv[1]),
            "reviews": Entitlement.Review.choices,
            "filters": {"school": school_id, "programme": programme, "review": review},
            "filter_query": query.urlencode(),
        },
    )


@aid_view("GET", "HEAD")
def student(request: HttpRequest, student_id: int) -> HttpResponse:
    """Show every entitlement of one student in words, with the inputs it was computed from."""
    user: Any = request.user
    pupil = selectors_ui.get_student(user=user, student_id=student_id)
    lines = selectors.student_entitlements(user=user, student_id=pupil.pk)
    language = _language()
    labels = selectors_ui.programme_labels((e.rule_book for e in lines), language)
    periods: dict[tuple[int, str], dict[str, Any]] = {}
    for e in lines:
        entry = periods.setdefault(
            (e.school_year, e.semester),
            {
                "label": wording.period_label(e.school_year, e.semester),
                "school": e.school.name,
                "inputs": wording.inputs_in_words(e.inputs),
                "lines": [],
            },
        )
        entry["lines"].append(
            {
                "e": e,
                "sentence": wording.entitlement_sentence(
                    amount=e.amount,
                    kind=e.kind,
                    programme=labels.get(e.programme, e.programme),
                    stage=e.stage,
                    clause=e.clause,
                    school_year=e.rule_book.school_year,
                    version=e.rule_book.version,
                ),
            }
        )
    # Class teachers see no notices (AidNotice.scope_q): link only the notices the user sees.
    notices = set(
        selectors.notice_list(user=user)
        .filter(pk__in={e.notice_id for e in lines if e.notice_id})
        .values_list("pk", flat=True)
    )
    return _page(
        request,
        "aid/student.html",
        {
            "title": _("Aid of %(name)s") % {"name": pupil.name},
            "active": "entitlements",
            "student": pupil,
            "notices": notices,
            "periods": list(periods.values())[::-1],  # newest period first
        },
    )


# --------------------------------------------------------------------------- review


def _review_post(request: HttpRequest, period: Period) -> HttpResponse:
    """Carry out one review action (class check, school review, post a notice)."""
    user: Any = request.user
    action = request.POST.get("action", "")
    may_class, may_school = selectors.may_class_check(user), selectors.may_school_review(user)
    if not (may_class or may_school):
        return _forbidden(request, P.AID_CLASS_REVIEW)
    try:
        if action == "class_check":
            own = selectors_ui.own_class(user=user)
            class_id = _int(request.POST.get("class_id")) or (own.pk if own else None)
            if class_id is None:
                raise ValidationError(_("Choose the class you checked."))
            n = services.entitlement_class_check(
                actor=user,
                school_class_id=class_id,
                school_year=period.school_year,
                semester=period.semester,
            )
            messages.success(request, _("Checked: %(n)d entitlements.") % {"n": n})
        elif action == "school_review":
            school = selectors_ui.own_school(user=user)
            if school is None:
                return _forbidden(request, P.AID_SCHOOL_REVIEW)
            exclude = {
                int(sid): request.POST.get(f"reason_{sid}", "")
                for sid in request.POST.getlist("exclude")
                if sid.isdigit()
            }
            counts = services.entitlement_school_review(
                actor=user,
                school_id=school.pk,
                school_year=period.school_year,
                semester=period.semester,
                exclude=exclude,
            )
            messages.success(
                request,
                _(
                    "Confirmed %(confirmed)d and excluded %(excluded)d entitlements; "
                    "%(awaiting)d still await the class check."
                )
                % {
                    "confirmed": counts["confirmed"],
                    "excluded": counts["excluded"],
                    "awaiting": counts["awaiting_class"],
                },
            )
        elif action == "notice_post":
            school = selectors_ui.own_school(user=user)
            if school is None:
                return _forbidden(request, P.AID_SCHOOL_REVIEW)
            form = NoticePostForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Give the day the notice starts."))
            notice = services.notice_post(
                actor=user,
                school_id=school.pk,
                school_year=period.school_year,
                semester=period.semester,
                starts_on=form.cleaned_data["starts_on"],
            )
            messages.success(
                request,
                _("The notice is posted until %(date)s.") % {"date": notice.ends_on.isoformat()},
            )
            return redirect("aid:notice", notice_id=notice.pk)
        else:
            raise ValidationError(_("Choose what to do."))
    except PermissionDenied:
        return _forbidden(request, action or P.AID_CLASS_REVIEW)
    except ValidationError as exc:
        _errors(request, exc)
    return _back("aid:review", period)


def _student_rows(
    students: list[selectors_ui.StudentLines], labels: dict[str, str]
) -> list[dict[str, Any]]:
    """Return students with their lines (programme label, amount) as the review page lists them."""
    return [
        {
            "student": s.student,
            "class": wording.class_label(
                s.school_class.stage, s.school_class.grade, s.school_class.name
            )
            if s.school_class
            else "—",
            "lines": [
                {
                    "e": e,
                    "programme": labels.get(e.programme, e.programme),
                    "amount": format_yuan(e.amount),
                }
                for e in s.lines
            ],
        }
        for s in students
    ]


class NoticePostForm(forms.Form):
    starts_on = forms.DateField(
        label=gettext_lazy("Notice starts on"), widget=forms.DateInput(attrs={"type": "date"})
    )


@aid_view("GET", "POST")
def review(request: HttpRequest) -> HttpResponse:
    """Class teachers check their class, principals confirm and post; others follow progress."""
    user: Any = request.user
    if request.method == "POST":
        return _review_post(request, _period(request.POST))
    period = _period(request.GET)
    rows = selectors_ui.period_rows(
        user=user, school_year=period.school_year, semester=period.semester
    )
    language = _language()
    _version, book = selectors.current_book(user=user, school_year=period.school_year)
    labels = selectors_ui.book_labels(book, language)
    own_class = selectors_ui.own_class(user=user)
    own_school = selectors_ui.own_school(user=user)
    context: dict[str, Any] = {
        "title": _("Review"),
        "active": "review",
        **_period_context(period),
        "reviews": dict(Entitlement.Review.choices),
        "review_choices": Entitlement.Review.choices,
        "labels": labels,
        "own_class": own_class,
        "own_school": own_school,
    }
    if own_class is not None:
        class_rows = list(rows.filter(school_class=own_class))
        labels |= selectors_ui.programme_labels((e.rule_book for e in class_rows), language)
        context.update(
            class_name=wording.class_label(own_class.stage, own_class.grade, own_class.name),
            students=_student_rows(selectors_ui.by_student(class_rows), labels),
            pending=sum(1 for e in class_rows if e.review == Entitlement.Review.PENDING),
            may_class_check=selectors.may_class_check(user),
        )
    elif own_school is not None:
        school_rows = list(rows.filter(school=own_school))
        labels |= selectors_ui.programme_labels((e.rule_book for e in school_rows), language)
        classes = selectors_ui.class_counts(
            user=user, school=own_school, school_year=period.school_year, semester=period.semester
        )
        for c in classes:
            c["label"] = wording.class_label(c["stage"], c["grade"], c["name"])
            c["pending"] = c["counts"].get(Entitlement.Review.PENDING, 0)
        checked = [
            s
            for s in selectors_ui.by_student(school_rows)
            if Entitlement.Review.CLASS_CHECKED in s.reviews
        ]
        context.update(
            classes=classes,
            checked=_student_rows(checked, labels),
            confirmed=sum(1 for e in school_rows if e.review == Entitlement.Review.CONFIRMED),
            may_class_check=selectors.may_class_check(user),
            may_school_review=selectors.may_school_review(user),
            notice_form=NoticePostForm(initial={"starts_on": timezone.localdate()}),
            school_notices=selectors.notice_list(user=user).filter(
                school=own_school, school_year=period.school_year, semester=period.semester
            ),
        )
    else:
        context["schools"] = [
            {"school": s, "cells": [s.counts.get(value, 0) for value in Entitlement.Review.values]}
            for s in selectors_ui.review_by_school(
                user=user, school_year=period.school_year, semester=period.semester
            )
        ]
        context["states"] = Entitlement.Review.choices
    return _page(request, "aid/review.html", context)


# --------------------------------------------------------------------------- notices


@aid_view("GET", "HEAD")
def notices(request: HttpRequest) -> HttpResponse:
    """List the public notices the user may see, newest school year first."""
    user: Any = request.user
    return _page(
        request,
        "aid/notices.html",
        {
            "title": _("Public notices"),
            "active": "notices",
            "notices": _paginate(
                request,
                selectors.notice_list(user=user).order_by("-school_year", "-starts_on", "-id"),
            ),
        },
    )


class ObjectionForm(forms.Form):
    student = forms.TypedChoiceField(
        label=gettext_lazy("Student (optional)"), coerce=int, required=False, empty_value=None
    )
    text = forms.CharField(
        label=gettext_lazy("Objection"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )

    def __init__(self, *args: Any, students: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["student"].choices = [("", "—"), *students]  # type: ignore[attr-defined]


class ResolveForm(forms.Form):
    objection = forms.IntegerField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"),
        choices=[
            ("dismissed", gettext_lazy("Dismiss: the student stays on the list")),
            ("upheld", gettext_lazy("Uphold: exclude the student")),
        ],
    )
    note = forms.CharField(label=gettext_lazy("How it was resolved"), max_length=300)


def _notice_post(request: HttpRequest, notice: AidNotice, students: list[tuple[int, str]]) -> Any:
    """Carry out one action on a notice; return a response, or the bound form with errors."""
    user: Any = request.user
    action = request.POST.get("action", "")
    may_object = selectors.may_school_review(user) or selectors.may_manage(user)
    if action == "object" and may_object:
        form = ObjectionForm(request.POST, students=students)
        if not form.is_valid():
            return form
        call: Callable[[], Any] = functools.partial(
            services.objection_record,
            actor=user,
            notice_id=notice.pk,
            text=form.cleaned_data["text"],
            student_id=form.cleaned_data["student"],
        )
        done = _("The objection is recorded.")
    elif action == "resolve" and selectors.may_manage(user):
        resolve = ResolveForm(request.POST)
        if not resolve.is_valid():
            return resolve
        objection = selectors_ui.get_objection(
            user=user, notice=notice, objection_id=resolve.cleaned_data["objection"]
        )
        call = functools.partial(
            services.objection_resolve,
            actor=user,
            objection_id=objection.pk,
            upheld=resolve.cleaned_data["outcome"] == "upheld",
            note=resolve.cleaned_data["note"],
        )
        done = _("The objection is resolved.")
    elif action == "approve" and selectors.may_manage(user):
        call = functools.partial(services.notice_approve, actor=user, notice_id=notice.pk)
        done = _("The notice is approved.")
    else:
        return _forbidden(request, P.AID_MANAGE if action != "object" else P.AID_SCHOOL_REVIEW)
    try:
        call()
    except PermissionDenied:
        return _forbidden(request, action)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, done)
    return redirect("aid:notice", notice_id=notice.pk)


@aid_view("GET", "POST")
def notice_detail(request: HttpRequest, notice_id: int) -> HttpResponse:
    """Show a notice: its list, objections; record and resolve objections, approve it."""
    user: Any = request.user
    notice = selectors.get_notice(user=user, notice_id=notice_id)
    rows = list(selectors_ui.notice_entitlements(user=user, notice=notice))
    students = sorted({(e.student_id, e.student.name) for e in rows}, key=lambda s: s[1])
    objection_form = ObjectionForm(students=students)
    status = 200
    if request.method == "POST":
        outcome = _notice_post(request, notice, students)
        if isinstance(outcome, HttpResponseBase):
            return outcome  # type: ignore[return-value]
        if isinstance(outcome, ObjectionForm):
            objection_form = outcome
        else:
            messages.error(request, _("Choose an outcome and say how the objection was resolved."))
        status = 400
    language = _language()
    labels = selectors_ui.programme_labels((e.rule_book for e in rows), language)
    posted = notice.status == AidNotice.Status.POSTED
    objections = list(
        selectors.objection_list(user=user, notice=notice).select_related(
            "recorded_by", "resolved_by"
        )
    )
    return _page(
        request,
        "aid/notice_detail.html",
        {
            "title": _("Public notice of %(school)s") % {"school": notice.school.name},
            "active": "notices",
            "notice": notice,
            "period_label": wording.period_label(notice.school_year, notice.semester),
            "rows": [_row(e, labels) for e in rows],
            "objections": objections,
            "open_objections": any(
                o.resolution == NoticeObjection.Resolution.OPEN for o in objections
            ),
            "objection_form": objection_form,
            "may_object": posted
            and (selectors.may_school_review(user) or selectors.may_manage(user)),
            "may_resolve": selectors.may_manage(user),
            "may_approve": posted and selectors.may_manage(user),
            "outcomes": ResolveForm.base_fields["outcome"].choices,  # type: ignore[attr-defined]
            "today": timezone.localdate(),
        },
        status=status,
    )


@aid_view("GET", "HEAD")
def notice_download(request: HttpRequest, notice_id: int, fmt: str) -> HttpResponse:
    """Download the notice sheet (PDF or Excel): names, classes, programmes and amounts only."""
    user: Any = request.user
    notice = selectors.get_notice(user=user, notice_id=notice_id)
    rows = list(selectors_ui.notice_sheet_entitlements(user=user, notice=notice))
    labels = selectors_ui.programme_labels((e.rule_book for e in rows), "zh-hans")
    sheet = documents.NoticeSheet(
        school_name=notice.school.name,
        township_name=notice.school.township.name if notice.school.township else "",
        school_year=notice.school_year,
        semester=notice.semester,  # type: ignore[arg-type]
        period_start=notice.starts_on,
        period_end=notice.ends_on,
        objection_phone=settings.AID_OBJECTION_PHONE,
        rows=[
            documents.NoticeRow(
                student_name=e.student.name,
                class_name=wording.class_name_zh(
                    e.school_class.stage if e.school_class else None,
                    e.school_class.grade if e.school_class else None,
                    e.school_class.name if e.school_class else None,
                ),
                programme=labels.get(e.programme, e.programme),
                amount=e.amount,
                kind="waiver" if e.kind == "waiver" else "cash",
            )
            for e in rows
        ],
    )
    if fmt == "pdf":
        content, mime = documents.notice_sheet_pdf(sheet), "application/pdf"
    else:
        content = documents.notice_sheet_xlsx(sheet)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(content, content_type=mime)
    name = f"notice-{notice.school.code}-{notice.school_year}-{notice.semester}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --------------------------------------------------------------------------- payment


class BatchForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("School year"), min_value=2000, max_value=2100)
    semester = forms.ChoiceField(label=gettext_lazy("Semester"), choices=SemesterKind.choices)
    key = forms.CharField(widget=forms.HiddenInput, max_length=80)


@aid_view("GET", "POST")
def batches(request: HttpRequest) -> HttpResponse:
    """List the payment batches; the aid centre makes a semester's batch."""
    user: Any = request.user
    period = _period(request.GET)
    form = BatchForm(
        initial={"year": period.school_year, "semester": period.semester, "key": uuid.uuid4().hex}
    )
    if request.method == "POST":
        if not selectors.may_pay(user):
            return _forbidden(request, P.PAY)
        form = BatchForm(request.POST)
        if form.is_valid():
            try:
                batch = services.aid_batch_create(
                    actor=user,
                    school_year=form.cleaned_data["year"],
                    semester=form.cleaned_data["semester"],
                    idempotency_key=form.cleaned_data["key"],
                )
            except PermissionDenied:
                return _forbidden(request, P.PAY)
            except ValidationError as exc:
                _errors(request, exc)
                return redirect("aid:batches")
            messages.success(request, _("Batch %(ref)s is ready.") % {"ref": batch.reference})
            return redirect("aid:batch", payment_batch_id=batch.pk)
    return _page(
        request,
        "aid/batches.html",
        {
            "title": _("Payment batches"),
            "active": "batches",
            "batches": _paginate(request, selectors.batch_list(user=user)),
            "may_pay": selectors.may_pay(user),
            "form": form,
        },
    )


class ReturnForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Bank return file (.xlsx or .csv)"))


def _batch_post(request: HttpRequest, batch: PaymentBatch) -> Any:
    """Approve a batch or apply a bank return file; return a response or the form with errors."""
    user: Any = request.user
    if not selectors.may_pay(user):
        return _forbidden(request, P.PAY)
    action = request.POST.get("action", "")
    try:
        if action == "approve":
            funds.payment_batch_approve(actor=user, batch_id=batch.pk)
            messages.success(request, _("The batch is approved."))
        elif action == "return":
            form = ReturnForm(request.POST, request.FILES)
            if not form.is_valid():
                return form
            upload = form.cleaned_data["file"]
            if upload.size > MAX_RETURN_FILE:
                raise ValidationError(_("The file is too large."))
            record = funds.bank_return_apply(
                actor=user, batch_id=batch.pk, data=upload.read(), file_name=upload.name
            )
            counts = record.counts
            messages.success(
                request,
                _(
                    "Read %(rows)d rows: %(paid)d paid, %(failed)d failed, %(mismatches)d not matched."
                )
                % {
                    "rows": counts.get("rows", 0),
                    "paid": counts.get("paid", 0),
                    "failed": counts.get("failed", 0),
                    "mismatches": counts.get("mismatches", 0),
                },
            )
        else:
            raise ValidationError(_("Choose what to do."))
    except PermissionDenied:
        return _forbidden(request, P.PAY)
    except ValidationError as exc:
        _errors(request, exc)
    return redirect("aid:batch", payment_batch_id=batch.pk)


def _control_rows(rows: dict[str, dict[str, Any]], names: dict[Any, str]) -> list[dict[str, Any]]:
    return [
        {
            "key": key,
            "name": names.get(int(key) if key.isdigit() and len(key) < 9 else key, key or "—"),
            "count": value.get("count", 0),
            "amount": format_yuan(Decimal(value.get("amount", "0"))),
        }
        for key, value in rows.items()
    ]


@aid_view("GET", "POST")
def batch_detail(request: HttpRequest, payment_batch_id: int) -> HttpResponse:
    """Show a batch: control totals, what is not paid and why, payments, bank files, returns."""
    user: Any = request.user
    batch = selectors.get_batch(user=user, batch_id=payment_batch_id)
    return_form = ReturnForm()
    status = 200
    if request.method == "POST":
        outcome = _batch_post(request, batch)
        if isinstance(outcome, HttpResponseBase):
            return outcome  # type: ignore[return-value]
        return_form, status = outcome, 400
    _version, book = selectors.current_book(user=user, school_year=batch.school_year)
    labels = selectors_ui.book_labels(book, _language())
    control = batch.control or {}
    schools = selectors_ui.school_names(
        user=user,
        school_ids=[*control.get("by_school", {}), *(g.get("school") for g in batch.gaps)],
    )
    townships = selectors_ui.area_names(user=user, codes=control.get("by_township", {}))
    students = selectors_ui.student_names(
        user=user, student_ids=(g.get("student") for g in batch.gaps)
    )
    gaps = [
        {
            "student": students.get(g.get("student"), "—"),
            "student_id": g.get("student"),
            "school": schools.get(g.get("school"), "—"),
            "programme": labels.get(g.get("programme", ""), g.get("programme", "")),
            "amount": format_yuan(Decimal(g.get("amount") or "0")),
            "reason": str(selectors.GAP_REASONS.get(g.get("reason", ""), g.get("reason", ""))),
        }
        for g in batch.gaps
    ]
    payments = _paginate(request, selectors.payment_list(user=user, batch=batch))
    return _page(
        request,
        "aid/batch_detail.html",
        {
            "title": _("Payment batch %(ref)s") % {"ref": batch.reference},
            "active": "batches",
            "batch": batch,
            "period_label": wording.period_label(batch.school_year, batch.semester),
            "total": format_yuan(Decimal(control.get("amount", "0"))),
            "count": control.get("count", 0),
            "by_programme": [
                {**r, "name": labels.get(r["key"], r["key"])}
                for r in _control_rows(control.get("by_programme", {}), {})
            ],
            "by_school": _control_rows(control.get("by_school", {}), schools),
            "by_township": _control_rows(control.get("by_township", {}), townships),
            "gaps": gaps,
            "payments": payments,
            "payment_rows": [
                {
                    "p": p,
                    "programme": labels.get(p.programme, p.programme),
                    "amount": format_yuan(p.amount),
                }
                for p in payments.object_list
            ],
            "returns": selectors_ui.return_list(user=user, batch=batch),
            "may_pay": selectors.may_pay(user),
            "return_form": return_form,
        },
        status=status,
    )


@login_required
@require_POST
def bank_file(request: HttpRequest, payment_batch_id: int, fmt: str) -> HttpResponseBase:
    """Download the bank file of an approved batch (whole account numbers; marks it sent).

    A POST, not a GET: the export changes the batch's state and is logged.
    """
    user: Any = request.user
    if not user.can(P.VIEW):
        return _forbidden(request, P.VIEW)
    batch = selectors.get_batch(user=user, batch_id=payment_batch_id)
    if not selectors.may_pay(user):
        return _forbidden(request, P.PAY)
    _version, book = selectors.current_book(user=user, school_year=batch.school_year)
    try:
        name, content = funds.bank_file_export(
            actor=user, batch_id=batch.pk, fmt=fmt, labels=selectors_ui.book_labels(book, "zh-hans")
        )
    except PermissionDenied:
        return _forbidden(request, P.PAY)
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("aid:batch", payment_batch_id=batch.pk)
    mime = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = HttpResponse(content, content_type=mime)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


class AllocationForm(forms.Form):
    programme = forms.ChoiceField(label=gettext_lazy("Programme"))
    amount = forms.DecimalField(
        label=gettext_lazy("Amount (yuan)"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
    )
    note = forms.CharField(label=gettext_lazy("Document or note"), max_length=200, required=False)

    def __init__(self, *args: Any, programmes: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["programme"].choices = programmes  # type: ignore[attr-defined]


@aid_view("GET", "POST")
def allocations(request: HttpRequest) -> HttpResponse:
    """List the funds allocated per programme for a school year; the aid centre records them."""
    user: Any = request.user
    period = _period(request.GET)
    _version, book = selectors.current_book(user=user, school_year=period.school_year)
    language = _language()
    cash = [
        (p.code, p.label(language))
        for p in (book.programmes.values() if book is not None else [])
        if p.kind == "cash"
    ]
    form = AllocationForm(programmes=cash)
    if request.method == "POST":
        if not selectors.may_pay(user):
            return _forbidden(request, P.PAY)
        form = AllocationForm(request.POST, programmes=cash)
        if form.is_valid():
            try:
                funds.allocation_record(
                    actor=user,
                    school_year=period.school_year,
                    programme=form.cleaned_data["programme"],
                    amount=form.cleaned_data["amount"],
                    note=form.cleaned_data["note"],
                )
            except PermissionDenied:
                return _forbidden(request, P.PAY)
            except ValidationError as exc:
                _errors(request, exc)
            else:
                messages.success(request, _("The allocation is recorded."))
            return _back("aid:allocations", period)
    labels = selectors_ui.book_labels(book, language)
    rows = selectors.allocation_list(user=user, school_year=period.school_year).select_related(
        "recorded_by"
    )
    return _page(
        request,
        "aid/allocations.html",
        {
            "title": _("Allocations"),
            "active": "allocations",
            **_period_context(period),
            "rows": [
                {
                    "a": a,
                    "programme": labels.get(a.programme, a.programme),
                    "amount": format_yuan(a.amount),
                }
                for a in rows
            ],
            "may_pay": selectors.may_pay(user),
            "form": form,
        },
        status=400 if form.is_bound else 200,
    )


class LoanForm(forms.Form):
    student = forms.TypedChoiceField(label=gettext_lazy("Student"), coerce=int)
    bank = forms.CharField(label=gettext_lazy("Bank"), max_length=100)
    amount = forms.DecimalField(
        label=gettext_lazy("Amount (yuan)"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
    )
    term_years = forms.IntegerField(label=gettext_lazy("Term (years)"), min_value=1, max_value=25)

    def __init__(self, *args: Any, students: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["student"].choices = students  # type: ignore[attr-defined]


@aid_view("GET", "POST")
def loans(request: HttpRequest) -> HttpResponse:
    """List student-origin loans; the aid centre records a contracted loan."""
    user: Any = request.user
    period = _period(request.GET)
    may_manage = selectors.may_manage(user)
    students = (
        [
            (s.pk, s.name)
            for s in selectors_ui.loan_candidates(user=user, school_year=period.school_year)
        ]
        if may_manage
        else []
    )
    form = LoanForm(students=students)
    if request.method == "POST":
        if not may_manage:
            return _forbidden(request, P.AID_MANAGE)
        form = LoanForm(request.POST, students=students)
        if form.is_valid():
            try:
                services.loan_record(
                    actor=user,
                    student_id=form.cleaned_data["student"],
                    school_year=period.school_year,
                    bank=form.cleaned_data["bank"],
                    amount=form.cleaned_data["amount"],
                    term_years=form.cleaned_data["term_years"],
                )
            except PermissionDenied:
                return _forbidden(request, P.AID_MANAGE)
            except ValidationError as exc:
                _errors(request, exc)
            else:
                messages.success(request, _("The loan is recorded."))
            return _back("aid:loans", period)
    return _page(
        request,
        "aid/loans.html",
        {
            "title": _("Student-origin loans"),
            "active": "loans",
            **_period_context(period),
            "loans": _paginate(request, selectors.loan_list(user=user)),
            "degrees": dict(Loan.Degree.choices),
            "may_manage": may_manage,
            "form": form,
        },
        status=400 if form.is_bound else 200,
    )


# --------------------------------------------------------------------------- adjustments


@aid_view("GET", "HEAD")
def adjustments(request: HttpRequest) -> HttpResponse:
    """List what reruns changed in the semester: old and new amount, and why."""
    user: Any = request.user
    period = _period(request.GET)
    rows = selectors.adjustment_list(user=user).filter(
        computation__school_year=period.school_year, computation__semester=period.semester
    )
    page = _paginate(request, rows)
    language = _language()
    _version, book = selectors.current_book(user=user, school_year=period.school_year)
    labels = selectors_ui.book_labels(book, language)
    return _page(
        request,
        "aid/adjustments.html",
        {
            "title": _("Adjustments"),
            "active": "adjustments",
            **_period_context(period),
            "page": page,
            "rows": [
                {
                    "a": a,
                    "programme": labels.get(a.entitlement.programme, a.entitlement.programme),
                    "old": format_yuan(a.old_amount),
                    "new": format_yuan(a.new_amount),
                }
                for a in page.object_list
            ],
        },
    )


# --------------------------------------------------------------------------- coverage


@aid_view("GET", "HEAD")
def coverage(request: HttpRequest) -> HttpResponse:
    """Show aid coverage: county, by stage, township and school, and every gap with its reason."""
    user: Any = request.user
    period = _period(request.GET)
    result = selectors.coverage(user=user, school_year=period.school_year, semester=period.semester)
    _version, book = selectors.current_book(user=user, school_year=period.school_year)
    labels = selectors_ui.book_labels(book, _language())
    return _page(
        request,
        "aid/coverage.html",
        {
            "title": _("Aid coverage"),
            "active": "coverage",
            **_period_context(period),
            "coverage": result,
            "gaps": [
                {
                    "g": g,
                    "programme": labels.get(g.programme, g.programme) if g.programme else "—",
                    "amount": format_yuan(g.amount) if g.amount is not None else "—",
                }
                for g in result.gaps
            ],
        },
    )


def _share(row: selectors.CoverageRow) -> float | None:
    share = row.share
    return None if share is None else float(share) / 100


@aid_view("GET", "HEAD")
def coverage_download(request: HttpRequest) -> HttpResponse:
    """Download the coverage tables and the gaps as a workbook."""
    user: Any = request.user
    period = _period(request.GET)
    result = selectors.coverage(user=user, school_year=period.school_year, semester=period.semester)
    _version, book = selectors.current_book(user=user, school_year=period.school_year)
    labels = selectors_ui.book_labels(book, _language())

    def table(title: str, first: str, rows: list[selectors.CoverageRow]) -> documents.CoverageSheet:
        return documents.CoverageSheet(
            title=title,
            headers=[first, _("Students"), _("Covered"), _("Share covered")],
            rows=[[r.label, r.students, r.covered, _share(r)] for r in rows],
        )

    county = selectors_ui.area_names(user=user, codes=[result.county.label])
    result.county.label = county.get(result.county.label, result.county.label)
    sheets = [
        table(_("County"), _("County"), [result.county]),
        table(_("By stage"), _("Stage"), result.by_stage),
        table(_("By township"), _("Township"), result.by_township),
        table(_("By school"), _("School"), result.by_school),
        documents.CoverageSheet(
            title=_("Gaps"),
            headers=[
                _("Student"),
                _("School"),
                _("Programme"),
                _("Amount"),
                _("Reason"),
                _("Detail"),
            ],
            rows=[
                [
                    g.student_name,
                    g.school_name,
                    labels.get(g.programme, g.programme),
                    g.amount,
                    g.reason_label,
                    g.detail,
                ]
                for g in result.gaps
            ],
        ),
    ]
    response = HttpResponse(
        documents.coverage_xlsx(sheets),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"aid-coverage-{period.school_year}-{period.semester}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
