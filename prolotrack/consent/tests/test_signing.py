"""Signing a consent: the stored text, the PDF and its hash, immutability, withdrawal, the session signing gate."""

import hashlib
import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from pypdf import PdfReader

from prolotrack.audit.models import RecordVersion
from prolotrack.audit.services import AccessDenied, RecordClosedError, ServiceError, update_record
from prolotrack.clinical.queries import clinic_today
from prolotrack.clinics.testing import actor_of
from prolotrack.consent import queries, services
from prolotrack.consent.models import Consent, ConsentScope, ConsentStatus
from prolotrack.consent.testing import sign_for_course, sign_research
from prolotrack.core.records import HistoryBypassError
from prolotrack.core.signatures import scribble_png
from prolotrack.treatment import services as treatment_services
from prolotrack.treatment.models import TreatmentSession


def pdf_text(consent):
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(consent.pdf_content)).pages)


def fresh(record):
    return type(record).objects.get(pk=record.pk)


def jpeg():
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (300, 100), (20, 20, 20)).save(out, format="JPEG")
    return out.getvalue()


def sign(actor, course, **changes):
    draft = queries.treatment_draft(course)
    values = {
        "scope": ConsentScope.TREATMENT, "course": course, "text_sha256": draft.sha256,
        "patient_name": "Ada Lovelace", "patient_signature": scribble_png(1), "witness_name": "Clara Clinician",
        "witness_role": "Clinician", "witness_signature": scribble_png(2),
    }  # fmt: skip
    values.update(changes)
    return services.sign_consent(actor, course.patient, **values)


def test_signing_stores_the_text_the_signatures_and_the_pdf_with_its_hash(clinician, course):
    consent = sign(actor_of(clinician), course)
    assert consent.status == ConsentStatus.SIGNED and consent.version == 2
    assert consent.text == queries.treatment_draft(course).text
    assert consent.template_version == 0
    assert consent.pdf_sha256 == hashlib.sha256(fresh(consent).pdf_content).hexdigest()
    text = pdf_text(fresh(consent))
    for phrase in ("Consent to prolotherapy: Knee osteoarthritis", "Lovelace, Ada", "Ada Lovelace", "Clara Clinician",
                   "off-label", "Medicare", "3 sessions about 4 weeks apart", "inside the joint", "stop the treatment"):  # fmt: skip
        assert phrase in " ".join(text.split()), phrase
    # Both signatures are embedded images.
    reader = PdfReader(io.BytesIO(fresh(consent).pdf_content))
    assert len({image.data for page in reader.pages for image in page.images}) == 2
    actions = list(
        RecordVersion.objects.filter(record_uuid=consent.uuid).order_by("version").values_list("action", flat=True)
    )
    assert actions == ["consent.prepared", "consent.signed"]


def test_a_thoracic_course_names_pneumothorax(clinician, weighed_patient):
    actor = actor_of(clinician)
    course = treatment_services.create_course(
        actor, weighed_patient, protocol_id="", indication="Rib and thoracic pain", region="neck_thoracic",
        side="midline", start_on=clinic_today(weighed_patient.clinic), clinician=clinician,
    )  # fmt: skip
    text = " ".join(pdf_text(sign_for_course(actor, course)).split())
    assert "pneumothorax" in text and "spinal cord" in text


def test_a_text_changed_since_it_was_shown_is_not_signed(clinician, course):
    actor = actor_of(clinician)
    shown = queries.treatment_draft(course).sha256
    treatment_services.add_session(actor, course, course.started_on + timedelta(weeks=30))
    with pytest.raises(ServiceError, match="consent text changed"):
        sign(actor, fresh(course), text_sha256=shown)
    assert not Consent.objects.exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"patient_signature": b"not a png"}, "not a readable PNG"),
        ({"witness_signature": jpeg()}, "not a readable PNG"),
        ({"patient_name": " "}, "full name"),
        ({"witness_role": "Friend"}, "witness's role"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(clinician, course, changes, message):
    with pytest.raises(ValidationError, match=message):
        sign(actor_of(clinician), course, **changes)
    assert not Consent.objects.exists()


def test_a_blank_pad_is_refused(clinician, course):
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (400, 120), (0, 0, 0, 0)).save(out, format="PNG")
    with pytest.raises(ValidationError, match="signature box is empty"):
        sign(actor_of(clinician), course, patient_signature=out.getvalue())


