"""Booking (issue 16, docs/BOOKING.md): appointment types, rooms, clinicians' weekly hours and breaks, time off and
clinic holidays, and appointments for visits that are not sessions of a course (assessments, follow-ups).

Every row is a `ClinicalRecord`: versioned, audited through `services.py`, never deleted. Setup rows (types, rooms,
hours, time off, who offers a type) are switched off with `active = False` (a new version), so the history says when
hours changed; an appointment is cancelled with a reason, never removed.
"""

from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone, translation

from prolotrack.core.limits import validators
from prolotrack.core.links import LinkState, PatientLinkBase
from prolotrack.core.records import ClinicalRecord
from prolotrack.domain.clinic_names import name_in
from prolotrack.domain.limits import BUFFER_MINUTES, SESSION_MINUTES


class AppointmentKind(models.TextChoices):
    ASSESSMENT = "assessment", "New-patient assessment"
    SESSION = "session", "Prolotherapy session"
    FOLLOW_UP = "follow_up", "Follow-up"


class AppointmentType(ClinicalRecord):
    """What can be booked: its length, the buffers around it, who offers it and whether patients may book it online."""

    name = models.CharField(max_length=100)
    # The name in each other language patients read (docs/LANGUAGES.md), {"es": "Consulta de seguimiento"}; a language
    # without an entry shows `name`. Checked by domain/clinic_names.py in services.py; read through patient_name().
    names = models.JSONField(
        default=dict,
        blank=True,
        help_text="The name in each other patient language, by language code; a missing language shows the name.",
    )
    kind = models.CharField(max_length=12, choices=AppointmentKind.choices)
    duration_minutes = models.PositiveSmallIntegerField(validators=validators(SESSION_MINUTES))
    buffer_before_minutes = models.PositiveSmallIntegerField(default=0, validators=validators(BUFFER_MINUTES))
    buffer_after_minutes = models.PositiveSmallIntegerField(default=0, validators=validators(BUFFER_MINUTES))
    bookable_online = models.BooleanField(default=False)
    fee_item = models.ForeignKey(
        "billing.FeeItem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The fee schedule's item for this visit (optional).",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["clinic", "active"])]

    def __str__(self) -> str:
        return self.name

    def patient_name(self, language: str | None = None) -> str:
        """The one way a patient page or message names the type (tests/test_one_home_for_patient_names.py): the
        clinic's name in `language` (default: the active language, the page's or the message's), else `name`. Staff
        pages print `name`."""
        return name_in(self.name, self.names, language or translation.get_language())


class Room(ClinicalRecord):
    """A treatment room. Two appointments in one room at once only where the clinic allows it (a shared gym)."""

    name = models.CharField(max_length=60)
    allow_double_booking = models.BooleanField(default=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class TypeClinician(ClinicalRecord):
    """A clinician offers an appointment type (and may be booked online for it when both allow it)."""

    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="offers")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    bookable_online = models.BooleanField(default=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["appointment_type", "clinician"]
        constraints = [
            models.UniqueConstraint(fields=["appointment_type", "clinician"], name="booking_type_clinician_unique")
        ]


WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class PeriodKind(models.TextChoices):
    HOURS = "hours", "Working hours"
    BREAK = "break", "Break"


class WeeklyPeriod(ClinicalRecord):
    """A clinician's weekly working hours (in a room, or none) or break, wall-clock times in the clinic's zone."""

    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=6, choices=PeriodKind.choices, default=PeriodKind.HOURS)
    weekday = models.PositiveSmallIntegerField(help_text="0 Monday ... 6 Sunday.")
    starts = models.TimeField()
    ends = models.TimeField()
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["clinician", "weekday", "starts", "id"]
        indexes = [models.Index(fields=["clinic", "clinician", "active"])]

    @property
    def weekday_name(self) -> str:
        return WEEKDAY_NAMES[self.weekday] if 0 <= self.weekday <= 6 else str(self.weekday)


class TimeOff(ClinicalRecord):
    """Whole local days off for a clinician, or for the whole clinic (a holiday: no clinician)."""

    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    first_day = models.DateField()
    last_day = models.DateField()
    note = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["first_day", "id"]
        indexes = [models.Index(fields=["clinic", "last_day"])]


class AppointmentStatus(models.TextChoices):
    # An online booking whose contact is not verified yet: it holds its slot until hold_expires_at (15 minutes,
    # docs/BOOKING.md), then holds nothing; entering the code makes it booked.
    HELD = "held", "Held, awaiting verification"
    BOOKED = "booked", "Booked"
    ATTENDED = "attended", "Attended"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


# The statuses that hold the clinician's (and the room's) time; a HELD appointment holds it too until its hold
# expires (holding_q).
HOLDING = (AppointmentStatus.BOOKED, AppointmentStatus.ATTENDED)


def holding_q(now: datetime) -> models.Q:
    """The appointments that hold their time at `now`: booked or attended, or held and not yet expired."""
    return models.Q(status__in=HOLDING) | models.Q(status=AppointmentStatus.HELD, hold_expires_at__gt=now)


