"""Every API operation, called with inputs generated from the published schema (/api/openapi.json, fetched from the
WSGI app), as several roles: no answer is a server error, and every answer matches the schema (status code documented,
body valid, content type). Each generated case is sent as one of the roles, picked from the case's own content, so the
roles share an operation's cases and a failing case replays as the same role (every operation x every role is refused
or allowed by tests/test_api_access.py; this test is about the shapes of answers). schemathesis with a fixed seed and a bounded number of examples per operation; run time in
docs/OPERATIONS.md ("API schema test").
"""

import zlib
from datetime import date
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from hypothesis import seed as fixed_seed
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from prolotrack.booking import services as booking_services
from prolotrack.booking.testing import at, next_weekday, set_up_week
from prolotrack.clinics.testing import actor_of
from prolotrack.patients import services as patient_services
from prolotrack.treatment.testing import knee_course

pytestmark = pytest.mark.django_db

SEED = 20261206
EXAMPLES = 6
ROLES = ("clinician", "frontdesk", "researcher")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@pytest.fixture
def records(clinician: Any, patient: Any, admin_user: Any) -> dict[str, str]:
    """Real ids for path parameters, so about half the generated calls reach a record instead of a 404."""
    with transaction.atomic():
        condition = patient_services.add_child(
            actor_of(clinician), patient, "condition", {"description": "Knee osteoarthritis", "body_region": "knee"}
        )
        course = knee_course(clinician, patient, date(2026, 1, 5))
        kinds = set_up_week(actor_of(admin_user), [clinician])
        kind = next(iter(kinds.values()))
        appointment = booking_services.book_appointment(
            actor_of(clinician), patient=patient, appointment_type=kind, clinician=clinician,
            starts_at=at(patient.clinic, next_weekday(patient.clinic, 1), "10:00"),
        )  # fmt: skip
    session = course.sessions.order_by("number").first()
    return {
        "patient_id": str(patient.uuid),
        "record_id": str(condition.uuid),
        "course_id": str(course.uuid),
        "session_id": str(session.uuid),
        "protocol_id": "knee_oa_rabago",
        "appointment_id": str(appointment.uuid),
    }


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Any:
    # The WSGI handler closes the database connection after each request (request_finished); inside a test that
    # would close the test's transaction. Django's own test client disconnects the same handlers.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(personas: Any, api_token: Any) -> dict[str, dict[str, str]]:
    return {role: api_token(personas[role]) for role in ROLES}


@schema.parametrize()
@fixed_seed(SEED)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=False,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_every_answer_matches_the_published_schema(case: Any, records: dict[str, str], tokens: Any) -> None:
    # A generated id whose first hex digit is low is swapped for a real record: the path and the 404 both get tried.
    for name, value in list((case.path_parameters or {}).items()):
        if name in records and str(value)[:1] in "01234567":
            case.path_parameters[name] = records[name]
    case.call_and_validate(headers=tokens[role_for(case)], checks=CHECKS)


def role_for(case: Any) -> str:
    """The role a case is sent as: a stable function of what the case sends (the same case, the same role)."""
    sent = repr((case.method, case.path, case.path_parameters, case.query, case.body)).encode()
    return ROLES[zlib.crc32(sent) % len(ROLES)]


def test_an_unauthenticated_call_gets_the_documented_401(client: Any) -> None:
    response = client.get("/api/patients")
    assert response.status_code == 401
    documented = schema.raw_schema["paths"]["/api/patients"]["get"]["responses"]
    assert "401" in documented or 401 in documented
