"""The clinic's consent template passes the shared overclaim check (prolotrack.domain.claims) on every channel."""

import pytest
from django.core.exceptions import ValidationError

from prolotrack.clinics.testing import actor_of
from prolotrack.consent import queries, services
from prolotrack.consent.models import ConsentTemplate
from prolotrack.domain import claims


@pytest.mark.parametrize(
    ("field", "text", "named"),
    [
        ("what_it_is", "A permanent, all-natural treatment used for centuries.", "permanent"),
        ("expected_benefit", "Prolotherapy is safe and effective for most people.", "safe and effective"),
        ("what_it_is", "The solution is typically alcohol or phenol.", "alcohol or phenol"),
        ("expected_benefit", "CLINICALLY   PROVEN to cure knee pain.", "CLINICALLY   PROVEN"),
    ],
)
def test_an_overclaim_in_a_paragraph_is_refused_and_nothing_is_saved(admin_user, course, field, text, named):
    with pytest.raises(ValidationError) as caught:
        services.save_template(actor_of(admin_user), {field: text}, expected_version=0)
    message = " ".join(caught.value.message_dict[field])
    assert f"'{named}'" in message and "Reword the text" in message
    assert not ConsentTemplate.objects.filter(clinic=course.clinic).exists()
    assert queries.clinic_template(course.clinic).record is None


def test_the_product_default_consent_text_passes_the_check():
    from prolotrack.domain.consent import COMMON_RISKS, DEFAULT_TEXTS, REGION_RISKS

    for name in ConsentTemplate.TEXT_FIELDS:
        assert claims.find_overclaims(getattr(DEFAULT_TEXTS, name)) == [], name
    for risk in (*COMMON_RISKS, *(r for risks in REGION_RISKS.values() for r in risks)):
        assert claims.find_overclaims(risk.text) == [], risk.text


def test_the_template_page_shows_the_refusal_on_the_paragraph(login, admin_user, course):
    client = login(admin_user)
    data = {name: getattr(queries.clinic_template(course.clinic).texts, name) for name in ConsentTemplate.TEXT_FIELDS}
    data.update({"what_it_is": "Permanent, all-natural relief.", "version": 0, "reason": "Marketing copy"})
    response = client.post("/consent-template/", data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "must not claim" in page and "Permanent" in page
    assert not ConsentTemplate.objects.filter(clinic=course.clinic).exists()
