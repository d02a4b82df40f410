"""Whatever a client sends, the clinical endpoints answer 2xx or 4xx with a JSON reason, never a server error."""

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prolotrack.clinical.models import ScreeningRecord

# Numbers as clients really send them, and as they should not: text, floats, huge, tiny, negative, junk.
numberish = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(["1e999999", "-0", "0.0000001", "1,5", "10 mL", "NaN", "Infinity", "", " 3 ", "0x10"]),
    st.text(max_size=12),
)
wordish = st.one_of(
    st.none(),
    st.integers(),
    st.sampled_from(["lidocaine", "Lignocaine", "dextrose", "phenol", "glycerin", "sodium morrhuate", "cocaine", ""]),
    st.text(max_size=20),
)
dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["0001-01-01", "9999-12-31", "2025-02-30", "yesterday", ""]),
    st.none(),
)

SLOW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _ok(response: Any) -> None:
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        body = response.json()
        assert body["detail"]
        assert body["code"]


@SLOW
@given(
    volume=numberish,
    target=numberish,
    stock=numberish,
    anesthetic=wordish,
    a_target=numberish,
    a_stock=numberish,
    diluent=wordish,
    further=st.lists(
        st.fixed_dictionaries({"agent": wordish, "target_pct": numberish, "stock_pct": numberish}), max_size=4
    ),
)
def test_the_mix_calculator_never_fails_with_a_server_error(
    call, clinician, volume, target, stock, anesthetic, a_target, a_stock, diluent, further
):
    payload = {
        "final_volume_ml": volume,
        "target_dextrose_pct": target,
        "dextrose_stock_pct": stock,
        "anesthetic": anesthetic,
        "target_anesthetic_pct": a_target,
        "anesthetic_stock_pct": a_stock,
        "diluent": diluent,
        "further_agents": further,
    }
    _ok(call(clinician, "/api/calculators/mix", payload))


@SLOW
@given(drug=wordish, epi=st.one_of(st.booleans(), st.none(), st.text(max_size=4)), weight=numberish, planned=numberish)
def test_the_dose_limit_never_fails_with_a_server_error(call, clinician, drug, epi, weight, planned):
    payload = {"drug": drug, "with_epinephrine": epi, "weight_kg": weight, "planned_mg": planned}
    _ok(call(clinician, "/api/calculators/anesthetic-limit", payload))


codes = st.one_of(
    st.text(max_size=15), st.sampled_from(["knee", "left", "oral", "none", "nsaid", "diabetes", "knee.mcl_femoral"])
)


@SLOW
@given(
    born=dates,
    day=dates,
    region=codes,
    side=codes,
    sex=codes,
    agents=st.lists(wordish, max_size=4),
    flags=st.lists(codes, max_size=3),
    landmarks=st.lists(codes, max_size=3),
    meds=st.lists(
        st.fixed_dictionaries({"name": st.text(max_size=10), "drug_class": codes, "last_dose": dates}), max_size=3
    ),
)
def test_ad_hoc_screening_never_fails_with_a_server_error(
    call, clinician, born, day, region, side, sex, agents, flags, landmarks, meds
):
    payload = {
        "patient": {"date_of_birth": born, "sex": sex, "medications": meds, "flags": flags},
        "procedure": {"date": day, "region": region, "side": side, "agents": agents, "landmarks": landmarks},
    }
    _ok(call(clinician, "/api/screening/evaluate", payload))
    assert not ScreeningRecord.objects.exists()


@SLOW
@given(
    protocol=st.one_of(st.sampled_from(["knee_oa_rabago", "tmj_refai"]), st.text(min_size=1, max_size=20)), start=dates
)
def test_schedules_never_fail_with_a_server_error(call, clinician, protocol, start):
    from urllib.parse import quote

    response = call(
        clinician, f"/api/protocols/{quote(protocol, safe='')}/schedule", {"start": start or ""}, method="get"
    )
    # A path the router does not know answers Django's plain 404, which is fine too.
    assert response.status_code < 500, response.content


@pytest.mark.parametrize(
    "payload",
    [
        {"code": "caution.anticoagulant", "reason": "x" * 1000, "version": 1},
        {"code": "", "reason": "A long enough reason.", "version": 1},
        {"code": "caution.anticoagulant", "reason": "A long enough reason.", "version": -5},
        {"code": "caution.anticoagulant", "reason": "\x00\x01 weird control characters here", "version": 1},
    ],
)
def test_odd_overrides_never_fail_with_a_server_error(call, clinician, make_screening, patient, add, payload):
    add(patient, "medication", name="Warfarin", drug_class="anticoagulant")
    screening = make_screening(patient)
    _ok(call(clinician, f"/api/screenings/{screening.uuid}/overrides", payload))
