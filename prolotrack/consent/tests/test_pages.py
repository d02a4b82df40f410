"""The consent pages: read and sign with two drawn signatures, refusals shown beside the pad, withdrawal, the cards,
the API list and PDF, and the session page's blocker with its link."""

import base64
import hashlib

from django.utils import timezone

from prolotrack.clinics.testing import actor_of
from prolotrack.consent import queries
from prolotrack.consent.models import Consent, ConsentStatus
from prolotrack.consent.testing import sign_for_course
from prolotrack.core.signatures import scribble_png


def data_url(png):
    return "data:image/png;base64," + base64.b64encode(png).decode()


def form_data(course, **changes):
    values = {
        "text_sha256": queries.treatment_draft(course).sha256,
        "patient_name": "Ada Lovelace",
        "patient_signature": data_url(scribble_png(11)),
        "witness_name": "Clara Clinician",
        "witness_role": "Clinician",
        "witness_signature": data_url(scribble_png(12)),
        "confirm": "on",
    }
    values.update(changes)
    return values


def test_the_course_page_shows_the_text_then_signs(login, clinician, course):
    client = login(clinician)
    page = client.get(f"/courses/{course.uuid}/consent/").content.decode()
    for phrase in ("What prolotherapy is", "3 sessions about 4 weeks apart", "Off-label use", "Cost and insurance",
                   "Risks of injections in the knee", "Your right to stop", "signature_pad.umd.min.js"):  # fmt: skip
        assert phrase in page
    response = client.post(f"/courses/{course.uuid}/consent/", form_data(course))
    consent = Consent.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/consents/{consent.uuid}/"
    assert consent.status == ConsentStatus.SIGNED and consent.witness_name == "Clara Clinician"
    detail = client.get(response["Location"]).content.decode()
    assert "Signed" in detail and consent.pdf_sha256 in detail and "data:image/png;base64," in detail
    pdf = client.get(f"/consents/{consent.uuid}/pdf/")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert hashlib.sha256(pdf.content).hexdigest() == consent.pdf_sha256 == pdf["X-Content-SHA256"]
    # Signed: the page shows it instead of a new form.
    again = client.get(f"/courses/{course.uuid}/consent/").content.decode()
    assert "Open the signed consent" in again and 'id="consent-sign"' not in again


def test_missing_signatures_and_confirmation_are_shown_and_nothing_is_stored(login, clinician, course):
    client = login(clinician)
    response = client.post(
        f"/courses/{course.uuid}/consent/", form_data(course, patient_signature="", witness_signature="x", confirm="")
    )
    text = response.content.decode()
    assert response.status_code == 400
    assert "The patient has not signed" in text
    assert "signature was not received as a PNG" in text
    assert "Confirm the patient has read the form" in text
    assert not Consent.objects.exists()


def test_a_stale_text_is_refused_with_a_reload_message(login, clinician, course):
    response = login(clinician).post(f"/courses/{course.uuid}/consent/", form_data(course, text_sha256="0" * 64))
    assert response.status_code == 400 and "consent text changed" in response.content.decode()
    assert not Consent.objects.exists()


