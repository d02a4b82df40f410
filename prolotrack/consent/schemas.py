"""The consent API's request and response schemas (its router is api.py)."""

from datetime import datetime
from uuid import UUID

from ninja import Schema


class ConsentOut(Schema):
    id: UUID
    patient_id: UUID
    course_id: UUID | None
    scope: str
    status: str
    template_version: int | None
    patient_signer_name: str
    witness_name: str
    witness_role: str
    signed_at: datetime | None
    pdf_sha256: str
    text_sha256: str
    withdrawn_at: datetime | None
    withdrawal_reason: str
    withdrawn_by: str | None
    version: int
