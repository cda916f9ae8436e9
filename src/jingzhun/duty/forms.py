"""Forms of the duty pages and the class teacher's mobile page.

They only parse and check input; every write is a call to :mod:`jingzhun.duty.services`,
which checks the actor's capability and jurisdiction again.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import FileExtensionValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jingzhun.accounts.models import StaffMember
from jingzhun.core.evidence import check_evidence, evidence_field
from jingzhun.core.uploads import UploadField
from jingzhun.duty.models import Assignment, CaseStep, DropoutCase, StudentContact

# Steps recorded through the back office (an absence goes through the absence report).
OFFICE_STEPS = [(k, label) for k, label in CaseStep.Kind.choices if k != CaseStep.Kind.ABSENCE]
# What a class teacher records from the phone: a visit, a talk or a phone call, for any poor
# student; on a student's open case it becomes the matching step of the case.
MOBILE_STEPS = [
    (StudentContact.Kind.VISIT, _("Home visit")),
    (StudentContact.Kind.TALK, _("Talk")),
    (StudentContact.Kind.PHONE, _("Phone call")),
]
CASE_STEP_OF_CONTACT = {
    StudentContact.Kind.VISIT: CaseStep.Kind.HOME_VISIT,
    StudentContact.Kind.TALK: CaseStep.Kind.PERSUASION,
    StudentContact.Kind.PHONE: CaseStep.Kind.PHONE_CALL,
}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class StepForm(forms.Form):
    """Record a step on a case."""

    kind = forms.ChoiceField(label=_("Step"), choices=OFFICE_STEPS)
    happened_on = forms.DateField(label=_("Date"), widget=DateInput())
    text = forms.CharField(
        label=_("What happened"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    evidence = evidence_field(_("Evidence"))
    return_deadline = forms.DateField(
        label=_("Must return by"),
        required=False,
        widget=DateInput(),
        help_text=_("Only for a deadline-to-return notice."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["happened_on"].initial = timezone.localdate()

    def clean_evidence(self) -> UploadedFile | None:
        return check_evidence(self.cleaned_data.get("evidence"))


class ResolveForm(forms.Form):
    """Record a case's outcome; what each outcome needs is checked by the service."""

    outcome = forms.ChoiceField(label=_("Outcome"), choices=DropoutCase.Outcome.choices)
    enrolment = forms.TypedChoiceField(
        label=_("Enrolment proving the return"),
        coerce=int,
        required=False,
        empty_value=None,
    )
    home_teacher = forms.CharField(label=_("Home-teaching teacher"), max_length=50, required=False)
    home_schedule = forms.CharField(
        label=_("Home-teaching schedule"), max_length=100, required=False
    )
    exemption_reason = forms.CharField(label=_("Exemption reason"), max_length=300, required=False)
    moved_to = forms.CharField(label=_("Moved to"), max_length=200, required=False)

    def __init__(self, *args: Any, enrolments: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["enrolment"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "—"), *enrolments]


class ReopenForm(forms.Form):
    """Send a resolved case back to work, with the reason."""

    reason = forms.CharField(label=_("Why it goes back"), max_length=500)


