"""JSON API of the messaging app: a patient's reminders and the clinic's outbox (outbox.view)."""

from uuid import UUID

from ninja import Query, Router

from prolotrack.audit.services import record_disclosure, record_read
from prolotrack.clinics.api_auth import api_require
from prolotrack.clinics.http import ApiRequest
from prolotrack.clinics.roles import Permission
from prolotrack.messaging import queries
from prolotrack.messaging.schemas import MessageOut, OutboxPage, OutboxQuery
from prolotrack.patients.queries import patient_or_404

router = Router(tags=["messaging"])


@router.get("/patients/{patient_id}/messages", response={200: list[MessageOut]})
@api_require(Permission.OUTBOX_VIEW)
def patient_messages(request: ApiRequest, patient_id: UUID) -> list[MessageOut]:
    """The patient's reminders, newest due day first (planned, sent, failed, skipped and cancelled)."""
    patient = patient_or_404(request, patient_id)
    record_read(request.actor, "messaging.patient_messages.viewed", record=patient, patient_uuid=patient.uuid)
    rows = queries.outbox(request.clinic, queries.OutboxFilter(patient=patient)).select_related("session", "timepoint")
    return [MessageOut.of(m) for m in rows[:500]]


@router.get("/outbox", response={200: OutboxPage})
@api_require(Permission.OUTBOX_VIEW)
def outbox(request: ApiRequest, filters: Query[OutboxQuery]) -> OutboxPage:
    """The clinic's outbox, 50 a page, filtered by status, kind, channel and due day."""
    actor = request.actor
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
