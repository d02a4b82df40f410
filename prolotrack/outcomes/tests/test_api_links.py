"""POST /api/patients/{id}/questionnaire-links and GET /api/patients/{id}/questionnaire-responses, per persona."""

from datetime import date

import pytest
from django.conf import settings

from prolotrack.clinics.testing import actor_of
from prolotrack.outcomes import queries, services
from prolotrack.outcomes.models import QuestionnaireLink

ALL = ("clinician", "colleague", "frontdesk", "admin", "researcher", "outsider")
CREATE = dict(zip(ALL, (201, 201, 201, 403, 403, 404), strict=True))
LIST = dict(zip(ALL, (200, 200, 403, 403, 403, 404), strict=True))


@pytest.mark.parametrize("persona", ALL)
def test_create_link_by_persona(client, api_token, personas, patient, follow_up, persona):
    response = client.post(
        f"/api/patients/{patient.uuid}/questionnaire-links",
        {"timepoint_id": str(follow_up.uuid), "delivery": "email"},
        content_type="application/json",
        headers=api_token(personas[persona]),
    )
    assert response.status_code == CREATE[persona], response.content
    if response.status_code == 201:
        body = response.json()
        assert body["instruments"] == ["nrs_pain", "pgic"] and body["url"].startswith(
            f"{settings.PROLOTRACK_SITE_URL}/q/"
        )
        token = body["url"].rstrip("/").rsplit("/", 1)[1]
        assert QuestionnaireLink.objects.get().token_hash == queries.token_hash(token)
    else:
        assert b"Lovelace" not in response.content and not QuestionnaireLink.objects.exists()


@pytest.mark.parametrize("persona", ALL)
def test_list_responses_by_persona(client, api_token, personas, clinician, patient, follow_up, persona):
    services.record_response(
        actor_of(clinician), patient, "pgic", {"pgic": 2}, authored_on=date(2026, 12, 1), timepoint=follow_up
    )
    response = client.get(f"/api/patients/{patient.uuid}/questionnaire-responses", headers=api_token(personas[persona]))
    assert response.status_code == LIST[persona], response.content
    if response.status_code == 200:
        (row,) = response.json()
        assert (row["instrument"], row["score"], row["status"]) == ("pgic", "2.00", "completed")
        assert row["timepoint_id"] == str(follow_up.uuid)


def test_create_link_refusals(client, api_token, clinician, make_patient, patient, follow_up):
    headers = api_token(clinician)
    other = make_patient(given_name="Grace", family_name="Hopper")
    url = f"/api/patients/{other.uuid}/questionnaire-links"
    wrong = client.post(url, {"timepoint_id": str(follow_up.uuid)}, content_type="application/json", headers=headers)
    assert wrong.status_code == 422 and "another patient" in str(wrong.json()["detail"])
    bad = client.post(url, {"instruments": ["nope"]}, content_type="application/json", headers=headers)
    assert bad.status_code == 422 and "Unknown instrument" in str(bad.json()["detail"])
    licensed = client.post(url, {"instruments": ["odi"]}, content_type="application/json", headers=headers)
    assert licensed.status_code == 422 and "not imported its texts" in str(licensed.json()["detail"])
    assert client.post(url, {"delivery": "fax"}, content_type="application/json", headers=headers).status_code == 422
    assert not QuestionnaireLink.objects.exists()
