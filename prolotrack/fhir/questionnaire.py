"""An outcome instrument as a FHIR R4 Questionnaire, and a clinic's licensed item texts read back from one.

The instruments themselves (items, options, scoring, licence) are data in `prolotrack/domain/instruments.py`; the
FHIR format is the edge's business, so it lives here. The outcomes app reaches these two functions through its hooks
(`outcomes/hooks.py`: download a questionnaire, import licensed texts), registered in `FhirConfig.ready()`.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from prolotrack.domain.errors import ScoringError
from prolotrack.domain.instruments import AnswerType, Item, definition

FHIR_SYSTEM = "https://prolotrack.example/fhir/CodeSystem/answer"
QUESTIONNAIRE_URL = "https://prolotrack.example/fhir/Questionnaire/"


_FHIR_TYPE = {
    AnswerType.INTEGER: "integer",
    AnswerType.DECIMAL: "decimal",
    AnswerType.CHOICE: "choice",
    AnswerType.BOOLEAN: "boolean",
}


def to_questionnaire(code: str, texts: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The instrument as a FHIR R4 Questionnaire (a JSON dict).

    `texts` (a clinic's imported texts: {"items": {linkId: text}, "options": {linkId: {value: label}}}) fills
    the texts of a licensed instrument; without them its items carry no text.
    """
    found = definition(code)
    item_texts = dict((texts or {}).get("items", {}))
    option_texts = dict((texts or {}).get("options", {}))
    title = (texts or {}).get("title") or found.title

    def fhir_item(item: Item) -> dict[str, Any]:
        out: dict[str, Any] = {"linkId": item.link_id, "type": _FHIR_TYPE[item.answer_type], "required": item.required}
        text = item.text or item_texts.get(item.link_id)
        if text:
            out["text"] = text
        if item.options:
            labels = option_texts.get(item.link_id, {})
            options = []
            for option in item.options:
                label = option.label or labels.get(str(option.value))
                coding: dict[str, Any] = {"system": FHIR_SYSTEM, "code": str(option.value)}
                if label:
                    coding["display"] = label
                options.append({"valueCoding": coding})
            out["answerOption"] = options
        if item.minimum is not None and not item.options:
            out["extension"] = [
                {"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueInteger": item.minimum},
                {"url": "http://hl7.org/fhir/StructureDefinition/maxValue", "valueInteger": item.maximum},
            ]
        return out

    groups: dict[str, list[dict[str, Any]]] = {}
    order: list[str] = []
    for item in found.items:
        if item.group not in groups:
            groups[item.group] = []
            order.append(item.group)
        groups[item.group].append(fhir_item(item))
    labels = dict(found.subscales)
    items: list[dict[str, Any]] = []
    for group in order:
        if not group:
            items.extend(groups[group])
        else:
            label = labels.get(group) or group.replace("day", "Day ")
            items.append({"linkId": f"group-{group}", "type": "group", "text": label, "item": groups[group]})
    return {
        "resourceType": "Questionnaire",
        "id": code.replace("_", "-"),
        "url": QUESTIONNAIRE_URL + code,
        "name": code.upper(),
        "title": title,
        "status": "active",
        "description": found.scoring_method,
        "copyright": found.licence_note,
        "item": items,
    }


def answerable_items(items: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The questions of a Questionnaire's item tree (groups and display items opened, not counted)."""
    out: list[Mapping[str, Any]] = []
    for item in items:
        if item.get("type") in ("group", "display") or item.get("item"):
            out.extend(answerable_items(item.get("item") or []))
        if item.get("type") not in ("group", "display"):
            out.append(item)
    return out


def texts_from_questionnaire(code: str, questionnaire: Mapping[str, Any]) -> dict[str, Any]:
    """Take a licensed instrument's item texts from a FHIR Questionnaire (JSON dict).

    The questionnaire's answerable items must have exactly this instrument's linkIds, each with a text; option
    labels are taken from answerOption.valueCoding.display where the code matches a value. Refuses anything
    else with a message that names the linkIds to fix.
    """
    found = definition(code)
    if not found.licensed:
        raise ScoringError(f"{found.title} ships with its own texts: nothing to import.")
    if not isinstance(questionnaire, Mapping) or questionnaire.get("resourceType") != "Questionnaire":
        raise ScoringError("Upload a FHIR Questionnaire resource (resourceType 'Questionnaire').")
    answerable = answerable_items(questionnaire.get("item") or [])
    given = [str(i.get("linkId", "")) for i in answerable]
    expected = list(found.link_ids)
    unknown = [g for g in given if g not in expected]
    absent = [e for e in expected if e not in given]
    duplicated = sorted({g for g in given if given.count(g) > 1})
    problems = []
    if absent:
        problems.append(f"missing linkIds {', '.join(absent)}")
    if unknown:
        problems.append(f"unknown linkIds {', '.join(unknown)}")
    if duplicated:
        problems.append(f"repeated linkIds {', '.join(duplicated)}")
    if problems:
        raise ScoringError(
            f"The questionnaire does not match {found.title}'s structure ({'; '.join(problems)}). Its linkIds must "
            f"be exactly: {', '.join(expected)}."
        )
    items: dict[str, str] = {}
    options: dict[str, dict[str, str]] = {}
    no_text = []
    for raw in answerable:
        link_id = str(raw["linkId"])
        text = str(raw.get("text") or "").strip()
        if not text:
            no_text.append(link_id)
            continue
        items[link_id] = text
        item = found.item(link_id)
        allowed = {str(v) for v in item.values()}
        labels: dict[str, str] = {}
        for option in raw.get("answerOption") or []:
            coding = option.get("valueCoding") or {}
            value = str(coding.get("code", option.get("valueInteger", "")))
            display = str(coding.get("display") or "").strip()
            if value in allowed and display:
                labels[value] = display
        if labels:
            options[link_id] = labels
    if no_text:
        raise ScoringError(f"Every question needs its text: add text to {', '.join(no_text)}.")
    return {"title": str(questionnaire.get("title") or found.title), "items": items, "options": options}
