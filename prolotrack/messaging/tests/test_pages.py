"""The outbox page, a message's full text, the chart's reminders card and the message choices form."""

from datetime import date

from prolotrack.audit.models import AuditEvent
from prolotrack.messaging import services
from prolotrack.messaging.models import MessageOptOut, MessageStatus, OutboxMessage
from prolotrack.messaging.tests.conftest import at


def test_the_outbox_lists_and_filters_messages(login, frontdesk, booked):
    services.run_pass(now=at(date(2026, 11, 13)))
    client = login(frontdesk)
    page = client.get("/outbox/").content.decode()
    assert page.count("<tr>") == 6 and "Pre-procedure instructions" in page and "Ada Lovelace" in page
    sent = client.get("/outbox/?status=sent").content.decode()
    assert sent.count("<tr>") == 2 and "Preparing for your appointment" in sent
    dated = client.get("/outbox/?date_from=2026-11-18&date_to=2026-11-18").content.decode()
    assert dated.count("<tr>") == 3
    bad = client.get("/outbox/?date_from=2026-11-20&date_to=2026-11-01")
    assert bad.status_code == 400 and "swap them" in bad.content.decode()
    assert AuditEvent.objects.filter(action="messaging.outbox.viewed").exists()


def test_a_message_shows_its_full_text_and_attachment(login, clinician, booked):
    services.run_pass(now=at(date(2026, 11, 10)))
    message = OutboxMessage.objects.get(kind="appointment_reminder", channel="email")
    page = login(clinician).get(f"/outbox/{message.uuid}/").content.decode()
    assert "This is a reminder of your treatment appointment" in page
    assert "appointment-2026-11-20.ics" in page and "BEGIN:VCALENDAR" in page
    assert AuditEvent.objects.filter(action="messaging.message.viewed", record_uuid=message.uuid).exists()


def test_the_chart_card_lists_reminders_and_opt_outs(login, frontdesk, booked):
    services.run_pass(now=at(date(2026, 11, 13)))
    client = login(frontdesk)
    chart = client.get(f"/patients/{booked.patient.uuid}/").content.decode()
    assert f"/patients/{booked.patient.uuid}/messages/" in chart  # the card loads with HTMX
    card = client.get(f"/patients/{booked.patient.uuid}/messages/", headers={"HX-Request": "true"}).content.decode()
    assert card.count("<li>") == 5 and "Message choices" in card


def test_the_message_choices_form_saves_and_the_reminder_is_skipped(login, frontdesk, booked):
    client = login(frontdesk)
    url = f"/patients/{booked.patient.uuid}/messages/preferences/"
    form = client.get(url).content.decode()
    assert 'name="sms__nsaid_stop"' in form and 'name="sms__pre_procedure"' not in form
    response = client.post(url, {"sms__nsaid_stop": "on", "email__appointment_reminder": "on"})
    assert response.status_code == 302
    assert set(MessageOptOut.objects.values_list("channel", "kind", "opted_out")) == {
        ("sms", "nsaid_stop", True),
        ("email", "appointment_reminder", True),
    }
    assert 'name="sms__nsaid_stop" id="id_sms__nsaid_stop" aria-label' in client.get(url).content.decode()
    services.run_pass(now=at(date(2026, 11, 18)))
    skipped = OutboxMessage.objects.filter(status=MessageStatus.SKIPPED_OPTED_OUT)
    assert sorted(skipped.values_list("kind", "channel")) == [("appointment_reminder", "email"), ("nsaid_stop", "sms")]
    card = client.get(f"/patients/{booked.patient.uuid}/messages/", headers={"HX-Request": "true"}).content.decode()
    assert "Opted out:" in card and "Skipped: patient opted out" in card
    # Unticking records the change as a new version of the same row.
    client.post(url, {"email__appointment_reminder": "on"})
    assert MessageOptOut.objects.get(kind="nsaid_stop").opted_out is False


def test_message_pages_show_times_in_the_clinics_zone_with_its_abbreviation(login, clinician, booked):
    services.run_pass(now=at(date(2026, 11, 13)))
    message = OutboxMessage.objects.filter(status=MessageStatus.SENT).first()
    local = message.sent_at.astimezone(booked.patient.clinic.tz)
    shown = f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
    client = login(clinician)
    assert shown in client.get(f"/outbox/{message.uuid}/").content.decode()
    assert shown in client.get("/outbox/?status=sent").content.decode()
    assert shown in client.get(f"/patients/{booked.patient.uuid}/messages/").content.decode()