class BookingSource(models.TextChoices):
    STAFF = "staff", "Booked by staff"
    ONLINE = "online", "Booked online"
    LINK = "link", "Booked from a link sent to the patient"


class PendingStatus(models.TextChoices):
    UNVERIFIED = "unverified", "Contact not verified yet"
    PENDING = "pending", "Verified, waiting for the front desk"
    CONFIRMED = "confirmed", "Confirmed as a new patient"
    MERGED = "merged", "Matched to an existing patient"
    EXPIRED = "expired", "Expired before verification"
    REJECTED = "rejected", "Rejected by the front desk"


class PendingPatient(ClinicalRecord):
    """A person who booked online and is not (yet) a patient of the clinic: what they typed, never a chart.

    It stays out of every clinical list, search, export and dashboard. The front desk confirms it (a new Patient is
    registered from it) or merges it into an existing record (docs/BOOKING.md); either way `patient` then points at
    the record and the appointments move to it."""

    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    preferred_language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    status = models.CharField(max_length=12, choices=PendingStatus.choices, default=PendingStatus.UNVERIFIED)
    # The one-time code: only its hash, when it stops working, and how many wrong tries were made.
    code_hash = models.CharField(max_length=64, blank=True, editable=False)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    code_attempts = models.PositiveSmallIntegerField(default=0)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by_channel = models.CharField(max_length=10, blank=True)  # "email" or "sms"
    patient = models.ForeignKey("patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["clinic", "status"])]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name} (online booking)"

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class Appointment(ClinicalRecord):
    """A visit that is not a session of a course: an assessment, a follow-up. Its length and buffers are copied from
    its type when booked, so a later change of the type does not move what was booked."""

    # Exactly one of the two: a patient of the clinic, or a person who booked online and is not confirmed yet.
    patient = models.ForeignKey("patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    pending_patient = models.ForeignKey(
        PendingPatient, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    source = models.CharField(max_length=8, choices=BookingSource.choices, default=BookingSource.STAFF)
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="+")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(validators=validators(SESSION_MINUTES))
    buffer_before_minutes = models.PositiveSmallIntegerField(default=0, validators=validators(BUFFER_MINUTES))
    buffer_after_minutes = models.PositiveSmallIntegerField(default=0, validators=validators(BUFFER_MINUTES))
    status = models.CharField(max_length=10, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED)
    status_reason = models.CharField(max_length=300, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(patient__isnull=False, pending_patient__isnull=True)
                | models.Q(patient__isnull=True, pending_patient__isnull=False),
                name="booking_appointment_one_person",
                violation_error_message="An appointment is for one patient or one online booker, not both or none.",
            )
        ]
        indexes = [
            models.Index(fields=["clinic", "starts_at"]),
            models.Index(fields=["clinician", "starts_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_type} at {self.starts_at:%Y-%m-%d %H:%M} UTC"


# --- Waitlist (docs/BOOKING.md, "Waitlist") -------------------------------------------------------------------------


class WaitlistStatus(models.TextChoices):
    # Joined from the public page, contact not verified yet: never offered anything; the right code makes it ACTIVE
    # (and its place in line is the moment of verification), an expired or wrong code makes it EXPIRED.
    UNVERIFIED = "unverified", "Contact not verified yet"
    ACTIVE = "active", "Waiting"
    OFFERED = "offered", "Offered a slot, awaiting an answer"
    BOOKED = "booked", "Booked from an offer"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Window passed"


# The entries the scheduler may offer a slot to (an OFFERED one waits for its answer first).
WAITING = (WaitlistStatus.ACTIVE, WaitlistStatus.OFFERED)


class WaitlistSource(models.TextChoices):
    """Where an entry came from (shown to staff)."""

    STAFF = "staff", "Added by staff"
    ONLINE = "online", "Joined on the public booking page"
    LINK = "link", "Joined from the patient's link"


class WaitlistEntry(ClinicalRecord):
    """A person waiting for an appointment type (with one clinician, or anyone who offers it) inside a window of
    local days, optionally some weekdays and a time of day. The line's order is `joined_at`."""

    patient = models.ForeignKey("patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    pending_patient = models.ForeignKey(
        PendingPatient, null=True, blank=True, on_delete=models.PROTECT, related_name="waitlist_entries"
    )
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="+")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    first_day = models.DateField()
    last_day = models.DateField()
    # Digits of the weekdays wanted, 0 Monday ... 6 Sunday ("024": Monday, Wednesday, Friday); empty: any day.
    weekdays = models.CharField(max_length=7, blank=True)
    earliest = models.TimeField(null=True, blank=True)
    latest = models.TimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    joined_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=WaitlistStatus.choices, default=WaitlistStatus.ACTIVE)
    status_reason = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=8, choices=WaitlistSource.choices, default=WaitlistSource.STAFF)
    # "An earlier time" asked from a manage link: only slots that start before this appointment are offered, and
    # accepting one moves the person there (this appointment is cancelled in the same transaction).
    replaces = models.ForeignKey("Appointment", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(patient__isnull=False, pending_patient__isnull=True)
                | models.Q(patient__isnull=True, pending_patient__isnull=False),
                name="booking_waitlist_one_person",
                violation_error_message="A waitlist entry is for one patient or one online booker, not both or none.",
            )
        ]
        indexes = [models.Index(fields=["clinic", "status", "joined_at"])]

    @property
    def weekday_numbers(self) -> list[int]:
        return [int(d) for d in self.weekdays if d.isdigit()]

    @property
    def person(self) -> Any:
        return self.patient if self.patient_id else self.pending_patient


