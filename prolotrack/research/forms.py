from collections.abc import Sequence
from typing import Any, cast

from django import forms

from prolotrack.domain.deidentify import DateMode
from prolotrack.research.models import DataUseAgreement
from prolotrack.research.vocabulary import indication_choices


class ExportForm(forms.Form):
    date_mode = forms.ChoiceField(
        label="Dates",
        choices=[(m.value, m.label) for m in DateMode],
        initial=DateMode.YEAR.value,
        widget=forms.RadioSelect,
        help_text="Year only is the Safe Harbor rule. Shifted dates (each patient's dates move by the same 1-365 days) "
        "make a limited data set: only under a data use agreement an administrator has recorded.",
    )
    agreement = forms.ChoiceField(label="Data use agreement", required=False, choices=[("", "None (Safe Harbor)")])
    indication = forms.ChoiceField(
        label="Indication",
        required=False,
        choices=[("", "Every indication"), *indication_choices()],
        help_text="Codes of the product's indication list (from the course's protocol template).",
    )
    year_from = forms.IntegerField(label="Courses started from (year)", required=False, min_value=1900, max_value=2200)
    year_to = forms.IntegerField(label="to (year)", required=False, min_value=1900, max_value=2200)

    def __init__(self, *args: Any, agreements: Sequence[DataUseAgreement] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["agreement"]).choices = [
            ("", "None (Safe Harbor)"),
            *((str(a.uuid), str(a)) for a in agreements),
        ]

    def clean_agreement(self) -> str | None:
        return self.cleaned_data.get("agreement") or None


class AgreementForm(forms.Form):
    study = forms.CharField(label="Study", max_length=120)
    recipient = forms.CharField(label="Recipient (person and institution)", max_length=200)
    purpose = forms.CharField(label="Permitted purpose", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    signed_on = forms.DateField(label="Signed on", widget=forms.DateInput(attrs={"type": "date"}))
    expires_on = forms.DateField(label="Expires on", widget=forms.DateInput(attrs={"type": "date"}))
    longitudinal = forms.BooleanField(
        label="Longitudinal study: keep pseudonyms and date shifts stable across this study's exports", required=False
    )