class VisitForm(forms.Form):
    """The mobile page's visit, talk or phone call: when, what happened, an optional photo
    (kept with a case's step; a student with no open case gets no photo stored)."""

    kind = forms.ChoiceField(
        label=_("What"),
        choices=MOBILE_STEPS,
        initial=StudentContact.Kind.VISIT,
        widget=forms.RadioSelect,
    )
    happened_on = forms.DateField(label=_("Date"), widget=DateInput())
    text = forms.CharField(
        label=_("What happened"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    photo = evidence_field(_("Photo (optional)"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["happened_on"].initial = timezone.localdate()

    def clean_photo(self) -> UploadedFile | None:
        return check_evidence(self.cleaned_data.get("photo"))


class AbsenceForm(forms.Form):
    """The mobile page's absence report."""

    days = forms.IntegerField(
        label=_("Days absent"),
        min_value=1,
        max_value=366,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    note = forms.CharField(label=_("Note (optional)"), max_length=300, required=False)


def _choice(label: Any, required: bool = False) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(label=label, coerce=int, required=required, empty_value=None)


def _picked(label: Any, required: bool = False) -> forms.IntegerField:
    """An id chosen with the autocomplete (a search box filling a hidden field)."""
    return forms.IntegerField(label=label, required=required, min_value=1)


class AssignmentCreateForm(forms.Form):
    """Name a responsible person for a township, school, class, poor student or poor village.

    Targets and the person are chosen by autocomplete (``/duty/targets/search/`` and
    ``/duty/people/search/``), which fills their ids; the page never lists them all.
    """

    kind = forms.ChoiceField(label=_("Kind"), choices=Assignment.Kind.choices)
    township = _picked(_("Township"))
    school = _picked(_("School"))
    school_class = _picked(_("Class"))
    student = _picked(_("Poor student"))
    village = _picked(_("Poor village"))
    holder = _picked(_("Responsible person"), required=True)
    contact_school = _choice(_("School of the contact person"))
    starts_on = forms.DateField(label=_("From"), required=False, widget=DateInput())
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    # The form field that names the target of each kind.
    TARGET_FIELDS = {
        Assignment.Kind.TOWNSHIP: "township",
        Assignment.Kind.SCHOOL: "school",
        Assignment.Kind.CLASS: "school_class",
        Assignment.Kind.STUDENT: "student",
        Assignment.Kind.VILLAGE: "village",
    }

    def __init__(self, *args: Any, schools: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["contact_school"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "—"), *schools]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind in self.TARGET_FIELDS:
            name = self.TARGET_FIELDS[kind]
            if data.get(name) is None:
                self.add_error(name, _("Choose what the person answers for."))
            data["target_id"] = data.get(name)
        return data


class ReassignForm(forms.Form):
    """Give an assignment's target to someone else from a date."""

    holder = _picked(_("New responsible person"), required=True)
    on = forms.DateField(label=_("From"), required=False, widget=DateInput())
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class BulkAssignForm(forms.Form):
    """One person for many chosen targets of one kind (from a filtered list)."""

    kind = forms.ChoiceField(label=_("Kind"), choices=Assignment.Kind.choices)
    targets = forms.TypedMultipleChoiceField(label=_("Targets"), coerce=int)
    holder = _picked(_("Responsible person"), required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The choices are the posted ids themselves: the service checks each one's scope.
        posted = self.data.getlist("targets") if hasattr(self.data, "getlist") else []
        field = self.fields["targets"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [(v, v) for v in posted if str(v).isdigit()]


class BulkUploadForm(forms.Form):
    """The filled template of responsible persons."""

    file = UploadField(
        label=_("Filled template (.xlsx)"), validators=[FileExtensionValidator(["xlsx"])]
    )


class SignForm(forms.Form):
    """Record the day the letter of responsibility was signed."""

    signed_on = forms.DateField(label=_("Signed on"), widget=DateInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["signed_on"].initial = timezone.localdate()


class StaffForm(forms.Form):
    """A person of the staff directory: who they are, their post and where they work."""

    name = forms.CharField(label=_("Name"), max_length=50)
    sex = forms.ChoiceField(
        label=_("Sex"), required=False, choices=[("", "—"), ("M", _("Male")), ("F", _("Female"))]
    )
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    post = forms.ChoiceField(label=_("Post"), choices=StaffMember.Post.choices)
    school = _choice(_("School"))
    school_class = _picked(_("Class headed"))
    township = _choice(_("Township"))
    village = _picked(_("Village"))
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(
        self,
        *args: Any,
        schools: list[tuple[int, str]],
        townships: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        for name, options in (("school", schools), ("township", townships)):
            field = self.fields[name]
            assert isinstance(field, forms.TypedChoiceField)
            field.choices = [("", "—"), *options]


class LinkUserForm(forms.Form):
    """Give a person of the directory an existing login."""

    username = forms.CharField(label=_("Login name"), max_length=150)
