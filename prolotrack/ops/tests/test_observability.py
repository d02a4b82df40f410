"""Liveness and readiness, the Prometheus endpoint behind its token, and JSON log lines that carry the request id, user
and clinic but never patient data (issue 17, "Observability"; docs/OPERATIONS.md)."""

import io
import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from prolotrack.ops import queries
from prolotrack.ops.logs import JsonFormatter, RequestContextFilter

TOKEN = "metrics-" + "x" * 40


def test_liveness_answers_without_the_database(client: Any) -> None:
    """No db fixture: pytest-django fails the test if the endpoint touched the database."""
    response = client.get("/livez")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_readiness_checks_the_database_and_the_cache(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert client.get("/readyz").json() == {"status": "ok", "database": "ok", "cache": "ok"}

    class Down:
        def cursor(self) -> Any:
            raise RuntimeError("gone")

    monkeypatch.setattr(queries, "connection", Down())
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "RuntimeError", "cache": "ok"}
    monkeypatch.undo()

    class Broken:
        def set(self, *args: Any) -> None:
            raise ConnectionError("cache down")

    monkeypatch.setattr(queries, "cache", Broken())
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["cache"] == "ConnectionError"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("configured", "sent", "status"),
    [("", f"Bearer {TOKEN}", 404), (TOKEN, "", 401), (TOKEN, "Bearer wrong", 401), (TOKEN, f"Bearer {TOKEN}x", 401)],
)
def test_metrics_are_refused_without_the_token(client: Any, configured: str, sent: str, status: int) -> None:
    with override_settings(PROLOTRACK_METRICS_TOKEN=configured):
        response = client.get("/metrics", HTTP_AUTHORIZATION=sent)
    assert response.status_code == status
    assert b"prolotrack_" not in response.content


@pytest.mark.django_db
def test_metrics_show_latency_queue_depth_and_reminders(client: Any, clinic: Any, clinician: Any, patient: Any) -> None:
    from django.db import transaction

    from prolotrack.audit.services import create_record
    from prolotrack.clinics.testing import actor_of
    from prolotrack.documents.services import generate_document
    from prolotrack.messaging.models import MessageKind, OutboxMessage

    today = timezone.localdate(timezone=clinic.tz)
    for n, status in enumerate(["sent", "sent", "queued"]):
        message = OutboxMessage(
            clinic=clinic, patient=patient, channel="email", kind=MessageKind.APPOINTMENT, target=f"t{n}",
            to_address="ada@example.org", scheduled_for=today, status=status,
        )  # fmt: skip
        with transaction.atomic():
            create_record(actor_of(clinician), message, "messaging.reminder.planned")
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        generate_document.enqueue(str(uuid.uuid4()))
        generate_document.enqueue(str(uuid.uuid4()))
    client.get("/livez")
    with override_settings(PROLOTRACK_METRICS_TOKEN=TOKEN):
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'prolotrack_http_request_duration_seconds_bucket{le="0.01",method="GET",route="livez",status="2xx"}' in text
    assert 'prolotrack_task_queue_depth{status="READY"} 2.0' in text
    assert 'prolotrack_reminders_sent_total{channel="email"} 2.0' in text
    assert 'prolotrack_reminder_messages{channel="email",status="queued"} 1.0' in text


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """The production formatter and filter on a handler of our own, on the root logger as settings.LOGGING does."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    root, django = logging.getLogger(), logging.getLogger("django")  # settings: django's lines do not propagate
    old_level = root.level
    root.addHandler(handler)
    django.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    django.removeHandler(handler)
    root.setLevel(old_level)


@pytest.mark.django_db
def test_log_lines_are_json_with_request_user_and_clinic_and_no_patient_data(
    login: Any, clinician: Any, clinic: Any, make_patient: Any, log_lines: io.StringIO
) -> None:
    patient = make_patient(given_name="Philippa", family_name="Quennell", mrn="PT-SECRET-77", email="pq@example.org")
    client = login(clinician)
    answers = [
        client.get("/patients/", {"q": "Quennell"}, HTTP_X_REQUEST_ID="proxy-id-12345678"),
        client.get(f"/patients/{patient.uuid}/", HTTP_X_REQUEST_ID="Philippa Quennell"),
        client.get(f"/patients/{uuid.uuid4()}/"),
    ]
    assert [a.status_code for a in answers] == [200, 200, 404]
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    access = [line for line in lines if line["logger"] == "prolotrack.access"]
    assert [line["route"] for line in access] == ["patients/", *["patients/<uuid:patient_uuid>/"] * 2]
    assert [line["status"] for line in access] == [200, 200, 404]
    assert [line["request_id"] for line in access] == [a["X-Request-ID"] for a in answers]
    assert access[0]["request_id"] == "proxy-id-12345678"
    assert access[1]["request_id"] != "Philippa Quennell"  # free text from outside is not a request id
    assert {(line["user_id"], line["clinic_id"]) for line in access} == {(clinician.pk, clinic.pk)}
    # Any other line written while a request ran (Django's own warnings) carries that request's id too.
    assert any(
        line["logger"] == "django.request" and line["request_id"] == answers[2]["X-Request-ID"] for line in lines
    )
    ids = {a["X-Request-ID"] for a in answers}
    assert {line["request_id"] for line in lines} <= ids | {None}  # None: lines written outside any request
    everything = log_lines.getvalue()
    for secret in ("Philippa", "Quennell", "PT-SECRET-77", "pq@example.org", "1960-05-17", str(patient.uuid)):
        assert secret not in everything, f"{secret!r} reached the logs"


@pytest.mark.django_db
def test_a_link_token_never_reaches_the_logs(client: Any, log_lines: io.StringIO) -> None:
    """Django's own warning about a 4xx answer names the path; a patient link's token in it is replaced."""
    token = "SeCrEtToKeN_abcdefghijklmnopqrstuvwxyz012345"
    for path in (f"/my-appointment/{token}/", f"/intake/{token}/check/", f"/q/{token}/", f"/waitlist/offer/{token}/"):
        assert client.get(path).status_code in (404, 410)
    everything = log_lines.getvalue()
    assert token not in everything and "/my-appointment/[token]/" in everything