class OfferOutcome(models.TextChoices):
    OPEN = "open", "Sent, awaiting an answer"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Not answered in time"
    WITHDRAWN = "withdrawn", "Withdrawn by the clinic"


class WaitlistOffer(ClinicalRecord, PatientLinkBase):
    """A freed slot offered to one waiting person: the HELD appointment that keeps the slot for them until
    `expires_at` (the link's expiry and the hold's are the same moment), and the single-use link that accepts or
    declines it. At most one open offer per entry (a database constraint: two scheduler passes cannot both offer)."""

    # Editable here (PatientLinkBase's is not): the token is made when the offer's message is sent, so the live link
    # exists only in the patient's copy; a message sent again after a failure carries a new token (a new version).
    token_hash = models.CharField(max_length=64, unique=True)
    entry = models.ForeignKey(WaitlistEntry, on_delete=models.PROTECT, related_name="offers")
    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=10, choices=OfferOutcome.choices, default=OfferOutcome.OPEN)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry"], condition=models.Q(outcome="open"), name="booking_waitlist_one_open_offer"
            ),
            models.UniqueConstraint(fields=["appointment"], name="booking_waitlist_one_offer_per_hold"),
        ]
        indexes = [models.Index(fields=["clinic", "outcome", "expires_at"])]


class WaitlistLink(ClinicalRecord, PatientLinkBase):
    """The person's own link to their waitlist entry (given when they join by themselves): see what they wait for
    and leave the waitlist. Opened as often as needed until the day after the entry's last day."""

    single_use: ClassVar[bool] = False

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.PROTECT, related_name="links")

    class Meta:
        ordering = ["-created_at", "-id"]


# --- Patient links of booked appointments (the manage helper: booking/patient_links.py, docs/BOOKING.md "Manage links" and
# "Follow-up links") ------------------------------------------------------------------------------------------------


class ManageLink(ClinicalRecord, PatientLinkBase):
    """The patient's link to one appointment: see it, cancel it with a reason or move it to another free slot, within
    the clinic's cancellation window. Opened as often as needed until the appointment ends; revoked when the
    appointment is cancelled or when staff replace the link. Every message about the appointment carries a link of
    its own (the token is shown once), so a patient's older messages keep working."""

    single_use: ClassVar[bool] = False

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="manage_links")
    opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["appointment", "revoked_at"])]

    def state(self, now: datetime | None = None) -> str:
        """Closed once the appointment is no longer booked (cancelled, attended, no-show: revoked), or once it has
        ended (expired): the appointment's current end, so a move by staff carries the link with it."""
        base = super().state(now)
        if base == LinkState.REVOKED:
            return base
        appointment = self.appointment
        if appointment.status != AppointmentStatus.BOOKED or appointment.is_entered_in_error:
            return LinkState.REVOKED
        if (now or timezone.now()) >= appointment.starts_at + timedelta(minutes=appointment.duration_minutes):
            return LinkState.EXPIRED
        return LinkState.OPEN if base == LinkState.EXPIRED else base


class FollowUpLink(ClinicalRecord, PatientLinkBase):
    """ "Book your follow-up": a link sent by staff to an existing patient that books one appointment of one type (with
    one clinician, or any who offers it) directly, from the free slots. Single use; its use is the booking."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="+")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The appointment it booked (set when used).
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="follow_up_links"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "-created_at"])]


class CourseLinkDelivery(models.TextChoices):
    SHOWN = "shown", "Shown to staff to copy"
    MESSAGE = "message", "Sent by the outbox (email, else SMS)"


class CourseLink(ClinicalRecord, PatientLinkBase):
    """ "Book your next session": a link staff make for a course, that books the course's next planned session (its
    clinician, the clinic's prolotherapy-session type, in the window the plan allows) directly from the free slots
    (docs/BOOKING.md, "Course links"). Single use; its use is the booking. Revoked when staff make a new one for the
    course; a course closed meanwhile books nothing (the page says so)."""

    # Editable here (PatientLinkBase's is not): a link sent by message gets its token when the message is sent, so
    # the live link exists only in the patient's copy (as a waitlist offer's).
    token_hash = models.CharField(max_length=64, unique=True)
    course = models.ForeignKey("treatment.Course", on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey("treatment.TreatmentSession", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    delivery = models.CharField(max_length=8, choices=CourseLinkDelivery.choices, default=CourseLinkDelivery.SHOWN)
    # The start the link booked: once used, the link opens as that session's page (see it, cancel it) while the
    # session is still booked at this time (course_links.manage_state); a move by staff closes it.
    booked_starts_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["course", "revoked_at"])]