def test_roles_without_consent_manage_cannot_sign(frontdesk, researcher, admin_user, course):
    for user in (frontdesk, researcher, admin_user):
        with pytest.raises(AccessDenied):
            sign(actor_of(user), course)


def test_a_nurse_may_take_consent(colleague, course):
    assert sign(actor_of(colleague), course).created_by == colleague


def test_another_clinic_cannot_sign_for_the_course(outsider, course):
    with pytest.raises(AccessDenied):
        sign(actor_of(outsider), course)


def test_a_signed_consent_cannot_change_even_as_an_amendment(clinician, signed_consent):
    actor = actor_of(clinician)
    with transaction.atomic(), pytest.raises(RecordClosedError, match="signed consent cannot change"):
        update_record(actor, signed_consent, {"text": "Something else"}, "x", expected_version=None)
    for field, value in (("text", "Something else"), ("patient_signer_name", "Someone"), ("signed_at", None),
                         ("status", ConsentStatus.DRAFT)):  # fmt: skip
        with transaction.atomic(), pytest.raises(ValidationError):
            update_record(
                actor, signed_consent, {field: value}, "x", expected_version=None, amendment=True,
                reason="Trying to rewrite history",
            )  # fmt: skip
    assert fresh(signed_consent).text == signed_consent.text
    with pytest.raises(HistoryBypassError):
        signed_consent.delete()
    with pytest.raises(HistoryBypassError):
        Consent.objects.all().delete()


def test_the_pdf_and_its_hash_cannot_be_replaced(clinician, course):
    consent = sign_for_course(actor_of(clinician), course)
    with transaction.atomic(), pytest.raises(ValidationError, match="pdf"):
        update_record(
            actor_of(clinician), fresh(consent), {"pdf": b"%PDF-fake", "pdf_sha256": "0" * 64}, "x",
            expected_version=None, amendment=True, reason="Replace the document",
        )  # fmt: skip
    assert fresh(consent).pdf_sha256 == hashlib.sha256(fresh(consent).pdf_content).hexdigest()


def test_withdrawal_is_recorded_with_date_reason_and_who_and_nothing_is_deleted(clinician, colleague, signed_consent):
    today = clinic_today(signed_consent.clinic)
    withdrawn = services.withdraw_consent(
        actor_of(colleague), signed_consent, reason="Phoned to stop the injections", withdrawn_on=today,
        expected_version=signed_consent.version,
    )  # fmt: skip
    assert withdrawn.status == ConsentStatus.WITHDRAWN
    assert withdrawn.withdrawn_by == colleague and withdrawn.withdrawal_reason == "Phoned to stop the injections"
    assert withdrawn.text == signed_consent.text and withdrawn.signed_at == signed_consent.signed_at
    version = RecordVersion.objects.get(record_uuid=signed_consent.uuid, version=withdrawn.version)
    assert version.action == "consent.withdrawn" and "Phoned to stop" in version.reason
    assert Consent.objects.count() == 1
    with pytest.raises(ServiceError, match="already withdrawn"):
        services.withdraw_consent(actor_of(colleague), fresh(signed_consent), reason="Again, twice")
    with transaction.atomic(), pytest.raises(ValidationError):
        update_record(
            actor_of(clinician), fresh(signed_consent), {"status": ConsentStatus.SIGNED}, "x", expected_version=None,
            amendment=True, reason="Undo the withdrawal",
        )  # fmt: skip


@pytest.mark.parametrize(
    ("days", "reason", "message"),
    [(1, "Phoned to stop", "in the future"), (-30, "Phoned to stop", "date the withdrawal on or after"), (0, "no", "at least 5")],
)  # fmt: skip
def test_a_bad_withdrawal_is_refused(clinician, signed_consent, days, reason, message):
    when = clinic_today(signed_consent.clinic) + timedelta(days=days)
    with pytest.raises(ValidationError, match=message):
        services.withdraw_consent(actor_of(clinician), signed_consent, reason=reason, withdrawn_on=when)
    assert fresh(signed_consent).status == ConsentStatus.SIGNED


