"""Coverage and the Medicare ABN (docs/BILLING.md, "Medicare ABN"): the services, the signing gate, the pages."""

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.audit.services import ServiceError
from prolotrack.billing import queries, services
from prolotrack.billing.models import AdvanceNotice, Coverage
from prolotrack.billing.testing import original_medicare, set_clinic_settings, sign_abn_for
from prolotrack.billing.tests.conftest import START
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.core.errors import AccessDenied
from prolotrack.core.signatures import scribble_png
from prolotrack.domain.abn import GateState
from prolotrack.treatment import services as treatment

D = Decimal


@contextmanager
def writes_nothing() -> Iterator[None]:
    before = Coverage.objects.count(), AdvanceNotice.objects.count(), AuditEvent.objects.count()
    yield
    assert (Coverage.objects.count(), AdvanceNotice.objects.count(), AuditEvent.objects.count()) == before


@pytest.fixture
def ready_session(recorded_session: Any) -> Any:
    """Session 1 recorded (consent, checklist, screening, solution, sites): ready to sign but for the ABN."""
    return recorded_session


# --- Coverage --------------------------------------------------------------------------------------------------------


def test_coverage_is_a_new_row_each_change_and_the_member_id_stays_out_of_history(
    frontdesk: User, patient: Any
) -> None:
    actor = actor_of(frontdesk)
    first = services.record_coverage(
        actor, patient, payer="commercial", payer_name="Acme Health", member_id="ZX99-1234"
    )
    again = services.record_coverage(
        actor, patient, payer="commercial", payer_name="Acme Health", member_id="ZX99-1234"
    )
    assert again.pk == first.pk  # nothing changed, nothing written
    second = original_medicare(actor, patient)
    assert queries.current_coverage(patient) == second
    assert [c.pk for c in queries.coverages_of(patient)] == [second.pk, first.pk]
    assert second.member_id_last4 == "MK73"
    versions = RecordVersion.objects.filter(record_uuid=second.uuid)
    assert versions.count() == 1
    assert "1EG4-TE5-MK73" not in str(versions.get().data) and versions.get().data["member_id_last4"] == "MK73"
    assert AuditEvent.objects.filter(action="billing.coverage.recorded").count() == 2


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"payer": "medicaid"}, "payer"),
        ({"payer": "original_medicare"}, "member_id"),  # the card's number is needed
        ({"payer": "original_medicare", "member_id": "1EG4;DROP"}, "member_id"),
        ({"payer": "original_medicare", "member_id": "A" * 41}, "member_id"),
        ({"payer": "self_pay", "member_id": "1234"}, "member_id"),
        ({"payer": "commercial", "member_id": "1234", "payer_name": "x" * 121}, "payer_name"),
    ],
)
def test_bad_coverage_is_refused_naming_the_field_and_writes_nothing(
    frontdesk: User, patient: Any, values: dict[str, str], field: str
) -> None:
    with writes_nothing(), pytest.raises(ValidationError) as error:
        services.record_coverage(actor_of(frontdesk), patient, **values)
    assert field in error.value.message_dict


def test_coverage_of_another_clinics_patient_or_by_a_researcher_is_refused(
    outsider: User, researcher: User, patient: Any
) -> None:
    with writes_nothing():
        with pytest.raises(AccessDenied):
            services.record_coverage(actor_of(outsider), patient, payer="self_pay")
        with pytest.raises(AccessDenied):
            services.record_coverage(actor_of(researcher), patient, payer="self_pay")


# --- The ABN ---------------------------------------------------------------------------------------------------------


def test_the_abn_is_drafted_from_the_plan_and_the_fee_schedule(frontdesk: User, course: Any, fees: Any) -> None:
    draft = queries.abn_draft(course)
    sessions = course.sessions.filter(status__in=("planned", "booked", "done")).order_by("planned_on")
    count = sessions.count()
    assert draft.identification == course.patient.mrn  # C: the clinic's own number, never the Medicare number
    assert f"up to {count} injection sessions" in draft.items
    assert draft.plan is not None and draft.plan.estimate is not None
    assert draft.plan.estimate.low == D("250.00") * count  # M0076 at 250.00, one region and side per session
    assert "NCD" not in draft.reason or "150.7" in draft.reason
    assert [value for value, _ in draft.options] == ["1", "2", "3"]


