"""The patient's preferred language: set on registration and edit (form and API), shown on the chart (issue 16)."""

from prolotrack.patients.models import Patient

NEW = {"mrn": "", "given_name": "Rosa", "family_name": "Quintero", "date_of_birth": "1971-03-02", "sex": "female"}


def test_registered_with_a_language_edited_and_shown_on_the_chart(login, clinician):
    client = login(clinician)
    form = client.get("/patients/new/").content.decode()
    assert 'name="preferred_language"' in form and '<option value="es">Español</option>' in form
    assert client.post("/patients/new/", {**NEW, "preferred_language": "es"}).status_code == 302
    rosa = Patient.objects.get(given_name="Rosa")
    assert rosa.preferred_language == "es"
    chart = client.get(f"/patients/{rosa.uuid}/").content.decode()
    assert "<dt>Language</dt><dd>Español" in chart
    edit = {**NEW, "mrn": rosa.mrn, "preferred_language": "en", "version": "1", "change_reason": "patient asked"}
    assert client.post(f"/patients/{rosa.uuid}/edit/", edit).status_code == 302
    rosa.refresh_from_db()
    assert rosa.preferred_language == "en" and rosa.version == 2


def test_left_out_of_a_form_it_defaults_to_english_and_an_unknown_language_is_refused(login, clinician):
    client = login(clinician)
    assert client.post("/patients/new/", NEW).status_code == 302
    assert Patient.objects.get(given_name="Rosa").preferred_language == "en"
    refused = client.post("/patients/new/", {**NEW, "given_name": "Ana", "preferred_language": "fr"})
    assert refused.status_code == 400 and "Select a valid choice" in refused.content.decode()
    assert not Patient.objects.filter(given_name="Ana").exists()


def test_the_api_reads_and_writes_it(client, api_token, clinician, patient):
    headers = api_token(clinician)
    assert client.get(f"/api/patients/{patient.uuid}", headers=headers).json()["preferred_language"] == "en"
    changed = client.patch(
        f"/api/patients/{patient.uuid}", {"version": 1, "preferred_language": "es"},
        content_type="application/json", headers=headers,
    )  # fmt: skip
    assert changed.status_code == 200 and changed.json()["preferred_language"] == "es"
    refused = client.patch(
        f"/api/patients/{patient.uuid}", {"version": 2, "preferred_language": "klingon"},
        content_type="application/json", headers=headers,
    )  # fmt: skip
    assert refused.status_code == 422
    patient.refresh_from_db()
    assert patient.preferred_language == "es"
