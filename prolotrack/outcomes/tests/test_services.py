"""Links, answers by link, staff entry and the queries other features use."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.formats import date_format

from prolotrack.audit.models import AuditEvent
from prolotrack.audit.services import AccessDenied, Actor
from prolotrack.clinics.testing import actor_of
from prolotrack.outcomes import queries, services
from prolotrack.outcomes.models import QuestionnaireLink, ResponseStatus
from prolotrack.patients.services import update_patient

NRS_DONE = {"now": 6, "average_week": 5, "worst_week": 8}


def _token(path):
    return path.strip("/").split("/")[1]


def test_create_link_stores_only_a_hash(clinician, patient, follow_up):
    link, path = services.create_link(actor_of(clinician), patient, timepoint=follow_up)
    token = _token(path)
    assert path == f"/q/{token}/" and len(token) >= 40
    assert link.token_hash == queries.token_hash(token) and token not in link.token_hash
    assert link.instruments == ["nrs_pain", "pgic"]  # knee without KOOS JR texts: NRS + PGIC
    assert (link.expires_at - timezone.now()).days in (13, 14)  # clinic default 14 days
    assert queries.link_by_token(token) == link
    assert queries.link_by_token(token[:-1] + "x") is None


def test_baseline_never_has_pgic(baseline):
    assert queries.instruments_for_timepoint(baseline) == ["nrs_pain"]


def test_new_link_revokes_the_open_one(clinician, patient, follow_up):
    first, _ = services.create_link(actor_of(clinician), patient, timepoint=follow_up)
    services.create_link(actor_of(clinician), patient, timepoint=follow_up)
    first.refresh_from_db()
    assert queries.link_state(first) == queries.LinkState.REVOKED


def test_wrong_patient_timepoint_is_refused(clinician, make_patient, follow_up):
    other = make_patient(given_name="Grace", family_name="Hopper")
    with pytest.raises(ValidationError, match="another patient"):
        services.create_link(actor_of(clinician), other, timepoint=follow_up)
    assert not QuestionnaireLink.objects.exists()


def test_licensed_instrument_without_texts_is_refused(clinician, patient):
    with pytest.raises(ValidationError, match="has not imported its texts"):
        services.create_link(actor_of(clinician), patient, instruments=["koos_jr"])


def test_researcher_and_admin_cannot_create_links(admin_user, researcher, patient, follow_up):
    for user in (admin_user, researcher):
        with pytest.raises(AccessDenied):
            services.create_link(actor_of(user), patient, timepoint=follow_up)


def test_partial_answers_resume_then_submit(clinician, patient, follow_up):
    link, _path = services.create_link(actor_of(clinician), patient, timepoint=follow_up)
    services.open_link(link, "10.0.0.9")
    services.save_link_answers(link, "nrs_pain", {"now": 6, "average_week": 5})
    services.save_link_answers(link, "nrs_pain", NRS_DONE)  # resume: same row, next version
    services.save_link_answers(link, "pgic", {"pgic": 2})
    saved = queries.link_responses(link)
    assert saved["nrs_pain"].version == 2 and saved["nrs_pain"].status == ResponseStatus.IN_PROGRESS
    out = services.submit_link(link, "10.0.0.9")
    assert {r.instrument: (r.status, str(r.score)) for r in out} == {
        "nrs_pain": ("completed", "5.00"),
        "pgic": ("completed", "2.00"),
    }
    link.refresh_from_db()
    assert queries.link_state(link) == queries.LinkState.USED
    with pytest.raises(services.LinkClosedError, match="already been used"):
        services.save_link_answers(link, "pgic", {"pgic": 1})
    events = AuditEvent.objects.filter(channel="patient_link")
    assert events.filter(action="questionnaire_response.submitted").count() == 2
    assert events.filter(action="questionnaire_link.opened", client_address="10.0.0.9").exists()
    assert not events.exclude(user=None).exists()


def test_incomplete_answers_stay_in_progress(clinician, patient, follow_up):
    link, _ = services.create_link(actor_of(clinician), patient, timepoint=follow_up)
    services.save_link_answers(link, "nrs_pain", {"now": 6})
    (response,) = services.submit_link(link)
    assert response.status == ResponseStatus.IN_PROGRESS and response.score is None


def test_expired_link_refused(clinician, patient, follow_up):
    link, _ = services.create_link(
        actor_of(clinician), patient, timepoint=follow_up, now=timezone.now() - timedelta(days=30)
    )
    with pytest.raises(services.LinkClosedError, match="expired"):
        services.open_link(link)


def test_link_answers_refuse_other_instruments_and_bad_values(clinician, patient, follow_up):
    link, _ = services.create_link(actor_of(clinician), patient, timepoint=follow_up)
    with pytest.raises(ValidationError, match="not part of this link"):
        services.save_link_answers(link, "odi", {"s1": 1})
    with pytest.raises(ValidationError, match="between 0 and 10"):
        services.save_link_answers(link, "nrs_pain", {"now": 11})
    assert not queries.link_responses(link)


def test_record_response_staff_paper(clinician, frontdesk, patient, follow_up):
    response = services.record_response(
        actor_of(frontdesk), patient, "nrs_pain", NRS_DONE, authored_on=date(2026, 12, 1), timepoint=follow_up
    )
    assert response.status == ResponseStatus.COMPLETED and str(response.score) == "5.00"
    assert response.source == "staff_paper" and response.course_id == follow_up.course_id
    assert response.subscores == {"now": "6.00", "average_week": "5.00", "worst_week": "8.00"}


def test_record_response_refusals_write_nothing(clinician, researcher, make_patient, patient, follow_up):
    actor = actor_of(clinician)
    with pytest.raises(ValidationError, match="between 0 and 10"):
        services.record_response(actor, patient, "nrs_pain", {"now": 12}, authored_on=date(2026, 12, 1))
    with pytest.raises(ValidationError, match="Unknown instrument"):
        services.record_response(actor, patient, "nope", {"x": 1}, authored_on=date(2026, 12, 1))
    with pytest.raises(ValidationError, match="another patient"):
        other = make_patient(given_name="Grace")
        services.record_response(actor, other, "pgic", {"pgic": 1}, authored_on=date(2026, 12, 1), timepoint=follow_up)
    with pytest.raises(AccessDenied):
        services.record_response(actor_of(researcher), patient, "pgic", {"pgic": 1}, authored_on=date(2026, 12, 1))
    assert not patient.questionnaire_responses.exists()


def test_record_response_query_count_is_constant(clinician, patient):
    actor = actor_of(clinician)
    counts = []
    for value in (5, 4):
        with CaptureQueriesContext(connection) as ctx:
            services.record_response(actor, patient, "pgic", {"pgic": value}, authored_on=date(2026, 12, 1))
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] <= 12, counts


def test_system_actor_records_for_the_demo(clinic, patient):
    response = services.record_response(
        Actor.system(clinic), patient, "vas_pain", {"vas": 40}, authored_on=date(2026, 1, 5)
    )
    assert str(response.score) == "40.00"


def test_timepoints_awaiting_answers(clinician, patient, course, baseline, follow_up):
    today = baseline.due_on
    due = list(queries.timepoints_awaiting_answers(course.clinic, today))
    assert due == [baseline]
    services.record_response(actor_of(clinician), patient, "nrs_pain", NRS_DONE, authored_on=today, timepoint=baseline)
    assert list(queries.timepoints_awaiting_answers(course.clinic, today)) == []
    later = list(queries.timepoints_awaiting_answers(course.clinic, follow_up.due_on))
    assert baseline not in later and follow_up in later


def test_email_message_names_no_patient(clinician, patient, follow_up):
    link, path = services.create_link(actor_of(clinician), patient, timepoint=follow_up, delivery="email")
    subject, body = services.email_message(link, "https://clinic.example" + path)
    assert path in body and patient.family_name not in body + subject and "Alpha Clinic" in subject


def prefers(clinician, patient, language):
    with transaction.atomic():
        return update_patient(
            actor_of(clinician), patient, {"preferred_language": language}, expected_version=patient.version
        )


def test_email_message_is_in_the_patients_language_with_the_day_written_out(clinician, patient, follow_up):
    """The email staff send with a questionnaire link was English for everyone, its expiry "07 December 2026"."""
    patient = prefers(clinician, patient, "es")
    link, path = services.create_link(actor_of(clinician), patient, timepoint=follow_up, delivery="email")
    subject, body = services.email_message(link, "https://clinic.example" + path)
    local = timezone.localtime(link.expires_at, link.clinic.tz)
    with translation.override("es"):
        day = f"{date_format(local, 'l')}, {local.day} de {date_format(local, 'F')} de {local.year}"
    assert subject == "Alpha Clinic: un cuestionario corto sobre su tratamiento"
    assert f"hasta el {day}." in body and path in body and "Hello" not in body
    link.patient = prefers(clinician, patient, "en")
    _, english = services.email_message(link, "https://clinic.example" + path)
    assert f"until {local:%A} {local.day} {local:%B %Y}." in english