def test_one_current_consent_per_course_and_a_new_one_after_withdrawal(clinician, signed_consent):
    actor = actor_of(clinician)
    course = signed_consent.course
    with pytest.raises(ServiceError, match="already current"):
        sign(actor, course)
    services.withdraw_consent(actor, signed_consent, reason="Wants to think again")
    second = sign(actor, course)
    assert queries.current_treatment_consent(course.pk) == second


# --- The signing gate -------------------------------------------------------------------------------------------


def test_a_session_is_not_signed_without_a_consent(clinician, prepared_session):
    with pytest.raises(ServiceError, match="No signed treatment consent for this course"):
        treatment_services.sign_session(actor_of(clinician), prepared_session)
    assert fresh(prepared_session).signed_at is None


def test_a_session_is_signed_with_a_current_consent(clinician, prepared_session):
    actor = actor_of(clinician)
    sign_for_course(actor, prepared_session.course, render=False)
    assert treatment_services.sign_session(actor, fresh(prepared_session)).signed_at is not None


def test_a_session_is_not_signed_after_the_consent_was_withdrawn(clinician, prepared_session):
    actor = actor_of(clinician)
    consent = sign_for_course(actor, prepared_session.course, render=False)
    services.withdraw_consent(actor, consent, reason="Changed her mind")
    with pytest.raises(ServiceError, match="withdrew the treatment consent"):
        treatment_services.sign_session(actor, fresh(prepared_session))
    assert TreatmentSession.objects.get(pk=prepared_session.pk).signed_at is None


def test_a_consent_of_another_course_does_not_count(clinician, prepared_session, weighed_patient):
    actor = actor_of(clinician)
    other = treatment_services.create_course(
        actor, weighed_patient, protocol_id="", indication="Tennis elbow", region="elbow", side="left",
        start_on=prepared_session.planned_on, clinician=clinician,
    )  # fmt: skip
    sign_for_course(actor, other, render=False)
    with pytest.raises(ServiceError, match="No signed treatment consent"):
        treatment_services.sign_session(actor, fresh(prepared_session))


# --- Research consent and the clinic template -------------------------------------------------------------------


def test_research_consent_and_the_list_the_export_uses(clinician, colleague, patient, make_patient):
    other = make_patient(given_name="Grace", family_name="Hopper")
    consent = sign_research(actor_of(colleague), patient)
    assert consent.course is None and consent.scope == ConsentScope.RESEARCH
    assert "de-identified" in " ".join(pdf_text(consent).split())
    assert list(queries.research_consenting_patients(patient.clinic)) == [patient]
    services.withdraw_consent(actor_of(colleague), consent, reason="No longer wants to take part")
    assert not queries.research_consenting_patients(patient.clinic).exists()
    assert other.pk  # a patient who never consented is never listed


def test_the_clinic_template_is_versioned_and_used_for_new_consents_only(clinician, admin_user, colleague, course):
    old = sign_for_course(actor_of(clinician), course, render=False)
    admin = actor_of(admin_user)
    first = services.save_template(
        admin, {"insurance": "Our fee is $150 a session; insurers here do not cover it."}, expected_version=0
    )
    assert first.version == 1 and first.what_it_is  # the other paragraphs start from the default
    second = services.save_template(
        admin, {"alternatives": "Physiotherapy, medicines, other injections, surgery."}, expected_version=1,
        reason="Shorter list agreed at the clinic meeting",
    )  # fmt: skip
    assert second.version == 2
    with pytest.raises(ServiceError, match="after you opened it"):
        services.save_template(admin, {"alternatives": "x y z"}, expected_version=1)
    with pytest.raises(ValidationError):
        services.save_template(admin, {"insurance": " "}, expected_version=2)
    with pytest.raises(AccessDenied):
        services.save_template(actor_of(colleague), {"insurance": "Free"}, expected_version=2)
    draft = queries.treatment_draft(course)
    assert draft.template_version == 2 and "$150 a session" in draft.text
    assert "$150" not in fresh(old).text and fresh(old).template_version == 0
