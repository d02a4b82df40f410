"""Realistic FHIR test data: a few patients with their whole treatment history, and a consent."""

import hashlib
from datetime import date
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from bench.dataset import generate
from prolotrack.booking.testing import set_up_week
from prolotrack.clinics.testing import actor_of
from prolotrack.consent.models import Consent
from prolotrack.core.records import service_write
from prolotrack.documents.models import Document, DocumentPdf
from prolotrack.fhir.models import Cohort
from prolotrack.patients.models import Allergy, Medication

PDF = b"%PDF-1.4\n% a visit summary\n%%EOF\n"


@pytest.fixture
def history(clinic: Any, clinician: Any, admin_user: Any) -> Any:
    """Six patients of Alpha Clinic with conditions, weights, courses, sessions, solutions, sites, events, scores."""
    counts = generate(clinic, patients=6, seed=3, today=date(2026, 6, 1), adverse_event_rate=0.3)
    set_up_week(actor_of(admin_user), [clinician])  # appointment types and hours: the Schedules (booking app)
    with transaction.atomic(), service_write():
        patient = clinic_patient(clinic)
        Consent.objects.create(
            clinic=clinic, patient=patient, scope="research", status="signed", text="I agree.",
            patient_signer_name=patient.full_name, signed_at=timezone.now(), template_version=2,
        )  # fmt: skip
        Consent.objects.create(clinic=clinic, patient=patient, scope="treatment", status="draft", text="Plan.")
        Cohort.objects.create(clinic=clinic, name="Knees", patient_uuids=[str(patient.uuid)])
        # Every exported type has a record: the generator's draw of six patients (seed 3) no longer holds an allergy.
        Allergy.objects.create(clinic=clinic, patient=patient, substance="Latex", reaction="Hives", severity="mild")
        Medication.objects.create(  # a medicine that came in as an order: served as a MedicationRequest
            clinic=clinic, patient=patient, name="Naproxen 500 MG Oral Tablet", drug_class="nsaid", status="active",
            sent_as="MedicationRequest", sent_request={"intent": "order", "status": "active", "authoredOn": "2026-05-02"},
        )  # fmt: skip
        document = Document.objects.create(
            clinic=clinic, patient=patient, kind="visit_summary", status="ready", pdf_size=len(PDF),
            generated_at=timezone.now(), generated_by=clinician, pdf_sha256=hashlib.sha256(PDF).hexdigest(),
        )  # fmt: skip
        DocumentPdf.objects.create(document=document, pdf=PDF, sha256=document.pdf_sha256)
    return counts


def clinic_patient(clinic: Any) -> Any:
    from prolotrack.patients.models import Patient

    return Patient.objects.filter(clinic=clinic).order_by("id").first()
