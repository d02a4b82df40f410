"""No stock past its expiry on the session date (domain/stock.py), through the service and the API alike; the page's
refusal next to the field is in test_pages_forms.py. FHIR creates no solution (Medication is read-only there)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.clinics.testing import actor_of
from prolotrack.treatment import services
from prolotrack.treatment.models import PreparedSolution


def _add(clinician, session, expiry, agent="lidocaine"):
    return services.add_solution(
        actor_of(clinician), session, label="B", final_volume_ml=Decimal("5"),
        components=[{"agent": "dextrose", "target_pct": "25", "stock_pct": "50", "lot": "D1", "expiry": None},
                    {"agent": agent, "target_pct": "0.5", "stock_pct": "2", "lot": "L-7", "expiry": expiry}],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("days", "as_text", "refused"),
    [(-1, False, True), (-1, True, True), (-400, True, True), (0, False, False), (0, True, False), (1, True, False)],
)
def test_a_stock_past_expiry_on_the_session_date_is_refused_whatever_form_the_date_takes(
    clinician, session, days, as_text, refused
):
    expiry = session.planned_on + timedelta(days=days)
    before = (PreparedSolution.objects.count(), RecordVersion.objects.count(), AuditEvent.objects.count())
    if refused:
        with pytest.raises(services.ExpiredStockRefused) as raised:
            _add(clinician, session, expiry.isoformat() if as_text else expiry)
        assert raised.value.index == 1
        assert f"Lidocaine lot L-7 expired on {expiry.isoformat()}" in raised.value.message_dict["components"][0]
        after = (PreparedSolution.objects.count(), RecordVersion.objects.count(), AuditEvent.objects.count())
        assert after == before
    else:
        solution = _add(clinician, session, expiry.isoformat() if as_text else expiry)
        assert solution.components[1]["expiry"] == expiry.isoformat()


def test_an_alias_of_the_agent_is_named_as_the_agent(clinician, session):
    with pytest.raises(services.ExpiredStockRefused, match="Lidocaine lot L-7 expired"):
        _add(clinician, session, session.planned_on - timedelta(days=1), agent="lignocaine")


@pytest.mark.parametrize("expiry", ["06/2027", "2027-02-30", "next year"])
def test_an_expiry_that_is_not_a_date_is_refused_not_stored(clinician, session, expiry):
    with pytest.raises(ValidationError, match="YYYY-MM-DD"):
        _add(clinician, session, expiry)
    assert not PreparedSolution.objects.exists()


def _api_solution(expiry):
    return {"label": "A", "final_volume_ml": "10", "components": [
        {"agent": "dextrose", "target_pct": "15", "stock_pct": "50", "lot": "D1", "expiry": expiry},
        {"agent": "lidocaine", "target_pct": "0.5", "stock_pct": "2", "lot": "L1"}]}  # fmt: skip


@pytest.mark.parametrize(("days", "status"), [(-1, 422), (0, 201)])
def test_the_api_refuses_an_expired_stock_and_writes_nothing(client, api_token, clinician, session, days, status):
    expiry = (session.planned_on + timedelta(days=days)).isoformat()
    response = client.post(
        f"/api/sessions/{session.uuid}/solutions", _api_solution(expiry), content_type="application/json",
        headers=api_token(clinician),
    )  # fmt: skip
    assert response.status_code == status, response.content
    if status == 422:
        assert f"expired on {expiry}" in response.json()["detail"]["components"][0]
        assert not PreparedSolution.objects.exists()
    else:
        assert PreparedSolution.objects.get().components[0]["expiry"] == expiry


def test_fhir_has_no_way_to_create_a_solution(client, api_token, clinician, session):
    """Solutions are served as FHIR Medication, read-only: a create is refused and writes nothing."""
    response = client.post(
        "/fhir/Medication", {"resourceType": "Medication", "code": {"text": "dextrose"}},
        content_type="application/fhir+json", headers=api_token(clinician),
    )  # fmt: skip
    assert response.status_code >= 400
    assert not PreparedSolution.objects.exists()
