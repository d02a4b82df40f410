"""The research API's request and response schemas (its router is api.py)."""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from ninja import Field, Schema


class ExportIn(Schema):
    date_mode: Literal["year", "shift"] = Field(
        "year",
        description="'year': dates as years only (Safe Harbor); 'shift': shifted per patient, a limited data set, "
        "only with `agreement`.",
    )
    agreement: UUID | None = Field(None, description="A data use agreement recorded by an administrator.")
    indication: str = Field(
        "", max_length=200, description="An indication code of the product's list (free text is refused)."
    )
    year_from: int | None = Field(None, description="Only courses started in this year or later.")
    year_to: int | None = Field(None, description="Only courses started in this year or earlier.")


class ExportOut(Schema):
    id: UUID
    status: str
    stage: str
    done: int
    total: int
    percent: int
    date_mode: str
    indication: str
    year_from: int | None
    year_to: int | None
    requested_by: str
    requested_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None
    patient_count: int | None
    row_counts: dict[str, int]
    file_size: int | None
    sha256: str
    kind: str
    agreement: UUID | None
    privacy: dict[str, Any]
    error: str
    status_url: str
    download_url: str | None
