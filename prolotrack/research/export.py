"""Build one research export: de-identified tables as CSV and Parquet, the data dictionary and a README, in a zip.

Patients are read in batches (BATCH) so memory stays flat with clinic size; each batch's rows go straight to the CSV
files and to one Parquet row group per table. Nothing identifiable is read into a row: every value passes through
prolotrack.domain.deidentify or is a coded value, a number or a boolean (prolotrack.research.dictionary says which).
"""

import csv
import hashlib
import io
import json
import os
import random
import secrets
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
from prolotrack.domain.dates import age_in_years
from prolotrack.domain.deidentify import (
    MIN_KEY_BYTES,
    SAFE_HARBOR_IDENTIFIERS,
    SOURCE,
    DateMode,
    date_shift_days,
    deidentify_date,
    pseudonym,
    study_key,
)
from prolotrack.domain.errors import DomainError
from prolotrack.domain.kanonymity import CourseQI, PatientRecord, Release, anonymise, generalise_course
from prolotrack.outcomes.models import QuestionnaireResponse, ResponseStatus
from prolotrack.patients.models import Patient
from prolotrack.research import queries
from prolotrack.research.dictionary import AGENT_COLUMNS, DICTIONARY_HEADER, TABLES, Table, dictionary_rows
from prolotrack.research.models import ExportJob
from prolotrack.research.settings import research_min_k, research_min_l
from prolotrack.research.vocabulary import (
    INDICATIONS,
    OTHER,
    PROTOCOL_INDICATION,
    indication_code,
    protocol_code,
)
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
_RANDOM = random.SystemRandom()
_LANDMARK_LABELS = {lm.code: lm.label for lm in LANDMARKS}
_AGENT_COLUMN = {c.name.removesuffix("_pct"): c.name for c in AGENT_COLUMNS}

Progress = Callable[[int, int, str], None]


def new_export_key() -> bytes:
    """A key for one export, never stored: its pseudonyms and date shifts link to nothing else."""
    return secrets.token_bytes(MIN_KEY_BYTES)


@dataclass
class BuildResult:
    patient_uuids: list[str] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)
    size: int = 0
    sha256: str = ""
    privacy: dict[str, Any] = field(default_factory=dict)


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


@dataclass
class _Batch:
    """One batch of patients as read for the export, before its rows are written."""

    patients: dict[int, Patient]
    shifts: dict[int, int]
    mode: DateMode
    courses: dict[int, Course]
    sessions: list[TreatmentSession]
    solutions: list[PreparedSolution]
    sites: list[InjectionSite]
    session_ids: dict[int, TreatmentSession] = field(init=False)

    def __post_init__(self) -> None:
        self.session_ids = {s.pk: s for s in self.sessions}

    def when(self, patient_pk: int, day: date | None) -> Any:
        """A date as the export's mode gives it (the patient's shift, or the year)."""
        return deidentify_date(day, self.mode, self.shifts[patient_pk])


