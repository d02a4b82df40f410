"""Imaging review: studies (ultrasound, MRI, X-ray...) with structured findings and the feasibility decision,
and the image files attached to them.

Both stand on ClinicalRecord: versioned, audited, never deleted. A file's bytes live under
MEDIA_ROOT/imaging/<clinic uuid>/<file uuid> (never the uploader's file name); the row keeps the original name as data.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from prolotrack.core.records import ClinicalRecord
from prolotrack.domain.vocabulary import Feasibility, Modality
from prolotrack.patients.models import BodyRegion, Laterality


class FileKind(models.TextChoices):
    PNG = "png", "PNG"
    JPEG = "jpeg", "JPEG"
    DICOM = "dicom", "DICOM"


CONTENT_TYPES = {FileKind.PNG: "image/png", FileKind.JPEG: "image/jpeg", FileKind.DICOM: "application/dicom"}

# The shortest feasibility reason accepted: the same bar as a screening override (DOMAIN.md §5, "records why").
MIN_REASON_CHARS = 10


class ImagingStudy(ClinicalRecord):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="imaging_studies")
    modality = models.CharField(max_length=12, choices=Modality.choices)
    study_date = models.DateField(help_text="The day the images were taken.")
    body_region = models.CharField(max_length=20, choices=BodyRegion.choices)
    laterality = models.CharField(max_length=10, choices=Laterality.choices, blank=True)
    # Finding codes from prolotrack/imaging/findings.py, in catalogue order.
    findings = models.JSONField(default=list, blank=True)
    report = models.TextField("report", blank=True, help_text="The radiologist's report or your own reading.")
    feasibility = models.CharField(max_length=12, choices=Feasibility.choices, blank=True)
    feasibility_reason = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-study_date", "-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "-study_date"])]
        verbose_name_plural = "imaging studies"

    def __str__(self) -> str:
        return f"{self.get_modality_display()} {self.get_body_region_display()} {self.study_date:%Y-%m-%d}"

    def clean(self) -> None:
        reason = (self.feasibility_reason or "").strip()
        if self.feasibility and len(reason) < MIN_REASON_CHARS:
            raise ValidationError(
                {
                    "feasibility_reason": f"Say why (at least {MIN_REASON_CHARS} characters): the decision is kept with it."
                }
            )
        if reason and not self.feasibility:
            raise ValidationError({"feasibility": "Choose feasible, not feasible or uncertain for this reason."})


class ImagingFile(ClinicalRecord):
    study = models.ForeignKey(ImagingStudy, on_delete=models.PROTECT, related_name="files")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=FileKind.choices)
    original_name = models.CharField(max_length=255, blank=True)
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # Paths relative to MEDIA_ROOT; the preview is a PNG rendered from DICOM pixel data (blank for PNG and JPEG).
    stored_path = models.CharField(max_length=200)
    preview_path = models.CharField(max_length=200, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    # A few technical DICOM tags (modality, study date, body part...). Never the patient's name or ID.
    dicom_tags = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} file {self.uuid}"

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[FileKind(self.kind)]

    @property
    def display_path(self) -> str:
        """What a browser can show: the PNG preview of a DICOM, else the file itself."""
        return self.preview_path or self.stored_path

    @property
    def display_content_type(self) -> str:
        return "image/png" if self.preview_path else self.content_type
