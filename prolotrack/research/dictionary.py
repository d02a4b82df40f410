"""The tables of the research export, their columns, explicit Arrow types and the data dictionary.

One list drives everything: the Parquet schemas, the CSV headers, the dictionary file in the zip and docs/RESEARCH.md's
table (a test keeps that table equal to this list). Date columns depend on the export's date mode: `<name>_year`
(the true year, Safe Harbor) or `<name>_date` (the date shifted by the patient's offset).
"""

from dataclasses import dataclass

import pyarrow as pa

from prolotrack.domain.agents import Agent
from prolotrack.domain.deidentify import DateMode

PSEUDONYM = (
    "Keyed pseudonym (HMAC-SHA256 of the record's internal id with the clinic's research key); stable across exports"
)
CODED = "Coded value from a fixed list; no free text"
AS_IS = "Not an identifier; exported as recorded"


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    meaning: str
    unit: str = ""
    deidentified: str = AS_IS
    is_date: bool = False  # a date column: named and typed by the date mode

    def for_mode(self, mode: DateMode) -> "Column":
        if not self.is_date:
            return self
        if mode is DateMode.YEAR:
            return Column(
                f"{self.name}_year",
                pa.int16(),
                f"{self.meaning} (year)",
                "calendar year",
                "Year only: day and month removed (Safe Harbor 164.514(b)(2)(i)(C))",
            )
        return Column(
            f"{self.name}_date",
            pa.date32(),
            f"{self.meaning} (shifted)",
            "date",
            "Shifted by the patient's offset (1-365 days either way, the same for all the patient's dates)",
        )


@dataclass(frozen=True)
class Table:
    name: str
    meaning: str
    columns: tuple[Column, ...]

    def columns_for(self, mode: DateMode) -> tuple[Column, ...]:
        return tuple(c.for_mode(mode) for c in self.columns)

    def schema(self, mode: DateMode) -> pa.Schema:
        return pa.schema(
            [
                pa.field(
                    c.name,
                    c.type,
                    nullable=True,
                    metadata={"meaning": c.meaning, "unit": c.unit, "deidentified": c.deidentified},
                )
                for c in self.columns_for(mode)
            ],
            metadata={"table": self.name, "meaning": self.meaning},
        )


def _id(name: str, what: str) -> Column:
    return Column(name, pa.string(), f"Pseudonymous id of the {what}", deidentified=PSEUDONYM)


def _coded(name: str, meaning: str) -> Column:
    return Column(name, pa.string(), meaning, deidentified=CODED)


ML = "mL"
AGENT_COLUMNS = tuple(
    Column(
        f"{agent.value}_pct",
        pa.decimal128(7, 3),
        f"Final concentration of {agent.label.lower()} in the syringe",
        "% weight/volume (g per 100 mL)",
    )
    for agent in Agent
)