def test_withdrawal_from_the_page(login, colleague, signed_consent):
    client = login(colleague)
    page = client.get(f"/consents/{signed_consent.uuid}/").content.decode()
    assert "Record a withdrawal" in page
    step = client.get(f"/consents/{signed_consent.uuid}/withdraw/").content.decode()
    assert "What will change" in step and "stay planned or booked" in step and "reminders still to be sent" in step
    assert Consent.objects.get(pk=signed_consent.pk).status == "signed"  # the step itself changes nothing
    bad = client.post(
        f"/consents/{signed_consent.uuid}/withdraw/",
        {"version": signed_consent.version, "withdrawn_on": "2999-01-01", "reason": "stopping_treatment"},
    )
    assert bad.status_code == 400 and "cannot be dated in the future" in bad.content.decode()
    no_reason = client.post(
        f"/consents/{signed_consent.uuid}/withdraw/", {"version": signed_consent.version, "withdrawn_on": "2026-01-01"}
    )
    assert no_reason.status_code == 400 and Consent.objects.get(pk=signed_consent.pk).status == "signed"
    today = timezone.localtime(signed_consent.signed_at, signed_consent.clinic.tz).date().isoformat()
    ok = client.post(
        f"/consents/{signed_consent.uuid}/withdraw/",
        {
            "version": signed_consent.version,
            "withdrawn_on": today,
            "reason": "stopping_treatment",
            "details": "Phoned to stop the course",
        },
    )
    assert ok.status_code == 302
    page = client.get(f"/consents/{signed_consent.uuid}/").content.decode()
    assert (
        "Withdrawn" in page
        and "Stopping treatment: Phoned to stop the course" in page
        and "Record a withdrawal" not in page
    )
    card = client.get(f"/courses/{signed_consent.course.uuid}/consent-card/").content.decode()
    assert "No current treatment consent" in card


def test_the_cards_and_the_api(client, login, api_token, clinician, signed_consent):
    web = login(clinician)
    card = web.get(f"/courses/{signed_consent.course.uuid}/consent-card/").content.decode()
    assert "Signed" in card
    chart = web.get(f"/patients/{signed_consent.patient.uuid}/").content.decode()
    assert f"/patients/{signed_consent.patient.uuid}/consents/" in chart
    course_page = web.get(f"/courses/{signed_consent.course.uuid}/").content.decode()
    assert f"/courses/{signed_consent.course.uuid}/consent-card/" in course_page
    listed = web.get(f"/patients/{signed_consent.patient.uuid}/consents/", HTTP_HX_REQUEST="true").content.decode()
    assert "Knee osteoarthritis" in listed and "Record research consent" in listed
    body = client.get(f"/api/patients/{signed_consent.patient.uuid}/consents", headers=api_token(clinician)).json()
    assert [(c["scope"], c["status"], c["course_id"]) for c in body] == [
        ("treatment", "signed", str(signed_consent.course.uuid))
    ]
    # A consent stored without a PDF (test fixtures only) has no PDF to download.
    assert client.get(f"/api/consents/{signed_consent.uuid}/pdf", headers=api_token(clinician)).status_code == 404


def test_the_api_pdf_is_the_stored_bytes(client, api_token, clinician, course):
    consent = sign_for_course(actor_of(clinician), course)
    response = client.get(f"/api/consents/{consent.uuid}/pdf", headers=api_token(clinician))
    assert response.status_code == 200 and response.content == Consent.objects.get().pdf_content
    assert response["X-Content-SHA256"] == consent.pdf_sha256


def test_the_session_page_says_consent_is_missing_and_links_to_it(login, clinician, prepared_session):
    page = login(clinician).get(f"/sessions/{prepared_session.uuid}/").content.decode()
    assert "No signed treatment consent for this course" in page
    assert f'href="/courses/{prepared_session.course.uuid}/consent/"' in page


def test_the_template_page_saves_a_new_version(login, admin_user, course):
    client = login(admin_user)
    page = client.get("/consent-template/").content.decode()
    assert "version 0" in page and "Medicare" in page
    data = {name: getattr(queries.clinic_template(course.clinic).texts, name) for name in (
        "what_it_is", "expected_benefit", "off_label", "insurance", "alternatives", "tell_us", "right_to_stop",
        "research")}  # fmt: skip
    data.update({"insurance": "Each session costs $150; insurers do not pay for it.", "version": 0, "reason": "Fees"})
    assert client.post("/consent-template/", data).status_code == 302
    assert "$150" in queries.treatment_draft(course).text
    empty = client.post("/consent-template/", {**data, "version": 1, "off_label": ""})
    assert empty.status_code == 400
