"""Build one research export: de-identified tables as CSV and Parquet, the data dictionary and a README, in a zip.

Patients are read in batches (BATCH) so memory stays flat with clinic size; each batch's rows go straight to the CSV
files and to one Parquet row group per table. Nothing identifiable is read into a row: every value passes through
prolotrack.domain.deidentify or is a coded value, a number or a boolean (prolotrack.research.dictionary says which).
"""

import csv
import hashlib
import io
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from prolotrack.clinical.queries import clinic_today
from prolotrack.domain.anatomy import LANDMARKS
from prolotrack.domain.deidentify import (
    SAFE_HARBOR_IDENTIFIERS,
    SOURCE,
    WITHHELD,
    DateMode,
    age_text,
    birth_year,
    date_shift_days,
    deidentify_date,
    pseudonym,
    safe_label,
)
from prolotrack.domain.errors import DomainError
from prolotrack.outcomes.models import QuestionnaireResponse, ResponseStatus
from prolotrack.patients.models import Patient
from prolotrack.research import queries
from prolotrack.research.dictionary import AGENT_COLUMNS, DICTIONARY_HEADER, TABLES, Table, dictionary_rows
from prolotrack.research.models import ExportJob
from prolotrack.treatment.models import (
    AdverseEvent,
    Course,
    CourseStatus,
    InjectionSite,
    PreparedSolution,
    SessionStatus,
    TreatmentSession,
)

BATCH = 100
_LANDMARK_LABELS = {lm.code: lm.label for lm in LANDMARKS}
_AGENT_COLUMN = {c.name.removesuffix("_pct"): c.name for c in AGENT_COLUMNS}

Progress = Callable[[int, int, str], None]


