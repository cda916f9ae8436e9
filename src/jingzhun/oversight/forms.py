"""Forms of the inspection pages: they read and check the input; the services decide."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jingzhun.core.evidence import evidence_field
from jingzhun.oversight.models import (
    DEFAULT_SAMPLE_SIZE,
    Finding,
    InspectionPlan,
    SampleCheck,
    VisitAnswer,
)

DATE = forms.DateInput(attrs={"type": "date"})


class PlanForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    half = forms.ChoiceField(label=_("Half-year"), choices=InspectionPlan.Half.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    starts_on = forms.DateField(label=_("First day of the visits"), widget=DATE)
    ends_on = forms.DateField(label=_("Last day of the visits"), widget=DATE)
    schools = forms.TypedMultipleChoiceField(
        label=_("Schools to visit"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    townships = forms.TypedMultipleChoiceField(
        label=_("Township education offices to visit"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    sample_size = forms.IntegerField(
        label=_("Poor students sampled per school"),
        min_value=1,
        max_value=50,
        initial=DEFAULT_SAMPLE_SIZE,
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(
        self,
        *args: Any,
        schools: list[tuple[int, str]],
        townships: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["schools"].choices = schools  # type: ignore[attr-defined]
        self.fields["townships"].choices = townships  # type: ignore[attr-defined]
        if not self.is_bound:
            year, half = InspectionPlan.half_of(timezone.localdate())
            first, last = InspectionPlan.half_bounds(year, half)
            self.initial.update(year=year, half=half, starts_on=first, ends_on=last)


class VisitForm(forms.Form):
    """The day of the visit and one answer (with a note) per checklist item."""

    visited_on = forms.DateField(label=_("Visited on"), widget=DATE)
    note = forms.CharField(
        label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, items: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for item_id, text in items:
            self.fields[f"item_{item_id}"] = forms.ChoiceField(
                label=text, choices=VisitAnswer.Status.choices, widget=forms.RadioSelect
            )
            self.fields[f"note_{item_id}"] = forms.CharField(
                label=_("Note"), max_length=300, required=False
            )
        if not self.is_bound:
            self.initial.setdefault("visited_on", timezone.localdate())

    def rows(self) -> list[tuple[Any, Any]]:
        return [(self[f"item_{i}"], self[f"note_{i}"]) for i, _t in self.items]

    def answers(self) -> dict[str, tuple[str, str]]:
        data = self.cleaned_data
        return {i: (data[f"item_{i}"], data.get(f"note_{i}", "")) for i, _t in self.items}


class SampleDrawForm(forms.Form):
    size = forms.IntegerField(label=_("Students to sample"), min_value=1, max_value=50)


class SampleCheckForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Was the aid received?"),
        choices=[c for c in SampleCheck.Outcome.choices if c[0] != SampleCheck.Outcome.PENDING],
        widget=forms.RadioSelect,
    )
    amount_said = forms.DecimalField(
        label=_("Amount the family says it received (yuan)"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )
    note = forms.CharField(
        label=_("Note"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class FindingForm(forms.Form):
    severity = forms.ChoiceField(label=_("Severity"), choices=Finding.Severity.choices)
    text = forms.CharField(
        label=_("Finding"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
    item_id = forms.ChoiceField(label=_("Checklist item"), required=False)
    student = forms.TypedChoiceField(
        label=_("Student (from the sample)"), coerce=int, required=False, empty_value=None
    )
    found_on = forms.DateField(label=_("Found on"), widget=DATE)
    deadline = forms.DateField(label=_("Rectify by"), widget=DATE)
    owner = forms.TypedChoiceField(
        label=_("Owner"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Empty: the school or township office as a whole."),
    )
    evidence = evidence_field(_("Evidence (photo or scan)"))

    def __init__(
        self,
        *args: Any,
        items: list[tuple[str, str]],
        students: list[tuple[int, str]],
        owners: list[tuple[int, str]],
        found_on: dt.date,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["item_id"].choices = [("", "—"), *items]  # type: ignore[attr-defined]
        self.fields["student"].choices = [("", "—"), *students]  # type: ignore[attr-defined]
        self.fields["owner"].choices = [("", "—"), *owners]  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.update(found_on=found_on, deadline=found_on + dt.timedelta(days=30))


class ProgressForm(forms.Form):
    happened_on = forms.DateField(label=_("Date"), widget=DATE)
    text = forms.CharField(
        label=_("What was done"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )
    evidence = evidence_field(_("Evidence (photo or scan)"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("happened_on", timezone.localdate())


class CloseForm(forms.Form):
    closed_on = forms.DateField(label=_("Verified on"), widget=DATE)
    note = forms.CharField(
        label=_("What was verified"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("closed_on", timezone.localdate())
