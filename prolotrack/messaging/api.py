"""JSON API of the messaging app: a patient's reminders and the clinic's outbox (outbox.view)."""

from datetime import date, datetime
from uuid import UUID

from ninja import Field, Query, Router, Schema

from prolotrack.audit.services import record_disclosure, record_read
from prolotrack.clinics.api_auth import api_actor
from prolotrack.clinics.http import ApiRequest
from prolotrack.clinics.roles import Permission
from prolotrack.core.api_types import PageNumber
from prolotrack.messaging import queries
from prolotrack.messaging.models import Channel, MessageKind, MessageStatus, OutboxMessage
from prolotrack.patients.queries import patient_or_404

router = Router(tags=["messaging"])


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


@router.get("/patients/{patient_id}/messages", response={200: list[MessageOut]})
def patient_messages(request: ApiRequest, patient_id: UUID) -> list[MessageOut]:
    """The patient's reminders, newest due day first (planned, sent, failed, skipped and cancelled)."""
    actor = api_actor(request, Permission.OUTBOX_VIEW)
    patient = patient_or_404(request, patient_id)
    record_read(actor, "messaging.patient_messages.viewed", record=patient, patient_uuid=patient.uuid)
    rows = queries.outbox(request.clinic, queries.OutboxFilter(patient=patient)).select_related("session", "timepoint")
    return [MessageOut.of(m) for m in rows[:500]]


@router.get("/outbox", response={200: OutboxPage})
def outbox(request: ApiRequest, filters: Query[OutboxQuery]) -> OutboxPage:
    """The clinic's outbox, 50 a page, filtered by status, kind, channel and due day."""
    actor = api_actor(request, Permission.OUTBOX_VIEW)
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        from ninja.errors import HttpError

        raise HttpError(422, "date_from is after date_to: swap them.")
    qs = queries.outbox(
        request.clinic,
        queries.OutboxFilter(
            status=filters.status or "",
            kind=filters.kind or "",
            channel=filters.channel or "",
            date_from=filters.date_from,
            date_to=filters.date_to,
        ),
    ).select_related("session", "timepoint")
    rows, has_next = queries.page(qs, filters.page)
    # The trail names every patient whose messages the page showed (one event each, one insert).
    record_disclosure(
        actor, "messaging.outbox.viewed", [m.patient for m in rows], detail={"rows": len(rows), "page": filters.page}
    )
    return OutboxPage(items=[MessageOut.of(m) for m in rows], page=filters.page, has_next=has_next)
