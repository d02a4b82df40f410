"""Forms of the consent pages: signing (names, role, the two drawn signatures), withdrawal, the clinic's template."""

from typing import Any

from django import forms

from prolotrack.consent.models import ConsentTemplate
from prolotrack.consent.services import WITNESS_ROLES
from prolotrack.core.forms import ReasonForm
from prolotrack.core.signatures import png_from_data_url
from prolotrack.domain.consent import FIELD_LABELS, LANGUAGES
from prolotrack.domain.reasons import CONSENT_WITHDRAW_REASONS
from prolotrack.patients.forms import DateInput


class SignatureInput(forms.Textarea):
    """The pad's PNG data URL travels in a textarea the script fills; hidden, but errors stay beside the pad."""

    def __init__(self) -> None:
        super().__init__(attrs={"hidden": True, "class": "signature-data", "aria-hidden": "true", "tabindex": "-1"})


class SignForm(forms.Form):
    text_sha256 = forms.CharField(widget=forms.HiddenInput)
    # The language of the form the patient read (docs/LANGUAGES.md, "Documents"): its text is that language's.
    language = forms.ChoiceField(
        choices=[(code, code) for code in LANGUAGES], widget=forms.HiddenInput, initial="en", required=False
    )
    patient_name = forms.CharField(
        label="Patient's full name", max_length=200, help_text="As the patient signs it (check the spelling aloud)."
    )
    patient_signature = forms.CharField(label="Patient's signature", widget=SignatureInput(), required=False)
    witness_name = forms.CharField(label="Witness or clinician, full name", max_length=200)
    witness_role = forms.ChoiceField(
        label="Role", choices=[("", "Choose…")] + [(r, r) for r in WITNESS_ROLES], initial="Clinician"
    )
    witness_signature = forms.CharField(label="Witness's signature", widget=SignatureInput(), required=False)
    confirm = forms.BooleanField(
        label="The patient has read the form (or had it read to them) and had their questions answered.",
        error_messages={"required": "Confirm the patient has read the form and had their questions answered."},
    )

    def clean_patient_signature(self) -> bytes:
        return _png(self.cleaned_data.get("patient_signature", ""), "patient_signature", "The patient")

    def clean_witness_signature(self) -> bytes:
        return _png(self.cleaned_data.get("witness_signature", ""), "witness_signature", "The witness")


def _png(value: str, field: str, who: str) -> bytes:
    try:
        return png_from_data_url(value, field, who)
    except forms.ValidationError as error:
        raise forms.ValidationError(error.message_dict[field]) from None


class WithdrawForm(ReasonForm):
    """The confirmation step of a withdrawal: a reason from the list, how it was given, and when."""

    withdrawn_on = forms.DateField(
        label="Date the patient withdrew", widget=DateInput(), help_text="Today, or the day they told the clinic."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("reasons", CONSENT_WITHDRAW_REASONS)
        super().__init__(*args, **kwargs)
        self.fields[
            "details"
        ].help_text = "How it was given, e.g. 'Told the nurse by phone'. Needed when the reason is 'Other'."


class TemplateForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    language = forms.ChoiceField(
        choices=[(code, code) for code in LANGUAGES], widget=forms.HiddenInput, initial="en", required=False
    )
    reason = forms.CharField(
        label="Why this change", max_length=300, required=False, help_text="Kept with the new version."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ConsentTemplate.TEXT_FIELDS:
            self.fields[name] = forms.CharField(
                label=FIELD_LABELS[name], widget=forms.Textarea(attrs={"rows": 4}), max_length=4000
            )
        # Fields in reading order, the reason last.
        self.order_fields([*ConsentTemplate.TEXT_FIELDS, "reason", "version", "language"])
