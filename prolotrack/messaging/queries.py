"""Reads of the messaging app: the outbox with filters, a patient's messages and choices, calendar feeds."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Q, QuerySet

from prolotrack.clinics.models import Membership
from prolotrack.clinics.roles import Permission, role_has
from prolotrack.messaging.models import (
    OPEN_STATUSES,
    CalendarFeedToken,
    Channel,
    MessageKind,
    MessageOptOut,
    OutboxMessage,
)
from prolotrack.messaging.services import hash_token
from prolotrack.treatment.models import SessionStatus, TreatmentSession

PAGE_SIZE = 50
# A feed carries sessions from this many days back to this many days ahead.
FEED_PAST_DAYS = 30
FEED_FUTURE_DAYS = 180


@dataclass(frozen=True)
class OutboxFilter:
    status: str = ""
    kind: str = ""
    channel: str = ""
    date_from: date | None = None
    date_to: date | None = None
    patient: Any = None


def outbox(clinic: Any, filters: OutboxFilter) -> QuerySet[OutboxMessage]:
    """The clinic's messages, newest due day first, narrowed by the filters."""
    qs = OutboxMessage.objects.filter(clinic=clinic).select_related("patient")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.date_from:
        qs = qs.filter(scheduled_for__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(scheduled_for__lte=filters.date_to)
    if filters.patient is not None:
        qs = qs.filter(patient=filters.patient)
    return qs.order_by("-scheduled_for", "-id")


def page(qs: QuerySet[OutboxMessage], number: int, size: int = PAGE_SIZE) -> tuple[list[OutboxMessage], bool]:
    """One page and whether another follows (a look-ahead row instead of a COUNT over all history)."""
    start = (max(number, 1) - 1) * size
    rows = list(qs[start : start + size + 1])
    return rows[:size], len(rows) > size


def get_message(clinic: Any, message_uuid: Any) -> OutboxMessage:
    return OutboxMessage.objects.select_related("patient", "session", "timepoint").get(clinic=clinic, uuid=message_uuid)


def patient_messages(patient: Any, limit: int = 200) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(patient=patient).order_by("-scheduled_for", "-id")[:limit])


def opt_out_pairs(patient: Any) -> set[tuple[str, str]]:
    """The (channel, kind) pairs the patient does not want."""
    return set(MessageOptOut.objects.filter(patient=patient, opted_out=True).active().values_list("channel", "kind"))


def choice_grid() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """Rows of (kind, label, [(channel, label)]) for the opt-out form: SMS only where it is ever sent."""
    from prolotrack.messaging.services import SMS_CHOICES

    grid = []
    for kind in MessageKind:
        channels = [(Channel.EMAIL.value, Channel.EMAIL.label)]
        if kind.value in {k.value for k in SMS_CHOICES}:
            channels.append((Channel.SMS.value, Channel.SMS.label))
        grid.append((kind.value, kind.label, channels))
    return grid


def live_feed(user: Any, clinic: Any) -> CalendarFeedToken | None:
    return CalendarFeedToken.objects.filter(user=user, clinic=clinic, revoked_at__isnull=True).first()


def feed_by_token(token: str) -> tuple[CalendarFeedToken, Membership] | None:
    """The live feed of a token whose owner is still an active member allowed a feed, or None."""
    if not token or len(token) > 100:
        return None
    feed = (
        CalendarFeedToken.objects.select_related("user", "clinic")
        .filter(token_hash=hash_token(token), revoked_at__isnull=True)
        .first()
    )
    if feed is None or not feed.user.is_active:
        return None
    membership = Membership.objects.filter(user=feed.user, clinic=feed.clinic, is_active=True).first()
    if membership is None or not membership.can(Permission.CALENDAR_FEED):
        return None
    return feed, membership


def feed_sessions(membership: Membership, today: date) -> list[TreatmentSession]:
    """A clinician's own appointments; for nurses and the front desk, who work the whole clinic's day, all of them."""
    qs = TreatmentSession.objects.filter(
        clinic=membership.clinic,
        starts_at__isnull=False,
        planned_on__gte=today - timedelta(days=FEED_PAST_DAYS),
        planned_on__lte=today + timedelta(days=FEED_FUTURE_DAYS),
    ).filter(Q(status__in=(SessionStatus.BOOKED, SessionStatus.DONE, SessionStatus.NO_SHOW, SessionStatus.CANCELLED)))
    if role_has(membership.role, Permission.SESSION_TREAT):
        qs = qs.filter(clinician=membership.user)
    return list(qs.select_related("patient", "clinic").order_by("starts_at", "id"))


def open_reminders(sessions: Any) -> int:
    """Reminders still to be sent about these sessions (queued or to retry)."""
    return OutboxMessage.objects.filter(session__in=sessions, status__in=OPEN_STATUSES).count()
