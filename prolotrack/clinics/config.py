"""Clinic settings: typed, validated, with sourced defaults.

Stored as JSON on the clinic so new settings need no migration; every value is
read through `ClinicConfig`, which fills defaults and refuses bad values.
Sources for each default: docs/SETTINGS.md.
"""

from dataclasses import asdict, dataclass, fields
from typing import Any


class ClinicConfigError(ValueError):
    """A clinic setting has a value it cannot take."""


@dataclass(frozen=True)
class ClinicConfig:
    # Automatic log-off after this many idle minutes (QUALITY.md, HIPAA 164.312(a)(2)(iii)).
    idle_timeout_minutes: int = 15
    # Days before a session that NSAIDs are stopped (DOMAIN.md §6: clinics vary, 2-3 days to 2 weeks).
    nsaid_stop_days: int = 3

    LIMITS = {
        "idle_timeout_minutes": (1, 240),
        "nsaid_stop_days": (0, 28),
    }

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> "ClinicConfig":
        """Build from stored JSON, ignoring keys this version no longer knows."""
        raw = raw or {}
        known = {f.name for f in fields(cls)}
        return cls.validated({k: v for k, v in raw.items() if k in known})

    @classmethod
    def validated(cls, values: dict[str, Any]) -> "ClinicConfig":
        """Build from user input, with a clear error for any bad value."""
        known = {f.name: f for f in fields(cls)}
        clean: dict[str, Any] = {}
        for name, value in values.items():
            if name not in known:
                raise ClinicConfigError(f"Unknown clinic setting {name!r}.")
            low, high = cls.LIMITS[name]
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise ClinicConfigError(f"{name.replace('_', ' ')} must be a whole number.") from None
            if not low <= number <= high:
                raise ClinicConfigError(f"{name.replace('_', ' ')} must be between {low} and {high}, not {number}.")
            clean[name] = number
        return cls(**clean)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
