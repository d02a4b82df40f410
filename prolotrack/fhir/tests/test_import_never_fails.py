"""Whatever a client sends, a Bundle import answers a result or an ImportFailure (an OperationOutcome), never a crash;
and a refused Bundle writes nothing."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prolotrack.clinics.testing import actor_of
from prolotrack.fhir.importer import FileImporter, ImportFailure, import_bundle
from prolotrack.patients.models import Patient

pytestmark = pytest.mark.django_db

SYNTHEA = json.loads((Path(__file__).parent / "fixtures" / "synthea_transaction.json").read_text())
# A small, valid bundle: the first patient and everything that refers to them.
SMALL = {"resourceType": "Bundle", "type": "transaction", "entry": SYNTHEA["entry"][:46]}

junk = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**20), max_value=10**20),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=15),
        st.sampled_from(["", "urn:uuid:nope", "Patient?identifier=", "Patient/", "1970", 'W/"x"', "PUT", "kg"]),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out.extend(_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out.extend(_paths(child, (*prefix, i)))
    return out


PATHS = [p for p in _paths(SMALL) if p]


def _mutate(bundle: dict[str, Any], path: tuple, value: Any, delete: bool) -> dict[str, Any]:
    out = copy.deepcopy(bundle)
    target = out
    for key in path[:-1]:
        target = target[key]
    if delete and isinstance(target, dict):
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return out


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    mutations=st.lists(st.tuples(st.sampled_from(PATHS), junk, st.booleans()), min_size=1, max_size=3),
)
def test_a_mutated_bundle_is_imported_or_refused_never_crashes(clinician: Any, mutations: list) -> None:
    bundle: Any = SMALL
    for path, value, delete in mutations:
        try:
            bundle = _mutate(bundle, path, value, delete)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path
    before = Patient.objects.count()
    try:
        import_bundle(actor_of(clinician), bundle)
    except ImportFailure as failure:
        assert failure.status in (400, 403, 404, 409, 412, 413, 422)
        assert failure.issues and all(i.diagnostics for i in failure.issues)
        assert Patient.objects.count() == before


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=junk)
def test_any_json_body_is_refused_cleanly(clinician: Any, body: Any) -> None:
    with pytest.raises(ImportFailure) as caught:
        import_bundle(actor_of(clinician), body)
    assert caught.value.status in (400, 422)


NDJSON_LINES = [json.dumps(e["resource"]) for e in SMALL["entry"]]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    line=st.sampled_from(range(len(NDJSON_LINES))),
    path=st.sampled_from(range(8)),
    value=junk,
)
def test_any_ndjson_line_is_imported_or_reported(
    clinician: Any, tmp_path_factory: Any, line: int, path: int, value: Any
) -> None:
    resource = json.loads(NDJSON_LINES[line])
    paths = [p for p in _paths(resource) if p]
    mutated = _mutate(resource, paths[path % len(paths)], value, delete=False) if paths else value
    folder = tmp_path_factory.mktemp("ndjson")
    (folder / "Mixed.ndjson").write_text(json.dumps(mutated) + "\n" + json.dumps(value) + "\n")
    report = FileImporter(actor_of(clinician)).run([folder / "Mixed.ndjson"])
    assert report.resources == 2
    assert all(str(error).startswith("Mixed.ndjson:") for error in report.errors)
