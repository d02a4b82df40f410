"""Models of the analytics app: the quarterly figures released to researchers, frozen once released; the dashboard's
per-course facts, kept by the services."""

from django.conf import settings
from django.db import models

# CourseFacts' columns of required timepoints by kind (TimepointKind's values): (due, answered).
KIND_COLUMNS = {
    "baseline": ("baseline_due", "baseline_answered"),
    "session": ("session_due", "session_answered"),
    "follow_up": ("follow_up_due", "follow_up_answered"),
}


class ResearchRelease(models.Model):
    """The researcher-facing figures of one calendar quarter of one clinic, computed once and then served unchanged.

    Frozen on purpose: recomputing a quarter later (after a follow-up answer, a course entered in error) would let the
    difference of two releases point at one course (docs/DASHBOARD.md, "Researchers").
    """

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    period = models.CharField(max_length=7)  # "2025-Q1"
    figures = models.JSONField()
    released_at = models.DateTimeField()
    released_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clinic", "period"], name="research_release_clinic_period")]

    def __str__(self) -> str:
        return f"Research figures {self.period} of clinic {self.clinic_id}"


class CourseFacts(models.Model):
    """What the dashboard counts of one course, kept by the services that write its sources (docs/DASHBOARD.md, "How
    the figures are kept").

    Derived, never edited: `analytics.facts.refresh_courses` recomputes a course's row from its course, sessions,
    timepoints, prepared solutions, adverse events and questionnaire answers in the transaction of every write to them,
    `manage.py course_facts --rebuild` rebuilds a clinic's rows and `--check` compares them with a fresh recompute.
    A course entered in error has no row. No patient identifier is kept here.
    """

    course = models.OneToOneField("treatment.Course", on_delete=models.PROTECT, primary_key=True, related_name="+")
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+", db_index=False)
    # The course's own fields the dashboard filters and groups by.
    started_on = models.DateField()
    indication = models.CharField(max_length=200)
    status = models.CharField(max_length=12)
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    protocol_name = models.CharField(max_length=200)
    # The dextrose target % of the course's first prepared solution (first session with one, first label), if any.
    dextrose = models.CharField(max_length=20, null=True)
    sessions_done = models.IntegerField()
    no_shows = models.IntegerField()
    # The primary instrument (NRS pain): completed, scored answers; the first (baseline) and latest score in
    # (authored_on, id) order; the first day a later answer reached the MCID from the first and the sessions done
    # before that day. The latest PGIC. The verdict: 1 responder, 0 not, NULL not evaluable.
    pain_answers = models.IntegerField()
    pain_first = models.DecimalField(max_digits=7, decimal_places=2, null=True)
    pain_last = models.DecimalField(max_digits=7, decimal_places=2, null=True)
    pgic_last = models.DecimalField(max_digits=7, decimal_places=2, null=True)
    mcid_reached_on = models.DateField(null=True)
    sessions_to_mcid = models.IntegerField(null=True)
    responder = models.SmallIntegerField(null=True)
    # Required timepoints (not entered in error) by kind, whenever due, and those with a completed answer (the
    # dashboard subtracts the ones not due yet: TimepointFacts).
    baseline_due = models.IntegerField()
    baseline_answered = models.IntegerField()
    session_due = models.IntegerField()
    session_answered = models.IntegerField()
    follow_up_due = models.IntegerField()
    follow_up_answered = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["clinic", "started_on"], name="course_facts_clinic_start")]

    def __str__(self) -> str:
        return f"Dashboard facts of course {self.course_id}"


class CourseEventFacts(models.Model):
    """Of one course: how many of its sessions done had at least one adverse event of a type (events not entered in
    error). Kept with CourseFacts, by the same refresh."""

    course = models.ForeignKey("treatment.Course", on_delete=models.PROTECT, related_name="+", db_index=False)
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+", db_index=False)
    event_type = models.CharField(max_length=40)
    sessions = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["course", "event_type"], name="course_event_facts_course_type")]
        indexes = [models.Index(fields=["clinic"], name="course_event_facts_clinic")]

    def __str__(self) -> str:
        return f"{self.event_type} in {self.sessions} sessions of course {self.course_id}"


class TimepointFacts(models.Model):
    """One required timepoint (not entered in error) of a course with facts: when it is due and whether it has a
    completed answer. The dashboard's completion is the courses' counts less the timepoints due after its day, read
    through the (clinic, due_on) index, so it never reads every timepoint. Kept with CourseFacts, by the same refresh."""

    timepoint = models.OneToOneField(
        "treatment.CourseTimepoint", on_delete=models.PROTECT, primary_key=True, related_name="+"
    )
    course = models.ForeignKey("treatment.Course", on_delete=models.PROTECT, related_name="+")
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField(max_length=12)
    due_on = models.DateField()
    answered = models.BooleanField()

    class Meta:
        indexes = [models.Index(fields=["clinic", "due_on"], name="timepoint_facts_clinic_due")]

    def __str__(self) -> str:
        return f"Dashboard facts of timepoint {self.timepoint_id}"
