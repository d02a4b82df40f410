"""Reads of the patient registry, always scoped to one clinic."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import CharField, F, Func, Prefetch, Q, QuerySet, Value, prefetch_related_objects
from django.utils.functional import cached_property

from prolotrack.audit.models import RecordVersion
from prolotrack.clinics.models import Clinic
from prolotrack.patients.models import Allergy, Condition, Medication, Patient, WeightMeasurement

DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y")


def parse_date(text: str) -> date | None:
    """A date typed into the search box, in ISO or day-first form, or None."""
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time zone
        except ValueError:
            continue
    return None


def search_patients(clinic: Any, text: str = "", *, include_retired: bool = False) -> QuerySet[Patient]:
    """Patients of a clinic matching a name, record number or date of birth."""
    qs = Patient.objects.filter(clinic=clinic)
    if not include_retired:
        qs = qs.filter(entered_in_error_at__isnull=True)
    text = (text or "").strip()
    if not text:
        return qs.order_by("family_name", "given_name", "id")
    born = parse_date(text)
    if born is not None:
        return qs.filter(date_of_birth=born).order_by("family_name", "given_name", "id")
    # "Family, Given" or "Given Family": every word must match a name part or the record number.
    condition = Q()
    words = [word for word in re.split(r"[\s,]+", text) if word]
    for word in words:
        condition &= Q(family_name__icontains=word) | Q(given_name__icontains=word) | Q(mrn__istartswith=word)
    if connection.vendor == "postgresql" and all(len(word) >= 3 for word in words):
        # PostgreSQL has trigram indexes for these matches (migration 0011); a word of three letters or more gives
        # them trigrams to look up. The same order through an expression (CONCAT(x, ''), equal to x) keeps the
        # planner from walking the name index instead and filtering as it goes, which it prefers for a LIMIT when it
        # takes the matches to be spread through the alphabet: a common family name sits together in one place, and
        # that walk read 16,000 rows (61-81 ms) where the indexes read the 1,475 matches (docs/PERFORMANCE.md).
        return qs.filter(condition).order_by(_same("family_name"), _same("given_name"), "id")
    return qs.filter(condition).order_by("family_name", "given_name", "id")


def _same(column: str) -> Func:
    return Func(F(column), Value(""), function="CONCAT", output_field=CharField())


def known_by_uuid(uuids: Iterable[UUID]) -> list[Patient]:
    """Patients a page printed, known by the public ids its rows already hold, as `audit.services.record_disclosure`
    takes them (it reads only the uuid): made without a statement, as Django makes a row read with `.only("uuid")`
    (`Model.from_db`), so a week of 500 appointments read as values (treatment.queries.calendar_rows) is audited
    without reading its patients again. Nothing else is loaded: never read another field or save one."""
    return [Patient.from_db(None, ("uuid",), (uuid,)) for uuid in dict.fromkeys(uuids)]


SEARCH_COUNT_CAP = 1000


class SearchPaginator(Paginator):
    """The patient list's pager, which counts at most SEARCH_COUNT_CAP matches (then the page says "more than ...:
    type more of the name"): a common name in a network of 100,000 patients matches thousands, and counting them all
    cost as much as the page (docs/PERFORMANCE.md). The count reads `COUNT(*)` over the matches' ids, unordered, with
    `LIMIT cap + 1`, which stops at the first cap + 1 matches on both databases (no sort: which ones does not matter
    to a count); the pages then cover the first cap matches in the search's order."""

    def __init__(self, object_list: QuerySet[Patient], per_page: int, cap: int | None = None) -> None:
        super().__init__(object_list, per_page)
        self.search = object_list
        self.cap = SEARCH_COUNT_CAP if cap is None else cap

    @cached_property
    def matches(self) -> int:
        """The number of matches, or cap + 1 when there are more than cap."""
        return self.search.order_by().values("pk")[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self.matches, self.cap)

    @property
    def capped(self) -> bool:
        return self.matches > self.cap


@dataclass
class Chart:
    """Everything the chart page shows, loaded in a fixed number of queries."""

    patient: Patient
    weights: list[WeightMeasurement]
    conditions: list[Condition]
    medications: list[Medication]
    allergies: list[Allergy]

    @property
    def latest_weight(self) -> WeightMeasurement | None:
        return next((w for w in self.weights if not w.is_entered_in_error), None)

    @property
    def active_allergies(self) -> list[Allergy]:
        return [a for a in self.allergies if not a.is_entered_in_error]


def get_patient(clinic: Any, patient_uuid: Any) -> Patient:
    """One patient of this clinic; raises Patient.DoesNotExist for anyone else's. The clinic given is the patient's
    (the row was looked up by it), so the patient carries it: reads that ask for `patient.clinic` do not read it
    again."""
    patient = Patient.objects.select_related("updated_by").get(clinic=clinic, uuid=patient_uuid)
    if isinstance(clinic, Clinic):
        patient.clinic = clinic
    return patient


def clinic_patient(clinic: Any, patient_uuid: Any) -> Patient | None:
    """The clinic's patient with that uuid (retired or not), or None."""
    return Patient.objects.filter(clinic=clinic, uuid=patient_uuid).first()


def patient_uuid_by_reference(clinic: Any, text: str) -> UUID | None:
    """The uuid of the clinic's patient whose record number, or else whose id, is `text`; None when there is none."""
    match = Patient.objects.filter(clinic=clinic, mrn=text).values_list("uuid", flat=True).first()
    if match is None:
        try:
            match = Patient.objects.filter(clinic=clinic, uuid=text).values_list("uuid", flat=True).first()
        except (ValidationError, ValueError):
            match = None
    return match


def patient_or_404(request: Any, patient_uuid: Any) -> Patient:
    """The patient of the request's clinic, or a 404 that does not say whether another clinic has one."""
    from django.http import Http404

    try:
        return get_patient(request.clinic, patient_uuid)
    except Patient.DoesNotExist:
        raise Http404("No such patient in this clinic.") from None


def get_child(patient: Patient, kind: str, record_uuid: Any) -> Any:
    """A weight, condition, medication or allergy of this patient (DoesNotExist otherwise, whatever the clinic)."""
    from prolotrack.patients.services import CHILD_MODELS

    model, _ = CHILD_MODELS[kind]
    return model.objects.get(patient=patient, clinic=patient.clinic, uuid=record_uuid)


def load_chart(patient: Patient) -> Chart:
    """The chart of a patient already scoped to the caller's clinic (as `get_patient` reads it): its four clinical
    lists are read onto that same instance rather than reading the patient again."""
    related = ("updated_by",)
    prefetch_related_objects(
        [patient],
        Prefetch("weights", queryset=WeightMeasurement.objects.select_related(*related)),
        Prefetch("conditions", queryset=Condition.objects.select_related(*related)),
        Prefetch("medications", queryset=Medication.objects.select_related(*related)),
        Prefetch("allergies", queryset=Allergy.objects.select_related(*related)),
    )
    return Chart(
        patient=patient,
        weights=list(patient.weights.all()),
        conditions=list(patient.conditions.all()),
        medications=list(patient.medications.all()),
        allergies=list(patient.allergies.all()),
    )


def chart_history(patient: Patient) -> QuerySet[RecordVersion]:
    """The latest 500 saved versions of anything in the patient's chart, newest first, with who saved them."""
    return (
        RecordVersion.objects.filter(clinic_id=patient.clinic_id, patient_uuid=patient.uuid)
        .select_related("user")
        .order_by("-at", "-id")[:500]
    )
