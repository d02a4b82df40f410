"""Fixtures for the clinical tests: an API caller, registry records and a stored screening."""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.db import transaction

from prolotrack.clinical import planning, services
from prolotrack.clinical.models import ProtocolTemplate, ScreeningRecord
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.patients import services as patient_services
from prolotrack.patients.models import Patient

PROCEDURE_DATE = date(2025, 3, 10)


@pytest.fixture
def call(client: Any, api_token: Callable[[User], dict[str, str]]) -> Callable[..., Any]:
    """POST (or GET) JSON to the API as a user: call(user, "/api/...", body) -> response."""
    headers: dict[int, dict[str, str]] = {}

    def do(user: User, path: str, body: Any = None, *, method: str = "post") -> Any:
        if user.pk not in headers:
            headers[user.pk] = api_token(user)
        if method == "get":
            return client.get(path, body or {}, headers=headers[user.pk])
        return getattr(client, method)(path, body, content_type="application/json", headers=headers[user.pk])

    return do


@pytest.fixture
def add(clinician: User) -> Callable[..., Any]:
    """Add a weight, condition, medication or allergy to a patient's chart, as the clinician."""

    def do(patient: Patient, kind: str, **fields: Any) -> Any:
        with transaction.atomic():
            return patient_services.add_child(actor_of(clinician), patient, kind, fields)

    return do


def knee_procedure(**changes: Any) -> Any:
    values = {
        "day": PROCEDURE_DATE,
        "region": "knee",
        "side": "left",
        "site": "medial knee",
        "agents": ["dextrose", "lidocaine"],
        "sedation": "none",
    }
    values.update(changes)
    return planning.planned_procedure(**values)


@pytest.fixture
def make_screening(clinician: User) -> Callable[..., ScreeningRecord]:
    """Screen a patient through the service, as the clinician (or `by`)."""

    def make(patient: Patient, by: User | None = None, day_of_flags: tuple[str, ...] = (), **changes: Any) -> Any:
        return services.screen_patient(
            actor_of(by or clinician),
            patient,
            knee_procedure(**changes),
            day_of_flags=day_of_flags,
            pregnancy="not_pregnant",
        )

    return make


PROTOCOL_VALUES = {
    "code": "knee_oa_ours",
    "name": "Knee OA, our version",
    "indication": "Knee osteoarthritis",
    "region": "knee",
    "solutions": [
        {
            "label": "Dextrose 25% / lidocaine 0.5%",
            "components": [{"agent": "dextrose", "value": "25", "unit": "%"}, {"agent": "lidocaine", "value": "0.5"}],
            "volume_ml": "6",
            "volume_per": "joint",
            "note": "",
        }
    ],
    "landmarks": ["knee.intra_articular", "knee.pes_anserinus"],
    "sessions": [
        {"offset": 0, "unit": "weeks", "optional": False},
        {"offset": 6, "unit": "weeks", "optional": False},
        {"offset": 12, "unit": "weeks", "optional": True},
    ],
    "source": "Clinic protocol agreed 2025-02, after Rabago 2013",
    "based_on": "knee_oa_rabago",
    "notes": "",
}


@pytest.fixture
def clinic_template(clinician: User) -> ProtocolTemplate:
    return services.create_protocol(actor_of(clinician), dict(PROTOCOL_VALUES))
