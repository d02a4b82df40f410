"""Hooks of the clinics app (core/hooks.py; listed in docs/ARCHITECTURE.md, "Hooks").

The clinic administrator's pages (settings, audit trail) sit in the clinics layer, below the clinical apps whose facts
two of them need; those apps provide them here in their AppConfig.ready().
"""

from typing import Any
from uuid import UUID

from prolotrack.core.hooks import Hook

licensed_instruments: Hook[[Any], tuple[str, ...]] = Hook(
    "clinics.licensed_instruments",
    "codes of the licensed questionnaires whose texts the clinic imported, offered on the settings page (outcomes)",
)

patient_reference: Hook[[Any, str], UUID | None] = Hook(
    "clinics.patient_reference",
    "the uuid of the clinic's patient with this record number or id, for the audit page's filter (patients)",
)
