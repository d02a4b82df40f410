"""Every instrument as a FHIR R4 Questionnaire (valid against fhir.resources.R4B, with and without texts), and a
clinic's licensed texts read back from one (fhir/questionnaire.py)."""

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire

from prolotrack.domain import instruments as I
from prolotrack.domain.errors import ScoringError
from prolotrack.fhir import questionnaire as Q


@pytest.mark.parametrize("code", list(I.DEFINITIONS))
def test_every_definition_is_a_valid_fhir_r4_questionnaire(code):
    resource = Questionnaire.model_validate(Q.to_questionnaire(code))
    assert resource.status == "active" and resource.url.endswith(code)


def test_export_with_imported_texts_is_valid():
    body = Q.to_questionnaire("koos_jr")
    for n, item in enumerate(body["item"], start=1):
        item["text"] = f"Licensed question {n}"
    texts = Q.texts_from_questionnaire("koos_jr", body)
    resource = Questionnaire.model_validate(Q.to_questionnaire("koos_jr", texts))
    assert resource.item[0].text == "Licensed question 1"


@pytest.mark.parametrize("code", list(I.DEFINITIONS))
def test_every_definition_exports_its_items_to_a_questionnaire(code):
    body = Q.to_questionnaire(code)
    assert body["resourceType"] == "Questionnaire" and body["url"].endswith(code)
    answerable = list(Q.answerable_items(body["item"]))
    assert [i["linkId"] for i in answerable] == list(I.definition(code).link_ids)
    if I.definition(code).licensed:
        assert all("text" not in i for i in answerable)


def test_texts_round_trip_through_a_questionnaire():
    body = Q.to_questionnaire("odi")
    for n, item in enumerate(Q.answerable_items(body["item"]), start=1):
        item["text"] = f"Section {n}"
        item["answerOption"][0]["valueCoding"]["display"] = "None at all"
    texts = Q.texts_from_questionnaire("odi", body)
    assert texts["items"]["s1"] == "Section 1" and texts["options"]["s1"] == {"0": "None at all"}
    again = Q.to_questionnaire("odi", texts)
    assert again["item"][0]["text"] == "Section 1"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b["item"].pop(), "missing linkIds s10"),
        (lambda b: b["item"].append({"linkId": "s11", "type": "choice", "text": "x"}), "unknown linkIds s11"),
        (lambda b: b["item"].append(dict(b["item"][0])), "repeated linkIds s1"),
        (lambda b: b["item"][0].pop("text"), "add text to s1"),
        (lambda b: b.update(resourceType="Patient"), "resourceType 'Questionnaire'"),
    ],
)
def test_texts_from_questionnaire_refuses_a_mismatched_structure(change, message):
    body = Q.to_questionnaire("odi")
    for item in body["item"]:
        item["text"] = "A licensed question"
    change(body)
    with pytest.raises(ScoringError, match=message):
        Q.texts_from_questionnaire("odi", body)


def test_shipped_instruments_take_no_import():
    with pytest.raises(ScoringError, match="ships with its own texts"):
        Q.texts_from_questionnaire("pgic", Q.to_questionnaire("pgic"))
