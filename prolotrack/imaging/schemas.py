from datetime import date, datetime
from typing import Literal
from uuid import UUID

from ninja import Field, Schema

from prolotrack.imaging import findings as catalogue
from prolotrack.imaging.models import ImagingFile, ImagingStudy

Modality = Literal["ultrasound", "mri", "xray", "ct", "other"]
Region = Literal["knee", "lumbopelvic", "shoulder", "elbow", "ankle_foot", "hip", "neck_thoracic", "tmj", "other"]
Side = Literal["left", "right", "bilateral", "midline", "na", ""]
FeasibilityCode = Literal["feasible", "not_feasible", "uncertain"]


class FindingOut(Schema):
    code: str
    label: str
    concern: bool


class FileOut(Schema):
    id: UUID = Field(alias="uuid")
    kind: str = Field(description="png, jpeg or dicom: detected from the content")
    original_name: str
    size_bytes: int
    sha256: str
    width: int | None
    height: int | None
    dicom_tags: dict = Field(description="Technical DICOM tags only; never the patient's name or ID")
    created_at: datetime
    entered_in_error: bool = Field(alias="is_entered_in_error")
    entered_in_error_reason: str
    content_url: str = Field(description="The image a browser can show (a DICOM's PNG preview), with this token")
    original_url: str = Field(description="The stored file as uploaded")

    @staticmethod
    def resolve_content_url(obj: ImagingFile) -> str:
        return f"/api/imaging/files/{obj.uuid}/content"

    @staticmethod
    def resolve_original_url(obj: ImagingFile) -> str:
        return f"/api/imaging/files/{obj.uuid}/content?original=true"


class StudyOut(Schema):
    id: UUID = Field(alias="uuid")
    version: int
    modality: str
    study_date: date
    body_region: str
    laterality: str
    findings: list[FindingOut]
    report: str
    feasibility: str = Field(description="feasible, not_feasible, uncertain, or empty when not decided")
    feasibility_reason: str
    reviewed_by: str | None
    reviewed_at: datetime | None
    entered_in_error: bool = Field(alias="is_entered_in_error")
    entered_in_error_reason: str
    files: list[FileOut]

    @staticmethod
    def resolve_findings(obj: ImagingStudy) -> list[dict]:
        return [
            {
                "code": code,
                "label": catalogue.label(code),
                "concern": code in catalogue.BY_CODE and catalogue.BY_CODE[code].concern,
            }
            for code in obj.findings
        ]

    @staticmethod
    def resolve_reviewed_by(obj: ImagingStudy) -> str | None:
        return obj.reviewed_by.get_username() if obj.reviewed_by else None

    @staticmethod
    def resolve_files(obj: ImagingStudy) -> list[ImagingFile]:
        return list(obj.files.all())


class StudyIn(Schema):
    modality: Modality
    study_date: date = Field(description="The day the images were taken (not in the future, clinic local date)")
    body_region: Region
    laterality: Side = ""
    findings: list[str] = Field(default_factory=list, description="Finding codes (GET /api/imaging/findings)")
    report: str = Field("", max_length=20000)


class FeasibilityIn(Schema):
    version: int = Field(..., description="The study version you read; a newer one answers 409")
    feasibility: FeasibilityCode
    reason: str = Field(..., max_length=2000, description="Why (at least 10 characters)")


class CatalogueOut(Schema):
    code: str
    label: str
    region: str
    concern: bool
    source: str
