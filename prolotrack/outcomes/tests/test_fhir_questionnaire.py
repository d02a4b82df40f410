"""Every instrument's FHIR export is a valid FHIR R4 Questionnaire (fhir.resources.R4B), with and without texts."""

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire

from prolotrack.domain import instruments as I


@pytest.mark.parametrize("code", list(I.DEFINITIONS))
def test_every_definition_is_a_valid_fhir_r4_questionnaire(code):
    resource = Questionnaire.model_validate(I.to_fhir(code))
    assert resource.status == "active" and resource.url.endswith(code)


def test_export_with_imported_texts_is_valid():
    body = I.to_fhir("koos_jr")
    for n, item in enumerate(body["item"], start=1):
        item["text"] = f"Licensed question {n}"
    texts = I.texts_from_fhir("koos_jr", body)
    resource = Questionnaire.model_validate(I.to_fhir("koos_jr", texts))
    assert resource.item[0].text == "Licensed question 1"
