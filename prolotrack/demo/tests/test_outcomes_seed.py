"""Demo outcome answers: through the outcomes service, only for timepoints that happened, a mix of responders."""

import pytest
from django.db import transaction

from prolotrack.analytics import queries
from prolotrack.clinics.models import Clinic
from prolotrack.clinics.queries import clinic_today
from prolotrack.demo.outcomes_seed import seed_outcomes
from prolotrack.demo.seed import DEMO_CLINIC, seed_demo
from prolotrack.demo.treatment_seed import seed_treatment
from prolotrack.outcomes.models import QuestionnaireResponse
from prolotrack.treatment.models import SessionStatus, TimepointKind, TreatmentSession


@pytest.fixture
def demo(db, monkeypatch):
    """Forty demo patients with a treatment history, then their answers (the order seed_demo uses)."""
    monkeypatch.setenv("PROLOTRACK_DEMO_PASSWORD", "demo-pass-123")
    seed_demo(patients=40, second_clinic_patients=1, treatment=False)
    clinic = Clinic.objects.get(name=DEMO_CLINIC)
    # The clinic's today, read when the test runs (it was UTC's date when the module was imported: from 18:00 in
    # Chicago already tomorrow, and stale in a run that passes midnight).
    today = clinic_today(clinic)
    with transaction.atomic():
        seed_treatment(clinic, today=today, limit=40)
        counts = seed_outcomes(clinic, today=today)
    assert counts["responses"] == QuestionnaireResponse.objects.filter(clinic=clinic).count()
    return clinic


def test_answers_tell_a_story_and_only_where_a_questionnaire_was_due(demo):
    today = clinic_today(demo)
    responses = QuestionnaireResponse.objects.filter(clinic=demo)
    assert responses.count() > 50
    assert set(responses.values_list("instrument", flat=True)) >= {"nrs_pain", "pgic", "koos_jr"}
    assert not responses.exclude(status="completed").exists()
    assert not responses.filter(authored_on__gt=today).exists()
    # Every answer was written through the audited service.
    assert all(r.version == 1 and r.created_by_id for r in responses)

    groups = queries.responder_groups(demo, queries.Filters())
    responders, evaluable, _ = groups["all"]["all"]
    assert 0 < responders < evaluable

    completion = queries.completion_counts(demo, queries.Filters(), today)
    answered = sum(a for a, _ in completion.values())
    due = sum(d for _, d in completion.values())
    assert 0 < answered < due  # some questionnaires were missed

    # Nothing answered for a session that did not happen; no PGIC at baseline (it rates change since treatment).
    for response in QuestionnaireResponse.objects.filter(clinic=demo, timepoint__kind=TimepointKind.SESSION):
        session = TreatmentSession.objects.get(course=response.course, number=response.timepoint.session_number)
        assert session.status == SessionStatus.DONE
    assert not QuestionnaireResponse.objects.filter(clinic=demo, timepoint__kind="baseline", instrument="pgic").exists()
