"""Forms for imaging review: a study (details and findings), an image upload, the feasibility decision."""

from datetime import date
from typing import Any

from django import forms

from prolotrack.imaging import findings as catalogue
from prolotrack.imaging.files import DEFAULT_MAX_UPLOAD_MB, MB, max_upload_bytes
from prolotrack.imaging.models import MIN_REASON_CHARS, Feasibility, ImagingStudy
from prolotrack.patients.forms import DateInput, VersionedForm
from prolotrack.patients.models import BodyRegion

REGIONS_WITH_FINDINGS = [(code, label) for code, label in BodyRegion.choices]


class StudyForm(VersionedForm):
    findings = forms.MultipleChoiceField(
        choices=[(f.code, f.label) for f in catalogue.FINDINGS], required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ImagingStudy
        fields = ("modality", "study_date", "body_region", "laterality", "report")
        widgets = {"study_date": DateInput(), "report": forms.Textarea(attrs={"rows": 5})}
        labels = {"body_region": "Body region", "laterality": "Side"}

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["study_date"].widget.attrs["max"] = today.isoformat()
        if self.instance.pk:
            self.fields["findings"].initial = list(self.instance.findings)

    def clean_study_date(self) -> date:
        value = self.cleaned_data["study_date"]
        if value > self.today:
            raise forms.ValidationError("The study date cannot be in the future (the clinic's local date).")
        return value

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        region = data.get("body_region")
        if region:
            try:
                data["findings"] = catalogue.validate(region, data.get("findings") or [])
            except catalogue.FindingsError as error:
                self.add_error("findings", str(error))
        return data

    def changes(self) -> dict[str, Any]:
        values = super().changes()
        values["findings"] = self.cleaned_data.get("findings") or []
        return values

    def finding_groups(self) -> list[dict[str, Any]]:
        """Every region's findings with their checked state: the page shows the chosen region's and the general ones."""
        if self.is_bound:
            chosen = set(self.data.getlist("findings")) if hasattr(self.data, "getlist") else set()
        else:
            chosen = set(self.fields["findings"].initial or [])
        groups = []
        for region, label in [*REGIONS_WITH_FINDINGS, (catalogue.GENERAL, "Any region")]:
            own = [f for f in catalogue.FINDINGS if f.region == region]
            if own:
                groups.append(
                    {
                        "region": region,
                        "label": label,
                        "findings": [{"finding": f, "checked": f.code in chosen} for f in own],
                    }
                )
        return groups


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Image file",
        help_text="PNG, JPEG or DICOM.",
        error_messages={"required": "Choose an image file to attach.", "empty": "The file is empty (0 bytes)."},
        allow_empty_file=True,  # the service refuses it with the same message as the API
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_mb = max_upload_bytes() // MB or DEFAULT_MAX_UPLOAD_MB
        self.fields["file"].help_text = f"PNG, JPEG or DICOM, up to {limit_mb} MB. The type is read from the file."


class FeasibilityForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    feasibility = forms.ChoiceField(
        label="Is the procedure feasible?",
        choices=Feasibility.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose feasible, not feasible or uncertain."},
    )
    feasibility_reason = forms.CharField(
        label="Why",
        min_length=MIN_REASON_CHARS,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What in the images supports the decision (kept with it, with your name and the time).",
        error_messages={
            "required": f"Say why (at least {MIN_REASON_CHARS} characters): the decision is kept with it.",
            "min_length": f"Say why (at least {MIN_REASON_CHARS} characters): the decision is kept with it.",
        },
    )
