"""Turning typed input into the domain's planned procedure, patient facts and course schedule (no writes)."""

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from prolotrack.clinical.convert import refuse_control_characters
from prolotrack.clinical.queries import ProtocolEntry
from prolotrack.domain.agents import parse_agent
from prolotrack.domain.anatomy import parse_region
from prolotrack.domain.errors import ScheduleError, ScreeningError
from prolotrack.domain.protocols import Schedule, ScheduleSettings, schedule
from prolotrack.domain.screening import (
    Allergy,
    Medication,
    PatientFacts,
    PlannedProcedure,
    RiskFlag,
    Sedation,
    Side,
    parse_code,
)

# Dates outside this window are typing accidents; they would also overflow the calendar arithmetic near year 9999.
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


def _in_window(day: date, what: str, error: type[ScreeningError] | type[ScheduleError]) -> date:
    if not EARLIEST <= day <= LATEST:
        raise error(
            f"{what} {day.isoformat()} is outside {EARLIEST.isoformat()} to {LATEST.isoformat()}: check the year."
        )
    return day


def planned_procedure(
    *,
    day: date,
    region: str,
    side: str,
    site: str,
    agents: Iterable[str],
    sedation: str = "none",
    landmarks: Sequence[str] = (),
) -> PlannedProcedure:
    """Return the planned procedure, refusing unknown codes and implausible dates with the domain's messages."""
    refuse_control_characters(site or "", "The site", ScreeningError)
    return PlannedProcedure(
        # The codes are parsed in the order PlannedProcedure checks them, with its parsers and messages.
        date=_in_window(day, "The procedure date", ScreeningError),
        region=parse_region(region),
        side=parse_code(Side, side, "side"),
        sedation=parse_code(Sedation, sedation, "sedation"),
        agents=frozenset(parse_agent(a, ScreeningError) for a in agents),
        site_description=site or "",
        landmarks=tuple(landmarks),
    )


def adhoc_facts(data: dict[str, Any], extra_flags: Iterable[str] = ()) -> PatientFacts:
    """Return patient facts given directly (not read from the registry)."""
    facts = PatientFacts(
        date_of_birth=data["date_of_birth"],
        sex=data.get("sex", "unknown"),
        pregnancy=data.get("pregnancy", "unknown"),
        medications=tuple(
            Medication(m["name"], m["drug_class"], m.get("last_dose")) for m in data.get("medications", [])
        ),
        allergies=tuple(
            Allergy(a["substance"], a.get("reaction", ""), a.get("severity", "unknown"))
            for a in data.get("allergies", [])
        ),
    )
    # The flags are checked last, as PatientFacts checks them.
    flags = [*data.get("flags", []), *extra_flags]
    return replace(facts, flags=frozenset(parse_code(RiskFlag, flag, "risk flag") for flag in flags))


def schedule_settings(clinic: Any) -> ScheduleSettings:
    """The schedule settings of a clinic: its NSAID stop window; the other values are product defaults."""
    return ScheduleSettings(nsaid_stop_days=clinic.config.nsaid_stop_days)


def course_schedule(clinic: Any, entry: ProtocolEntry, start: date) -> tuple[Schedule, ScheduleSettings]:
    """Return the course plan of a protocol starting on `start`, with the settings it used."""
    settings = schedule_settings(clinic)
    template = entry.usable()
    return schedule(template, _in_window(start, "The start date", ScheduleError), settings), settings
