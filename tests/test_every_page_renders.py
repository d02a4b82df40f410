"""Every page of every object the API (and the services behind the demo seed) can create renders with every optional
field left empty (issue 11: a course opened through the API without its optional clinician made its course page and
every session page answer 500, VariableDoesNotExist).

The objects are created with only their required fields, through the JSON API where it has an endpoint and through
the services otherwise. Then every URL pattern of the site (not /api or /fhir, which have their own schema tests) is
filled with those objects and requested with GET by each persona until one may see it; each must answer 200. A
pattern this test cannot fill fails the test, so a new page is not silently left out.
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from prolotrack.accounts.testing import mark_verified
from prolotrack.billing import services as billing_services
from prolotrack.billing.models import Invoice
from prolotrack.billing.testing import fee_schedule
from prolotrack.booking import services as booking_services
from prolotrack.booking import waitlist as booking_waitlist
from prolotrack.booking.testing import at, next_weekday, pending_booking
from prolotrack.clinics.testing import actor_of
from prolotrack.consent.testing import sign_for_course, sign_research
from prolotrack.imaging.models import ImagingStudy
from prolotrack.imaging.services import attach_file
from prolotrack.intake import services as intake_services
from prolotrack.messaging import services as messaging_services
from prolotrack.messaging.models import OutboxMessage
from prolotrack.outcomes.models import QuestionnaireLink
from prolotrack.patients import services as patient_services
from prolotrack.patients.models import Patient
from prolotrack.treatment import services as treatment_services
from prolotrack.treatment.models import Course, TreatmentSession
from tests.test_browser_hardening import hardening_problem

# Patterns answered only to POST (the page that shows their form is covered by its own GET pattern).
POST_ONLY = {
    "treatment:course-add-session", "treatment:timepoint-move", "treatment:session-header",
    "treatment:session-observations", "treatment:session-checklist", "treatment:session-rescreen",
    "treatment:solution-add", "treatment:solution-preview", "treatment:site-add", "treatment:session-sign",
    "outcomes:link-revoke", "documents:regenerate", "documents:request-report", "handouts-revert",
    "documents:handout-revert", "consent:withdraw-post", "imaging:file-upload", "imaging:feasibility",
    "patients:no-known-allergies", "research:export-status", "clinical:screening-override", "outcomes:link-create",
    "accounts:revoke-token", "accounts:passkey-options", "accounts:passkey-sign-in", "accounts:passkey-sign-in-options",
    "smart:launch",
    "billing:fee-version", "billing:invoice-new", "billing:invoice-from-session", "billing:line-add",
    "billing:line-remove", "billing:invoice-use-credit", "billing:abn-sign", "billing:abn-health-change",
    "billing:checkout-issue", "billing:checkout-pay", "accounts:staff-npi",
    "messaging:email-invoice", "messaging:email-receipt", "messaging:email-superbill",
    "billing:package-offer-add", "billing:package-offer-version", "billing:package-link",
    "booking:type-add", "booking:room-add", "booking:hours-add", "booking:hours-remove", "booking:time-off-add",
    "booking:time-off-remove", "booking:attendance", "booking:drop",
    "intake:decide",
}  # fmt: skip
# Patterns that need something no API or optional-field-free record gives (a patient's token, a dashboard name).
NOT_OBJECT_PAGES = {
    "outcomes:answer-start", "outcomes:answer-review", "outcomes:answer-page",  # the patient's token: own tests
    "intake:start", "intake:check", "intake:step",  # the patient's token: intake/tests/test_pages.py
    "messaging:calendar-feed",  # a feed token: own tests
    "booking:waitlist-offer",  # a waitlist offer's token: booking/tests/test_waitlist_pages.py
    "booking:manage", "booking:manage-cancel", "booking:manage-move",  # a patient's manage link: own tests
    "booking:follow-up",  # a patient's follow-up link: booking/tests/test_patient_link_pages.py
    "booking:course-link-page",  # a course's link: booking/tests/test_course_link_pages.py
    "booking:course-link-cancel", "booking:course-link-move",  # a used course link: booking/tests/test_course_link_manage.py
    "analytics:chart", "analytics:chart-csv",  # dashboard charts by name: own tests
    "billing:report-chart", "billing:report-csv",  # financial reports by name: billing/tests/test_report_pages.py
    "research:export-download",  # a finished export file: own tests
    "clinical:protocol-edit", "clinical:protocol-retire",  # a clinic's own protocol template: clinical tests
    "messaging:message",  # a patient with no contact details gets no reminder to show: messaging tests
    "smart:app",  # an app an administrator registered: smart/tests/test_pages.py
    "accounts:passkey-remove",  # a passkey its owner registered in the browser: accounts/tests/test_passkeys.py
    "billing:abn-pdf",  # a signed Medicare ABN (an Original Medicare patient's course): billing/tests/test_abn.py
    "booking:public-start", "booking:public-details", "booking:public-code",  # a clinic's slug; online booking is
    # off by default (a kind 404): booking/tests/test_online.py
    "booking:public-waitlist", "booking:public-waitlist-code",  # the same: booking/tests/test_waitlist_join_pages.py
    "booking:manage-waitlist", "booking:follow-up-waitlist", "booking:waitlist-entry",  # a patient's link: the same
}  # fmt: skip
# Pages that answer 404 for a minimal record, and why (nothing to show is the right answer).
EXPECTED_404 = {
    "outcomes:trajectory-chart": "no scores of that instrument for a patient who answered nothing",
}  # fmt: skip


def _png() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("L", (8, 8), 128).save(out, format="PNG")
    return out.getvalue()


def _walk(patterns: list[Any], namespace: str = "") -> list[tuple[str, Any]]:
    found = []
    for p in patterns:
        if isinstance(p, URLResolver):
            inner = f"{namespace}{p.namespace}:" if p.namespace else namespace
            found += _walk(p.url_patterns, inner)
        elif isinstance(p, URLPattern) and p.name:
            found.append((f"{namespace}{p.name}", p))
    return found


def _json(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.content.decode()[:500]
    return response.json()


@pytest.fixture
def minimal(client, clinician, admin_user, researcher, api_token) -> dict[str, Any]:
    """One of everything, with only the required fields."""
    headers = api_token(clinician)
    actor = actor_of(clinician)

    def post(path: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
        return _json(client.post(path, body, content_type="application/json", headers=headers), status)

    patient_id = post(
        "/api/patients", {"given_name": "Min", "family_name": "Imal", "date_of_birth": "1970-01-01", "sex": "female"}
    )["id"]
    patient = Patient.objects.get(uuid=patient_id)
    # The clinic's own today: just after midnight UTC, date.today() is already tomorrow in a zone west of UTC.
    today = timezone.localdate(timezone=patient.clinic.tz)
    with transaction.atomic():
        children = {
            "weight": patient_services.add_child(actor, patient, "weight", {"measured_on": today, "weight_kg": 70}),
            "condition": patient_services.add_child(actor, patient, "condition", {"description": "Knee pain"}),
            "medication": patient_services.add_child(
                actor, patient, "medication", {"name": "Paracetamol", "drug_class": "other"}
            ),
            "allergy": patient_services.add_child(
                actor, patient, "allergy", {"substance": "Latex", "severity": "mild"}
            ),
        }
    screening = post(
        "/api/screening/evaluate",
        {
            "patient_id": patient_id,
            "procedure": {"date": today.isoformat(), "region": "knee", "side": "right", "agents": ["dextrose"]},
        },
        status=201,
    )
    study = post(
        f"/api/patients/{patient_id}/imaging",
        {"modality": "ultrasound", "study_date": today.isoformat(), "body_region": "knee"},
    )
    course_id = post(
        f"/api/patients/{patient_id}/courses",
        {"indication": "Knee pain", "region": "knee", "side": "right", "start_on": today.isoformat()},
    )["id"]
    course = Course.objects.get(uuid=course_id)
    assert course.clinician is None and course.screening is None
    session = course.sessions.order_by("number").first()
    assert session.clinician is None and session.starts_at is None
    solution = treatment_services.add_solution(
        actor, session, label="A", final_volume_ml=Decimal("10"),
        components=[{"agent": "dextrose", "target_pct": "15", "stock_pct": "50"}],
    )  # fmt: skip
    site, _ = treatment_services.add_site(
        actor, TreatmentSession.objects.get(pk=session.pk), solution=solution, body_map="knee_front",
        x=Decimal("100"), y=Decimal("100"), side="right", volume_ml=Decimal("0.5"), label="Tender point",
    )  # fmt: skip
    check = treatment_services.tick(actor, TreatmentSession.objects.get(pk=session.pk), "meal", "yes")
    event = post(
        f"/api/patients/{patient_id}/adverse-events",
        {"event_type": "bruising", "onset_on": today.isoformat(), "severity": "mild", "causality": "possible",
         "description": "Bruise"},
    )  # fmt: skip
    link = post(f"/api/patients/{patient_id}/questionnaire-links", {"instruments": ["nrs_pain"]})
    document = post(f"/api/patients/{patient_id}/documents", {"kind": "progress_patient"}, status=202)
    consent = sign_for_course(actor, course)
    research_consent = sign_research(actor, patient, render=False)
    export = _json(
        client.post("/api/research/exports", {}, content_type="application/json", headers=api_token(researcher)), 202
    )
    with transaction.atomic():
        file = attach_file(actor, ImagingStudy.objects.get(uuid=study["id"]), _png(), "scan.png")
    treatment_services.book_session(
        actor, TreatmentSession.objects.get(pk=session.pk),
        starts_at=datetime.now(patient.clinic.tz) + timedelta(days=3), clinician=clinician,
    )  # fmt: skip
    messaging_services.run_pass()
    message = OutboxMessage.objects.filter(clinic=patient.clinic).first()
    admin = actor_of(admin_user)
    fees = fee_schedule(admin, today)
    draft = billing_services.draft_invoice(admin, patient)
    billing_services.add_line(admin, draft, fees["FOLLOW-UP"])
    invoice = billing_services.issue_invoice(admin, Invoice.objects.get(pk=draft.pk))
    payment = billing_services.record_payment(admin, patient, amount="10.00", currency="USD", method="cash")
    offer = billing_services.create_package_offer(
        admin, code="PKG", description="Package", price="100.00", uses=2, validity_days=30,
        protocol_id="knee_oa_rabago", active_from=today,
    )  # fmt: skip
    package = billing_services.sell_package_on_new_draft(admin, patient, offer)
    # Booking (docs/BOOKING.md): a type with its required fields only, offered by the clinician, hours without a
    # room, and an appointment without a note.
    kind = booking_services.create_appointment_type(
        admin, {"name": "Follow-up", "kind": "follow_up", "duration_minutes": 30}
    )
    booking_services.set_offers(admin, kind, [clinician])
    day = next_weekday(patient.clinic, 2)
    booking_services.add_weekly_period(admin, clinician, weekday=day.weekday(), starts=time(9), ends=time(10))
    visit = booking_services.book_appointment(
        actor, patient=patient, appointment_type=kind, clinician=clinician, starts_at=at(patient.clinic, day, "09:00")
    )
    # A person who booked online (no chart yet): the front desk's screens, and an appointment page for no patient.
    booker = pending_booking(
        patient.clinic, kind, clinician, at(patient.clinic, day, "09:30"), email="", preferred_language="en"
    )
    # A waitlist entry with its required fields only (offers go by email, so its patient has an address).
    with transaction.atomic():
        waiting = patient_services.create_patient(
            actor,
            {"given_name": "Wai", "family_name": "Ting", "date_of_birth": date(1970, 1, 1), "sex": "female",
             "email": "wait@example.org"},
        )  # fmt: skip
    entry = booking_waitlist.join_waitlist(actor, patient=waiting, appointment_type=kind, first_day=day, last_day=day)
    intake, _path = intake_services.request_intake(actor, visit, delivery="shown")  # sent, nothing answered
    return {
        "appointment_type": kind, "appointment": visit, "pending": booker, "waitlist_entry": entry, "intake": intake,
        "patient": patient, "children": children, "screening": screening, "study": study, "course": course,
        "session": session, "solution": solution, "site": site, "check": check, "event": event,
        "link": QuestionnaireLink.objects.get(uuid=link["id"]), "document": document, "consent": consent,
        "research_consent": research_consent, "export": export, "file": file,
        "message": message, "timepoint": course.timepoints.first(), "staff_member": clinician,
        "invoice": invoice, "fee": fees["M0076"], "payment": payment, "package": package,
    }  # fmt: skip


def _kwargs(name: str, pattern: Any, m: dict[str, Any]) -> list[dict[str, Any]]:
    """Every way to fill the pattern with the minimal objects (one per record kind where the URL takes a kind)."""
    keys = set(pattern.pattern.regex.groupindex)
    uuids = {
        "patient_uuid": m["patient"].uuid, "course_uuid": m["course"].uuid, "session_uuid": m["session"].uuid,
        "event_uuid": m["event"]["id"], "screening_uuid": m["screening"]["id"], "study_uuid": m["study"]["id"],
        "file_uuid": m["file"].uuid, "timepoint_uuid": m["timepoint"].uuid, "link_uuid": m["link"].uuid,
        "message_uuid": m["message"].uuid if m["message"] else None, "document_uuid": m["document"]["id"],
        "consent_uuid": m["consent"].uuid, "job_uuid": m["export"]["id"], "user_uuid": m["staff_member"].uuid,
        "invoice_uuid": m["invoice"].uuid, "fee_uuid": m["fee"].uuid, "payment_uuid": m["payment"].uuid,
        "package_uuid": m["package"].uuid,
        "type_uuid": m["appointment_type"].uuid, "appointment_uuid": m["appointment"].uuid,
        "pending_uuid": m["pending"].uuid, "entry_uuid": m["waitlist_entry"].uuid,
        "intake_uuid": m["intake"].uuid,
    }  # fmt: skip
    strings = {
        "protocol_id": "knee_oa_rabago", "code": None, "handout": "after", "instrument": "nrs_pain",
        "fmt": "svg",
    }  # fmt: skip
    base = {
        k: uuids[k] if k in uuids else strings.get(k) for k in keys if k not in ("kind", "item_uuid", "record_uuid")
    }
    if name == "clinical:map-preview" or name == "treatment:map-preview":
        base["code"] = "knee_front"
    elif "code" in keys:
        base["code"] = "womac" if name.startswith("outcomes:") else "after.general"
    if "item_uuid" in keys:
        return [
            {**base, "kind": k, "item_uuid": m[v].uuid}
            for k, v in (("site", "site"), ("solution", "solution"), ("checklist", "check"))
        ]
    if "record_uuid" in keys:
        return [{**base, "kind": k, "record_uuid": r.uuid} for k, r in m["children"].items()]
    if "kind" in keys:
        return [{**base, "kind": k} for k in m["children"]]
    return [base]


def test_every_page_of_every_minimal_object_renders(client, minimal, personas):
    users = [personas[p] for p in ("clinician", "admin", "colleague", "frontdesk", "researcher") if p in personas]
    failures, checked = [], 0
    for name, pattern in _walk(get_resolver().url_patterns):
        if not pattern.pattern.regex.groupindex or name.startswith(("api:", "fhir:")) or name in NOT_OBJECT_PAGES:
            continue
        if name in POST_ONLY:
            continue
        for kwargs in _kwargs(name, pattern, minimal):
            if any(v is None for v in kwargs.values()):
                failures.append(f"{name}: cannot fill {kwargs}")
                continue
            url = reverse(name, kwargs=kwargs)
            statuses = []
            for user in users:
                client.force_login(user)
                mark_verified(client, user)
                response = client.get(url)
                statuses.append(response.status_code)
                if response.status_code != 403:
                    break
            checked += 1
            if statuses[-1] != (404 if name in EXPECTED_404 else 200):
                failures.append(f"{name} {url}: {statuses}")
            elif problem := hardening_problem(response):
                # CSP, no-store, Referrer-Policy, Permissions-Policy on every page (tests/test_browser_hardening.py).
                failures.append(f"{name} {url}: {problem}")
    assert checked > 40
    assert not failures, "\n".join(failures)


def test_every_entered_in_error_page_uses_the_one_shared_form_and_reason_list(client, minimal, personas):
    """One form, template and reason list (core.forms.EnteredInErrorForm, core/confirm.html) for every record type."""
    from prolotrack.core.forms import EnteredInErrorForm
    from prolotrack.domain.reasons import ENTERED_IN_ERROR_REASONS

    client.force_login(personas["clinician"])
    mark_verified(client, personas["clinician"])
    names = [
        n for n, _ in _walk(get_resolver().url_patterns)
        if n.endswith(("entered-in-error", "mark-error", "-retire")) and not n.startswith(("api:", "fhir:"))
    ]  # fmt: skip
    assert len(names) >= 6
    seen = 0
    for name, pattern in _walk(get_resolver().url_patterns):
        if name not in names or name in NOT_OBJECT_PAGES:
            continue
        for kwargs in _kwargs(name, pattern, minimal):
            response = client.get(reverse(name, kwargs=kwargs))
            assert response.status_code == 200, name
            form = response.context["form"]
            assert type(form) is EnteredInErrorForm and form.reasons == ENTERED_IN_ERROR_REASONS, name
            assert next(t.name for t in response.templates) == "core/confirm.html", name
            seen += 1
    assert seen >= 9  # patient, 4 chart entries, study, file, 3 session items
