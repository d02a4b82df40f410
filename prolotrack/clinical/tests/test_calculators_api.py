"""The calculator endpoints give DOMAIN.md's worked examples exactly, and refuse bad input with a 4xx and a reason."""

from decimal import Decimal

import pytest
from django.db import transaction

from prolotrack.audit.models import AuditEvent
from prolotrack.audit.services import Actor
from prolotrack.clinics.services import update_clinic_settings

MIX = "/api/calculators/mix"
LIMIT = "/api/calculators/anesthetic-limit"

DOMAIN_EXAMPLE = {
    "final_volume_ml": "10",
    "target_dextrose_pct": "15",
    "dextrose_stock_pct": "50",
    "anesthetic": "lidocaine",
    "target_anesthetic_pct": "0.5",
    "anesthetic_stock_pct": "2",
}


def test_domain_md_worked_example_10_ml_of_15_percent_dextrose_with_half_percent_lidocaine(call, clinician):
    response = call(clinician, MIX, DOMAIN_EXAMPLE)
    assert response.status_code == 200
    body = response.json()
    dextrose, lidocaine = body["components"]
    assert (dextrose["agent"], dextrose["stock_volume_ml"], dextrose["amount_g"]) == ("dextrose", "3.00", "1.5")
    assert (lidocaine["agent"], lidocaine["stock_volume_ml"], lidocaine["amount_mg"]) == ("lidocaine", "2.50", "50")
    assert body["diluent_volume_ml"] == "4.50"
    assert body["diluent"] == "0.9% sodium chloride"
    assert body["total_volume_ml"] == "10.00"
    assert body["final_concentrations"] == [
        {"agent": "dextrose", "percent": "15", "mg_per_ml": "150"},
        {"agent": "lidocaine", "percent": "0.5", "mg_per_ml": "5"},
    ]
    assert "0.01 mL" in body["rounding"] and "halves upwards" in body["rounding"]


def test_numbers_may_be_sent_as_json_numbers_and_come_back_as_decimal_strings(call, clinician):
    payload = {**DOMAIN_EXAMPLE, "final_volume_ml": 10, "target_anesthetic_pct": 0.5, "anesthetic_stock_pct": 1}
    body = call(clinician, MIX, payload).json()
    assert [c["stock_volume_ml"] for c in body["components"]] == ["3.00", "5.00"]
    assert body["diluent_volume_ml"] == "2.00"
    assert body["components"][1]["amount_mg"] == "50"


def test_d50_one_to_one_with_1_percent_lidocaine_makes_25_percent_with_30_mg_in_6_ml(call, clinician):
    payload = {
        "final_volume_ml": "6",
        "target_dextrose_pct": "25",
        "dextrose_stock_pct": "50",
        "anesthetic": "lidocaine",
        "target_anesthetic_pct": "0.5",
        "anesthetic_stock_pct": "1",
    }
    body = call(clinician, MIX, payload).json()
    assert [c["stock_volume_ml"] for c in body["components"]] == ["3.00", "3.00"]
    assert body["diluent_volume_ml"] == "0.00"
    assert body["components"][1]["amount_mg"] == "30"


def test_p2g_with_further_agents_and_sterile_water(call, clinician):
    payload = {
        "final_volume_ml": "20",
        "target_dextrose_pct": "12.5",
        "dextrose_stock_pct": "50",
        "anesthetic": "lidocaine",
        "target_anesthetic_pct": "0.25",
        "anesthetic_stock_pct": "1",
        "diluent": "sterile water",
        "further_agents": [
            {"agent": "glycerin", "target_pct": "12.5", "stock_pct": "50"},
            {"agent": "phenol", "target_pct": "1.0", "stock_pct": "10"},
        ],
    }
    body = call(clinician, MIX, payload).json()
    volumes = {c["agent"]: c["stock_volume_ml"] for c in body["components"]}
    assert volumes == {"dextrose": "5.00", "lidocaine": "5.00", "glycerin": "5.00", "phenol": "2.00"}
    assert body["diluent_volume_ml"] == "3.00"
    assert body["diluent"] == "sterile water for injection"