TABLES: tuple[Table, ...] = (
    Table(
        "patients",
        "One row per patient with a current research consent",
        (
            _id("patient_id", "patient"),
            _coded("sex", "Administrative sex: female, male, other, unknown (FHIR codes)"),
            Column(
                "birth_year",
                pa.int16(),
                "Year of birth; empty for a patient aged 90 or over on the export date",
                "calendar year",
                "Year only; withheld when the age is over 89 (164.514(b)(2)(i)(C))",
            ),
            Column(
                "age_at_export",
                pa.string(),
                "Age in completed years on the export date, or 90+",
                "years",
                "Ages over 89 aggregated as 90+",
            ),
        ),
    ),
    Table(
        "courses",
        "Treatment courses: one indication, region and side, a protocol and a series of sessions",
        (
            _id("course_id", "course"),
            _id("patient_id", "patient"),
            Column(
                "indication",
                pa.string(),
                "Indication as entered for the course",
                deidentified="Short label checked by safe_label: '[withheld]' when it contains the patient's "
                "identifiers, digits, a date, an email, a web or street address, or is over 120 characters",
            ),
            _coded("region", "Body region (injection map region code)"),
            _coded("side", "left, right, bilateral, midline, na"),
            Column(
                "protocol_id",
                pa.string(),
                "Protocol template: a built-in code or the clinic's template id; empty for none",
            ),
            Column(
                "protocol_name",
                pa.string(),
                "Name of the protocol template",
                deidentified="Checked by safe_label (a clinic's own template name is typed text)",
            ),
            _coded("status", "open, completed, stopped"),
            Column(
                "age_at_start",
                pa.string(),
                "Age in completed years when the course started, or 90+",
                "years",
                "Ages over 89 aggregated as 90+ (and every age of a patient who is 90+ on the export date)",
            ),
            Column("started", pa.date32(), "Start of the course", is_date=True),
            Column("sessions_done", pa.int16(), "Sessions with status done", "sessions"),
        ),
    ),
    Table(
        "sessions",
        "Sessions of the courses (planned, booked, done, cancelled, no-show)",
        (
            _id("session_id", "session"),
            _id("course_id", "course"),
            _id("patient_id", "patient"),
            Column("number", pa.int16(), "Session number within the course"),
            Column("optional", pa.bool_(), "An 'as needed' session of the protocol"),
            _coded("status", "planned, booked, done, cancelled, no_show"),
            Column("session", pa.date32(), "Day of the session (appointment day, else planned day)", is_date=True),
            _coded("sedation", "none, oral"),
            Column("weight_kg", pa.decimal128(5, 1), "Weight used for the anaesthetic limit", "kg"),
            Column("injections", pa.int16(), "Number of injection sites recorded", "injections"),
            Column("total_volume_ml", pa.decimal128(7, 2), "Sum of the sites' volumes", ML),
            Column("vasovagal", pa.bool_(), "Vasovagal reaction observed"),
            Column("bleeding", pa.bool_(), "Bleeding observed"),
            Column("last_signs", pa.bool_(), "Signs of local anaesthetic systemic toxicity observed"),
            Column("instructions_given", pa.bool_(), "Post-procedure instructions given"),
            Column("signed", pa.bool_(), "The session note is signed by a clinician"),
        ),
    ),
    Table(
        "solutions",
        "Solutions prepared at the sessions: final concentrations and volume",
        (
            _id("solution_id", "solution"),
            _id("session_id", "session"),
            _id("patient_id", "patient"),
            Column(
                "label",
                pa.string(),
                "Syringe label within the session (A, B, …)",
                deidentified="Checked by safe_label (typed text)",
            ),
            Column("final_volume_ml", pa.decimal128(6, 2), "Final volume of the syringe", ML),
            _coded("diluent", "Diluent making up the volume"),
            Column("with_epinephrine", pa.bool_(), "The anaesthetic stock contained epinephrine"),
            *AGENT_COLUMNS,
        ),
    ),
    Table(
        "injection_sites",
        "Each injection: where (landmark, side, map point), which solution, how much",
        (
            _id("site_id", "site"),
            _id("session_id", "session"),
            _id("solution_id", "solution"),
            _id("patient_id", "patient"),
            Column("number", pa.int16(), "Site number within the session"),
            _coded("landmark", "Landmark code of the product's catalogue; empty for a free point"),
            Column(
                "landmark_label",
                pa.string(),
                "Catalogue label of the landmark",
                deidentified="From the catalogue; a free point's typed label is not exported",
            ),
            _coded("side", "left, right, bilateral, midline, na"),
            _coded("body_map", "Injection map drawing code"),
            Column("x", pa.decimal128(7, 2), "Point on the map drawing, horizontal", "map units"),
            Column("y", pa.decimal128(7, 2), "Point on the map drawing, vertical", "map units"),
            Column("volume_ml", pa.decimal128(5, 2), "Volume injected", ML),
            Column("depth_mm", pa.decimal128(5, 1), "Needle depth", "mm"),
            Column("needle_gauge", pa.int16(), "Needle gauge", "G"),
            _coded("guidance", "landmark, ultrasound"),
        ),
    ),
    Table(
        "adverse_events",
        "Adverse events, linked to course, session and site where known",
        (
            _id("adverse_event_id", "adverse event"),
            _id("patient_id", "patient"),
            _id("course_id", "course"),
            _id("session_id", "session"),
            _id("site_id", "site"),
            _coded("event_type", "Event type (DOMAIN.md §7)"),
            _coded("severity", "mild, moderate, severe"),
            Column(
                "serious", pa.bool_(), "Serious: death, life-threatening, hospitalisation, disability, intervention"
            ),
            _coded("causality", "WHO-UMC causality: certain, probable, possible, unlikely, unassessable"),
            _coded("outcome", "FHIR AdverseEvent outcome code"),
            Column("onset", pa.date32(), "Onset of the event", is_date=True),
        ),
    ),
    Table(
        "outcomes",
        "Completed outcome questionnaires: instrument and score",
        (
            _id("outcome_id", "outcome"),
            _id("patient_id", "patient"),
            _id("course_id", "course"),
            _coded("instrument", "Instrument code"),
            Column("score", pa.decimal128(7, 2), "Score on the instrument's own scale", "instrument scale"),
            _coded("timepoint_code", "Timepoint of the course (baseline, session-N, follow-up code)"),
            _coded("timepoint_kind", "baseline, session, follow_up"),
            _coded("source", "patient_link, tablet, staff_paper"),
            Column("answered", pa.date32(), "Day the answers describe", is_date=True),
        ),
    ),
)

TABLES_BY_NAME = {t.name: t for t in TABLES}
DICTIONARY_HEADER = ("table", "column", "type", "unit", "meaning", "deidentification")


def dictionary_rows(mode: DateMode) -> list[tuple[str, ...]]:
    """The data dictionary: one row per column of every table, for the chosen date mode."""
    return [
        (table.name, c.name, str(c.type), c.unit, c.meaning, c.deidentified)
        for table in TABLES
        for c in table.columns_for(mode)
    ]
