"""Student aid pages: the overview with the compute job, and the rule book."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks import TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist, TaskResultMismatch

from jingzhun.aid import selectors, selectors_ui, services, wording
from jingzhun.aid.models import Entitlement
from jingzhun.aid.rulebook import RuleBook, RuleBookError, load_rulebook, shipped_source
from jingzhun.aid.tasks import compute as compute_task
from jingzhun.aid.tasks import progress_job
from jingzhun.aid.views.common import (
    Period,
    _back,
    _errors,
    _forbidden,
    _language,
    _page,
    _period,
    _period_context,
    aid_view,
)
from jingzhun.core import permissions as P
from jingzhun.core.periods import SemesterKind
from jingzhun.core.progress import read_progress

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


def _carry_offer(user: Any, school_year: int) -> services.CarrySource | None:
    """Return what the year's rule book could start from, when the year has none at all."""
    if not user.scope.county_code:
        return None
    if selectors.current_book(user=user, school_year=school_year)[1] is not None:
        return None
    return services.rulebook_carry_source(user.scope.county_code, school_year)


@aid_view("GET", "POST")
def overview(request: HttpRequest) -> HttpResponse:
    """Show the review counts and last computations; the aid centre starts a computation."""
    user: Any = request.user
    period = _period(request.GET, request.user)
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
            if result.status == TaskResultStatus.SUCCESSFUL and result.return_value is None:
                # Run at once (no worker), after another computation that left nothing to do.
                messages.info(
                    request,
                    _(
                        "Already done: the entitlements of %(period)s are up to date; "
                        "nothing changed."
                    )
                    % {"period": period.label},
                )
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
            "carry": _carry_offer(user, period.school_year),
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
    period = _period(request.GET, request.user)
    if request.method == "POST":
        if not selectors.may_manage(user):
            return _forbidden(request, P.AID_MANAGE)
        try:
            _rulebook_post(request, period)
        except PermissionDenied:
            return _forbidden(request, P.AID_MANAGE)
        except ValidationError as exc:
            _errors(request, exc)
        return _back("aid:rulebook", period)
    version, book = selectors.current_book(user=user, school_year=period.school_year)
    language = _language()
    labels = selectors_ui.book_labels(book, language)
    carry = None
    carry_rules: list[dict[str, Any]] = []
    if book is None and user.scope.county_code:
        carry = services.rulebook_carry_source(user.scope.county_code, period.school_year)
        if carry is not None:
            carry_rules = _rule_rows(load_rulebook(carry.source), language)
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
            "carry": carry,
            "carry_rules": carry_rules,
        },
    )


def _has_shipped(school_year: int) -> bool:
    try:
        shipped_source(school_year)
    except KeyError:
        return False
    return True


def _rulebook_post(request: HttpRequest, period: Period) -> None:
    """Install, carry forward or confirm the year's rule book (refusals raise)."""
    user: Any = request.user
    action = request.POST.get("action", "")
    if action == "confirm":
        result = services.rulebook_confirm(actor=user, school_year=period.school_year)
        if result.already:
            messages.info(
                request,
                _("Rule book %(year)s v%(version)s is already confirmed; nothing changed.")
                % {"year": period.year_label, "version": result.version.version},
            )
        else:
            messages.success(
                request,
                _("Rule book %(year)s v%(version)s is confirmed: this year's aid may be paid.")
                % {"year": period.year_label, "version": result.version.version},
            )
        return
    if action == "carry_forward" or not _has_shipped(period.school_year):
        installed = services.rulebook_carry_forward(actor=user, school_year=period.school_year)
    else:
        installed = services.rulebook_install(
            actor=user, county_code=user.scope.county_code, school_year=period.school_year
        )
    if installed.confirmed:
        messages.success(
            request,
            _("Rule book %(year)s v%(version)s is in force.")
            % {"year": installed.school_year, "version": installed.version},
        )
    else:
        messages.warning(
            request,
            _(
                "Rule book %(year)s v%(version)s is a copy of an earlier year's: check it, edit "
                "what changed, and confirm it before this year's aid is paid."
            )
            % {"year": period.year_label, "version": installed.version},
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
    period = _period(request.GET, request.user)
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
