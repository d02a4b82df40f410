"""Every clinical limit lives in prolotrack/domain/limits.py, and every channel accepts exactly its range.

The walk covers every model field of the project (Django's app registry) and every request body and parameter of the
published OpenAPI schema: a value named in FIELD_LIMITS must carry exactly that limit, and a bound written anywhere
else (a literal MinValueValidator, a `le=` on a schema field) fails here until it is defined in the domain.
"""

import re
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.validators import BaseValidator
from hypothesis import given, settings
from hypothesis import strategies as st

from prolotrack.clinical import calculators
from prolotrack.core.limits import LimitValidator, bounds_schema
from prolotrack.domain import limits
from prolotrack.domain.anaesthetic import check_weight
from prolotrack.domain.errors import DomainError
from prolotrack.domain.limits import BODY_WEIGHT_KG, FIELD_LIMITS, NEEDLE_GAUGE, SITE_VOLUME_ML

# Names that look clinical (a unit suffix) but hold no entered value: computed results and map coordinates.
COMPUTED = {
    ("treatment", "PreparedSolution", "diluent_volume_ml"),  # computed by domain.mixing from the final volume
}
CLINICAL_NAME = re.compile(r"(_kg|_ml|_mm|_mg|_pct|gauge|_minutes)$")
# Paging and window parameters are not clinical values; their bounds belong to the endpoint.
NON_CLINICAL_PARAMETERS = {"page", "limit", "offset", "days", "count", "_count", "per_page", "page_size"}


def project_fields() -> list[tuple[str, str, Any]]:
    found = []
    for model in apps.get_models():
        if not model.__module__.startswith("prolotrack."):
            continue
        for field in model._meta.get_fields():
            if getattr(field, "concrete", False) and not field.is_relation:
                found.append((model._meta.app_label, model.__name__, field))
    return found


def declared_bounds(field: Any) -> list[Any]:
    # _validators: the ones the model declares (field.validators adds the database's integer range too).
    return [v for v in field._validators if isinstance(v, BaseValidator | LimitValidator)]


def test_the_walk_finds_the_fields_it_is_about():
    names = {(app, model, field.name) for app, model, field in project_fields()}
    assert ("patients", "WeightMeasurement", "weight_kg") in names
    assert ("treatment", "TreatmentSession", "weight_kg") in names
    assert ("treatment", "InjectionSite", "needle_gauge") in names


@pytest.mark.parametrize(("app", "model", "field"), project_fields(), ids=lambda v: getattr(v, "name", v))
def test_every_model_field_takes_its_limit_from_the_domain(app, model, field):
    bounds = declared_bounds(field)
    limit = FIELD_LIMITS.get(field.name)
    if limit is not None:
        assert bounds == [LimitValidator(limit.key)], (
            f"{app}.{model}.{field.name} must carry validators(limits.{limit.key.upper()}) only, not {bounds}"
        )
    else:
        assert not bounds, f"{app}.{model}.{field.name} has a bound defined outside prolotrack/domain/limits.py"
        if CLINICAL_NAME.search(field.name) and (app, model, field.name) not in COMPUTED:
            pytest.fail(f"{app}.{model}.{field.name} looks clinical: add it to limits.FIELD_LIMITS")


def _openapi() -> dict[str, Any]:
    from prolotrack.api import api

    return api.get_openapi_schema()


def _resolve(schema: dict[str, Any], node: Any) -> Any:
    if isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return schema["components"]["schemas"][name]
    return node


def request_values() -> list[tuple[str, str, dict[str, Any]]]:
    """Return (where, name, JSON schema) for every request parameter and request-body property, nested included."""
    schema = _openapi()
    found: list[tuple[str, str, dict[str, Any]]] = []
    seen: set[int] = set()

    def walk(where: str, node: Any) -> None:
        node = _resolve(schema, node)
        if not isinstance(node, dict) or id(node) in seen:
            return
        seen.add(id(node))
        for name, prop in (node.get("properties") or {}).items():
            found.append((where, name, prop))
            walk(f"{where}.{name}", prop)
        for key in ("items", "additionalProperties"):
            walk(where, node.get(key))
        for key in ("anyOf", "allOf", "oneOf"):
            for part in node.get(key) or ():
                walk(where, part)

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", ()):
                found.append((where, parameter["name"], parameter.get("schema", {})))
            for content in (operation.get("requestBody") or {}).get("content", {}).values():
                walk(where, content.get("schema"))
    return found


def published_bounds(prop: dict[str, Any]) -> dict[str, Any]:
    keys = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
    top = {k: prop[k] for k in keys if k in prop}
    if top:
        return top
    for part in prop.get("anyOf", ()):
        if inner := {k: part[k] for k in keys if k in part}:
            return inner
    return {}


def test_the_schema_walk_finds_the_clinical_inputs():
    names = {(where, name) for where, name, _ in request_values()}
    assert any(name == "weight_kg" for _, name in names)
    assert any(name == "volume_ml" for _, name in names)


