"""The audit trail is a tamper-evident chain, and the audit page filters it."""

import itertools
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from prolotrack.audit.models import AuditEvent
from prolotrack.audit.queries import verify_chains
from prolotrack.clinics.testing import actor_of
from prolotrack.patients import services


@pytest.fixture
def history(clinician, colleague, make_patient):
    first = make_patient(mrn="A-1")
    second = make_patient(mrn="A-2", given_name="Bob")
    with transaction.atomic():
        services.update_patient(actor_of(colleague), first, {"phone": "1"}, expected_version=1)
    return first, second


def test_each_event_links_to_the_one_before(history, clinic):
    events = list(AuditEvent.objects.filter(chain_key=f"clinic:{clinic.pk}").order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    assert verify_chains() == ([], len(events))


def test_audit_events_cannot_be_changed_or_deleted_through_the_orm(history):
    event = AuditEvent.objects.first()
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()
    with pytest.raises(RuntimeError):
        AuditEvent.objects.all().update(action="x")
    with pytest.raises(RuntimeError):
        AuditEvent.objects.all().delete()


def test_an_edited_row_is_detected(history):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'patient.nothing' WHERE seq = 2")
    problems, _ = verify_chains()
    assert any("event 2 was altered" in p for p in problems)
    with pytest.raises(CommandError, match="Audit trail damaged"):
        call_command("verify_audit_chain")


def test_a_removed_row_is_detected(history):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = 2")
    problems, _ = verify_chains()
    assert any("missing" in p for p in problems)


def test_verify_command_reports_an_intact_trail(history, capsys):
    call_command("verify_audit_chain")
    assert "Audit trail intact" in capsys.readouterr().out


def test_the_audit_page_filters_by_user_patient_action_and_date(client, login, admin_user, colleague, history):
    _first, second = history
    login(admin_user)
    by_user = client.get("/audit/", {"user": "colleague"}).context["events"]
    assert {e.action for e in by_user} == {"patient.updated"}
    by_patient = client.get("/audit/", {"patient": "A-2"}).context["events"]
    assert {e.patient_uuid for e in by_patient} == {second.uuid}
    by_action = client.get("/audit/", {"action": "patient.created"}).context["events"]
    assert len(by_action) == 2
    tomorrow = (timezone.localdate() + timedelta(days=2)).isoformat()
    assert client.get("/audit/", {"date_from": tomorrow}).context["events"] == []


def test_the_audit_page_explains_bad_filters(client, login, admin_user, history):
    login(admin_user)
    response = client.get("/audit/", {"patient": "NOPE-9"})
    assert "No patient in this clinic" in response.content.decode()
    response = client.get("/audit/", {"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert "start date is after the end date" in response.content.decode()


def test_the_audit_page_never_shows_another_clinics_events(client, login, make_member, other_clinic, history):
    other_admin = make_member("otheradmin", "admin", other_clinic)
    login(other_admin)
    events = client.get("/audit/").context["events"]
    assert [e.action for e in events] == ["auth.login"]  # their own sign-in, nothing of Alpha's
    assert all(e.clinic == other_clinic for e in events)
