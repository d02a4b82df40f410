"""Idempotency-Key on API writes: a retry gets the first answer, a reused key with another body 409, per clinic, 24 h."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from prolotrack.clinics.models import IdempotencyKey, Membership
from prolotrack.patients.models import Patient

pytestmark = pytest.mark.django_db

NEW = {"given_name": "Grace", "family_name": "Hopper", "date_of_birth": "1956-12-09", "sex": "female"}


def post(client, headers, body, key, path="/api/patients"):
    return client.post(
        path, json.dumps(body), content_type="application/json", headers={**headers, "Idempotency-Key": key}
    )


def test_a_retry_with_the_same_key_and_body_gets_the_first_answer_and_creates_one_patient(client, clinician, api_token):
    headers = api_token(clinician)
    first = post(client, headers, NEW, "retry-1")
    again = post(client, headers, NEW, "retry-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Patient.objects.filter(family_name="Hopper").count() == 1


def test_the_same_key_with_another_body_is_409_and_writes_nothing(client, clinician, api_token):
    headers = api_token(clinician)
    assert post(client, headers, NEW, "k").status_code == 201
    other = post(client, headers, {**NEW, "given_name": "Anita"}, "k")
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_mismatch"
    assert Patient.objects.count() == 1


def test_the_same_key_on_another_endpoint_is_409(client, clinician, api_token, patient):
    headers = api_token(clinician)
    assert post(client, headers, NEW, "k2").status_code == 201
    assert post(client, headers, NEW, "k2", path=f"/api/patients/{patient.uuid}/conditions").status_code == 409


def test_a_refusal_is_replayed_too(client, clinician, api_token):
    headers = api_token(clinician)
    bad = {**NEW, "date_of_birth": "0001-01-01"}
    first = post(client, headers, bad, "bad")
    assert first.status_code == 422
    assert post(client, headers, bad, "bad").json() == first.json()


def test_keys_are_per_clinic(client, clinician, outsider, api_token):
    assert post(client, api_token(clinician), NEW, "shared").status_code == 201
    assert post(client, api_token(outsider), NEW, "shared").status_code == 201
    assert Patient.objects.filter(family_name="Hopper").count() == 2


def test_another_user_of_the_clinic_cannot_replay_someone_elses_answer(client, clinician, admin_user, api_token):
    assert post(client, api_token(clinician), NEW, "mine").status_code == 201
    response = post(client, api_token(admin_user), NEW, "mine")
    assert response.status_code == 409
    assert "Hopper" not in response.content.decode()


def test_a_request_still_running_with_the_key_answers_409(client, clinician, api_token):
    # The unique constraint decides: a claimed key without an answer yet (a concurrent first request).
    headers = api_token(clinician)
    membership = Membership.objects.get(user=clinician)

    IdempotencyKey.objects.create(clinic=membership.clinic, membership=membership, key="busy", fingerprint="x" * 64)
    response = post(client, headers, NEW, "busy")
    assert response.status_code == 409
    assert not Patient.objects.exists()


def test_keys_expire_after_24_hours(client, clinician, api_token):
    headers = api_token(clinician)
    assert post(client, headers, NEW, "old").status_code == 201
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    assert post(client, headers, {**NEW, "mrn": "NEW-1"}, "old").status_code == 201
    assert Patient.objects.count() == 2
    assert IdempotencyKey.objects.filter(key="old").count() == 1


def test_a_server_error_releases_the_key(client, clinician, api_token, monkeypatch):
    from prolotrack.patients import services

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    headers = api_token(clinician)
    monkeypatch.setattr(services, "create_patient", boom)
    client.raise_request_exception = False
    assert post(client, headers, NEW, "flaky").status_code == 500
    monkeypatch.undo()
    assert post(client, headers, NEW, "flaky").status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "tab\tkey"])
def test_a_malformed_key_is_400(client, clinician, api_token, key):
    response = post(client, api_token(clinician), NEW, key)
    assert response.status_code == 400
    assert not Patient.objects.exists()


def test_without_a_token_the_key_changes_nothing(client, clinician):
    assert post(client, {}, NEW, "anon").status_code == 401
    assert not IdempotencyKey.objects.exists()


def test_writes_without_a_key_are_not_stored(client, clinician, api_token):
    assert client.post("/api/patients", json.dumps(NEW), content_type="application/json",
                       headers=api_token(clinician)).status_code == 201  # fmt: skip
    assert not IdempotencyKey.objects.exists()