@pytest.mark.parametrize(("where", "name", "prop"), request_values(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_api_input_publishes_the_domain_limit(where, name, prop):
    bounds = published_bounds(prop)
    limit = FIELD_LIMITS.get(name)
    if limit is not None:
        expected = {k: Decimal(str(v)) for k, v in bounds_schema(limit).items()}
        assert {k: Decimal(str(v)) for k, v in bounds.items()} == expected, f"{where} {name}: publish {limit.key}"
    elif bounds and name not in NON_CLINICAL_PARAMETERS:
        pytest.fail(f"{where} {name} has bounds {bounds} defined outside prolotrack/domain/limits.py")
    elif CLINICAL_NAME.search(name):
        pytest.fail(f"{where} {name} looks clinical: add it to limits.FIELD_LIMITS")


def test_a_field_with_a_literal_limit_is_caught():
    from django.core.validators import MaxValueValidator
    from django.db import models

    field = models.DecimalField(max_digits=5, decimal_places=1, validators=[MaxValueValidator(Decimal(350))])
    field.name = "weight_kg"
    with pytest.raises(AssertionError, match="must carry validators"):
        test_every_model_field_takes_its_limit_from_the_domain("patients", "Example", field)
    field.name = "height_cm"
    with pytest.raises(AssertionError, match="defined outside"):
        test_every_model_field_takes_its_limit_from_the_domain("patients", "Example", field)


def test_a_schema_input_with_a_literal_limit_is_caught():
    with pytest.raises(pytest.fail.Exception, match="defined outside"):
        test_every_api_input_publishes_the_domain_limit("POST /api/x", "height_cm", {"maximum": 250})
    with pytest.raises(AssertionError, match="publish body_weight_kg"):
        test_every_api_input_publishes_the_domain_limit("POST /api/x", "weight_kg", {"minimum": 2, "maximum": 350})


# --- Every channel accepts exactly the domain's range (hypothesis) ---------------------------------------------------


def _model_accepts(app: str, model: str, name: str, value: Any) -> bool:
    field = apps.get_model(app, model)._meta.get_field(name)
    try:
        field.run_validators(value)
    except ValidationError:
        return False
    return True


def _domain_accepts(value: Decimal) -> bool:
    try:
        check_weight(value)
    except DomainError:
        return False
    return True


def _calculator_accepts(value: Decimal) -> bool:
    try:
        calculators.anaesthetic_limit(calculators.LimitRequest("lidocaine", False, value, None), Decimal("0.8"))
    except DomainError:
        return False
    return True


def _session_form_accepts(value: Decimal) -> bool:
    from prolotrack.treatment.forms import SessionHeaderForm

    form = SessionHeaderForm(data={"weight_kg": str(value), "sedation": "none", "version": "1"})
    form.is_valid()
    return "weight_kg" not in form.errors


weights = st.decimals(min_value=Decimal("-5"), max_value=Decimal(800), places=1, allow_nan=False)
edges = st.sampled_from([Decimal("1.9"), Decimal(2), Decimal(350), Decimal(360), Decimal(400), Decimal("400.1")])


@settings(max_examples=150, deadline=None)
@given(st.one_of(weights, edges))
def test_every_weight_channel_accepts_exactly_the_domain_range(weight):
    expected = BODY_WEIGHT_KG.contains(weight)
    channels = {
        "chart (WeightMeasurement)": _model_accepts("patients", "WeightMeasurement", "weight_kg", weight),
        "session (TreatmentSession)": _model_accepts("treatment", "TreatmentSession", "weight_kg", weight),
        "session form": _session_form_accepts(weight),
        "dose rule": _domain_accepts(weight),
        "calculator": _calculator_accepts(weight),
    }
    assert channels == dict.fromkeys(channels, expected), weight


def test_a_weight_the_chart_saves_is_never_refused_by_the_dose_rule():
    # The defect: 360 kg was saved on the chart (2-400) and refused by the dose check (2-350).
    assert _model_accepts("patients", "WeightMeasurement", "weight_kg", Decimal(360))
    assert check_weight(Decimal(360)) == Decimal(360)


volumes = st.decimals(min_value=Decimal(-1), max_value=Decimal(80), places=2, allow_nan=False)


@settings(max_examples=120, deadline=None)
@given(volumes)
def test_every_site_volume_channel_accepts_exactly_the_domain_range(volume):
    from prolotrack.treatment.api import SiteIn
    from prolotrack.treatment.forms import SiteForm

    expected = SITE_VOLUME_ML.contains(volume)
    form = SiteForm(data={"volume_ml": str(volume)}, solutions=[])
    form.is_valid()
    try:
        SiteIn.model_validate({"solution": "A", "body_map": "knee_front", "x": 1, "y": 1, "side": "left",
                               "volume_ml": str(volume)})  # fmt: skip
        schema_accepts = True
    except Exception:
        schema_accepts = False
    assert _model_accepts("treatment", "InjectionSite", "volume_ml", volume) is expected
    assert ("volume_ml" not in form.errors) is expected
    assert schema_accepts is expected


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=60))
def test_every_needle_gauge_channel_accepts_exactly_the_domain_range(gauge):
    from prolotrack.treatment.api import SiteIn

    expected = NEEDLE_GAUGE.contains(gauge)
    try:
        SiteIn.model_validate({"solution": "A", "body_map": "knee_front", "x": 1, "y": 1, "side": "left",
                               "volume_ml": "1", "needle_gauge": gauge})  # fmt: skip
        schema_accepts = True
    except Exception:
        schema_accepts = False
    assert _model_accepts("treatment", "InjectionSite", "needle_gauge", gauge) is expected
    assert schema_accepts is expected


def test_the_offered_needle_gauges_lie_inside_the_limit():
    assert all(NEEDLE_GAUGE.contains(g) for g in limits.COMMON_NEEDLE_GAUGES)


@pytest.mark.parametrize("limit", limits.ALL_LIMITS, ids=lambda limit: limit.key)
def test_each_limit_names_its_source_and_says_what_to_fix(limit):
    assert "docs/clinical" in limit.source or "DOMAIN.md" in limit.source
    message = limit.problem(limit.high + 1)
    assert message is not None and limit.span in message and limit.what in message
    assert limit.problem(limit.high) is None
