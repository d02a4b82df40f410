"""What the demo shows a visitor, read from the full demo (conftest.py): treatment in every state, consents, every
kind of message (issue 19: the demo promised questionnaire emails and produced none) and a lot to recall."""

import hashlib
from collections import Counter
from typing import Any

import pytest
from django.utils import timezone

from prolotrack.clinics.models import Clinic
from prolotrack.consent.models import Consent, ConsentScope, ConsentStatus
from prolotrack.domain.stock import RecallQuestion
from prolotrack.messaging.models import MessageKind, MessageStatus, OutboxMessage
from prolotrack.patients.models import Patient
from prolotrack.treatment import queries
from prolotrack.treatment.models import AdverseEvent, Course, InjectionSite, PreparedSolution, TreatmentSession

pytestmark = pytest.mark.xdist_group("full_demo")


def test_the_demo_clinic_has_treatment_history_in_every_state(demo: Clinic, db: Any) -> None:
    statuses = set(Course.objects.filter(clinic=demo).values_list("status", flat=True))
    assert statuses == {"open", "completed", "stopped"}
    signed = TreatmentSession.objects.filter(clinic=demo, signed_at__isnull=False)
    assert signed.exists()
    assert InjectionSite.objects.filter(session__in=signed).count() >= 4 * signed.count()
    assert TreatmentSession.objects.filter(clinic=demo, status="booked", starts_at__gte=timezone.now()).exists()
    assert AdverseEvent.objects.filter(clinic=demo).exists()


def test_the_demo_consents(demo: Clinic, db: Any) -> None:
    signed_courses = set(
        TreatmentSession.objects.filter(signed_at__isnull=False).values_list("course_id", flat=True).distinct()
    )
    assert signed_courses
    consented = set(Consent.objects.filter(scope=ConsentScope.TREATMENT).values_list("course_id", flat=True).distinct())
    assert signed_courses <= consented
    assert Consent.objects.filter(status=ConsentStatus.WITHDRAWN).count() == 1
    patients = Patient.objects.filter(clinic=demo).count()
    research = Consent.objects.filter(scope=ConsentScope.RESEARCH, status=ConsentStatus.SIGNED).count()
    assert 0.4 * patients <= research <= 0.8 * patients
    for consent in Consent.objects.all():
        assert consent.pdf_sha256 == hashlib.sha256(consent.pdf_content).hexdigest()


def test_the_demo_has_every_kind_of_message(demo: Clinic, db: Any) -> None:
    kinds = set(OutboxMessage.objects.values_list("kind", flat=True))
    assert kinds == set(MessageKind.values), sorted(set(MessageKind.values) - kinds)
    for kind in (MessageKind.QUESTIONNAIRE_DUE, MessageKind.QUESTIONNAIRE_OVERDUE):
        sent = OutboxMessage.objects.filter(kind=kind, status=MessageStatus.SENT).first()
        assert sent is not None, f"no {kind} email was sent"
        assert "personal questionnaire link" in sent.body and "/q/" not in sent.body


def test_a_demo_lot_recall_names_several_patients(demo: Clinic, db: Any) -> None:
    """One batch of each stock a quarter, shared by the patients treated in it."""
    lots = Counter(
        c["lot"] for s in PreparedSolution.objects.filter(clinic=demo) for c in s.components if c["agent"] == "dextrose"
    )
    lot, _ = lots.most_common(1)[0]
    rows = queries.recall(demo, RecallQuestion("dextrose", lot=lot))
    assert len({r.patient.pk for r in rows}) >= 2
    assert all(r.stock.expiry and r.stock.expiry >= r.session.planned_on for r in rows)
