"""Treatment courses, their sessions (appointment and procedure record), checklists, solutions, sites, adverse events."""

from django.conf import settings
from django.db import models

from prolotrack.core.limits import validators
from prolotrack.core.records import ClinicalRecord
from prolotrack.domain.limits import (
    BODY_WEIGHT_KG,
    NEEDLE_DEPTH_MM,
    NEEDLE_GAUGE,
    SESSION_MINUTES,
    SITE_VOLUME_ML,
    SOLUTION_VOLUME_ML,
)
from prolotrack.domain.session import Answer
from prolotrack.domain.vocabulary import (
    CHECKLIST_CHOICES,
    AdverseEventType,
    AEOutcome,
    AESeverity,
    BodyRegion,
    Causality,
    ChecklistAnswer,
    Guidance,
    Laterality,
)
from prolotrack.domain.vocabulary import SedationLevel as Sedation

__all__ = ["AEOutcome", "AESeverity", "AdverseEventType", "Causality", "Guidance", "Sedation"]


class CourseStatus(models.TextChoices):
    OPEN = "open", "Open"
    COMPLETED = "completed", "Completed"
    STOPPED = "stopped", "Stopped"


class Course(ClinicalRecord):
    """A course of prolotherapy for one complaint: a protocol, a region and side, a series of sessions."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="courses")
    protocol_id = models.CharField(
        max_length=60, blank=True, help_text="Built-in template code or clinic template UUID."
    )
    protocol_name = models.CharField(max_length=200, blank=True)
    indication = models.CharField(max_length=200)
    region = models.CharField(max_length=20, choices=BodyRegion.choices)
    side = models.CharField(max_length=10, choices=Laterality.choices)
    status = models.CharField(max_length=10, choices=CourseStatus.choices, default=CourseStatus.OPEN)
    stop_reason = models.TextField(blank=True)
    started_on = models.DateField()
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    screening = models.ForeignKey(
        "clinical.ScreeningRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="courses"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_on", "-id"]
        indexes = [models.Index(fields=["clinic", "status"]), models.Index(fields=["patient", "-started_on"])]

    def __str__(self) -> str:
        return f"{self.indication} ({self.get_side_display().lower()}), from {self.started_on:%Y-%m-%d}"


class TimepointKind(models.TextChoices):
    BASELINE = "baseline", "Baseline"
    SESSION = "session", "Session"
    FOLLOW_UP = "follow_up", "Follow-up"


class CourseTimepoint(ClinicalRecord):
    """When outcomes are due in a course: baseline, each session, 6 weeks, 3, 6 and 12 months after the last."""

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="timepoints")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=40)
    label = models.CharField(max_length=100)
    kind = models.CharField(max_length=12, choices=TimepointKind.choices)
    due_on = models.DateField()
    optional = models.BooleanField(default=False)
    session_number = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]


class SessionStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    BOOKED = "booked", "Booked"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


class TreatmentSession(ClinicalRecord):
    """One session of a course: the appointment, then the procedure record, signed and locked."""

    # Not fields: the live sites and syringes that treatment.queries.adverse_event_sessions reads for each session.
    site_rows: list["InjectionSite"]
    solution_rows: list["PreparedSolution"]

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="sessions")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveSmallIntegerField()
    optional = models.BooleanField(default=False, help_text="An 'as needed' session of the protocol.")
    planned_on = models.DateField()
    starts_at = models.DateTimeField(null=True, blank=True, help_text="Appointment time (clinic time zone).")
    duration_minutes = models.PositiveSmallIntegerField(default=45, validators=validators(SESSION_MINUTES))
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=SessionStatus.choices, default=SessionStatus.PLANNED)
    status_reason = models.CharField(max_length=300, blank=True)
    sedation = models.CharField(max_length=5, choices=Sedation.choices, default=Sedation.NONE)
    weight_kg = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=validators(BODY_WEIGHT_KG),
        help_text="Weight used for the anaesthetic limit (from the latest measurement when the record is opened).",
    )
    body_map = models.CharField(max_length=40, blank=True)
    day_screening = models.ForeignKey(
        "clinical.ScreeningRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Immediate observations and instructions.
    vasovagal = models.BooleanField(default=False)
    bleeding = models.BooleanField(default=False)
    last_signs = models.BooleanField("signs of anaesthetic toxicity (LAST)", default=False)
    observation_note = models.TextField(blank=True)
    instructions_given = models.BooleanField("post-procedure instructions given", default=False)
    instructions_note = models.TextField(blank=True)
    note = models.TextField(blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["course", "number"]
        indexes = [
            models.Index(fields=["clinic", "starts_at"]),
            models.Index(fields=["clinic", "planned_on"]),
            # The calendar's "to book" list (queries.unbooked_sessions): planned sessions are few, the clinic's
            # history is not; without it the list walked every past session (docs/PERFORMANCE.md, clinic size).
            models.Index(
                fields=["clinic", "planned_on"], condition=models.Q(status="planned"), name="session_planned_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Session {self.number} of {self.course}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    def lock_reason(self) -> str | None:
        if self.signed_at is not None:
            return "This session note is signed and locked: correct it with an amendment that says why."
        return None


class SessionChild(ClinicalRecord):
    """Abstract: a record that is part of a session note, locked when the session is signed."""

    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True

    def lock_reason(self) -> str | None:
        return self.session.lock_reason()


class ChecklistEntry(SessionChild):
    """One pre-procedure check, ticked by a named member of staff (created_by/updated_by)."""

    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="checklist")
    item = models.CharField(max_length=20, choices=CHECKLIST_CHOICES)
    answer = models.CharField(max_length=3, choices=ChecklistAnswer.choices)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["item"]

    @property
    def answer_enum(self) -> Answer:
        return Answer(self.answer)


class PreparedSolution(SessionChild):
    """A solution mixed for the session: stocks with lot and expiry, target concentrations, final volume."""

    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="solutions")
    label = models.CharField(max_length=10, help_text="A, B, … as written on the syringe.")
    final_volume_ml = models.DecimalField(max_digits=6, decimal_places=2, validators=validators(SOLUTION_VOLUME_ML))
    diluent = models.CharField(max_length=60)
    diluent_volume_ml = models.DecimalField(max_digits=6, decimal_places=2)
    diluent_lot = models.CharField(max_length=60, blank=True)
    with_epinephrine = models.BooleanField(default=False)
    # [{agent, target_pct, stock_pct, stock_volume_ml, amount_mg, lot, expiry}] — computed by domain.mixing.
    components = models.JSONField()

    class Meta:
        ordering = ["label"]

    def __str__(self) -> str:
        parts = ", ".join(f"{c['agent']} {c['target_pct']}%" for c in self.components)
        return f"{self.label}: {parts} ({self.final_volume_ml} mL)"


class InjectionSite(SessionChild):
    """One injection: where on the map, what, how much, how deep, with which needle and guidance."""

    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="sites")
    solution = models.ForeignKey(PreparedSolution, on_delete=models.PROTECT, related_name="sites")
    number = models.PositiveSmallIntegerField()
    landmark = models.CharField(max_length=60, blank=True, help_text="Catalogue code; empty for a free point.")
    label = models.CharField(max_length=120)
    side = models.CharField(max_length=10, choices=Laterality.choices)
    body_map = models.CharField(max_length=40)
    x = models.DecimalField(max_digits=7, decimal_places=2)
    y = models.DecimalField(max_digits=7, decimal_places=2)
    volume_ml = models.DecimalField(max_digits=5, decimal_places=2, validators=validators(SITE_VOLUME_ML))
    depth_mm = models.DecimalField(
        max_digits=5, decimal_places=1, null=True, blank=True, validators=validators(NEEDLE_DEPTH_MM)
    )
    needle_gauge = models.PositiveSmallIntegerField(null=True, blank=True, validators=validators(NEEDLE_GAUGE))
    guidance = models.CharField(max_length=12, choices=Guidance.choices, default=Guidance.LANDMARK)

    class Meta:
        ordering = ["number"]


class AdverseEvent(ClinicalRecord):
    """An adverse event, at the session or any time later, linked to what was given."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="adverse_events")
    course = models.ForeignKey(Course, null=True, blank=True, on_delete=models.PROTECT, related_name="adverse_events")
    session = models.ForeignKey(
        TreatmentSession, null=True, blank=True, on_delete=models.PROTECT, related_name="adverse_events"
    )
    site = models.ForeignKey(InjectionSite, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    solution = models.ForeignKey(PreparedSolution, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    lot = models.CharField(max_length=60, blank=True)
    event_type = models.CharField(max_length=20, choices=AdverseEventType.choices)
    onset_on = models.DateField()
    severity = models.CharField(max_length=10, choices=AESeverity.choices)
    serious = models.BooleanField(
        default=False, help_text="Death, life-threatening, hospitalisation, disability, or needed intervention."
    )
    causality = models.CharField(max_length=15, choices=Causality.choices)
    outcome = models.CharField(max_length=25, choices=AEOutcome.choices, default=AEOutcome.ONGOING)
    description = models.TextField()

    class Meta:
        ordering = ["-onset_on", "-id"]
        indexes = [models.Index(fields=["clinic", "event_type"])]
