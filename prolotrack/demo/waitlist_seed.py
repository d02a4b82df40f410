"""Demo waitlist (docs/BOOKING.md, "Waitlist"): three patients waiting for a follow-up, and the scheduler's waitlist
job run as of yesterday morning, so the demo shows offers sent (the outbox's "Waitlist offer" emails, with the link in
the patient's copy only), held slots that ran out unanswered, and today's pass offering the next slots in line.

After the booking seed (appointment types and hours); once only: a clinic that already has a waitlist is left as it is.
"""

from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone

from prolotrack.audit.services import Actor
from prolotrack.booking import queries
from prolotrack.booking import waitlist as booking_waitlist
from prolotrack.booking.models import AppointmentKind, WaitlistEntry
from prolotrack.clinics.queries import members_with
from prolotrack.clinics.roles import Permission
from prolotrack.messaging import services
from prolotrack.patients.models import Patient

WAITING = 3


def seed_waitlist(clinic: Any, *, today: Any) -> int:
    """The waiting entries made (0 when the clinic has no clinician or no patient with an email)."""
    if WaitlistEntry.objects.filter(clinic=clinic).exists():
        return 0
    desk = members_with(clinic, Permission.SCHEDULE_MANAGE, lacking=Permission.PATIENT_VIEW_CLINICAL).first()
    if desk is None:
        return 0
    kind = next((t for t in queries.bookable_types(clinic) if t.kind == AppointmentKind.FOLLOW_UP), None)
    if kind is None:
        return 0
    actor = Actor(user=desk.user, clinic=clinic, role=desk.role, channel="system")
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