class ExportBuilder:
    """Reads the consenting patients of the job's clinic, checks k-anonymity and writes the tables."""

    def __init__(self, job: ExportJob, min_k: int | None = None) -> None:
        self.job = job
        self.clinic = job.clinic
        self.mode = DateMode(job.date_mode)
        self.agreement = job.agreement
        if self.agreement is not None and self.agreement.longitudinal:
            # Stable for this study only: never the same pseudonyms as another study or a one-off export.
            self.key = study_key(queries.research_key(self.clinic), str(self.agreement.uuid))
        else:
            # A key made for this export and forgotten after it: its pseudonyms and shifts link to nothing.
            self.key = new_export_key()
        self.min_k = min_k or research_min_k(self.clinic)
        self.min_l = research_min_l(self.clinic)
        self.today = clinic_today(self.clinic)
        self.indication = job.indication
        self.filtered = bool(self.indication or job.year_from or job.year_to)
        self.release: Release | None = None
        self.kept_courses: set[int] = set()
        self.released: set[int] = set()

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
            protocols = [p for p, code in PROTOCOL_INDICATION.items() if code == self.indication]
            if self.indication == OTHER:
                q &= ~Q(protocol_id__in=PROTOCOL_INDICATION)
            else:
                q &= Q(protocol_id__in=protocols)
        return q

    def patient_ids(self) -> list[int]:
        patients = queries.consenting_patients(self.clinic)
        if self.filtered:
            matching = Course.objects.filter(self._course_filter(), patient=OuterRef("pk"))
            patients = patients.filter(Exists(matching))
        return list(patients.order_by("pk").values_list("pk", flat=True))

    # --- the release check ---

    def _records(self, ids: list[int]) -> list[PatientRecord]:
        """Each patient's quasi-identifiers (sex; per course age, weight, region, side, indication code, year)."""
        records = []
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            patients = {p.pk: p for p in Patient.objects.filter(pk__in=batch).only("pk", "sex", "date_of_birth")}
            courses: dict[int, list[Course]] = {}
            rows = Course.objects.filter(self._course_filter(), patient_id__in=batch).order_by("started_on", "pk")
            for course in rows.only("pk", "patient_id", "protocol_id", "region", "side", "started_on", "status"):
                courses.setdefault(course.patient_id, []).append(course)
            weights: dict[int, Decimal] = {}
            for course_id, weight in (
                TreatmentSession.objects.filter(
                    course__in=[c.pk for cs in courses.values() for c in cs],
                    entered_in_error_at__isnull=True,
                    weight_kg__isnull=False,
                )
                .order_by("course_id", "number", "pk")
                .values_list("course_id", "weight_kg")
            ):
                if weight is not None:  # filtered above: weight_kg__isnull=False
                    weights.setdefault(course_id, weight)
            for pk in batch:
                patient = patients[pk]
                own = tuple(
                    CourseQI(
                        age=_age_years(patient.date_of_birth, c.started_on, self.today),
                        weight_kg=weights.get(c.pk),
                        region=c.region,
                        side=c.side,
                        indication=indication_code(c.protocol_id),
                        year=c.started_on.year,
                        outcome=c.status,
                        ref=c.pk,
                    )
                    for c in courses.get(pk, [])
                )
                if self.filtered and not own:
                    continue
                records.append(PatientRecord(patient=str(pk), sex=patient.sex, courses=own))
        return records

    # --- the build ---

    def build(self, target: Path, progress: Progress) -> BuildResult:
        ids = self.patient_ids()
        result = BuildResult()
        progress(0, len(ids), "Checking k-anonymity")
        self.release = anonymise(self._records(ids), self.min_k, l_min=self.min_l)
        self.released = {int(r.patient) for r in self.release.records}
        self.kept_courses = {c.ref for r in self.release.records for c in r.courses}
        self.generalised = {
            c.ref: generalise_course(c, self.release.levels) for r in self.release.records for c in r.courses
        }
        ids = [pk for pk in ids if pk in self.released]
        # Row order must not follow internal ids (record-number order): patients in a random order, rows shuffled.
        _RANDOM.shuffle(ids)
        result.privacy = self._manifest()
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
                        _RANDOM.shuffle(rows)
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
                archive.writestr("manifest.json", json.dumps(result.privacy, indent=2, sort_keys=True))
                archive.writestr("data_dictionary.csv", _dictionary_csv(self.mode))
                for writer in writers.values():
                    archive.write(writer.csv_path, f"csv/{writer.table.name}.csv")
                    archive.write(writer.parquet_path, f"parquet/{writer.table.name}.parquet")
            os.replace(partial, target)
        result.size = target.stat().st_size
        result.sha256 = _sha256(target)
        return result

    def _session_day(self, session: TreatmentSession) -> date:
        """The appointment day in the clinic's time zone, else the planned day."""
        if session.starts_at:
            return timezone.localtime(session.starts_at, self.clinic.tz).date()
        return session.planned_on

    def _manifest(self) -> dict[str, Any]:
        assert self.release is not None
        agreement = self.agreement
        return {
            "kind": "limited_data_set" if agreement else "safe_harbor",
            "description": (
                "Limited data set under a data use agreement (45 CFR 164.514(e)); not de-identified"
                if agreement
                else "De-identified by the HIPAA Safe Harbor method (45 CFR 164.514(b)(2)), checked for k-anonymity"
            ),
            "dates": self.mode.value,
            "pseudonyms": (
                f"stable for the study '{agreement.study}' only"
                if agreement and agreement.longitudinal
                else "new for this export: they link to no other export"
            ),
            "data_use_agreement": (
                {
                    "id": str(agreement.uuid),
                    "study": agreement.study,
                    "recipient": agreement.recipient,
                    "purpose": agreement.purpose,
                    "expires_on": agreement.expires_on.isoformat(),
                }
                if agreement
                else None
            ),
            "rows_shuffled": True,
            "free_text": "none: indications and labels come from coded lists",
            **self.release.manifest(),
        }

    def _load(self, batch: list[int]) -> "_Batch":
        """The batch's patients and their kept courses with every row the tables show, in a fixed number of reads.

        Sessions of days up to the export day only: future appointments would split the sessions around the
        export day, which in a limited data set tells the patient's date shift."""
        patients = {p.pk: p for p in Patient.objects.filter(pk__in=batch)}
        courses = {c.pk: c for c in Course.objects.filter(pk__in=self.kept_courses, patient_id__in=batch)}
        sessions = [
            s
            for s in TreatmentSession.objects.filter(course_id__in=courses, entered_in_error_at__isnull=True).order_by(
                "course_id", "number", "pk"
            )
            if self._session_day(s) <= self.today
        ]
        session_ids = {s.pk: s for s in sessions}
        solutions = list(
            PreparedSolution.objects.filter(session_id__in=session_ids, entered_in_error_at__isnull=True).order_by(
                "session_id", "label", "pk"
            )
        )
        sites = list(
            InjectionSite.objects.filter(
                session_id__in=session_ids, solution_id__in={s.pk for s in solutions}, entered_in_error_at__isnull=True
            ).order_by("session_id", "number", "pk")
        )
        return _Batch(
            patients=patients,
            shifts={pk: date_shift_days(self.key, str(p.uuid)) for pk, p in patients.items()},
            mode=self.mode,
            courses=courses,
            sessions=sessions,
            solutions=solutions,
            sites=sites,
        )

    def _batch(self, batch: list[int], result: BuildResult) -> dict[str, list[list[Any]]]:
        """Every table's rows for one batch of patients."""
        release = self.release
        assert release is not None
        b = self._load(batch)
        hidden_sex = release.levels.sex > 0
        out: dict[str, list[list[Any]]] = {t.name: [] for t in TABLES}
        for pk in batch:
            patient = b.patients[pk]
            result.patient_uuids.append(str(patient.uuid))
            out["patients"].append([self._pid("patient", patient), "*" if hidden_sex else patient.sex])
        out["courses"] += self._course_rows(b)
        out["sessions"] += self._session_rows(b)
        out["solutions"] += self._solution_rows(b)
        out["injection_sites"] += self._site_rows(b)
        out["adverse_events"] += self._event_rows(b)
        out["outcomes"] += self._outcome_rows(b)
        return out

    def _course_rows(self, b: "_Batch") -> list[list[Any]]:
        done_count: dict[int, int] = {}
        for s in b.sessions:
            if s.status == SessionStatus.DONE:
                done_count[s.course_id] = done_count.get(s.course_id, 0) + 1
        rows = []
        for course in b.courses.values():
            patient = b.patients[course.patient_id]
            code = indication_code(course.protocol_id)
            band = self.generalised[course.pk]
            rows.append(
                [
                    self._pid("course", course),
                    self._pid("patient", patient),
                    code,
                    INDICATIONS[code],
                    course.region,
                    course.side,
                    protocol_code(course.protocol_id),
                    CourseStatus(course.status).value,
                    band.age_band,
                    band.weight_band,
                    b.when(patient.pk, course.started_on),
                    done_count.get(course.pk, 0),
                ]
            )
        return rows

    def _session_rows(self, b: "_Batch") -> list[list[Any]]:
        per_session: dict[int, list[InjectionSite]] = {}
        for site in b.sites:
            per_session.setdefault(site.session_id, []).append(site)
        rows = []
        for s in b.sessions:
            own = per_session.get(s.pk, [])
            rows.append(
                [
                    self._pid("session", s),
                    self._pid("course", b.courses[s.course_id]),
                    self._pid("patient", b.patients[s.patient_id]),
                    s.number,
                    s.optional,
                    s.status,
                    b.when(s.patient_id, self._session_day(s)),
                    s.sedation,
                    len(own),
                    sum((site.volume_ml for site in own), Decimal(0)) if own else None,
                    s.vasovagal,
                    s.bleeding,
                    s.last_signs,
                    s.instructions_given,
                    s.signed_at is not None,
                ]
            )
        return rows

    def _solution_rows(self, b: "_Batch") -> list[list[Any]]:
        syringe: dict[int, int] = {}
        for sol in b.solutions:
            syringe[sol.pk] = (
                sum(1 for other in b.solutions if other.session_id == sol.session_id and other.pk in syringe) + 1
            )
        rows = []
        for sol in b.solutions:
            session = b.session_ids[sol.session_id]
            strengths: dict[str, Any] = dict.fromkeys(_AGENT_COLUMN.values())
            for component in sol.components:
                column = _AGENT_COLUMN.get(str(component.get("agent")))
                if column is not None:
                    strengths[column] = Decimal(str(component["target_pct"]))
            rows.append(
                [
                    self._pid("solution", sol),
                    self._pid("session", session),
                    self._pid("patient", b.patients[session.patient_id]),
                    syringe[sol.pk],
                    sol.final_volume_ml,
                    sol.diluent,
                    sol.with_epinephrine,
                    *(strengths[c.name] for c in AGENT_COLUMNS),
                ]
            )
        return rows

    def _site_rows(self, b: "_Batch") -> list[list[Any]]:
        solution_ids = {s.pk: s for s in b.solutions}
        rows = []
        for site in b.sites:
            session = b.session_ids[site.session_id]
            rows.append(
                [
                    self._pid("site", site),
                    self._pid("session", session),
                    self._pid("solution", solution_ids[site.solution_id]),
                    self._pid("patient", b.patients[session.patient_id]),
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
        return rows

    def _event_rows(self, b: "_Batch") -> list[list[Any]]:
        events = AdverseEvent.objects.filter(
            patient_id__in=set(b.patients), course_id__in=b.courses, entered_in_error_at__isnull=True
        ).order_by("pk")
        site_ids = {s.pk: s for s in b.sites}
        rows = []
        for event in events:
            event_course = b.courses.get(event.course_id) if event.course_id else None
            event_session = b.session_ids.get(event.session_id) if event.session_id else None
            rows.append(
                [
                    self._pid("adverse_event", event),
                    self._pid("patient", b.patients[event.patient_id]),
                    self._pid("course", event_course),
                    self._pid("session", event_session),
                    self._pid("site", site_ids.get(event.site_id) if event.site_id else None),
                    event.event_type,
                    event.severity,
                    event.serious,
                    event.causality,
                    event.outcome,
                    b.when(event.patient_id, event.onset_on),
                ]
            )
        return rows

    def _outcome_rows(self, b: "_Batch") -> list[list[Any]]:
        answers = (
            QuestionnaireResponse.objects.filter(
                patient_id__in=set(b.patients),
                course_id__in=b.courses,
                status=ResponseStatus.COMPLETED,
                entered_in_error_at__isnull=True,
                score__isnull=False,
            )
            .select_related("timepoint")
            .order_by("pk")
        )
        rows = []
        for answer in answers:
            answer_course = b.courses.get(answer.course_id) if answer.course_id else None
            point = answer.timepoint if answer.timepoint_id and answer_course is not None else None
            rows.append(
                [
                    self._pid("outcome", answer),
                    self._pid("patient", b.patients[answer.patient_id]),
                    self._pid("course", answer_course),
                    answer.instrument,
                    answer.score,
                    point.code if point else None,
                    point.kind if point else None,
                    answer.source,
                    b.when(answer.patient_id, answer.authored_on),
                ]
            )
        return rows

    def _readme(self, result: BuildResult) -> str:
        privacy = result.privacy
        if self.agreement is not None:
            kind = [
                "This is a LIMITED DATA SET (45 CFR 164.514(e)), released under the data use agreement "
                f"'{self.agreement.study}' with {self.agreement.recipient} (purpose: {self.agreement.purpose}; "
                f"expires {self.agreement.expires_on:%Y-%m-%d}). It is not de-identified: dates are shifted per "
                "patient, which Safe Harbor does not allow. Use and disclose it only as the agreement permits.",
            ]
        else:
            kind = [f"De-identified by the HIPAA Safe Harbor method ({SOURCE}), and checked for k-anonymity."]
        lines = [
            "# ProloTrack research export",
            "",
            *kind,
            f"Exported in {self.today.year}. Patients: {len(result.patient_uuids)} (each with a current research "
            "consent, and in a group of at least k patients with the same quasi-identifiers).",
            f"Dates: {self.mode.label}.",
            f"Filters: {self.job.filters_text()}.",
            "",
            "## Privacy check (also in manifest.json)",
            "",
            f"- k-anonymity: k = {privacy.get('k')} (required: {privacy.get('required_k')}) over "
            f"{', '.join(privacy.get('quasi_identifiers', []))}",
            f"- l-diversity ({privacy.get('l_diversity_variant')}) of {privacy.get('l_diversity_attribute')}: "
            f"l = {privacy.get('l_diversity')} (required: {privacy.get('required_l')}, applied: {privacy.get('effective_l')}; "
            f"{privacy.get('suppressed_courses_for_l')} courses withheld for it)",
            *(f"- {name}: {how}" for name, how in privacy.get("generalisations", {}).items()),
            f"- suppressed: {privacy.get('suppressed_patients')} patients, {privacy.get('suppressed_courses')} courses",
            f"- pseudonyms: {privacy.get('pseudonyms')}; rows are in random order",
            "",
            "Files: csv/<table>.csv and parquet/<table>.parquet (same rows; Parquet carries explicit types), "
            "data_dictionary.csv (every column: meaning, type, unit, how it was de-identified), manifest.json.",
            "Ids are keyed pseudonyms; they cannot be turned back into records without a key that is never "
            "disclosed. Do not try to re-identify anyone.",
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
        return "\n".join(lines)


def _age_years(date_of_birth: date, on: date, today: date) -> int | None:
    """The age in completed years at a date (90 for anyone over 89 then or today); None for a date before the birth
    date (a data error in the record, which must not stop the whole export)."""
    try:
        if age_in_years(date_of_birth, today) > 89:
            return 90
        return min(age_in_years(date_of_birth, on), 90)
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
