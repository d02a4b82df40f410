"""The documents API's request and response schemas (its router is api.py)."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from ninja import Schema


class DocumentOut(Schema):
    id: UUID
    kind: str
    title: str
    status: str
    created_at: datetime
    generated_at: datetime | None
    sha256: str
    size: int | None
    session_id: UUID | None
    course_id: UUID | None
    outdated: bool
    error: str
    download_url: str


class ReportIn(Schema):
    kind: Literal["progress_patient", "progress_referrer"]
    course_id: UUID | None = None