def test_a_third_of_a_millilitre_is_rounded_to_0_33(call, clinician):
    body = call(
        clinician, MIX, {"final_volume_ml": "1", "target_dextrose_pct": "10", "dextrose_stock_pct": "30"}
    ).json()
    assert body["components"][0]["stock_volume_ml"] == "0.33"
    assert body["components"][0]["amount_mg"] == "99"
    assert body["diluent_volume_ml"] == "0.67"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"final_volume_ml": "-5"}, "final_volume_ml", "must be above zero"),
        ({"final_volume_ml": "0"}, "final_volume_ml", "must be above zero"),
        ({"final_volume_ml": "100000"}, "final_volume_ml", "is more than 500 mL"),
        ({"final_volume_ml": "1e400"}, "final_volume_ml", "far too large"),
        ({"final_volume_ml": "0.0000001"}, "final_volume_ml", "more than 6 decimal places"),
        ({"target_dextrose_pct": "60"}, "target_dextrose_pct", "is above the stock concentration 50%"),
        ({"dextrose_stock_pct": "150"}, "dextrose_stock_pct", "is more than 100%"),
        ({"target_anesthetic_pct": "0"}, "target_anesthetic_pct", "must be above zero"),
        ({"anesthetic": "cocaine"}, "anesthetic", "Unknown agent 'cocaine'"),
        ({"anesthetic": "dextrose"}, "anesthetic", "Dextrose is not a local anaesthetic"),
        ({"diluent": "orange juice"}, "diluent", "Unknown diluent 'orange juice'"),
        ({"anesthetic": None}, "anesthetic", "Choose the anaesthetic these concentrations are for"),
        ({"target_anesthetic_pct": None}, "target_anesthetic_pct", "Enter the target lidocaine concentration"),
        ({"final_volume_ml": "1", "target_anesthetic_pct": "0.001"}, "target_anesthetic_pct", "below the 0.01 mL"),
        (
            {"target_dextrose_pct": "40", "target_anesthetic_pct": "1"},
            "final_volume_ml",
            "more than the final volume 10 mL",
        ),
        (
            {"further_agents": [{"agent": "lidocaine", "target_pct": "1", "stock_pct": "2"}]},
            "further_agents",
            "cannot be a further agent",
        ),
        (
            {"further_agents": [{"agent": "unobtainium", "target_pct": "1", "stock_pct": "2"}]},
            "further_agents",
            "Unknown agent 'unobtainium'",
        ),
    ],
    ids=[
        "negative volume",
        "zero volume",
        "huge volume",
        "astronomic volume",
        "absurd precision",
        "target above stock",
        "stock above 100%",
        "zero anaesthetic",
        "unknown anaesthetic",
        "dextrose as anaesthetic",
        "unknown diluent",
        "concentrations without an anaesthetic",
        "anaesthetic without its target",
        "too small to measure",
        "stocks exceed the final volume",
        "anaesthetic as a further agent",
        "unknown further agent",
    ],
)
def test_bad_mixes_get_422_with_the_message_next_to_the_field(call, clinician, changes, field, message):
    response = call(clinician, MIX, {**DOMAIN_EXAMPLE, **changes})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input"
    assert message in body["fields"][field]
    assert message in body["detail"]


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({**DOMAIN_EXAMPLE, "final_volume_ml": "ten"}, "final_volume_ml"),
        ({**DOMAIN_EXAMPLE, "final_volume_ml": "10 mL"}, "final_volume_ml"),
        ({**DOMAIN_EXAMPLE, "target_dextrose_pct": "15 mg/mL"}, "target_dextrose_pct"),
        ({**DOMAIN_EXAMPLE, "target_dextrose_pct": True}, "target_dextrose_pct"),
        ({**DOMAIN_EXAMPLE, "final_volume_ml": "NaN"}, "final_volume_ml"),
        ({k: v for k, v in DOMAIN_EXAMPLE.items() if k != "dextrose_stock_pct"}, "dextrose_stock_pct"),
        ({**DOMAIN_EXAMPLE, "target_lidocaine_pct": "0.5"}, "target_lidocaine_pct"),
    ],
    ids=["word", "unit in the number", "other unit", "boolean", "NaN", "missing field", "misspelt field"],
)
def test_requests_that_do_not_fit_the_schema_get_422_naming_the_field(call, clinician, payload, where):
    response = call(clinician, MIX, payload)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert any(where in [str(part) for part in error["loc"]] for error in body["detail"])


def test_a_body_that_is_not_json_gets_400(call, clinician):
    response = call(clinician, MIX, "{not json")
    assert response.status_code == 400
    assert response.json() == {"detail": "Cannot parse request body", "code": "bad_request"}


def test_the_calculators_write_nothing_but_the_token_use(call, clinician):
    before = AuditEvent.objects.count()
    call(clinician, MIX, DOMAIN_EXAMPLE)
    call(clinician, MIX, {**DOMAIN_EXAMPLE, "final_volume_ml": "-1"})
    call(clinician, LIMIT, {"drug": "lidocaine", "with_epinephrine": False, "weight_kg": "70"})
    # Creating the token is the only audited event.
    assert AuditEvent.objects.count() - before == 1


