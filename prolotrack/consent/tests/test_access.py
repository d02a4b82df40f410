"""Every consent page and endpoint, for every persona: who may use it; another clinic's record answers 404."""

import pytest

from prolotrack.clinics.testing import actor_of
from prolotrack.consent.models import Consent
from prolotrack.consent.testing import sign_research

ALL = ("clinician", "colleague", "frontdesk", "admin", "researcher", "outsider")


def table(clinician, colleague, frontdesk, admin, researcher, outsider=404):
    return dict(zip(ALL, (clinician, colleague, frontdesk, admin, researcher, outsider), strict=True))


VIEW = table(200, 200, 403, 403, 403)
# A POST with an empty body: the permission is checked first, then the form refuses (400), writing nothing.
MANAGE_POST = table(400, 400, 403, 403, 403)
TEMPLATE = table(200, 403, 403, 200, 403, 200)  # the outsider sees their own clinic's template
TEMPLATE_POST = table(400, 403, 403, 400, 403, 400)

PAGES = [
    ("/courses/{c}/consent/", "get", VIEW),
    ("/courses/{c}/consent/", "post", MANAGE_POST),
    ("/courses/{c}/consent-card/", "get", VIEW),
    ("/patients/{p}/consents/", "get", VIEW),
    ("/patients/{p}/consents/research/", "get", VIEW),
    # A research consent is current: the POST is turned away with a message, nothing signed.
    ("/patients/{p}/consents/research/", "post", table(302, 302, 403, 403, 403)),
    ("/consents/{r}/", "get", VIEW),
    ("/consents/{r}/pdf/", "get", VIEW),
    ("/consents/{r}/withdraw/", "post", MANAGE_POST),
    ("/consent-template/", "get", TEMPLATE),
    ("/consent-template/", "post", TEMPLATE_POST),
    ("/api/patients/{p}/consents", "api", VIEW),
    ("/api/consents/{r}/pdf", "api", VIEW),
]


@pytest.fixture
def records(clinician, course):
    research = sign_research(actor_of(clinician), course.patient)
    return {"p": course.patient.uuid, "c": course.uuid, "r": research.uuid}


@pytest.mark.parametrize(("path", "method", "expected"), PAGES, ids=[f"{m} {p}" for p, m, _ in PAGES])
@pytest.mark.parametrize("persona", ALL)
def test_every_page_and_endpoint_by_role_and_clinic(
    client, login, api_token, personas, records, path, method, expected, persona
):
    url = path.format(**records)
    before = list(Consent.objects.values_list("uuid", "version"))
    if method == "api":
        response = client.get(url, headers=api_token(personas[persona]))
    else:
        client = login(personas[persona])
        response = client.get(url) if method == "get" else client.post(url, {})
    assert response.status_code == expected[persona], response.content[:1500]
    assert list(Consent.objects.values_list("uuid", "version")) == before
    if response.status_code in (403, 404):
        assert b"Lovelace" not in response.content
