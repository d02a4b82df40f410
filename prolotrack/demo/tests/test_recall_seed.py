"""The demo clinic has lots to recall: one batch of each stock a quarter, shared by the patients treated in it."""

from collections import Counter

from django.db import transaction

from prolotrack.clinical.queries import clinic_today
from prolotrack.clinics.models import Clinic
from prolotrack.demo.seed import DEMO_CLINIC, seed_demo
from prolotrack.demo.treatment_seed import seed_treatment
from prolotrack.domain.stock import RecallQuestion
from prolotrack.treatment import queries
from prolotrack.treatment.models import PreparedSolution


def test_a_demo_lot_recall_names_several_patients(db, monkeypatch):
    monkeypatch.setenv("PROLOTRACK_DEMO_PASSWORD", "demo-pass-123")
    seed_demo(patients=30, second_clinic_patients=1, treatment=False)
    clinic = Clinic.objects.get(name=DEMO_CLINIC)
    with transaction.atomic():
        seed_treatment(clinic, today=clinic_today(clinic), limit=30)
    lots = Counter(
        c["lot"]
        for s in PreparedSolution.objects.filter(clinic=clinic)
        for c in s.components
        if c["agent"] == "dextrose"
    )
    lot, _ = lots.most_common(1)[0]
    rows = queries.recall(clinic, RecallQuestion("dextrose", lot=lot))
    assert len({r.patient.pk for r in rows}) >= 2
    assert all(r.stock.expiry and r.stock.expiry >= r.session.planned_on for r in rows)