# --- Dose limits ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("drug", "epi", "weight", "max_mg", "cap"),
    [
        ("lidocaine", False, "70", "300", "300"),
        ("lidocaine", False, "50", "225", "300"),
        ("lidocaine", True, "70", "490", "500"),
        ("bupivacaine", False, "80", "175", "175"),
        ("procaine", True, "70", "600", "600"),
        ("mepivacaine", False, "50", "350", "400"),
        ("lidocaine", False, "33.33", "149.9", "300"),
        ("Lignocaine", False, "70", "300", "300"),
    ],
)
def test_maximum_doses_are_domain_md_and_the_labels(call, clinician, drug, epi, weight, max_mg, cap):
    response = call(clinician, LIMIT, {"drug": drug, "with_epinephrine": epi, "weight_kg": weight})
    assert response.status_code == 200
    body = response.json()
    assert body["max_mg"] == max_mg
    assert body["cap_mg"] == cap
    assert body["check"] is None
    assert body["source"]


def test_70_kg_plain_lidocaine_is_300_mg_from_the_fda_label(call, clinician):
    body = call(clinician, LIMIT, {"drug": "lidocaine", "with_epinephrine": False, "weight_kg": "70"}).json()
    assert (body["mg_per_kg"], body["by_weight_mg"], body["cap_mg"], body["max_mg"]) == ("4.5", "315", "300", "300")
    assert body["rule"] == "lidocaine plain: 4.5 mg/kg, not over 300 mg"
    assert "Xylocaine" in body["source"]
    assert body["evidence"] == "established"


@pytest.mark.parametrize(
    ("planned", "status", "fraction", "words"),
    [
        ("50", "ok", "0.1667", "within the limit"),
        ("239.9", "ok", "0.7997", "within the limit"),
        ("240", "warn", "0.8", "at or above the 80% warning threshold"),
        ("300", "warn", "1", "at or above the 80% warning threshold"),
        ("300.1", "block", "1.0004", "is above the maximum 300 mg"),
    ],
)
def test_a_planned_amount_is_graded_ok_warn_or_block(call, clinician, planned, status, fraction, words):
    body = call(
        clinician, LIMIT, {"drug": "lidocaine", "with_epinephrine": False, "weight_kg": "70", "planned_mg": planned}
    ).json()
    assert body["check"]["status"] == status
    assert body["check"]["fraction"] == fraction
    assert body["check"]["warn_fraction"] == "0.8"
    assert words in body["check"]["message"]


def test_the_warning_threshold_is_the_clinic_setting(call, clinician, admin_user, clinic):
    with transaction.atomic():
        update_clinic_settings(
            Actor(admin_user, clinic, "admin"), clinic, {"anaesthetic_warn_fraction": Decimal("0.9")}
        )
    payload = {"drug": "lidocaine", "with_epinephrine": False, "weight_kg": "70", "planned_mg": "250"}
    body = call(clinician, LIMIT, payload).json()
    assert body["check"]["status"] == "ok"
    assert body["check"]["warn_fraction"] == "0.9"
    assert "below the 90% warning threshold" in body["check"]["message"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"weight_kg": "0"}, "weight_kg", "must be above zero"),
        ({"weight_kg": "-70"}, "weight_kg", "must be above zero"),
        ({"weight_kg": "700"}, "weight_kg", "outside 2-400 kg"),
        ({"weight_kg": "1e30"}, "weight_kg", "far too large"),
        ({"drug": "cocaine"}, "drug", "Unknown agent 'cocaine'"),
        ({"drug": "dextrose"}, "drug", "Dextrose is not a local anaesthetic"),
        ({"planned_mg": "0"}, "planned_mg", "must be above zero"),
        ({"planned_mg": "90000"}, "planned_mg", "is more than 5000 mg"),
    ],
)
def test_bad_limit_questions_get_422_and_say_what_to_fix(call, clinician, changes, field, message):
    payload = {"drug": "lidocaine", "with_epinephrine": False, "weight_kg": "70", **changes}
    response = call(clinician, LIMIT, payload)
    assert response.status_code == 422
    assert message in response.json()["fields"][field]


@pytest.mark.parametrize(
    "payload",
    [
        {"drug": "lidocaine", "weight_kg": "70"},
        {"drug": "lidocaine", "with_epinephrine": "yes", "weight_kg": "70"},
        {"drug": "lidocaine", "with_epinephrine": False, "weight_kg": "seventy"},
        {"drug": "lidocaine", "with_epinephrine": False},
    ],
    ids=["epinephrine not stated", "epinephrine as text", "weight as a word", "no weight"],
)
def test_limit_requests_that_do_not_fit_the_schema_get_422(call, clinician, payload):
    response = call(clinician, LIMIT, payload)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"
