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
    "Keyed pseudonym (HMAC-SHA256 of the record's internal id with a key made for this export, or for the study of "
    "a longitudinal data use agreement); new in every other export"
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
            "Limited data set only: shifted by the patient's offset (1-365 days either way, the same for all the patient's "
            "dates)",
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
            Column(
                "sex",
                pa.string(),
                "Administrative sex: female, male, other, unknown (FHIR codes); * when generalised",
                deidentified="Coded; a quasi-identifier of the k-anonymity check (may be generalised to *)",
            ),
        ),
    ),
    Table(
        "courses",
        "Treatment courses: one indication, region and side, a protocol and a series of sessions",
        (
            _id("course_id", "course"),
            _id("patient_id", "patient"),
            _coded("indication_code", "Indication code of the product's list (from the protocol template); other"),
            Column(
                "indication",
                pa.string(),
                "Label of the indication code",
                deidentified="From the product's list; the typed indication is never exported",
            ),
            _coded("region", "Body region (injection map region code)"),
            _coded("side", "left, right, bilateral, midline, na"),
            _coded("protocol", "Built-in protocol template code; clinic_template for a clinic's own; empty for none"),
            _coded("status", "open, completed, stopped"),
            Column(
                "age_band",
                pa.string(),
                "Age when the course started, as a band (e.g. 45-49), 90+, or * when generalised",
                "years",
                "Generalised (5-year bands or wider, 90+ pooled) by the k-anonymity check",
            ),
            Column(
                "weight_band",
                pa.string(),
                "Weight at the course's first weighed session, as a band (e.g. 80-84), <40, 120+, unknown or *",
                "kg",
                "Generalised (5 kg bands or wider, bottom and top coded) by the k-anonymity check",
            ),
            Column("started", pa.date32(), "Start of the course", is_date=True),
            Column("sessions_done", pa.int16(), "Sessions with status done", "sessions"),
        ),
    ),
    Table(
        "sessions",
        "Sessions of the courses up to the export day (planned, booked, done, cancelled, no-show); sessions after "
        "the export day are not exported",
        (
            _id("session_id", "session"),
            _id("course_id", "course"),
            _id("patient_id", "patient"),
            Column("number", pa.int16(), "Session number within the course"),
            Column("optional", pa.bool_(), "An 'as needed' session of the protocol"),
            _coded("status", "planned, booked, done, cancelled, no_show"),
            Column("session", pa.date32(), "Day of the session (appointment day, else planned day)", is_date=True),
            _coded("sedation", "none, oral"),
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
            Column("syringe", pa.int16(), "Syringe number within the session (the typed label is not exported)"),
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
