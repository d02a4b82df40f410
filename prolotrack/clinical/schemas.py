"""Request and response shapes of the clinical endpoints.

Numbers: every quantity in a **response** is a decimal string ("3.00", "1.5", "300"), never a JSON number, so no
client reads 0.1 mL as 0.1000000000000000055. Volumes to draw always have two decimals (the 0.01 mL rounding step);
other amounts are exact, without trailing zeros. A **request** may send a decimal string (recommended) or a JSON
number; either is read as the exact decimal written. Unknown fields are refused (422), so a misspelt field cannot be
silently ignored.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from ninja import Field, Schema
from pydantic import ConfigDict, StrictBool

from prolotrack.core.limits import limit_field
from prolotrack.domain.limits import (
    BODY_WEIGHT_KG,
    CONCENTRATION_PCT,
    PLANNED_ANAESTHETIC_MG,
    SOLUTION_VOLUME_ML,
    Limit,
)

DECIMAL_IN = "Decimal string (recommended) or JSON number, read exactly as written."
DECIMAL_OUT = "Decimal string."


def _checked(limit: Limit, description: str, default: Any = ...) -> Any:
    # Published in the schema; checked by the calculators (domain), whose message names the field and the unit.
    return limit_field(limit, default, description=description, enforce=False)


class StrictSchema(Schema):
    model_config = ConfigDict(extra="forbid")


# --- Calculators ---------------------------------------------------------------------------------------------


class FurtherAgentIn(StrictSchema):
    agent: str = Field(..., max_length=40, description="glycerin, phenol or sodium_morrhuate.")
    target_pct: Decimal = _checked(CONCENTRATION_PCT, f"Concentration wanted in the syringe, % w/v. {DECIMAL_IN}")
    stock_pct: Decimal = _checked(CONCENTRATION_PCT, f"Concentration of the stock vial, % w/v. {DECIMAL_IN}")


class MixIn(StrictSchema):
    final_volume_ml: Decimal = _checked(SOLUTION_VOLUME_ML, f"Volume to prepare, mL. {DECIMAL_IN}")
    target_dextrose_pct: Decimal = _checked(CONCENTRATION_PCT, f"Dextrose wanted in the syringe, % w/v. {DECIMAL_IN}")
    dextrose_stock_pct: Decimal = _checked(CONCENTRATION_PCT, f"Dextrose stock, % w/v (D50 = 50). {DECIMAL_IN}")
    anesthetic: str | None = Field(
        None, max_length=40, description="lidocaine, procaine, bupivacaine or mepivacaine; omit for none."
    )
    target_anesthetic_pct: Decimal | None = _checked(
        CONCENTRATION_PCT, f"Anaesthetic wanted, % w/v. {DECIMAL_IN}", None
    )
    anesthetic_stock_pct: Decimal | None = _checked(CONCENTRATION_PCT, f"Anaesthetic stock, % w/v. {DECIMAL_IN}", None)
    diluent: str | None = Field(
        None, max_length=60, description="0.9% sodium chloride (default, also 'saline') or sterile water."
    )
    further_agents: list[FurtherAgentIn] = Field(default_factory=list, max_length=3)


class MixComponentOut(Schema):
    agent: str
    label: str
    role: str = Field(..., description="dextrose, anesthetic or further.")
    target_pct: str = Field(..., description=DECIMAL_OUT)
    stock_pct: str = Field(..., description=DECIMAL_OUT)
    stock_volume_ml: str = Field(..., description=f"Volume of stock to draw, two decimals. {DECIMAL_OUT}")
    amount_mg: str = Field(..., description=f"What the drawn volume holds, mg. {DECIMAL_OUT}")
    amount_g: str = Field(..., description=f"The same in g. {DECIMAL_OUT}")


class ConcentrationOut(Schema):
    agent: str
    percent: str = Field(..., description=f"% w/v. {DECIMAL_OUT}")
    mg_per_ml: str = Field(..., description=DECIMAL_OUT)


class MixOut(Schema):
    final_volume_ml: str
    components: list[MixComponentOut]
    diluent: str
    diluent_volume_ml: str = Field(..., description=f"Diluent to add, two decimals. {DECIMAL_OUT}")
    total_volume_ml: str = Field(..., description="Sum of every part; always equals the final volume.")
    final_concentrations: list[ConcentrationOut]
    rounding: str = Field(..., description="The rounding rule, in words.")
    source: str


class LimitIn(StrictSchema):
    drug: str = Field(..., max_length=40, description="lidocaine, procaine, bupivacaine or mepivacaine.")
    with_epinephrine: StrictBool = Field(..., description="true or false (JSON booleans only).")
    weight_kg: Decimal = _checked(BODY_WEIGHT_KG, f"Body weight, kg. {DECIMAL_IN}")
    planned_mg: Decimal | None = _checked(
        PLANNED_ANAESTHETIC_MG, f"Total planned for the session, mg; adds the check. {DECIMAL_IN}", None
    )


class LimitCheckOut(Schema):
    status: str = Field(..., description="ok, warn (at or above the clinic's warning threshold) or block (over).")
    fraction: str = Field(..., description=f"Planned ÷ maximum, rounded up to 4 decimals. {DECIMAL_OUT}")
    percent: str = Field(..., description=DECIMAL_OUT)
    warn_fraction: str = Field(..., description=f"The clinic's warning threshold. {DECIMAL_OUT}")
    message: str
    advisories: list[str] = []


class LimitOut(Schema):
    drug: str
    with_epinephrine: bool
    label: str = Field(..., description="e.g. 'Lidocaine plain'.")
    weight_kg: str
    mg_per_kg: str
    by_weight_mg: str = Field(..., description=f"mg/kg × weight, before the cap. {DECIMAL_OUT}")
    cap_mg: str | None
    max_mg: str = Field(..., description=f"min(mg/kg × weight, cap), rounded down to 0.1 mg. {DECIMAL_OUT}")
    rule: str
    source: str
    evidence: str = Field(..., description="established, varies or unverified (DOMAIN.md tags).")
    note: str
    check: LimitCheckOut | None = None


# --- Screening -----------------------------------------------------------------------------------------------


class MedicationIn(StrictSchema):
    name: str = Field(..., min_length=1, max_length=120)
    drug_class: str = Field(..., description="nsaid, anticoagulant, antiplatelet, corticosteroid or other.")
    last_dose: date | None = Field(None, description="Omit while it is still being taken.")


class AllergyIn(StrictSchema):
    substance: str = Field(..., min_length=1, max_length=120)
    reaction: str = Field("", max_length=200)
    severity: str = Field("unknown", description="mild, moderate, severe or unknown.")


class PatientFactsIn(StrictSchema):
    date_of_birth: date
    sex: str = Field("unknown", description="female, male, other or unknown.")
    pregnancy: str = Field("unknown", description="pregnant, not_pregnant, unknown or not_applicable.")
    medications: list[MedicationIn] = Field(default_factory=list, max_length=100)
    allergies: list[AllergyIn] = Field(default_factory=list, max_length=100)
    flags: list[str] = Field(default_factory=list, max_length=20, description="Risk flag codes (any).")


class ProcedureIn(StrictSchema):
    date: date
    region: str = Field(..., max_length=40, description="knee, lumbopelvic, shoulder, elbow, ankle_foot, hip, ...")
    side: str = Field(..., description="left, right, bilateral or midline.")
    site: str = Field("", max_length=200, description="The injection site in words.")
    agents: list[str] = Field(..., min_length=1, max_length=8, description="Agents planned, e.g. dextrose.")
    sedation: str = Field("none", description="none or oral.")
    landmarks: list[str] = Field(default_factory=list, max_length=40)


class ScreeningIn(StrictSchema):
    patient_id: UUID | None = Field(None, description="Screen a registered patient: facts are read from the chart.")
    patient: PatientFactsIn | None = Field(None, description="Or give the facts yourself (ad hoc: nothing stored).")
    procedure: ProcedureIn
    day_of_flags: list[str] = Field(
        default_factory=list,
        max_length=6,
        description="Found on the day: infection_at_site, systemic_infection, septic_joint, acute_gout_flare, "
        "acute_fracture, suspected_tumour_at_site.",
    )
    pregnancy: str | None = Field(
        None, description="With patient_id: pregnancy status asked on the day (a pregnancy on the chart wins)."
    )


class ScreeningFindingOut(Schema):
    code: str
    severity: str = Field(..., description="contraindication, caution or instruction.")
    reason: str
    source: str
    overridable: bool
    overridden: bool
    override_reason: str | None = None
    overridden_by: dict[str, Any] | None = Field(None, description="user (UUID), name, role, at (ISO time).")


class ScreeningOut(Schema):
    id: UUID | None = Field(None, description="The stored screening; null for an ad hoc evaluation.")
    stored: bool
    version: int | None = None
    patient_id: UUID | None = None
    decision: str = Field(..., description="eligible, eligible_with_cautions or not_eligible.")
    decision_label: str
    procedure_date: date
    region: str
    side: str
    site: str
    agents: list[str]
    sedation: str
    day_of_flags: list[str]
    pregnancy: str
    nsaid_stop_date: date | None = None
    findings: list[ScreeningFindingOut]
    settings: dict[str, Any]
    facts: dict[str, Any] | None = Field(None, description="What was read from the chart (stored screenings).")
    created_at: datetime | None = None
    created_by: str | None = None


class OverrideIn(StrictSchema):
    code: str = Field(..., max_length=80, description="The finding's code, e.g. caution.anticoagulant.")
    reason: str = Field(..., max_length=1000, description="Why treatment is safe (at least 10 characters).")
    version: int = Field(..., description="The version you read; a newer one on the server answers 409.")


# --- Protocols -----------------------------------------------------------------------------------------------


class SolutionComponentOut(Schema):
    agent: str
    value: str = Field(..., description=DECIMAL_OUT)
    unit: str


class ProtocolSolutionOut(Schema):
    label: str
    components: list[SolutionComponentOut]
    volume_ml: str | None = None
    volume_per: str
    note: str = ""


class SessionSpecOut(Schema):
    offset: int
    unit: str
    optional: bool


class ProtocolOut(Schema):
    id: str = Field(..., description="A built-in template's code, or a clinic template's UUID.")
    builtin: bool
    code: str
    name: str
    indication: str
    region: str
    source: str
    solutions: list[ProtocolSolutionOut]
    landmarks: list[str]
    sessions: list[SessionSpecOut]
    notes: list[str] = Field(..., description="What to review: template defaults, or the clinic's notes.")
    based_on: str | None = None
    active: bool = True
    version: int | None = None
    problem: str = ""


class PlannedSessionOut(Schema):
    number: int
    date: date
    optional: bool


class ScheduleTimepointOut(Schema):
    code: str
    label: str
    kind: str
    date: date
    optional: bool
    session_number: int | None = None


class ReminderOut(Schema):
    kind: str
    date: date
    message: str
    session_number: int | None = None
    timepoint_code: str | None = None


class ScheduleOut(Schema):
    protocol_id: str
    template_code: str
    start: date
    settings: dict[str, Any]
    sessions: list[PlannedSessionOut]
    timepoints: list[ScheduleTimepointOut]
    reminders: list[ReminderOut]


class ScheduleParams(Schema):
    start: date = Field(..., description="Date of the first session, YYYY-MM-DD.")