def test_signing_an_abn_stores_the_pdf_and_its_hash(frontdesk: User, course: Any, fees: Any) -> None:
    actor = actor_of(frontdesk)
    original_medicare(actor, course.patient)
    notice = sign_abn_for(actor, course, option="2")
    assert notice.pdf_sha256 == hashlib.sha256(notice.pdf_content).hexdigest()
    assert notice.identification == course.patient.mrn
    assert notice.option == "2" and notice.signed_on == services.clinic_today(course.clinic)
    version = RecordVersion.objects.get(record_uuid=notice.uuid)
    assert "pdf" not in version.data and "signature" not in version.data
    assert AuditEvent.objects.filter(action="billing.abn.signed", record_uuid=notice.uuid).exists()
    # Never edited: any change but the health-status amendment is refused.
    with pytest.raises(ServiceError):
        from django.db import transaction

        from prolotrack.audit.services import update_record

        with transaction.atomic():
            update_record(actor, notice, {"option": "1"}, "billing.abn.edited", expected_version=notice.version)


def test_an_abn_is_refused_when_the_text_changed_or_the_patient_is_not_on_original_medicare(
    frontdesk: User, admin_user: User, course: Any, fees: Any
) -> None:
    actor = actor_of(frontdesk)
    with writes_nothing(), pytest.raises(ServiceError, match="Original Medicare"):
        sign_abn_for(actor, course, render=False)
    original_medicare(actor, course.patient)
    sha = queries.abn_draft(course).sha256
    services.add_fee_version(
        actor_of(admin_user),
        fees["M0076"],
        description="Prolotherapy",
        price="300.00",
        # From the course's first day, so every session's price changes: "yesterday" changed none once the fixed
        # course's sessions were all past (from 29 December 2026; found at a 2027 clock, tests/clock/run).
        effective_from=START,
    )
    with writes_nothing(), pytest.raises(ServiceError, match="changed since this page was opened"):
        services.sign_abn(
            actor, course, text_sha256=sha, option="2", signer_name="A Patient", signature=scribble_png(1), render=False
        )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"option": "4"}, "option"),
        ({"signer_name": " x "}, "signer_name"),
        ({"additional": "x" * 1001}, "additional"),
        ({"signature": b"not a png"}, "signature"),
    ],
)
def test_bad_abn_input_is_refused_and_writes_nothing(
    frontdesk: User, course: Any, fees: Any, change: dict[str, Any], field: str
) -> None:
    actor = actor_of(frontdesk)
    original_medicare(actor, course.patient)
    values: dict[str, Any] = {
        "text_sha256": queries.abn_draft(course).sha256,
        "option": "2",
        "signer_name": "A Patient",
        "signature": scribble_png(2),
        **change,
    }
    with writes_nothing(), pytest.raises(ValidationError) as error:
        services.sign_abn(actor, course, render=False, **values)
    assert field in error.value.message_dict


# --- The gate --------------------------------------------------------------------------------------------------------


def test_signing_is_refused_without_a_current_abn_allowed_with_one_and_refused_again_after_the_plan_changes(
    clinician: User, frontdesk: User, course: Any, fees: Any, ready_session: Any
) -> None:
    doctor, desk = actor_of(clinician), actor_of(frontdesk)
    original_medicare(desk, course.patient)
    assert queries.abn_gate(course).state == GateState.MISSING
    with pytest.raises(ServiceError, match="No current ABN"):
        treatment.sign_session(doctor, ready_session)
    sign_abn_for(desk, course, render=False)
    assert queries.abn_gate(course).state == GateState.CURRENT
    signed = treatment.sign_session(doctor, ready_session)
    assert signed.is_signed
    # The plan changes: one more session, later than the ABN's period.
    last = course.sessions.order_by("-planned_on").first()
    treatment.add_session(doctor, course, last.planned_on + timedelta(days=28))
    gate = queries.abn_gate(course)
    assert gate.state == GateState.OUTDATED
    assert any("sessions" in r for r in gate.reasons)
    session_2 = course.sessions.get(number=2)
    from prolotrack.treatment.queries import signing_problems

    assert any(p.startswith("No current ABN") and "out of date" in p for p in signing_problems(session_2))


