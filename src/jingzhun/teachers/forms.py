"""Forms of the teacher pages: record a training, record an exchange (II.3.2, II.3.3).

The choices (teachers, schools) come from the teachers selectors, scoped to the acting user;
the views turn the chosen ids back into records through them too (404 outside the scope).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jingzhun.teachers.models import ServicePeriod, Teacher, Training

DATE = forms.DateInput(attrs={"type": "date"})


class TrainingForm(forms.Form):
    teacher = forms.TypedChoiceField(label=pgettext_lazy("teaching staff", "Teacher"), coerce=int)
    programme = forms.CharField(label=_("Training programme"), max_length=200)
    level = forms.ChoiceField(label=_("Level"), choices=Training.Level.choices)
    started_on = forms.DateField(label=_("Start date"), widget=DATE)
    ended_on = forms.DateField(label=_("End date"), widget=DATE)
    hours = forms.IntegerField(label=_("Hours"), min_value=0, max_value=2000, initial=0)

    def __init__(self, *args: Any, teachers: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["teacher"].choices = [("", "—"), *teachers]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("started_on"), data.get("ended_on")
        if start and end and end < start:
            self.add_error("ended_on", _("The end is before the start."))
        return data


class ExchangeForm(forms.Form):
    teacher = forms.TypedChoiceField(label=pgettext_lazy("teaching staff", "Teacher"), coerce=int)
    to_school = forms.TypedChoiceField(label=_("To the poor-village school"), coerce=int)
    started_on = forms.DateField(label=_("Start date"), widget=DATE)
    ended_on = forms.DateField(label=_("End date"), widget=DATE, required=False)

    def __init__(
        self,
        *args: Any,
        teachers: list[tuple[int, str]],
        schools: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["teacher"].choices = [("", "—"), *teachers]  # type: ignore[attr-defined]
        self.fields["to_school"].choices = [("", "—"), *schools]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("started_on"), data.get("ended_on")
        if start and end and end < start:
            self.add_error("ended_on", _("The end is before the start."))
        return data


class TeacherForm(forms.Form):
    """A teacher added to a school's roster by hand (the roster import does it in bulk)."""

    name = forms.CharField(label=pgettext_lazy("person", "Name"), max_length=50)
    # Sent in the form's body, never in an address; shown back masked only.
    id_number = forms.CharField(
        label=_("Resident ID number"),
        max_length=18,
        min_length=18,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    post = forms.ChoiceField(label=_("Post"), choices=Teacher.Post.choices)
    subject = forms.CharField(label=_("Subject taught"), max_length=50, required=False)
    title = forms.ChoiceField(label=_("Professional title"), choices=Teacher.Title.choices)
    staffing = forms.ChoiceField(
        label=_("Staffing status"), choices=[("", "—"), *Teacher.Staffing.choices], required=False
    )
    started_on = forms.DateField(label=_("At the school since"), widget=DATE, required=False)
    backbone = forms.BooleanField(label=_("Backbone teacher"), required=False)


class LeaveForm(forms.Form):
    teacher = forms.TypedChoiceField(label=pgettext_lazy("teaching staff", "Teacher"), coerce=int)
    left_on = forms.DateField(label=_("Left on"), widget=DATE)

    def __init__(self, *args: Any, teachers: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["teacher"].choices = [("", "—"), *teachers]  # type: ignore[attr-defined]


class ServicePeriodForm(forms.Form):
    teacher = forms.TypedChoiceField(label=pgettext_lazy("teaching staff", "Teacher"), coerce=int)
    kind = forms.ChoiceField(label=_("Kind of place"), choices=ServicePeriod.Kind.choices)
    school = forms.TypedChoiceField(
        label=_("School (if it is on the school list)"),
        coerce=int,
        required=False,
        empty_value=None,
    )
    place = forms.CharField(label=_("Or the place, in words"), max_length=100, required=False)
    started_on = forms.DateField(label=_("Start date"), widget=DATE)
    ended_on = forms.DateField(label=_("Last day there"), widget=DATE, required=False)

    def __init__(
        self,
        *args: Any,
        teachers: list[tuple[int, str]],
        schools: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["teacher"].choices = [("", "—"), *teachers]  # type: ignore[attr-defined]
        self.fields["school"].choices = [("", "—"), *schools]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("school") and not data.get("place"):
            self.add_error("place", _("Choose the school or name the place."))
        start, end = data.get("started_on"), data.get("ended_on")
        if start and end and end < start:
            self.add_error("ended_on", _("The end is before the start."))
        return data
