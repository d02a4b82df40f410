"""Demo waitlist (docs/BOOKING.md, "Waitlist"): three patients waiting for a follow-up, and the scheduler's waitlist
job run as of yesterday morning, so the demo shows offers sent (the outbox's "Waitlist offer" emails, with the link in
the patient's copy only), held slots that ran out unanswered, and today's pass offering the next slots in line.

The demo has no booking setup of its own yet: when the clinic has no appointment types, the usual three are made
(booking.testing.set_up_week: Monday-Friday 09:00-17:00 with a lunch break) for its clinicians, through the services.
"""

from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone

from prolotrack.audit.services import Actor
from prolotrack.booking import queries
from prolotrack.booking import waitlist as booking_waitlist
from prolotrack.booking.models import AppointmentKind, AppointmentType
from prolotrack.booking.testing import set_up_week
from prolotrack.clinics.queries import members_with
from prolotrack.clinics.roles import Permission, Role
from prolotrack.messaging import services
from prolotrack.patients.models import Patient

WAITING = 3


def seed_waitlist(clinic: Any, *, today: Any) -> int:
    """The waiting entries made (0 when the clinic has no clinician or no patient with an email)."""
    admin = members_with(clinic, Permission.CLINIC_MANAGE).select_related("user").first()
    desk = members_with(clinic, Permission.SCHEDULE_MANAGE).select_related("user").first()
    clinicians = [m.user for m in members_with(clinic, Permission.SESSION_TREAT).select_related("user")]
    if admin is None or desk is None or not clinicians:
        return 0
    if not AppointmentType.objects.filter(clinic=clinic).exists():
        set_up_week(Actor(user=admin.user, clinic=clinic, role=admin.role, channel="system"), clinicians)
    kind = next((t for t in queries.bookable_types(clinic) if t.kind == AppointmentKind.FOLLOW_UP), None)
    if kind is None:
        return 0
    actor = Actor(user=desk.user, clinic=clinic, role=desk.role or Role.FRONT_DESK, channel="system")
    people = (
        Patient.objects.filter(clinic=clinic, entered_in_error_at__isnull=True)
        .exclude(email="")
        .order_by("-id")[:WAITING]
    )
    made = 0
    for person in people:
        booking_waitlist.join_waitlist(
            actor,
            patient=person,
            appointment_type=kind,
            first_day=today + timedelta(days=2),
            last_day=today + timedelta(days=21),
            earliest=time(9) if made % 2 == 0 else None,
            latest=time(12) if made % 2 == 0 else None,
        )
        made += 1
    # Yesterday morning's pass (inside the sending window) made and sent the offers; today's pass (real time) closes
    # the holds that ran out and, inside the window, offers the next slots in line.
    yesterday = datetime.combine(today - timedelta(days=1), time(9, 0), tzinfo=clinic.tz)
    services.run_pass(now=yesterday, clinics=[clinic])
    services.run_pass(now=max(timezone.now(), yesterday + timedelta(hours=2)), clinics=[clinic])
    return made
