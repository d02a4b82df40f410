"""Every exported QuestionnaireResponse matches its own Questionnaire (issue 12): item linkIds and nesting, answer
types (choice items answered with one of their answerOption codings, not valueInteger), bounds, required items.
Checked over the export of a demo clinic's whole outcomes data, through the Bulk export's own path (fetch_raw)."""

from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from prolotrack.clinics.models import Clinic
from prolotrack.demo.outcomes_seed import seed_outcomes
from prolotrack.demo.seed import DEMO_CLINIC, seed_demo
from prolotrack.demo.treatment_seed import seed_treatment
from prolotrack.fhir import mappers
from prolotrack.fhir.resources import TYPES

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db: Any, monkeypatch: pytest.MonkeyPatch) -> Clinic:
    monkeypatch.setenv("PROLOTRACK_DEMO_PASSWORD", "demo-pass-123")
    seed_demo(patients=40, second_clinic_patients=1, treatment=False)
    clinic = Clinic.objects.get(name=DEMO_CLINIC)
    today = timezone.localdate(timezone=clinic.tz)
    with transaction.atomic():
        seed_treatment(clinic, today=today, limit=40)
        seed_outcomes(clinic, today=today)
    return clinic


def problems(response: dict[str, Any], questionnaire: dict[str, Any]) -> list[str]:
    """What in the response does not match the Questionnaire (empty when it matches)."""
    out: list[str] = []
    if response["questionnaire"] != questionnaire["url"]:
        out.append(f"questionnaire {response['questionnaire']} is not {questionnaire['url']}")

    def check(q_items: list[dict[str, Any]], r_items: list[dict[str, Any]], where: str) -> None:
        by_id = {i["linkId"]: i for i in q_items}
        seen = set()
        for r_item in r_items:
            q_item = by_id.get(r_item["linkId"])
            if q_item is None:
                out.append(f"{where}: linkId {r_item['linkId']} is not an item here")
                continue
            seen.add(r_item["linkId"])
            if q_item["type"] == "group":
                check(q_item["item"], r_item.get("item", []), f"{where}/{q_item['linkId']}")
                if r_item.get("answer"):
                    out.append(f"{where}: group {q_item['linkId']} has answers")
                continue
            answers = r_item.get("answer") or []
            if not answers:
                out.append(f"{where}: {q_item['linkId']} has an empty answer list")
            for answer in answers:
                kind = q_item["type"]
                if kind == "choice":
                    options = [(o["valueCoding"]["system"], o["valueCoding"]["code"]) for o in q_item["answerOption"]]
                    coding = answer.get("valueCoding") or {}
                    if (coding.get("system"), coding.get("code")) not in options:
                        out.append(f"{where}: {q_item['linkId']} answer {answer} is not one of its answerOptions")
                elif kind == "integer":
                    if set(answer) != {"valueInteger"}:
                        out.append(f"{where}: {q_item['linkId']} needs valueInteger, got {answer}")
                        continue
                    bounds = {e["url"].rsplit("/", 1)[1]: e["valueInteger"] for e in q_item.get("extension", [])}
                    if not bounds.get("minValue", -(10**9)) <= answer["valueInteger"] <= bounds.get("maxValue", 10**9):
                        out.append(f"{where}: {q_item['linkId']} value {answer['valueInteger']} out of bounds")
                elif kind == "decimal" and set(answer) != {"valueDecimal"}:
                    out.append(f"{where}: {q_item['linkId']} needs valueDecimal, got {answer}")
                elif kind == "boolean" and set(answer) != {"valueBoolean"}:
                    out.append(f"{where}: {q_item['linkId']} needs valueBoolean, got {answer}")
        if response["status"] == "completed":
            for q_item in q_items:
                if q_item.get("required") and q_item["linkId"] not in seen:
                    out.append(f"{where}: required item {q_item['linkId']} is not answered")

    check(questionnaire["item"], response.get("item", []), response["id"])
    return out


def test_every_exported_response_matches_its_questionnaire(demo: Clinic) -> None:
    source = TYPES["QuestionnaireResponse"].sources[0]
    resources = source.map_rows(source.fetch_raw(source.queryset(demo)))
    assert len(resources) > 50
    instruments = {r["questionnaire"].rsplit("/", 1)[1] for r in resources}
    assert instruments >= {"nrs_pain", "pgic", "koos_jr", "odi"}
    questionnaires = {code: mappers.questionnaire(code) for code in instruments}
    found = {r["id"]: problems(r, questionnaires[r["questionnaire"].rsplit("/", 1)[1]]) for r in resources}
    assert {k: v for k, v in found.items() if v} == {}


def test_the_check_catches_an_integer_answer_to_a_choice_item() -> None:
    """The check itself can fail: the old export (valueInteger for PGIC's choice item) does not pass it."""
    questionnaire = mappers.questionnaire("pgic")
    item = next(i for i in questionnaire["item"] if i["type"] == "choice")
    old = {
        "id": "x",
        "questionnaire": questionnaire["url"],
        "status": "completed",
        "item": [{"linkId": item["linkId"], "answer": [{"valueInteger": 5}]}],
    }
    assert any("not one of its answerOptions" in p for p in problems(old, questionnaire))


def test_the_canonical_base_is_used_by_questionnaires_and_their_codes() -> None:
    for code in ("pgic", "koos_jr", "odi", "nrs_pain"):
        questionnaire = mappers.questionnaire(code)
        assert questionnaire["url"] == f"{mappers.BASE}/Questionnaire/{code}"
        assert "prolotrack.example" not in str(questionnaire)


def test_the_canonical_base_is_a_setting(settings: Any) -> None:
    """mappers.BASE comes from PROLOTRACK_FHIR_CANONICAL_BASE (read at import); inbound reads the same base."""
    import importlib

    from prolotrack.fhir import inbound

    assert inbound.OWN_BASE == mappers.BASE
    settings.PROLOTRACK_FHIR_CANONICAL_BASE = "https://fhir.clinic.example/ns/"
    try:
        reloaded = importlib.reload(mappers)
        assert reloaded.BASE == "https://fhir.clinic.example/ns"
        assert reloaded.questionnaire("pgic")["url"] == "https://fhir.clinic.example/ns/Questionnaire/pgic"
    finally:
        del settings.PROLOTRACK_FHIR_CANONICAL_BASE
        importlib.reload(mappers)
    assert mappers.BASE == mappers.DEFAULT_BASE
