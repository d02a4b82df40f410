"""Forms for the registry. Each carries the version it was opened at, to refuse stale edits."""

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone

from prolotrack.patients.models import Allergy, Condition, Medication, Patient, WeightMeasurement
from prolotrack.patients.services import CHILD_MODELS, PATIENT_FIELDS


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class VersionedForm(forms.ModelForm):
    """A model form with the hidden version it was opened at, and a reason for the change."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    change_reason = forms.CharField(
        label="Reason for change",
        required=False,
        max_length=500,
        help_text="Optional when adding; say why when correcting a record.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
        else:
            del self.fields["change_reason"]

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self._meta.fields or ()}


def _not_future(value: date | None, what: str) -> None:
    if value is not None and value > timezone.localdate():
        raise forms.ValidationError(f"{what} cannot be in the future.")


class PatientForm(VersionedForm):
    class Meta:
        model = Patient
        fields = PATIENT_FIELDS
        widgets = {"date_of_birth": DateInput()}
        help_texts = {
            "mrn": "Leave blank to have ProloTrack assign the next PT- number.",
            "preferred_language": "The patient's pages (questionnaire links) and messages are in this language; "
            "staff pages stay in English (docs/LANGUAGES.md).",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # A registered patient keeps a record number: no auto-assign on edit.
            self.fields["mrn"].help_text = ""
        else:
            self.fields["mrn"].required = False
        # Left out of a post (an older form, a script): the patient keeps their language, English for a new one.
        self.fields["preferred_language"].required = False

    def clean_mrn(self) -> str:
        return (self.cleaned_data.get("mrn") or "").strip()

    def clean_preferred_language(self) -> str:
        return self.cleaned_data.get("preferred_language") or self.instance.preferred_language or "en"


class WeightForm(VersionedForm):
    class Meta:
        model = WeightMeasurement
        fields = CHILD_MODELS["weight"][1]
        widgets = {"measured_on": DateInput()}
        labels = {"weight_kg": "Weight (kg)"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["measured_on"].initial = timezone.localdate()

    def clean_measured_on(self) -> date:
        value = self.cleaned_data["measured_on"]
        _not_future(value, "The measurement date")
        return value


class ConditionForm(VersionedForm):
    class Meta:
        model = Condition
        fields = CHILD_MODELS["condition"][1]
        widgets = {
            "onset_date": DateInput(),
            "prior_treatments": forms.Textarea(attrs={"rows": 2}),
            "note": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {"screening_flag": "Set when the condition matters for candidacy screening."}

    def clean_onset_date(self) -> date | None:
        value = self.cleaned_data.get("onset_date")
        _not_future(value, "Onset")
        return value


class MedicationForm(VersionedForm):
    class Meta:
        model = Medication
        fields = CHILD_MODELS["medication"][1]
        widgets = {"last_dose_date": DateInput()}

    def clean_last_dose_date(self) -> date | None:
        value = self.cleaned_data.get("last_dose_date")
        _not_future(value, "Last dose")
        return value


class AllergyForm(VersionedForm):
    class Meta:
        model = Allergy
        fields = CHILD_MODELS["allergy"][1]


CHILD_FORMS: dict[str, type[VersionedForm]] = {
    "weight": WeightForm,
    "condition": ConditionForm,
    "medication": MedicationForm,
    "allergy": AllergyForm,
}