def test_a_health_status_change_or_option_3_asks_for_a_new_abn(frontdesk: User, course: Any, fees: Any) -> None:
    desk = actor_of(frontdesk)
    original_medicare(desk, course.patient)
    notice = sign_abn_for(desk, course, render=False)
    with writes_nothing(), pytest.raises(ValidationError):
        services.record_health_change(desk, notice, reason="worse")
    changed = services.record_health_change(desk, notice, reason="New diagnosis of rheumatoid arthritis")
    assert changed.version == 2 and changed.option == notice.option
    gate = queries.abn_gate(course)
    assert gate.state == GateState.OUTDATED and "health status" in gate.reasons[0]
    sign_abn_for(desk, course, option="3", render=False)
    assert queries.abn_gate(course).state == GateState.DECLINED
    sign_abn_for(desk, course, option="1", render=False)
    assert queries.abn_gate(course).state == GateState.CURRENT
    assert len(queries.notices_of(course)) == 3  # the earlier ones stay, superseded


def test_a_price_rise_beyond_the_tolerance_asks_for_a_new_abn(
    frontdesk: User, admin_user: User, course: Any, fees: Any
) -> None:
    desk = actor_of(frontdesk)
    original_medicare(desk, course.patient)
    notice = sign_abn_for(desk, course, render=False)
    first = course.sessions.order_by("planned_on").first().planned_on
    services.add_fee_version(
        actor_of(admin_user), fees["M0076"], description="Prolotherapy", price="400.00", effective_from=first
    )
    count = notice.sessions
    assert count * 150 > max(100, count * 400 * 0.25)  # the test's premise: beyond $100 and 25%
    gate = queries.abn_gate(course)
    assert gate.state == GateState.OUTDATED and "estimated cost" in gate.reasons[0]


def test_the_gate_leaves_other_patients_alone_and_follows_the_clinic_setting(
    clinician: User, frontdesk: User, course: Any, fees: Any, ready_session: Any
) -> None:
    desk = actor_of(frontdesk)
    services.record_coverage(desk, course.patient, payer="medicare_advantage", member_id="H1234-567")
    assert queries.abn_gate(course).state == GateState.NOT_REQUIRED
    original_medicare(desk, course.patient)
    set_clinic_settings(course.clinic, abn_gate=False)
    course.clinic.refresh_from_db()
    assert queries.abn_blockers(course.pk) == ()
    assert treatment.sign_session(actor_of(clinician), ready_session).is_signed


# --- Pages -----------------------------------------------------------------------------------------------------------


def test_the_pages_record_coverage_take_the_signature_and_serve_the_pdf(
    login: Any, frontdesk: User, course: Any, fees: Any
) -> None:
    patient = course.patient
    client = login(frontdesk)
    url = reverse("billing:coverage", args=[patient.uuid])
    answer = client.post(url, {"payer": "original_medicare", "member_id": ""})
    assert answer.status_code == 200 and "member id from the patient" in answer.content.decode()
    client.post(url, {"payer": "original_medicare", "member_id": "1EG4-TE5-MK73"})
    card = client.get(reverse("billing:account", args=[patient.uuid])).content.decode()
    assert "····MK73" in card and "1EG4-TE5-MK73" not in card and "none yet" in card
    page = client.get(reverse("billing:abn-course", args=[course.uuid])).content.decode()
    assert "No current ABN" in page and "OPTION 2. I want the prolotherapy sessions listed above" in page
    assert "1EG4" not in page
    import base64

    sign = reverse("billing:abn-sign", args=[course.uuid])
    data = {
        "text_sha256": queries.abn_draft(course).sha256,
        "option": "2",
        "signer_name": f"{patient.given_name} {patient.family_name}",
        "signature": "data:image/png;base64," + base64.b64encode(scribble_png(9)).decode(),
    }
    refused = client.post(sign, data)  # the review was not confirmed
    assert refused.status_code == 422 and AdvanceNotice.objects.count() == 0
    answer = client.post(sign, {**data, "confirm": "on"})
    assert answer.status_code == 302
    notice = AdvanceNotice.objects.get()
    pdf = client.get(reverse("billing:abn-pdf", args=[notice.uuid]))
    assert pdf["Content-Type"] == "application/pdf" and pdf["X-Content-SHA256"] == notice.pdf_sha256
    assert hashlib.sha256(pdf.content).hexdigest() == notice.pdf_sha256
    assert b"1EG4" not in pdf.content
    assert AuditEvent.objects.filter(action="billing.abn.downloaded").count() == 1


