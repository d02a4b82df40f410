from django import forms

from prolotrack.domain.deidentify import DateMode


class ExportForm(forms.Form):
    date_mode = forms.ChoiceField(
        label="Dates",
        choices=[(m.value, m.label) for m in DateMode],
        initial=DateMode.YEAR.value,
        widget=forms.RadioSelect,
        help_text="Year only is the Safe Harbor rule. Shifted dates keep the intervals within a patient (each "
        "patient's dates move by the same 1-365 days); use them under an expert determination or your data use "
        "agreement.",
    )
    indication = forms.CharField(
        label="Indication contains",
        required=False,
        max_length=200,
        help_text="Only courses whose indication contains this text. Empty: every course.",
        widget=forms.TextInput(attrs={"list": "indications", "autocomplete": "off"}),
    )
    year_from = forms.IntegerField(label="Courses started from (year)", required=False, min_value=1900, max_value=2200)
    year_to = forms.IntegerField(label="to (year)", required=False, min_value=1900, max_value=2200)
