"""Forms of the teacher pages: record a training, record an exchange (II.3.2, II.3.3).

The choices (teachers, schools) come from the teachers selectors, scoped to the acting user;
the views turn the chosen ids back into records through them too (404 outside the scope).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jingzhun.teachers.models import Training

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
