"""Hooks of the clinical app (core/hooks.py; listed in docs/ARCHITECTURE.md, "Hooks").

Screening reads the chart; what a patient reported in a pre-visit intake (the intake app, above clinical) is not on
the chart until a clinician accepts it, yet screening must show it as reported and not yet reviewed.
"""

from typing import Any

from prolotrack.core.hooks import Hook

unreviewed_intake: Hook[[Any], list[dict[str, str]]] = Hook(
    "clinical.unreviewed_intake",
    "what the patient reported in a submitted pre-visit intake that no clinician has reviewed yet (summary, kind, "
    "what screening would read in it, the day sent), shown beside the chart's facts and never counted as one (intake)",
)