def test_researchers_and_nurses_do_not_reach_the_abn_pages(
    login: Any, researcher: User, colleague: User, course: Any
) -> None:
    for user in (researcher, colleague):
        client = login(user)
        assert client.get(reverse("billing:abn-course", args=[course.uuid])).status_code == 403
        assert client.get(reverse("billing:coverage", args=[course.patient.uuid])).status_code == 403


# --- API -------------------------------------------------------------------------------------------------------------


def test_the_api_records_coverage_shows_only_the_last_4_and_reports_the_abn_state(
    client: Any, api_token: Any, frontdesk: User, researcher: User, course: Any, fees: Any
) -> None:
    headers = api_token(frontdesk)
    patient = course.patient
    url = f"/api/patients/{patient.uuid}/coverage"
    assert client.get(url, headers=headers).json()["payer"] is None
    with writes_nothing():
        refused = client.post(url, {"payer": "original_medicare"}, content_type="application/json", headers=headers)
    assert refused.status_code == 422 and "member id" in str(refused.json()["detail"])
    made = client.post(
        url,
        {"payer": "original_medicare", "member_id": "1EG4-TE5-MK73"},
        content_type="application/json",
        headers=headers,
    )
    assert made.status_code == 201 and made.json()["member_id_last4"] == "MK73"
    assert "1EG4" not in made.content.decode()
    state = client.get(f"/api/courses/{course.uuid}/abn", headers=headers).json()
    assert state["required"] and state["state"] == "missing" and state["blockers"][0].startswith("No current ABN")
    sign_abn_for(actor_of(frontdesk), course, render=False)
    state = client.get(f"/api/courses/{course.uuid}/abn", headers=headers).json()
    assert state["state"] == "current" and state["notice"]["option"] == "2"
    assert state["notice"]["estimate_low"] == "%.2f" % (250 * state["notice"]["sessions"])
    assert client.get(url, headers=api_token(researcher)).status_code == 403


def test_a_package_sold_for_the_course_is_the_estimate_for_the_sessions_it_covers(
    frontdesk: User, admin_user: User, course: Any, fees: Any
) -> None:
    from prolotrack.billing.models import Invoice

    desk = actor_of(frontdesk)
    count = course.sessions.filter(status__in=("planned", "booked", "done")).count()
    offer = services.create_package_offer(
        actor_of(admin_user),
        code="PKG-KNEE-2",
        description="Knee course of 2",
        price="450.00",
        uses=2,
        validity_days=180,
        protocol_id="knee_oa_rabago",
        active_from=course.started_on - timedelta(days=30),
    )
    draft = services.draft_invoice(desk, course.patient)
    services.sell_package(desk, draft, offer, course=course)
    services.issue_invoice(desk, Invoice.objects.get(pk=draft.pk))
    plan = queries.plan_now(course)
    assert plan.estimate is not None and plan.estimate.package
    assert plan.estimate.low == D("450.00") + D("250.00") * (count - 2)
    assert "the package sold for this course" in queries.abn_draft(course).estimate_text
