"""Hooks of the audit app (core/hooks.py; listed in docs/ARCHITECTURE.md, "Hooks")."""

from typing import Any

from prolotrack.core.hooks import Hook

alert_addresses: Hook[[Any], list[str]] = Hook(
    "audit.alert_addresses",
    "email addresses of the clinic's active members who read the audit trail, alerted when a stored file fails its "
    "integrity check (clinics)",
)
