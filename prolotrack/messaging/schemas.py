"""The messaging API's request and response schemas (its router is api.py)."""

from datetime import date, datetime
from uuid import UUID

from ninja import Field, Schema

from prolotrack.core.api_types import PageNumber
from prolotrack.messaging.models import Channel, MessageKind, MessageStatus, OutboxMessage


class MessageOut(Schema):
    id: UUID
    patient_id: UUID
    channel: str
    kind: str
    target: str
    session_id: UUID | None
    timepoint_id: UUID | None
    to_address: str
    subject: str
    body: str
    attachments: list[str] = Field(description="Attachment file names (e.g. the appointment's .ics).")
    scheduled_for: date
    status: str
    sent_at: datetime | None
    attempts: int
    error: str

    @staticmethod
    def of(m: OutboxMessage) -> "MessageOut":
        return MessageOut(
            id=m.uuid,
            patient_id=m.patient.uuid,
            channel=m.channel,
            kind=m.kind,
            target=m.target,
            session_id=m.session.uuid if m.session is not None else None,
            timepoint_id=m.timepoint.uuid if m.timepoint is not None else None,
            to_address=m.to_address,
            subject=m.subject,
            body=m.body,
            attachments=[a["filename"] for a in m.attachments],
            scheduled_for=m.scheduled_for,
            status=m.status,
            sent_at=m.sent_at,
            attempts=m.attempts,
            error=m.error,
        )


class OutboxPage(Schema):
    items: list[MessageOut]
    page: int
    has_next: bool


class OutboxQuery(Schema):
    status: MessageStatus | None = None
    kind: MessageKind | None = None
    channel: Channel | None = None
    date_from: date | None = Field(None, description="Due on or after this day (clinic time).")
    date_to: date | None = Field(None, description="Due on or before this day.")
    page: PageNumber = 1
