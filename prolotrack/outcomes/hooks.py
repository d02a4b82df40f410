"""Hooks of the outcomes app (core/hooks.py; listed in docs/ARCHITECTURE.md, "Hooks").

The FHIR Questionnaire format belongs to the edge (`prolotrack/fhir/questionnaire.py`); the instrument pages below it
download a questionnaire and import a clinic's licensed texts through these two hooks, provided by the fhir app.
"""

from collections.abc import Mapping
from typing import Any

from prolotrack.core.hooks import Hook

questionnaire_resource: Hook[[str, Mapping[str, Any] | None], dict[str, Any]] = Hook(
    "outcomes.questionnaire_resource",
    "an instrument, with the clinic's licensed texts if any, as a FHIR R4 Questionnaire (provided by fhir)",
)

texts_from_questionnaire: Hook[[str, Mapping[str, Any]], dict[str, Any]] = Hook(
    "outcomes.texts_from_questionnaire",
    "a licensed instrument's item texts read from a FHIR Questionnaire, or a ScoringError (provided by fhir)",
)
