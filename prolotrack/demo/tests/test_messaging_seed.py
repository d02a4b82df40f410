"""The demo shows every kind of message docs/MESSAGING.md describes, questionnaire emails included (issue 19: the
demo promised questionnaire emails and produced none)."""

from datetime import date

from prolotrack.demo.messaging_seed import seed_messaging
from prolotrack.demo.seed import seed_demo
from prolotrack.messaging.models import MessageKind, MessageStatus, OutboxMessage


def test_the_demo_has_every_kind_of_message(db, monkeypatch, settings, tmp_path):
    monkeypatch.setenv("PROLOTRACK_DEMO_PASSWORD", "demo-pass-123")
    settings.PROLOTRACK_SMS_BACKEND = "prolotrack.messaging.backends.LocmemSMSBackend"
    seed_demo(patients=30, second_clinic_patients=1)
    kinds = set(OutboxMessage.objects.values_list("kind", flat=True))
    assert kinds == set(MessageKind.values), sorted(set(MessageKind.values) - kinds)
    for kind in (MessageKind.QUESTIONNAIRE_DUE, MessageKind.QUESTIONNAIRE_OVERDUE):
        sent = OutboxMessage.objects.filter(kind=kind, status=MessageStatus.SENT).first()
        assert sent is not None, f"no {kind} email was sent"
        assert "personal questionnaire link" in sent.body and "/q/" not in sent.body


OTHER = "http://127.0.0.1:8123"


def test_the_demo_feed_addresses_use_the_site_address(clinician, frontdesk, tmp_path, settings):
    settings.DATA_DIR = tmp_path
    settings.PROLOTRACK_SITE_URL = OTHER
    seed_messaging(clinician.memberships.get().clinic, today=date(2026, 11, 17))
    assert f"clinician: {OTHER}/calendar/feed/" in (tmp_path / "demo-calendar-feeds.txt").read_text()
