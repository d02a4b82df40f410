"""The Bulk export's fast path against the slow, checked ones (issue 17, docs/PERFORMANCE.md "Bulk export at 9,000
network-shape patients: where the time went").

The export maps raw cursor rows straight to dicts (on PostgreSQL loaded by psycopg's compiled loaders: UUIDs as text,
numerics as floats), dumps them with orjson while the cyclic collector is paused, and never builds a model. For every
exported type, over the test clinic's treatment history (with an allergy) plus a published Synthea bundle imported (kept Observations,
conditions, allergies, medication requests), its NDJSON must be
- byte for byte what the ORM's `values()` rows (Django's own converters: UUID objects, Decimals, aware datetimes) give
  through the same mappers, and
- what fhir.resources' validated R4B model of the type says when it parses the resource and dumps it again (the model
  writes UTC as "Z" where orjson writes "+00:00": instants are compared as instants).
"""

import re
from datetime import datetime
from typing import Any

import orjson
import pytest
from fhir.resources.R4B import get_fhir_model_class

from prolotrack.fhir import bulk
from prolotrack.fhir.resources import DUMP_OPTION, EXPORT_TYPES, TYPES
from prolotrack.fhir.tests.test_json_schema import _with_real_synthea

pytestmark = pytest.mark.django_db

INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT")


def _instants(value: Any) -> Any:
    """The resource with every dateTime/instant as an aware datetime (the same instant however it is written)."""
    if isinstance(value, dict):
        return {k: _instants(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_instants(v) for v in value]
    if isinstance(value, str) and INSTANT.match(value):
        return datetime.fromisoformat(value)
    return value


def test_the_fast_path_writes_what_the_orm_rows_and_the_validated_model_say(
    history: Any, clinic: Any, clinician: Any
) -> None:
    _with_real_synthea(clinician)
    option = DUMP_OPTION | orjson.OPT_APPEND_NEWLINE
    seen: dict[str, int] = {}
    for name in EXPORT_TYPES:
        rtype, model = TYPES[name], get_fhir_model_class(name)
        for source in rtype.sources:
            fast = b"".join(chunk for chunk, _ in bulk.stream(rtype, source, clinic, batch_bytes=20_000))
            qs = source.queryset(clinic)
            if rtype.gone_when_eie and source.versioned:
                qs = qs.filter(entered_in_error_at__isnull=True)
            rows = list(qs.order_by("pk").values(*source.fields))
            assert fast == b"".join(orjson.dumps(r, option=option) for r in source.map_rows(rows)), name
            for line in fast.splitlines():
                resource = orjson.loads(line)
                again = orjson.loads(model.model_validate(resource).model_dump_json())
                assert _instants(again) == _instants(resource), f"{name}/{resource['id']}"
                seen[name] = seen.get(name, 0) + 1
    assert set(seen) == set(EXPORT_TYPES), sorted(set(EXPORT_TYPES) - set(seen))
