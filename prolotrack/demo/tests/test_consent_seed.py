"""The demo: every course with signed sessions has a treatment consent, one is withdrawn, ~60% gave research consent."""

import hashlib

from prolotrack.consent.models import Consent, ConsentScope, ConsentStatus
from prolotrack.demo.seed import DEMO_CLINIC, seed_demo
from prolotrack.patients.models import Patient
from prolotrack.treatment.models import TreatmentSession


def test_the_demo_consents(db, monkeypatch):
    monkeypatch.setenv("PROLOTRACK_DEMO_PASSWORD", "demo-pass-123")
    seed_demo(patients=30, second_clinic_patients=1)
    signed_courses = set(
        TreatmentSession.objects.filter(signed_at__isnull=False).values_list("course_id", flat=True).distinct()
    )
    assert signed_courses
    consented = set(Consent.objects.filter(scope=ConsentScope.TREATMENT).values_list("course_id", flat=True).distinct())
    assert signed_courses <= consented
    assert Consent.objects.filter(status=ConsentStatus.WITHDRAWN).count() == 1
    patients = Patient.objects.filter(clinic__name=DEMO_CLINIC).count()
    research = Consent.objects.filter(scope=ConsentScope.RESEARCH, status=ConsentStatus.SIGNED).count()
    assert 0.4 * patients <= research <= 0.8 * patients
    for consent in Consent.objects.all():
        assert consent.pdf_sha256 == hashlib.sha256(bytes(consent.pdf)).hexdigest()
