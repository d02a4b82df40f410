"""Protocol templates: the built-in list, clinic templates (create, edit, validate, retire), schedules."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.audit.services import AccessDenied, Actor, RecordClosedError, StaleEditError
from prolotrack.clinical import services
from prolotrack.clinical.models import ProtocolTemplate
from prolotrack.clinical.tests.conftest import PROTOCOL_VALUES
from prolotrack.clinics.services import update_clinic_settings
from prolotrack.clinics.testing import actor_of
from prolotrack.domain.protocols import TEMPLATES


def test_the_list_has_every_built_in_template_then_the_clinics_active_ones(call, clinician, clinic_template):
    body = call(clinician, "/api/protocols", method="get").json()
    assert [p["id"] for p in body[: len(TEMPLATES)]] == [t.code for t in TEMPLATES]
    assert all(p["builtin"] for p in body[: len(TEMPLATES)])
    own = body[len(TEMPLATES) :]
    assert [(p["id"], p["builtin"], p["code"]) for p in own] == [(str(clinic_template.uuid), False, "knee_oa_ours")]
    rabago = body[0]
    assert rabago["source"] == "Rabago 2013, Ann Fam Med (DOMAIN.md §4)"
    assert rabago["solutions"][0]["components"] == [{"agent": "dextrose", "value": "25", "unit": "%"}]
    assert rabago["sessions"][:3] == [
        {"offset": 0, "unit": "weeks", "optional": False},
        {"offset": 4, "unit": "weeks", "optional": False},
        {"offset": 8, "unit": "weeks", "optional": False},
    ]
    assert rabago["notes"]


def test_inactive_and_retired_clinic_templates_are_not_offered(call, clinician, clinic_template):
    actor = actor_of(clinician)
    services.update_protocol(actor, clinic_template, {"active": False}, expected_version=1)
    second = services.create_protocol(actor, {**PROTOCOL_VALUES, "code": "second"})
    services.retire_protocol(actor, second, reason="made by mistake")
    body = call(clinician, "/api/protocols", method="get").json()
    assert len(body) == len(TEMPLATES)


def test_the_knee_oa_rabago_schedule_puts_sessions_at_trial_weeks_1_5_9(call, clinician):
    response = call(clinician, "/api/protocols/knee_oa_rabago/schedule", {"start": "2025-01-06"}, method="get")
    assert response.status_code == 200
    body = response.json()
    # Trial weeks 1, 5, 9 (+13, 17 as needed): offsets 0, 4, 8 (+12, 16) weeks from the first session.
    assert [(s["number"], s["date"], s["optional"]) for s in body["sessions"]] == [
        (1, "2025-01-06", False),
        (2, "2025-02-03", False),
        (3, "2025-03-03", False),
        (4, "2025-03-31", True),
        (5, "2025-04-28", True),
    ]
    follow_ups = {t["code"]: t["date"] for t in body["timepoints"] if t["kind"] == "follow_up"}
    assert follow_ups == {
        "follow_up_6w": "2025-04-14",
        "follow_up_3m": "2025-06-03",
        "follow_up_6m": "2025-09-03",
        "follow_up_12m": "2026-03-03",
    }
    nsaid = [r for r in body["reminders"] if r["kind"] == "nsaid_stop"]
    assert [r["date"] for r in nsaid] == ["2025-01-03", "2025-01-31", "2025-02-28"]
    assert body["settings"]["nsaid_stop_days"] == 3


def test_the_schedule_uses_the_clinics_nsaid_window(call, clinician, admin_user, clinic):
    with transaction.atomic():
        update_clinic_settings(Actor(admin_user, clinic, "admin"), clinic, {"nsaid_stop_days": 7})
    body = call(clinician, "/api/protocols/knee_oa_rabago/schedule", {"start": "2025-01-06"}, method="get").json()
    assert next(r["date"] for r in body["reminders"] if r["kind"] == "nsaid_stop") == "2024-12-30"


def test_a_clinic_templates_schedule_follows_its_own_sessions(call, clinician, clinic_template):
    body = call(
        clinician, f"/api/protocols/{clinic_template.uuid}/schedule", {"start": "2025-01-06"}, method="get"
    ).json()
    assert [s["date"] for s in body["sessions"]] == ["2025-01-06", "2025-02-17", "2025-03-31"]
    assert body["template_code"] == "knee_oa_ours"


@pytest.mark.parametrize(
    ("path", "params", "status", "message"),
    [
        ("/api/protocols/knee_oa_rabago/schedule", {}, 422, ""),
        ("/api/protocols/knee_oa_rabago/schedule", {"start": "06/01/2025x"}, 422, ""),
        ("/api/protocols/knee_oa_rabago/schedule", {"start": "9999-12-01"}, 422, "check the year"),
        ("/api/protocols/knee_oa_rabago/schedule", {"start": "0001-01-01"}, 422, "check the year"),
        ("/api/protocols/knee_oa_nonsense/schedule", {"start": "2025-01-06"}, 404, "No protocol template"),
        (
            "/api/protocols/00000000-0000-0000-0000-000000000000/schedule",
            {"start": "2025-01-06"},
            404,
            "No such protocol template",
        ),
    ],
    ids=["no start", "not a date", "year 9999", "year 1", "unknown code", "unknown uuid"],
)
def test_bad_schedule_requests_get_4xx(call, clinician, path, params, status, message):
    response = call(clinician, path, params, method="get")
    assert response.status_code == status
    assert message in str(response.json()["detail"])
    assert response.json()["code"]


def test_a_retired_templates_schedule_is_refused(call, clinician, clinic_template):
    services.retire_protocol(actor_of(clinician), clinic_template, reason="made by mistake")
    response = call(clinician, f"/api/protocols/{clinic_template.uuid}/schedule", {"start": "2025-01-06"}, method="get")
    assert response.status_code == 422
    assert "entered in error" in response.json()["detail"]


# --- Clinic templates through the service ---------------------------------------------------------------------


def test_creating_a_template_is_versioned_and_audited(clinician, clinic_template):
    assert clinic_template.version == 1
    assert clinic_template.created_by == clinician
    assert RecordVersion.objects.filter(record_uuid=clinic_template.uuid, action="protocol.created").exists()
    assert AuditEvent.objects.filter(action="protocol.created", record_uuid=clinic_template.uuid).exists()


def test_editing_a_template_makes_a_new_version_and_keeps_the_old(clinician, clinic_template):
    sessions = [{"offset": 0, "unit": "weeks", "optional": False}, {"offset": 4, "unit": "weeks", "optional": False}]
    record = services.update_protocol(
        actor_of(clinician), clinic_template, {"sessions": sessions}, expected_version=1, reason="Four-weekly now"
    )
    assert record.version == 2
    versions = RecordVersion.objects.filter(record_uuid=record.uuid).order_by("version")
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].data["sessions"][1]["offset"] == 6
    assert versions[1].reason == "Four-weekly now"


def test_a_stale_template_edit_is_refused(clinician, admin_user, clinic_template):
    services.update_protocol(actor_of(admin_user), clinic_template, {"name": "Knee OA v2"}, expected_version=1)
    with pytest.raises(StaleEditError):
        services.update_protocol(actor_of(clinician), clinic_template, {"name": "Knee OA v3"}, expected_version=1)


def test_the_code_of_a_saved_template_cannot_change(clinician, clinic_template):
    with pytest.raises(ValidationError, match="cannot change"):
        services.update_protocol(actor_of(clinician), clinic_template, {"code": "other"}, expected_version=1)


def test_a_retired_template_cannot_be_edited(clinician, clinic_template):
    services.retire_protocol(actor_of(clinician), clinic_template, reason="made by mistake")
    with pytest.raises(RecordClosedError):
        services.update_protocol(actor_of(clinician), clinic_template, {"name": "x y z"}, expected_version=2)


def test_templates_cannot_be_deleted(clinic_template):
    from prolotrack.core.records import HistoryBypassError

    with pytest.raises(HistoryBypassError):
        clinic_template.delete()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"code": "knee_oa_rabago"}, "code", "belongs to a built-in template"),
        ({"code": "has spaces"}, "code", "slug"),
        ({"region": "nose"}, "region", "Unknown body region 'nose'"),
        ({"landmarks": ["elbow.annular_ligament"]}, "landmarks", "not the knee region"),
        ({"landmarks": ["knee.nowhere"]}, "landmarks", "Unknown landmark code 'knee.nowhere'"),
        ({"sessions": []}, "sessions", "at least the first one"),
        ({"sessions": [{"offset": 2, "unit": "weeks", "optional": False}]}, "sessions", "first session must be"),
        (
            {"sessions": [{"offset": 0, "unit": "weeks", "optional": False}, {"offset": 0, "unit": "weeks"}]},
            "sessions",
            "must increase",
        ),
        (
            {
                "sessions": [
                    {"offset": 0, "unit": "weeks", "optional": False},
                    {"offset": 4, "unit": "weeks", "optional": True},
                    {"offset": 8, "unit": "weeks", "optional": False},
                ]
            },
            "sessions",
            "cannot follow an optional one",
        ),
        ({"sessions": [{"offset": 0, "unit": "fortnights"}]}, "sessions", "unknown unit 'fortnights'"),
        ({"sessions": [{"offset": -1, "unit": "weeks"}]}, "sessions", "between 0 and 520"),
        ({"sessions": [{"offset": "0", "unit": "weeks"}]}, "sessions", "whole number"),
        (
            {
                "solutions": [
                    {"label": "X", "components": [{"agent": "dextrose", "value": "120"}], "volume_per": "site"}
                ]
            },
            "solutions",
            "at most 100%",
        ),
        (
            {"solutions": [{"label": "X", "components": [{"agent": "kryptonite", "value": "1"}]}]},
            "solutions",
            "Unknown agent 'kryptonite'",
        ),
        ({"solutions": [{"label": "X", "components": []}]}, "solutions", "at least one agent"),
        (
            {"solutions": [{"label": "X", "components": [{"agent": "dextrose", "value": "1e40"}]}]},
            "solutions",
            "far too large",
        ),
        (
            {"solutions": [{"label": "X", "components": [{"agent": "dextrose", "value": "25"}], "volume_ml": "-1"}]},
            "solutions",
            "outside 0.01-60 mL",
        ),
        (  # a template's volume is one injection: the site limit, as the session refuses it
            {"solutions": [{"label": "X", "components": [{"agent": "dextrose", "value": "25"}], "volume_ml": "80"}]},
            "solutions",
            "Volume 80 mL is outside 0.01-60 mL",
        ),
        ({"name": ""}, "name", "cannot be blank"),
        ({"name": "Knee\x00"}, "name", "invisible control character"),
        (
            {"solutions": [{"label": "X\x1b[31m", "components": [{"agent": "dextrose", "value": "25"}]}]},
            "solutions",
            "invisible control character",
        ),
        ({"source": ""}, "source", "cannot be blank"),
    ],
)
def test_bad_templates_are_refused_with_the_field_to_fix_and_nothing_is_saved(clinician, changes, field, message):
    with pytest.raises(ValidationError) as caught:
        services.create_protocol(actor_of(clinician), {**PROTOCOL_VALUES, **changes})
    assert field in caught.value.message_dict
    assert message in " ".join(caught.value.message_dict[field])
    assert not ProtocolTemplate.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="protocol").exists()


def test_two_templates_of_one_clinic_cannot_share_a_code(clinician, clinic_template):
    with pytest.raises(ValidationError, match="already has this code"):
        services.create_protocol(actor_of(clinician), dict(PROTOCOL_VALUES))


def test_another_clinic_may_use_the_same_code(outsider, clinic_template):
    other = services.create_protocol(actor_of(outsider), dict(PROTOCOL_VALUES))
    assert other.clinic != clinic_template.clinic


@pytest.mark.parametrize("persona", ["colleague", "frontdesk", "researcher"])
def test_roles_without_protocol_manage_cannot_write_templates(personas, clinic_template, persona):
    actor = actor_of(personas[persona])
    with pytest.raises(AccessDenied):
        services.create_protocol(actor, {**PROTOCOL_VALUES, "code": "new_one"})
    with pytest.raises(AccessDenied):
        services.update_protocol(actor, clinic_template, {"name": "x y z"}, expected_version=1)
    with pytest.raises(AccessDenied):
        services.retire_protocol(actor, clinic_template, reason="not mine to retire")


def test_an_outsider_cannot_write_another_clinics_template(outsider, clinic_template):
    with pytest.raises(AccessDenied):
        services.update_protocol(actor_of(outsider), clinic_template, {"name": "x y z"}, expected_version=1)


def test_every_built_in_template_can_be_copied_as_it_is(admin_user):
    from prolotrack.clinical import convert

    for template in TEMPLATES:
        values = convert.protocol_fields(template)
        values["code"] = f"{template.code}_ours"
        values["based_on"] = template.code
        record = services.create_protocol(actor_of(admin_user), values)
        assert convert.protocol_from_record(record) == convert.build_protocol(
            code=record.code,
            name=template.name,
            indication=template.indication,
            region=template.region.value,
            solutions=values["solutions"],
            landmarks=values["landmarks"],
            sessions=values["sessions"],
            source=template.source,
        )
        assert convert.protocol_from_record(record).sessions == template.sessions
        assert convert.protocol_from_record(record).solutions == template.solutions
