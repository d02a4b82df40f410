from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from ninja import Field, ModelSchema, Schema

from prolotrack.core.api_types import MAX_PAGE_SIZE, PageNumber
from prolotrack.core.limits import limit_field
from prolotrack.domain.limits import BODY_WEIGHT_KG
from prolotrack.patients.models import Allergy, Condition, Medication, WeightMeasurement
from prolotrack.patients.services import CHILD_MODELS


class PatientSummary(Schema):
    id: UUID = Field(alias="uuid")
    mrn: str
    given_name: str
    family_name: str
    date_of_birth: date
    sex: str
    version: int


class WeightOut(Schema):
    id: UUID = Field(alias="uuid")
    version: int
    measured_on: date
    weight_kg: Decimal
    note: str
    entered_in_error: bool = Field(alias="is_entered_in_error")


class ConditionOut(Schema):
    id: UUID = Field(alias="uuid")
    category: str
    description: str
    screening_flag: str
    body_region: str
    laterality: str
    onset_date: date | None
    chronicity: str
    clinical_status: str
    prior_treatments: str
    note: str
    version: int
    entered_in_error: bool = Field(alias="is_entered_in_error")


class MedicationOut(Schema):
    id: UUID = Field(alias="uuid")
    name: str
    drug_class: str
    dose: str
    status: str
    last_dose_date: date | None
    note: str
    version: int
    entered_in_error: bool = Field(alias="is_entered_in_error")


class AllergyOut(Schema):
    id: UUID = Field(alias="uuid")
    substance: str
    reaction: str
    severity: str
    note: str
    version: int
    entered_in_error: bool = Field(alias="is_entered_in_error")


class PatientDetail(PatientSummary):
    email: str
    phone: str
    address_line: str
    city: str
    region: str
    postal_code: str
    country: str
    preferred_language: str = Field(description="The language of the patient's pages and messages: en or es.")
    updated_at: datetime
    no_known_allergies: bool
    entered_in_error: bool = Field(alias="is_entered_in_error")
    weights: list[WeightOut] | None = None
    conditions: list[ConditionOut] | None = None
    medications: list[MedicationOut] | None = None
    allergies: list[AllergyOut] | None = None

    # Clinical lists are present only when the caller's role may see them (see patients.api._detail).
    @staticmethod
    def resolve_weights(obj: object) -> list | None:
        return _clinical(obj, "weights")

    @staticmethod
    def resolve_conditions(obj: object) -> list | None:
        return _clinical(obj, "conditions")

    @staticmethod
    def resolve_medications(obj: object) -> list | None:
        return _clinical(obj, "medications")

    @staticmethod
    def resolve_allergies(obj: object) -> list | None:
        return _clinical(obj, "allergies")


def _clinical(obj: object, name: str) -> list | None:
    chart = getattr(obj, "clinical_chart", None)
    return getattr(chart, name) if chart is not None else None


class PatientIn(Schema):
    mrn: str = Field("", max_length=40, description="Leave empty to have the clinic assign the next PT- number.")
    given_name: str = Field(..., min_length=1, max_length=100)
    family_name: str = Field(..., min_length=1, max_length=100)
    date_of_birth: date
    sex: str = Field(..., description="female, male, other or unknown")
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    address_line: str = Field("", max_length=200)
    city: str = Field("", max_length=100)
    region: str = Field("", max_length=100)
    postal_code: str = Field("", max_length=20)
    country: str = Field("", max_length=100)
    preferred_language: str = Field(
        "en", max_length=8, description="The language of the patient's pages and messages: en or es."
    )


class PatientPatch(Schema):
    version: int = Field(..., description="The version you read; a newer one on the server answers 409.")
    reason: str = Field("", max_length=500)
    mrn: str | None = Field(None, min_length=1, max_length=40)
    given_name: str | None = Field(None, min_length=1, max_length=100)
    family_name: str | None = Field(None, min_length=1, max_length=100)
    date_of_birth: date | None = None
    sex: str | None = None
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    address_line: str | None = Field(None, max_length=200)
    city: str | None = Field(None, max_length=100)
    region: str | None = Field(None, max_length=100)
    postal_code: str | None = Field(None, max_length=20)
    country: str | None = Field(None, max_length=100)
    preferred_language: str | None = Field(None, max_length=8, description="en or es")


# --- Chart lists: the In/Patch schemas follow the model's fields (lengths, required, choices checked by the service).


class ChartWeightIn(ModelSchema):
    # The domain's weight range, published in the schema; the model's LimitValidator checks it with the domain message.
    weight_kg: Decimal = limit_field(BODY_WEIGHT_KG, description="Body weight, kg.", enforce=False)

    class Meta:
        model = WeightMeasurement
        fields = list(CHILD_MODELS["weight"][1])


class ChartWeightPatch(ModelSchema):
    weight_kg: Decimal | None = limit_field(BODY_WEIGHT_KG, None, description="Body weight, kg.", enforce=False)
    version: int = Field(..., description="The version you read; a newer one on the server answers 409.")
    reason: str = Field("", max_length=500)

    class Meta:
        model = WeightMeasurement
        fields = list(CHILD_MODELS["weight"][1])
        fields_optional = "__all__"


class ChartConditionIn(ModelSchema):
    class Meta:
        model = Condition
        fields = list(CHILD_MODELS["condition"][1])


class ChartConditionPatch(ModelSchema):
    version: int = Field(..., description="The version you read; a newer one on the server answers 409.")
    reason: str = Field("", max_length=500)

    class Meta:
        model = Condition
        fields = list(CHILD_MODELS["condition"][1])
        fields_optional = "__all__"


class ChartMedicationIn(ModelSchema):
    class Meta:
        model = Medication
        fields = list(CHILD_MODELS["medication"][1])


class ChartMedicationPatch(ModelSchema):
    version: int = Field(..., description="The version you read; a newer one on the server answers 409.")
    reason: str = Field("", max_length=500)

    class Meta:
        model = Medication
        fields = list(CHILD_MODELS["medication"][1])
        fields_optional = "__all__"


class ChartAllergyIn(ModelSchema):
    class Meta:
        model = Allergy
        fields = list(CHILD_MODELS["allergy"][1])


class ChartAllergyPatch(ModelSchema):
    version: int = Field(..., description="The version you read; a newer one on the server answers 409.")
    reason: str = Field("", max_length=500)

    class Meta:
        model = Allergy
        fields = list(CHILD_MODELS["allergy"][1])
        fields_optional = "__all__"


class EnteredInErrorIn(Schema):
    reason: str = Field(..., min_length=5, max_length=500, description="Why this record is wrong.")
    version: int | None = Field(None, description="The version you read; a newer one on the server answers 409.")


class NoKnownAllergiesIn(Schema):
    version: int | None = Field(None, description="The patient's version you read; a newer one answers 409.")


PAGE_SIZE = 50  # patients a list page holds unless the client asks for fewer or more


class SearchParams(Schema):
    search: str = Field("", max_length=200)
    page: PageNumber = 1
    page_size: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


class PagedPatientSummary(Schema):
    items: list[PatientSummary]
    count: int
