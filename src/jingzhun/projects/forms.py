"""Forms of the project pages: set up a project, close a time node, record a survey (II.2).

The choices (schools, villages, items) come from the projects selectors, scoped to the acting
user; the views turn the chosen ids back into records through them too (404 outside the scope).
The services check everything again: a refusal there is shown on the form, nothing saved.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jingzhun.core.evidence import check_evidence, evidence_field
from jingzhun.projects.models import BudgetLine, Project, ProjectNode, SurveyAnswer

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
SOURCES = BudgetLine.Source


class ProjectForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Project.Kind.choices)
    name = forms.CharField(label=_("Project name"), max_length=200)
    plan_year = forms.IntegerField(label=_("Plan year"), min_value=2000, max_value=2100)
    school = forms.TypedChoiceField(label=_("School"), coerce=int, required=False)
    village = forms.TypedChoiceField(label=_("Village"), coerce=int, required=False)
    items = forms.MultipleChoiceField(
        label=_("Items brought up to standard"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(
        self,
        *args: Any,
        schools: list[tuple[int, str]],
        villages: list[tuple[int, str]],
        items: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["school"].choices = [("", "—"), *schools]  # type: ignore[attr-defined]
        self.fields["village"].choices = [("", "—"), *villages]  # type: ignore[attr-defined]
        self.fields["items"].choices = items  # type: ignore[attr-defined]
        for source, label in SOURCES.choices:
            self.fields[f"budget_{source}"] = forms.DecimalField(
                label=_("Budget: %(source)s (yuan)") % {"source": label},
                required=False,
                min_value=Decimal("0"),
                max_digits=14,
                decimal_places=2,
            )
        for kind, label in ProjectNode.Kind.choices:
            self.fields[f"due_{kind}"] = forms.DateField(
                label=_("Due: %(node)s") % {"node": label}, widget=DATE
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("school") and not data.get("village"):
            self.add_error("school", _("Choose a school or a village."))
        return data

    def budget(self) -> list[tuple[str, Decimal]]:
        """Return the (source, amount) lines given, in the order of the sources."""
        return [
            (source, self.cleaned_data[f"budget_{source}"])
            for source in SOURCES.values
            if self.cleaned_data.get(f"budget_{source}")
        ]

    def nodes(self) -> dict[str, dt.date]:
        return {kind: self.cleaned_data[f"due_{kind}"] for kind in ProjectNode.Kind.values}


class NodeCloseForm(forms.Form):
    closed_on = forms.DateField(label=_("Closed on"), widget=DATE)
    evidence_ref = forms.CharField(
        label=_("Evidence (file reference)"),
        max_length=200,
        required=False,
        help_text=_("The number or file name of the document that proves the node is done."),
    )
    evidence = evidence_field(_("Photo or scan of the evidence"))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def clean_evidence(self) -> Any:
        return check_evidence(self.cleaned_data.get("evidence"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("evidence_ref") or "").strip() and not data.get("evidence"):
            if "evidence" not in self.errors:
                self.add_error(
                    "evidence_ref",
                    _("Name the evidence of the node or attach its photo or scan."),
                )
        return data


class SurveyForm(forms.Form):
    surveyed_on = forms.DateField(label=_("Surveyed on"), widget=DATE)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, items: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.item_codes = [code for code, _label in items]
        for code, label in items:
            self.fields[f"item_{code}"] = forms.ChoiceField(
                label=label, choices=[("", "—"), *SurveyAnswer.Status.choices]
            )
            self.fields[f"note_{code}"] = forms.CharField(
                label=_("Note"), max_length=300, required=False
            )

    def item_rows(self) -> list[tuple[Any, Any]]:
        """Return (status field, note field) of each item, for the template."""
        return [(self[f"item_{code}"], self[f"note_{code}"]) for code in self.item_codes]

    def answers(self) -> list[tuple[str, str, str]]:
        return [
            (
                code,
                self.cleaned_data[f"item_{code}"],
                self.cleaned_data.get(f"note_{code}", "").strip(),
            )
            for code in self.item_codes
        ]