@dataclass
class BuildResult:
    patient_uuids: list[str] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)
    size: int = 0
    sha256: str = ""


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class TableWriter:
    """One table's CSV file and Parquet file, written a batch at a time."""

    def __init__(self, table: Table, mode: DateMode, folder: Path) -> None:
        self.table = table
        self.columns = table.columns_for(mode)
        self.schema = table.schema(mode)
        self.csv_path = folder / "csv" / f"{table.name}.csv"
        self.parquet_path = folder / "parquet" / f"{table.name}.parquet"
        self._csv_file = self.csv_path.open("w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._csv_file)
        self._csv.writerow([c.name for c in self.columns])
        self._parquet = pq.ParquetWriter(self.parquet_path, self.schema)
        self.rows = 0

    def write(self, rows: list[list[Any]]) -> None:
        """Write rows given as lists in the table's column order."""
        if not rows:
            return
        self._csv.writerows([_csv_value(v) for v in row] for row in rows)
        arrays = [pa.array([row[i] for row in rows], type=c.type) for i, c in enumerate(self.columns)]
        self._parquet.write_table(pa.Table.from_arrays(arrays, schema=self.schema))
        self.rows += len(rows)

    def close(self) -> None:
        self._csv_file.close()
        self._parquet.close()


class ExportBuilder:
    """Reads the consenting patients of the job's clinic and writes the de-identified tables."""

    def __init__(self, job: ExportJob) -> None:
        self.job = job
        self.clinic = job.clinic
        self.mode = DateMode(job.date_mode)
        self.key = queries.research_key(self.clinic)
        self.today = clinic_today(self.clinic)
        self.indication = " ".join(job.indication.split()).lower()
        self.filtered = bool(self.indication or job.year_from or job.year_to)

    # --- helpers ---

    def _pid(self, kind: str, record: Any) -> str | None:
        return pseudonym(self.key, kind, str(record.uuid)) if record is not None else None

    def _course_filter(self) -> Q:
        q = Q(entered_in_error_at__isnull=True)
        if self.job.year_from:
            q &= Q(started_on__year__gte=self.job.year_from)
        if self.job.year_to:
            q &= Q(started_on__year__lte=self.job.year_to)
        if self.indication:
            q &= Q(indication__icontains=self.indication)
        return q

    def patient_ids(self) -> list[int]:
        patients = queries.consenting_patients(self.clinic)
        if self.filtered:
            matching = Course.objects.filter(self._course_filter(), patient=OuterRef("pk"))
            patients = patients.filter(Exists(matching))
        return list(patients.order_by("pk").values_list("pk", flat=True))

    # --- the build ---

    def build(self, target: Path, progress: Progress) -> BuildResult:
        ids = self.patient_ids()
        result = BuildResult()
        progress(0, len(ids), "Reading consenting patients")
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            folder = Path(tmp)
            (folder / "csv").mkdir()
            (folder / "parquet").mkdir()
            writers = {t.name: TableWriter(t, self.mode, folder) for t in TABLES}
            try:
                for start in range(0, len(ids), BATCH):
                    batch = ids[start : start + BATCH]
                    for name, rows in self._batch(batch, result).items():
                        writers[name].write(rows)
                    progress(min(start + BATCH, len(ids)), len(ids), "De-identifying patients")
            finally:
                for writer in writers.values():
                    writer.close()
            result.row_counts = {name: w.rows for name, w in writers.items()}
            progress(len(ids), len(ids), "Writing the zip file")
            partial = target.with_suffix(".part")
            with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                archive.writestr("README.md", self._readme(result))
                archive.writestr("data_dictionary.csv", _dictionary_csv(self.mode))
                for writer in writers.values():
                    archive.write(writer.csv_path, f"csv/{writer.table.name}.csv")
                    archive.write(writer.parquet_path, f"parquet/{writer.table.name}.parquet")
            os.replace(partial, target)
        result.size = target.stat().st_size
        result.sha256 = _sha256(target)
        return result

    def _batch(self, batch: list[int], result: BuildResult) -> dict[str, list[list[Any]]]:
        mode = self.mode
        patients = {p.pk: p for p in Patient.objects.filter(pk__in=batch)}
        shifts = {pk: date_shift_days(self.key, str(p.uuid)) for pk, p in patients.items()}

        def when(patient_pk: int, day: date | None) -> Any:
            return deidentify_date(day, mode, shifts[patient_pk])

        # Courses (kept by the filters; the indication filter applies to the exported label only, so a withheld
        # indication never matches and a filter cannot probe free text).
        courses: dict[int, Course] = {}
        labels: dict[int, str | None] = {}
        for course in Course.objects.filter(self._course_filter(), patient_id__in=batch).order_by("pk"):
            label = safe_label(course.indication, queries.patient_identifiers(patients[course.patient_id]))
            if self.indication and (label in (None, WITHHELD) or self.indication not in label.lower()):
                continue
            courses[course.pk] = course
            labels[course.pk] = label
        kept = {c.patient_id for c in courses.values()} if self.filtered else set(patients)

        sessions = list(
            TreatmentSession.objects.filter(course_id__in=courses, entered_in_error_at__isnull=True).order_by(
                "course_id", "number", "pk"
            )
        )
        session_ids = {s.pk: s for s in sessions}
        solutions = list(
            PreparedSolution.objects.filter(session_id__in=session_ids, entered_in_error_at__isnull=True).order_by(
                "session_id", "label", "pk"
            )
        )
        solution_ids = {s.pk: s for s in solutions}
        sites = list(
            InjectionSite.objects.filter(
                session_id__in=session_ids, solution_id__in=solution_ids, entered_in_error_at__isnull=True
            ).order_by("session_id", "number", "pk")
        )
        site_ids = {s.pk: s for s in sites}
        events = AdverseEvent.objects.filter(patient_id__in=kept, entered_in_error_at__isnull=True).order_by("pk")
        answers = (
            QuestionnaireResponse.objects.filter(
                patient_id__in=kept,
                status=ResponseStatus.COMPLETED,
                entered_in_error_at__isnull=True,
                score__isnull=False,
            )
            .select_related("timepoint")
            .order_by("pk")
        )
        if self.filtered:
            events = events.filter(course_id__in=courses)
            answers = answers.filter(course_id__in=courses)

        out: dict[str, list[list[Any]]] = {t.name: [] for t in TABLES}
        for pk in sorted(kept):
            patient = patients[pk]
            result.patient_uuids.append(str(patient.uuid))
            out["patients"].append(
                [
                    self._pid("patient", patient),
                    patient.sex,
                    birth_year(patient.date_of_birth, self.today) if patient.date_of_birth <= self.today else None,
                    _age(patient.date_of_birth, self.today, self.today),
                ]
            )

        done_count: dict[int, int] = {}
        per_session: dict[int, list[InjectionSite]] = {}
        for site in sites:
            per_session.setdefault(site.session_id, []).append(site)
        for s in sessions:
            if s.status == SessionStatus.DONE:
                done_count[s.course_id] = done_count.get(s.course_id, 0) + 1

        for course in courses.values():
            patient = patients[course.patient_id]
            idents = queries.patient_identifiers(patient)
            out["courses"].append(
                [
                    self._pid("course", course),
                    self._pid("patient", patient),
                    labels[course.pk],
                    course.region,
                    course.side,
                    course.protocol_id or None,
                    safe_label(course.protocol_name, idents),
                    CourseStatus(course.status).value,
                    _age(patient.date_of_birth, course.started_on, self.today),
                    when(patient.pk, course.started_on),
                    done_count.get(course.pk, 0),
                ]
            )
        for s in sessions:
            day = timezone.localtime(s.starts_at, self.clinic.tz).date() if s.starts_at else s.planned_on
            own = per_session.get(s.pk, [])
            out["sessions"].append(
                [
                    self._pid("session", s),
                    self._pid("course", courses[s.course_id]),
                    self._pid("patient", patients[s.patient_id]),
                    s.number,
                    s.optional,
                    s.status,
                    when(s.patient_id, day),
                    s.sedation,
                    s.weight_kg,
                    len(own),
                    sum((site.volume_ml for site in own), Decimal(0)) if own else None,
                    s.vasovagal,
                    s.bleeding,
                    s.last_signs,
                    s.instructions_given,
                    s.signed_at is not None,
                ]
            )
        for sol in solutions:
            session = session_ids[sol.session_id]
            idents = queries.patient_identifiers(patients[session.patient_id])
            strengths: dict[str, Any] = dict.fromkeys(_AGENT_COLUMN.values())
            for component in sol.components:
                column = _AGENT_COLUMN.get(str(component.get("agent")))
                if column is not None:
                    strengths[column] = Decimal(str(component["target_pct"]))
            out["solutions"].append(
                [
                    self._pid("solution", sol),
                    self._pid("session", session),
                    self._pid("patient", patients[session.patient_id]),
                    safe_label(sol.label, idents),
                    sol.final_volume_ml,
                    sol.diluent,
                    sol.with_epinephrine,
                    *(strengths[c.name] for c in AGENT_COLUMNS),
                ]
            )
        for site in sites:
            session = session_ids[site.session_id]
            out["injection_sites"].append(
                [
                    self._pid("site", site),
                    self._pid("session", session),
                    self._pid("solution", solution_ids[site.solution_id]),
                    self._pid("patient", patients[session.patient_id]),
                    site.number,
                    site.landmark or None,
                    _LANDMARK_LABELS.get(site.landmark),
                    site.side,
                    site.body_map,
                    site.x,
                    site.y,
                    site.volume_ml,
                    site.depth_mm,
                    site.needle_gauge,
                    site.guidance,
                ]
            )
        for event in events:
            course = courses.get(event.course_id) if event.course_id else None
            session = session_ids.get(event.session_id) if event.session_id else None
            out["adverse_events"].append(
                [
                    self._pid("adverse_event", event),
                    self._pid("patient", patients[event.patient_id]),
                    self._pid("course", course),
                    self._pid("session", session),
                    self._pid("site", site_ids.get(event.site_id) if event.site_id else None),
                    event.event_type,
                    event.severity,
                    event.serious,
                    event.causality,
                    event.outcome,
                    when(event.patient_id, event.onset_on),
                ]
            )
        for answer in answers:
            course = courses.get(answer.course_id) if answer.course_id else None
            point = answer.timepoint if answer.timepoint_id and course is not None else None
            out["outcomes"].append(
                [
                    self._pid("outcome", answer),
                    self._pid("patient", patients[answer.patient_id]),
                    self._pid("course", course),
                    answer.instrument,
                    answer.score,
                    point.code if point else None,
                    point.kind if point else None,
                    answer.source,
                    when(answer.patient_id, answer.authored_on),
                ]
            )
        return out

    def _readme(self, result: BuildResult) -> str:
        lines = [
            "# ProloTrack research export",
            "",
            f"De-identified by the HIPAA Safe Harbor method ({SOURCE}).",
            f"Exported in {self.today.year}. Patients: {len(result.patient_uuids)} (each with a current research "
            "consent).",
            f"Dates: {self.mode.label}.",
            f"Filters: {self.job.filters_text()}.",
            "",
            "Files: csv/<table>.csv and parquet/<table>.parquet (same rows; Parquet carries explicit types), "
            "data_dictionary.csv (every column: meaning, type, unit, how it was de-identified).",
            "Ids are keyed pseudonyms, stable across this clinic's exports; they cannot be turned back into records "
            "without the clinic's key, which is never disclosed. Do not try to re-identify anyone.",
            "",
            "## Rows",
            "",
            *(f"- {name}: {count}" for name, count in result.row_counts.items()),
            "",
            "## The 18 Safe Harbor identifiers",
            "",
            *(f"- ({i.letter}) {i.identifier}: {i.handling}" for i in SAFE_HARBOR_IDENTIFIERS),
            "",
        ]
        if self.mode is DateMode.SHIFT:
            lines += [
                "Note: shifted dates keep intervals within a patient. HHS lists only the year as a Safe Harbor date; "
                "use shifted dates under an expert determination or your data use agreement.",
                "",
            ]
        return "\n".join(lines)


def _age(date_of_birth: date, on: date, today: date) -> str | None:
    """The age at a date, "90+" when the patient is over 89 then or today; None for a date before the birth date
    (a data error in the record, which must not stop the whole export)."""
    try:
        return age_text(date_of_birth, on, oldest_on=today)
    except DomainError:
        return None


def _dictionary_csv(mode: DateMode) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(DICTIONARY_HEADER)
    writer.writerows(dictionary_rows(mode))
    return buffer.getvalue()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def iter_zip_members(path: Path) -> Iterable[tuple[str, bytes]]:
    """Every file in an export zip, with its bytes (used by the tests and the download check)."""
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            yield name, archive.read(name)
