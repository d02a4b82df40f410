"""The consent form in the patient's language (docs/CONSENT.md, docs/LANGUAGES.md, "Documents"): the product's
Spanish risks, words and default paragraphs; the form for a Spanish-preferring patient, signed and stored in Spanish;
staff choosing the language; the clinic's template per language; English unchanged."""

import base64
import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from pypdf import PdfReader

from prolotrack.clinics.testing import actor_of
from prolotrack.consent import queries, services
from prolotrack.consent.models import Consent
from prolotrack.core.signatures import scribble_png
from prolotrack.domain import claims, consent_es
from prolotrack.domain import consent as domain

pytestmark = pytest.mark.django_db

FIELD = re.compile(r"\{([a-z_]+)\}")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def pdf_text(data):
    """All the text of a PDF, pages joined, whitespace collapsed."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def all_risks():
    return [*domain.COMMON_RISKS, domain.PNEUMOTHORAX, domain.DURAL_PUNCTURE, domain.SPINAL_NERVES,
            domain.JOINT_INFECTION, domain.GLUCOSE_LOAD]  # fmt: skip


@pytest.mark.parametrize("risk", all_risks(), ids=lambda r: r.text[:30])
def test_every_risk_has_its_spanish_with_the_same_numbers_and_no_overclaim(risk):
    spanish = domain.risk_text(risk, "es")
    assert spanish != risk.text and NUMBER.findall(spanish) == NUMBER.findall(risk.text)
    assert claims.find_overclaims(spanish) == []
    assert domain.risk_text(risk, "en") == risk.text


def test_the_spanish_words_and_paragraphs_match_the_english_ones():
    english = domain.WORDS["en"]
    assert set(consent_es.WORDS) == set(english)
    for key, text in english.items():
        assert sorted(FIELD.findall(consent_es.WORDS[key])) == sorted(FIELD.findall(text)), key
    assert set(consent_es.DEFAULT_TEXTS) == set(domain.FIELD_LABELS)
    spanish = domain.default_texts("es")
    for name in domain.FIELD_LABELS:
        text = getattr(spanish, name)
        claims.check_patient_text(text)
        assert NUMBER.findall(text) == NUMBER.findall(getattr(domain.DEFAULT_TEXTS, name)), name
    assert set(consent_es.REGIONS) == set(domain.REGION_RISKS)
    # A language the product does not write the form in is English.
    assert domain.default_texts("fr") == domain.DEFAULT_TEXTS and domain.language_of("fr") == "en"


def prefers(clinician, patient, language):
    from prolotrack.patients.services import update_patient

    with transaction.atomic():
        return update_patient(
            actor_of(clinician), patient, {"preferred_language": language}, expected_version=patient.version
        )


def url(png):
    return "data:image/png;base64," + base64.b64encode(png).decode()


def sign_data(draft, **changes):
    return {
        "text_sha256": draft.sha256,
        "language": draft.language,
        "patient_name": "Ada Lovelace",
        "patient_signature": url(scribble_png(11)),
        "witness_name": "Clara Clinician",
        "witness_role": "Clinician",
        "witness_signature": url(scribble_png(12)),
        "confirm": "on",
        **changes,
    }


def test_a_spanish_preferring_patient_reads_and_signs_the_form_in_spanish(login, clinician, course):
    prefers(clinician, course.patient, "es")
    course.refresh_from_db()
    client = login(clinician)
    page = client.get(f"/courses/{course.uuid}/consent/").content.decode()
    assert '<article class="consent-text" aria-label="Consent form text" lang="es">' in page
    for phrase in ("Qué es la proloterapia", "3 sesiones con alrededor de 4 semanas de separación",
                   "Riesgos de las inyecciones en la zona: rodilla", "Uso fuera de indicación",
                   "the patient&#x27;s preferred language"):  # fmt: skip
        assert phrase in page or phrase.replace("&#x27;", "'") in page
    draft = queries.treatment_draft(course, "es")
    response = client.post(f"/courses/{course.uuid}/consent/", sign_data(draft))
    assert response.status_code == 302
    consent = Consent.objects.get()
    assert consent.language == "es" and consent.text == draft.text and consent.text_sha256 == draft.sha256
    assert consent.text.startswith("# Consentimiento para la proloterapia: ")
    text = pdf_text(client.get(f"/consents/{consent.uuid}/pdf/").content)
    for phrase in ("Consentimiento para la proloterapia", "Riesgos comunes", "Fecha de nacimiento",
                   "N.º de expediente", "Firmado en pantalla el", "Idioma: Español", "Página 1 de",
                   "Médico/a", "«fuera de indicación»", "Sé que puedo dejarlo en cualquier momento."):  # fmt: skip
        assert phrase in text, phrase
    assert "Common risks" not in text and "Record no." not in text
    detail = client.get(f"/consents/{consent.uuid}/").content.decode()
    assert "in Español" in detail and 'lang="es"' in detail


@pytest.mark.parametrize(("preferred", "asked", "heading"), [
    ("es", "en", "What prolotherapy is"),  # staff override to English
    ("en", "es", "Qué es la proloterapia"),  # staff override to Spanish
    ("en", None, "What prolotherapy is"),
    ("es", "fr", "Qué es la proloterapia"),  # not a language of the form: the patient's
])  # fmt: skip
def test_staff_choose_the_language_of_the_form(login, clinician, course, preferred, asked, heading):
    prefers(clinician, course.patient, preferred)
    client = login(clinician)
    query = {"lang": asked} if asked else {}
    page = client.get(f"/courses/{course.uuid}/consent/", query).content.decode()
    assert heading in page


def test_staff_override_signs_in_the_chosen_language_and_a_mismatch_is_refused(login, clinician, course):
    prefers(clinician, course.patient, "es")
    client = login(clinician)
    english = queries.treatment_draft(course, "en")
    # The English text's hash sent as Spanish: the text shown is not the text that would be signed.
    refused = client.post(f"/courses/{course.uuid}/consent/", sign_data(english, language="es"))
    assert refused.status_code == 400 and "consent text changed" in refused.content.decode()
    assert not Consent.objects.exists()
    assert client.post(f"/courses/{course.uuid}/consent/", sign_data(english)).status_code == 302
    consent = Consent.objects.get()
    assert consent.language == "en" and consent.text.startswith("# Consent to prolotherapy: ")


def test_the_clinic_template_per_language(admin_user, clinician, course):
    actor = actor_of(admin_user)
    fields = list(domain.FIELD_LABELS)
    services.save_template(actor, {"insurance": "Each session costs $150; insurers do not pay for it."},
                           expected_version=0)  # fmt: skip
    # The English edit is English only; the Spanish form keeps the product's Spanish, and staff are told.
    spanish = queries.treatment_draft(course, "es")
    assert "Medicare no cubre la proloterapia" in spanish.text and "$150" not in spanish.text
    assert spanish.edited_elsewhere == ("en",) and spanish.template_version == 0
    assert "$150" in queries.treatment_draft(course, "en").text
    # The clinic writes its Spanish paragraph: the Spanish form uses it; the English form is unchanged.
    saved = services.save_template(
        actor, {"insurance": "Cada sesión cuesta $150; los seguros médicos no la pagan. ¿Dudas? ¡Pregúntenos!"},
        expected_version=0, language="es",
    )  # fmt: skip
    assert saved.language == "es" and saved.version == 1
    assert {getattr(saved, f) for f in fields if f != "insurance"} <= {
        getattr(domain.default_texts("es"), f) for f in fields
    }
    spanish = queries.treatment_draft(course, "es")
    assert "¿Dudas? ¡Pregúntenos!" in spanish.text and spanish.template_version == 1
    assert spanish.edited_elsewhere == ()
    assert "Each session costs $150" in queries.treatment_draft(course, "en").text
    # A Spanish overclaim, or a language the form is not written in, is refused and saves nothing.
    with pytest.raises(ValidationError, match="permanente"):
        services.save_template(actor, {"what_it_is": "Un alivio permanente."}, expected_version=1, language="es")
    with pytest.raises(ValidationError, match="written in en, es only"):
        services.save_template(actor, {"insurance": "x"}, expected_version=0, language="fr")
    assert queries.clinic_template(course.clinic, "es").record.version == 1


def test_the_template_page_edits_one_language(login, admin_user, course):
    client = login(admin_user)
    page = client.get("/consent-template/", {"lang": "es"}).content.decode()
    assert "Medicare no cubre la proloterapia" in page and 'name="language" value="es"' in page
    data = {name: getattr(domain.default_texts("es"), name) for name in domain.FIELD_LABELS}
    data.update({"insurance": "Cada sesión cuesta $120.", "version": 0, "language": "es", "reason": "Tarifas"})
    response = client.post("/consent-template/", data)
    assert response.status_code == 302 and response["Location"].endswith("?lang=es")
    assert "$120" in queries.treatment_draft(course, "es").text
    assert "$120" not in queries.treatment_draft(course, "en").text
    assert client.get("/consent-template/", {"lang": "fr"}).status_code == 404
